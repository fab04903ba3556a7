//! Which spooled webhook deliveries wait to be applied: an index in memory, rebuilt from the
//! spool when the store opens (`Store::load_inbox`).
//!
//! Why in memory and not in sled: the spool's frames already hold everything a waiting delivery
//! is (its fields and its body, durable before the 2xx), so recording each one in sled as well
//! wrote the same thing twice, and sled's inserts were a third of the receiver's CPU under load
//! (webhook-bench). sled learns of a delivery once, when it is applied (`DeliverySeen`); a frame
//! whose delivery id sled knows is applied, any other frame of an existing team waits.

use super::intake::{BacklogLimits, Intake};
use super::keys::TeamId;
use super::spool::{BodyRef, FrameMeta};
use std::collections::{BTreeMap, HashMap, HashSet};

#[derive(Debug, Default)]
pub(crate) struct Waiting {
    /// Per team, by sequence number (oldest first).
    teams: HashMap<TeamId, BTreeMap<u64, (FrameMeta, BodyRef)>>,
    /// Per team, the delivery ids waiting (for deduplication).
    guids: HashMap<TeamId, HashSet<String>>,
    /// Per team, the SHA-256 of each waiting body (a replay is recognised while its first
    /// copy waits), with how many waiting frames hold it (an imported backup may repeat one).
    bodies: HashMap<TeamId, HashMap<[u8; 32], u32>>,
    /// Per team, the bytes of the waiting bodies (the backlog's cap counts them too).
    bytes: HashMap<TeamId, u64>,
    /// Waiting deliveries per spool segment: a segment with none before it can be deleted.
    segments: BTreeMap<u64, usize>,
    /// The highest sequence number of any frame seen (waiting or not): new ones go above it.
    max_seq: u64,
    /// How much may wait per team.
    pub limits: BacklogLimits,
    /// What was turned away or held back, per team, since the store opened.
    intake: HashMap<TeamId, Intake>,
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
        if let Some(hash) = meta.body_sha256 {
            *self
                .bodies
                .entry(team)
                .or_default()
                .entry(hash)
                .or_default() += 1;
        }
        *self.bytes.entry(team).or_default() += at.len;
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

    /// Does a delivery with this body wait?
    pub fn contains_body(&self, team: TeamId, sha256: &[u8; 32]) -> bool {
        self.bodies
            .get(&team)
            .is_some_and(|b| b.contains_key(sha256))
    }

    /// The waiting delivery with this sequence number.
    pub fn get(&self, team: TeamId, seq: u64) -> Option<&FrameMeta> {
        self.teams.get(&team)?.get(&seq).map(|(meta, _)| meta)
    }

    /// Bytes of the team's waiting bodies.
    pub fn bytes(&self, team: TeamId) -> u64 {
        self.bytes.get(&team).copied().unwrap_or(0)
    }

    /// Would `more` deliveries of `more_bytes` (beyond those waiting) pass the team's cap? One
    /// delivery is let in when nothing waits, however large (GitHub's own cap is 25 MB).
    pub fn has_room(&self, team: TeamId, more: u64, more_bytes: u64) -> bool {
        let (n, bytes) = (self.len(team) as u64, self.bytes(team));
        n + more <= self.limits.deliveries
            && (n + more <= 1 || bytes + more_bytes <= self.limits.bytes)
    }

    /// The team's counts of what was turned away or held back.
    pub fn intake(&mut self, team: TeamId) -> &mut Intake {
        self.intake.entry(team).or_default()
    }

