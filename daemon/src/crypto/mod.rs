//! Encryption of secrets at rest. The only module that touches `fernet`.
//!
//! A secret is sealed together with the identity of the record field it belongs to (team,
//! provider, field) inside the Fernet payload, so a ciphertext copied onto another record does not
//! decrypt: it fails with [`CryptoError::WrongRecord`] instead of silently yielding another team's
//! token.

mod derive;
mod keyfile;
mod keyring;
mod secret;

pub use derive::{BACKUP_LABEL, DerivedKey};
pub use keyfile::{
    KEY_ENV, KEY_FILE, KeyFileRead, KeySource, load_keyring, load_keyring_with, read_key_file,
    write_key_file,
};
pub use keyring::Keyring;
pub use secret::{Secret, random_token};

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use zeroize::Zeroizing;

/// A Fernet token as stored. Opaque; its Debug shows only its length.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ciphertext(String);

impl Ciphertext {
    pub fn from_stored(token: String) -> Self {
        Ciphertext(token)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Ciphertext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ciphertext({} bytes)", self.0.len())
    }
}

/// The record field a secret belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding<'a> {
    pub team_id: u64,
    pub provider: &'a str,
    pub field: &'a str,
}

impl std::fmt::Display for Binding<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "team #{} {} {}", self.team_id, self.provider, self.field)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error(
        "encryption key #{index} from {origin} is malformed: a key is 32 random bytes in url-safe \
         base64 (44 characters); generate one with `tidemarkd generate-key`"
    )]
    MalformedKey { origin: String, index: usize },
    #[error("{origin} holds no encryption key; generate one with `tidemarkd generate-key`")]
    NoKey { origin: String },
    #[error("{0}")]
    KeyFile(String),
    #[error(
        "cannot decrypt {0}: none of the configured keys opens it (wrong or missing key, or the \
         stored value was altered)"
    )]
    Undecryptable(String),
    #[error("cannot decrypt {expected}: the stored value belongs to another record ({found})")]
    WrongRecord { expected: String, found: String },
    #[error("cannot decrypt {0}: the decrypted payload is not in tidemark's format")]
    BadPayload(String),
}

/// Payload format version inside the Fernet token.
const PAYLOAD_V1: u8 = 1;

#[derive(Serialize, Deserialize)]
struct Sealed<'a> {
    version: u8,
    team_id: u64,
    // Borrowed on decrypt, so the plaintext lives only in the zeroized buffer.
    #[serde(borrow)]
    provider: Cow<'a, str>,
    #[serde(borrow)]
    field: Cow<'a, str>,
    #[serde(borrow)]
    value: Cow<'a, str>,
}

/// Encrypt `secret` for the record field `binding` with the newest key.
pub fn encrypt(keyring: &Keyring, binding: Binding<'_>, secret: &Secret) -> Ciphertext {
    let sealed = Sealed {
        version: PAYLOAD_V1,
        team_id: binding.team_id,
        provider: Cow::Borrowed(binding.provider),
        field: Cow::Borrowed(binding.field),
        value: Cow::Borrowed(secret.expose()),
    };
    let plain = Zeroizing::new(bincode::serialize(&sealed).expect("serialising to memory"));
    Ciphertext(keyring.encrypt(&plain))
}

/// Decrypt a secret stored for `binding`. Also says whether it was sealed with an older key (so
/// rotation knows what still needs re-encrypting).
pub fn decrypt(
    keyring: &Keyring,
    binding: Binding<'_>,
    ciphertext: &Ciphertext,
) -> Result<Decrypted, CryptoError> {
    let (key_index, plain) = keyring
        .decrypt(&ciphertext.0)
        .ok_or_else(|| CryptoError::Undecryptable(binding.to_string()))?;
    let plain = Zeroizing::new(plain);
    let sealed: Sealed<'_> =
        bincode::deserialize(&plain).map_err(|_| CryptoError::BadPayload(binding.to_string()))?;
    if sealed.version != PAYLOAD_V1 {
        return Err(CryptoError::BadPayload(binding.to_string()));
    }
    let found = Binding {
        team_id: sealed.team_id,
        provider: &sealed.provider,
        field: &sealed.field,
    };
    if found != binding {
        return Err(CryptoError::WrongRecord {
            expected: binding.to_string(),
            found: found.to_string(),
        });
    }
    Ok(Decrypted {
        secret: Secret::new(sealed.value.into_owned()),
        by_newest_key: key_index == 0,
    })
}

#[derive(Debug)]
pub struct Decrypted {
    pub secret: Secret,
    pub by_newest_key: bool,
}

#[cfg(test)]
mod tests;
