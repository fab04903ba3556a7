//! The operations subcommands of `tidemarkd`: service install, backup, restore, doctor. Each
//! returns a message for the caller to print as an error.

use super::service::{self, Scope, UnitSpec};
use super::{backup, control, doctor};
use crate::data_dir::{prepare_data_dir, store_dir};
use crate::store::{Store, StoreError};
use std::fs::{File, OpenOptions};
use std::io::{BufReader, BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

pub fn install_service(
    spec: UnitSpec,
    unit_dir: Option<PathBuf>,
    print: bool,
) -> Result<(), String> {
    if print {
        print!("{}", service::unit::render(&spec));
        return Ok(());
    }
    let scope = spec.scope;
    let (path, next) =
        service::install(&service::InstallOptions { spec, unit_dir }).map_err(|e| e.to_string())?;
    println!("wrote {}", path.display());
    if scope == Scope::System {
        println!(
            "the daemon runs as user {0} with data in {1}; its socket {2} is open to group {0}",
            service::unit::SYSTEM_USER,
            service::unit::SYSTEM_DATA_DIR,
            service::unit::SYSTEM_SOCKET
        );
    }
    println!("next:");
    for line in next {
        println!("  {line}");
    }
    Ok(())
}

pub fn uninstall_service(scope: Scope, unit_dir: Option<&Path>) -> Result<(), String> {
    match service::uninstall(scope, unit_dir).map_err(|e| e.to_string())? {
        Some(path) => println!("removed {}", path.display()),
        None => println!("no unit installed"),
    }
    println!(
        "data, encryption key{} are kept",
        if scope == Scope::System {
            " and the tidemark account"
        } else {
            ""
        }
    );
    Ok(())
}

fn sync_parent(path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

/// `tidemarkd backup PATH`: from the running daemon (its control socket) or, when none runs,
/// from the store directly; written to PATH.partial (0600), verified, then renamed into place.
pub fn backup(data_dir: &Path, path: &Path) -> Result<(), String> {
    if path.exists() {
        return Err(format!(
            "{} exists; choose another name (a backup never overwrites)",
            path.display()
        ));
    }
    let partial = PathBuf::from(format!("{}.partial", path.display()));
    let _ = std::fs::remove_file(&partial);
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&partial)
        .map_err(|e| format!("cannot create {}: {e}", partial.display()))?;
    // The keys to verify it with, when this user can read them (root backing up the system
    // daemon cannot: its checksum is checked, its MAC at restore).
    let keyring = crate::crypto::load_keyring(data_dir, false).ok();
    let result = write_backup(data_dir, &file).and_then(|source| {
        file.sync_all().map_err(|e| e.to_string())?;
        let reader = BufReader::new(File::open(&partial).map_err(|e| e.to_string())?);
        let keys = keyring.as_ref().map(|(k, _)| k.backup_keys());
        let trust = keys
            .as_deref()
            .map_or(backup::Trust::ChecksumOnly, backup::Trust::Keys);
        let (header, _, origin) = backup::read(reader, trust).map_err(|e| {
            let hint = match keyring.as_ref() {
                Some((_, source)) => format!(
                    " (checked with the keys of {source}; does the daemon run with another \
                     key?)"
                ),
                None => String::new(),
            };
            format!("the backup just written does not verify: {e}{hint}")
        })?;
        Ok((source, header, origin))
    });
    let (source, header, origin) = match result {
        Ok(ok) => ok,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, path).map_err(|e| e.to_string())?;
    sync_parent(path).map_err(|e| e.to_string())?;
    println!(
        "backup {}: {} records, schema v{} ({source}), verified: {origin}",
        path.display(),
        header.records,
        header.schema
    );
    println!(
        "the encryption key is not in it: keep a copy of {} (or of INTEGRATION_ENCRYPTION_KEY); \
         restoring needs that key, to read the secrets and to check the backup's origin",
        data_dir.join(crate::crypto::KEY_FILE).display()
    );
    Ok(())
}

fn write_backup(data_dir: &Path, file: &File) -> Result<&'static str, String> {
    let mut out = BufWriter::new(file);
    if control::fetch_backup(data_dir, &mut out)?.is_some() {
        out.flush().map_err(|e| e.to_string())?;
        return Ok("taken by the running daemon");
    }
    let dir = store_dir(data_dir);
    if !dir.exists() {
        return Err(format!("no store at {}", dir.display()));
    }
    super::ensure_owner(data_dir, "with no daemon running, run backup")?;
    let (keyring, _) = crate::crypto::load_keyring(data_dir, false).map_err(|e| {
        format!("a backup is authenticated with a key derived from the encryption key: {e}")
    })?;
    let store = Store::open(&dir).map_err(|e| match e {
        StoreError::Locked(_) => format!(
            "the store is held by a running tidemarkd whose control socket {} does not answer",
            control::path(data_dir).display()
        ),
        other => other.to_string(),
    })?;
    let snapshot = store.snapshot().map_err(|e| e.to_string())?;
    backup::write(&snapshot, &keyring.backup_keys()[0], &mut out).map_err(|e| e.to_string())?;
    out.flush().map_err(|e| e.to_string())?;
    Ok("read from the store; no daemon was running")
}

