//! Writing one segment file: whole pages with `O_DIRECT` where the filesystem takes it, so a
//! delivery's body is copied once (into a page-aligned buffer) and never passes through the page
//! cache; buffered writes otherwise (tmpfs, some network filesystems), with written pages dropped
//! from the cache once durable.
//!
//! Why: under webhook-bench the buffered path (page-cache allocation, ext4's delayed allocation,
//! writeback in `fdatasync`, dropping the pages again) was a quarter of the daemon's CPU.
#![allow(unsafe_code)] // libc calls, each with its SAFETY comment.

use super::frame::PAGE;
use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;

/// Bytes gathered before a write: a batch larger than this goes out in several.
const CHUNK: usize = 4 * 1024 * 1024;
/// Buffered mode: how much of what was just written stays in the page cache (for the applier,
/// which reads a delivery back about 100 ms after it arrives). On a VM whose free memory goes
/// back to the host a fresh page-cache page faults there; reusing dropped ones avoids that.
const CACHE_WINDOW: u64 = 16 * 1024 * 1024;

pub struct Segment {
    file: File,
    /// Its index (`index.rs`), while writing it works.
    index: Option<File>,
    /// Bytes written (always a multiple of `PAGE` between batches).
    pub len: u64,
    direct: bool,
    /// Buffered mode: below this offset the pages were dropped from the cache.
    cached_from: u64,
    /// Tests: how the disk fails.
    #[cfg(test)]
    pub fail: Fail,
}

/// Tests: writes past `past` fail with ENOSPC (the whole pages below it are written first), and
/// with `sync` every `fdatasync` fails with EIO.
#[cfg(test)]
#[derive(Debug, Default, Clone, Copy)]
pub struct Fail {
    pub past: Option<u64>,
    pub sync: bool,
}

impl Segment {
    /// Create (or open, empty) a segment file for appending, and its index at `index`.
    pub fn create(path: &Path, index: &Path) -> std::io::Result<Segment> {
        let mut seg = Self::create_with(path, true)?;
        seg.index = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(index)
            .inspect_err(|e| tracing::warn!(path = %index.display(), error = %e, "webhook spool: no index for this segment (opening the store will read it whole)"))
            .ok();
        Ok(seg)
    }

    /// `direct` false: buffered from the start (what a filesystem without `O_DIRECT` gets).
    fn create_with(path: &Path, try_direct: bool) -> std::io::Result<Segment> {
        let open = |direct: bool| {
            OpenOptions::new()
                .create(true)
                .write(true)
                .read(true)
                .mode(0o600)
                .custom_flags(if direct { libc::O_DIRECT } else { 0 })
                .open(path)
        };
        let (file, direct) = match open(try_direct) {
            Ok(f) => (f, try_direct),
            // The filesystem takes no O_DIRECT.
            Err(e) if refuses_direct(&e) => (open(false)?, false),
            Err(e) => return Err(e),
        };
        let len = file.metadata()?.len();
        Ok(Segment {
            file,
            index: None,
            len,
            direct,
            cached_from: 0,
            #[cfg(test)]
            fail: Fail::default(),
        })
    }

    /// Write `pieces` (which together end on a page boundary) at the end of the segment.
    pub fn append(&mut self, buf: &mut AlignedBuf, pieces: &[&[u8]]) -> std::io::Result<()> {
        let mut at = self.len;
        buf.used = 0;
        for piece in pieces {
            let mut piece = *piece;
            while !piece.is_empty() {
                let used = buf.used;
                let n = piece.len().min(CHUNK - used);
                buf.bytes_mut()[used..used + n].copy_from_slice(&piece[..n]);
                buf.used += n;
                piece = &piece[n..];
                if buf.used == CHUNK {
                    self.write_at(&buf.bytes()[..CHUNK], at)?;
                    at += CHUNK as u64;
                    buf.used = 0;
                }
            }
        }
        let used = buf.used;
        if used > 0 {
            debug_assert_eq!(used as u64 % PAGE, 0, "a batch ends on a page");
            self.write_at(&buf.bytes()[..used], at)?;
            at += used as u64;
        }
        self.len = at;
        Ok(())
    }

    fn write_at(&mut self, bytes: &[u8], at: u64) -> std::io::Result<()> {
        #[cfg(test)]
        if let Some(limit) = self.fail.past
            && at + bytes.len() as u64 > limit
        {
            let fits = limit.saturating_sub(at) as usize & !(PAGE as usize - 1);
            self.file.write_all_at(&bytes[..fits], at)?;
            return Err(std::io::Error::from_raw_os_error(libc::ENOSPC));
        }
        match self.file.write_all_at(bytes, at) {
            Err(e) if self.direct && refuses_direct(&e) => {
                // Opened with O_DIRECT but refused on write: carry on buffered.
                self.set_buffered()?;
                self.file.write_all_at(bytes, at)
            }
            other => other,
        }
    }

