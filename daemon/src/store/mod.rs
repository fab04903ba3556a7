//! The store: the only module that touches sled. One sled tree; keys laid out by [`keys`]; values
//! are bincode. Every change that touches several records goes through one `Writer`: writers are
//! serialised by a mutex (so read-check-write is race-free) and commit as one sled batch (so a
//! crash never leaves half a cascade).

pub mod agreements;
pub mod delivery;
mod github_link;
pub mod health;
mod hook_problem;
mod inbox;
mod intake;
mod integrations;
mod invitations;
pub mod keys;
mod org_hook;
mod people;
pub mod pr_metrics;
mod pulls;
pub mod records;
mod repo_nodes;
mod repos;
mod schema;
mod snapshot;
pub mod spool;
mod sync_pages;
mod teams;
#[cfg(test)]
pub(crate) mod tests;
mod users;
pub mod validate;
mod waiting;
mod webhook_secret;

pub use agreements::{AgreementSettings, BreachRecord, DigestRecord, SlackLink, SlackState};
pub use delivery::{
    Compared, DeliverySettings, DeliverySync, Deploy, DeploySource, DeployState, IssueRecord,
};
pub use github_link::{Connected, GitHubLogin};
pub use health::{Health, Refusal, Space};
pub use intake::{
    Admission, BACKLOG_BYTES_PER_DELIVERY, BacklogLimits, DEFAULT_BACKLOG_MAX, Incoming, Intake,
    SEEN_FOR_SECS, sha256,
};
pub use integrations::{NewCredential, NewGitHubIntegration, RotationReport, SecretField};
pub use keys::{Kind, TeamId};
pub use people::{MemberInput, looks_like_bot};
pub use records::*;
pub use repos::{validate_login, validate_repo_full_name};
pub use schema::CURRENT_SCHEMA;
pub use snapshot::{Integrity, Snapshot};
pub use sync_pages::PrSnapshot;

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, RwLock};

/// The spool's directory inside the store's (a backup of the store directory holds both).
const SPOOL_DIR: &str = "inbox";

/// Sled's page cache. Its default (1 GiB) would let an idle daemon grow far past what it needs.
const CACHE_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0} already exists")]
    Conflict(String),
    #[error(transparent)]
    Invalid(#[from] InvalidValue),
    #[error("invalid {field}: {reason}")]
    Rejected { field: &'static str, reason: String },
    #[error(
        "the data dir {0} is in use by another process (is tidemarkd running? stop it first, \
         e.g. `systemctl --user stop tidemarkd` or kill the running tidemarkd)"
    )]
    Locked(PathBuf),
    #[error(
        "the store at {path} has schema version {found}, newer than this tidemarkd understands \
         ({supported}); run the newer tidemarkd that wrote it, or restore a backup"
    )]
    TooNew {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("the store at {path} is not a tidemark store ({reason}); point --data-dir elsewhere")]
    NotOurs { path: PathBuf, reason: String },
    #[error("a stored {kind} record is corrupt ({reason})")]
    Corrupt { kind: &'static str, reason: String },
    #[error("store I/O error: {0}")]
    Io(String),
    /// A backup's records that do not hold together (`validate.rs`).
    #[error("the backup's records do not hold together: {0}")]
    Snapshot(#[from] validate::SnapshotError),
    /// sled failed to write and refuses every write until it is reopened (`health.rs`).
    #[error("the store cannot write: {0}")]
    Unwritable(String),
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Io(e.to_string())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

pub struct Store {
    /// The sled db. Replaced only by [`Store::reopen`] (after sled failed to write), under the
    /// write lock; `None` only when that reopen failed.
    db: RwLock<Option<sled::Db>>,
    /// Added to sled's id counter (`Store::next_id`): a restored store continues after the
    /// backup's ids without drawing them one by one (see `id_floor_key`).
    id_floor: AtomicU64,
    path: PathBuf,
    write: Mutex<()>,
    /// Webhook deliveries (`spool/`), in `<store>/inbox/`.
    spool: Mutex<spool::Spool>,
    /// Which of them wait to be applied (`waiting.rs`). Lock order: the write lock, then this;
    /// the spool's lock, then this.
    waiting: Mutex<waiting::Waiting>,
    /// Whether sled can write, the spool's failures, free space (`health.rs`).
    health: Health,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.path.display())
    }
}

/// The meta record holding the id floor. Not part of a snapshot: its value is folded into the
/// snapshot's `next_id`, and a store restored from it gets a floor of its own.
pub(crate) fn id_floor_key() -> keys::Key {
    keys::Key::global(Kind::Meta).bytes(b"id_floor")
}

fn read_id_floor(db: &sled::Db) -> Result<u64> {
    match db.get(id_floor_key())? {
        Some(bytes) => decode(Kind::Meta, &bytes),
        None => Ok(0),
    }
}

/// Open sled in `dir` (created 0700 if missing).
fn open_sled(dir: &Path) -> Result<sled::Db> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| StoreError::Io(format!("cannot create {}: {e}", dir.display())))?;
    sled::Config::new()
        .path(dir)
        .cache_capacity(CACHE_BYTES)
        .open()
        .map_err(|e| match e {
            sled::Error::Io(ref io) if io.to_string().contains("could not acquire lock") => {
                StoreError::Locked(dir.to_path_buf())
            }
            other => StoreError::Io(format!(
                "cannot open the store in {}: {other}",
                dir.display()
            )),
        })
}