    /// Held back for the budget until `until`: the waiting deliveries not counted yet are
    /// (each once, however many rounds hold it). Returns how many were new.
    pub fn note_held(&mut self, team: TeamId, until: i64, now: i64) -> u64 {
        let from = self.intake(team).held_upto_seq;
        let (new, last) = match self.teams.get(&team) {
            Some(t) => (
                t.range(from + 1..).count() as u64,
                t.keys().next_back().copied().unwrap_or(from),
            ),
            None => (0, from),
        };
        let intake = self.intake(team);
        intake.held += new;
        intake.held_upto_seq = intake.held_upto_seq.max(last);
        intake.held_until = Some(until);
        if new > 0 {
            intake.last_held_at = Some(now);
        }
        new
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
        if let (Some(hash), Some(bodies)) = (meta.body_sha256, self.bodies.get_mut(&meta.team_id))
            && let Some(n) = bodies.get_mut(&hash)
        {
            *n -= 1;
            if *n == 0 {
                bodies.remove(&hash);
            }
        }
        if let Some(b) = self.bytes.get_mut(&meta.team_id) {
            *b = b.saturating_sub(at.len);
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
        self.bodies.remove(&team);
        self.bytes.remove(&team);
        self.intake.remove(&team);
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
        self.after(team, 0, max, max_bytes)
    }

    /// As [`Waiting::oldest`], of those numbered above `after`.
    pub fn after(
        &self,
        team: TeamId,
        after: u64,
        max: usize,
        max_bytes: usize,
    ) -> Vec<(FrameMeta, BodyRef)> {
        let mut out = Vec::new();
        let mut bytes = 0usize;
        let waiting = self.teams.get(&team).into_iter().flat_map(|t| {
            t.range(after.saturating_add(1)..)
                .map(|(_, entry)| (&entry.0, &entry.1))
        });
        for (meta, at) in waiting {
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
            body_sha256: None,
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

    fn hashed(team: TeamId, seq: u64, guid: &str, body: u8) -> FrameMeta {
        FrameMeta {
            body_sha256: Some([body; 32]),
            ..meta(team, seq, guid)
        }
    }

    #[test]
    fn bodies_and_bytes_are_counted_while_they_wait() {
        let mut w = Waiting::default();
        w.insert(hashed(1, 1, "a", 7), at(0, 100));
        w.insert(hashed(1, 2, "b", 7), at(0, 50));
        w.insert(hashed(1, 3, "c", 8), at(0, 10));
        assert!(w.contains_body(1, &[7; 32]) && w.contains_body(1, &[8; 32]));
        assert!(!w.contains_body(2, &[7; 32]), "bodies are per team");
        assert_eq!(w.bytes(1), 160);
        // One of two frames with the same body applied: the body still waits.
        w.remove(1, 1);
        assert!(w.contains_body(1, &[7; 32]));
        w.remove(1, 2);
        assert!(!w.contains_body(1, &[7; 32]));
        assert_eq!(w.bytes(1), 10);
        assert_eq!(w.remove_team(1), 1);
        assert_eq!((w.bytes(1), w.contains_body(1, &[8; 32])), (0, false));
    }

    #[test]
    fn the_backlog_cap_counts_deliveries_and_bytes() {
        let mut w = Waiting {
            limits: BacklogLimits {
                deliveries: 3,
                bytes: 1000,
            },
            ..Waiting::default()
        };
        assert!(
            w.has_room(1, 1, 5000),
            "one delivery when nothing waits, however large"
        );
        w.insert(hashed(1, 1, "a", 1), at(0, 600));
        assert!(w.has_room(1, 1, 400));
        assert!(!w.has_room(1, 1, 401), "past the bytes");
        w.insert(hashed(1, 2, "b", 2), at(0, 100));
        w.insert(hashed(1, 3, "c", 3), at(0, 100));
        assert!(!w.has_room(1, 1, 1), "past the count");
        assert!(w.has_room(2, 3, 900), "another team's backlog is its own");
    }

    #[test]
    fn held_deliveries_are_counted_once_each() {
        let mut w = Waiting::default();
        for s in 1..=3 {
            w.insert(meta(1, s, &format!("g{s}")), at(0, 1));
        }
        assert_eq!(w.note_held(1, 500, 100), 3);
        assert_eq!(w.note_held(1, 500, 101), 0, "the same three, held again");
        w.insert(meta(1, 4, "g4"), at(0, 1));
        assert_eq!(w.note_held(1, 600, 102), 1);
        let i = w.intake(1).clone();
        assert_eq!(
            (i.held, i.held_until, i.last_held_at),
            (4, Some(600), Some(102))
        );
        assert_eq!(w.note_held(2, 600, 102), 0, "nothing waits");
    }

    #[test]
    fn rounds_go_on_after_the_last_one_read() {
        let mut w = Waiting::default();
        for s in [2, 5, 9] {
            w.insert(meta(1, s, &format!("g{s}")), at(0, 1));
        }
        let seqs =
            |v: Vec<(FrameMeta, BodyRef)>| v.into_iter().map(|(m, _)| m.seq).collect::<Vec<_>>();
        assert_eq!(seqs(w.after(1, 2, 10, usize::MAX)), [5, 9]);
        assert_eq!(seqs(w.after(1, 9, 10, usize::MAX)), Vec::<u64>::new());
        assert_eq!(seqs(w.after(1, 0, 1, usize::MAX)), [2]);
        assert_eq!(w.get(1, 5).map(|m| m.guid.as_str()), Some("g5"));
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