    fn set_buffered(&mut self) -> std::io::Result<()> {
        let fd = self.file.as_raw_fd();
        // SAFETY: fcntl on an fd we own; no memory is passed.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
        if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_DIRECT) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        tracing::info!("webhook spool: the filesystem refuses O_DIRECT writes; buffered");
        self.direct = false;
        Ok(())
    }

    /// Make what was written durable (data, and the file's length).
    pub fn sync(&mut self) -> std::io::Result<()> {
        #[cfg(test)]
        if self.fail.sync {
            return Err(std::io::Error::from_raw_os_error(libc::EIO));
        }
        self.file.sync_data()?;
        if !self.direct && self.len > self.cached_from + 2 * CACHE_WINDOW {
            let upto = (self.len - CACHE_WINDOW) & !(PAGE - 1);
            drop_cached(&self.file, self.cached_from, upto - self.cached_from);
            self.cached_from = upto;
        }
        Ok(())
    }

    /// Cut the file back to `len` (where the last durable batch ended) after a failed batch,
    /// and make that length durable: the next batch is written there again, so a failing disk
    /// costs no new segment file per attempt.
    pub fn truncate(&mut self, len: u64) -> std::io::Result<()> {
        self.file.set_len(len)?;
        self.file.sync_data()?;
        self.len = len;
        self.cached_from = self.cached_from.min(len);
        Ok(())
    }

    /// Add index entries (after the frames they name are durable). Not synced; a failure only
    /// ends the index (logged), the frames after it are found by reading the segment.
    pub fn append_index(&mut self, entries: &[u8]) {
        use std::io::Write;
        if let Some(index) = &mut self.index
            && let Err(e) = index.write_all(entries)
        {
            tracing::warn!(error = %e, "webhook spool: index not written; opening the store will read the segment");
            self.index = None;
        }
    }

    /// Done with: buffered pages still cached go.
    pub fn close(self) {
        if !self.direct {
            drop_cached(&self.file, 0, 0);
        }
    }

    #[cfg(test)]
    pub fn is_direct(&self) -> bool {
        self.direct
    }
}

/// How a filesystem says it takes no `O_DIRECT` (at open, or at the first write: an alignment
/// it wants larger than a page). Other errors (a full disk, an I/O error) are errors.
fn refuses_direct(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EINVAL | libc::EOPNOTSUPP))
}

/// Ask the kernel to drop a clean range of `file` from the page cache (`len` 0: to the end).
/// Advice only: failure changes nothing but memory use.
fn drop_cached(file: &File, offset: u64, len: u64) {
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

/// A page-aligned buffer of `CHUNK` bytes (what `O_DIRECT` writes from), allocated on first use.
#[derive(Default)]
pub struct AlignedBuf {
    ptr: Option<std::ptr::NonNull<u8>>,
    used: usize,
}

// SAFETY: the buffer is owned memory with no thread affinity.
unsafe impl Send for AlignedBuf {}

impl AlignedBuf {
    fn layout() -> std::alloc::Layout {
        std::alloc::Layout::from_size_align(CHUNK, PAGE as usize).expect("a valid layout")
    }

    fn ptr(&mut self) -> std::ptr::NonNull<u8> {
        *self.ptr.get_or_insert_with(|| {
            // SAFETY: the layout has a non-zero size.
            let p = unsafe { std::alloc::alloc_zeroed(Self::layout()) };
            std::ptr::NonNull::new(p)
                .unwrap_or_else(|| std::alloc::handle_alloc_error(Self::layout()))
        })
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        let p = self.ptr();
        // SAFETY: `p` points to CHUNK initialised (zeroed) bytes we own exclusively.
        unsafe { std::slice::from_raw_parts_mut(p.as_ptr(), CHUNK) }
    }

    fn bytes(&mut self) -> &[u8] {
        self.bytes_mut()
    }
}

impl Drop for AlignedBuf {
    fn drop(&mut self) {
        if let Some(p) = self.ptr {
            // SAFETY: allocated in `ptr` with this layout.
            unsafe { std::alloc::dealloc(p.as_ptr(), Self::layout()) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_larger_than_a_chunk_are_written_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let mut seg = Segment::create(&path, &dir.path().join("i")).unwrap();
        let mut buf = AlignedBuf::default();
        let big: Vec<u8> = (0..CHUNK + 3 * PAGE as usize - 100)
            .map(|i| (i % 251) as u8)
            .collect();
        let tail = vec![7u8; 100];
        seg.append(&mut buf, &[&big, &tail]).unwrap();
        seg.sync().unwrap();
        seg.append(&mut buf, &[&[1u8; PAGE as usize]]).unwrap();
        seg.sync().unwrap();
        let on_disk = std::fs::read(&path).unwrap();
        assert_eq!(on_disk.len(), big.len() + 100 + PAGE as usize);
        assert_eq!(&on_disk[..big.len()], &big[..]);
        assert_eq!(&on_disk[big.len()..big.len() + 100], &tail[..]);
        assert!(on_disk[big.len() + 100..].iter().all(|&b| b == 1));
        // Where the test runs decides which (ext4: direct; tmpfs may refuse it).
        eprintln!("direct: {}", seg.is_direct());
    }

    /// Buffered (no O_DIRECT): the same bytes land, and written pages leave the page cache
    /// once durable, all but the last `CACHE_WINDOW`.
    #[test]
    fn buffered_segments_write_the_same_and_drop_what_is_durable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let mut seg = Segment::create_with(&path, false).unwrap();
        assert!(!seg.is_direct());
        let mut buf = AlignedBuf::default();
        let page: Vec<u8> = (0..PAGE as usize).map(|i| (i % 13) as u8).collect();
        let batch: Vec<&[u8]> = std::iter::repeat_n(page.as_slice(), 1024).collect();
        for _ in 0..10 {
            seg.append(&mut buf, &batch).unwrap();
            seg.sync().unwrap();
        }
        assert_eq!(seg.len, 10 * 1024 * PAGE);
        assert!(seg.cached_from > 0 && seg.cached_from <= seg.len - CACHE_WINDOW);
        assert_eq!(seg.cached_from % PAGE, 0);
        let on_disk = std::fs::read(&path).unwrap();
        assert_eq!(on_disk.len() as u64, seg.len);
        assert!(on_disk.chunks(PAGE as usize).all(|c| c == page.as_slice()));
        seg.close();
    }
}
