//! The webhook inbox's write-ahead log: append-only segment files in `<store>/inbox/`, one frame
//! per delivery (its inbox record's fields and its body), each body found again by its segment,
//! offset, length and CRC (kept in the inbox record in sled).
//!
//! Why not in sled: a 21 KB body makes its tree leaf a sled blob, a file written and fsynced of
//! its own on every change, and that cost most of the receiver's time. Here a whole batch of
//! deliveries is one sequential write and one `fdatasync`, which is what makes them durable:
//! their sled records follow without a flush of their own (sled flushes in the background), and
//! if a crash loses them, opening the store finds the frames whose delivery id sled does not
//! know and records them again (`Store::recover_inbox`). Segments that no waiting delivery
//! refers to are deleted.
//!
//! Frame: magic `TMW1`, frame length (u32, after this 16-byte header), CRC-32 of the rest, meta
//! length (u32), bincode meta ([`FrameMeta`]), body.

use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// A segment takes new bodies until it is this long.
const SEGMENT_MAX: u64 = 64 * 1024 * 1024;
const MAGIC: &[u8; 4] = b"TMW1";
const HEADER: usize = 16;
/// How much of what was just written stays in the page cache, for the applier (which reads a
/// delivery back about 100 ms after it arrives). The rest is dropped once durable: a spool
/// only ever grows into new pages, and on a VM whose free memory goes back to the host each
/// new page costs a fault there; under webhook-bench, copying bodies into fresh page-cache
/// pages became a third of the daemon's CPU after a few GB. Dropped pages are reused.
const CACHE_WINDOW: u64 = 16 * 1024 * 1024;

