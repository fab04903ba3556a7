//! Running tidemarkd as a service: process hardening, systemd units, health checks (`doctor`),
//! backup and restore.
#![allow(unsafe_code)] // libc calls, each with its SAFETY comment.

pub mod backup;
pub mod commands;
pub mod connection;
pub mod control;
pub mod disk;
pub mod doctor;
pub mod hardening;
pub mod openmetrics;
#[cfg(test)]
mod openmetrics_tests;
pub mod rotate;
pub mod service;

use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Refuse to touch a data dir's store as anyone but its owner: files root created in the
/// system install's `/var/lib/tidemark` would lock the `tidemark` account out of its own store.
pub fn ensure_owner(data_dir: &Path, what: &str) -> Result<(), String> {
    let Ok(meta) = std::fs::metadata(data_dir) else {
        return Ok(());
    };
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    if meta.uid() == euid {
        return Ok(());
    }
    let owner = crate::auth::user_name(meta.uid());
    Err(format!(
        "{} belongs to {owner} (uid {}); {what} as that user, e.g. `sudo -u {owner} tidemarkd \
         --data-dir {} ...`, so that the store's files keep their owner",
        data_dir.display(),
        meta.uid(),
        data_dir.display()
    ))
}