/// `tidemarkd restore PATH`: check the file (who could have written it) and the backup (damage,
/// origin, records and counters), refuse while a daemon holds the store, build the new store
/// beside the old one, then swap them (the old one is kept).
pub fn restore(data_dir: &Path, path: &Path, accept_unauthenticated: bool) -> Result<(), String> {
    let in_path = |e: backup::BackupError| format!("{}: {e}", path.display());
    let file = backup::open_checked(path).map_err(|e| e.to_string())?;
    // Before the key is read: another user's key file would be refused for a reason that
    // hides the real one.
    super::ensure_owner(data_dir, "run restore")?;
    let keys = match crate::crypto::load_keyring(data_dir, false) {
        Ok((keyring, _)) => keyring.backup_keys(),
        Err(e) if accept_unauthenticated => {
            println!("warning: no encryption key ({e}); the backup's origin is not checked");
            Vec::new()
        }
        Err(e) => {
            return Err(format!(
                "{}: its origin is checked with the encryption key, and there is none ({e}). \
                 Put back the key file (or INTEGRATION_ENCRYPTION_KEY) it was made with; only \
                 if you know where the backup comes from, restore it with \
                 --accept-unauthenticated",
                path.display()
            ));
        }
    };
    let trust = if accept_unauthenticated {
        backup::Trust::AcceptUnauthenticated(&keys)
    } else {
        backup::Trust::Keys(&keys)
    };
    let (header, snapshot, origin) = backup::read(BufReader::new(file), trust).map_err(in_path)?;
    if let backup::Origin::Unauthenticated { .. } = origin {
        println!(
            "warning: {}: {origin}. Nothing shows who made this backup or that it is unaltered",
            path.display()
        );
    }
    prepare_data_dir(data_dir).map_err(|e| e.to_string())?;
    let live = store_dir(data_dir);
    let in_use = || {
        format!(
            "the store in {} is in use by a running tidemarkd; stop it first (e.g. `systemctl \
             stop tidemarkd` or `systemctl --user stop tidemarkd`), then restore",
            data_dir.display()
        )
    };
    if control::ping(data_dir) {
        return Err(in_use());
    }
    if live.exists()
        && let Err(StoreError::Locked(_)) = Store::open(&live)
    {
        return Err(in_use());
    }
    let staging = data_dir.join("store.restoring");
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| e.to_string())?;
    }
    let (restored, integrity) = Store::create_from_snapshot(&staging, &snapshot).map_err(|e| {
        let _ = std::fs::remove_dir_all(&staging);
        format!("the backup could not be restored: {e}")
    })?;
    if !integrity.problems.is_empty() {
        drop(restored);
        let _ = std::fs::remove_dir_all(&staging);
        return Err(format!(
            "the backup holds {} record(s) that do not decode ({}); nothing changed",
            integrity.problems.len(),
            integrity.problems[0]
        ));
    }
    // The key is not in the backup: say whether the one in force opens the restored secrets.
    let key_warning = match crate::crypto::load_keyring(data_dir, false) {
        Ok((keyring, _)) => {
            let unreadable = restored
                .report_unreadable_secrets(&keyring)
                .map_err(|e| e.to_string())?;
            (unreadable > 0).then(|| {
                format!(
                    "warning: {unreadable} secret(s) cannot be decrypted with the current key; \
                     put back the key file (or INTEGRATION_ENCRYPTION_KEY) from when the backup \
                     was taken"
                )
            })
        }
        Err(e) => Some(format!(
            "warning: no usable encryption key ({e}); stored secrets stay sealed"
        )),
    };
    restored.flush().map_err(|e| e.to_string())?;
    drop(restored);
    let mut kept = None;
    if live.exists() {
        // Unique: two restores within a second must not meet at one name.
        let stamp = crate::store::now();
        let aside = (1..)
            .map(|n| match n {
                1 => data_dir.join(format!("store.before-restore-{stamp}")),
                n => data_dir.join(format!("store.before-restore-{stamp}-{n}")),
            })
            .find(|p| !p.exists())
            .expect("a free name");
        std::fs::rename(&live, &aside).map_err(|e| e.to_string())?;
        kept = Some(aside);
    }
    std::fs::rename(&staging, &live).map_err(|e| e.to_string())?;
    File::open(data_dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| e.to_string())?;
    println!(
        "restored {} records (schema v{}, backup of {}, {origin}) into {}",
        header.records,
        header.schema,
        doctor::format_time(header.created_at),
        live.display()
    );
    if let Some(aside) = kept {
        println!("the previous store is kept in {}", aside.display());
    }
    if let Some(w) = key_warning {
        println!("{w}");
    }
    Ok(())
}

/// `tidemarkd doctor`: print every verdict; an error when any failed.
pub fn doctor(inputs: &doctor::Inputs) -> Result<(), String> {
    let checks = doctor::run(inputs);
    for c in &checks {
        println!("{c}");
    }
    let failed = checks
        .iter()
        .filter(|c| c.verdict == doctor::Verdict::Fail)
        .count();
    if failed > 0 {
        return Err(format!("{failed} check(s) failed"));
    }
    Ok(())
}
