//! Backups are checked for origin, not only for damage: a backup another user altered and
//! hashed again is refused (the old checksum-only format too, unless asked for), one made
//! before a key rotation restores once its key is back in the key file, a crafted id counter
//! fails at once instead of looping, and a file another user could have written is refused
//! before it is read.

use super::{open_store, tidemarkd};
use sha2::{Digest, Sha256};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};
use tidemark_daemon::crypto::Keyring;
use tidemark_daemon::ops::backup;
use tidemark_daemon::store::Kind;
use tidemark_daemon::store::keys::{self, Key};
use tidemark_tests::harness::{Daemon, Sandbox, block_on, connect, ctx, wait_until};

/// magic, format, schema, created_at, next_id, count.
const HEADER: usize = 16 + 4 + 4 + 8 + 8 + 8;

/// A backup's records (the layout of `ops/backup.rs`, read as another user would).
fn records(bytes: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let count = u64::from_be_bytes(bytes[40..48].try_into().unwrap());
    let mut at = HEADER;
    let mut field = || {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        at += 4 + len;
        bytes[at - len..at].to_vec()
    };
    (0..count).map(|_| (field(), field())).collect()
}

/// Records written back with the header of `original` in `format`, and a fresh SHA-256: what
/// anyone can compute. Format 2 keeps the original's MAC (no one else can make one).
fn forged(original: &[u8], format: u32, entries: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut bytes = original[..HEADER].to_vec();
    bytes[16..20].copy_from_slice(&format.to_be_bytes());
    bytes[40..48].copy_from_slice(&(entries.len() as u64).to_be_bytes());
    for (k, v) in entries {
        for field in [k, v] {
            bytes.extend_from_slice(&(field.len() as u32).to_be_bytes());
            bytes.extend_from_slice(field);
        }
    }
    let digest = Sha256::digest(&bytes);
    bytes.extend_from_slice(&digest);
    if format == 2 {
        bytes.extend_from_slice(&original[original.len() - 32..]);
    }
    bytes
}

fn write_0600(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// A daemon with team "platform", backed up online; stopped. (sandbox, team id, backup path)
fn backed_up() -> (Sandbox, u64, std::path::PathBuf) {
    let sandbox = Sandbox::new();
    let daemon = Daemon::start(&sandbox, 0);
    let team = block_on(async {
        let client = connect(&daemon.socket).await.unwrap();
        client
            .team_create(ctx(), "platform".into())
            .await
            .unwrap()
            .unwrap()
            .id
    });
    let path = sandbox.dir.path().join("platform.backup");
    let (ok, out) = tidemarkd(&sandbox, &["backup", path.to_str().unwrap()]);
    assert!(ok, "{out}");
    assert!(
        out.contains("authenticated with the current encryption key"),
        "{out}"
    );
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "a backup is written 0600");
    assert!(daemon.stop().success());
    (sandbox, team, path)
}

/// What the report of issue 15 did: another local user copies a backup, adds an owner
/// membership for themselves, computes the SHA-256 again, and the daemon's user restores it.
#[test]
fn a_backup_altered_and_hashed_again_is_refused() {
    let (sandbox, team, path) = backed_up();
    let original = std::fs::read(&path).unwrap();
    let mut entries = records(&original);
    let (_, membership) = entries
        .iter()
        .find(|(k, _)| keys::read_u64(k, 0) == Some(team) && k[8] == Kind::Membership as u8)
        .cloned()
        .expect("the creator's membership");
    // The same record, for uid 4242 (a u32 after the team id), and its user-team index.
    let mut theirs = membership.clone();
    theirs[8..12].copy_from_slice(&4242u32.to_le_bytes());
    entries.push((
        Key::new(team, Kind::Membership).u32(4242).into_vec(),
        theirs,
    ));
    entries.push((
        Key::global(Kind::UserTeam).u32(4242).u64(team).into_vec(),
        vec![],
    ));
    entries.sort();
    let before = open_store(&sandbox.data_dir()).snapshot().unwrap().entries;

    let altered = sandbox.dir.path().join("altered.backup");
    write_0600(&altered, &forged(&original, 2, &entries));
    let (ok, out) = tidemarkd(&sandbox, &["restore", altered.to_str().unwrap()]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("not made with this daemon's encryption key, or it was altered"),
        "{out}"
    );
    // The old format, checksum only: refused unless asked for, then restored with a warning.
    let old = sandbox.dir.path().join("old-format.backup");
    write_0600(&old, &forged(&original, 1, &entries));
    let (ok, out) = tidemarkd(&sandbox, &["restore", old.to_str().unwrap()]);
    assert!(!ok && out.contains("old-format backup"), "{out}");
    assert_eq!(
        open_store(&sandbox.data_dir()).snapshot().unwrap().entries,
        before,
        "a refused restore changed the store"
    );
    let (ok, out) = tidemarkd(
        &sandbox,
        &["restore", old.to_str().unwrap(), "--accept-unauthenticated"],
    );
    assert!(ok, "{out}");
    assert!(
        out.contains("warning") && out.contains("UNAUTHENTICATED"),
        "{out}"
    );
    // The untouched backup restores, authenticated.
    let (ok, out) = tidemarkd(&sandbox, &["restore", path.to_str().unwrap()]);
    assert!(ok, "{out}");
    assert!(
        out.contains("authenticated with the current encryption key"),
        "{out}"
    );
}

