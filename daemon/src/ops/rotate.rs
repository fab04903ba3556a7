//! `tidemarkd rotate-key`: a new key, every secret re-encrypted with it, the old keys dropped.
//!
//! Steps, each safe to interrupt: (1) the key file gets the new key in front of the old ones
//! (atomic rename); (2) every secret is re-sealed with the new key, record by record; (3) the key
//! file is rewritten with the new key alone. Until (3) every key that sealed anything is still in
//! the file, so an interrupted run loses nothing, and running it again finishes the job.

use crate::crypto::{self, KeyFileRead, KeySource, Keyring};
use crate::data_dir::store_dir;
use crate::settings::{self, ConfigFile, Raw, SecretChange};
use crate::store::{RotationReport, Store};
use std::path::Path;

#[derive(Debug)]
pub struct RotateOutcome {
    pub report: RotationReport,
    pub source: KeySource,
    /// Old keys removed from the key file (none when some secret could not be read).
    pub dropped_old_keys: usize,
}

/// Why the keys could not be rotated.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

pub fn rotate_key(
    data_dir: &Path,
    config: Option<&ConfigFile>,
) -> Result<RotateOutcome, RotateError> {
    let (keyring, source) = crypto::load_keyring(data_dir, false)?;
    let store = Store::open(&store_dir(data_dir))?;
    match &source {
        KeySource::Env => {
            // We cannot edit the environment: re-seal with its first key, and say what to do.
            let mut report = store.reencrypt_all(&keyring)?;
            store.flush()?;
            reseal_config(&keyring, config, &mut report);
            Ok(RotateOutcome {
                report,
                source,
                dropped_old_keys: 0,
            })
        }
        KeySource::File(path) => {
            let mut keys = match crypto::read_key_file(path) {
                Ok(keys) => keys,
                Err(KeyFileRead::Refused(e)) => return Err(e.into()),
                Err(KeyFileRead::Missing) => unreachable!("load_keyring read it"),
            };
            let new = Keyring::generate_key();
            keys.insert(0, new.clone());
            crypto::write_key_file(path, &keys)?;
            let ring = Keyring::from_secrets(&keys, &source.to_string())?;
            let mut report = store.reencrypt_all(&ring)?;
            store.flush()?;
            reseal_config(&ring, config, &mut report);
            let mut dropped = 0;
            if report.failed.is_empty() {
                crypto::write_key_file(path, std::slice::from_ref(&new))?;
                dropped = keys.len() - 1;
            }
            Ok(RotateOutcome {
                report,
                source,
                dropped_old_keys: dropped,
            })
        }
    }
}

/// The OAuth app's client secret sealed in the config file (`tidemark setup github`) is a
/// secret like the others: re-sealed with the newest key, or reported and kept.
fn reseal_config(keyring: &Keyring, config: Option<&ConfigFile>, report: &mut RotationReport) {
    let Some(file) = config else { return };
    let layer = match settings::read_file(file) {
        Ok(layer) => layer,
        Err(e) => {
            report.failed.push(format!(
                "{e} (its sealed client secret, if any, is unchanged)"
            ));
            return;
        }
    };
    let Some((Raw::Sealed(sealed), _)) = layer.get(settings::Key::GithubClientSecret) else {
        return;
    };
    let opened = match crypto::decrypt(keyring, settings::SECRET_BINDING, sealed) {
        Ok(opened) => opened,
        Err(e) => {
            report.failed.push(format!("{}: {e}", file.path.display()));
            return;
        }
    };
    if opened.by_newest_key {
        report.already_current += 1;
        return;
    }
    let client_id = match layer.get(settings::Key::GithubClientId) {
        Some((Raw::Text(id), _)) => id.clone(),
        _ => {
            report.failed.push(format!(
                "{}: a sealed client secret without github_client_id; kept unchanged",
                file.path.display()
            ));
            return;
        }
    };
    let resealed = settings::seal_secret(keyring, &opened.secret);
    match settings::write_github_app(&file.path, &client_id, SecretChange::Set(resealed)) {
        Ok(()) => report.reencrypted += 1,
        Err(e) => report.failed.push(e.to_string()),
    }
}
