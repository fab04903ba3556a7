//! The spool's frame format: what a delivery looks like in a segment file, and reading one back.
//!
//! `TMW2` frame (since schema v5), a 32-byte header then the bincode meta ([`FrameMeta`]) and
//! the body:
//!
//! | bytes  | field                                                              |
//! |--------|--------------------------------------------------------------------|
//! | 0..4   | magic `TMW2`                                                       |
//! | 4..8   | length after the header (meta + body), u32 LE                      |
//! | 8..12  | meta length, u32 LE                                                |
//! | 12..16 | CRC-32 of the body                                                 |
//! | 16..24 | offset of the first byte of this frame's batch in the segment, LE  |
//! | 24..28 | zero                                                               |
//! | 28..32 | CRC-32 of bytes 4..28 and the meta                                 |
//!
//! A batch ends with a pad frame (`TMWP`, u32 LE length after these 8 bytes, zeros) up to a
//! multiple of 4096 bytes, so each batch is written in whole pages (`O_DIRECT`). Because a batch
//! is written only after the one before it was `fdatasync`ed, a crash can spoil only a
//! segment's last batch: those frames' bodies are read and checked when the spool is scanned,
//! the others' only when the applier reads them. `TMW1` frames (before v5: a 16-byte header,
//! magic, length, CRC-32 of meta length + meta + body, meta length) are read and checked whole.

use serde::{Deserialize, Serialize};
use std::fs::File;
use std::os::unix::fs::FileExt;

pub const MAGIC: &[u8; 4] = b"TMW2";
const MAGIC_V1: &[u8; 4] = b"TMW1";
const MAGIC_PAD: &[u8; 4] = b"TMWP";
pub const HEADER: usize = 32;
const HEADER_V1: usize = 16;
pub const PAD_HEADER: usize = 8;
/// Batches end on this boundary.
pub const PAGE: u64 = 4096;

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
    /// The SHA-256 of the body, which recognises the same body received again (a replay)
    /// while it waits, also after a restart. None in frames written before it was kept. Last,
    /// so that a daemon from before reads these frames too (bincode's default allows trailing
    /// bytes); see `decode_meta` for the other way round.
    pub body_sha256: Option<[u8; 32]>,
}

/// A frame's meta as frames were written before `body_sha256`.
#[derive(Deserialize)]
struct FrameMetaV1 {
    team_id: u64,
    seq: u64,
    guid: String,
    event: String,
    hook_id: Option<u64>,
    repo_id: Option<u64>,
    received_at: i64,
}

/// A frame's meta, with its body's hash or (an older frame, which ends before it) without.
fn decode_meta(bytes: &[u8]) -> Option<FrameMeta> {
    if let Ok(meta) = bincode::deserialize::<FrameMeta>(bytes) {
        return Some(meta);
    }
    let old: FrameMetaV1 = bincode::deserialize(bytes).ok()?;
    Some(FrameMeta {
        team_id: old.team_id,
        seq: old.seq,
        guid: old.guid,
        event: old.event,
        hook_id: old.hook_id,
        repo_id: old.repo_id,
        received_at: old.received_at,
        body_sha256: None,
    })
}

/// A frame's header and meta (the body follows it on disk), for a batch starting at
/// `batch_start`; returns them with the body's CRC.
pub fn encode_head(meta: &FrameMeta, body: &[u8], batch_start: u64, out: &mut Vec<u8>) -> u32 {
    let start = out.len();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[0; HEADER - 4]);
    bincode::serialize_into(&mut *out, meta).expect("frame meta serialises to memory");
    let meta_len = out.len() - start - HEADER;
    let body_crc = crc32fast::hash(body);
    let h = &mut out[start..];
    h[4..8].copy_from_slice(&((meta_len + body.len()) as u32).to_le_bytes());
    h[8..12].copy_from_slice(&(meta_len as u32).to_le_bytes());
    h[12..16].copy_from_slice(&body_crc.to_le_bytes());
    h[16..24].copy_from_slice(&batch_start.to_le_bytes());
    let head_crc = head_crc(h, &h[HEADER..]);
    h[28..32].copy_from_slice(&head_crc.to_le_bytes());
    body_crc
}