/// `rotate-key` leaves the new key alone in the key file: a backup made before no longer
/// verifies (nor would its secrets decrypt) until the old key is put back after the new one;
/// then it restores, and says it was the older key.
#[test]
fn a_backup_from_before_a_key_rotation_restores_with_its_key_back_in_the_key_file() {
    let (sandbox, _, path) = backed_up();
    let key_file = sandbox.data_dir().join("encryption.key");
    let old_key = std::fs::read_to_string(&key_file).unwrap();
    let (ok, out) = tidemarkd(&sandbox, &["rotate-key"]);
    assert!(ok, "{out}");
    let (ok, out) = tidemarkd(&sandbox, &["restore", path.to_str().unwrap()]);
    assert!(!ok && out.contains("MAC does not verify"), "{out}");
    let rotated = std::fs::read_to_string(&key_file).unwrap();
    write_0600(&key_file, format!("{rotated}{old_key}").as_bytes());
    let (ok, out) = tidemarkd(&sandbox, &["restore", path.to_str().unwrap()]);
    assert!(ok, "{out}");
    assert!(out.contains("older encryption key (#2"), "{out}");
}

/// A next_id of 2^62 once made restore draw ids one by one for ever. Even in a backup whose
/// MAC verifies (made here with the daemon's own key), it now fails at once and says why.
#[test]
fn a_next_id_of_2_62_fails_fast() {
    let (sandbox, _, path) = backed_up();
    let key = std::fs::read_to_string(sandbox.data_dir().join("encryption.key")).unwrap();
    let keys = Keyring::parse(&key, "test").unwrap().backup_keys();
    let file = std::fs::File::open(&path).unwrap();
    let (_, mut snapshot, _) = backup::read(file, backup::Trust::Keys(&keys)).unwrap();
    snapshot.next_id = 1 << 62;
    let crafted = sandbox.dir.path().join("crafted.backup");
    let mut out = std::fs::File::create(&crafted).unwrap();
    backup::write(&snapshot, &keys[0], &mut out).unwrap();
    drop(out);
    std::fs::set_permissions(&crafted, std::fs::Permissions::from_mode(0o600)).unwrap();
    for extra in [None, Some("--accept-unauthenticated")] {
        let mut cmd = sandbox.daemon_command();
        cmd.arg("restore").arg(&crafted).args(extra);
        let started = Instant::now();
        let mut child = cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let status = wait_until(Duration::from_secs(30), "restore to end", || {
            child.try_wait().unwrap()
        });
        let took = started.elapsed();
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(!status.success());
        assert!(took < Duration::from_secs(5), "took {took:?}");
        assert!(
            text.contains("id counter is 4611686018427387904, not below 2^48"),
            "{text}"
        );
    }
    assert!(!sandbox.data_dir().join("store.restoring").exists());
}

/// Refused before a byte is read: a group-writable file, a symlink to a good backup, a
/// directory.
#[test]
fn a_backup_file_another_user_could_have_written_is_refused() {
    let (sandbox, _, path) = backed_up();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o660)).unwrap();
    let (ok, out) = tidemarkd(&sandbox, &["restore", path.to_str().unwrap()]);
    assert!(!ok && out.contains("group or others can write it"), "{out}");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let link = sandbox.dir.path().join("link.backup");
    std::os::unix::fs::symlink(&path, &link).unwrap();
    let (ok, out) = tidemarkd(&sandbox, &["restore", link.to_str().unwrap()]);
    assert!(!ok && out.contains("is a symlink"), "{out}");
    let (ok, out) = tidemarkd(&sandbox, &["restore", sandbox.dir.path().to_str().unwrap()]);
    assert!(!ok && out.contains("not a regular file"), "{out}");
    let (ok, out) = tidemarkd(&sandbox, &["restore", path.to_str().unwrap()]);
    assert!(ok, "{out}");
}

/// A backup owned by another (non-root) user is refused, whatever its mode. Needs root to give
/// the file away.
#[test]
#[cfg_attr(
    tidemark_not_root,
    ignore = "needs root: giving a file to another uid takes chown"
)]
fn a_backup_owned_by_another_user_is_refused() {
    let (sandbox, _, path) = backed_up();
    std::os::unix::fs::chown(&path, Some(4242), None).unwrap();
    let (ok, out) = tidemarkd(&sandbox, &["restore", path.to_str().unwrap()]);
    assert!(!ok && out.contains("belongs to uid 4242"), "{out}");
}
