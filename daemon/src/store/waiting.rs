//! Which spooled webhook deliveries wait to be applied: an index in memory, rebuilt from the
//! spool when the store opens (`Store::load_inbox`).
//!
//! Why in memory and not in sled: the spool's frames already hold everything a waiting delivery
//! is (its fields and its body, durable before the 2xx), so recording each one in sled as well
//! wrote the same thing twice, and sled's inserts were a third of the receiver's CPU under load
//! (webhook-bench). sled learns of a delivery once, when it is applied (`DeliverySeen`); a frame
//! whose delivery id sled knows is applied, any other frame of an existing team waits.

use super::keys::TeamId;
use super::spool::{BodyRef, FrameMeta};
use std::collections::{BTreeMap, HashMap, HashSet};

#[derive(Debug, Default)]
pub(crate) struct Waiting {
    /// Per team, by sequence number (oldest first).
    teams: HashMap<TeamId, BTreeMap<u64, (FrameMeta, BodyRef)>>,
    /// Per team, the delivery ids waiting (for deduplication).
    guids: HashMap<TeamId, HashSet<String>>,
    /// Waiting deliveries per spool segment: a segment with none before it can be deleted.
    segments: BTreeMap<u64, usize>,
    /// The highest sequence number of any frame seen (waiting or not): new ones go above it.
    max_seq: u64,
}

impl Waiting {
    /// Add a waiting delivery; false (and nothing changed) if its id waits already.
    pub fn insert(&mut self, meta: FrameMeta, at: BodyRef) -> bool {
        let team = meta.team_id;
        if !self
            .guids
            .entry(team)
            .or_default()
            .insert(meta.guid.clone())
        {
            return false;
        }
        self.note_seq(meta.seq);
        *self.segments.entry(at.segment).or_default() += 1;
        if let Some((old, old_at)) = self
            .teams
            .entry(team)
            .or_default()
            .insert(meta.seq, (meta, at))
        {
            // A sequence number used twice (never, by construction): keep the counts right.
            self.forget(&old, &old_at);
        }
        true
    }

    pub fn note_seq(&mut self, seq: u64) {
        self.max_seq = self.max_seq.max(seq);
    }

    pub fn max_seq(&self) -> u64 {
        self.max_seq
    }

    pub fn contains_guid(&self, team: TeamId, guid: &str) -> bool {
        self.guids.get(&team).is_some_and(|g| g.contains(guid))
    }

    /// Applied (or its team deleted): no longer waiting.
    pub fn remove(&mut self, team: TeamId, seq: u64) -> bool {
        let Some((meta, at)) = self.teams.get_mut(&team).and_then(|t| t.remove(&seq)) else {
            return false;
        };
        self.forget(&meta, &at);
        true
    }

    fn forget(&mut self, meta: &FrameMeta, at: &BodyRef) {
        if let Some(g) = self.guids.get_mut(&meta.team_id) {
            g.remove(&meta.guid);
        }
        if let Some(n) = self.segments.get_mut(&at.segment) {
            *n -= 1;
            if *n == 0 {
                self.segments.remove(&at.segment);
            }
        }
    }

    /// Forget a deleted team's deliveries; how many there were.
    pub fn remove_team(&mut self, team: TeamId) -> usize {
        let Some(entries) = self.teams.remove(&team) else {
            return 0;
        };
        for (meta, at) in entries.values() {
            self.forget(meta, at);
        }
        self.guids.remove(&team);
        entries.len()
    }

    pub fn len(&self, team: TeamId) -> usize {
        self.teams.get(&team).map_or(0, BTreeMap::len)
    }

    /// When the team's oldest waiting delivery was received (the lowest sequence number: they
    /// are numbered as they arrive).
    pub fn oldest_received_at(&self, team: TeamId) -> Option<i64> {
        let (meta, _) = self.teams.get(&team)?.values().next()?;
        Some(meta.received_at)
    }

