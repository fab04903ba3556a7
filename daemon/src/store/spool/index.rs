//! A segment's index (`<segment>.index`): each frame's offset, header and meta, without its body,
//! so that opening the store reads a few hundred bytes per waiting delivery instead of the whole
//! segment (reading 13 GB of spool took 22–29 s under webhook-bench's backlog).
//!
//! Written after the batch's `fdatasync` and not synced itself: what it holds is durable in the
//! segment already, and what it lacks after a crash (or holds damaged: each entry has a CRC) is
//! read from the segment, from where the last good entry's frame ends. A lost or damaged index
//! costs time only. Entry: offset in the segment (u64 LE), CRC-32 of the offset and the rest
//! (u32 LE), the frame's 32-byte header, its meta.

use super::frame::{self, HEADER};
use std::io::Read;
use std::path::Path;

/// An entry for the frame at `offset` whose header and meta are `head`.
pub fn entry(offset: u64, head: &[u8], out: &mut Vec<u8>) {
    let mut crc = crc32fast::Hasher::new();
    crc.update(&offset.to_le_bytes());
    crc.update(head);
    out.extend_from_slice(&offset.to_le_bytes());
    out.extend_from_slice(&crc.finalize().to_le_bytes());
    out.extend_from_slice(head);
}

/// The frames a segment's index names, in order, as far as its entries are intact, follow one
/// another and fit in the segment's `len` bytes. No index: none.
pub fn read(
    path: &Path,
    len: u64,
    wanted: &mut impl FnMut(&frame::FrameMeta) -> bool,
) -> Vec<frame::Frame> {
    let mut bytes = Vec::new();
    let Ok(mut file) = std::fs::File::open(path) else {
        return Vec::new();
    };
    if file.read_to_end(&mut bytes).is_err() {
        return Vec::new();
    }
    let mut found: Vec<frame::Frame> = Vec::new();
    let mut rest = bytes.as_slice();
    while rest.len() >= 12 + HEADER {
        let offset = u64::from_le_bytes(rest[..8].try_into().expect("8 bytes"));
        let crc = u32::from_le_bytes(rest[8..12].try_into().expect("4 bytes"));
        let header: [u8; HEADER] = rest[12..12 + HEADER].try_into().expect("a header");
        let meta_len = u32::from_le_bytes(header[8..12].try_into().expect("4 bytes")) as usize;
        let Some(meta) = rest.get(12 + HEADER..12 + HEADER + meta_len) else {
            break;
        };
        let mut check = crc32fast::Hasher::new();
        check.update(&rest[..8]);
        check.update(&rest[12..12 + HEADER + meta_len]);
        if check.finalize() != crc || found.last().is_some_and(|f| offset < f.end) {
            break;
        }
        let Some(f) = frame::parse(&header, meta, offset, len, wanted) else {
            break;
        };
        found.push(f);
        rest = &rest[12 + HEADER + meta_len..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_read_back_and_stop_at_damage() {
        let meta = |seq: u64| frame::FrameMeta {
            team_id: 1,
            seq,
            guid: format!("g{seq}"),
            event: "ping".into(),
            hook_id: None,
            repo_id: None,
            received_at: 0,
            body_sha256: None,
        };
        let mut index = Vec::new();
        let mut at = 0u64;
        let mut ends = Vec::new();
        for seq in 0..3 {
            let mut head = Vec::new();
            frame::encode_head(&meta(seq), b"body", 0, &mut head);
            entry(at, &head, &mut index);
            at += (head.len() + 4) as u64;
            ends.push(index.len());
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("i");
        let read_back = |bytes: &[u8], len: u64| {
            std::fs::write(&path, bytes).unwrap();
            read(&path, len, &mut |_| true)
                .into_iter()
                .map(|f| f.meta.unwrap().seq)
                .collect::<Vec<_>>()
        };
        assert_eq!(read_back(&index, at), [0, 1, 2]);
        // Frames past the segment's end are not believed.
        assert_eq!(read_back(&index, at - 1), [0, 1]);
        // A cut or a flipped byte ends it there.
        assert_eq!(read_back(&index[..ends[1] + 5], at), [0, 1]);
        let mut bad = index.clone();
        bad[ends[0] + 3] ^= 1;
        assert_eq!(read_back(&bad, at), [0]);
        assert!(read(&dir.path().join("none"), at, &mut |_| true).is_empty());
    }
}
