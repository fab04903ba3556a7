//! The webhook inbox: verified deliveries written durably to the spool (`spool/`) before
//! GitHub gets its 2xx, applied afterwards. Which of them wait is kept in memory
//! (`waiting.rs`) and rebuilt from the spool on open; sled records a delivery id once it is
//! applied (`DeliverySeen`), which is what deduplicates redeliveries for GitHub's 3 days.

use super::intake::{body_key, seen_key};
use super::keys::{Key, Kind, TeamId};
use super::records::{DeliverySeen, HookHealth, InboxEntry, InboxRecord, StoredBody};
use super::spool::{FrameMeta, Spool};
use super::{Result, Store, StoreError};
use std::collections::{HashMap, HashSet};

pub(super) fn inbox_key(team: TeamId, seq: u64) -> Key {
    Key::new(team, Kind::Inbox).u64(seq)
}

fn health_key(team: TeamId, repo: u64) -> Key {
    Key::new(team, Kind::HookHealth).u64(repo)
}

pub(super) fn frame_meta(e: &InboxEntry, body_sha256: Option<[u8; 32]>) -> FrameMeta {
    FrameMeta {
        team_id: e.team_id,
        seq: e.seq,
        guid: e.guid.clone(),
        event: e.event.clone(),
        hook_id: e.hook_id,
        repo_id: e.repo_id,
        received_at: e.received_at,
        body_sha256,
    }
}

/// A record's fields (its body left out).
fn entry_of(r: &InboxRecord) -> InboxEntry {
    InboxEntry {
        team_id: r.team_id,
        seq: r.seq,
        guid: r.guid.clone(),
        event: r.event.clone(),
        hook_id: r.hook_id,
        repo_id: r.repo_id,
        received_at: r.received_at,
        body: Vec::new(),
    }
}

fn entry(meta: FrameMeta, body: Vec<u8>) -> InboxEntry {
    InboxEntry {
        team_id: meta.team_id,
        seq: meta.seq,
        guid: meta.guid,
        event: meta.event,
        hook_id: meta.hook_id,
        repo_id: meta.repo_id,
        received_at: meta.received_at,
        body,
    }
}

impl Store {
    /// The highest sequence number of any delivery in the spool (new ones continue after it).
    pub fn inbox_max_seq(&self) -> Result<u64> {
        Ok(self
            .waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .max_seq())
    }

    /// How many of a team's deliveries wait to be applied.
    pub fn inbox_len(&self, team: TeamId) -> Result<u64> {
        Ok(self
            .waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len(team) as u64)
    }

    /// How many of a team's deliveries wait, and when the oldest of them was received.
    pub fn inbox_backlog(&self, team: TeamId) -> (u64, Option<i64>) {
        let waiting = self
            .waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (waiting.len(team) as u64, waiting.oldest_received_at(team))
    }

    /// A team's deliveries waiting to be applied, oldest first.
    pub fn inbox(&self, team: TeamId) -> Result<Vec<InboxEntry>> {
        self.inbox_oldest(team, usize::MAX, usize::MAX)
    }

    /// A team's oldest waiting deliveries: at most `max` of them, and no more once their bodies
    /// hold `max_bytes` (at least one is returned if any waits). A body that cannot be read
    /// back (its spool file damaged or gone) comes back empty, logged: the delivery then names
    /// nothing, and the next reconciliation sync covers what it said.
    pub fn inbox_oldest(
        &self,
        team: TeamId,
        max: usize,
        max_bytes: usize,
    ) -> Result<Vec<InboxEntry>> {
        self.inbox_after(team, 0, max, max_bytes)
    }

    /// As [`Store::inbox_oldest`], of the deliveries numbered above `after` (the applier reads
    /// a backlog in rounds of several such reads).
    pub fn inbox_after(
        &self,
        team: TeamId,
        after: u64,
        max: usize,
        max_bytes: usize,
    ) -> Result<Vec<InboxEntry>> {
        let found = self
            .waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .after(team, after, max, max_bytes);
        let dir = self.spool_dir();
        Ok(found
            .into_iter()
            .map(|(meta, at)| {
                let body = Spool::read(&dir, &at).unwrap_or_else(|e| {
                    tracing::error!(team, seq = meta.seq, error = %e, "webhook body lost; the next sync covers it");
                    Vec::new()
                });
                entry(meta, body)
            })
            .collect())
    }

