//! The store's health: a sled db that failed to write, the spool's failed batches, and the free
//! space of the filesystem the store is on.
//!
//! What sled 0.34 does after a failed write (a full disk: ENOSPC): its log writer keeps the
//! first I/O error as a global error and returns it from every later write and flush, even once
//! space is back. Only opening the db again clears it. Reads keep working from memory. Writes
//! it had accepted in memory after its last durable flush are lost with the reopen, exactly as
//! in a crash, which the store is built to survive (every change is one batch). So the store
//! reopens itself ([`Store::reopen`], driven by the daemon's disk watch) once space is back,
//! rather than failing every write until a restart.
//!
//! Webhook deliveries are admitted ([`Health::admit`]) only while they can be stored: not while
//! sled cannot write, not below a free-space margin (1% of the filesystem or 256 MB, whichever
//! is smaller; checked before each spool batch, so ENOSPC is not where the spool stops), and
//! not while a failed spool batch's backoff runs. The first batch after it is a real attempt:
//! deliveries are acknowledged again only once one was written.
#![allow(unsafe_code)] // libc calls, each with its SAFETY comment.

use super::{Result, Store, StoreError};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most free space kept back from webhook deliveries (see [`margin`]).
pub const MARGIN_MAX: u64 = 256 * 1024 * 1024;
/// A measurement older than this is taken again before a delivery is admitted.
const SPACE_FRESH: Duration = Duration::from_secs(1);
/// Backoff after failed spool batches: refused this long after the first, twice as long after
/// each next one, up to `SPOOL_BACKOFF_MAX`.
const SPOOL_BACKOFF_MIN: Duration = Duration::from_millis(500);
const SPOOL_BACKOFF_MAX: Duration = Duration::from_secs(30);

/// Free space below which deliveries are refused: 1% of the filesystem or 256 MB, whichever is
/// smaller (a 64 MB filesystem keeps 655 KB; a large disk 256 MB).
pub fn margin(total: u64) -> u64 {
    (total / 100).min(MARGIN_MAX)
}

/// The free space of a filesystem, as an unprivileged writer may use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Space {
    pub free: u64,
    pub total: u64,
    pub margin: u64,
}

impl Space {
    /// `statvfs` of the filesystem holding `dir`.
    pub fn measure(dir: &Path) -> std::io::Result<Space> {
        use std::os::unix::ffi::OsStrExt;
        let path = std::ffi::CString::new(dir.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::other("a path with a NUL byte"))?;
        let mut stat = std::mem::MaybeUninit::<libc::statvfs>::uninit();
        // SAFETY: a NUL-terminated path and a buffer of the right type, filled on success.
        if unsafe { libc::statvfs(path.as_ptr(), stat.as_mut_ptr()) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: statvfs returned 0, so it filled the buffer.
        let stat = unsafe { stat.assume_init() };
        // The field types are narrower on some targets.
        #[allow(clippy::unnecessary_cast)]
        let (unit, blocks, available) = (
            stat.f_frsize as u64,
            stat.f_blocks as u64,
            stat.f_bavail as u64,
        );
        let total = blocks.saturating_mul(unit);
        Ok(Space {
            // What others than root may use: a daemon running as root stops short of the
            // reserved blocks too.
            free: available.saturating_mul(unit),
            total,
            margin: margin(total),
        })
    }

    pub fn is_low(&self) -> bool {
        self.free < self.margin
    }

    /// Whether `bytes` more can be written and leave the margin free.
    pub fn fits(&self, bytes: u64) -> bool {
        self.free >= self.margin.saturating_add(bytes)
    }
}

impl std::fmt::Display for Space {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} free of {} (deliveries are refused below {})",
            bytes(self.free),
            bytes(self.total),
            bytes(self.margin)
        )
    }
}

/// A size for people: `812 KB`, `3.4 MB`, `52 GB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 || value >= 10.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Why sled cannot write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Unix seconds.
    pub since: i64,
    pub reason: String,
    /// ENOSPC or EDQUOT: reopening waits until there is space again.
    pub disk_full: bool,
}

/// The spool's last batches failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoolFailure {
    /// Unix seconds of the first failure in a row.
    pub since: i64,
    pub reason: String,
    /// Failed batches in a row.
    pub attempts: u32,
    /// Deliveries are refused until then; the next batch after it is tried.
    pub retry_at: Instant,
}