/// The pad frame that takes a batch ending at `end` to the next page boundary (its length; the
/// bytes are `PAD` magic, length, zeros).
pub fn pad(end: u64, out: &mut Vec<u8>) {
    let mut gap = (PAGE - end % PAGE) % PAGE;
    if gap == 0 {
        return;
    }
    if gap < PAD_HEADER as u64 {
        gap += PAGE;
    }
    out.extend_from_slice(MAGIC_PAD);
    out.extend_from_slice(&((gap - PAD_HEADER as u64) as u32).to_le_bytes());
    out.resize(out.len() + (gap - PAD_HEADER as u64) as usize, 0);
}

/// What `read` found at an offset.
pub enum Found {
    /// Padding up to `end`.
    Pad {
        end: u64,
    },
    Frame(Frame),
}

pub struct Frame {
    /// The meta, if wanted.
    pub meta: Option<FrameMeta>,
    pub body_at: u64,
    pub body_len: u64,
    /// The body's CRC: from the header (`TMW2`) or computed (`TMW1`, wanted frames only).
    pub body_crc: u32,
    /// `TMW2`: where its batch starts (None for `TMW1`, whose wanted frames were checked whole).
    pub batch_start: Option<u64>,
    pub end: u64,
}

fn head_crc(header: &[u8], meta: &[u8]) -> u32 {
    let mut crc = crc32fast::Hasher::new();
    crc.update(&header[4..28]);
    crc.update(meta);
    crc.finalize()
}

fn word(h: &[u8], i: usize) -> u32 {
    u32::from_le_bytes(h[i..i + 4].try_into().expect("4 bytes"))
}

/// The frame at `at` in `file` (of `len` bytes), or None if there is no whole, intact frame
/// header there. A `TMW2` body is not read (see `body_intact`).
pub fn read(
    file: &mut Window<'_>,
    at: u64,
    len: u64,
    wanted: &mut impl FnMut(&FrameMeta) -> bool,
) -> Option<Found> {
    let mut header = [0u8; HEADER];
    let have = (len.saturating_sub(at)).min(HEADER as u64) as usize;
    if have < PAD_HEADER || file.read_exact_at(&mut header[..have], at).is_err() {
        return None;
    }
    match &header[..4] {
        m if m == MAGIC_PAD => {
            let end = at + PAD_HEADER as u64 + u64::from(word(&header, 4));
            (end <= len).then_some(Found::Pad { end })
        }
        m if m == MAGIC => {
            if have < HEADER {
                return None;
            }
            let meta_len = u64::from(word(&header, 8));
            if meta_len > u64::from(word(&header, 4)) || at + HEADER as u64 + meta_len > len {
                return None;
            }
            let mut meta_bytes = vec![0u8; meta_len as usize];
            file.read_exact_at(&mut meta_bytes, at + HEADER as u64)
                .ok()?;
            parse(&header, &meta_bytes, at, len, wanted).map(Found::Frame)
        }
        m if m == MAGIC_V1 => read_v1(file, &header, at, len, wanted),
        _ => None,
    }
}