    /// A team's oldest waiting deliveries: at most `max`, and no more once their bodies hold
    /// `max_bytes` (at least one if any waits).
    pub fn oldest(&self, team: TeamId, max: usize, max_bytes: usize) -> Vec<(FrameMeta, BodyRef)> {
        let mut out = Vec::new();
        let mut bytes = 0usize;
        for (meta, at) in self.teams.get(&team).into_iter().flat_map(|t| t.values()) {
            if out.len() >= max || (bytes >= max_bytes && !out.is_empty()) {
                break;
            }
            bytes = bytes.saturating_add(at.len as usize);
            out.push((meta.clone(), *at));
        }
        out
    }

    /// Every waiting delivery, by team then sequence number.
    pub fn all(&self) -> Vec<(FrameMeta, BodyRef)> {
        let mut teams: Vec<_> = self.teams.keys().copied().collect();
        teams.sort_unstable();
        teams
            .into_iter()
            .flat_map(|t| self.teams[&t].values().cloned())
            .collect()
    }

    /// The oldest segment a waiting delivery is in (every segment below it can go).
    pub fn first_segment(&self) -> Option<u64> {
        self.segments.keys().next().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(team: TeamId, seq: u64, guid: &str) -> FrameMeta {
        FrameMeta {
            team_id: team,
            seq,
            guid: guid.into(),
            event: "pull_request".into(),
            hook_id: None,
            repo_id: None,
            received_at: 0,
        }
    }

    fn at(segment: u64, len: u64) -> BodyRef {
        BodyRef {
            segment,
            offset: 0,
            len,
            crc: 0,
        }
    }

    #[test]
    fn counts_follow_inserts_and_removals() {
        let mut w = Waiting::default();
        assert!(w.insert(meta(1, 5, "a"), at(0, 10)));
        assert!(w.insert(meta(1, 2, "b"), at(1, 10)));
        assert!(w.insert(meta(2, 9, "a"), at(1, 10)), "ids are per team");
        assert!(
            !w.insert(meta(1, 7, "a"), at(2, 10)),
            "a waiting id is refused"
        );
        assert_eq!((w.len(1), w.len(2), w.max_seq()), (2, 1, 9));
        assert!(w.contains_guid(1, "a") && w.contains_guid(2, "a") && !w.contains_guid(3, "a"));
        let seqs: Vec<u64> = w
            .oldest(1, 10, usize::MAX)
            .iter()
            .map(|(m, _)| m.seq)
            .collect();
        assert_eq!(seqs, [2, 5], "oldest first");
        assert_eq!(w.first_segment(), Some(0));
        assert!(w.remove(1, 5));
        assert!(!w.remove(1, 5));
        assert!(!w.contains_guid(1, "a"));
        assert_eq!(w.first_segment(), Some(1));
        assert_eq!(w.remove_team(2), 1);
        assert_eq!(w.first_segment(), Some(1));
        assert!(w.remove(1, 2));
        assert_eq!(w.first_segment(), None);
        assert_eq!(
            w.max_seq(),
            9,
            "sequence numbers are never handed out again"
        );
        assert!(w.all().is_empty());
    }

    #[test]
    fn rounds_are_bounded_by_count_and_bytes() {
        let mut w = Waiting::default();
        for s in 1..=5 {
            w.insert(meta(1, s, &format!("g{s}")), at(0, 1000));
        }
        let seqs =
            |v: Vec<(FrameMeta, BodyRef)>| v.into_iter().map(|(m, _)| m.seq).collect::<Vec<_>>();
        assert_eq!(seqs(w.oldest(1, 3, usize::MAX)), [1, 2, 3]);
        assert_eq!(seqs(w.oldest(1, 10, 1500)), [1, 2]);
        assert_eq!(seqs(w.oldest(1, 10, 0)), [1]);
        assert!(w.oldest(2, 10, usize::MAX).is_empty());
    }
}
