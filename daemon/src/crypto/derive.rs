//! Keys derived from the encryption keys for uses other than Fernet, so that the encryption
//! key itself is only ever a Fernet key: HMAC-SHA256 keyed with the key's 32 bytes over a label
//! naming the use (one HKDF-Expand block, with the key as the pseudorandom key).
//!
//! `backup_keys` authenticate backup files (`ops/backup.rs`): one per key in the keyring,
//! newest first, so a backup made before a rotation still verifies while its key is kept.

use super::Keyring;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

/// The label backup MAC keys are derived with.
pub const BACKUP_LABEL: &[u8] = b"tidemark backup v2";

/// A derived key. Its Debug shows nothing of it; its bytes are zeroed on drop.
pub struct DerivedKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for DerivedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DerivedKey(redacted)")
    }
}

impl DerivedKey {
    /// A fresh HMAC-SHA256 keyed with this key.
    pub fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.0[..]).expect("HMAC takes keys of any length")
    }
}

fn derive(key: &[u8; 32], label: &[u8]) -> DerivedKey {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(label);
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&mac.finalize().into_bytes());
    DerivedKey(out)
}

impl Keyring {
    /// The backup MAC keys, newest first: the first signs, all verify.
    pub fn backup_keys(&self) -> Vec<DerivedKey> {
        self.raw_keys()
            .iter()
            .map(|k| derive(k, BACKUP_LABEL))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Keyring;

    #[test]
    fn backup_keys_are_derived_per_key_and_are_not_the_key() {
        let a = Keyring::generate_key();
        let b = Keyring::generate_key();
        let ring = Keyring::parse(&format!("{}\n{}", b.expose(), a.expose()), "test").unwrap();
        let keys = ring.backup_keys();
        assert_eq!(keys.len(), 2);
        let tag = |k: &DerivedKey| k.mac().chain_update(b"x").finalize().into_bytes();
        assert_ne!(tag(&keys[0]), tag(&keys[1]));
        // The same key derives the same backup key, whatever else the keyring holds.
        let alone = Keyring::parse(a.expose(), "test").unwrap().backup_keys();
        assert_eq!(tag(&alone[0]), tag(&keys[1]));
        // Not the key's own bytes, and the label matters.
        use base64::Engine;
        let raw: [u8; 32] = base64::engine::general_purpose::URL_SAFE
            .decode(a.expose())
            .unwrap()
            .try_into()
            .unwrap();
        let mut direct = Hmac::<Sha256>::new_from_slice(&raw).unwrap();
        direct.update(b"x");
        assert_ne!(direct.finalize().into_bytes(), tag(&alone[0]));
        assert_ne!(tag(&derive(&raw, b"another use")), tag(&alone[0]));
        assert_eq!(format!("{:?}", keys[0]), "DerivedKey(redacted)");
    }
}
