//! The spool's tests: reading back, the scan's ends, release, and failed batches.

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

/// The files in the spool's directory (segments and indexes), with their lengths.
fn files(dir: &Path) -> Vec<(String, u64)> {
    let mut found: Vec<(String, u64)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().unwrap().len(),
            )
        })
        .collect();
    found.sort();
    found
}

/// A full disk mid-batch (part of it written) or a failed `fdatasync`: the batch is cut off,
/// the segment keeps only what was durable, a hundred more failures add no file, and the next
/// batch that succeeds lands where the failed ones began, found by the scan and the index.
#[test]
fn a_failed_batch_is_cut_off_and_no_file_is_added() {
    let dir = tempfile::tempdir().unwrap();
    let mut spool = Spool::open(dir.path()).unwrap();
    let first = append(&mut spool, &[b"durable"])[0];
    let before = files(dir.path());
    let big = vec![5u8; 3 * frame::PAGE as usize];
    for fail in [
        segment::Fail {
            past: Some(2 * frame::PAGE),
            sync: false,
        },
        segment::Fail {
            past: None,
            sync: true,
        },
    ] {
        spool.fail = fail;
        for _ in 0..100 {
            let frames = [(meta(7), big.as_slice())];
            assert!(spool.append(&frames).is_err(), "{fail:?}");
            assert_eq!(files(dir.path()), before, "{fail:?}");
        }
    }
    spool.fail = segment::Fail::default();
    let next = append(&mut spool, &[b"after the disk came back"])[0];
    assert_eq!(next.segment, first.segment);
    assert_eq!(
        next.offset / frame::PAGE,
        1,
        "where the failed batches began"
    );
    assert_eq!(spool.frames().unwrap().len(), 2);
    assert_eq!(
        Spool::read(dir.path(), &next).unwrap(),
        b"after the disk came back"
    );
    // Read without the index too (as after a crash before it was written).
    std::fs::remove_file(Spool::index_path_of(dir.path(), 0)).unwrap();
    assert_eq!(spool.frames().unwrap().len(), 2);
}

/// A segment whose first batch fails (a fresh spool, or one just rotated) is removed again:
/// failing attempts leave no empty segment files behind, however many there are.
#[test]
fn a_new_segment_whose_first_batch_fails_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let mut spool = Spool::open(dir.path()).unwrap();
    spool.fail.past = Some(0);
    for _ in 0..100 {
        assert!(spool.append(&[(meta(1), &b"x"[..])]).is_err());
    }
    assert_eq!(files(dir.path()), []);
    spool.fail.past = None;
    let a = append(&mut spool, &[b"a"])[0];
    assert_eq!(a.segment, 0);
    // The full segment rotates into one whose first batch fails: only the full one stays.
    spool.current.as_mut().unwrap().1.len = SEGMENT_MAX;
    spool.fail.sync = true;
    for _ in 0..100 {
        assert!(spool.append(&[(meta(2), &b"b"[..])]).is_err());
        assert_eq!(spool.segments().unwrap(), [0]);
    }
    spool.fail.sync = false;
    let b = append(&mut spool, &[b"b"])[0];
    assert_eq!(
        b.segment, 1,
        "the number the failed attempts took, no later one"
    );
    assert_eq!(Spool::read(dir.path(), &b).unwrap(), b"b");
}
