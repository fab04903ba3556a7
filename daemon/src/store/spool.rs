//! Webhook bodies on disk, outside sled: append-only segment files in `<store>/inbox/`, each body
//! found again by its segment, offset, length and CRC (kept in the inbox record in sled).
//!
//! Why not in sled: a 21 KB body makes its tree leaf a sled blob, a file written and fsynced of
//! its own on every change, and that cost most of the receiver's time. Here a whole batch of
//! bodies is one sequential write and one `fdatasync`, before their records go into sled, so a
//! record never points at bytes that are not durable (a crash in between leaves only unreferenced
//! bytes at a segment's tail). Segments that no waiting delivery refers to are deleted.

use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// A segment takes new bodies until it is this long.
const SEGMENT_MAX: u64 = 64 * 1024 * 1024;

/// Where a body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BodyRef {
    pub segment: u64,
    pub offset: u64,
    pub len: u64,
    pub crc: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("webhook body spool {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("webhook body in {path} at {offset} is damaged (checksum mismatch)")]
    Damaged { path: PathBuf, offset: u64 },
}

pub struct Spool {
    dir: PathBuf,
    /// The segment being appended to, its file and length.
    current: Option<(u64, File, u64)>,
    /// The lowest number a new segment may take (above any deleted one).
    floor: u64,
}

