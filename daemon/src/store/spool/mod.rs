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
#[cfg(test)]
mod tests;

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
    /// Tests: the disk fails writes past this offset of a segment, or every `fdatasync`.
    #[cfg(test)]
    fail: segment::Fail,
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
            #[cfg(test)]
            fail: segment::Fail::default(),
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
            let index = Self::index_path_of(&self.dir, next);
            // A new file: its directory entry must be durable too. A file that could not be
            // made so is removed again (past every segment on disk, so it is ours): while the
            // disk fails, attempts must not leave a file each.
            let seg = Segment::create(&path, &index).and_then(|seg| {
                File::open(&self.dir).and_then(|d| d.sync_all())?;
                Ok(seg)
            });
            let seg = match seg {
                Ok(seg) => seg,
                Err(e) => {
                    Self::remove_unused(&path, &index);
                    return Err(io(&path)(e));
                }
            };
            if let Some((_, old)) = self.current.take() {
                old.close();
            }
            self.current = Some((next, seg));
        }
        let (n, seg) = self.current.as_mut().expect("opened above");
        Ok((*n, seg))
    }

    /// Remove a segment no batch was ever durable in, and its index (logged when it stays).
    fn remove_unused(path: &Path, index: &Path) {
        for file in [index, path] {
            match std::fs::remove_file(file) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    tracing::warn!(path = %file.display(), error = %e, "webhook spool: an unused segment file could not be removed");
                }
                _ => {}
            }
        }
    }

    /// A batch failed (a full disk, an I/O error) after its segment was chosen: what it left
    /// there is unknown (after a failed `fdatasync` the kernel may have dropped its pages), so
    /// it is cut off and the next batch is written where it began; a segment that held no
    /// earlier batch is removed instead. Either way a failing disk costs no new file per
    /// attempt, and nothing is ever appended after a hole the scan would stop at.
    fn undo_failed_batch(&mut self, batch_start: u64) {
        let Some((number, segment)) = self.current.as_mut() else {
            return;
        };
        let number = *number;
        if batch_start > 0 {
            match segment.truncate(batch_start) {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(segment = number, error = %e, "webhook spool: a failed batch could not be cut off; later batches go to a new segment");
                }
            }
        }
        if let Some((_, segment)) = self.current.take() {
            segment.close();
        }
        if batch_start == 0 {
            Self::remove_unused(
                &Self::path_of(&self.dir, number),
                &Self::index_path_of(&self.dir, number),
            );
        }
    }

    /// Append deliveries and make them durable: one batch of whole pages, one `fdatasync`.
    /// A batch that fails leaves nothing behind (see `undo_failed_batch`).
    pub fn append(&mut self, frames: &[(FrameMeta, &[u8])]) -> Result<Vec<BodyRef>, SpoolError> {
        let dir = self.dir.clone();
        let mut buf = std::mem::take(&mut self.buf);
        let result = self.append_with(&dir, &mut buf, frames);
        self.buf = buf;
        result
    }

    fn append_with(
        &mut self,
        dir: &Path,
        buf: &mut AlignedBuf,
        frames: &[(FrameMeta, &[u8])],
    ) -> Result<Vec<BodyRef>, SpoolError> {
        #[cfg(test)]
        let fail = self.fail;
        let (number, segment) = self.current()?;
        #[cfg(test)]
        {
            segment.fail = fail;
        }
        let path = Self::path_of(dir, number);
        let batch_start = segment.len;
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
        if let Err(e) = segment.append(buf, &pieces).and_then(|()| segment.sync()) {
            self.undo_failed_batch(batch_start);
            return Err(io(&path)(e));
        }
        let (_, segment) = self.current.as_mut().expect("the batch's segment");
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
