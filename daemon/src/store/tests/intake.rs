//! What the inbox lets in: delivery ids, bodies received before (replays), the backlog's cap.

use super::*;

fn delivery(team: TeamId, guid: &str, body: &[u8]) -> Incoming {
    Incoming::new(InboxEntry {
        team_id: team,
        seq: 0,
        guid: guid.into(),
        event: "pull_request".into(),
        hook_id: Some(7),
        repo_id: Some(1),
        received_at: now(),
        body: body.to_vec(),
    })
}

/// Number the deliveries as the inbox writer does (after the highest one in the spool).
fn numbered(store: &Store, mut d: Vec<Incoming>) -> Vec<Incoming> {
    let first = store.inbox_max_seq().unwrap() + 1;
    for (i, d) in d.iter_mut().enumerate() {
        d.entry.seq = first + i as u64;
    }
    d
}

fn admit(store: &Store, d: Vec<Incoming>) -> Vec<Admission> {
    let d = numbered(store, d);
    store.inbox_admit(&d).unwrap()
}

use Admission::{BacklogFull, DuplicateId, Replay, Stored};

/// The same signed body under fresh delivery ids is stored once, whether the first copy still
/// waits, was applied, or the store was reopened in between (its hash is in the frame, then
/// in sled); another team's copy is its own.
#[test]
fn a_body_received_before_is_a_replay_while_it_waits_after_it_is_applied_and_after_a_restart() {
    let env = env();
    let a = team_owned_by(&env.store, "A", 1000);
    let b = team_owned_by(&env.store, "B", 1001);
    let body = br#"{"action":"opened","number":1}"#;
    assert_eq!(
        admit(
            &env.store,
            vec![
                delivery(a, "g1", body),
                delivery(a, "g2", body),
                delivery(b, "g3", body),
                delivery(a, "g1", b"other"),
            ]
        ),
        [Stored, Replay, Stored, DuplicateId],
        "in one batch"
    );
    let first = delivery(a, "g9", body);
    assert_eq!(
        env.store.inbox_precheck(&first).unwrap(),
        Some(Replay),
        "while it waits"
    );
    assert_eq!(admit(&env.store, vec![first]), [Replay]);
    assert_eq!(env.store.inbox_len(a).unwrap(), 1);
    let intake = env.store.inbox_intake(a);
    assert_eq!(intake.replays, 3);
    assert!(intake.last_replay_at.is_some());
    assert_eq!(env.store.inbox_intake(b).replays, 0);

    // Reopened: the waiting frame carries its body's hash.
    let path = env.dir.path().to_path_buf();
    let Env { store, dir, .. } = env;
    drop(store);
    let store = open(&path);
    assert_eq!(admit(&store, vec![delivery(a, "g10", body)]), [Replay]);
    // Applied: sled keeps the hash beside the id.
    let waiting = store.inbox(a).unwrap();
    store.inbox_done(&waiting[0], None).unwrap();
    assert_eq!(store.inbox_len(a).unwrap(), 0);
    assert!(store.body_seen(a, &sha256(body)).unwrap());
    assert_eq!(admit(&store, vec![delivery(a, "g11", body)]), [Replay]);
    drop(store);
    let store = open(&path);
    assert_eq!(admit(&store, vec![delivery(a, "g12", body)]), [Replay]);
    assert_eq!(
        admit(&store, vec![delivery(a, "g13", b"a new body")]),
        [Stored]
    );
    // Nothing of the replays was written: one frame per stored delivery.
    assert_eq!(store.inbox_len(a).unwrap(), 1);
    drop(store);
    drop(dir);
}

/// Beyond the cap (deliveries, or bytes once one waits) new deliveries are refused and
/// counted; applying makes room again; each team's backlog is its own.
#[test]
fn a_full_backlog_refuses_new_deliveries() {
    let env = env();
    let a = team_owned_by(&env.store, "A", 1000);
    let b = team_owned_by(&env.store, "B", 1001);
    env.store.set_backlog_limits(BacklogLimits {
        deliveries: 3,
        bytes: 1000,
    });
    let d = |guid: &str, len: usize| delivery(a, guid, &vec![guid.as_bytes()[0]; len]);
    assert_eq!(
        admit(
            &env.store,
            vec![d("a", 10), d("b", 10), d("c", 10), d("d", 10)]
        ),
        [Stored, Stored, Stored, BacklogFull]
    );
    assert_eq!(
        env.store.inbox_precheck(&d("e", 10)).unwrap(),
        Some(BacklogFull)
    );
    assert_eq!(
        admit(&env.store, vec![delivery(b, "x", b"b's own")]),
        [Stored]
    );
    let intake = env.store.inbox_intake(a);
    assert_eq!(intake.refused, 2);
    assert!(intake.last_refused_at.is_some());
    assert_eq!(admit(&env.store, vec![d("a2", 0)]), [BacklogFull]);
    // A replay of a waiting body is still a replay, not a refusal.
    assert_eq!(
        admit(&env.store, vec![delivery(a, "again", &[b'a'; 10])]),
        [Replay]
    );
    // Applied: room again, for as many bytes as the cap allows.
    for e in env.store.inbox(a).unwrap() {
        env.store.inbox_done(&e, None).unwrap();
    }
    assert_eq!(
        admit(&env.store, vec![d("f", 600), d("g", 400), d("h", 1)]),
        [Stored, Stored, BacklogFull],
        "1,000 bytes wait"
    );
}

/// Applied ids and bodies are forgotten after GitHub's 3 days, not before.
#[test]
fn pruning_forgets_old_ids_and_bodies_alike() {
    let env = env();
    let a = team_owned_by(&env.store, "A", 1000);
    let mut old = delivery(a, "old", b"old body");
    old.entry.received_at = 1_000;
    let new = delivery(a, "new", b"new body");
    let d = numbered(&env.store, vec![old, new]);
    env.store.inbox_admit(&d).unwrap();
    for e in env.store.inbox(a).unwrap() {
        env.store.inbox_done(&e, None).unwrap();
    }
    assert_eq!(
        env.store.prune_seen_deliveries(a, 2_000).unwrap(),
        2,
        "an id and a body"
    );
    assert!(!env.store.delivery_seen(a, "old").unwrap());
    assert!(!env.store.body_seen(a, &sha256(b"old body")).unwrap());
    assert!(env.store.delivery_seen(a, "new").unwrap());
    assert!(env.store.body_seen(a, &sha256(b"new body")).unwrap());
}
