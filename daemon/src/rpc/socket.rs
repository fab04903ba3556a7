//! The daemon's Unix socket: private before anyone can connect, one live daemon per path.
//!
//! A lock file beside the socket, held for the daemon's life, says whether a daemon is alive: if
//! we get the lock, any socket file there is stale and is replaced. The socket is bound inside a
//! fresh 0700 directory, set to 0600, then renamed into place, so there is no moment at which
//! another user could connect, whatever the permissions of the directory it lives in.
//! A system install shares the socket with a group ([`Access`]: e.g. group `tidemark`, 0660);
//! group and mode are set on the staged socket, before the rename makes it reachable.
//! The socket's directory may be shared (`/tmp`): the lock file is opened without following a
//! symlink and used only if it is a regular file of ours with one link ([`open_lock`]), and
//! a file at the socket's path that is not a socket is never removed.
#![allow(unsafe_code)] // libc calls, each with its SAFETY comment.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    #[error(
        "another tidemarkd is already running on {path}{pid}; stop it first, or give this one \
         its own --socket and --data-dir"
    )]
    AlreadyRunning { path: PathBuf, pid: String },
    #[error("cannot set up the socket {path}: {reason}")]
    Setup { path: PathBuf, reason: String },
    /// Something is at the lock file's or the socket's path that this daemon did not put
    /// there: it is left alone (a planted symlink once made a daemon truncate its target).
    #[error(
        "refusing {path}: {reason}; remove it if it is not another tidemark's, or give this \
         daemon its own --socket"
    )]
    NotOurs { path: PathBuf, reason: String },
}

fn setup_err(path: &Path, e: impl std::fmt::Display) -> SocketError {
    SocketError::Setup {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// Who may connect: the socket's mode and, optionally, its group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// Permission bits of the socket: 0600 (owner only, the default) or 0660 (with a group).
    pub mode: u32,
    /// Group id the socket (and a directory we create for it) is given.
    pub gid: Option<u32>,
}

impl Default for Access {
    fn default() -> Self {
        Access {
            mode: 0o600,
            gid: None,
        }
    }
}

impl Access {
    /// Check a mode given on the command line: never anything for others, nor exec bits.
    pub fn new(mode: u32, gid: Option<u32>) -> Result<Access, String> {
        if mode & !0o660 != 0 || mode & 0o600 != 0o600 {
            return Err(format!(
                "socket mode {mode:04o}: allowed are 0600 (owner only) and 0660 (owner and group); \
                 others never get access"
            ));
        }
        if mode & 0o060 != 0 && gid.is_none() {
            return Err(format!(
                "socket mode {mode:04o} gives a group access: name it with --socket-group"
            ));
        }
        Ok(Access { mode, gid })
    }
}

pub use crate::auth::group_id;

/// Give `path` group `gid`, unless it has it already: the system unit runs with that group
/// (files are born with it) and its seccomp filter denies chown (`~@privileged`).
fn chown_group(path: &Path, gid: u32) -> std::io::Result<()> {
    if fs::symlink_metadata(path)?.gid() == gid {
        return Ok(());
    }
    std::os::unix::fs::lchown(path, None, Some(gid))
}

/// Held while the daemon serves: the lock, and what to clean up.
#[derive(Debug)]
pub struct SocketGuard {
    path: PathBuf,
    _lock: File,
    ino: u64,
}

impl SocketGuard {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SocketGuard {
    fn drop(&mut self) {
        // Remove the socket only if it is still ours.
        if fs::symlink_metadata(&self.path).is_ok_and(|m| m.ino() == self.ino) {
            let _ = fs::remove_file(&self.path);
        }
        // The lock file stays (removing it would race a daemon opening it); its pid goes.
        let _ = self._lock.set_len(0);
    }
}

/// Open the lock file, creating it if it is not there, without following a symlink and
/// without ever writing to a file this daemon's user did not create: an existing lock file
/// must be a regular file of ours with a single link (in a shared directory someone else
/// could have put a symlink or a hard link to one of our files there).
pub fn open_lock(lock_path: &Path) -> Result<File, SocketError> {
    let refuse = |reason: String| SocketError::NotOurs {
        path: lock_path.to_path_buf(),
        reason,
    };
    let open = |create: bool| {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(create)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
            .open(lock_path)
    };
    match open(true) {
        Ok(file) => return Ok(file),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            return Err(setup_err(
                lock_path,
                format!("cannot create the lock file: {e}"),
            ));
        }
    }
    let file = match open(false) {
        Ok(file) => file,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(refuse("the lock file is a symbolic link".into()));
        }
        Err(e) => {
            return Err(setup_err(
                lock_path,
                format!("cannot open the lock file: {e}"),
            ));
        }
    };
    let meta = file.metadata().map_err(|e| setup_err(lock_path, e))?;
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    if !meta.file_type().is_file() {
        return Err(refuse(format!(
            "the lock file is {}, not a regular file",
            kind_of(&meta)
        )));
    }
    if meta.uid() != euid {
        return Err(refuse(format!(
            "the lock file belongs to uid {}, not to this daemon's uid {euid}",
            meta.uid()
        )));
    }
    if meta.nlink() != 1 {
        return Err(refuse(format!(
            "the lock file has {} hard links (another name for some other file)",
            meta.nlink()
        )));
    }
    Ok(file)
}

