//! The backup file: a stream of every store record, checked for damage and for origin.
//!
//! ```text
//! "TIDEMARK-BACKUP\n" | format u32 | schema u32 | created_at i64 | next_id u64 | count u64
//! count × (key_len u32 | key | value_len u32 | value)
//! SHA-256 of everything above (32 bytes)
//! format 2: HMAC-SHA256 of everything above, the SHA-256 included (32 bytes)
//! ```
//! All integers big-endian. Records are copied as stored (secrets stay Fernet-encrypted; the
//! key is not in the backup).
//!
//! The SHA-256 finds damage; anyone can recompute it, so it says nothing of who made the file.
//! The MAC (format 2) does: its key is derived from the daemon's newest encryption key
//! (`crypto/derive.rs`, never the key itself), and a restore verifies it with every key of the
//! keyring, so a backup made before a key rotation verifies while the old key is kept. Format 1
//! (checksum only) and a MAC no key verifies are restored only when asked for explicitly
//! ([`Trust::AcceptUnauthenticated`], `restore --accept-unauthenticated`).
//!
//! A file is also refused, before it is read, when another user could have written it
//! ([`open_checked`]), and its records and counters are validated (`store/validate.rs`).
#![allow(unsafe_code)] // libc calls, each with its SAFETY comment.

use crate::crypto::DerivedKey;
use crate::store::{CURRENT_SCHEMA, Snapshot};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::Path;

const MAGIC: &[u8; 16] = b"TIDEMARK-BACKUP\n";
/// Written now: checksum and MAC.
const FORMAT: u32 = 2;
/// Checksum only; read when asked for.
const FORMAT_UNAUTHENTICATED: u32 = 1;
/// Largest key or value accepted when reading (a guard against a corrupt length).
const MAX_FIELD: u32 = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("not a tidemark backup (it does not start with TIDEMARK-BACKUP)")]
    NotABackup,
    #[error("backup format {0} is not one this tidemarkd reads (it reads 1 and {FORMAT})")]
    Format(u32),
    #[error(
        "the backup holds schema version {found}, newer than this tidemarkd understands \
         ({CURRENT_SCHEMA}); restore it with the newer tidemarkd that wrote it"
    )]
    TooNew { found: u32 },
    #[error("the backup is damaged: {0}")]
    Damaged(String),
    #[error(
        "the backup was not made with this daemon's encryption key, or it was altered after it \
         was made: its MAC does not verify with any of the {keys} key(s) in force. Restore it \
         with the key file it was made with in place; only if you know where it comes from, \
         restore it anyway with --accept-unauthenticated"
    )]
    NotAuthentic { keys: usize },
    #[error(
        "this is an old-format backup (format 1): it has a checksum, which anyone can recompute, \
         and nothing that shows who made it. Only if you know where it comes from, restore it \
         with --accept-unauthenticated"
    )]
    Unauthenticated,
    #[error("{0}")]
    Invalid(#[from] crate::store::validate::SnapshotError),
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// What a backup says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub format: u32,
    pub schema: u32,
    pub created_at: i64,
    pub records: u64,
}

/// What a read backup is trusted on.
#[derive(Debug, Clone, Copy)]
pub enum Trust<'a> {
    /// Its MAC must verify with one of these keys (the keyring's, newest first).
    Keys(&'a [DerivedKey]),
    /// As `Keys`, but a backup whose origin cannot be shown is accepted too.
    AcceptUnauthenticated(&'a [DerivedKey]),
    /// Its checksum only: a backup just written, checked by a user without the key.
    ChecksumOnly,
}

/// Who made a backup, as far as it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Its MAC verifies with the keyring's key at this position (0: the newest).
    Key(usize),
    /// Accepted without a verified MAC: format 1, or a MAC no key verifies.
    Unauthenticated { format: u32 },
    /// Not checked ([`Trust::ChecksumOnly`]).
    NotChecked,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Key(0) => f.write_str("authenticated with the current encryption key"),
            Origin::Key(i) => write!(
                f,
                "authenticated with an older encryption key (#{} in the keyring)",
                i + 1
            ),
            Origin::Unauthenticated { format: 1 } => f.write_str(
                "UNAUTHENTICATED: an old-format backup, accepted with --accept-unauthenticated",
            ),
            Origin::Unauthenticated { .. } => f.write_str(
                "UNAUTHENTICATED: its MAC does not verify with the keys in force, accepted with \
                 --accept-unauthenticated",
            ),
            Origin::NotChecked => {
                f.write_str("checksum verified (its origin is checked at restore)")
            }
        }
    }
}