    /// The delivery ids of a team's waiting deliveries whose bodies read back intact, oldest
    /// first (bodies checked one at a time and dropped: for checks over a large inbox).
    pub fn inbox_guids(&self, team: TeamId) -> Result<Vec<String>> {
        let found = self
            .waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .oldest(team, usize::MAX, usize::MAX);
        let dir = self.spool_dir();
        Ok(found
            .into_iter()
            .filter(|(_, at)| Spool::read(&dir, at).is_ok())
            .map(|(meta, _)| meta.guid)
            .collect())
    }

    /// Every waiting delivery with its body, as inbox records with the body inline (what a
    /// snapshot holds). Call with the store's write lock held.
    pub(super) fn inbox_records(&self) -> Vec<(Key, InboxRecord)> {
        let all = self
            .waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .all();
        let dir = self.spool_dir();
        all.into_iter()
            .map(|(m, at)| {
                let body = Spool::read(&dir, &at).unwrap_or_else(|e| {
                    tracing::error!(team = m.team_id, seq = m.seq, error = %e, "webhook body lost; backed up empty");
                    Vec::new()
                });
                let record = InboxRecord {
                    team_id: m.team_id,
                    seq: m.seq,
                    guid: m.guid,
                    event: m.event,
                    hook_id: m.hook_id,
                    repo_id: m.repo_id,
                    received_at: m.received_at,
                    body: StoredBody::Inline(body),
                };
                (inbox_key(record.team_id, record.seq), record)
            })
            .collect()
    }

    /// Read back every waiting delivery's body: how many wait, and one line per body that
    /// does not read back whole (team, sequence number and why; never the body).
    pub(super) fn inbox_check(&self) -> (u64, Vec<String>) {
        let all = self
            .waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .all();
        let dir = self.spool_dir();
        let problems = all
            .iter()
            .filter_map(|(m, at)| {
                Spool::read(&dir, at).err().map(|e| {
                    format!(
                        "webhook delivery {} of team #{} (waiting): {e}",
                        m.seq, m.team_id
                    )
                })
            })
            .collect();
        (all.len() as u64, problems)
    }

    /// Rebuild the waiting index when the store opens: inbox records still in sled (a store
    /// from before schema v5, or restored from a backup) are moved into the spool first; then
    /// every intact frame of an existing team whose delivery id sled does not know waits.
    /// Returns how many wait.
    pub(crate) fn load_inbox(&self) -> Result<usize> {
        self.import_inbox_records()?;
        let spool = self
            .spool
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut failed = None;
        let mut max_seq = 0;
        let mut teams: HashMap<TeamId, bool> = HashMap::new();
        let mut guids: HashSet<(TeamId, String)> = HashSet::new();
        let frames = spool
            .frames_where(|m| {
                max_seq = max_seq.max(m.seq);
                let live = match teams.get(&m.team_id) {
                    Some(live) => *live,
                    None => {
                        let live = match self.team(m.team_id) {
                            Ok(t) => t.is_some(),
                            Err(e) => {
                                failed = Some(e);
                                false
                            }
                        };
                        *teams.entry(m.team_id).or_insert(live)
                    }
                };
                // A delivery imported twice (a crash during an import) waits once.
                live && !guids.contains(&(m.team_id, m.guid.clone()))
                    && match self.contains(seen_key(m.team_id, &m.guid)) {
                        Ok(applied) => !applied && guids.insert((m.team_id, m.guid.clone())),
                        Err(e) => {
                            failed = Some(e);
                            false
                        }
                    }
            })
            .map_err(|e| StoreError::Io(e.to_string()))?;
        if let Some(e) = failed {
            return Err(e);
        }
        let mut waiting = super::waiting::Waiting::default();
        waiting.note_seq(max_seq);
        for (meta, at) in frames {
            waiting.insert(meta, at);
        }
        let n: usize = teams.keys().map(|t| waiting.len(*t)).sum();
        if n > 0 {
            tracing::info!(
                waiting = n,
                "webhook deliveries from the spool wait to be applied"
            );
        }
        *self
            .waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = waiting;
        Ok(n)
    }

