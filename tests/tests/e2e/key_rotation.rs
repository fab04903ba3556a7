//! `tidemarkd rotate-key` end to end, and secrets that cannot be decrypted: reported, never lost.

use tidemark_daemon::crypto::{Keyring, Secret, read_key_file, write_key_file};
use tidemark_protocol::{SecretState, TeamRef};
use tidemark_tests::harness::{Daemon, Sandbox, block_on, connect, ctx, seed_connected_team};

const ACCESS: &str = "gho_rotation0123456789abcdefghijklmnopWXYZ";

fn seed(sandbox: &Sandbox, team: &str) -> u64 {
    seed_connected_team(
        sandbox,
        team,
        ACCESS,
        "ghr_refresh_rotation_000000000000000",
        "hook-secret-rot",
    )
}

fn key_file(sandbox: &Sandbox) -> std::path::PathBuf {
    sandbox.data_dir().join("encryption.key")
}

fn keys(sandbox: &Sandbox) -> Vec<Secret> {
    read_key_file(&key_file(sandbox)).unwrap()
}

fn rotate(sandbox: &Sandbox) -> std::process::Output {
    sandbox.daemon_command().arg("rotate-key").output().unwrap()
}

fn access_token_state(sandbox: &Sandbox, log_n: usize, team: u64) -> SecretState {
    let daemon = Daemon::start(sandbox, log_n);
    let state = block_on(async {
        let c = connect(&daemon.socket).await.unwrap();
        let ints = c
            .integrations(ctx(), TeamRef::Id(team))
            .await
            .unwrap()
            .unwrap();
        ints[0].credential.access_token.clone()
    });
    assert!(daemon.stop().success());
    state
}

#[test]
fn rotate_key_replaces_the_key_and_keeps_every_secret_readable() {
    let sandbox = Sandbox::new();
    let team = seed(&sandbox, "rot");
    let before = keys(&sandbox);

    // Not while a daemon holds the store.
    let daemon = Daemon::start(&sandbox, 1);
    let out = rotate(&sandbox);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("stop it first"),
        "{out:?}"
    );
    assert_eq!(keys(&sandbox), before, "a refused rotation changes nothing");
    assert!(daemon.stop().success());

    let out = rotate(&sandbox);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("re-encrypted 3 secret(s)"), "{stdout}");
    let after = keys(&sandbox);
    assert_eq!(after.len(), 1);
    assert_ne!(after, before);
    assert_eq!(
        access_token_state(&sandbox, 2, team),
        SecretState::Masked("gho_…WXYZ".into())
    );
}

#[test]
fn an_interrupted_rotation_loses_nothing_and_a_rerun_finishes_it() {
    let sandbox = Sandbox::new();
    let team = seed(&sandbox, "rot");
    let old = keys(&sandbox);
    // The state a rotation killed after its first step leaves: a new key in front, nothing re-sealed.
    let mut interrupted = vec![Keyring::generate_key()];
    interrupted.extend(old.iter().cloned());
    write_key_file(&key_file(&sandbox), &interrupted).unwrap();
    assert_eq!(
        access_token_state(&sandbox, 1, team),
        SecretState::Masked("gho_…WXYZ".into())
    );

    let out = rotate(&sandbox);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(keys(&sandbox).len(), 1);
    assert!(!old.contains(&keys(&sandbox)[0]));
    assert_eq!(
        access_token_state(&sandbox, 2, team),
        SecretState::Masked("gho_…WXYZ".into())
    );
}

#[test]
fn a_secret_that_cannot_be_decrypted_is_reported_and_kept() {
    let sandbox = Sandbox::new();
    let team = seed(&sandbox, "lost");
    let right = keys(&sandbox);
    // The daemon started with the wrong key: it still serves, and says what it cannot read.
    write_key_file(&key_file(&sandbox), &[Keyring::generate_key()]).unwrap();
    let state = access_token_state(&sandbox, 1, team);
    assert!(
        matches!(&state, SecretState::Unreadable(why) if why.contains("none of the configured keys")),
        "{state:?}"
    );
    let log = std::fs::read_to_string(sandbox.log_path(1)).unwrap();
    assert!(log.contains("cannot be decrypted; kept as is"), "{log}");

    // rotate-key reports and keeps it too.
    let out = rotate(&sandbox);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("could not be decrypted"));

    // With the right key back, nothing was lost.
    let mut restored = keys(&sandbox);
    restored.extend(right);
    write_key_file(&key_file(&sandbox), &restored).unwrap();
    assert_eq!(
        access_token_state(&sandbox, 2, team),
        SecretState::Masked("gho_…WXYZ".into())
    );
}
