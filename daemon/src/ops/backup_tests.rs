//! The backup format: round trips, damage, origin (current and older keys, another key, the
//! old format), counters, and the checks on the file itself.

use super::*;
use crate::crypto::Keyring;

fn sample() -> Snapshot {
    Snapshot {
        entries: vec![
            (
                crate::store::keys::Key::global(crate::store::Kind::User)
                    .u32(1000)
                    .into_vec(),
                b"v1".to_vec(),
            ),
            (
                crate::store::keys::Key::global(crate::store::Kind::User)
                    .u32(1001)
                    .into_vec(),
                vec![],
            ),
        ],
        next_id: 42,
    }
}

fn keyring(keys: &[&crate::crypto::Secret]) -> Keyring {
    let text: Vec<&str> = keys.iter().map(|k| k.expose()).collect();
    Keyring::parse(&text.join("\n"), "test").unwrap()
}

fn written(snapshot: &Snapshot, ring: &Keyring) -> Vec<u8> {
    let mut bytes = Vec::new();
    write(snapshot, &ring.backup_keys()[0], &mut bytes).unwrap();
    bytes
}

/// The same records as format 1 wrote them: checksum, no MAC.
fn format_1(snapshot: &Snapshot) -> Vec<u8> {
    let mut bytes = MAGIC.to_vec();
    bytes.extend_from_slice(&1u32.to_be_bytes());
    bytes.extend_from_slice(&CURRENT_SCHEMA.to_be_bytes());
    bytes.extend_from_slice(&1_700_000_000i64.to_be_bytes());
    bytes.extend_from_slice(&snapshot.next_id.to_be_bytes());
    bytes.extend_from_slice(&(snapshot.entries.len() as u64).to_be_bytes());
    for (k, v) in &snapshot.entries {
        for field in [k, v] {
            bytes.extend_from_slice(&(field.len() as u32).to_be_bytes());
            bytes.extend_from_slice(field);
        }
    }
    let digest = Sha256::digest(&bytes);
    bytes.extend_from_slice(&digest);
    bytes
}

#[test]
fn round_trip_with_the_current_key() {
    let ring = keyring(&[&Keyring::generate_key()]);
    let bytes = written(&sample(), &ring);
    let (header, snap, origin) = read(&bytes[..], Trust::Keys(&ring.backup_keys())).unwrap();
    assert_eq!((header.format, header.records), (2, 2));
    assert_eq!(snap.entries, sample().entries);
    assert_eq!(snap.next_id, 42);
    assert_eq!(origin, Origin::Key(0));
}

/// After a rotation the old key stays in the keyring (second): backups made before still
/// verify, and say so.
#[test]
fn a_backup_made_before_a_key_rotation_verifies_with_the_older_key() {
    let (old, new) = (Keyring::generate_key(), Keyring::generate_key());
    let bytes = written(&sample(), &keyring(&[&old]));
    let rotated = keyring(&[&new, &old]);
    let (_, _, origin) = read(&bytes[..], Trust::Keys(&rotated.backup_keys())).unwrap();
    assert_eq!(origin, Origin::Key(1));
    assert!(origin.to_string().contains("older encryption key (#2"));
    // Once the old key is gone, it no longer does.
    let only_new = keyring(&[&new]);
    assert!(matches!(
        read(&bytes[..], Trust::Keys(&only_new.backup_keys())),
        Err(BackupError::NotAuthentic { keys: 1 })
    ));
}