    /// Move inbox records kept in sled into the spool: their bodies appended (durably), then
    /// the records and their delivery ids (which before v5 meant "received", now "applied")
    /// removed in one batch. A crash in between appends them again next time; the load keeps
    /// one of each.
    fn import_inbox_records(&self) -> Result<()> {
        let mut records = Vec::new();
        for team in self.teams()? {
            for item in self.db()?.scan_prefix(Key::new(team.id, Kind::Inbox)) {
                let (key, value) = item?;
                records.push((key, super::decode::<InboxRecord>(Kind::Inbox, &value)?));
            }
        }
        if records.is_empty() {
            return Ok(());
        }
        let inline: Vec<(FrameMeta, &[u8])> = records
            .iter()
            .filter_map(|(_, r)| match &r.body {
                StoredBody::Inline(body) => Some((
                    frame_meta(&entry_of(r), Some(super::intake::sha256(body))),
                    body.as_slice(),
                )),
                // Its frame is in the spool already.
                StoredBody::Spooled(_) => None,
            })
            .collect();
        if !inline.is_empty() {
            self.spool
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .append(&inline)
                .map_err(|e| StoreError::Io(e.to_string()))?;
        }
        let mut w = self.writer();
        for (key, r) in &records {
            w.remove(key);
            w.remove(seen_key(r.team_id, &r.guid));
        }
        w.commit()?;
        self.flush()?;
        tracing::info!(
            moved = records.len(),
            "webhook inbox records moved from the store into the spool"
        );
        Ok(())
    }

    /// Delete the spool segments no waiting delivery refers to. Returns how many went. Sled is
    /// flushed first, so the applied deliveries' ids are on disk before their frames go (else a
    /// redelivery after a crash would be applied again; harmless, but not needed).
    pub fn inbox_release(&self) -> Result<usize> {
        let mut spool = self
            .spool
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.flush()?;
        let first = self
            .waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .first_segment();
        spool
            .release(first)
            .map_err(|e| StoreError::Io(e.to_string()))
    }

    /// Applied: its delivery id recorded (in one step with the repository's health), and out
    /// of the waiting deliveries.
    pub fn inbox_done(&self, entry: &InboxEntry, health: Option<HookHealth>) -> Result<()> {
        self.inbox_applied(entry.team_id, &[entry.seq], health.into_iter().collect())
    }

    /// Applied, in one batch: each waiting delivery's id and body hash recorded (sled learns of
    /// the body only now, as of the id), the repositories' health written, and the deliveries
    /// out of the waiting ones. A number no delivery waits under is skipped.
    pub fn inbox_applied(&self, team: TeamId, seqs: &[u64], health: Vec<HookHealth>) -> Result<()> {
        let mut w = self.writer();
        let mut waiting = self
            .waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for &seq in seqs {
            let Some(meta) = waiting.get(team, seq) else {
                continue;
            };
            let seen = DeliverySeen {
                team_id: team,
                received_at: meta.received_at,
            };
            w.put(seen_key(team, &meta.guid), &seen);
            if let Some(hash) = &meta.body_sha256 {
                w.put(body_key(team, hash), &seen);
            }
        }
        for h in health {
            w.put(health_key(h.team_id, h.repo_id), &h);
        }
        w.commit()?;
        for &seq in seqs {
            waiting.remove(team, seq);
        }
        Ok(())
    }

    /// Was this delivery id received already (waiting, or applied)?
    pub fn delivery_seen(&self, team: TeamId, guid: &str) -> Result<bool> {
        if self
            .waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains_guid(team, guid)
        {
            return Ok(true);
        }
        Ok(self
            .get::<DeliverySeen>(Kind::DeliverySeen, seen_key(team, guid))?
            .is_some())
    }

    /// Record a repository's webhook health (missed/recovered counts from self-healing).
    pub fn put_hook_health(&self, health: &HookHealth) -> Result<()> {
        let mut w = self.writer();
        w.put(health_key(health.team_id, health.repo_id), health);
        w.commit()
    }

    pub fn hook_health(&self, team: TeamId, repo: u64) -> Result<Option<HookHealth>> {
        self.get(Kind::HookHealth, health_key(team, repo))
    }
}
