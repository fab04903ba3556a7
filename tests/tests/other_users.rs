//! A caller who is neither the daemon's user nor root is refused, with a message that says so.
//! Needs root to run a client as another uid; elsewhere it says it skipped.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use tidemark_protocol::{PROTOCOL_VERSION, RpcError, TidemarkClient};
use tidemark_tests::harness::{Daemon, Sandbox, block_on, ctx};

const CHILD_ENV: &str = "TIDEMARK_TEST_CHILD_SOCKET";
const NOBODY: u32 = 65534;

/// The client half: runs in a child process as uid 65534, prints what the daemon said.
#[test]
fn child_calls_as_another_user() {
    let Ok(socket) = std::env::var(CHILD_ENV) else {
        return; // only meaningful when started by the test below
    };
    let answers = block_on(async {
        let stream = tokio::net::UnixStream::connect(Path::new(&socket))
            .await
            .unwrap();
        let c = TidemarkClient::new(
            tarpc::client::Config::default(),
            tidemark_daemon::rpc::transport(stream),
        )
        .spawn();
        let hello = c.hello(ctx(), PROTOCOL_VERSION).await.unwrap();
        let list = c.team_list(ctx()).await.unwrap();
        let create = c.team_create(ctx(), "intruders".into()).await.unwrap();
        (hello.err(), list.err(), create.err())
    });
    for answer in [answers.0, answers.1, answers.2] {
        match answer {
            Some(RpcError::PermissionDenied(msg)) => println!("REFUSED: {msg}"),
            other => println!("SERVED: {other:?}"),
        }
    }
}

#[test]
fn callers_other_than_the_daemon_user_and_root_are_refused() {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: running a client as another uid needs root");
        return;
    }
    let sandbox = Sandbox::new();
    let daemon = Daemon::start(&sandbox, 1);
    // Open the way on purpose (sandbox dir, socket dir, socket) so the daemon's own check is
    // what stands between the other user and the data.
    for dir in [sandbox.dir.path(), sandbox.socket().parent().unwrap()] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(sandbox.socket(), std::fs::Permissions::from_mode(0o666)).unwrap();

    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_calls_as_another_user",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, sandbox.socket())
        .uid(NOBODY)
        .gid(NOBODY)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.matches("REFUSED: ").count(), 3, "{stdout}");
    assert!(!stdout.contains("SERVED"), "{stdout}");
    assert!(
        stdout.contains("uid 65534"),
        "the refusal names the caller: {stdout}"
    );

    block_on(async {
        let c = tidemark_tests::harness::connect(&daemon.socket)
            .await
            .unwrap();
        assert!(
            c.team_list(ctx()).await.unwrap().unwrap().is_empty(),
            "nothing was created"
        );
    });
}