/// Why a webhook delivery is refused (answered 503, which GitHub may send again).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("low disk space on the store's filesystem: {0}")]
    LowSpace(Space),
    #[error("the store cannot write: {0}")]
    StoreFailed(String),
    #[error("the webhook spool failed to write ({reason}); retried in {retry_in_ms} ms")]
    SpoolBackoff { reason: String, retry_in_ms: u64 },
    #[error("the free space of the store's filesystem cannot be read: {0}")]
    SpaceUnknown(String),
}

#[derive(Debug, Default)]
struct State {
    failure: Option<Failure>,
    spool: Option<SpoolFailure>,
    space: Option<(Instant, Space)>,
    reopens: u64,
    last_reopen: Option<i64>,
}

/// What the store knows about its own health (see the module comment).
#[derive(Debug)]
pub struct Health {
    dir: PathBuf,
    state: Mutex<State>,
}

/// A copy of the health, for `doctor` (over the control socket) and logs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    pub failure: Option<Failure>,
    pub spool: Option<(i64, String, u32)>,
    pub space: Option<Space>,
    pub reopens: u64,
    pub last_reopen: Option<i64>,
}

impl Health {
    pub(super) fn new(dir: &Path) -> Health {
        Health {
            dir: dir.to_path_buf(),
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Why sled cannot write, if it cannot.
    pub fn failure(&self) -> Option<Failure> {
        self.state().failure.clone()
    }

    /// Measure the free space now (and keep it for [`Health::admit`]).
    pub fn measure(&self) -> std::io::Result<Space> {
        let space = Space::measure(&self.dir)?;
        self.state().space = Some((Instant::now(), space));
        Ok(space)
    }

    /// May webhook deliveries of `bytes` be written now? `fresh`: measure the free space now
    /// (each spool batch), else a measurement up to a second old will do (each delivery).
    pub fn admit(&self, bytes: u64, fresh: bool) -> std::result::Result<(), Refusal> {
        let cached = {
            let state = self.state();
            if let Some(f) = &state.failure {
                return Err(Refusal::StoreFailed(f.reason.clone()));
            }
            if let Some(s) = &state.spool {
                let now = Instant::now();
                if now < s.retry_at {
                    return Err(Refusal::SpoolBackoff {
                        reason: s.reason.clone(),
                        retry_in_ms: (s.retry_at - now).as_millis() as u64,
                    });
                }
            }
            state
                .space
                .filter(|(at, _)| !fresh && at.elapsed() < SPACE_FRESH)
                .map(|(_, s)| s)
        };
        let space = match cached {
            Some(s) => s,
            None => self
                .measure()
                .map_err(|e| Refusal::SpaceUnknown(e.to_string()))?,
        };
        if space.fits(bytes) {
            Ok(())
        } else {
            Err(Refusal::LowSpace(space))
        }
    }

    /// A spool batch failed: deliveries are refused for a while, longer each time in a row.
    /// Returns how long.
    pub fn spool_failed(&self, reason: &str) -> Duration {
        let mut state = self.state();
        let attempts = state.spool.as_ref().map_or(0, |s| s.attempts) + 1;
        let wait = SPOOL_BACKOFF_MIN
            .saturating_mul(1 << (attempts - 1).min(16))
            .min(SPOOL_BACKOFF_MAX);
        let since = state.spool.as_ref().map_or_else(super::now, |s| s.since);
        state.spool = Some(SpoolFailure {
            since,
            reason: reason.to_string(),
            attempts,
            retry_at: Instant::now() + wait,
        });
        wait
    }

    /// A spool batch was written: the failures in a row (if any) are over. Returns them.
    pub fn spool_ok(&self) -> Option<SpoolFailure> {
        let mut state = self.state();
        state.spool.take()
    }

    pub fn report(&self) -> Report {
        let state = self.state();
        Report {
            failure: state.failure.clone(),
            spool: state
                .spool
                .as_ref()
                .map(|s| (s.since, s.reason.clone(), s.attempts)),
            space: state.space.map(|(_, s)| s),
            reopens: state.reopens,
            last_reopen: state.last_reopen,
        }
    }

    /// Record a sled I/O error (see `Store::sled_error`); the first failure's time is kept.
    fn sled_failed(&self, error: &sled::Error) -> String {
        let disk_full = is_disk_full(error);
        let reason = if disk_full {
            format!("the disk is full ({error}); it reopens by itself once there is space again")
        } else {
            format!("{error}; it is reopened by itself, with backoff")
        };
        let mut state = self.state();
        if state.failure.is_none() {
            tracing::error!(error = %error, disk_full, "the store failed to write: sled refuses every write from now on until it is reopened; webhook deliveries are refused (503) meanwhile");
            state.failure = Some(Failure {
                since: super::now(),
                reason: reason.clone(),
                disk_full,
            });
        }
        state.failure.as_ref().map_or(reason, |f| f.reason.clone())
    }

    fn reopen_failed(&self, error: &StoreError) {
        let mut state = self.state();
        if state.failure.is_none() {
            state.failure = Some(Failure {
                since: super::now(),
                reason: format!("reopening the store failed ({error}); retried with backoff"),
                disk_full: false,
            });
        }
    }

    fn reopened(&self) -> Option<Failure> {
        let mut state = self.state();
        state.reopens += 1;
        state.last_reopen = Some(super::now());
        state.failure.take()
    }
}

/// ENOSPC or EDQUOT, however sled wrapped it (it re-creates I/O errors from their kind).
fn is_disk_full(error: &sled::Error) -> bool {
    match error {
        sled::Error::Io(io) => {
            matches!(
                io.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
            ) || matches!(io.raw_os_error(), Some(libc::ENOSPC | libc::EDQUOT))
        }
        _ => false,
    }
}

impl Store {
    pub fn health(&self) -> &Health {
        &self.health
    }

    /// Any sled error. An I/O error puts the store in error until it is reopened: once sled's
    /// log writer failed, sled returns that error from reads that reach its page cache too.
    pub(super) fn sled_error(&self, error: sled::Error) -> StoreError {
        match error {
            sled::Error::Io(_) => StoreError::Unwritable(self.health.sled_failed(&error)),
            other => StoreError::from(other),
        }
    }

    /// Find out whether sled can still write (its own flusher may have hit an error no call of
    /// ours has seen yet): a flush, which costs nothing when nothing is dirty.
    pub fn probe(&self) -> Result<()> {
        self.flush()
    }

    /// Open sled again after it failed to write (see the module comment), then rebuild which
    /// webhook deliveries wait: one whose `inbox_done` sled lost with the reopen waits again
    /// (its segment was kept: releasing one needs a flush, which failed). Holds the write lock,
    /// so no change is half made against the old db and committed to the new one. On failure
    /// the store has no db until a later reopen succeeds; every call fails meanwhile.
    pub fn reopen(&self) -> Result<()> {
        {
            let _write = self
                .write
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut slot = self
                .db
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // Dropped first: sled holds a lock on its files until its last handle is gone.
            drop(slot.take());
            let db = open_retrying(&self.path).inspect_err(|e| {
                // Without a db every call fails: the store is in error whatever came before.
                self.health.reopen_failed(e);
            })?;
            self.id_floor.store(
                super::read_id_floor(&db)?,
                std::sync::atomic::Ordering::SeqCst,
            );
            *slot = Some(db);
        }
        let was = self.health.reopened();
        let waiting = self.load_inbox()?;
        tracing::warn!(
            failed_since = was.as_ref().map(|f| f.since),
            waiting,
            "the store was reopened and writes again; writes it had accepted after its last durable flush are lost, as in a crash"
        );
        Ok(())
    }
}

/// Open sled, waiting up to 5 s for a handle of the db just dropped to let go of its lock.
fn open_retrying(dir: &Path) -> Result<sled::Db> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match super::open_sled(dir) {
            Err(StoreError::Locked(_)) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_margin_is_one_percent_up_to_256_mb() {
        assert_eq!(margin(64 * 1024 * 1024), 671_088);
        assert_eq!(margin(25_600 * 1024 * 1024), MARGIN_MAX);
        assert_eq!(margin(4 << 40), MARGIN_MAX);
        let space = Space {
            free: 1000,
            total: 100_000,
            margin: 1000,
        };
        assert!(!space.is_low() && space.fits(0) && !space.fits(1));
        assert_eq!(bytes(812_000), "812 KB");
        assert_eq!(bytes(3_400_000), "3.4 MB");
        assert_eq!(bytes(52_000_000_000), "52 GB");
        assert_eq!(bytes(17), "17 bytes");
    }

    #[test]
    fn free_space_is_measured() {
        let dir = tempfile::tempdir().unwrap();
        let space = Space::measure(dir.path()).unwrap();
        assert!(space.total > 0 && space.free <= space.total);
        assert_eq!(space.margin, margin(space.total));
        assert!(Space::measure(&dir.path().join("missing")).is_err());
    }

    /// Failed spool batches refuse deliveries for a while, longer each time, bounded; a batch
    /// written ends it.
    #[test]
    fn spool_failures_back_off_and_a_written_batch_ends_them() {
        let dir = tempfile::tempdir().unwrap();
        let health = Health::new(dir.path());
        assert_eq!(health.admit(0, true), Ok(()));
        let waits: Vec<Duration> = (0..12).map(|_| health.spool_failed("ENOSPC")).collect();
        assert_eq!(waits[0], SPOOL_BACKOFF_MIN);
        assert_eq!(waits[1], 2 * SPOOL_BACKOFF_MIN);
        assert!(waits.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(*waits.last().unwrap(), SPOOL_BACKOFF_MAX);
        assert!(matches!(
            health.admit(0, false),
            Err(Refusal::SpoolBackoff { .. })
        ));
        let report = health.report();
        assert_eq!(report.spool.as_ref().map(|s| s.2), Some(12));
        assert_eq!(health.spool_ok().map(|s| s.attempts), Some(12));
        assert_eq!(health.admit(0, false), Ok(()));
        // More than the filesystem holds never fits.
        let total = Space::measure(dir.path()).unwrap().total;
        assert!(matches!(
            health.admit(total, true),
            Err(Refusal::LowSpace(_))
        ));
    }

    #[test]
    fn a_full_disk_is_told_from_other_errors() {
        let full = sled::Error::Io(std::io::Error::from_raw_os_error(libc::ENOSPC));
        // sled clones its global error as a new error of the same kind.
        let cloned = sled::Error::Io(std::io::Error::new(
            std::io::ErrorKind::StorageFull,
            "Os { code: 28 }",
        ));
        let eio = sled::Error::Io(std::io::Error::from_raw_os_error(libc::EIO));
        assert!(is_disk_full(&full) && is_disk_full(&cloned) && !is_disk_full(&eio));
        let dir = tempfile::tempdir().unwrap();
        let health = Health::new(dir.path());
        let reason = health.sled_failed(&cloned);
        assert!(reason.contains("disk is full"), "{reason}");
        assert!(health.failure().unwrap().disk_full);
        // The first failure is the one kept.
        health.sled_failed(&eio);
        assert!(health.failure().unwrap().disk_full);
        assert!(matches!(
            health.admit(0, false),
            Err(Refusal::StoreFailed(_))
        ));
        assert!(health.reopened().is_some());
        assert_eq!(health.failure(), None);
        assert_eq!(health.report().reopens, 1);
    }

    /// Reopening (what follows a failed write) keeps every durable record and the waiting
    /// deliveries, and the store writes on; ids continue past those handed out before.
    #[test]
    fn a_reopened_store_keeps_its_records_and_waiting_deliveries() {
        use crate::store::{InboxEntry, MemberInput};
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let team = store.create_team("platform", None).unwrap().id;
        let first = store
            .upsert_member(
                team,
                MemberInput {
                    github_id: Some(7),
                    ..MemberInput::default()
                },
            )
            .unwrap();
        let entry = |seq: u64, guid: &str| InboxEntry {
            team_id: team,
            seq,
            guid: guid.into(),
            event: "ping".into(),
            hook_id: None,
            repo_id: None,
            received_at: 1_700_000_000,
            body: guid.as_bytes().to_vec(),
        };
        store
            .inbox_add(&[entry(1, "applied"), entry(2, "waiting")])
            .unwrap();
        store.inbox_done(&entry(1, "applied"), None).unwrap();
        store.flush().unwrap();
        store.reopen().unwrap();
        assert_eq!(store.health().report().reopens, 1);
        assert_eq!(store.team(team).unwrap().unwrap().name, "platform");
        assert_eq!(store.inbox(team).unwrap(), [entry(2, "waiting")]);
        assert!(store.delivery_seen(team, "applied").unwrap());
        let second = store
            .upsert_member(
                team,
                MemberInput {
                    github_id: Some(8),
                    ..MemberInput::default()
                },
            )
            .unwrap();
        assert!(second.id > first.id);
        assert_eq!(store.create_team("infra", None).unwrap().id, team + 1);
    }
}
