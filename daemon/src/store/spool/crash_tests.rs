//! A crash in the middle of a batch, at any point: the scan finds every frame of the batches
//! before it (acknowledged: each was durable before the next was written), and of the batch the
//! crash cut only frames whose bodies are whole. What a crash can leave of a batch: any prefix
//! of its bytes, with any of its pages not written (zeros); of the segment's index (written
//! after each batch is durable, never synced): any prefix of what was written before that
//! batch, maybe followed by garbage.

use super::tests::meta;
use super::*;
use proptest::prelude::*;

fn body(seq: u64, len: usize) -> Vec<u8> {
    (0..len).map(|i| (seq as usize * 31 + i) as u8).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn a_crash_loses_nothing_acknowledged_and_returns_nothing_torn(
        batches in proptest::collection::vec(proptest::collection::vec(0usize..9000, 1..5), 1..5),
        cut in 0.0f64..=1.0,
        unwritten in proptest::option::of(0usize..64),
        index_kept in 0.0f64..=1.0,
        index_garbage in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path()).unwrap();
        let mut seq = 0u64;
        let mut bodies = std::collections::BTreeMap::new();
        let mut acked = Vec::new();
        let mut last_start = 0u64;
        let mut index_before_last = 0u64;
        let index_path = Spool::index_path_of(dir.path(), 0);
        for (i, lens) in batches.iter().enumerate() {
            let frames: Vec<(FrameMeta, Vec<u8>)> = lens
                .iter()
                .map(|&len| {
                    seq += 1;
                    (meta(seq), body(seq, len))
                })
                .collect();
            let refs: Vec<(FrameMeta, &[u8])> =
                frames.iter().map(|(m, b)| (m.clone(), b.as_slice())).collect();
            let path = Spool::path_of(dir.path(), 0);
            last_start = std::fs::metadata(&path).map_or(0, |m| m.len());
            index_before_last = std::fs::metadata(&index_path).map_or(0, |m| m.len());
            spool.append(&refs).unwrap();
            for (m, b) in frames {
                if i + 1 < batches.len() {
                    acked.push(m.seq);
                }
                bodies.insert(m.seq, b);
            }
        }
        // The crash: the last batch cut at `cut` of its length, and maybe one of its pages
        // never written.
        let path = Spool::path_of(dir.path(), 0);
        let mut bytes = std::fs::read(&path).unwrap();
        let end = last_start + ((bytes.len() as u64 - last_start) as f64 * cut) as u64;
        bytes.truncate(end as usize);
        if let Some(page) = unwritten {
            let pages = (bytes.len() as u64 - last_start).div_ceil(frame::PAGE);
            if pages > 0 {
                let from = (last_start + (page as u64 % pages) * frame::PAGE) as usize;
                let to = (from + frame::PAGE as usize).min(bytes.len());
                bytes[from..to].fill(0);
            }
        }
        std::fs::write(&path, &bytes).unwrap();
        let mut index = std::fs::read(&index_path).unwrap();
        index.truncate((index_before_last as f64 * index_kept) as usize);
        index.extend_from_slice(&index_garbage);
        std::fs::write(&index_path, &index).unwrap();
        drop(spool);

        let spool = Spool::open(dir.path()).unwrap();
        let found = spool.frames().unwrap();
        let seqs: Vec<u64> = found.iter().map(|(m, _)| m.seq).collect();
        // Every acknowledged frame, in order, then possibly some of the cut batch's.
        prop_assert!(seqs.len() >= acked.len(), "lost: found {:?}, acked {:?}", seqs, acked);
        prop_assert_eq!(&seqs[..acked.len()], &acked[..]);
        for (m, at) in &found {
            let read = Spool::read(dir.path(), at);
            prop_assert!(read.is_ok(), "frame {} found but its body is torn", m.seq);
            prop_assert_eq!(&read.unwrap(), &bodies[&m.seq]);
            prop_assert_eq!(m, &meta(m.seq));
        }
    }
}