impl std::fmt::Debug for Spool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spool").field("dir", &self.dir).finish()
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SpoolError + '_ {
    move |source| SpoolError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Spool {
    /// Open (creating) the spool directory; appends continue in its newest segment.
    pub fn open(dir: &Path) -> Result<Spool, SpoolError> {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io(dir))?;
        Ok(Spool {
            dir: dir.to_path_buf(),
            current: None,
            floor: 0,
        })
    }

    fn path_of(dir: &Path, segment: u64) -> PathBuf {
        dir.join(format!("{segment:016x}.bodies"))
    }

    /// Segment numbers present on disk, ascending.
    pub fn segments(&self) -> Result<Vec<u64>, SpoolError> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(io(&self.dir))? {
            let entry = entry.map_err(io(&self.dir))?;
            let name = entry.file_name();
            let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(".bodies")) else {
                continue;
            };
            if let Ok(n) = u64::from_str_radix(stem, 16) {
                found.push(n);
            }
        }
        found.sort_unstable();
        Ok(found)
    }

    /// The segment to append to, opened on first use (the newest one on disk, or a new one).
    fn current(&mut self) -> Result<&mut (u64, File, u64), SpoolError> {
        let full = self
            .current
            .as_ref()
            .is_some_and(|(_, _, len)| *len >= SEGMENT_MAX);
        if self.current.is_none() || full {
            let next = match &self.current {
                Some((n, _, _)) => n + 1,
                None => self
                    .segments()?
                    .last()
                    .copied()
                    .unwrap_or(0)
                    .max(self.floor),
            };
            let path = Self::path_of(&self.dir, next);
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .read(true)
                .mode(0o600)
                .open(&path)
                .map_err(io(&path))?;
            let len = file.metadata().map_err(io(&path))?.len();
            if len == 0 {
                // A new file: its directory entry must be durable too.
                File::open(&self.dir)
                    .and_then(|d| d.sync_all())
                    .map_err(io(&self.dir))?;
            }
            self.current = Some((next, file, len));
        }
        Ok(self.current.as_mut().expect("opened above"))
    }

    /// Append bodies and make them durable (one write each, one `fdatasync` for all).
    pub fn append(&mut self, bodies: &[&[u8]]) -> Result<Vec<BodyRef>, SpoolError> {
        let dir = self.dir.clone();
        let (segment, file, len) = self.current()?;
        let path = Self::path_of(&dir, *segment);
        let mut refs = Vec::with_capacity(bodies.len());
        for body in bodies {
            file.write_all(body).map_err(io(&path))?;
            refs.push(BodyRef {
                segment: *segment,
                offset: *len,
                len: body.len() as u64,
                crc: crc32fast::hash(body),
            });
            *len += body.len() as u64;
        }
        file.sync_data().map_err(io(&path))?;
        Ok(refs)
    }

    /// Read a body back (any thread: segments are only ever appended to or deleted whole).
    pub fn read(dir: &Path, at: &BodyRef) -> Result<Vec<u8>, SpoolError> {
        let path = Self::path_of(dir, at.segment);
        let file = File::open(&path).map_err(io(&path))?;
        let mut body = vec![0u8; at.len as usize];
        file.read_exact_at(&mut body, at.offset)
            .map_err(io(&path))?;
        if crc32fast::hash(&body) != at.crc {
            return Err(SpoolError::Damaged {
                path,
                offset: at.offset,
            });
        }
        Ok(body)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Delete every segment below `keep_from` (none of them is referenced any more). With
    /// `None` (nothing waits), every segment goes and the next append starts a new one.
    pub fn release(&mut self, keep_from: Option<u64>) -> Result<usize, SpoolError> {
        let current = self.current.as_ref().map(|(n, _, len)| (*n, *len));
        let mut removed = 0;
        for segment in self.segments()? {
            let keep = match keep_from {
                Some(first) => segment >= first || Some(segment) == current.map(|c| c.0),
                // Nothing refers to any segment: all go, except an empty current one.
                None => current == Some((segment, 0)),
            };
            if keep {
                continue;
            }
            if Some(segment) == current.map(|c| c.0) {
                // The next append starts a new segment.
                self.current = None;
            }
            self.floor = self.floor.max(segment + 1);
            let path = Self::path_of(&self.dir, segment);
            std::fs::remove_file(&path).map_err(io(&path))?;
            removed += 1;
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_read_back_across_segments_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path()).unwrap();
        let refs = spool.append(&[b"first", b"", b"third body"]).unwrap();
        assert_eq!(refs[0].offset, 0);
        assert_eq!(refs[2].offset, 5);
        assert_eq!(Spool::read(dir.path(), &refs[2]).unwrap(), b"third body");
        assert_eq!(Spool::read(dir.path(), &refs[1]).unwrap(), b"");
        drop(spool);
        // Reopened: appends continue after what is there.
        let mut spool = Spool::open(dir.path()).unwrap();
        let more = spool.append(&[b"fourth"]).unwrap();
        assert_eq!((more[0].segment, more[0].offset), (0, 15));
        assert_eq!(Spool::read(dir.path(), &refs[0]).unwrap(), b"first");
    }

    #[test]
    fn a_damaged_body_is_reported_not_returned() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path()).unwrap();
        let r = spool.append(&[b"payload"]).unwrap()[0];
        let path = Spool::path_of(dir.path(), r.segment);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[2] ^= 0xff;
        std::fs::write(&path, bytes).unwrap();
        assert!(matches!(
            Spool::read(dir.path(), &r),
            Err(SpoolError::Damaged { .. })
        ));
        let missing = BodyRef { segment: 9, ..r };
        assert!(matches!(
            Spool::read(dir.path(), &missing),
            Err(SpoolError::Io { .. })
        ));
    }

    #[test]
    fn release_deletes_only_unreferenced_segments() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path()).unwrap();
        let a = spool.append(&[b"a"]).unwrap()[0];
        // Force later segments.
        spool.current.as_mut().unwrap().2 = SEGMENT_MAX;
        let b = spool.append(&[b"b"]).unwrap()[0];
        spool.current.as_mut().unwrap().2 = SEGMENT_MAX;
        let c = spool.append(&[b"c"]).unwrap()[0];
        assert_eq!(spool.segments().unwrap(), vec![0, 1, 2]);
        // Only b and c still wait.
        assert_eq!(spool.release(Some(b.segment)).unwrap(), 1);
        assert_eq!(spool.segments().unwrap(), vec![1, 2]);
        assert!(Spool::read(dir.path(), &a).is_err());
        assert_eq!(Spool::read(dir.path(), &c).unwrap(), b"c");
        // Nothing waits: everything goes; appends go on in a fresh segment.
        assert_eq!(spool.release(None).unwrap(), 2);
        assert_eq!(spool.segments().unwrap(), Vec::<u64>::new());
        let d = spool.append(&[b"d"]).unwrap()[0];
        assert_eq!((d.segment, d.offset), (3, 0));
        assert_eq!(spool.segments().unwrap(), vec![3]);
        assert_eq!(spool.release(Some(d.segment)).unwrap(), 0);
    }
}
