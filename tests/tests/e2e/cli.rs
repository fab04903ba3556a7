//! The real `tidemark` CLI against the real daemon: it starts the daemon when none answers, its
//! `--json` output parses, and secrets never show in what it prints.

use std::process::{Command, Output};
use std::time::Duration;
use tidemark_tests::harness::{Daemon, Sandbox, bin, seed_connected_team, signal, wait_until};

fn tidemark(sandbox: &Sandbox, args: &[&str]) -> Output {
    Command::new(bin("tidemark"))
        .arg("--data-dir")
        .arg(sandbox.data_dir())
        .arg("--socket")
        .arg(sandbox.socket())
        .args(args)
        .env_remove("INTEGRATION_ENCRYPTION_KEY")
        .env_remove("TIDEMARK_DATA_DIR")
        .env_remove("TIDEMARK_SOCKET")
        .env_remove("TIDEMARK_CONFIG")
        .env("XDG_CONFIG_HOME", sandbox.config_home())
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Stops the daemon the CLI started (its pid is in the lock file beside the socket).
struct Started<'a>(&'a Sandbox);

impl Drop for Started<'_> {
    fn drop(&mut self) {
        let lock = format!("{}.lock", self.0.socket().display());
        if let Ok(pid) = std::fs::read_to_string(lock)
            .unwrap_or_default()
            .trim()
            .parse::<i32>()
        {
            signal(pid, libc::SIGTERM);
            let socket = self.0.socket();
            wait_until(
                Duration::from_secs(20),
                "the started daemon to stop",
                || (!socket.exists()).then_some(()),
            );
        }
    }
}

#[test]
fn the_cli_starts_the_daemon_and_manages_teams() {
    let sandbox = Sandbox::new();
    let _stop = Started(&sandbox);
    let out = tidemark(&sandbox, &["team", "create", "platform"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("starting the tidemark daemon"),
        "{}",
        text(&out)
    );
    assert!(sandbox.socket().exists());
    assert!(sandbox.data_dir().join("daemon.log").exists());

    let out = tidemark(&sandbox, &["team", "list", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let teams: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(teams[0]["name"], "platform");
    assert_eq!(teams[0]["role"], "owner");
    assert!(
        !text(&out).contains("starting"),
        "the second call finds the running daemon"
    );

    let out = tidemark(&sandbox, &["team", "rename", "platform", "infra"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = tidemark(&sandbox, &["team", "create", "INFRA"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("already exists"), "{}", text(&out));
    let out = tidemark(&sandbox, &["team", "delete", "infra", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = tidemark(&sandbox, &["status", "--team", "infra"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("not found"), "{}", text(&out));
}

/// Issue 14: ids went `#1`, then `#2000001` after a restart (sled's id generator reserves
/// ranges), and people type them. Each team is created by the real CLI against a real daemon
/// started afresh.
#[test]
fn team_ids_are_1_2_3_across_restarts() {
    let sandbox = Sandbox::new();
    let mut ids = Vec::new();
    for (n, name) in ["one", "two", "three"].into_iter().enumerate() {
        let daemon = Daemon::start(&sandbox, n);
        let out = tidemark(&sandbox, &["--no-start", "team", "create", name, "--json"]);
        assert!(out.status.success(), "{}", text(&out));
        let team: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        ids.push(team["id"].as_u64().unwrap());
        assert!(daemon.stop().success());
    }
    assert_eq!(ids, [1, 2, 3]);
    // And `#2` names the second one, as the README asks people to type it.
    let daemon = Daemon::start(&sandbox, 3);
    let out = tidemark(
        &sandbox,
        &["--no-start", "status", "--team", "#2", "--json"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status[0]["team"]["name"], "two");
    assert!(daemon.stop().success());
}

/// The report that started issue 14: `team create '#1'` made a team whose name read as team
/// #1's id, and deleting it by name deleted the other team.
#[test]
fn a_name_never_reads_as_an_id_and_a_delete_names_the_id_it_removed() {
    let sandbox = Sandbox::new();
    let _stop = Started(&sandbox);
    let out = tidemark(&sandbox, &["team", "create", "platform", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let platform: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let platform_id = platform["id"].as_u64().unwrap();
    let hash = format!("#{platform_id}");
    for bad in [hash.as_str(), "#x", "zero\u{200B}width", "rtl\u{202E}name"] {
        let out = tidemark(&sandbox, &["team", "create", bad]);
        assert_eq!(out.status.code(), Some(1), "{bad:?} was accepted");
        assert!(text(&out).contains("invalid team name"), "{}", text(&out));
    }
    let out = tidemark(&sandbox, &["team", "create", "mobile", "--json"]);
    let mobile: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mobile_id = mobile["id"].as_u64().unwrap();
    let out = tidemark(
        &sandbox,
        &["team", "delete", &format!("#{mobile_id}"), "--yes"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        text(&out),
        format!("Deleted team 'mobile' (#{mobile_id}) and everything stored for it.\n")
    );
    let out = tidemark(&sandbox, &["team", "list", "--json"]);
    let teams: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(teams.as_array().unwrap().len(), 1, "{teams}");
    assert_eq!(teams[0]["id"].as_u64(), Some(platform_id));
}

#[test]
fn status_shows_masked_credentials_and_never_the_secrets() {
    let sandbox = Sandbox::new();
    let token = "gho_CLIcanary0123456789abcdefghijklmn4f2a";
    seed_connected_team(
        &sandbox,
        "octo",
        token,
        "ghr_CLIcanaryrefresh000000000000000",
        "CLIhooksecret-canary",
    );
    let _stop = Started(&sandbox);
    for args in [
        &["status"][..],
        &["status", "--json"],
        &["status", "--team", "octo", "--json"],
    ] {
        let out = tidemark(&sandbox, args);
        assert!(out.status.success(), "{}", text(&out));
        let all = text(&out);
        assert!(all.contains("gho_…4f2a"), "{args:?}: {all}");
        assert!(all.contains("octo-org/hello-world"), "{args:?}: {all}");
        for secret in [&token[4..20], "CLIcanaryrefresh", "CLIhooksecret"] {
            assert!(!all.contains(secret), "{args:?} printed a secret: {all}");
        }
    }
}

#[test]
fn no_start_reports_an_unreachable_daemon_clearly() {
    let sandbox = Sandbox::new();
    let out = tidemark(&sandbox, &["--no-start", "team", "list"]);
    assert_eq!(out.status.code(), Some(1));
    let all = text(&out);
    assert!(all.contains("not running"), "{all}");
    assert!(
        all.contains(&sandbox.socket().display().to_string()),
        "names the socket: {all}"
    );
    assert!(!sandbox.socket().exists(), "--no-start started nothing");
}