/// Write `snapshot` as a backup authenticated with `key` (the newest of
/// [`crate::crypto::Keyring::backup_keys`]).
pub fn write(
    snapshot: &Snapshot,
    key: &DerivedKey,
    out: impl Write,
) -> Result<Header, BackupError> {
    let mut out = Hashing::new(out, vec![key.mac()]);
    let header = Header {
        format: FORMAT,
        schema: CURRENT_SCHEMA,
        created_at: crate::store::now(),
        records: snapshot.entries.len() as u64,
    };
    out.put(MAGIC)?;
    out.put(&FORMAT.to_be_bytes())?;
    out.put(&header.schema.to_be_bytes())?;
    out.put(&header.created_at.to_be_bytes())?;
    out.put(&snapshot.next_id.to_be_bytes())?;
    out.put(&header.records.to_be_bytes())?;
    for (k, v) in &snapshot.entries {
        for field in [k, v] {
            out.put(&(field.len() as u32).to_be_bytes())?;
            out.put(field)?;
        }
    }
    let digest = out.hash.clone().finalize();
    out.put(&digest)?;
    let tag = out.macs.pop().expect("one MAC").finalize().into_bytes();
    out.inner.write_all(&tag)?;
    out.inner.flush()?;
    Ok(header)
}

/// Read and verify a whole backup: magic, format, schema, every length, the checksum, the MAC
/// as `trust` asks, nothing after it, and its records and counters (`Snapshot::validate`).
pub fn read(input: impl Read, trust: Trust<'_>) -> Result<(Header, Snapshot, Origin), BackupError> {
    let keys: &[DerivedKey] = match trust {
        Trust::Keys(keys) | Trust::AcceptUnauthenticated(keys) => keys,
        Trust::ChecksumOnly => &[],
    };
    let mut input = Hashing::new(input, keys.iter().map(DerivedKey::mac).collect());
    let mut magic = [0u8; 16];
    input
        .take(&mut magic)
        .map_err(|_| BackupError::NotABackup)?;
    if &magic != MAGIC {
        return Err(BackupError::NotABackup);
    }
    let format = input.u32()?;
    if format != FORMAT && format != FORMAT_UNAUTHENTICATED {
        return Err(BackupError::Format(format));
    }
    let schema = input.u32()?;
    if schema > CURRENT_SCHEMA {
        return Err(BackupError::TooNew { found: schema });
    }
    let created_at = input.u64()? as i64;
    let next_id = input.u64()?;
    let records = input.u64()?;
    let mut entries = Vec::with_capacity(records.min(1 << 20) as usize);
    for _ in 0..records {
        let key = input.field()?;
        let value = input.field()?;
        entries.push((key, value));
    }
    let expected = input.hash.clone().finalize();
    let mut stored = [0u8; 32];
    input
        .take(&mut stored)
        .map_err(|_| BackupError::Damaged("it is cut short (no checksum)".into()))?;
    if stored[..] != expected[..] {
        return Err(BackupError::Damaged("its checksum does not match".into()));
    }
    let verified = if format == FORMAT {
        let mut tag = [0u8; 32];
        input
            .inner
            .read_exact(&mut tag)
            .map_err(|_| BackupError::Damaged("it is cut short (no MAC)".into()))?;
        // Every key is tried, so the time taken says nothing of which one verified.
        input
            .macs
            .into_iter()
            .enumerate()
            .fold(None, |found, (i, mac)| {
                let ok = mac.verify_slice(&tag).is_ok();
                found.or(ok.then_some(i))
            })
    } else {
        None
    };
    let mut rest = [0u8; 1];
    if input.inner.read(&mut rest)? != 0 {
        return Err(BackupError::Damaged(
            "it has bytes after its checksum".into(),
        ));
    }
    let origin = match (trust, verified) {
        (Trust::ChecksumOnly, _) => Origin::NotChecked,
        (_, Some(i)) => Origin::Key(i),
        (Trust::AcceptUnauthenticated(_), None) => Origin::Unauthenticated { format },
        (Trust::Keys(_), None) if format == FORMAT_UNAUTHENTICATED => {
            return Err(BackupError::Unauthenticated);
        }
        (Trust::Keys(keys), None) => return Err(BackupError::NotAuthentic { keys: keys.len() }),
    };
    let snapshot = Snapshot { entries, next_id };
    snapshot.validate()?;
    let header = Header {
        format,
        schema,
        created_at,
        records,
    };
    Ok((header, snapshot, origin))
}

