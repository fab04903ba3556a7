//! `tidemarkd rotate-key`: a new key, every secret re-encrypted with it, the old keys dropped.
//!
//! Steps, each safe to interrupt: (1) the key file gets the new key in front of the old ones
//! (atomic rename); (2) every secret is re-sealed with the new key, record by record; (3) the key
//! file is rewritten with the new key alone. Until (3) every key that sealed anything is still in
//! the file, so an interrupted run loses nothing, and running it again finishes the job.

use crate::crypto::{self, KeyFileRead, KeySource, Keyring};
use crate::daemon::{DaemonError, store_dir};
use crate::store::{RotationReport, Store};
use std::path::Path;

#[derive(Debug)]
pub struct RotateOutcome {
    pub report: RotationReport,
    pub source: KeySource,
    /// Old keys removed from the key file (none when some secret could not be read).
    pub dropped_old_keys: usize,
}

pub fn rotate_key(data_dir: &Path) -> Result<RotateOutcome, DaemonError> {
    let (keyring, source) = crypto::load_keyring(data_dir, false)?;
    let store = Store::open(&store_dir(data_dir))?;
    match &source {
        KeySource::Env => {
            // We cannot edit the environment: re-seal with its first key, and say what to do.
            let report = store.reencrypt_all(&keyring)?;
            store.flush()?;
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
            let report = store.reencrypt_all(&ring)?;
            store.flush()?;
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
