//! The real `tidemark` commands for repositories, sync, members, pull requests and metrics,
//! against the real daemon and the GitHub simulator.

use serde_json::Value;
use tidemark_tests::harness::small_org_sim;
use tidemark_tests::harness::{Daemon, Sandbox, cli_output, use_simulator};

fn ok_json(daemon: &Daemon, args: &[&str]) -> Value {
    let out = cli_output(&daemon.socket, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn track_sync_and_read_metrics_from_the_command_line() {
    let sim = small_org_sim(2, 8, 4);
    let sandbox = Sandbox::new();
    let daemon = Daemon::start_with(&sandbox, 0, |cmd| use_simulator(cmd, &sim, false));
    assert!(
        cli_output(&daemon.socket, &["team", "create", "platform"])
            .status
            .success()
    );
    assert!(
        cli_output(&daemon.socket, &["connect", "github", "--team", "platform"])
            .status
            .success()
    );

    let available = ok_json(
        &daemon,
        &["repos", "available", "--team", "platform", "--json"],
    );
    let names: Vec<String> = available
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["full_name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), 2);
    // A name outside the org is refused, and nothing is tracked.
    let bad = cli_output(
        &daemon.socket,
        &["repos", "track", "--team", "platform", "other/thing"],
    );
    assert_eq!(bad.status.code(), Some(1));
    let mut args = vec!["repos", "track", "--team", "platform", "--json"];
    args.extend(names.iter().map(String::as_str));
    ok_json(&daemon, &args);

    let out = cli_output(&daemon.socket, &["sync", "--team", "platform", "--wait"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // `status` says how much of GitHub's budget the sync left (the simulator's GraphQL limit).
    let status = ok_json(&daemon, &["status", "--team", "platform", "--json"]);
    let budget = status[0]["rate_budget"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["resource"] == "graphql")
        .unwrap_or_else(|| panic!("no GraphQL budget in {status}"));
    let (limit, left) = (
        budget["limit"].as_u64().unwrap(),
        budget["remaining"].as_u64().unwrap(),
    );
    assert!(left < limit, "the sync spent nothing? {budget}");
    let text = cli_output(&daemon.socket, &["status", "--team", "platform"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains(&format!("graphql {left}/{limit} (resets "))
            && text.contains("rate budget:  "),
        "{text}"
    );

    let repos = ok_json(&daemon, &["repos", "list", "--team", "platform", "--json"]);
    let total: u64 = repos
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["pull_request_count"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 16);
    assert!(
        repos
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["sync_status"] == "complete")
    );
    let members = ok_json(&daemon, &["members", "--team", "platform", "--json"]);
    assert_eq!(members.as_array().unwrap().len(), 4);
    let prs = ok_json(
        &daemon,
        &["prs", "--team", "platform", "--limit", "0", "--json"],
    );
    assert_eq!(prs.as_array().unwrap().len(), 16);
    let metrics = ok_json(
        &daemon,
        &["metrics", "--team", "platform", "--by", "repo", "--json"],
    );
    assert_eq!(metrics.as_array().unwrap().len(), 2);
    let table = cli_output(&daemon.socket, &["metrics", "--team", "platform"]);
    assert!(table.status.success());
    assert!(String::from_utf8_lossy(&table.stdout).contains("platform"));
}