/// What kind of file `meta` describes, for refusals.
fn kind_of(meta: &fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_symlink() {
        "a symbolic link"
    } else if t.is_dir() {
        "a directory"
    } else if t.is_file() {
        "a regular file"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a device"
    }
}

/// Claim `path` for this daemon: take the lock (or report the live daemon), then bind.
pub fn bind(
    path: &Path,
    access: Access,
) -> Result<(tokio::net::UnixListener, SocketGuard), SocketError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.exists() {
        // With a group, the group must be able to reach the socket: 0750 and that group.
        let dir_mode = if access.gid.is_some() { 0o750 } else { 0o700 };
        DirBuilder::new()
            .recursive(true)
            .mode(dir_mode)
            .create(dir)
            .map_err(|e| setup_err(path, format!("cannot create {}: {e}", dir.display())))?;
        if let Some(gid) = access.gid {
            chown_group(dir, gid).map_err(|e| setup_err(path, e))?;
        }
    }
    let lock_path = PathBuf::from(format!("{}.lock", path.display()));
    let mut lock = open_lock(&lock_path)?;
    if let Err(e) = lock.try_lock() {
        let mut pid = String::new();
        let _ = lock.read_to_string(&mut pid);
        let pid = match pid.trim() {
            "" => String::new(),
            p => format!(" (pid {p})"),
        };
        return match e {
            fs::TryLockError::WouldBlock => Err(SocketError::AlreadyRunning {
                path: path.to_path_buf(),
                pid,
            }),
            fs::TryLockError::Error(e) => Err(setup_err(path, e)),
        };
    }
    let _ = lock.set_len(0);
    let _ = lock.rewind();
    let _ = writeln!(lock, "{}", std::process::id());

    // We hold the lock, so a socket file here belongs to a dead daemon. Belt and braces: if
    // something still answers on it, it is not ours to replace.
    if let Ok(meta) = fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            return Err(SocketError::NotOurs {
                path: path.to_path_buf(),
                reason: format!("it is {}, not a socket", kind_of(&meta)),
            });
        }
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(SocketError::AlreadyRunning {
                path: path.to_path_buf(),
                pid: String::new(),
            });
        }
        tracing::info!(path = %path.display(), "replacing the stale socket of a daemon that is gone");
        fs::remove_file(path).map_err(|e| setup_err(path, e))?;
    }

    // The staging dir stays 0700: nobody reaches the socket before it has its final mode.
    let staging = tempfile::Builder::new()
        .prefix(".tidemark-bind-")
        .permissions(fs::Permissions::from_mode(0o700))
        .tempdir_in(dir)
        .map_err(|e| {
            setup_err(
                path,
                format!("cannot create a private dir in {}: {e}", dir.display()),
            )
        })?;
    let staged = staging.path().join("s");
    let listener =
        std::os::unix::net::UnixListener::bind(&staged).map_err(|e| setup_err(path, e))?;
    if let Some(gid) = access.gid {
        chown_group(&staged, gid).map_err(|e| setup_err(path, format!("chgrp {gid}: {e}")))?;
    }
    fs::set_permissions(&staged, fs::Permissions::from_mode(access.mode))
        .map_err(|e| setup_err(path, e))?;
    fs::rename(&staged, path).map_err(|e| setup_err(path, e))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| setup_err(path, e))?;
    let ino = fs::symlink_metadata(path)
        .map_err(|e| setup_err(path, e))?
        .ino();
    let listener = tokio::net::UnixListener::from_std(listener).map_err(|e| setup_err(path, e))?;
    Ok((
        listener,
        SocketGuard {
            path: path.to_path_buf(),
            _lock: lock,
            ino,
        },
    ))
}

#[cfg(test)]
#[path = "socket_tests.rs"]
mod tests;