/// What a frame says of its delivery besides the body: enough to record it again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameMeta {
    pub team_id: u64,
    pub seq: u64,
    pub guid: String,
    pub event: String,
    pub hook_id: Option<u64>,
    pub repo_id: Option<u64>,
    pub received_at: i64,
}

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
    /// Where the current segment's pages may still be in the page cache (below, dropped).
    cached_from: u64,
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
            cached_from: 0,
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

    /// The segment to append to. The first append after opening starts a new one past every
    /// segment on disk: the newest may end in a frame a crash cut short, and a frame appended
    /// after it would be out of reach of the scan (which ends a segment at a damaged frame).
    fn current(&mut self) -> Result<&mut (u64, File, u64), SpoolError> {
        let full = self
            .current
            .as_ref()
            .is_some_and(|(_, _, len)| *len >= SEGMENT_MAX);
        if self.current.is_none() || full {
            let next = match &self.current {
                Some((n, _, _)) => n + 1,
                None => self.segments()?.last().map_or(0, |n| n + 1).max(self.floor),
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
            if let Some((_, old, _)) = &self.current {
                drop_cached(old, 0, 0);
            }
            self.current = Some((next, file, len));
            self.cached_from = 0;
        }
        Ok(self.current.as_mut().expect("opened above"))
    }

    /// Append deliveries and make them durable (one `fdatasync` for all). The bodies are
    /// written from where they are (vectored writes), not copied into a buffer first.
    pub fn append(&mut self, frames: &[(FrameMeta, &[u8])]) -> Result<Vec<BodyRef>, SpoolError> {
        let dir = self.dir.clone();
        let (segment, file, len) = self.current()?;
        let path = Self::path_of(&dir, *segment);
        // Each frame's header and meta, one after another in `heads`.
        let mut heads = Vec::with_capacity(frames.len() * 160);
        let mut head_ends = Vec::with_capacity(frames.len());
        let mut refs = Vec::with_capacity(frames.len());
        let mut at = *len;
        for (meta, body) in frames {
            let start = heads.len();
            heads.extend_from_slice(MAGIC);
            heads.extend_from_slice(&[0; 12]);
            bincode::serialize_into(&mut heads, meta).expect("frame meta serialises to memory");
            let meta_len = heads.len() - start - HEADER;
            heads[start + 12..start + 16].copy_from_slice(&(meta_len as u32).to_le_bytes());
            // The frame's CRC covers meta length, meta and body; the body's own CRC (kept in
            // its BodyRef) is computed once and combined in.
            let body_crc = crc32fast::hash(body);
            let mut crc = crc32fast::Hasher::new();
            crc.update(&heads[start + 12..]);
            crc.combine(&crc32fast::Hasher::new_with_initial_len(
                body_crc,
                body.len() as u64,
            ));
            let after_header = 4 + meta_len + body.len();
            heads[start + 4..start + 8].copy_from_slice(&((after_header - 4) as u32).to_le_bytes());
            heads[start + 8..start + 12].copy_from_slice(&crc.finalize().to_le_bytes());
            head_ends.push(heads.len());
            let body_at = at + (heads.len() - start) as u64;
            refs.push(BodyRef {
                segment: *segment,
                offset: body_at,
                len: body.len() as u64,
                crc: body_crc,
            });
            at = body_at + body.len() as u64;
        }
        let mut slices = Vec::with_capacity(2 * frames.len());
        let mut start = 0;
        for ((_, body), end) in frames.iter().zip(head_ends) {
            slices.push(std::io::IoSlice::new(&heads[start..end]));
            slices.push(std::io::IoSlice::new(body));
            start = end;
        }
        write_all_vectored(file, &mut slices).map_err(io(&path))?;
        *len = at;
        file.sync_data().map_err(io(&path))?;
        // Written and durable: all but the last CACHE_WINDOW of it leaves the page cache.
        let cached_from = self.cached_from;
        if at > cached_from + 2 * CACHE_WINDOW {
            let upto = (at - CACHE_WINDOW) & !4095;
            let (_, file, _) = self.current.as_ref().expect("appended to above");
            drop_cached(file, cached_from, upto - cached_from);
            self.cached_from = upto;
        }
        Ok(refs)
    }

    /// Every whole frame on disk, oldest first: its meta and where its body is. A frame cut
    /// short or damaged ends its segment's scan (it was never acknowledged: the bytes after the
    /// last `fdatasync` are the only ones a crash can spoil).
    pub fn frames(&self) -> Result<Vec<(FrameMeta, BodyRef)>, SpoolError> {
        self.frames_where(|_| true)
    }

    /// The whole frames whose meta `wanted` accepts. Only their bodies are read and checked:
    /// for the rest only headers and metas are read, so scanning a large backlog at start-up
    /// costs little. (A damaged frame that is not wanted is skipped by its length.)
    pub fn frames_where(
        &self,
        mut wanted: impl FnMut(&FrameMeta) -> bool,
    ) -> Result<Vec<(FrameMeta, BodyRef)>, SpoolError> {
        let mut found = Vec::new();
        for segment in self.segments()? {
            let path = Self::path_of(&self.dir, segment);
            let file = File::open(&path).map_err(io(&path))?;
            let len = file.metadata().map_err(io(&path))?.len();
            let mut at = 0u64;
            while let Some(frame) = read_frame(&file, at, len, &mut wanted) {
                if let Some((meta, crc)) = frame.meta {
                    found.push((
                        meta,
                        BodyRef {
                            segment,
                            offset: frame.body_at,
                            len: frame.body_len,
                            crc,
                        },
                    ));
                }
                at = frame.end;
            }
            if at < len {
                tracing::warn!(path = %path.display(), offset = at, "webhook spool: an unfinished frame at the end (never acknowledged); ignored");
            }
        }
        Ok(found)
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

/// Ask the kernel to drop a clean range of `file` from the page cache (`len` 0: to the end).
/// Advice only: failure changes nothing but memory use.
fn drop_cached(file: &File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    // SAFETY: posix_fadvise reads no memory of ours; the fd is open for the call.
    unsafe {
        libc::posix_fadvise(
            file.as_raw_fd(),
            offset as libc::off_t,
            len as libc::off_t,
            libc::POSIX_FADV_DONTNEED,
        );
    }
}

/// `write_all` for slices: `writev` until every byte is written (at most `IOV_MAX` slices a
/// call).
fn write_all_vectored(
    file: &mut File,
    mut slices: &mut [std::io::IoSlice<'_>],
) -> std::io::Result<()> {
    const IOV_MAX: usize = 1024;
    std::io::IoSlice::advance_slices(&mut slices, 0);
    while !slices.is_empty() {
        let upto = slices.len().min(IOV_MAX);
        match file.write_vectored(&slices[..upto]) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => std::io::IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A frame found by `read_frame`.
struct Found {
    /// The meta, if wanted, with its body's CRC (read and checked).
    meta: Option<(FrameMeta, u32)>,
    body_at: u64,
    body_len: u64,
    end: u64,
}

/// The frame at `at` in `file` (of `len` bytes), or None if there is no whole, intact frame
/// there.
fn read_frame(
    file: &File,
    at: u64,
    len: u64,
    wanted: &mut impl FnMut(&FrameMeta) -> bool,
) -> Option<Found> {
    let mut header = [0u8; HEADER];
    if at + HEADER as u64 > len || file.read_exact_at(&mut header, at).is_err() {
        return None;
    }
    if &header[..4] != MAGIC {
        return None;
    }
    let word = |i: usize| u32::from_le_bytes(header[i..i + 4].try_into().expect("4 bytes"));
    let after_header = u64::from(word(4));
    let end = at + HEADER as u64 + after_header;
    let meta_len = u64::from(word(12));
    if end > len || meta_len > after_header {
        return None;
    }
    let mut meta_bytes = vec![0u8; meta_len as usize];
    file.read_exact_at(&mut meta_bytes, at + HEADER as u64)
        .ok()?;
    let meta: FrameMeta = bincode::deserialize(&meta_bytes).ok()?;
    let body_at = at + HEADER as u64 + meta_len;
    let body_len = end - body_at;
    if !wanted(&meta) {
        return Some(Found {
            meta: None,
            body_at,
            body_len,
            end,
        });
    }
    let mut body = vec![0u8; body_len as usize];
    file.read_exact_at(&mut body, body_at).ok()?;
    let mut crc = crc32fast::Hasher::new();
    crc.update(&header[12..16]);
    crc.update(&meta_bytes);
    crc.update(&body);
    if crc.finalize() != word(8) {
        return None;
    }
    Some(Found {
        meta: Some((meta, crc32fast::hash(&body))),
        body_at,
        body_len,
        end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(seq: u64) -> FrameMeta {
        FrameMeta {
            team_id: 3,
            seq,
            guid: format!("guid-{seq}"),
            event: "pull_request".into(),
            hook_id: Some(9),
            repo_id: None,
            received_at: 1_700_000_000,
        }
    }

    fn append(spool: &mut Spool, bodies: &[&[u8]]) -> Vec<BodyRef> {
        let frames: Vec<(FrameMeta, &[u8])> = bodies
            .iter()
            .enumerate()
            .map(|(i, b)| (meta(i as u64), *b))
            .collect();
        spool.append(&frames).unwrap()
    }

    #[test]
    fn bodies_read_back_across_segments_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path()).unwrap();
        let refs = append(&mut spool, &[b"first", b"", b"third body"]);
        assert!(refs[1].offset > refs[0].offset + 5);
        assert_eq!(Spool::read(dir.path(), &refs[2]).unwrap(), b"third body");
        assert_eq!(Spool::read(dir.path(), &refs[1]).unwrap(), b"");
        drop(spool);
        // Reopened: appends go to a new segment (the old one may end in a torn frame).
        let mut spool = Spool::open(dir.path()).unwrap();
        let more = append(&mut spool, &[b"fourth"]);
        assert_eq!(more[0].segment, 1);
        assert_eq!(spool.frames().unwrap().len(), 4);
        assert_eq!(Spool::read(dir.path(), &refs[0]).unwrap(), b"first");
        assert_eq!(Spool::read(dir.path(), &more[0]).unwrap(), b"fourth");
    }

    #[test]
    fn frames_are_found_again_and_a_cut_or_damaged_tail_ends_the_scan() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path()).unwrap();
        let refs = append(&mut spool, &[b"one", b"two", b"three"]);
        let found = spool.frames().unwrap();
        assert_eq!(found.len(), 3);
        for (i, (m, at)) in found.iter().enumerate() {
            assert_eq!((m, at), (&meta(i as u64), &refs[i]));
        }
        let path = Spool::path_of(dir.path(), 0);
        let whole = std::fs::read(&path).unwrap();
        // Every cut inside the last frame leaves the first two.
        let last_start = (refs[1].offset + 3) as usize;
        for cut in last_start + 1..whole.len() {
            std::fs::write(&path, &whole[..cut]).unwrap();
            assert_eq!(spool.frames().unwrap().len(), 2, "cut at {cut}");
        }
        // A flipped byte in the second frame's body ends the scan after the first.
        let mut damaged = whole.clone();
        damaged[refs[1].offset as usize] ^= 1;
        std::fs::write(&path, &damaged).unwrap();
        assert_eq!(spool.frames().unwrap().len(), 1);
        // Frames not asked for are skipped by their length, bodies unread and unchecked.
        let seqs: Vec<u64> = spool
            .frames_where(|m| m.seq != 1)
            .unwrap()
            .into_iter()
            .map(|(m, _)| m.seq)
            .collect();
        assert_eq!(seqs, [0, 2]);
    }

    #[test]
    fn a_damaged_body_is_reported_not_returned() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path()).unwrap();
        let r = append(&mut spool, &[b"payload"])[0];
        let path = Spool::path_of(dir.path(), r.segment);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[r.offset as usize + 2] ^= 0xff;
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
        let a = append(&mut spool, &[b"a"])[0];
        // Force later segments.
        spool.current.as_mut().unwrap().2 = SEGMENT_MAX;
        let b = append(&mut spool, &[b"b"])[0];
        spool.current.as_mut().unwrap().2 = SEGMENT_MAX;
        let c = append(&mut spool, &[b"c"])[0];
        assert_eq!(spool.segments().unwrap(), vec![0, 1, 2]);
        // Only b and c still wait.
        assert_eq!(spool.release(Some(b.segment)).unwrap(), 1);
        assert_eq!(spool.segments().unwrap(), vec![1, 2]);
        assert!(Spool::read(dir.path(), &a).is_err());
        assert_eq!(Spool::read(dir.path(), &c).unwrap(), b"c");
        // Nothing waits: everything goes; appends go on in a fresh segment.
        assert_eq!(spool.release(None).unwrap(), 2);
        assert_eq!(spool.segments().unwrap(), Vec::<u64>::new());
        let d = append(&mut spool, &[b"d"])[0];
        assert_eq!(d.segment, 3);
        assert_eq!(spool.segments().unwrap(), vec![3]);
        assert_eq!(spool.release(Some(d.segment)).unwrap(), 0);
    }
}