/// A `TMW2` frame at `at` from its header and meta (read from the segment, or from its index),
/// if they are intact and it fits in the segment's `len` bytes.
pub fn parse(
    header: &[u8; HEADER],
    meta_bytes: &[u8],
    at: u64,
    len: u64,
    wanted: &mut impl FnMut(&FrameMeta) -> bool,
) -> Option<Frame> {
    if &header[..4] != MAGIC || word(header, 8) as usize != meta_bytes.len() {
        return None;
    }
    let end = at + HEADER as u64 + u64::from(word(header, 4));
    if end > len || meta_bytes.len() as u64 > end - at - HEADER as u64 {
        return None;
    }
    if head_crc(header, meta_bytes) != word(header, 28) {
        return None;
    }
    let meta = decode_meta(meta_bytes)?;
    let body_at = at + HEADER as u64 + meta_bytes.len() as u64;
    Some(Frame {
        meta: wanted(&meta).then_some(meta),
        body_at,
        body_len: end - body_at,
        body_crc: word(header, 12),
        batch_start: Some(u64::from_le_bytes(
            header[16..24].try_into().expect("8 bytes"),
        )),
        end,
    })
}

/// A `TMW1` frame: a wanted one is read whole and checked.
fn read_v1(
    file: &mut Window<'_>,
    header: &[u8; HEADER],
    at: u64,
    len: u64,
    wanted: &mut impl FnMut(&FrameMeta) -> bool,
) -> Option<Found> {
    if len - at < HEADER_V1 as u64 {
        return None;
    }
    let after_header = u64::from(word(header, 4));
    let end = at + HEADER_V1 as u64 + after_header;
    let meta_len = u64::from(word(header, 12));
    if end > len || meta_len > after_header {
        return None;
    }
    let mut meta_bytes = vec![0u8; meta_len as usize];
    file.read_exact_at(&mut meta_bytes, at + HEADER_V1 as u64)
        .ok()?;
    let meta = decode_meta(&meta_bytes)?;
    let body_at = at + HEADER_V1 as u64 + meta_len;
    let body_len = end - body_at;
    if !wanted(&meta) {
        return Some(Found::Frame(Frame {
            meta: None,
            body_at,
            body_len,
            body_crc: 0,
            batch_start: None,
            end,
        }));
    }
    let mut body = vec![0u8; body_len as usize];
    file.read_exact_at(&mut body, body_at).ok()?;
    let mut crc = crc32fast::Hasher::new();
    crc.update(&header[12..16]);
    crc.update(&meta_bytes);
    crc.update(&body);
    if crc.finalize() != word(header, 8) {
        return None;
    }
    Some(Found::Frame(Frame {
        meta: Some(meta),
        body_at,
        body_len,
        body_crc: crc32fast::hash(&body),
        batch_start: None,
        end,
    }))
}

/// Reads of a segment being scanned, served from a window of `WINDOW` bytes read at once: the
/// scan reads a header and a meta every 21 KB or so, which as separate reads of a file just
/// written with `O_DIRECT` (nothing cached) cost a disk read each.
pub struct Window<'a> {
    file: &'a File,
    /// The file's length (a window never reaches past it).
    len: u64,
    start: u64,
    buf: Vec<u8>,
}

const WINDOW: usize = 4 * 1024 * 1024;

