//! Where tidemark keeps things: the data dir, the socket, the environment variables naming them,
//! the file a failed start leaves and the system install's account. One definition for the
//! daemon and the client, which must find the same socket and start the daemon with the same
//! settings.

use std::path::{Path, PathBuf};

pub const DATA_DIR_ENV: &str = "TIDEMARK_DATA_DIR";
pub const SOCKET_ENV: &str = "TIDEMARK_SOCKET";
pub const SOCKET_FILE: &str = "tidemark.sock";
/// Where the system service (`tidemarkd install-service --system`) keeps its socket.
pub const SYSTEM_SOCKET: &str = "/run/tidemark/tidemark.sock";
/// The dedicated account (and socket group) of a system install: the account a client trusts
/// besides itself and root.
pub const SYSTEM_USER: &str = "tidemark";

/// Where a daemon that failed to start leaves its reason, for the client that started it (the
/// daemon's log says more; this file holds the one line a client shows).
pub const STARTUP_ERROR_FILE: &str = "startup-error";

#[derive(Debug, thiserror::Error)]
#[error(
    "cannot tell where to keep tidemark's data: neither XDG_DATA_HOME nor HOME is set; \
     pass --data-dir or set {DATA_DIR_ENV}"
)]
pub struct NoDataDir;

/// `$XDG_DATA_HOME/tidemark`, else `$HOME/.local/share/tidemark` (the XDG default).
pub fn default_data_dir() -> Result<PathBuf, NoDataDir> {
    if let Some(dir) = non_empty_env("XDG_DATA_HOME") {
        return Ok(PathBuf::from(dir).join("tidemark"));
    }
    non_empty_env("HOME")
        .map(|home| PathBuf::from(home).join(".local/share/tidemark"))
        .ok_or(NoDataDir)
}

/// `$XDG_RUNTIME_DIR/tidemark/tidemark.sock`, else the socket lives in the data dir.
pub fn default_socket(data_dir: &Path) -> PathBuf {
    match non_empty_env("XDG_RUNTIME_DIR") {
        Some(dir) => PathBuf::from(dir).join("tidemark").join(SOCKET_FILE),
        None => data_dir.join(SOCKET_FILE),
    }
}

/// Resolve the data dir and socket from optional explicit values (flags or their env vars, as
/// clap already merged them) and the defaults.
pub fn resolve(
    data_dir: Option<PathBuf>,
    socket: Option<PathBuf>,
) -> Result<(PathBuf, PathBuf), NoDataDir> {
    let data_dir = match data_dir {
        Some(dir) => dir,
        None => default_data_dir()?,
    };
    let socket = socket.unwrap_or_else(|| default_socket(&data_dir));
    Ok((data_dir, socket))
}

/// The socket a client uses: the one given (flag or `TIDEMARK_SOCKET`), else the per-user
/// default while it exists, else the system service's when that exists (then `true`: a client
/// must not start a per-user daemon of its own), else the per-user default (to start).
pub fn client_socket(
    given: Option<PathBuf>,
    user_default: PathBuf,
    exists: impl Fn(&Path) -> bool,
) -> (PathBuf, bool) {
    if let Some(socket) = given {
        return (socket, false);
    }
    let system = Path::new(SYSTEM_SOCKET);
    if !exists(&user_default) && exists(system) {
        return (system.to_path_buf(), true);
    }
    (user_default, false)
}

fn non_empty_env(name: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_finds_the_system_service_only_when_it_has_no_daemon_of_its_own() {
        let user = PathBuf::from("/home/a/.local/share/tidemark/tidemark.sock");
        let system = PathBuf::from(SYSTEM_SOCKET);
        let given = PathBuf::from("/tmp/x.sock");
        let only = |p: &'static [&'static str]| move |q: &Path| p.iter().any(|s| Path::new(s) == q);
        assert_eq!(
            client_socket(Some(given.clone()), user.clone(), only(&[SYSTEM_SOCKET])),
            (given, false)
        );
        assert_eq!(
            client_socket(None, user.clone(), only(&[SYSTEM_SOCKET])),
            (system, true)
        );
        assert_eq!(
            client_socket(
                None,
                user.clone(),
                only(&["/home/a/.local/share/tidemark/tidemark.sock", SYSTEM_SOCKET])
            ),
            (user.clone(), false)
        );
        assert_eq!(client_socket(None, user.clone(), only(&[])), (user, false));
    }
}