/// Open a backup file to restore, refusing, before anything is read, a symlink, anything but a
/// regular file, and a file another user could have written: writable by group or others, or
/// owned by another user than the one restoring (root excepted). The checks are made on the
/// opened file (`O_NOFOLLOW`), so the file read is the file checked.
pub fn open_checked(path: &Path) -> Result<std::fs::File, BackupError> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let file = std::fs::OpenOptions::new()
        .read(true)
        // No following a link; no waiting on a FIFO's writer.
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => BackupError::Refused(format!(
                "{} is a symlink: restore reads only the backup file itself (name it, not a \
                 link to it)",
                path.display()
            )),
            _ => BackupError::Refused(format!("cannot open {}: {e}", path.display())),
        })?;
    let meta = file.metadata()?;
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    check_file(path, meta.is_file(), meta.mode(), meta.uid(), euid)?;
    Ok(file)
}

/// The checks of [`open_checked`] on a file's type, mode and owner.
pub fn check_file(
    path: &Path,
    is_file: bool,
    mode: u32,
    owner: u32,
    euid: u32,
) -> Result<(), BackupError> {
    let p = path.display();
    if !is_file {
        return Err(BackupError::Refused(format!("{p} is not a regular file")));
    }
    let mode = mode & 0o7777;
    if mode & 0o022 != 0 {
        return Err(BackupError::Refused(format!(
            "{p} has mode {mode:04o}: group or others can write it, so another user could have \
             altered it. Check where it comes from, then `chmod 600 {p}`"
        )));
    }
    if owner != euid && owner != 0 {
        return Err(BackupError::Refused(format!(
            "{p} belongs to uid {owner}, not to you (uid {euid}) or root: another user could have \
             written it. Check where it comes from, then copy it as yourself"
        )));
    }
    Ok(())
}

/// A reader or writer that hashes (and MACs) what passes through.
struct Hashing<T> {
    inner: T,
    hash: Sha256,
    macs: Vec<Hmac<Sha256>>,
}

impl<T> Hashing<T> {
    fn new(inner: T, macs: Vec<Hmac<Sha256>>) -> Self {
        Hashing {
            inner,
            hash: Sha256::new(),
            macs,
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        self.hash.update(bytes);
        for mac in &mut self.macs {
            mac.update(bytes);
        }
    }
}

impl<W: Write> Hashing<W> {
    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.update(bytes);
        self.inner.write_all(bytes)
    }
}

impl<R: Read> Hashing<R> {
    /// Read exactly `buf`, hashing it (the checksum too: the MAC covers it).
    fn take(&mut self, buf: &mut [u8]) -> Result<(), BackupError> {
        self.inner
            .read_exact(buf)
            .map_err(|_| BackupError::Damaged("it is cut short".into()))?;
        self.update(buf);
        Ok(())
    }

    fn u32(&mut self) -> Result<u32, BackupError> {
        let mut b = [0u8; 4];
        self.take(&mut b)?;
        Ok(u32::from_be_bytes(b))
    }

    fn u64(&mut self) -> Result<u64, BackupError> {
        let mut b = [0u8; 8];
        self.take(&mut b)?;
        Ok(u64::from_be_bytes(b))
    }

    fn field(&mut self) -> Result<Vec<u8>, BackupError> {
        let len = self.u32()?;
        if len > MAX_FIELD {
            return Err(BackupError::Damaged(format!("a record of {len} bytes")));
        }
        let mut buf = vec![0u8; len as usize];
        self.take(&mut buf)?;
        Ok(buf)
    }
}

#[cfg(test)]
#[path = "backup_tests.rs"]
mod tests;
