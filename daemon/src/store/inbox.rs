//! The webhook inbox: verified deliveries written durably (with their delivery id, for
//! deduplication) before GitHub gets its 2xx, applied afterwards, and removed once applied.
//! Bodies live in the spool (`spool.rs`), their records here in sled.

use super::keys::{Key, Kind, TeamId};
use super::records::{DeliverySeen, HookHealth, InboxEntry, InboxRecord, StoredBody};
use super::spool::{FrameMeta, Spool};
use super::{Result, Store, StoreError};

fn inbox_key(team: TeamId, seq: u64) -> Key {
    Key::new(team, Kind::Inbox).u64(seq)
}

fn seen_key(team: TeamId, guid: &str) -> Key {
    Key::new(team, Kind::DeliverySeen).bytes(guid.as_bytes())
}

fn health_key(team: TeamId, repo: u64) -> Key {
    Key::new(team, Kind::HookHealth).u64(repo)
}

impl Store {
    /// Write verified deliveries: each new one into the spool, durable when this returns, then
    /// its record and delivery id into sled in one batch (flushed by sled in the background; a
    /// crash before that is repaired by `recover_inbox`); one whose id was seen before is only
    /// reported (true in the answer).
    pub fn inbox_add(&self, entries: &[InboxEntry]) -> Result<Vec<bool>> {
        // Held until the records are committed, so `inbox_release` never sees bodies without
        // their records.
        let mut spool = self.spool.lock().unwrap_or_else(|p| p.into_inner());
        let mut duplicate = Vec::with_capacity(entries.len());
        let mut in_batch = std::collections::HashSet::new();
        for e in entries {
            let seen = !in_batch.insert((e.team_id, e.guid.clone()))
                || self.contains(seen_key(e.team_id, &e.guid))?;
            duplicate.push(seen);
        }
        let new: Vec<&InboxEntry> = entries
            .iter()
            .zip(&duplicate)
            .filter(|(_, dup)| !**dup)
            .map(|(e, _)| e)
            .collect();
        let frames: Vec<(FrameMeta, &[u8])> = new
            .iter()
            .map(|e| {
                let meta = FrameMeta {
                    team_id: e.team_id,
                    seq: e.seq,
                    guid: e.guid.clone(),
                    event: e.event.clone(),
                    hook_id: e.hook_id,
                    repo_id: e.repo_id,
                    received_at: e.received_at,
                };
                (meta, e.body.as_slice())
            })
            .collect();
        let refs = spool
            .append(&frames)
            .map_err(|e| StoreError::Io(e.to_string()))?;
        let mut w = self.writer();
        for (e, at) in new.into_iter().zip(refs) {
            let record = InboxRecord {
                team_id: e.team_id,
                seq: e.seq,
                guid: e.guid.clone(),
                event: e.event.clone(),
                hook_id: e.hook_id,
                repo_id: e.repo_id,
                received_at: e.received_at,
                body: StoredBody::Spooled(at),
            };
            w.put(inbox_key(e.team_id, e.seq), &record);
            w.put(
                seen_key(e.team_id, &e.guid),
                &DeliverySeen {
                    team_id: e.team_id,
                    received_at: e.received_at,
                },
            );
        }
        w.commit()?;
        Ok(duplicate)
    }

    /// The highest inbox sequence number in use (new entries continue after it): each team's
    /// last inbox key, nothing decoded.
    pub fn inbox_max_seq(&self) -> Result<u64> {
        let mut max = 0;
        for team in self.teams()? {
            let prefix = Key::new(team.id, Kind::Inbox);
            if let Some(key) = self.db.scan_prefix(&prefix).keys().next_back() {
                let key = key?;
                let seq = key
                    .get(prefix.as_ref().len()..)
                    .and_then(|b| <[u8; 8]>::try_from(b).ok())
                    .map(u64::from_be_bytes)
                    .ok_or_else(|| StoreError::Corrupt {
                        kind: "webhook inbox entry",
                        reason: "a key of the wrong length".into(),
                    })?;
                max = max.max(seq);
            }
        }
        Ok(max)
    }

    /// How many of a team's deliveries wait to be applied (keys counted, nothing decoded).
    pub fn inbox_len(&self, team: TeamId) -> Result<u64> {
        let mut n = 0;
        for key in self.db.scan_prefix(Key::new(team, Kind::Inbox)).keys() {
            key?;
            n += 1;
        }
        Ok(n)
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
        let mut entries = Vec::new();
        let mut bytes = 0usize;
        let dir = self.spool_dir();
        for item in self.db.scan_prefix(Key::new(team, Kind::Inbox)) {
            if entries.len() >= max || (bytes >= max_bytes && !entries.is_empty()) {
                break;
            }
            let (_, value) = item?;
            let r: InboxRecord = super::decode(Kind::Inbox, &value)?;
            let body = match r.body {
                StoredBody::Inline(body) => body,
                StoredBody::Spooled(at) => Spool::read(&dir, &at).unwrap_or_else(|e| {
                    tracing::error!(team, seq = r.seq, error = %e, "webhook body lost; the next sync covers it");
                    Vec::new()
                }),
            };
            bytes = bytes.saturating_add(body.len());
            entries.push(InboxEntry {
                team_id: r.team_id,
                seq: r.seq,
                guid: r.guid,
                event: r.event,
                hook_id: r.hook_id,
                repo_id: r.repo_id,
                received_at: r.received_at,
                body,
            });
        }
        Ok(entries)
    }

