//! What the webhook inbox lets in: a verified delivery is stored unless its delivery id was
//! received before (GitHub's retry), its body was (a captured delivery replayed under fresh
//! ids, or GitHub's "Redeliver"), or the team's backlog is full. A delivery's body is known by
//! its SHA-256, kept as its id is: in the waiting delivery's frame (so a restart rebuilds it),
//! then, once applied, in sled beside the id (`DeliverySeen` under a key no id can have), pruned
//! with the ids after GitHub's 3 days of redeliveries.
//!
//! Why a repeated body may be dropped: applying re-reads GitHub whatever a body says, so a
//! second copy of one can only cost requests; the first copy's re-read already brought
//! GitHub's state.

use super::keys::{Key, Kind, TeamId};
use super::records::{DeliverySeen, InboxEntry};
use super::spool::FrameMeta;
use super::{Result, Store, StoreError};
use std::collections::{HashMap, HashSet};

/// Deliveries that may wait per team, by default (`webhook_backlog_max`).
pub const DEFAULT_BACKLOG_MAX: u64 = 10_000;
/// Bytes of waiting bodies per team, per delivery the cap allows: 50 KB on average (512 MB
/// at the default), however the bodies are spread (GitHub sends up to 25 MB each).
pub const BACKLOG_BYTES_PER_DELIVERY: u64 = 51_200;
/// GitHub redelivers deliveries up to 3 days old: ids and bodies are remembered that long.
pub const SEEN_FOR_SECS: i64 = 3 * 24 * 3600;
/// A line about replays or refusals at most this often per team (the counts are in `status`).
const LOG_EVERY_SECS: i64 = 60;

/// How much of a team's webhook deliveries may wait to be applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BacklogLimits {
    pub deliveries: u64,
    pub bytes: u64,
}

impl BacklogLimits {
    /// `deliveries`, and their bytes at [`BACKLOG_BYTES_PER_DELIVERY`].
    pub fn for_deliveries(deliveries: u64) -> BacklogLimits {
        BacklogLimits {
            deliveries,
            bytes: deliveries.saturating_mul(BACKLOG_BYTES_PER_DELIVERY),
        }
    }
}

impl Default for BacklogLimits {
    fn default() -> Self {
        BacklogLimits::for_deliveries(DEFAULT_BACKLOG_MAX)
    }
}

/// What was turned away or held back for a team since the store opened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Intake {
    pub replays: u64,
    pub last_replay_at: Option<i64>,
    pub refused: u64,
    pub last_refused_at: Option<i64>,
    pub held: u64,
    pub last_held_at: Option<i64>,
    pub held_until: Option<i64>,
    /// The highest sequence number counted as held (each delivery counts once).
    pub(super) held_upto_seq: u64,
    replay_logged_at: i64,
    refused_logged_at: i64,
    held_logged_at: i64,
}

impl Intake {
    fn replayed(&mut self, team: TeamId, now: i64) {
        self.replays += 1;
        self.last_replay_at = Some(now);
        if now - self.replay_logged_at >= LOG_EVERY_SECS {
            self.replay_logged_at = now;
            tracing::warn!(
                team,
                replays = self.replays,
                "webhook body received again under a new delivery id (a replay, or GitHub's \
                 Redeliver): acknowledged, not stored (at most one such line a minute)"
            );
        }
    }

    fn refused(&mut self, team: TeamId, now: i64, limits: BacklogLimits) {
        self.refused += 1;
        self.last_refused_at = Some(now);
        if now - self.refused_logged_at >= LOG_EVERY_SECS {
            self.refused_logged_at = now;
            tracing::warn!(
                team,
                refused = self.refused,
                max = limits.deliveries,
                max_bytes = limits.bytes,
                "webhook backlog full: delivery refused with 503; the next sync covers it \
                 (at most one such line a minute)"
            );
        }
    }
}

/// A verified delivery on its way into the inbox, with its body's SHA-256.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub entry: InboxEntry,
    pub body_sha256: [u8; 32],
}

impl Incoming {
    pub fn new(entry: InboxEntry) -> Incoming {
        let body_sha256 = sha256(&entry.body);
        Incoming { entry, body_sha256 }
    }
}

pub fn sha256(body: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(body).into()
}

/// What became of a delivery offered to the inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Durable, waiting to be applied.
    Stored,
    /// Its delivery id was received before (GitHub retrying): nothing written.
    DuplicateId,
    /// Its body was received before under another id: nothing written, counted.
    Replay,
    /// The team's backlog is full: nothing written, counted; answer 503.
    BacklogFull,
}

