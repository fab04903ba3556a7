//! Data operations end to end with the real daemon: a backup taken while writes happen is a
//! consistent state and restores to an equal store; restore refuses a store in use; backups are
//! checked for origin and bounds (`ops_data/origin.rs`); SIGTERM during webhook deliveries
//! exits within 5 s and loses no acknowledged delivery.

mod origin;
mod shutdown;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tidemark_daemon::lifecycle::store_dir;
use tidemark_daemon::store::Store;
use tidemark_tests::harness::{Daemon, Sandbox, block_on, connect, ctx, wait_until};

/// `tidemarkd ARGS` on this sandbox's data dir and socket; (success, stdout + stderr).
pub fn tidemarkd(sandbox: &Sandbox, args: &[&str]) -> (bool, String) {
    let out = sandbox
        .daemon_command()
        .args(args)
        .output()
        .expect("run tidemarkd");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Open a store, waiting out the moment sled keeps a just-dropped store locked.
pub fn open_store(data_dir: &std::path::Path) -> Store {
    wait_until(Duration::from_secs(10), "the store to open", || {
        Store::open(&store_dir(data_dir)).ok()
    })
}

fn all_records(data_dir: &std::path::Path) -> Vec<(Vec<u8>, Vec<u8>)> {
    open_store(data_dir).snapshot().unwrap().entries
}

#[test]
fn backup_while_writing_is_consistent_and_restores_to_an_equal_store() {
    let sandbox = Sandbox::new();
    let daemon = Daemon::start(&sandbox, 0);
    // Teams created one after another as fast as the daemon takes them, while backups run.
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let writer = {
        let (stop, acked, socket) = (stop.clone(), acked.clone(), daemon.socket.clone());
        std::thread::spawn(move || {
            block_on(async {
                let client = connect(&socket).await.unwrap();
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    let name = format!("team-{i:05}");
                    client
                        .team_create(ctx(), name.clone())
                        .await
                        .unwrap()
                        .unwrap();
                    acked.lock().unwrap().push(name);
                    i += 1;
                }
            })
        })
    };
    wait_until(Duration::from_secs(20), "the first 50 teams", || {
        (acked.lock().unwrap().len() >= 50).then_some(())
    });
    let dir = sandbox.dir.path();
    let mut mid = Vec::new();
    for n in 0..3 {
        let before = acked.lock().unwrap().len();
        let path = dir.join(format!("mid-{n}.backup"));
        let (ok, out) = tidemarkd(&sandbox, &["backup", path.to_str().unwrap()]);
        assert!(ok, "backup failed: {out}");
        assert!(out.contains("taken by the running daemon"), "{out}");
        let after = acked.lock().unwrap().len();
        mid.push((path, before, after));
    }
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    let all_acked = acked.lock().unwrap().clone();
    assert!(
        mid.last().unwrap().2 > 50,
        "writes went on during the backups"
    );

    // Each backup taken during writes: restores cleanly and holds a prefix of the teams that
    // includes every one acknowledged before it started, each with its name index.
    for (i, (path, before, after)) in mid.iter().enumerate() {
        let target = Sandbox::new();
        // Restoring on another machine: with the key the backup was made with.
        target.copy_key_from(&sandbox);
        let (ok, out) = tidemarkd(&target, &["restore", path.to_str().unwrap()]);
        assert!(ok, "restore of backup {i} failed: {out}");
        let store = open_store(&target.data_dir());
        let integrity = store.check_integrity().unwrap();
        assert!(integrity.problems.is_empty(), "{:?}", integrity.problems);
        let mut names: Vec<String> = store.teams().unwrap().into_iter().map(|t| t.name).collect();
        names.sort();
        assert!(
            names.len() >= *before && names.len() <= after + 1,
            "backup {i}: {} teams, acknowledged {before} before and {after} after",
            names.len()
        );
        assert_eq!(
            names[..],
            all_acked[..names.len()],
            "backup {i} is not a prefix"
        );
        for name in &names {
            assert!(
                store.team_by_name(name).unwrap().is_some(),
                "{name} lost its index"
            );
        }
    }

    // Quiet now: a backup restores to exactly the live store's records, a pending invitation
    // among them.
    let invited = block_on(async {
        let client = connect(&daemon.socket).await.unwrap();
        client
            .team_add_member(
                ctx(),
                tidemark_protocol::TeamRef::Name(all_acked[0].clone()),
                tidemark_protocol::UserRef::Uid(60_123),
                tidemark_protocol::Role::Admin,
            )
            .await
            .unwrap()
            .unwrap()
    });
    assert!(
        matches!(invited, tidemark_protocol::MemberAdded::Invited(_)),
        "{invited:?}"
    );
    let final_backup = dir.join("final.backup");
    let (ok, out) = tidemarkd(&sandbox, &["backup", final_backup.to_str().unwrap()]);
    assert!(ok, "{out}");
    let (ok, out) = tidemarkd(&sandbox, &["backup", final_backup.to_str().unwrap()]);
    assert!(
        !ok && out.contains("exists"),
        "a backup overwrote a file: {out}"
    );
    // Restoring over a store in use is refused, and changes nothing.
    let (ok, out) = tidemarkd(&sandbox, &["restore", final_backup.to_str().unwrap()]);
    assert!(
        !ok && out.contains("in use"),
        "restore over a running daemon: {out}"
    );
    assert!(daemon.stop().success());
    let live = all_records(&sandbox.data_dir());
    let invitation = tidemark_daemon::store::Kind::Invitation as u8;
    assert_eq!(
        live.iter()
            .filter(|(key, _)| key.get(8) == Some(&invitation))
            .count(),
        1,
        "the invitation is a record of the store"
    );

    let target = Sandbox::new();
    // Without the key it was made with, nothing shows where a backup comes from.
    let (ok, out) = tidemarkd(&target, &["restore", final_backup.to_str().unwrap()]);
    assert!(
        !ok && out.contains("its origin is checked with the encryption key"),
        "{out}"
    );
    target.copy_key_from(&sandbox);
    let (ok, out) = tidemarkd(&target, &["restore", final_backup.to_str().unwrap()]);
    assert!(ok, "{out}");
    assert_eq!(
        all_records(&target.data_dir()),
        live,
        "restored records differ"
    );

    // Restoring over a stopped store keeps the old one aside; a damaged backup changes nothing.
    let (ok, out) = tidemarkd(&sandbox, &["restore", mid[0].0.to_str().unwrap()]);
    assert!(ok && out.contains("store.before-restore-"), "{out}");
    let restored = all_records(&sandbox.data_dir());
    let mut damaged = std::fs::read(&final_backup).unwrap();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x40;
    let bad = dir.join("damaged.backup");
    std::fs::write(&bad, damaged).unwrap();
    let (ok, out) = tidemarkd(&sandbox, &["restore", bad.to_str().unwrap()]);
    assert!(!ok && out.contains("damaged"), "{out}");
    assert_eq!(all_records(&sandbox.data_dir()), restored);

    // A backup with no daemon running reads the store itself.
    let offline = dir.join("offline.backup");
    let (ok, out) = tidemarkd(&sandbox, &["backup", offline.to_str().unwrap()]);
    assert!(ok && out.contains("no daemon was running"), "{out}");
    // The restored daemon starts and serves the restored teams.
    let daemon = Daemon::start(&target, 1);
    let teams = block_on(async {
        let client = connect(&daemon.socket).await.unwrap();
        client.team_list(ctx()).await.unwrap().unwrap()
    });
    assert_eq!(teams.len(), all_acked.len());
}
