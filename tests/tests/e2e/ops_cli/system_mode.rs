//! The system install's shape without systemd: the daemon as an unprivileged account (`nobody`)
//! with its socket 0660 in that account's group. A process in the group reaches the socket (and
//! is then refused by the daemon's policy until team roles land); one outside it cannot connect
//! at all; root takes an online backup through the control socket. Needs root to switch uids:
//! skipped otherwise.

use super::output;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::process::Command;
use tidemark_tests::harness::{Daemon, Sandbox, bin};

const NOBODY: u32 = 65534;
const OTHER: u32 = 65533;

fn tidemark_as(uid: u32, gid: u32, socket: &std::path::Path) -> (bool, String) {
    tidemark_trusting(uid, gid, socket, Some("nobody"))
}

/// `tidemark team list` as `uid`:`gid`, trusting `daemon_user` as the service account.
fn tidemark_trusting(
    uid: u32,
    gid: u32,
    socket: &std::path::Path,
    daemon_user: Option<&str>,
) -> (bool, String) {
    let mut cmd = Command::new(bin("tidemark"));
    cmd.args([
        "--no-start",
        "--data-dir",
        "/nonexistent/tidemark",
        "--socket",
    ])
    .arg(socket)
    .args(["team", "list"])
    .env_remove("TIDEMARK_SOCKET")
    .env_remove("TIDEMARK_DATA_DIR")
    .env_remove("TIDEMARK_DAEMON_USER")
    .uid(uid)
    .gid(gid);
    if let Some(name) = daemon_user {
        // The service account here is `nobody`, not `tidemark`: the client trusts it by name.
        cmd.env("TIDEMARK_DAEMON_USER", name);
    }
    output(&mut cmd)
}

#[test]
fn a_daemon_running_as_its_own_account_shares_its_socket_with_its_group_only() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("not root: cannot run the daemon as another account; skipped");
        return;
    }
    let sandbox = Sandbox::new();
    std::fs::set_permissions(sandbox.dir.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    // What systemd's StateDirectory= and RuntimeDirectory= would prepare.
    for (dir, mode) in [
        (sandbox.data_dir(), 0o700),
        (sandbox.socket().parent().unwrap().to_path_buf(), 0o750),
    ] {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).unwrap();
        std::os::unix::fs::chown(&dir, Some(NOBODY), Some(NOBODY)).unwrap();
    }
    let daemon = Daemon::start_with(&sandbox, 0, |cmd| {
        cmd.args(["--socket-group", "nogroup", "--socket-mode", "0660"])
            .uid(NOBODY)
            .gid(NOBODY);
    });
    let sock = std::fs::metadata(&daemon.socket).unwrap();
    assert_eq!(
        (sock.uid(), sock.gid(), sock.mode() & 0o777),
        (NOBODY, NOBODY, 0o660)
    );
    let key = std::fs::metadata(sandbox.data_dir().join("encryption.key")).unwrap();
    assert_eq!((key.uid(), key.mode() & 0o777), (NOBODY, 0o600));

    // In the group: connects, and is served (it has no team yet).
    let (ok, out) = tidemark_as(OTHER, NOBODY, &daemon.socket);
    assert!(ok && out.contains("No teams yet"), "{out}");
    // Not told that `nobody` is the service account, the client will not talk to its daemon.
    let (ok, out) = tidemark_trusting(OTHER, NOBODY, &daemon.socket, None);
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!(
            "refusing the daemon at {}: it runs as uid {NOBODY} (nobody), not as you (uid {OTHER})",
            daemon.socket.display()
        )),
        "{out}"
    );
    // Outside it: the socket's mode refuses the connection.
    let (ok, out) = tidemark_as(OTHER, OTHER, &daemon.socket);
    assert!(!ok && !out.contains("may not use this daemon"), "{out}");
    assert!(out.to_lowercase().contains("permission denied"), "{out}");

    // Root takes an online backup through the control socket.
    let path = sandbox.dir.path().join("system.backup");
    let (ok, out) = output(sandbox.daemon_command().arg("backup").arg(&path));
    assert!(ok && out.contains("taken by the running daemon"), "{out}");
    assert!(daemon.stop().success());

    // With no daemon, root must not open the account's store (its files would become root's).
    let (ok, out) = output(
        sandbox
            .daemon_command()
            .arg("backup")
            .arg(sandbox.dir.path().join("offline.backup")),
    );
    assert!(!ok && out.contains("sudo -u nobody"), "{out}");
    let (ok, out) = output(sandbox.daemon_command().arg("restore").arg(&path));
    assert!(!ok && out.contains("sudo -u nobody"), "{out}");
    let (_, out) = output(sandbox.daemon_command().arg("doctor"));
    assert!(out.contains("store: not checked"), "{out}");
    let store = tidemark_daemon::lifecycle::store_dir(&sandbox.data_dir());
    for entry in std::fs::read_dir(&store).unwrap().flatten() {
        let owner = entry.metadata().unwrap().uid();
        assert_eq!(
            owner,
            NOBODY,
            "{} belongs to uid {owner}",
            entry.path().display()
        );
    }
}
