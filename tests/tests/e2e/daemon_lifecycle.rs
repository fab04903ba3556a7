//! The daemon's socket, key file and data dir: permissions, one daemon per socket, stale sockets,
//! refusals with messages that say how to fix things.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::time::Duration;
use tidemark_tests::harness::{Daemon, Sandbox, wait_until};

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Run tidemarkd expecting it to refuse to start; returns its stderr.
fn refused(sandbox: &Sandbox, tweak: impl FnOnce(&mut std::process::Command)) -> String {
    let mut cmd = sandbox.daemon_command();
    tweak(&mut cmd);
    let out = cmd.output().unwrap();
    assert!(
        !out.status.success(),
        "tidemarkd started when it should have refused"
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn socket_key_file_and_dirs_are_private() {
    let sandbox = Sandbox::new();
    let daemon = Daemon::start(&sandbox, 1);
    assert_eq!(mode(&sandbox.socket()), 0o600, "socket");
    assert_eq!(
        mode(sandbox.socket().parent().unwrap()),
        0o700,
        "socket dir"
    );
    assert_eq!(mode(&sandbox.data_dir()), 0o700, "data dir");
    assert_eq!(
        mode(&sandbox.data_dir().join("encryption.key")),
        0o600,
        "key file"
    );
    assert_eq!(mode(&sandbox.data_dir().join("store")), 0o700, "store dir");
    let socket_meta = std::fs::symlink_metadata(sandbox.socket()).unwrap();
    assert!(std::os::unix::fs::FileTypeExt::is_socket(
        &socket_meta.file_type()
    ));
    // No leftovers of the private bind directory.
    let leftovers: Vec<_> = std::fs::read_dir(sandbox.socket().parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".tidemark-bind")
        })
        .collect();
    assert!(leftovers.is_empty());
    assert!(daemon.stop().success());
    assert!(
        !sandbox.socket().exists(),
        "the socket is removed on shutdown"
    );
}

#[test]
fn a_second_daemon_on_the_same_socket_exits_with_a_clear_message() {
    let sandbox = Sandbox::new();
    let first = Daemon::start(&sandbox, 1);
    let ino = std::fs::metadata(sandbox.socket()).unwrap().ino();
    let err = refused(&sandbox, |_| {});
    assert!(err.contains("already running"), "{err}");
    assert!(err.contains(&format!("pid {}", first.pid())), "{err}");
    assert_eq!(
        std::fs::metadata(sandbox.socket()).unwrap().ino(),
        ino,
        "the live socket was not touched"
    );
    assert!(first.stop().success());
}

#[test]
fn a_stale_socket_of_a_dead_daemon_is_replaced() {
    let sandbox = Sandbox::new();
    let first = Daemon::start(&sandbox, 1);
    first.kill();
    assert!(
        sandbox.socket().exists(),
        "SIGKILL leaves the socket file behind"
    );
    let second = Daemon::start(&sandbox, 2);
    assert!(
        second.log_text().contains("stale socket"),
        "{}",
        second.log_text()
    );
    assert!(second.stop().success());
}

#[test]
fn a_group_readable_key_file_is_refused_with_the_fix() {
    let sandbox = Sandbox::new();
    Daemon::start(&sandbox, 1).stop();
    let key = sandbox.data_dir().join("encryption.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
    let err = refused(&sandbox, |_| {});
    assert!(err.contains("chmod 600"), "{err}");
    assert!(
        !sandbox.socket().exists(),
        "no socket left behind by a refused start"
    );
}

#[test]
fn a_symlinked_key_file_is_refused() {
    let sandbox = Sandbox::new();
    Daemon::start(&sandbox, 1).stop();
    let key = sandbox.data_dir().join("encryption.key");
    let elsewhere = sandbox.dir.path().join("moved.key");
    std::fs::rename(&key, &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &key).unwrap();
    let err = refused(&sandbox, |_| {});
    assert!(err.contains("symlink"), "{err}");
}

#[test]
fn a_malformed_environment_key_is_refused_without_echoing_it() {
    let sandbox = Sandbox::new();
    let bad = "definitely-not-a-fernet-key";
    let err = refused(&sandbox, |cmd| {
        cmd.env("INTEGRATION_ENCRYPTION_KEY", bad);
    });
    assert!(err.contains("INTEGRATION_ENCRYPTION_KEY"), "{err}");
    assert!(err.contains("generate-key"), "{err}");
    assert!(!err.contains(bad), "the key was echoed: {err}");
}

#[test]
fn a_data_dir_others_can_write_is_refused() {
    let sandbox = Sandbox::new();
    std::fs::create_dir_all(sandbox.data_dir()).unwrap();
    std::fs::set_permissions(sandbox.data_dir(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let err = refused(&sandbox, |_| {});
    assert!(err.contains("chmod 700"), "{err}");
}

#[test]
fn sigint_also_stops_cleanly() {
    let sandbox = Sandbox::new();
    let mut daemon = Daemon::start(&sandbox, 1);
    tidemark_tests::harness::signal(daemon.pid(), libc::SIGINT);
    let status = wait_until(Duration::from_secs(20), "exit on SIGINT", || {
        daemon.child.try_wait().unwrap()
    });
    assert!(status.success(), "{status}");
    assert!(daemon.log_text().contains("store flushed"));
}
