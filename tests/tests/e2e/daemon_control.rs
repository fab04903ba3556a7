//! The daemon seen and steered from the product, against the real binaries: its config file,
//! `tidemark daemon status|stop|restart|reload`, SIGHUP, start-up failures that say why, and
//! `tidemark setup github` taking a daemon from "not set up" to connected without a restart.

use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::process::{Output, Stdio};
use std::time::Duration;
use tidemark_tests::harness::{Daemon, Sandbox, bin, read, signal, small_org_sim, wait_until};

fn tidemark(sandbox: &Sandbox, args: &[&str]) -> Output {
    sandbox.client_command().args(args).output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn status_json(sandbox: &Sandbox) -> Value {
    let out = tidemark(sandbox, &["--no-start", "daemon", "status", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A setting as `daemon status --json` shows it: (value, source).
fn setting(status: &Value, key: &str) -> (Value, String) {
    let s = status["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == key)
        .unwrap_or_else(|| panic!("no {key} in {status}"));
    (
        s["value"].clone(),
        s["source"].as_str().unwrap().to_string(),
    )
}

const CANARY: &str = "canary-client-secret-5f1e";

#[test]
fn status_and_reload_follow_the_config_file_and_sighup() {
    let sandbox = Sandbox::new();
    sandbox.write_config("# ours\nsync_interval_secs = 3600\n");
    let daemon = Daemon::start_with(&sandbox, 0, |cmd| {
        cmd.env("GITHUB_CLIENT_SECRET", CANARY);
    });

    let status = status_json(&sandbox);
    assert_eq!(status["pid"], daemon.pid());
    assert_eq!(status["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        status["config_file"],
        sandbox.config_file().display().to_string()
    );
    assert_eq!(
        setting(&status, "sync_interval_secs"),
        ("3600".into(), "config_file".into())
    );
    assert_eq!(
        setting(&status, "github_client_secret"),
        ("set".into(), "environment".into())
    );
    assert_eq!(
        setting(&status, "github_url"),
        ("https://github.com".into(), "default".into())
    );
    assert_eq!(status["github"]["configured"], false);
    assert_eq!(status["caller_may_operate"], true);
    let human = tidemark(&sandbox, &["--no-start", "daemon", "status"]);
    let text = stdout(&human);
    assert!(
        text.contains(&format!("running, pid {}", daemon.pid())),
        "{text}"
    );
    assert!(
        text.contains("GitHub:      not set up: `tidemark setup github`"),
        "{text}"
    );
    assert!(!text.contains(CANARY) && !status.to_string().contains(CANARY));

    // Edit the file; a reload applies what it can and says what waits for a restart.
    sandbox.write_config(
        "sync_interval_secs = 1200\nsocket_mode = \"0600\"\nwebhook_addr = \"127.0.0.1:1\"\n",
    );
    let out = tidemark(&sandbox, &["--no-start", "daemon", "reload", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["applied"],
        serde_json::json!(["sync_interval_secs"]),
        "{report}"
    );
    assert_eq!(
        report["need_restart"],
        serde_json::json!(["socket_mode"]),
        "{report}"
    );
    assert_eq!(
        report["overridden"],
        serde_json::json!([["webhook_addr", "environment"]]),
        "the harness sets TIDEMARK_WEBHOOK_ADDR: {report}"
    );
    assert_eq!(
        setting(&status_json(&sandbox), "sync_interval_secs").0,
        "1200"
    );
    // Again: nothing more applies, and the mode still waits for a restart.
    let human = tidemark(&sandbox, &["--no-start", "daemon", "reload"]);
    let text = stdout(&human);
    assert!(!text.contains("In effect now"), "{text}");
    assert!(
        text.contains("after a restart (`tidemark daemon restart`): socket_mode"),
        "{text}"
    );

    // SIGHUP does the same.
    sandbox.write_config("sync_interval_secs = 900\n");
    signal(daemon.pid(), libc::SIGHUP);
    wait_until(Duration::from_secs(10), "the SIGHUP reload", || {
        (setting(&status_json(&sandbox), "sync_interval_secs").0 == "900").then_some(())
    });

    // A bad file is refused with file, key and what is allowed; the daemon keeps its settings.
    sandbox.write_config("sync_interval_secs = \"soon\"\n");
    let out = tidemark(&sandbox, &["--no-start", "daemon", "reload"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    for needle in [
        sandbox.config_file().display().to_string(),
        "key `sync_interval_secs`".into(),
        "\"soon\" is not allowed; expected a whole number of seconds, 1 or more".into(),
    ] {
        assert!(err.contains(&needle), "missing {needle:?} in {err}");
    }
    assert_eq!(
        setting(&status_json(&sandbox), "sync_interval_secs").0,
        "900"
    );
    assert!(
        !read(&daemon.log).contains(CANARY),
        "the secret reached the log"
    );
}

#[test]
fn stop_and_restart_the_real_daemon() {
    let sandbox = Sandbox::new();
    let mut daemon = Daemon::start(&sandbox, 0);
    let pid = daemon.pid();
    let before = status_json(&sandbox);

    // Restart in place: the same process, started again, with the file read anew.
    sandbox.write_config("github_secondary_wait_secs = 120\n");
    let out = tidemark(&sandbox, &["--no-start", "daemon", "restart"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("Restarted the daemon (pid {pid}")),
        "{}",
        stdout(&out)
    );
    let after = status_json(&sandbox);
    assert_eq!(after["pid"], pid);
    assert!(after["started_at"].as_i64() >= before["started_at"].as_i64());
    assert_eq!(
        setting(&after, "github_secondary_wait_secs"),
        ("120".into(), "config_file".into())
    );
    assert!(
        read(&daemon.log).contains("restarting"),
        "{}",
        read(&daemon.log)
    );

    // A restart into a broken config: the daemon stops and says why it did not come back.
    sandbox.write_config("sync_intervall_secs = 60\n");
    let out = tidemark(&sandbox, &["--no-start", "daemon", "restart"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("did not start again"), "{err}");
    assert!(
        err.contains("key `sync_intervall_secs`: unknown key (did you mean `sync_interval_secs`?)"),
        "{err}"
    );
    let exited = wait_until(Duration::from_secs(10), "the daemon to exit", || {
        daemon.child.try_wait().unwrap()
    });
    assert!(!exited.success());
    let out = tidemark(&sandbox, &["--no-start", "daemon", "status"]);
    assert_eq!(out.status.code(), Some(3), "not running: exit 3");
    assert!(
        stderr(&out).contains("its last start failed: bad config file"),
        "{}",
        stderr(&out)
    );

    // Fixed: started again; `stop` ends it cleanly and removes the socket.
    sandbox.write_config("");
    let mut daemon = Daemon::start(&sandbox, 1);
    let pid = daemon.pid();
    let out = tidemark(&sandbox, &["--no-start", "daemon", "stop"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("Stopped the daemon (pid {pid}).\n"));
    let exited = wait_until(Duration::from_secs(10), "the daemon to exit", || {
        daemon.child.try_wait().unwrap()
    });
    assert!(exited.success(), "{exited}");
    assert!(!sandbox.socket().exists());
    let out = tidemark(&sandbox, &["--no-start", "daemon", "stop"]);
    assert!(out.status.success());
    assert_eq!(stdout(&out), "The daemon is not running.\n");
    let out = tidemark(&sandbox, &["--no-start", "daemon", "status", "--json"]);
    assert_eq!(out.status.code(), Some(3));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["running"], false);
}

#[test]
fn a_start_that_fails_says_why_to_the_client_that_started_it() {
    let sandbox = Sandbox::new();
    sandbox.write_config("public_url = \"ftp://tunnel.example\"\n");
    // tidemarkd itself.
    let out = sandbox
        .daemon_command()
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "tidemarkd: error: bad config file {}: key `public_url`: \"ftp://tunnel.example\" is \
             not allowed; expected an http(s) URL",
            sandbox.config_file().display()
        )),
        "{err}"
    );
    // The client that starts it shows the daemon's own reason, not only where its log is.
    let out = tidemark(&sandbox, &["team", "list"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("exited during start-up"), "{err}");
    assert!(err.contains("key `public_url`"), "{err}");
    assert!(err.contains("more in its log at"), "{err}");
    // A config file named on the command line must exist.
    let out = sandbox
        .daemon_command()
        .arg("--config")
        .arg(sandbox.dir.path().join("nope.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot read the config file"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn setup_github_takes_a_daemon_from_not_set_up_to_connected_without_a_restart() {
    let sim = small_org_sim(1, 2, 3);
    let sandbox = Sandbox::new();
    let client_id = sim.shared.config.client_id.clone();
    let client_secret = sim.shared.config.client_secret.clone();
    let mut daemon = Daemon::start_with(&sandbox, 0, |cmd| {
        cmd.env("TIDEMARK_GITHUB_URL", sim.url())
            .env("TIDEMARK_GITHUB_API_URL", sim.url());
    });
    let pid = daemon.pid();
    assert!(
        tidemark(&sandbox, &["team", "create", "platform"])
            .status
            .success()
    );

    // Not set up: the error says so (not "invalid GITHUB_CLIENT_ID") and how to fix it; a
    // client id in the client's shell is pointed out as the trap it is.
    let out = sandbox
        .client_command()
        .args(["connect", "github", "--team", "platform"])
        .env("GITHUB_CLIENT_ID", &client_id)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("GitHub is not set up on this daemon yet"),
        "{err}"
    );
    assert!(
        err.contains("GITHUB_CLIENT_ID is set in this shell"),
        "{err}"
    );
    assert!(err.contains("`tidemark setup github`"), "{err}");
    assert!(!err.contains("invalid"), "{err}");

    // Set up, the secret from stdin.
    let mut child = sandbox
        .client_command()
        .args([
            "setup",
            "github",
            "--client-id",
            &client_id,
            "--client-secret-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    writeln!(child.stdin.take().unwrap(), "{client_secret}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "Saved to {} and applied: GitHub is set up (client id and secret",
            sandbox.config_file().display()
        )),
        "{text}"
    );
    assert!(
        text.contains("tidemark connect github --team NAME"),
        "{text}"
    );
    let file = std::fs::read_to_string(sandbox.config_file()).unwrap();
    assert!(
        file.contains(&format!("github_client_id = \"{client_id}\"")),
        "{file}"
    );
    assert!(
        file.contains("github_client_secret_sealed = \"gAAAA"),
        "{file}"
    );
    assert!(
        !file.contains(&client_secret),
        "the secret is in the file in clear"
    );
    let mode = std::fs::metadata(sandbox.config_file())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let status = status_json(&sandbox);
    assert_eq!(status["github"]["configured"], true);
    assert_eq!(status["github"]["has_secret"], true);
    assert_eq!(status["pid"], pid, "applied without a restart");
    assert!(!status.to_string().contains(&client_secret));

    // Connecting works now, with the browser flow's secret as well as the device flow.
    let out = tidemark(
        &sandbox,
        &["connect", "github", "--team", "platform", "--json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));

    // After a restart the sealed secret opens again; after a key rotation too.
    let out = tidemark(&sandbox, &["--no-start", "daemon", "stop"]);
    assert!(out.status.success(), "{}", stderr(&out));
    wait_until(Duration::from_secs(10), "the daemon to exit", || {
        daemon.child.try_wait().unwrap()
    });
    let rotated = sandbox.daemon_command().arg("rotate-key").output().unwrap();
    assert!(rotated.status.success(), "{}", stderr(&rotated));
    let resealed = std::fs::read_to_string(sandbox.config_file()).unwrap();
    assert_ne!(resealed, file, "rotate-key re-sealed the client secret");
    let _daemon = Daemon::start_with(&sandbox, 1, |cmd| {
        cmd.env("TIDEMARK_GITHUB_URL", sim.url())
            .env("TIDEMARK_GITHUB_API_URL", sim.url());
    });
    let status = status_json(&sandbox);
    assert_eq!(status["github"]["has_secret"], true, "{status}");
    assert_eq!(
        setting(&status, "github_client_secret"),
        ("set".into(), "config_file".into())
    );

    // Without a terminal and without --client-id: refused, saying what to pass.
    let out = tidemark(&sandbox, &["setup", "github"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("pass --client-id"),
        "{}",
        stderr(&out)
    );
    // A client id GitHub would never issue is refused by the daemon, and nothing changes.
    let out = tidemark(
        &sandbox,
        &["setup", "github", "--client-id", "not an id", "--no-secret"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("invalid client id"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(sandbox.config_file()).unwrap(),
        resealed
    );
    let _ = bin("tidemark");
}

#[test]
fn a_new_public_url_in_a_reload_moves_the_hooks_at_once() {
    use tidemark_tests::harness::{block_on, connect, connect_team_and_track_all, free_port};
    let sim = small_org_sim(2, 1, 2);
    let sandbox = Sandbox::new();
    let (a, b) = (free_port(), free_port());
    sandbox.write_config(&format!("public_url = \"http://127.0.0.1:{a}\"\n"));
    let daemon = Daemon::start_with(&sandbox, 0, |cmd| {
        tidemark_tests::harness::use_simulator(cmd, &sim, false);
        cmd.arg("--webhook-addr").arg(format!("127.0.0.1:{a}"));
    });
    block_on(async {
        let client = connect(&daemon.socket).await.unwrap();
        connect_team_and_track_all(&client, "platform")
            .await
            .unwrap();
    });
    let urls = |port: u16| {
        let want = format!("http://127.0.0.1:{port}/webhooks/github/team/1");
        let hooks: Vec<_> = sim.world().hooks.values().cloned().collect();
        (hooks.len() == 2 && hooks.iter().all(|h| h.url == want)).then_some(())
    };
    wait_until(Duration::from_secs(20), "hooks at the first URL", || {
        urls(a)
    });

    sandbox.write_config(&format!("public_url = \"http://127.0.0.1:{b}\"\n"));
    let out = tidemark(&sandbox, &["--no-start", "daemon", "reload", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["applied"],
        serde_json::json!(["public_url"]),
        "{report}"
    );
    wait_until(
        Duration::from_secs(20),
        "hooks moved to the new URL",
        || urls(b),
    );
    let status = status_json(&sandbox);
    assert_eq!(
        setting(&status, "public_url"),
        (format!("http://127.0.0.1:{b}").into(), "config_file".into())
    );
}