/// Where an applied body's hash is kept: beside the delivery ids, after a 0xFF byte, which
/// no delivery id (UTF-8 text) contains, so the two never meet.
pub(super) fn body_key(team: TeamId, sha256: &[u8; 32]) -> Key {
    Key::new(team, Kind::DeliverySeen).u8(0xFF).bytes(sha256)
}

pub(super) fn seen_key(team: TeamId, guid: &str) -> Key {
    Key::new(team, Kind::DeliverySeen).bytes(guid.as_bytes())
}

impl Store {
    /// How much may wait per team from now on (a reload may change it).
    pub fn set_backlog_limits(&self, limits: BacklogLimits) {
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .limits = limits;
    }

    pub fn backlog_limits(&self) -> BacklogLimits {
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .limits
    }

    /// What was turned away or held back for the team since the store opened.
    pub fn inbox_intake(&self, team: TeamId) -> Intake {
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .intake(team)
            .clone()
    }

    /// The team's re-reads are held back for the rate budget until `until`: its waiting
    /// deliveries not counted yet are (see `Waiting::note_held`). Returns how many were new.
    pub fn inbox_note_held(&self, team: TeamId, until: i64) -> u64 {
        let now = super::now();
        let mut waiting = self
            .waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let new = waiting.note_held(team, until, now);
        let intake = waiting.intake(team);
        if new > 0 && now - intake.held_logged_at >= LOG_EVERY_SECS {
            intake.held_logged_at = now;
            tracing::info!(
                team,
                held = intake.held,
                until,
                "webhook re-reads held back: they would spend the sync's share of GitHub's rate \
                 budget; the deliveries wait (at most one such line a minute)"
            );
        }
        new
    }

    /// The team's re-reads go again.
    pub fn inbox_clear_held(&self, team: TeamId) {
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .intake(team)
            .held_until = None;
    }

    /// Could one more delivery of `len` bytes wait for the team now? Asked from a request's
    /// head, before its body is read; a no is counted as a refusal (`Intake::refused`).
    pub fn inbox_has_room(&self, team: TeamId, len: u64) -> bool {
        let mut waiting = self
            .waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if waiting.has_room(team, 1, len) {
            return true;
        }
        let limits = waiting.limits;
        waiting.intake(team).refused(team, super::now(), limits);
        false
    }

    /// Was this body applied (its hash in sled)?
    pub fn body_seen(&self, team: TeamId, sha256: &[u8; 32]) -> Result<bool> {
        self.contains(body_key(team, sha256))
    }

    /// What the inbox would answer a delivery, when that is anything but "store it": known
    /// id, known body, or a full backlog (counted here). A quick look before the inbox writer
    /// (`inbox_admit` decides again, with the batch it is in); None: offer it to the writer.
    pub fn inbox_precheck(&self, incoming: &Incoming) -> Result<Option<Admission>> {
        let e = &incoming.entry;
        let team = e.team_id;
        // sled first, without the waiting lock (which the writer thread and every receiver
        // task take): an answer here is a fact, so the order does not matter.
        let applied_id = self.contains(seen_key(team, &e.guid))?;
        let applied_body = !applied_id && self.body_seen(team, &incoming.body_sha256)?;
        let mut waiting = self
            .waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if applied_id || waiting.contains_guid(team, &e.guid) {
            return Ok(Some(Admission::DuplicateId));
        }
        let now = super::now();
        if applied_body || waiting.contains_body(team, &incoming.body_sha256) {
            waiting.intake(team).replayed(team, now);
            return Ok(Some(Admission::Replay));
        }
        if !waiting.has_room(team, 1, e.body.len() as u64) {
            let limits = waiting.limits;
            waiting.intake(team).refused(team, now, limits);
            return Ok(Some(Admission::BacklogFull));
        }
        Ok(None)
    }

    /// Offer verified deliveries to the inbox: each new one is written to the spool (durable
    /// when this returns) and waits to be applied; the others are answered as [`Admission`]
    /// says, nothing written for them. Nothing goes to sled: the spool is the record.
    pub fn inbox_admit(&self, incoming: &[Incoming]) -> Result<Vec<Admission>> {
        self.admit(incoming, true)
    }

