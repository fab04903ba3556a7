//! Whose daemon is at the socket. Before anything is sent (a setup sends the OAuth app's
//! secret, every call names teams), the client reads the peer credentials of the connected
//! socket (`SO_PEERCRED`) and talks only to a daemon run by the user themself, by root, or by
//! the system service's account (`tidemark`, or `TIDEMARK_DAEMON_USER`). Anyone else who got a
//! socket to that path first (a shared or guessed directory) is refused, named by uid.
#![allow(unsafe_code)] // libc calls, each with its SAFETY comment.

use std::path::Path;

use super::ClientError;

/// Names the system service's account when it is not `tidemark` (a name or a uid).
pub const DAEMON_USER_ENV: &str = "TIDEMARK_DAEMON_USER";

/// Whether a daemon running as `peer` may be talked to by `own`: the same user, root, or the
/// service account (when it exists here).
pub fn trusted(peer: u32, own: u32, service: Option<u32>) -> bool {
    peer == own || peer == 0 || service == Some(peer)
}

/// The service account's uid: `TIDEMARK_DAEMON_USER` (a name or a number), else `tidemark`;
/// `None` when no such account exists on this machine.
pub fn service_uid(configured: Option<&str>) -> Option<u32> {
    let name = configured
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .unwrap_or(tidemark_protocol::paths::SYSTEM_USER);
    name.parse::<u32>()
        .ok()
        .or_else(|| tidemark_protocol::users::uid_of(name))
}

/// Refuse a daemon whose uid is not trusted, saying whose it is.
pub fn check(socket: &Path, peer: u32) -> Result<(), ClientError> {
    // SAFETY: geteuid has no preconditions.
    let own = unsafe { libc::geteuid() };
    let configured = std::env::var(DAEMON_USER_ENV).ok();
    let service = service_uid(configured.as_deref());
    if trusted(peer, own, service) {
        return Ok(());
    }
    Err(ClientError::UntrustedDaemon {
        socket: socket.to_path_buf(),
        uid: peer,
        name: tidemark_protocol::users::user_name(peer),
        own,
        service: configured.unwrap_or_else(|| tidemark_protocol::paths::SYSTEM_USER.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_user_root_or_the_service_account_are_trusted() {
        let (me, service) = (1000, Some(998));
        assert!(trusted(1000, me, service), "my own daemon");
        assert!(trusted(0, me, service), "root's");
        assert!(trusted(998, me, service), "the system service's");
        assert!(!trusted(1001, me, service), "another user's");
        assert!(!trusted(65534, me, service), "nobody's");
        // No service account on this machine: nobody else is.
        assert!(!trusted(998, me, None));
        assert!(trusted(1000, me, None));
        // Root as the client trusts only root and the service account.
        assert!(trusted(0, 0, None));
        assert!(!trusted(1000, 0, None));
    }

    #[test]
    fn the_service_account_is_looked_up_by_name_or_taken_as_a_number() {
        assert_eq!(service_uid(Some("4242")), Some(4242));
        assert_eq!(service_uid(Some("root")), Some(0));
        assert_eq!(service_uid(Some("no-such-user-here-i15")), None);
        // Unset or blank: `tidemark`, whose uid is whatever this machine says (if any).
        assert_eq!(
            service_uid(None),
            tidemark_protocol::users::uid_of("tidemark")
        );
        assert_eq!(service_uid(Some(" ")), service_uid(None));
    }

    /// A listening socket whose peer credentials say `uid`: bound as ourselves, then
    /// `listen(2)` (which records the credentials) from a thread whose effective uid alone is
    /// switched (the raw syscall, not glibc's process-wide `setresuid`). Root only.
    fn listener_of(uid: u32, path: &Path) -> std::os::unix::net::UnixListener {
        use std::os::fd::FromRawFd;
        use std::os::unix::ffi::OsStrExt;
        // SAFETY: plain socket calls on a fresh descriptor with a zeroed, filled-in address.
        unsafe {
            let fd = libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
            assert!(fd >= 0);
            let mut addr: libc::sockaddr_un = std::mem::zeroed();
            addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
            for (d, s) in addr.sun_path.iter_mut().zip(path.as_os_str().as_bytes()) {
                *d = *s as libc::c_char;
            }
            let len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
            assert_eq!(libc::bind(fd, (&raw const addr).cast(), len), 0);
            let listened = std::thread::spawn(move || {
                let none = u32::MAX as libc::c_long;
                let rc = libc::syscall(libc::SYS_setresuid, none, uid as libc::c_long, none);
                assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
                libc::listen(fd, 8)
            })
            .join()
            .unwrap();
            assert_eq!(listened, 0);
            std::os::unix::net::UnixListener::from_raw_fd(fd)
        }
    }

    #[tokio::test]
    async fn a_daemon_of_another_user_is_refused_before_anything_is_sent() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("not root: cannot listen as another uid; the rule is tested above");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("other.sock");
        let listener = listener_of(65_533, &socket);
        // What reaches the listener, read until the client hangs up.
        let received = std::thread::spawn(move || {
            use std::io::Read;
            let (mut stream, _) = listener.accept().unwrap();
            stream
                .set_read_timeout(Some(std::time::Duration::from_secs(10)))
                .unwrap();
            let mut got = Vec::new();
            let _ = stream.read_to_end(&mut got);
            got.len()
        });
        let err = super::super::Connection::connect(&socket)
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with(&format!(
                "refusing the daemon at {}: it runs as uid 65533",
                socket.display()
            )),
            "{text}"
        );
        assert!(text.contains("not as you (uid 0), root or"), "{text}");
        assert_eq!(received.join().unwrap(), 0, "nothing was sent to it");
    }
}
