//! Where the encryption keys come from: `INTEGRATION_ENCRYPTION_KEY`, else a key file in the data
//! dir, created on first start with mode 0600.
#![allow(unsafe_code)] // libc calls, each with its SAFETY comment.

use super::{CryptoError, Keyring, Secret};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Environment variable with the keys, newest first, comma-separated (the seed's name).
pub const KEY_ENV: &str = "INTEGRATION_ENCRYPTION_KEY";
/// Key file in the data dir: one key per line, newest first.
pub const KEY_FILE: &str = "encryption.key";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Env,
    File(PathBuf),
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Env => f.write_str(KEY_ENV),
            KeySource::File(path) => write!(f, "key file {}", path.display()),
        }
    }
}

/// Load the keyring: from the environment when set, else from the key file, which is created
/// when missing and `create` is true.
pub fn load_keyring(data_dir: &Path, create: bool) -> Result<(Keyring, KeySource), CryptoError> {
    let from_env = std::env::var_os(KEY_ENV)
        .filter(|v| !v.is_empty())
        .map(|v| Secret::new(v.to_string_lossy().into_owned()));
    load_keyring_with(from_env, data_dir, create)
}

/// [`load_keyring`] with the environment's value passed in (tests cannot safely set env vars).
pub fn load_keyring_with(
    from_env: Option<Secret>,
    data_dir: &Path,
    create: bool,
) -> Result<(Keyring, KeySource), CryptoError> {
    if let Some(text) = from_env {
        return Ok((Keyring::parse(text.expose(), KEY_ENV)?, KeySource::Env));
    }
    let path = data_dir.join(KEY_FILE);
    let source = KeySource::File(path.clone());
    let keys = match read_key_file(&path) {
        Ok(keys) => keys,
        Err(KeyFileRead::Missing) if create => {
            let key = Keyring::generate_key();
            create_key_file(&path, &key)?;
            tracing::warn!(
                path = %path.display(),
                "created a new encryption key; back it up: without it stored tokens cannot be read"
            );
            vec![key]
        }
        Err(KeyFileRead::Missing) => {
            return Err(CryptoError::KeyFile(format!(
                "no encryption key: {} does not exist and {KEY_ENV} is not set",
                path.display()
            )));
        }
        Err(KeyFileRead::Refused(e)) => return Err(e),
    };
    Ok((Keyring::from_secrets(&keys, &source.to_string())?, source))
}

#[derive(Debug)]
pub enum KeyFileRead {
    Missing,
    Refused(CryptoError),
}

/// Read the key file's keys (newest first), refusing a symlink, a file that is not ours, or one
/// that group or others can read or write.
pub fn read_key_file(path: &Path) -> Result<Vec<Secret>, KeyFileRead> {
    let refuse = |msg: String| KeyFileRead::Refused(CryptoError::KeyFile(msg));
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(KeyFileRead::Missing),
        Err(e) => return Err(refuse(format!("cannot read {}: {e}", path.display()))),
    };
    if meta.file_type().is_symlink() {
        return Err(refuse(format!(
            "{} is a symlink; tidemark does not follow links for its key file: replace the link \
             with the file itself (e.g. `cp --remove-destination \"$(readlink -f {0})\" {0}`), \
             or set {KEY_ENV}",
            path.display()
        )));
    }
    if !meta.is_file() {
        return Err(refuse(format!("{} is not a regular file", path.display())));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(refuse(format!(
            "{} has mode {mode:04o}: the encryption key must be readable by its owner only; \
             fix it with `chmod 600 {}`",
            path.display(),
            path.display()
        )));
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if meta.uid() != euid {
        return Err(refuse(format!(
            "{} belongs to uid {}, not to uid {euid} that runs tidemarkd; fix it with `chown`",
            path.display(),
            meta.uid()
        )));
    }
    let text = fs::read_to_string(path)
        .map(Secret::new)
        .map_err(|e| refuse(format!("cannot read {}: {e}", path.display())))?;
    let keys: Vec<Secret> = text
        .expose()
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(Secret::from)
        .collect();
    Ok(keys)
}

fn create_key_file(path: &Path, key: &Secret) -> Result<(), CryptoError> {
    let io_err =
        |e: std::io::Error| CryptoError::KeyFile(format!("cannot create {}: {e}", path.display()));
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io_err)?;
    file.write_all(key_file_text(std::slice::from_ref(key)).expose().as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io_err)?;
    sync_dir(path).map_err(io_err)
}

/// Replace the key file with these keys (newest first), atomically: a crash leaves either the old
/// file or the new one, never a torn one.
pub fn write_key_file(path: &Path, keys: &[Secret]) -> Result<(), CryptoError> {
    let io_err =
        |e: std::io::Error| CryptoError::KeyFile(format!("cannot write {}: {e}", path.display()));
    let tmp = path.with_extension("key.tmp");
    match fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(e)),
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io_err)?;
    file.write_all(key_file_text(keys).expose().as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io_err)?;
    fs::rename(&tmp, path).map_err(io_err)?;
    sync_dir(path).map_err(io_err)
}

fn key_file_text(keys: &[Secret]) -> Secret {
    let mut text = String::from(
        "# tidemark encryption keys, newest first: the first encrypts, all decrypt.\n\
         # Back this file up; without it stored tokens cannot be read.\n",
    );
    for key in keys {
        text.push_str(key.expose());
        text.push('\n');
    }
    Secret::new(text)
}

fn sync_dir(path: &Path) -> std::io::Result<()> {
    match path.parent() {
        Some(dir) => File::open(dir)?.sync_all(),
        None => Ok(()),
    }
}
