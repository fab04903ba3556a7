//! The webhook inbox: append-only segment files in `<store>/inbox/`, one frame per delivery (its
//! fields and its body; the format is in `frame.rs`), each body found again by its segment,
//! offset, length and CRC. Which deliveries wait is kept in memory (`store/waiting.rs`) and
//! rebuilt from here when the store opens.
//!
//! Why not in sled: a 21 KB body makes its tree leaf a sled blob, a file written and fsynced of
//! its own on every change, and recording each delivery in sled besides cost a third of the
//! receiver's CPU. Here a whole batch of deliveries is one write of whole pages and one
//! `fdatasync` (`segment.rs`), which is what makes them durable. Segments that no waiting
//! delivery is in are deleted.

#[cfg(test)]
mod crash_tests;
mod frame;
mod index;
mod segment;

use frame::Found;
pub use frame::FrameMeta;
use segment::{AlignedBuf, Segment};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// A segment takes new batches until it is this long.
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
    /// The segment being appended to, and its number.
    current: Option<(u64, Segment)>,
    /// The lowest number a new segment may take (above any deleted one).
    floor: u64,
    /// Where batches are gathered for writing (page-aligned, reused).
    buf: AlignedBuf,
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
    /// Open (creating) the spool directory.
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
            buf: AlignedBuf::default(),
        })
    }

    fn path_of(dir: &Path, segment: u64) -> PathBuf {
        dir.join(format!("{segment:016x}.bodies"))
    }

    fn index_path_of(dir: &Path, segment: u64) -> PathBuf {
        dir.join(format!("{segment:016x}.index"))
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
    fn current(&mut self) -> Result<(u64, &mut Segment), SpoolError> {
        let full = self
            .current
            .as_ref()
            .is_some_and(|(_, seg)| seg.len >= SEGMENT_MAX);
        if self.current.is_none() || full {
            let next = match &self.current {
                Some((n, _)) => n + 1,
                None => self.segments()?.last().map_or(0, |n| n + 1).max(self.floor),
            };
            let path = Self::path_of(&self.dir, next);
            let seg =
                Segment::create(&path, &Self::index_path_of(&self.dir, next)).map_err(io(&path))?;
            // A new file: its directory entry must be durable too.
            File::open(&self.dir)
                .and_then(|d| d.sync_all())
                .map_err(io(&self.dir))?;
            if let Some((_, old)) = self.current.take() {
                old.close();
            }
            self.current = Some((next, seg));
        }
        let (n, seg) = self.current.as_mut().expect("opened above");
        Ok((*n, seg))
    }

    /// Append deliveries and make them durable: one batch of whole pages, one `fdatasync`.
    pub fn append(&mut self, frames: &[(FrameMeta, &[u8])]) -> Result<Vec<BodyRef>, SpoolError> {
        let dir = self.dir.clone();
        let mut buf = std::mem::take(&mut self.buf);
        let result = self.append_with(&dir, &mut buf, frames);
        self.buf = buf;
        if result.is_err() {
            // What a failed write or fdatasync left in the segment is unknown (after a failed
            // fsync the kernel may have dropped the pages): later batches go to a new segment,
            // never after a hole the scan would stop at.
            if let Some((_, segment)) = self.current.take() {
                segment.close();
            }
        }
        result
    }

    fn append_with(
        &mut self,
        dir: &Path,
        buf: &mut AlignedBuf,
        frames: &[(FrameMeta, &[u8])],
    ) -> Result<Vec<BodyRef>, SpoolError> {
        let (number, segment) = self.current()?;
        let path = Self::path_of(dir, number);
        let batch_start = segment.len;
        // Each frame's header and meta, one after another in `heads`, then the pad.
        let mut heads = Vec::with_capacity(frames.len() * 160 + frame::PAGE as usize);
        let mut head_ends = Vec::with_capacity(frames.len());
        let mut refs = Vec::with_capacity(frames.len());
        let mut at = batch_start;
        for (meta, body) in frames {
            let start = heads.len();
            let crc = frame::encode_head(meta, body, batch_start, &mut heads);
            head_ends.push(heads.len());
            let body_at = at + (heads.len() - start) as u64;
            refs.push(BodyRef {
                segment: number,
                offset: body_at,
                len: body.len() as u64,
                crc,
            });
            at = body_at + body.len() as u64;
        }
        let pad_from = heads.len();
        frame::pad(at, &mut heads);
        let mut pieces: Vec<&[u8]> = Vec::with_capacity(2 * frames.len() + 1);
        let mut start = 0;
        for ((_, body), end) in frames.iter().zip(head_ends) {
            pieces.push(&heads[start..end]);
            pieces.push(body);
            start = end;
        }
        pieces.push(&heads[pad_from..]);
        segment.append(buf, &pieces).map_err(io(&path))?;
        segment.sync().map_err(io(&path))?;
        // Durable: now their index entries (each frame's head is every other piece).
        let mut entries = Vec::with_capacity(heads.len() + 12 * frames.len());
        for (head, r) in pieces.iter().step_by(2).zip(&refs) {
            index::entry(r.offset - head.len() as u64, head, &mut entries);
        }
        segment.append_index(&entries);
        Ok(refs)
    }

    /// Every whole frame on disk, oldest first: its meta and where its body is.
    pub fn frames(&self) -> Result<Vec<(FrameMeta, BodyRef)>, SpoolError> {
        self.frames_where(|_| true)
    }

    /// The whole frames whose meta `wanted` accepts, oldest first. Headers and metas are read
    /// (and checked); bodies only of the frames in each segment's last batch, the only one a
    /// crash can have cut short (a batch is written only once the one before it is durable).
    /// A frame cut short or damaged ends its segment.
    pub fn frames_where(
        &self,
        mut wanted: impl FnMut(&FrameMeta) -> bool,
    ) -> Result<Vec<(FrameMeta, BodyRef)>, SpoolError> {
        let mut found = Vec::new();
        for segment in self.segments()? {
            let path = Self::path_of(&self.dir, segment);
            let file = File::open(&path).map_err(io(&path))?;
            let len = file.metadata().map_err(io(&path))?.len();
            let mut window = frame::Window::new(&file, len);
            let mut in_segment: Vec<(frame::Frame, FrameMeta)> = Vec::new();
            // What the index names was durable before it was written; the rest is read from
            // the segment, from where the last indexed frame ends.
            let indexed = index::read(&Self::index_path_of(&self.dir, segment), len, &mut wanted);
            let mut at = indexed.last().map_or(0, |f| f.end);
            for mut f in indexed {
                if let Some(meta) = f.meta.take() {
                    in_segment.push((f, meta));
                }
            }
            let checked = in_segment.len();
            let mut last_batch = None;
            while let Some(f) = frame::read(&mut window, at, len, &mut wanted) {
                match f {
                    Found::Pad { end } => at = end,
                    Found::Frame(mut f) => {
                        at = f.end;
                        last_batch = f.batch_start.or(last_batch);
                        if let Some(meta) = f.meta.take() {
                            in_segment.push((f, meta));
                        }
                    }
                }
            }
            if at < len {
                tracing::warn!(path = %path.display(), offset = at, "webhook spool: an unfinished frame at the end (never acknowledged); ignored");
            }
            if let Some(last) = last_batch
                && let Some(bad) = in_segment.iter().skip(checked).position(|(f, _)| {
                    f.batch_start == Some(last) && !frame::body_intact(&mut window, f)
                })
            {
                let bad = checked + bad;
                tracing::warn!(path = %path.display(), offset = in_segment[bad].0.body_at, "webhook spool: a frame of the last batch is damaged (never acknowledged); it and the rest of its batch ignored");
                in_segment.truncate(bad);
            }
            found.extend(in_segment.into_iter().map(|(f, meta)| {
                (
                    meta,
                    BodyRef {
                        segment,
                        offset: f.body_at,
                        len: f.body_len,
                        crc: f.body_crc,
                    },
                )
            }));
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

    /// Delete every segment below `keep_from` (no waiting delivery is in them). With `None`
    /// (nothing waits), every segment goes and the next append starts a new one.
    pub fn release(&mut self, keep_from: Option<u64>) -> Result<usize, SpoolError> {
        let current = self.current.as_ref().map(|(n, seg)| (*n, seg.len));
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
                if let Some((_, seg)) = self.current.take() {
                    seg.close();
                }
            }
            self.floor = self.floor.max(segment + 1);
            // The index first: a segment without one is read whole, an index without its
            // segment would be a stray file.
            let index = Self::index_path_of(&self.dir, segment);
            match std::fs::remove_file(&index) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(io(&index)(e));
                }
                _ => {}
            }
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

    pub(super) fn meta(seq: u64) -> FrameMeta {
        FrameMeta {
            team_id: 3,
            seq,
            guid: format!("guid-{seq}"),
            event: "pull_request".into(),
            hook_id: Some(9),
            repo_id: None,
            received_at: 1_700_000_000,
            body_sha256: None,
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
        // As if the crash came before the index entries were written (after the fsync).
        std::fs::remove_file(Spool::index_path_of(dir.path(), 0)).unwrap();
        let whole = std::fs::read(&path).unwrap();
        assert_eq!(whole.len() as u64, frame::PAGE, "a batch ends on a page");
        // Every cut inside the last frame leaves the first two; a cut in the padding after it
        // leaves all three.
        let last_start = (refs[1].offset + 3) as usize;
        let last_end = (refs[2].offset + 5) as usize;
        for cut in last_start + 1..whole.len() {
            std::fs::write(&path, &whole[..cut]).unwrap();
            let expect = if cut < last_end { 2 } else { 3 };
            assert_eq!(spool.frames().unwrap().len(), expect, "cut at {cut}");
        }
        // A flipped byte in the second frame's body (the segment's last batch, the one a crash
        // can spoil) ends the scan after the first.
        let mut damaged = whole.clone();
        damaged[refs[1].offset as usize] ^= 1;
        std::fs::write(&path, &damaged).unwrap();
        assert_eq!(spool.frames().unwrap().len(), 1);
        // Frames not asked for are skipped by their length, bodies unread and unchecked.
        std::fs::write(&path, &whole).unwrap();
        let seqs: Vec<u64> = spool
            .frames_where(|m| m.seq != 1)
            .unwrap()
            .into_iter()
            .map(|(m, _)| m.seq)
            .collect();
        assert_eq!(seqs, [0, 2]);
    }

    /// Bodies of earlier batches are not read by the scan (they were durable before the next
    /// batch was written); damage there is found when the body is read.
    #[test]
    fn only_the_last_batch_of_a_segment_is_read_whole_by_the_scan() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path()).unwrap();
        let first = append(&mut spool, &[b"first batch"])[0];
        let second = append(&mut spool, &[b"second batch"])[0];
        assert_eq!(
            second.offset / frame::PAGE,
            1,
            "each batch starts on a page"
        );
        let path = Spool::path_of(dir.path(), 0);
        // As if the crash came before the index entries were written (after the fsync).
        std::fs::remove_file(Spool::index_path_of(dir.path(), 0)).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[first.offset as usize] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(spool.frames().unwrap().len(), 2);
        assert!(matches!(
            Spool::read(dir.path(), &first),
            Err(SpoolError::Damaged { .. })
        ));
        bytes[first.offset as usize] ^= 1;
        bytes[second.offset as usize] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(spool.frames().unwrap().len(), 1);
    }

    /// With its index, a segment is not read at all: what the index names was durable before
    /// the entry was written, so its bodies are checked only when read.
    #[test]
    fn an_indexed_segment_is_not_read_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path()).unwrap();
        let a = append(&mut spool, &[b"first batch"])[0];
        let b = append(&mut spool, &[b"second batch"])[0];
        let path = Spool::path_of(dir.path(), 0);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[b.offset as usize] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let found = spool.frames().unwrap();
        assert_eq!(found.iter().map(|(_, r)| *r).collect::<Vec<_>>(), [a, b]);
        assert!(matches!(
            Spool::read(dir.path(), &b),
            Err(SpoolError::Damaged { .. })
        ));
        // Released segments take their index along.
        assert_eq!(spool.release(None).unwrap(), 1);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    /// Segments written before schema v5 (`TMW1` frames, no padding) are still read.
    #[test]
    fn v1_frames_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = Vec::new();
        for (seq, body) in [(0u64, &b"old one"[..]), (1, b"old two")] {
            let meta = bincode::serialize(&meta(seq)).unwrap();
            let mut crc = crc32fast::Hasher::new();
            crc.update(&(meta.len() as u32).to_le_bytes());
            crc.update(&meta);
            crc.update(body);
            bytes.extend_from_slice(b"TMW1");
            bytes.extend_from_slice(&((meta.len() + body.len()) as u32).to_le_bytes());
            bytes.extend_from_slice(&crc.finalize().to_le_bytes());
            bytes.extend_from_slice(&(meta.len() as u32).to_le_bytes());
            bytes.extend_from_slice(&meta);
            bytes.extend_from_slice(body);
        }
        std::fs::write(Spool::path_of(dir.path(), 0), &bytes).unwrap();
        let mut spool = Spool::open(dir.path()).unwrap();
        let found = spool.frames().unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(Spool::read(dir.path(), &found[1].1).unwrap(), b"old two");
        // New frames go to a segment of their own.
        let new = append(&mut spool, &[b"new"])[0];
        assert_eq!(new.segment, 1);
        assert_eq!(spool.frames().unwrap().len(), 3);
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
        spool.current.as_mut().unwrap().1.len = SEGMENT_MAX;
        let b = append(&mut spool, &[b"b"])[0];
        spool.current.as_mut().unwrap().1.len = SEGMENT_MAX;
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
