//! The daemon's data dir: made private to its user, refused when others could write to it, and
//! where the store lives in it.
#![allow(unsafe_code)] // libc calls, each with its SAFETY comment.

use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A data dir that cannot be used, and why.
#[derive(Debug, thiserror::Error)]
#[error("data dir {path}: {reason}")]
pub struct DataDirError {
    pub path: PathBuf,
    pub reason: String,
}

/// The sled store lives in this subdirectory of the data dir.
pub fn store_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("store")
}

/// Create the data dir (0700) if needed, and refuse one that others could write to.
pub fn prepare_data_dir(dir: &Path) -> Result<(), DataDirError> {
    let err = |reason: String| DataDirError {
        path: dir.to_path_buf(),
        reason,
    };
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| err(format!("cannot create it: {e}")))?;
    }
    let meta = std::fs::metadata(dir).map_err(|e| err(e.to_string()))?;
    if !meta.is_dir() {
        return Err(err("not a directory".into()));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o022 != 0 {
        return Err(err(format!(
            "mode {mode:04o} lets other users write to it; fix it with `chmod 700 {}`",
            dir.display()
        )));
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if meta.uid() != euid && euid != 0 {
        return Err(err(format!(
            "it belongs to uid {}, not to uid {euid}",
            meta.uid()
        )));
    }
    Ok(())
}