#[test]
fn any_damage_is_refused() {
    let ring = keyring(&[&Keyring::generate_key()]);
    let keys = ring.backup_keys();
    let bytes = written(&sample(), &ring);
    for i in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0x01;
        assert!(
            read(&bad[..], Trust::Keys(&keys)).is_err(),
            "a flipped bit at {i} went unnoticed"
        );
    }
    for len in 0..bytes.len() {
        assert!(
            read(&bytes[..len], Trust::Keys(&keys)).is_err(),
            "cut at {len} went unnoticed"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(read(&longer[..], Trust::Keys(&keys)).is_err());
}

/// What another local user can do without the key: change a record and compute the SHA-256
/// again. The checksum then matches; the MAC does not.
#[test]
fn a_record_altered_and_hashed_again_is_not_authentic() {
    let ring = keyring(&[&Keyring::generate_key()]);
    let keys = ring.backup_keys();
    let bytes = written(&sample(), &ring);
    let mut altered = bytes[..bytes.len() - 64].to_vec();
    let at = altered.windows(2).position(|w| w == b"v1").unwrap();
    altered[at] = b'w';
    let digest = Sha256::digest(&altered);
    altered.extend_from_slice(&digest);
    altered.extend_from_slice(&bytes[bytes.len() - 32..]);
    let err = read(&altered[..], Trust::Keys(&keys)).unwrap_err();
    assert!(
        matches!(err, BackupError::NotAuthentic { keys: 1 }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("not made with this daemon's encryption key")
    );
    // Another daemon's key is refused alike.
    let other = keyring(&[&Keyring::generate_key()]);
    assert!(matches!(
        read(&bytes[..], Trust::Keys(&other.backup_keys())),
        Err(BackupError::NotAuthentic { .. })
    ));
    // Asked for explicitly, it is read, and says it was not authenticated.
    let (_, _, origin) = read(&altered[..], Trust::AcceptUnauthenticated(&keys)).unwrap();
    assert_eq!(origin, Origin::Unauthenticated { format: 2 });
}

#[test]
fn the_old_format_is_refused_unless_accepted_explicitly() {
    let ring = keyring(&[&Keyring::generate_key()]);
    let keys = ring.backup_keys();
    let old = format_1(&sample());
    let err = read(&old[..], Trust::Keys(&keys)).unwrap_err();
    assert!(matches!(err, BackupError::Unauthenticated), "{err}");
    assert!(err.to_string().contains("--accept-unauthenticated"));
    let (header, snap, origin) = read(&old[..], Trust::AcceptUnauthenticated(&keys)).unwrap();
    assert_eq!((header.format, snap.entries), (1, sample().entries));
    assert_eq!(origin, Origin::Unauthenticated { format: 1 });
    // Damage is still found.
    let mut bad = old.clone();
    bad[40] ^= 1;
    assert!(matches!(
        read(&bad[..], Trust::AcceptUnauthenticated(&keys)),
        Err(BackupError::Damaged(_))
    ));
    // A format 2 backup checked by someone without the key: its checksum only.
    let bytes = written(&sample(), &ring);
    let (_, _, origin) = read(&bytes[..], Trust::ChecksumOnly).unwrap();
    assert_eq!(origin, Origin::NotChecked);
}

/// A crafted counter, even in an authentic backup, fails at once with what is wrong.
#[test]
fn counters_out_of_bounds_are_refused() {
    let ring = keyring(&[&Keyring::generate_key()]);
    let mut snap = sample();
    snap.next_id = 1 << 62;
    let bytes = written(&snap, &ring);
    let err = read(&bytes[..], Trust::Keys(&ring.backup_keys())).unwrap_err();
    assert!(
        err.to_string()
            .contains("id counter is 4611686018427387904"),
        "{err}"
    );
}

#[test]
fn files_another_user_could_have_written_are_refused() {
    let p = Path::new("/backups/b");
    assert!(check_file(p, true, 0o100600, 1000, 1000).is_ok());
    // Readable by others is no risk to its origin; root's files are trusted.
    assert!(check_file(p, true, 0o100644, 1000, 1000).is_ok());
    assert!(check_file(p, true, 0o100600, 0, 1000).is_ok());
    for (mode, owner, what) in [
        (0o100620, 1000, "group or others can write"),
        (0o100602, 1000, "group or others can write"),
        (0o100666, 1000, "mode 0666"),
        (0o100600, 1001, "belongs to uid 1001"),
    ] {
        let err = check_file(p, true, mode, owner, 1000)
            .unwrap_err()
            .to_string();
        assert!(err.contains(what), "{mode:o} {owner}: {err}");
    }
    let err = check_file(p, false, 0o40700, 1000, 1000).unwrap_err();
    assert!(err.to_string().contains("not a regular file"));
}

#[test]
fn a_symlink_or_a_directory_is_refused_before_it_is_read() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.backup");
    std::fs::write(&real, b"TIDEMARK-BACKUP\n").unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(open_checked(&real).is_ok());
    let link = dir.path().join("link.backup");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let err = open_checked(&link).unwrap_err().to_string();
    assert!(err.contains("is a symlink"), "{err}");
    let err = open_checked(dir.path()).unwrap_err().to_string();
    assert!(err.contains("not a regular file"), "{err}");
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o660)).unwrap();
    let err = open_checked(&real).unwrap_err().to_string();
    assert!(err.contains("mode 0660"), "{err}");
}
