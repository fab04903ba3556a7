//! Encryption coverage: round trips, tampering, binding to records, key files, rotation, and the
//! Fernet specification's own vectors.

use super::*;
use std::os::unix::fs::PermissionsExt;

const KEY_A: &str = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=";

fn keyring(keys: &[&str]) -> Keyring {
    Keyring::parse(&keys.join(","), "test").unwrap()
}

fn fresh() -> Keyring {
    Keyring::from_secrets(&[Keyring::generate_key()], "test").unwrap()
}

const TOKEN: Binding<'static> = Binding {
    team_id: 7,
    provider: "github",
    field: "access_token",
};

fn round_trip(value: &str) {
    let ring = fresh();
    let ct = encrypt(&ring, TOKEN, &Secret::new(value));
    let back = decrypt(&ring, TOKEN, &ct).unwrap();
    assert_eq!(back.secret.expose(), value);
    assert!(back.by_newest_key);
}

#[test]
fn round_trip_ascii() {
    round_trip("gho_16C7e42F292c6912E7710c838347Ae178B4a");
}

#[test]
fn round_trip_empty() {
    round_trip("");
}

#[test]
fn round_trip_unicode() {
    round_trip("tøkén-✓-日本語-🔑");
}

#[test]
fn round_trip_long() {
    round_trip(&"0123456789abcdef".repeat(64 * 1024));
}

#[test]
fn ciphertext_hides_the_plaintext_and_differs_every_time() {
    let ring = fresh();
    let secret = Secret::new("gho_canary_value_that_must_not_show");
    let a = encrypt(&ring, TOKEN, &secret);
    let b = encrypt(&ring, TOKEN, &secret);
    assert_ne!(a, b, "a fresh IV per encryption");
    assert!(!a.as_str().contains("canary"));
    assert_eq!(
        format!("{a:?}"),
        format!("Ciphertext({} bytes)", a.as_str().len())
    );
}

#[test]
fn wrong_key_does_not_decrypt() {
    let ct = encrypt(&fresh(), TOKEN, &Secret::new("gho_x"));
    let err = decrypt(&fresh(), TOKEN, &ct).unwrap_err();
    assert!(matches!(err, CryptoError::Undecryptable(_)), "{err}");
}

#[test]
fn tampered_ciphertext_does_not_decrypt() {
    let ring = fresh();
    let ct = encrypt(&ring, TOKEN, &Secret::new("gho_x"));
    let mut bytes = ct.as_str().as_bytes().to_vec();
    for i in [10, bytes.len() / 2, bytes.len() - 5] {
        let original = bytes[i];
        bytes[i] = if original == b'A' { b'B' } else { b'A' };
        let tampered = Ciphertext::from_stored(String::from_utf8(bytes.clone()).unwrap());
        assert!(
            decrypt(&ring, TOKEN, &tampered).is_err(),
            "byte {i} changed"
        );
        bytes[i] = original;
    }
}

#[test]
fn truncated_ciphertext_does_not_decrypt() {
    let ring = fresh();
    let ct = encrypt(&ring, TOKEN, &Secret::new("gho_x"));
    // Cut real data, not just the optional `=` padding.
    let full = ct.as_str().trim_end_matches('=').len();
    for len in [0, 1, 20, full / 2, full - 4, full - 8] {
        let cut = Ciphertext::from_stored(ct.as_str()[..len].to_string());
        assert!(decrypt(&ring, TOKEN, &cut).is_err(), "cut to {len}");
    }
}

#[test]
fn ciphertext_swapped_between_records_is_refused() {
    let ring = fresh();
    let ct = encrypt(&ring, TOKEN, &Secret::new("gho_team7"));
    let others = [
        Binding {
            team_id: 8,
            ..TOKEN
        },
        Binding {
            provider: "jira",
            ..TOKEN
        },
        Binding {
            field: "refresh_token",
            ..TOKEN
        },
    ];
    for other in others {
        match decrypt(&ring, other, &ct) {
            Err(CryptoError::WrongRecord { expected, found }) => {
                assert_eq!(expected, other.to_string());
                assert_eq!(found, TOKEN.to_string());
            }
            other_result => panic!("{other:?} opened a foreign blob: {other_result:?}"),
        }
    }
}

#[test]
fn a_foreign_fernet_token_is_not_a_secret_of_ours() {
    let ring = keyring(&[KEY_A]);
    let plain_fernet = fernet::Fernet::new(KEY_A)
        .unwrap()
        .encrypt(b"not sealed by tidemark");
    let err = decrypt(&ring, TOKEN, &Ciphertext::from_stored(plain_fernet)).unwrap_err();
    assert!(matches!(err, CryptoError::BadPayload(_)), "{err}");
}