impl Store {
    /// Open (creating if needed) the store in `dir`, upgrading an older schema and refusing a
    /// newer one.
    pub fn open(dir: &Path) -> Result<Store> {
        Store::from_db(open_sled(dir)?, dir)
    }

    /// Wrap an open sled db, upgrading an older schema and refusing a newer one.
    fn from_db(db: sled::Db, dir: &Path) -> Result<Store> {
        let spool =
            spool::Spool::open(&dir.join(SPOOL_DIR)).map_err(|e| StoreError::Io(e.to_string()))?;
        let store = Store {
            id_floor: AtomicU64::new(read_id_floor(&db)?),
            db: RwLock::new(Some(db)),
            path: dir.to_path_buf(),
            write: Mutex::new(()),
            spool: Mutex::new(spool),
            waiting: Mutex::new(waiting::Waiting::default()),
            health: Health::new(dir),
        };
        schema::check_and_upgrade(&store)?;
        store.load_inbox()?;
        Ok(store)
    }

    /// A handle on the db (cheap: sled's handles share everything). Errs only while a failed
    /// reopen left the store without one.
    fn db(&self) -> Result<sled::Db> {
        self.db
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
            .ok_or_else(|| {
                StoreError::Unwritable(self.health.failure().map_or_else(
                    || "it is being reopened".to_string(),
                    |f| format!("{}; reopening it failed so far", f.reason),
                ))
            })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where webhook bodies are spooled.
    pub fn spool_dir(&self) -> PathBuf {
        self.path.join(SPOOL_DIR)
    }

    /// Make every committed change durable.
    pub fn flush(&self) -> Result<()> {
        self.db()?.flush().map_err(|e| self.sled_error(e))?;
        Ok(())
    }

    pub async fn flush_async(&self) -> Result<()> {
        let db = self.db()?;
        db.flush_async().await.map_err(|e| self.sled_error(e))?;
        Ok(())
    }

    /// Start an atomic change. Holds the store's write lock until committed or dropped.
    pub(crate) fn writer(&self) -> Writer<'_> {
        Writer {
            _guard: self
                .write
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
            batch: sled::Batch::default(),
            store: self,
        }
    }

    pub(crate) fn get<T: DeserializeOwned>(
        &self,
        kind: Kind,
        key: impl AsRef<[u8]>,
    ) -> Result<Option<T>> {
        match self.db()?.get(key).map_err(|e| self.sled_error(e))? {
            Some(bytes) => decode(kind, &bytes).map(Some),
            None => Ok(None),
        }
    }

    pub(crate) fn contains(&self, key: impl AsRef<[u8]>) -> Result<bool> {
        self.db()?.contains_key(key).map_err(|e| self.sled_error(e))
    }

    /// Every record under `prefix` (a key of one kind, possibly with some id parts).
    pub(crate) fn scan<T: DeserializeOwned>(
        &self,
        kind: Kind,
        prefix: impl AsRef<[u8]>,
    ) -> Result<Vec<T>> {
        self.db()?
            .scan_prefix(prefix)
            .map(|item| {
                let (_, value) = item.map_err(|e| self.sled_error(e))?;
                decode(kind, &value)
            })
            .collect()
    }

    /// Every key under `prefix`, values unread.
    pub(crate) fn scan_keys(&self, prefix: impl AsRef<[u8]>) -> Result<Vec<sled::IVec>> {
        self.db()?
            .scan_prefix(prefix)
            .keys()
            .map(|k| k.map_err(|e| self.sled_error(e)))
            .collect()
    }

    pub(crate) fn count(&self, prefix: impl AsRef<[u8]>) -> Result<u64> {
        let mut n = 0;
        for key in self.db()?.scan_prefix(prefix).keys() {
            key.map_err(|e| self.sled_error(e))?;
            n += 1;
        }
        Ok(n)
    }

    pub(crate) fn next_id(&self) -> Result<u64> {
        // sled ids start at 0; 0 is reserved for the global space.
        let id = self.db()?.generate_id().map_err(|e| self.sled_error(e))?;
        Ok(self.id_floor.load(Ordering::SeqCst) + id + 1)
    }

    /// Raw access for the schema upgrade (while opening) and for tests that write old formats.
    /// Only ever called while the store has its db.
    pub(crate) fn raw(&self) -> sled::Db {
        self.db().expect("the store's db is open")
    }
}

pub(crate) struct Writer<'a> {
    _guard: MutexGuard<'a, ()>,
    batch: sled::Batch,
    store: &'a Store,
}

impl Writer<'_> {
    pub fn put<T: Serialize>(&mut self, key: impl AsRef<[u8]>, value: &T) {
        self.batch.insert(key.as_ref(), encode(value));
    }

    pub fn put_raw(&mut self, key: impl AsRef<[u8]>, value: &[u8]) {
        self.batch.insert(key.as_ref(), value);
    }

    pub fn remove(&mut self, key: impl AsRef<[u8]>) {
        self.batch.remove(key.as_ref());
    }

    /// Apply everything at once.
    pub fn commit(self) -> Result<()> {
        let store = self.store;
        store
            .db()?
            .apply_batch(self.batch)
            .map_err(|e| store.sled_error(e))?;
        Ok(())
    }
}

pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    bincode::serialize(value).expect("records serialise to memory")
}

pub(crate) fn decode<T: DeserializeOwned>(kind: Kind, bytes: &[u8]) -> Result<T> {
    bincode::deserialize(bytes).map_err(|e| StoreError::Corrupt {
        kind: kind.name(),
        reason: e.to_string(),
    })
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
