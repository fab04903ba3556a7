//! `X-Hub-Signature-256`: HMAC-SHA256 of the exact body bytes with the hook's secret, compared
//! in constant time. Nothing about a delivery is trusted, or even parsed, before this passes.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("no X-Hub-Signature-256 header")]
    Missing,
    #[error("X-Hub-Signature-256 is not `sha256=` and 64 hex digits")]
    Malformed,
    #[error("X-Hub-Signature-256 does not match")]
    Mismatch,
}

/// The header's 32 signature bytes, or why it is not a signature at all.
pub fn parse_header(header: Option<&[u8]>) -> Result<[u8; 32], VerifyError> {
    let header = header.ok_or(VerifyError::Missing)?;
    if header.is_empty() {
        return Err(VerifyError::Missing);
    }
    let hex = header
        .strip_prefix(b"sha256=")
        .ok_or(VerifyError::Malformed)?;
    if hex.len() != 64 {
        return Err(VerifyError::Malformed);
    }
    let mut out = [0u8; 32];
    for (i, pair) in hex.chunks(2).enumerate() {
        let digit = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        };
        let (Some(hi), Some(lo)) = (digit(pair[0]), digit(pair[1])) else {
            return Err(VerifyError::Malformed);
        };
        out[i] = hi << 4 | lo;
    }
    Ok(out)
}

/// HMAC-SHA256 keyed with one secret, before any body byte: what the hook index keeps per
/// secret, so that a delivery starts from the keyed state instead of hashing the key again.
pub type KeyedMac = Hmac<Sha256>;

/// `secret` as a keyed HMAC state.
pub fn keyed(secret: &[u8]) -> KeyedMac {
    KeyedMac::new_from_slice(secret).expect("HMAC takes keys of any length")
}

/// The HMACs of a body as it arrives, one per candidate secret (the current one, and a previous
/// one during a rotation's grace period): the receiver feeds each chunk as it reads it, so the
/// check needs no second pass over the body.
#[derive(Clone)]
pub struct Verifier {
    macs: Vec<KeyedMac>,
}

impl Verifier {
    pub fn new(secrets: &[&[u8]]) -> Verifier {
        Verifier {
            macs: secrets.iter().map(|s| keyed(s)).collect(),
        }
    }

    /// From keyed states (cloned: the originals stay ready for the next delivery).
    pub fn from_keyed(keyed: &[KeyedMac]) -> Verifier {
        Verifier {
            macs: keyed.to_vec(),
        }
    }

    pub fn update(&mut self, chunk: &[u8]) {
        for mac in &mut self.macs {
            mac.update(chunk);
        }
    }

    /// Does `signature` sign what was fed, with one of the secrets? Every secret is checked, in
    /// constant time, so timing says nothing of which.
    pub fn finish(self, signature: &[u8; 32]) -> Result<(), VerifyError> {
        let mut ok = false;
        for mac in self.macs {
            ok |= mac.verify_slice(signature).is_ok();
        }
        if ok {
            Ok(())
        } else {
            Err(VerifyError::Mismatch)
        }
    }
}

/// Does `signature` sign `body` with one of `secrets` (the current one, and a previous one
/// during a rotation's grace period)? Every secret is tried, so timing says nothing of which.
pub fn verify(secrets: &[&[u8]], body: &[u8], signature: &[u8; 32]) -> Result<(), VerifyError> {
    let mut v = Verifier::new(secrets);
    v.update(body);
    v.finish(signature)
}

/// The header GitHub would send for `body` (for tests and the benchmark).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = keyed(secret);
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let mut s = String::from("sha256=");
    for b in bytes.iter() {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn githubs_documented_test_vector() {
        let secret = b"It's a Secret to Everybody";
        let body = b"Hello, World!";
        let header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(sign(secret, body), header);
        let sig = parse_header(Some(header.as_bytes())).unwrap();
        assert_eq!(verify(&[secret], body, &sig), Ok(()));
        assert_eq!(
            verify(&[b"another secret"], body, &sig),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(&[b"another", secret], body, &sig),
            Ok(()),
            "any of the secrets"
        );
        assert_eq!(
            verify(&[secret], b"Hello, World?", &sig),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn headers_that_are_not_signatures() {
        assert_eq!(parse_header(None), Err(VerifyError::Missing));
        assert_eq!(parse_header(Some(b"")), Err(VerifyError::Missing));
        for bad in [
            &b"sha1=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"[..],
            b"sha256=",
            b"sha256=757107",
            b"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1",
            b"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17aa",
            b"sha256=zz7107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
            b"SHA256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
            b" sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        ] {
            assert_eq!(
                parse_header(Some(bad)),
                Err(VerifyError::Malformed),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        // Upper-case hex is still hex.
        assert!(
            parse_header(Some(
                b"sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17"
            ))
            .is_ok()
        );
    }
}