#[test]
fn newest_key_encrypts_and_older_keys_still_decrypt() {
    let old = Keyring::generate_key();
    let new = Keyring::generate_key();
    let old_ring = Keyring::from_secrets(std::slice::from_ref(&old), "t").unwrap();
    let both = Keyring::from_secrets(&[new.clone(), old.clone()], "t").unwrap();
    let new_only = Keyring::from_secrets(&[new], "t").unwrap();

    let sealed_by_old = encrypt(&old_ring, TOKEN, &Secret::new("v1"));
    let opened = decrypt(&both, TOKEN, &sealed_by_old).unwrap();
    assert_eq!(opened.secret.expose(), "v1");
    assert!(!opened.by_newest_key, "opened by the older key");

    let sealed_by_both = encrypt(&both, TOKEN, &Secret::new("v2"));
    assert!(
        decrypt(&new_only, TOKEN, &sealed_by_both)
            .unwrap()
            .by_newest_key
    );
    assert!(decrypt(&old_ring, TOKEN, &sealed_by_both).is_err());
}

#[test]
fn rotation_reencrypts_so_the_old_key_can_go() {
    let old = Keyring::generate_key();
    let new = Keyring::generate_key();
    let old_ring = Keyring::from_secrets(std::slice::from_ref(&old), "t").unwrap();
    let during = Keyring::from_secrets(&[new.clone(), old], "t").unwrap();
    let after = Keyring::from_secrets(&[new], "t").unwrap();

    let stored = encrypt(&old_ring, TOKEN, &Secret::new("gho_rotate_me"));
    let opened = decrypt(&during, TOKEN, &stored).unwrap();
    let restored = encrypt(&during, TOKEN, &opened.secret);
    assert_eq!(
        decrypt(&after, TOKEN, &restored).unwrap().secret.expose(),
        "gho_rotate_me"
    );
    assert!(
        decrypt(&after, TOKEN, &stored).is_err(),
        "the old blob needs the old key"
    );
}

#[test]
fn a_token_stamped_in_the_future_still_decrypts() {
    // A clock that steps back must not lock us out of stored secrets.
    let ring = keyring(&[KEY_A]);
    let far_future = 4_102_444_800; // 2100-01-01
    let sealed = Sealed {
        version: PAYLOAD_V1,
        team_id: 7,
        provider: "github".into(),
        field: "access_token".into(),
        value: "gho_future".into(),
    };
    let token = fernet::Fernet::new(KEY_A)
        .unwrap()
        .encrypt_at_time(&bincode::serialize(&sealed).unwrap(), far_future);
    let opened = decrypt(&ring, TOKEN, &Ciphertext::from_stored(token)).unwrap();
    assert_eq!(opened.secret.expose(), "gho_future");
}

#[test]
fn malformed_keys_are_refused_without_echoing_them() {
    for bad in [
        "not-a-key",
        "c2hvcnQ=",
        "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB",
        "%%%",
    ] {
        let err = Keyring::parse(&format!("{KEY_A},{bad}"), KEY_ENV).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err, CryptoError::MalformedKey { index: 2, .. }),
            "{msg}"
        );
        assert!(!msg.contains(bad), "the message echoes the key: {msg}");
        assert!(
            msg.contains("generate-key"),
            "the message says how to fix it: {msg}"
        );
    }
    assert!(matches!(
        Keyring::parse(" ,\n# only a comment\n", "x"),
        Err(CryptoError::NoKey { .. })
    ));
}

#[test]
fn keyring_and_errors_debug_print_no_key_material() {
    let ring = keyring(&[KEY_A]);
    assert!(!format!("{ring:?}").contains(&KEY_A[..10]));
    let err = decrypt(
        &fresh(),
        TOKEN,
        &encrypt(&ring, TOKEN, &Secret::new("gho_secret")),
    )
    .unwrap_err();
    assert!(!format!("{err:?} {err}").contains("gho_secret"));
}

// --- the Fernet specification's vectors (github.com/fernet/spec), as shipped with the crate ---

fn spec_time(now: &str) -> u64 {
    match now {
        "1985-10-26T01:20:00-07:00" => 499_162_800,
        "1985-10-26T01:20:01-07:00" => 499_162_801,
        "1985-10-26T01:21:31-07:00" => 499_162_891,
        other => panic!("add {other} to the table"),
    }
}

fn spec(name: &str) -> Vec<serde_json::Value> {
    let text = match name {
        "generate" => include_str!("testdata/generate.json"),
        "verify" => include_str!("testdata/verify.json"),
        "invalid" => include_str!("testdata/invalid.json"),
        _ => unreachable!(),
    };
    serde_json::from_str(text).unwrap()
}

