//! The backup file: a self-checking stream of every store record.
//!
//! ```text
//! "TIDEMARK-BACKUP\n" | format u32 | schema u32 | created_at i64 | next_id u64 | count u64
//! count × (key_len u32 | key | value_len u32 | value)
//! SHA-256 of everything above (32 bytes)
//! ```
//! All integers big-endian. Records are copied as stored (secrets stay Fernet-encrypted; the
//! key is not in the backup).

use crate::store::{CURRENT_SCHEMA, Snapshot};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};

const MAGIC: &[u8; 16] = b"TIDEMARK-BACKUP\n";
const FORMAT: u32 = 1;
/// Largest key or value accepted when reading (a guard against a corrupt length).
const MAX_FIELD: u32 = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("not a tidemark backup (it does not start with TIDEMARK-BACKUP)")]
    NotABackup,
    #[error("backup format {0} is not one this tidemarkd reads (it reads {FORMAT})")]
    Format(u32),
    #[error(
        "the backup holds schema version {found}, newer than this tidemarkd understands \
         ({CURRENT_SCHEMA}); restore it with the newer tidemarkd that wrote it"
    )]
    TooNew { found: u32 },
    #[error("the backup is damaged: {0}")]
    Damaged(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// What a backup says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub schema: u32,
    pub created_at: i64,
    pub records: u64,
}

/// Write `snapshot` as a backup.
pub fn write(snapshot: &Snapshot, out: impl Write) -> Result<Header, BackupError> {
    let mut out = Hashing::new(out);
    let header = Header {
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
    let digest = out.hash.finalize();
    out.inner.write_all(&digest)?;
    out.inner.flush()?;
    Ok(header)
}

/// Read and verify a whole backup (magic, format, schema, every length, the checksum, and
/// nothing after it).
pub fn read(input: impl Read) -> Result<(Header, Snapshot), BackupError> {
    let mut input = Hashing::new(input);
    let mut magic = [0u8; 16];
    input
        .take(&mut magic)
        .map_err(|_| BackupError::NotABackup)?;
    if &magic != MAGIC {
        return Err(BackupError::NotABackup);
    }
    let format = input.u32()?;
    if format != FORMAT {
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
        .inner
        .read_exact(&mut stored)
        .map_err(|_| BackupError::Damaged("it is cut short (no checksum)".into()))?;
    if stored[..] != expected[..] {
        return Err(BackupError::Damaged("its checksum does not match".into()));
    }
    let mut rest = [0u8; 1];
    if input.inner.read(&mut rest)? != 0 {
        return Err(BackupError::Damaged(
            "it has bytes after its checksum".into(),
        ));
    }
    let header = Header {
        schema,
        created_at,
        records,
    };
    Ok((header, Snapshot { entries, next_id }))
}

/// A reader or writer that hashes what passes through.
struct Hashing<T> {
    inner: T,
    hash: Sha256,
}

impl<T> Hashing<T> {
    fn new(inner: T) -> Self {
        Hashing {
            inner,
            hash: Sha256::new(),
        }
    }
}

impl<W: Write> Hashing<W> {
    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.hash.update(bytes);
        self.inner.write_all(bytes)
    }
}

impl<R: Read> Hashing<R> {
    fn take(&mut self, buf: &mut [u8]) -> Result<(), BackupError> {
        self.inner
            .read_exact(buf)
            .map_err(|_| BackupError::Damaged("it is cut short".into()))?;
        self.hash.update(&*buf);
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
mod tests {
    use super::*;

    fn sample() -> Snapshot {
        Snapshot {
            entries: vec![(b"k1".to_vec(), b"v1".to_vec()), (b"k2".to_vec(), vec![])],
            next_id: 42,
        }
    }

    #[test]
    fn round_trip() {
        let mut bytes = Vec::new();
        write(&sample(), &mut bytes).unwrap();
        let (header, snap) = read(&bytes[..]).unwrap();
        assert_eq!(header.records, 2);
        assert_eq!(snap.entries, sample().entries);
        assert_eq!(snap.next_id, 42);
    }

    #[test]
    fn any_damage_is_refused() {
        let mut bytes = Vec::new();
        write(&sample(), &mut bytes).unwrap();
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x01;
            assert!(
                read(&bad[..]).is_err(),
                "a flipped bit at {i} went unnoticed"
            );
        }
        for len in 0..bytes.len() {
            assert!(read(&bytes[..len]).is_err(), "cut at {len} went unnoticed");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(read(&longer[..]).is_err());
    }
}