    /// Write verified deliveries, deduplicated by delivery id only (no replay check, no cap):
    /// for tests and tools that store the same body many times. True: seen before.
    pub fn inbox_add(&self, entries: &[InboxEntry]) -> Result<Vec<bool>> {
        let incoming: Vec<Incoming> = entries.iter().cloned().map(Incoming::new).collect();
        Ok(self
            .admit(&incoming, false)?
            .into_iter()
            .map(|a| a != Admission::Stored)
            .collect())
    }

    fn admit(&self, incoming: &[Incoming], guard: bool) -> Result<Vec<Admission>> {
        // Held throughout, so `inbox_release` never deletes a segment being written, and no
        // other batch is admitted between the checks and the inserts.
        let mut spool = self
            .spool
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = super::now();
        let mut answers = Vec::with_capacity(incoming.len());
        {
            // Under the lock `inbox_done` moves an id from waiting to applied with.
            let mut waiting = self
                .waiting
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut ids = HashSet::new();
            let mut bodies = HashSet::new();
            // Per team: deliveries and bytes this batch adds.
            let mut adding: HashMap<TeamId, (u64, u64)> = HashMap::new();
            for i in incoming {
                let (e, hash) = (&i.entry, &i.body_sha256);
                let team = e.team_id;
                let answer = if !ids.insert((team, e.guid.as_str()))
                    || waiting.contains_guid(team, &e.guid)
                    || self.contains(seen_key(team, &e.guid))?
                {
                    Admission::DuplicateId
                } else if guard
                    && (bodies.contains(&(team, *hash))
                        || waiting.contains_body(team, hash)
                        || self.body_seen(team, hash)?)
                {
                    waiting.intake(team).replayed(team, now);
                    Admission::Replay
                } else {
                    let (n, bytes) = adding.entry(team).or_default();
                    let len = e.body.len() as u64;
                    if guard && !waiting.has_room(team, *n + 1, *bytes + len) {
                        let limits = waiting.limits;
                        waiting.intake(team).refused(team, now, limits);
                        Admission::BacklogFull
                    } else {
                        *n += 1;
                        *bytes += len;
                        bodies.insert((team, *hash));
                        Admission::Stored
                    }
                };
                answers.push(answer);
            }
        }
        let frames: Vec<(FrameMeta, &[u8])> = incoming
            .iter()
            .zip(&answers)
            .filter(|(_, a)| **a == Admission::Stored)
            .map(|(i, _)| {
                (
                    super::inbox::frame_meta(&i.entry, Some(i.body_sha256)),
                    i.entry.body.as_slice(),
                )
            })
            .collect();
        if frames.is_empty() {
            return Ok(answers);
        }
        let refs = spool
            .append(&frames)
            .map_err(|e| StoreError::Io(e.to_string()))?;
        let mut waiting = self
            .waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // A team deleted meanwhile (`delete_team` clears its deliveries under this lock): its
        // frames stay unreferenced in the spool and go with their segment.
        let mut exists = HashMap::new();
        for ((meta, _), at) in frames.into_iter().zip(refs) {
            let team = meta.team_id;
            let live = match exists.get(&team) {
                Some(live) => *live,
                None => *exists.entry(team).or_insert(self.team(team)?.is_some()),
            };
            if live {
                waiting.insert(meta, at);
            }
        }
        Ok(answers)
    }

    /// Forget applied delivery ids and bodies received before `before` (GitHub redelivers only
    /// 3 days back). Read without the write lock, removed in batches under it, each record
    /// looked at again there. A frame of one that is still in the spool (its segment kept by an
    /// older waiting delivery) would wait again after a restart and be applied twice, which
    /// re-reads GitHub and changes nothing.
    pub fn prune_seen_deliveries(&self, team: TeamId, before: i64) -> Result<u64> {
        const BATCH: usize = 10_000;
        let old = |value: &[u8]| {
            super::decode::<DeliverySeen>(Kind::DeliverySeen, value)
                .is_ok_and(|s| s.received_at < before)
        };
        let mut found = Vec::new();
        for item in self.db()?.scan_prefix(Key::new(team, Kind::DeliverySeen)) {
            let (key, value) = item?;
            if old(&value) {
                found.push(key);
            }
        }
        let mut n = 0;
        for keys in found.chunks(BATCH) {
            let mut w = self.writer();
            for key in keys {
                if self.db()?.get(key)?.is_some_and(|v| old(&v)) {
                    w.remove(key);
                    n += 1;
                }
            }
            w.commit()?;
        }
        Ok(n)
    }
}
