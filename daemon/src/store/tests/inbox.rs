//! The webhook inbox.

use super::*;

fn entry(team: TeamId, seq: u64, guid: &str, body_len: usize) -> InboxEntry {
    InboxEntry {
        team_id: team,
        seq,
        guid: guid.into(),
        event: "pull_request".into(),
        hook_id: Some(7),
        repo_id: Some(1),
        received_at: 1_700_000_000,
        body: vec![b'x'; body_len],
    }
}

#[test]
fn sequence_numbers_continue_after_the_highest_waiting_one_of_any_team() {
    let env = env();
    let a = team_owned_by(&env.store, "A", 1000);
    let b = team_owned_by(&env.store, "B", 1001);
    assert_eq!(env.store.inbox_max_seq().unwrap(), 0);
    env.store
        .inbox_add(&[
            entry(a, 3, "a3", 10),
            entry(b, 300, "b300", 10),
            entry(a, 256, "a256", 10),
        ])
        .unwrap();
    assert_eq!(env.store.inbox_max_seq().unwrap(), 300);
    env.store
        .inbox_done(&entry(b, 300, "b300", 10), None)
        .unwrap();
    assert_eq!(env.store.inbox_max_seq().unwrap(), 256);
}

#[test]
fn the_oldest_deliveries_a_round_at_a_time() {
    let env = env();
    let team = team_owned_by(&env.store, "A", 1000);
    let entries: Vec<_> = (1..=5)
        .map(|s| entry(team, s, &format!("g{s}"), 1000))
        .collect();
    assert_eq!(env.store.inbox_add(&entries).unwrap(), [false; 5]);
    let seqs = |v: Vec<InboxEntry>| v.into_iter().map(|e| e.seq).collect::<Vec<_>>();
    assert_eq!(
        seqs(env.store.inbox_oldest(team, 3, usize::MAX).unwrap()),
        [1, 2, 3]
    );
    // By bytes: stops once the limit is reached, but always returns one.
    assert_eq!(
        seqs(env.store.inbox_oldest(team, 10, 1500).unwrap()),
        [1, 2]
    );
    assert_eq!(seqs(env.store.inbox_oldest(team, 10, 0).unwrap()), [1]);
    assert_eq!(
        env.store.inbox_oldest(team, 10, usize::MAX).unwrap(),
        entries
    );
    // Applied deliveries leave the inbox but stay seen (a redelivery is a duplicate).
    env.store.inbox_done(&entries[0], None).unwrap();
    assert_eq!(
        seqs(env.store.inbox_oldest(team, 1, usize::MAX).unwrap()),
        [2]
    );
    assert!(env.store.delivery_seen(team, "g1").unwrap());
    assert!(!env.store.delivery_seen(team, "g6").unwrap());
    assert_eq!(
        env.store.inbox_add(&[entry(team, 9, "g1", 10)]).unwrap(),
        [true]
    );
}

#[test]
fn spool_segments_go_once_their_deliveries_are_applied() {
    let env = env();
    let team = team_owned_by(&env.store, "A", 1000);
    let entries: Vec<_> = (1..=3)
        .map(|s| entry(team, s, &format!("g{s}"), 21_000))
        .collect();
    env.store.inbox_add(&entries).unwrap();
    let spool_files = || std::fs::read_dir(env.store.spool_dir()).unwrap().count();
    assert_eq!(spool_files(), 1);
    // Something still waits: its segment stays, and its bodies read back whole.
    env.store.inbox_done(&entries[0], None).unwrap();
    assert_eq!(env.store.inbox_release().unwrap(), 0);
    assert_eq!(env.store.inbox(team).unwrap(), entries[1..]);
    for e in &entries[1..] {
        env.store.inbox_done(e, None).unwrap();
    }
    assert_eq!(env.store.inbox_release().unwrap(), 1);
    assert_eq!(spool_files(), 0);
    // Later deliveries start a new segment and read back.
    let later = entry(team, 4, "g4", 100);
    env.store.inbox_add(std::slice::from_ref(&later)).unwrap();
    assert_eq!(env.store.inbox(team).unwrap(), [later]);
}

#[test]
fn a_damaged_body_comes_back_empty_and_the_rest_are_whole() {
    let env = env();
    let team = team_owned_by(&env.store, "A", 1000);
    let entries: Vec<_> = (1..=2)
        .map(|s| entry(team, s, &format!("g{s}"), 100))
        .collect();
    env.store.inbox_add(&entries).unwrap();
    let file = std::fs::read_dir(env.store.spool_dir())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&file).unwrap();
    // Inside the first body (100 bytes of 'x').
    let first_body = bytes
        .windows(100)
        .position(|w| w.iter().all(|&b| b == b'x'))
        .unwrap();
    bytes[first_body + 10] = b'y';
    std::fs::write(&file, bytes).unwrap();
    let read = env.store.inbox(team).unwrap();
    assert!(read[0].body.is_empty());
    assert_eq!(env.store.inbox_guids(team).unwrap(), ["g2"]);
    assert_eq!(read[1], entries[1]);
}

/// What sled lost in a crash (its records were not flushed yet) but the spool holds is recorded
/// again when the store opens; what sled knows, or what belongs to a deleted team, is not.
#[test]
fn deliveries_the_spool_holds_but_sled_lost_are_recorded_again_on_open() {
    use crate::store::spool::FrameMeta;
    let env = env();
    let team = team_owned_by(&env.store, "A", 1000);
    let gone = team_owned_by(&env.store, "B", 1001);
    let known = entry(team, 1, "known", 50);
    env.store.inbox_add(std::slice::from_ref(&known)).unwrap();
    env.store.inbox_done(&known, None).unwrap();
    let lost = entry(team, 2, "lost", 21_000);
    let of_gone = entry(gone, 3, "of-gone", 10);
    fn frame(e: &InboxEntry) -> (FrameMeta, &[u8]) {
        (
            FrameMeta {
                team_id: e.team_id,
                seq: e.seq,
                guid: e.guid.clone(),
                event: e.event.clone(),
                hook_id: e.hook_id,
                repo_id: e.repo_id,
                received_at: e.received_at,
            },
            e.body.as_slice(),
        )
    }
    // Written to the spool only, as if sled's records of them had not reached the disk.
    env.store
        .spool
        .lock()
        .unwrap()
        .append(&[frame(&lost), frame(&of_gone)])
        .unwrap();
    env.store.delete_team(gone).unwrap();
    env.store.flush().unwrap();
    let path = env.dir.path().to_path_buf();
    let Env { store, dir, .. } = env;
    drop(store);
    let store = open(&path);
    // The applied one stays applied; the lost one is back, whole; the deleted team's is not.
    assert_eq!(store.inbox(team).unwrap(), [lost]);
    assert!(store.delivery_seen(team, "lost").unwrap());
    assert!(store.inbox(gone).unwrap().is_empty());
    assert_eq!(store.inbox_max_seq().unwrap(), 2);
    // Opening again finds nothing more to do.
    assert_eq!(store.recover_inbox().unwrap(), 0);
    drop(dir);
}