impl<'a> Window<'a> {
    pub fn new(file: &'a File, len: u64) -> Window<'a> {
        Window {
            file,
            len,
            start: 0,
            buf: Vec::new(),
        }
    }

    pub fn read_exact_at(&mut self, out: &mut [u8], at: u64) -> std::io::Result<()> {
        let end = at + out.len() as u64;
        if at < self.start || end > self.start + self.buf.len() as u64 {
            if out.len() > WINDOW / 2 {
                return self.file.read_exact_at(out, at);
            }
            let want = (self.len.saturating_sub(at) as usize).clamp(out.len(), WINDOW);
            self.buf.resize(want, 0);
            let mut n = 0;
            while n < want {
                match self.file.read_at(&mut self.buf[n..], at + n as u64) {
                    Ok(0) => break,
                    Ok(k) => n += k,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            self.buf.truncate(n);
            self.start = at;
            if n < out.len() {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        }
        let from = (at - self.start) as usize;
        out.copy_from_slice(&self.buf[from..from + out.len()]);
        Ok(())
    }
}

/// Is a frame's body on disk the one its header names?
pub fn body_intact(file: &mut Window<'_>, frame: &Frame) -> bool {
    let mut body = vec![0u8; frame.body_len as usize];
    file.read_exact_at(&mut body, frame.body_at).is_ok() && crc32fast::hash(&body) == frame.body_crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_ends_on_a_page_and_is_never_shorter_than_its_header() {
        for end in [0u64, 1, 7, 4088, 4089, 4090, 4095, 4096, 5000, 8191] {
            let mut out = vec![0u8; end as usize];
            pad(end, &mut out);
            assert_eq!(out.len() as u64 % PAGE, 0, "end {end}");
            let gap = out.len() - end as usize;
            assert!(gap == 0 || gap >= PAD_HEADER, "end {end}: gap {gap}");
        }
    }

    #[test]
    fn a_frame_reads_back_and_a_flipped_header_or_meta_byte_is_refused() {
        let meta = FrameMeta {
            team_id: 1,
            seq: 2,
            guid: "g".into(),
            event: "push".into(),
            hook_id: None,
            repo_id: Some(5),
            received_at: 9,
            body_sha256: Some([7; 32]),
        };
        let body = b"{\"ref\":\"refs/heads/main\"}";
        let mut bytes = Vec::new();
        let crc = encode_head(&meta, body, 0, &mut bytes);
        let head_len = bytes.len();
        bytes.extend_from_slice(body);
        pad(bytes.len() as u64, &mut bytes);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let check = |bytes: &[u8]| {
            std::fs::write(&path, bytes).unwrap();
            let file = File::open(&path).unwrap();
            let mut file = Window::new(&file, bytes.len() as u64);
            read(&mut file, 0, bytes.len() as u64, &mut |_| true).map(|f| match f {
                Found::Frame(f) => {
                    let intact = body_intact(&mut file, &f);
                    (f.meta, f.body_crc, intact, f.end)
                }
                Found::Pad { .. } => panic!("a pad"),
            })
        };
        let (m, c, intact, end) = check(&bytes).unwrap();
        assert_eq!((m.unwrap(), c, intact), (meta, crc, true));
        assert_eq!(end as usize, head_len + body.len());
        for i in 4..head_len {
            let mut bad = bytes.clone();
            bad[i] ^= 0x40;
            assert!(check(&bad).is_none(), "byte {i} flipped was accepted");
        }
        // A flipped body byte passes the scan but not the body check.
        let mut bad = bytes.clone();
        bad[head_len + 3] ^= 1;
        let (_, _, intact, _) = check(&bad).unwrap();
        assert!(!intact);
    }

    /// Frames written before the body's hash was kept read back without it; the frames
    /// written now carry it, and read as the old layout (what an older daemon does) they still
    /// give the rest.
    #[test]
    fn metas_with_and_without_the_body_hash_read_back() {
        #[derive(Serialize)]
        struct Old<'a> {
            team_id: u64,
            seq: u64,
            guid: &'a str,
            event: &'a str,
            hook_id: Option<u64>,
            repo_id: Option<u64>,
            received_at: i64,
        }
        let old = Old {
            team_id: 3,
            seq: 4,
            guid: "g",
            event: "pull_request",
            hook_id: Some(1),
            repo_id: None,
            received_at: 77,
        };
        let bytes = bincode::serialize(&old).unwrap();
        let meta = decode_meta(&bytes).unwrap();
        assert_eq!((meta.team_id, meta.seq, meta.received_at), (3, 4, 77));
        assert_eq!(meta.body_sha256, None);
        let new = FrameMeta {
            body_sha256: Some([9; 32]),
            ..meta
        };
        let bytes = bincode::serialize(&new).unwrap();
        assert_eq!(decode_meta(&bytes), Some(new.clone()));
        let as_old: FrameMetaV1 = bincode::deserialize(&bytes).unwrap();
        assert_eq!((as_old.guid.as_str(), as_old.seq), ("g", 4));
    }
}
