//! The set of Fernet keys in force: the newest encrypts, all of them decrypt.

use super::{CryptoError, Secret};
use fernet::Fernet;
use zeroize::Zeroizing;

pub struct Keyring {
    /// Newest first.
    keys: Vec<Fernet>,
    /// The same keys' 32 bytes, for deriving keys of other uses (`derive.rs`).
    raw: Vec<Zeroizing<[u8; 32]>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keyring({} keys, redacted)", self.keys.len())
    }
}

/// Fernet refuses tokens stamped more than 60 s ahead of "now". We use no TTLs, so a clock that
/// steps back must not make stored secrets unreadable: decrypt as if at the end of time.
const NO_TIME_CHECK: u64 = u64::MAX - 60;

impl Keyring {
    /// Parse keys, newest first, from a list separated by commas, spaces or newlines. Lines
    /// starting with `#` are comments. `source` names where they came from, for the error.
    pub fn parse(text: &str, source: &str) -> Result<Keyring, CryptoError> {
        let mut keys = Vec::new();
        let mut raw = Vec::new();
        let words = text
            .lines()
            .filter(|line| !line.trim_start().starts_with('#'))
            .flat_map(|line| line.split([',', ' ', '\t']))
            .filter(|w| !w.is_empty());
        for (index, word) in words.enumerate() {
            let malformed = || CryptoError::MalformedKey {
                origin: source.to_string(),
                index: index + 1,
            };
            let key = Fernet::new(word).ok_or_else(malformed)?;
            keys.push(key);
            raw.push(key_bytes(word).ok_or_else(malformed)?);
        }
        if keys.is_empty() {
            return Err(CryptoError::NoKey {
                origin: source.to_string(),
            });
        }
        Ok(Keyring { keys, raw })
    }

    /// Keys as separate secrets, newest first.
    pub fn from_secrets(keys: &[Secret], source: &str) -> Result<Keyring, CryptoError> {
        let text = Secret::new(
            keys.iter()
                .map(Secret::expose)
                .collect::<Vec<_>>()
                .join("\n"),
        );
        Keyring::parse(text.expose(), source)
    }

    /// A fresh random key, url-safe base64 as Fernet wants.
    pub fn generate_key() -> Secret {
        Secret::new(Fernet::generate_key())
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Each key's bytes, newest first (for `derive.rs` only).
    pub(super) fn raw_keys(&self) -> &[Zeroizing<[u8; 32]>] {
        &self.raw
    }

    pub(super) fn encrypt(&self, plaintext: &[u8]) -> String {
        self.keys[0].encrypt(plaintext)
    }

    /// Which key (0 = newest) opens this token, and the plaintext.
    pub(super) fn decrypt(&self, token: &str) -> Option<(usize, Vec<u8>)> {
        self.keys.iter().enumerate().find_map(|(i, key)| {
            key.decrypt_at_time(token, None, NO_TIME_CHECK)
                .ok()
                .map(|plain| (i, plain))
        })
    }
}

/// A key's 32 bytes, decoded as Fernet decodes it (url-safe base64, padding optional).
fn key_bytes(word: &str) -> Option<Zeroizing<[u8; 32]>> {
    use base64::Engine;
    let decoded = Zeroizing::new(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(word.trim_end_matches('='))
            .ok()?,
    );
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(decoded.get(..32).filter(|_| decoded.len() == 32)?);
    Some(out)
}
