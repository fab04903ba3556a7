//! The body of the `verify_and_parse` fuzz target (`daemon/fuzz/`, feature `fuzzing`). It lives
//! here so that the seeded test below, which runs on stable, runs exactly what the fuzzer runs.

use super::parse::{Delivery, check_signature, parse, unverified_repository_id, verify_and_parse};
use super::verify::{VerifyError, parse_header, sign, verify};

/// One fuzz input: a length byte and that many bytes of secret, the same for the signature
/// header and for the event, then the body (each part shorter if the input ends first).
///
/// Checks, besides "no panic": the header as sent is accepted only if it is the body's real
/// signature; a correctly signed copy is accepted among several secrets and parsed (so the
/// parse path is reached whatever the header); one bit changed in the body or the signature
/// is refused. Returns the signed copy's delivery.
pub fn verify_and_parse_input(data: &[u8]) -> Delivery {
    let (secret, rest) = take(data);
    let (header, rest) = take(rest);
    let (event, body) = take(rest);
    let event = String::from_utf8_lossy(event);
    let _ = unverified_repository_id(body);

    let real = sign(secret, body);
    let signature = parse_header(Some(real.as_bytes())).expect("sign makes a valid header");
    match verify_and_parse(&[secret], Some(header), &event, body) {
        Ok(d) => {
            assert_eq!(parse_header(Some(header)), Ok(signature));
            assert_eq!(d, parse(&event, body));
        }
        Err(VerifyError::Missing) => assert!(header.is_empty()),
        Err(_) => {}
    }

    // Signed: accepted with another secret beside the right one, and parsed.
    let d: Delivery = verify_and_parse(&[header, secret], Some(real.as_bytes()), &event, body)
        .expect("a correctly signed body is accepted");
    assert_eq!(d.event, event);
    let upper = real.replace("sha256=", "").to_ascii_uppercase();
    let upper = format!("sha256={upper}");
    assert_eq!(
        check_signature(&[secret], Some(upper.as_bytes()), body),
        Ok(())
    );

    // One bit changed, chosen by the input's length: refused.
    let at = data.len();
    let mut flipped = signature;
    flipped[at % 32] ^= 1 << (at % 8);
    assert_eq!(
        verify(&[secret], body, &flipped),
        Err(VerifyError::Mismatch)
    );
    if !body.is_empty() {
        let mut changed = body.to_vec();
        changed[at % body.len()] ^= 1 << (at % 8);
        assert_eq!(
            check_signature(&[secret], Some(real.as_bytes()), &changed),
            Err(VerifyError::Mismatch)
        );
    }
    d
}

fn take(data: &[u8]) -> (&[u8], &[u8]) {
    match data.split_first() {
        None => (&[], &[]),
        Some((&n, rest)) => rest.split_at(usize::from(n).min(rest.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    const TEMPLATES: &[&[u8]] = &[
        br#"{"action":"opened","number":12,"pull_request":{"number":12,"merged":false},"repository":{"id":7,"full_name":"acme/api"}}"#,
        br#"{"action":"submitted","review":{"state":"approved"},"pull_request":{"number":3},"repository":{"id":1}}"#,
        br#"{"action":"renamed","changes":{"repository":{"name":{"from":"old"}}},"repository":{"id":9,"full_name":"acme/new"}}"#,
        br#"{"ref":"refs/heads/main","repository":{"id":4,"full_name":"a/b","created_at":1700000000}}"#,
        br#"{"zen":"Keep it logically awesome.","hook_id":5}"#,
    ];

    /// Secret, header and event of random sizes; a body that is random bytes or a payload
    /// GitHub would send, mutated and cut; the header random, a random `sha256=` + hex, or the
    /// real one.
    fn input(rng: &mut StdRng) -> Vec<u8> {
        let bytes = |rng: &mut StdRng, n: usize| (0..n).map(|_| rng.random()).collect::<Vec<u8>>();
        let n = rng.random_range(0..80);
        let secret = bytes(rng, n);
        let mut body = if rng.random_bool(0.3) {
            let n = rng.random_range(0..200);
            bytes(rng, n)
        } else {
            TEMPLATES[rng.random_range(0..TEMPLATES.len())].to_vec()
        };
        // Half are left whole, so that the parse path often finds what it looks for.
        for _ in 0..rng.random_range(0..4) * usize::from(rng.random_bool(0.5)) {
            if !body.is_empty() {
                let i = rng.random_range(0..body.len());
                body[i] = rng.random();
            }
        }
        if rng.random_bool(0.2) {
            body.truncate(rng.random_range(0..=body.len()));
        }
        let header = match rng.random_range(0..4) {
            0 => sign(&secret, &body).into_bytes(),
            1 => {
                let hex: String = (0..rng.random_range(60..68))
                    .map(|_| b"0123456789abcdefABCDEFxyz"[rng.random_range(0..25)] as char)
                    .collect();
                format!("sha256={hex}").into_bytes()
            }
            _ => {
                let n = rng.random_range(0..80);
                bytes(rng, n)
            }
        };
        let event = [
            "pull_request",
            "pull_request_review",
            "push",
            "repository",
            "\u{fffd}",
        ][rng.random_range(0..5)];
        let mut data = Vec::new();
        for part in [&secret[..], &header, event.as_bytes()] {
            data.push(part.len() as u8);
            data.extend_from_slice(part);
        }
        data.extend_from_slice(&body);
        if rng.random_bool(0.1) {
            data.truncate(rng.random_range(0..=data.len()));
        }
        data
    }

    #[test]
    fn the_fuzz_target_on_seeded_random_inputs() {
        let mut rng = StdRng::seed_from_u64(0x7a1d_e3a2c);
        let (mut prs, mut repos) = (0, 0);
        for _ in 0..4000 {
            let d = verify_and_parse_input(&input(&mut rng));
            prs += usize::from(d.pull_request.is_some());
            repos += usize::from(d.repository.is_some());
        }
        // The parse path is reached with bodies that name things, not only with garbage
        // (552 and 1,100 of 4,000 with this seed).
        assert!(
            prs > 400 && repos > 800,
            "{prs} pull requests, {repos} repositories"
        );
        for edge in [&b""[..], &[0], &[0, 0, 0], &[255; 3], b"\x01k\x00\x00{}"] {
            verify_and_parse_input(edge);
        }
    }

    #[test]
    fn inputs_split_as_documented() {
        assert_eq!(take(b"\x02abcd"), (&b"ab"[..], &b"cd"[..]));
        assert_eq!(take(b"\x09ab"), (&b"ab"[..], &b""[..]));
        assert_eq!(take(b""), (&b""[..], &b""[..]));
    }
}
