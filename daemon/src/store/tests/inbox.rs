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

/// The spool's first segment file (not its index).
fn first_segment(store: &Store) -> std::path::PathBuf {
    let mut files: Vec<_> = std::fs::read_dir(store.spool_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "bodies"))
        .collect();
    files.sort();
    files.remove(0)
}

#[test]
fn sequence_numbers_continue_after_the_highest_one_in_the_spool_of_any_team() {
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
    // Applied, its frame still in the spool: its number is not handed out again, even after
    // the store is reopened.
    assert_eq!(env.store.inbox_max_seq().unwrap(), 300);
    let path = env.dir.path().to_path_buf();
    let Env { store, dir, .. } = env;
    drop(store);
    let store = open(&path);
    assert_eq!(store.inbox_max_seq().unwrap(), 300);
    assert_eq!(store.inbox_len(a).unwrap(), 2);
    assert_eq!(store.inbox_len(b).unwrap(), 0);
    drop(dir);
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
    // A segment and its index.
    let spool_files = || std::fs::read_dir(env.store.spool_dir()).unwrap().count();
    assert_eq!(spool_files(), 2);
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
    let file = first_segment(&env.store);
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
    // `doctor`'s integrity check reads every waiting body and names the damaged one.
    let report = env.store.check_integrity().unwrap();
    assert_eq!(report.webhooks_waiting, 2);
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert!(
        report.problems[0].starts_with(&format!("webhook delivery 1 of team #{team}"))
            && report.problems[0].contains("damaged"),
        "{:?}",
        report.problems
    );
}

/// The spool is the inbox: after a restart (or a crash, which loses nothing the spool
/// acknowledged) every delivery in it waits again, except those applied (their ids are in sled)
/// and those of a deleted team.
#[test]
fn waiting_deliveries_are_found_again_in_the_spool_on_open() {
    let env = env();
    let team = team_owned_by(&env.store, "A", 1000);
    let gone = team_owned_by(&env.store, "B", 1001);
    let applied = entry(team, 1, "applied", 50);
    let waits = entry(team, 2, "waits", 21_000);
    let of_gone = entry(gone, 3, "of-gone", 10);
    env.store
        .inbox_add(&[applied.clone(), waits.clone(), of_gone])
        .unwrap();
    env.store.inbox_done(&applied, None).unwrap();
    env.store.delete_team(gone).unwrap();
    assert_eq!(env.store.inbox_len(gone).unwrap(), 0);
    env.store.flush().unwrap();
    let path = env.dir.path().to_path_buf();
    let Env { store, dir, .. } = env;
    drop(store);
    let store = open(&path);
    assert_eq!(store.inbox(team).unwrap(), std::slice::from_ref(&waits));
    assert!(store.delivery_seen(team, "waits").unwrap());
    assert!(store.delivery_seen(team, "applied").unwrap());
    assert!(store.inbox(gone).unwrap().is_empty());
    assert_eq!(store.inbox_max_seq().unwrap(), 3);
    // A redelivery of either is a duplicate; a new one is not, and is written to a new
    // segment (the old one may end in a frame a crash cut short).
    assert_eq!(
        store
            .inbox_add(&[
                entry(team, 4, "applied", 5),
                entry(team, 5, "waits", 5),
                entry(team, 6, "new", 5)
            ])
            .unwrap(),
        [true, true, false]
    );
    assert_eq!(store.load_inbox().unwrap(), 2);
    drop(dir);
}

/// A crash can cut the last frame short (it was never acknowledged): the frames before it
/// wait, and so do those written after the restart.
#[test]
fn a_frame_cut_short_by_a_crash_loses_nothing_acknowledged() {
    let env = env();
    let team = team_owned_by(&env.store, "A", 1000);
    let first = entry(team, 1, "first", 300);
    env.store.inbox_add(std::slice::from_ref(&first)).unwrap();
    env.store.inbox_add(&[entry(team, 2, "torn", 300)]).unwrap();
    env.store.flush().unwrap();
    let segment = first_segment(&env.store);
    let len = std::fs::metadata(&segment).unwrap().len();
    let path = env.dir.path().to_path_buf();
    let Env { store, dir, .. } = env;
    drop(store);
    // The second batch (its own page, the last of the file) half written: cut in its body.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&segment)
        .unwrap()
        .set_len(len - 4096 + 200)
        .unwrap();
    let store = open(&path);
    assert_eq!(store.inbox(team).unwrap(), std::slice::from_ref(&first));
    let after = entry(team, 3, "after", 300);
    store.inbox_add(std::slice::from_ref(&after)).unwrap();
    drop(store);
    let store = open(&path);
    assert_eq!(store.inbox(team).unwrap(), [first, after]);
    drop(dir);
}

/// The overview says how long deliveries have waited: the oldest one's receive time.
#[test]
fn the_backlog_is_how_many_wait_and_when_the_oldest_came() {
    let env = env();
    let a = team_owned_by(&env.store, "A", 1000);
    let b = team_owned_by(&env.store, "B", 1001);
    assert_eq!(env.store.inbox_backlog(a), (0, None));
    let at = |e: InboxEntry, received_at: i64| InboxEntry { received_at, ..e };
    let first = at(entry(a, 1, "a1", 10), 1_700_000_100);
    env.store
        .inbox_add(&[
            first.clone(),
            at(entry(a, 2, "a2", 10), 1_700_000_200),
            at(entry(b, 3, "b3", 10), 1_700_000_050),
        ])
        .unwrap();
    assert_eq!(env.store.inbox_backlog(a), (2, Some(1_700_000_100)));
    assert_eq!(env.store.inbox_backlog(b), (1, Some(1_700_000_050)));
    env.store.inbox_done(&first, None).unwrap();
    assert_eq!(env.store.inbox_backlog(a), (1, Some(1_700_000_200)));
}