#[test]
fn fernet_spec_generate_and_verify_vectors() {
    for case in spec("generate").into_iter().chain(spec("verify")) {
        let key = fernet::Fernet::new(case["secret"].as_str().unwrap()).unwrap();
        let now = spec_time(case["now"].as_str().unwrap());
        let ttl = case["ttl_sec"].as_u64();
        let plain = key
            .decrypt_at_time(case["token"].as_str().unwrap(), ttl, now)
            .unwrap();
        assert_eq!(plain, case["src"].as_str().unwrap().as_bytes());
    }
}

#[test]
fn fernet_spec_invalid_vectors_are_refused() {
    let cases = spec("invalid");
    assert_eq!(cases.len(), 8);
    for case in cases {
        let desc = case["desc"].as_str().unwrap();
        let key = fernet::Fernet::new(case["secret"].as_str().unwrap()).unwrap();
        let now = spec_time(case["now"].as_str().unwrap());
        let token = case["token"].as_str().unwrap();
        let result = key.decrypt_at_time(token, case["ttl_sec"].as_u64(), now);
        assert!(result.is_err(), "spec case '{desc}' was accepted");
        // Our keyring ignores time (no TTLs), but must refuse every forged or broken token.
        if !desc.contains("TTL") && !desc.contains("clock skew") {
            let ours = Keyring::parse(case["secret"].as_str().unwrap(), "spec").unwrap();
            assert!(ours.decrypt(token).is_none(), "keyring accepted '{desc}'");
        }
    }
}

// --- key files ---

#[test]
fn key_file_is_created_once_with_mode_0600_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let (ring, source) = load_keyring_with(None, dir.path(), true).unwrap();
    let path = dir.path().join(KEY_FILE);
    assert_eq!(source, KeySource::File(path.clone()));
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let ct = encrypt(&ring, TOKEN, &Secret::new("gho_persist"));
    let (again, _) = load_keyring_with(None, dir.path(), false).unwrap();
    assert_eq!(
        decrypt(&again, TOKEN, &ct).unwrap().secret.expose(),
        "gho_persist"
    );
}

#[test]
fn missing_key_file_without_create_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = load_keyring_with(None, dir.path(), false).unwrap_err();
    assert!(err.to_string().contains("no encryption key"), "{err}");
}

#[test]
fn group_or_world_readable_key_file_is_refused_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    load_keyring_with(None, dir.path(), true).unwrap();
    let path = dir.path().join(KEY_FILE);
    for mode in [0o640, 0o604, 0o660, 0o644] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        let err = load_keyring_with(None, dir.path(), true)
            .unwrap_err()
            .to_string();
        assert!(err.contains("chmod 600"), "mode {mode:o}: {err}");
    }
}

#[test]
fn symlinked_key_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.key");
    std::fs::write(&real, format!("{KEY_A}\n")).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::os::unix::fs::symlink(&real, dir.path().join(KEY_FILE)).unwrap();
    let err = load_keyring_with(None, dir.path(), true)
        .unwrap_err()
        .to_string();
    assert!(err.contains("symlink"), "{err}");
}

#[test]
fn corrupt_key_file_is_refused_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(KEY_FILE);
    std::fs::write(&path, "this is not a key\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let err = load_keyring_with(None, dir.path(), true).unwrap_err();
    assert!(matches!(err, CryptoError::MalformedKey { .. }), "{err}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "this is not a key\n"
    );
}

#[test]
fn environment_keys_win_over_the_key_file_and_take_a_list() {
    let dir = tempfile::tempdir().unwrap();
    let new = Keyring::generate_key();
    let list = Secret::new(format!("{}, {KEY_A}", new.expose()));
    let (ring, source) = load_keyring_with(Some(list), dir.path(), true).unwrap();
    assert_eq!(source, KeySource::Env);
    assert_eq!(ring.len(), 2);
    assert!(
        !dir.path().join(KEY_FILE).exists(),
        "no key file when the env has the keys"
    );
    let old_ct = encrypt(&keyring(&[KEY_A]), TOKEN, &Secret::new("x"));
    assert!(!decrypt(&ring, TOKEN, &old_ct).unwrap().by_newest_key);
}

#[test]
fn key_file_rewrite_keeps_order_and_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(KEY_FILE);
    let keys = [Keyring::generate_key(), Keyring::generate_key()];
    write_key_file(&path, &keys).unwrap();
    let read = read_key_file(&path).unwrap();
    assert_eq!(read, keys);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}
