//! Properties of `X-Hub-Signature-256` checking and of the typed view of a body.

use super::parse::{Delivery, Repository, parse, unverified_repository_id, verify_and_parse};
use super::verify::{Verifier, VerifyError, parse_header, sign, verify};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

/// Secrets around HMAC's 64-byte block, where keys start to be hashed first.
fn secret() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![bytes(16), bytes(100)]
}

/// Headers near the valid shape as well as anything at all.
fn header() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        "sha256=[0-9a-fA-F]{60,68}".prop_map(String::into_bytes),
        "(sha256=|SHA256=|sha256 |sha1=| sha256=)?[0-9a-fA-Fg-z =]{0,70}"
            .prop_map(String::into_bytes),
        bytes(100),
    ]
}

/// `sha256=` and exactly 64 hex digits, checked independently of `parse_header`.
fn well_formed(h: &[u8]) -> bool {
    h.len() == 71 && h.starts_with(b"sha256=") && h[7..].iter().all(u8::is_ascii_hexdigit)
}

/// Keys HMAC treats alike: hashed when longer than a block, then padded with zeros.
fn hmac_key(k: &[u8]) -> Vec<u8> {
    let mut k = if k.len() > 64 {
        Sha256::digest(k).to_vec()
    } else {
        k.to_vec()
    };
    while k.last() == Some(&0) {
        k.pop();
    }
    k
}

