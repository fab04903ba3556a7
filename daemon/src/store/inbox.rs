//! The webhook inbox: verified deliveries written durably (with their delivery id, for
//! deduplication) before GitHub gets its 2xx, applied afterwards, and removed once applied.

use super::keys::{Key, Kind, TeamId};
use super::records::{DeliverySeen, HookHealth, InboxEntry};
use super::{Result, Store};

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
    /// Write verified deliveries in one batch: each new one into the inbox with its delivery id;
    /// one whose id was seen before is only reported (true in the answer). The caller flushes
    /// before acknowledging.
    pub fn inbox_add(&self, entries: &[InboxEntry]) -> Result<Vec<bool>> {
        let mut w = self.writer();
        let mut duplicate = Vec::with_capacity(entries.len());
        let mut in_batch = std::collections::HashSet::new();
        for e in entries {
            let seen = !in_batch.insert((e.team_id, e.guid.clone()))
                || self
                    .get::<DeliverySeen>(Kind::DeliverySeen, seen_key(e.team_id, &e.guid))?
                    .is_some();
            duplicate.push(seen);
            if !seen {
                w.put(inbox_key(e.team_id, e.seq), e);
                w.put(
                    seen_key(e.team_id, &e.guid),
                    &DeliverySeen {
                        team_id: e.team_id,
                        received_at: e.received_at,
                    },
                );
            }
        }
        w.commit()?;
        Ok(duplicate)
    }

    /// The highest inbox sequence number in use (new entries continue after it).
    pub fn inbox_max_seq(&self) -> Result<u64> {
        let mut max = 0;
        for team in self.teams()? {
            for e in self.inbox(team.id)? {
                max = max.max(e.seq);
            }
        }
        Ok(max)
    }

    /// A team's deliveries waiting to be applied, oldest first.
    pub fn inbox(&self, team: TeamId) -> Result<Vec<InboxEntry>> {
        self.scan(Kind::Inbox, Key::new(team, Kind::Inbox))
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