    /// The delivery ids of a team's waiting deliveries whose bodies read back intact, oldest
    /// first (bodies checked one at a time and dropped: for checks over a large inbox).
    pub fn inbox_guids(&self, team: TeamId) -> Result<Vec<String>> {
        let dir = self.spool_dir();
        let mut guids = Vec::new();
        for item in self.db.scan_prefix(Key::new(team, Kind::Inbox)) {
            let (_, value) = item?;
            let r: InboxRecord = super::decode(Kind::Inbox, &value)?;
            let intact = match &r.body {
                StoredBody::Inline(_) => true,
                StoredBody::Spooled(at) => Spool::read(&dir, at).is_ok(),
            };
            if intact {
                guids.push(r.guid);
            }
        }
        Ok(guids)
    }

    /// Record again the deliveries the spool holds but sled lost (a crash before sled's
    /// background flush): each intact frame whose delivery id sled does not know, of a team that
    /// still exists. Returns how many. Runs when the store opens, before any writer.
    pub(crate) fn recover_inbox(&self) -> Result<usize> {
        let spool = self.spool.lock().unwrap_or_else(|p| p.into_inner());
        // Only frames sled does not know are read whole (checked by CRC).
        let mut failed = None;
        let frames = spool
            .frames_where(|m| match self.contains(seen_key(m.team_id, &m.guid)) {
                Ok(seen) => !seen,
                Err(e) => {
                    failed = Some(e);
                    false
                }
            })
            .map_err(|e| StoreError::Io(e.to_string()))?;
        if let Some(e) = failed {
            return Err(e);
        }
        let mut w = self.writer();
        let mut recovered = 0;
        for (m, at) in frames {
            if self.team(m.team_id)?.is_none() {
                continue;
            }
            w.put(
                inbox_key(m.team_id, m.seq),
                &InboxRecord {
                    team_id: m.team_id,
                    seq: m.seq,
                    guid: m.guid.clone(),
                    event: m.event,
                    hook_id: m.hook_id,
                    repo_id: m.repo_id,
                    received_at: m.received_at,
                    body: StoredBody::Spooled(at),
                },
            );
            w.put(
                seen_key(m.team_id, &m.guid),
                &DeliverySeen {
                    team_id: m.team_id,
                    received_at: m.received_at,
                },
            );
            recovered += 1;
        }
        w.commit()?;
        if recovered > 0 {
            self.db.flush()?;
            tracing::warn!(
                recovered,
                "webhook deliveries recorded again from the spool after a crash"
            );
        }
        Ok(recovered)
    }

    /// Delete the spool segments no waiting delivery refers to. Returns how many went. Sled is
    /// flushed first: a record removed in memory only could come back after a crash, pointing
    /// at a segment that is gone.
    pub fn inbox_release(&self) -> Result<usize> {
        let mut spool = self.spool.lock().unwrap_or_else(|p| p.into_inner());
        self.db.flush()?;
        let mut first: Option<u64> = None;
        for team in self.teams()? {
            for item in self.db.scan_prefix(Key::new(team.id, Kind::Inbox)) {
                let (_, value) = item?;
                let r: InboxRecord = super::decode(Kind::Inbox, &value)?;
                if let StoredBody::Spooled(at) = r.body {
                    first = Some(first.map_or(at.segment, |f| f.min(at.segment)));
                }
            }
        }
        spool
            .release(first)
            .map_err(|e| StoreError::Io(e.to_string()))
    }

    /// Applied: out of the inbox, in one step with the repository's health.
    pub fn inbox_done(&self, entry: &InboxEntry, health: Option<HookHealth>) -> Result<()> {
        let mut w = self.writer();
        w.remove(inbox_key(entry.team_id, entry.seq));
        if let Some(h) = health {
            w.put(health_key(h.team_id, h.repo_id), &h);
        }
        w.commit()
    }

    /// Was this delivery id received already?
    pub fn delivery_seen(&self, team: TeamId, guid: &str) -> Result<bool> {
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

    /// Forget delivery ids received before `before` (GitHub redelivers only 3 days back).
    pub fn prune_seen_deliveries(&self, team: TeamId, before: i64) -> Result<u64> {
        let mut w = self.writer();
        let mut n = 0;
        for key in self.scan_keys(Key::new(team, Kind::DeliverySeen))? {
            let seen: Option<DeliverySeen> = self.get(Kind::DeliverySeen, &key)?;
            if seen.is_some_and(|s| s.received_at < before) {
                w.remove(key);
                n += 1;
            }
        }
        w.commit()?;
        Ok(n)
    }
}
