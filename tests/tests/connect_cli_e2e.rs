//! The real `tidemark connect github` / `disconnect github` commands, against the real daemon and
//! the GitHub simulator: what a user types, end to end.

use serde_json::Value;
use std::process::{Command, Output, Stdio};
use tidemark_tests::harness::small_org_sim;
use tidemark_tests::harness::{Daemon, Sandbox, bin, use_simulator};

fn tidemark(daemon: &Daemon, args: &[&str]) -> Output {
    Command::new(bin("tidemark"))
        .arg("--socket")
        .arg(&daemon.socket)
        .arg("--no-start")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn connect_and_disconnect_from_the_command_line() {
    let sim = small_org_sim(1, 2, 3);
    let sandbox = Sandbox::new();
    let daemon = Daemon::start_with(&sandbox, 0, |cmd| use_simulator(cmd, &sim, true));
    assert!(
        tidemark(&daemon, &["team", "create", "platform"])
            .status
            .success()
    );

    let out = tidemark(
        &daemon,
        &["connect", "github", "--team", "platform", "--json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("/login/device"),
        "the prompt: {}",
        stderr(&out)
    );
    let state: Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = state.to_string();
    assert!(text.contains("acme"), "{text}");
    // What it printed holds a mask, never the token.
    let token = sim.world().tokens.keys().next().unwrap().clone();
    assert!(!text.contains(&token) && !stderr(&out).contains(&token));

    // Again, without a terminal and without --yes: refused, and says how.
    let again = tidemark(&daemon, &["connect", "github", "--team", "platform"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("--yes"), "{}", stderr(&again));

    let out = tidemark(
        &daemon,
        &[
            "disconnect",
            "github",
            "--team",
            "platform",
            "--yes",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["grant_revoked"], true, "{report}");
    assert!(sim.world().tokens[&token].revoked);
}