proptest! {
    /// The receiver hashes a body chunk by chunk as it arrives: whatever the chunking, the
    /// verdict is the one-shot one, for each of several secrets and for a wrong signature.
    #[test]
    fn a_body_hashed_in_chunks_verifies_as_in_one_piece(
        secrets in proptest::collection::vec(secret(), 1..4),
        signer in any::<prop::sample::Index>(),
        body in bytes(4096),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
        forged in any::<bool>(),
    ) {
        let keys: Vec<&[u8]> = secrets.iter().map(Vec::as_slice).collect();
        let mut sig = parse_header(Some(sign(&secrets[signer.index(secrets.len())], &body).as_bytes())).unwrap();
        if forged {
            sig[0] ^= 1;
        }
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(body.len() + 1)).collect();
        cuts.sort_unstable();
        let mut v = Verifier::new(&keys);
        let mut from = 0;
        for at in cuts.into_iter().chain([body.len()]) {
            v.update(&body[from..at]);
            from = at;
        }
        let one_shot = verify(&keys, &body, &sig);
        prop_assert_eq!(v.finish(&sig), one_shot);
        prop_assert_eq!(one_shot.is_ok(), !forged);
    }

    #[test]
    fn what_is_signed_verifies(secret in secret(), body in bytes(4096)) {
        let header = sign(&secret, &body);
        prop_assert!(well_formed(header.as_bytes()));
        let sig = parse_header(Some(header.as_bytes())).unwrap();
        prop_assert_eq!(verify(&[&secret], &body, &sig), Ok(()));
        prop_assert!(verify_and_parse(&[&secret], Some(header.as_bytes()), "push", &body).is_ok());
    }

    #[test]
    fn one_bit_flipped_in_the_body_is_refused(
        secret in secret(), body in bytes(2048).prop_filter("non-empty", |b| !b.is_empty()),
        at in any::<prop::sample::Index>(), bit in 0..8u8,
    ) {
        let sig = parse_header(Some(sign(&secret, &body).as_bytes())).unwrap();
        let mut changed = body.clone();
        changed[at.index(body.len())] ^= 1 << bit;
        prop_assert_eq!(verify(&[&secret], &changed, &sig), Err(VerifyError::Mismatch));
    }

    #[test]
    fn one_bit_flipped_in_the_signature_is_refused(
        secret in secret(), body in bytes(512), at in 0..32usize, bit in 0..8u8,
    ) {
        let mut sig = parse_header(Some(sign(&secret, &body).as_bytes())).unwrap();
        sig[at] ^= 1 << bit;
        prop_assert_eq!(verify(&[&secret], &body, &sig), Err(VerifyError::Mismatch));
    }

    /// In the header's text a flip is refused too, except the one that only changes the case
    /// of a hex letter (the same value).
    #[test]
    fn one_bit_flipped_in_the_header_is_refused(
        secret in secret(), body in bytes(512), at in 0..71usize, bit in 0..8u8,
    ) {
        let mut header = sign(&secret, &body).into_bytes();
        let before = header[at];
        header[at] ^= 1 << bit;
        let got = verify_and_parse(&[&secret], Some(&header), "push", &body).map(|_| ());
        let after = header[at];
        let expected = if at < 7 || !after.is_ascii_hexdigit() {
            Err(VerifyError::Malformed)
        } else if after.eq_ignore_ascii_case(&before) {
            Ok(())
        } else {
            Err(VerifyError::Mismatch)
        };
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn headers_that_are_not_sha256_and_64_hex_digits_are_refused(h in header()) {
        let got = parse_header(Some(&h));
        if h.is_empty() {
            prop_assert_eq!(got, Err(VerifyError::Missing));
        } else if well_formed(&h) {
            prop_assert!(got.is_ok());
        } else {
            prop_assert_eq!(got, Err(VerifyError::Malformed));
        }
    }

    #[test]
    fn arbitrary_headers_and_bodies_never_panic(
        secrets in proptest::collection::vec(secret(), 0..3),
        h in proptest::option::of(header()),
        event in ".{0,20}",
        body in prop_oneof![bytes(1024), ".{0,200}".prop_map(String::into_bytes)],
    ) {
        let secrets: Vec<&[u8]> = secrets.iter().map(Vec::as_slice).collect();
        let got = verify_and_parse(&secrets, h.as_deref(), &event, &body);
        if h.as_deref().is_none_or(<[u8]>::is_empty) {
            prop_assert_eq!(got, Err(VerifyError::Missing));
        }
        let _ = unverified_repository_id(&body);
        prop_assert_eq!(parse(&event, &body).event, event);
    }

    /// Accepted iff one of the secrets is the signer's (as HMAC sees keys).
    #[test]
    fn several_secrets_accept_iff_one_matches(
        secrets in proptest::collection::vec(secret(), 0..5),
        signer in secret(),
        include in proptest::option::of(any::<prop::sample::Index>()),
        body in bytes(256),
    ) {
        let mut secrets = secrets;
        if let Some(i) = include {
            secrets.insert(i.index(secrets.len() + 1), signer.clone());
        }
        let matches = secrets.iter().any(|s| hmac_key(s) == hmac_key(&signer));
        let refs: Vec<&[u8]> = secrets.iter().map(Vec::as_slice).collect();
        let sig = parse_header(Some(sign(&signer, &body).as_bytes())).unwrap();
        let got = verify(&refs, &body, &sig);
        prop_assert_eq!(got.is_ok(), matches, "{:?}", got);
    }

    /// What a body names comes out of `verify_and_parse` as it was put in, whatever else the
    /// body carries.
    #[test]
    fn a_signed_body_is_parsed_to_what_it_names(
        action in proptest::option::of("[a-z_]{0,12}"),
        number in proptest::option::of(any::<u64>()),
        pr in proptest::option::of(any::<u64>()),
        repo in proptest::option::of((any::<u64>(), proptest::option::of(".{0,20}"))),
        extra in ".{0,20}",
    ) {
        let mut body = serde_json::json!({ "sender": { "login": extra } });
        if let Some(a) = &action { body["action"] = a.clone().into(); }
        if let Some(n) = number { body["number"] = n.into(); }
        if let Some(n) = pr {
            body["pull_request"] = serde_json::json!({ "number": n, "state": "open" });
        }
        if let Some((id, name)) = &repo {
            body["repository"] = serde_json::json!({ "id": id, "private": true });
            if let Some(name) = name { body["repository"]["full_name"] = name.clone().into(); }
        }
        let body = serde_json::to_vec(&body).unwrap();
        let header = sign(b"secret", &body);
        let got = verify_and_parse(&[b"secret"], Some(header.as_bytes()), "pull_request", &body);
        let repository = repo.map(|(id, full_name)| Repository { id, full_name });
        prop_assert_eq!(unverified_repository_id(&body), repository.as_ref().map(|r| r.id));
        let want = Delivery {
            event: "pull_request".into(),
            action,
            pull_request: pr.or(number),
            issue: None,
            repository,
            pushed: vec![],
        };
        prop_assert_eq!(got, Ok(want));
    }
}

/// HMAC pads short keys with zeros, so a secret and the same with trailing NULs sign alike.
/// tidemark's own secrets are 64 hex digits, and a delivery is checked only against its team's.
#[test]
fn keys_that_differ_only_by_trailing_zeros_sign_alike() {
    assert_eq!(sign(b"s", b"body"), sign(b"s\0\0", b"body"));
    assert_ne!(sign(b"s", b"body"), sign(b"\0s", b"body"));
}
