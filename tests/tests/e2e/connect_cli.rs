//! The real `tidemark connect github` / `disconnect github` commands, against the real daemon and
//! the GitHub simulator: what a user types, end to end.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use tidemark_tests::harness::{
    Daemon, Sandbox, another_member_login, authorize_in_browser, bin, block_on_shared, cli_output,
    small_org_sim, use_simulator,
};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout_text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn connect_and_disconnect_from_the_command_line() {
    let sim = small_org_sim(1, 2, 3);
    let sandbox = Sandbox::new();
    let daemon = Daemon::start_with(&sandbox, 0, |cmd| use_simulator(cmd, &sim, true));
    assert!(
        cli_output(&daemon.socket, &["team", "create", "platform"])
            .status
            .success()
    );

    let out = cli_output(
        &daemon.socket,
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
    let again = cli_output(&daemon.socket, &["connect", "github", "--team", "platform"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("--yes"), "{}", stderr(&again));

    let out = cli_output(
        &daemon.socket,
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

/// `connect github --web` run as a script would (no terminal on stdin, no display), with a
/// browser on this machine signed in to GitHub as `browser_login` (None: the simulator's viewer)
/// opening the link the command prints.
fn web_connect(daemon: &Daemon, browser_login: Option<&str>, args: &[&str]) -> Output {
    let mut child = Command::new(bin("tidemark"))
        .arg("--socket")
        .arg(&daemon.socket)
        .arg("--no-start")
        .args(["connect", "github", "--team", "platform", "--web"])
        .args(args)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read what it says as it says it; the link comes first.
    let (lines, said) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let link = loop {
        let line = said
            .recv_timeout(Duration::from_secs(30))
            .expect("the command prints the authorize link");
        if let Some(url) = line.trim().strip_prefix("http")
            && url.contains("/login/oauth/authorize?")
        {
            break format!("http{url}");
        }
    };
    let back = authorize_in_browser(&link, browser_login);
    let page = block_on_shared(async { reqwest::get(&back).await.unwrap().text().await.unwrap() });
    assert!(page.contains("Return to your terminal"), "{page}");
    let mut out = child.wait_with_output().unwrap();
    out.stderr = reader.join().unwrap().into_bytes();
    out
}

fn status_json(daemon: &Daemon) -> Value {
    let out = cli_output(&daemon.socket, &["status", "--team", "platform", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_web_flow_connects_only_the_github_login_the_script_names() {
    let sim = small_org_sim(1, 1, 3);
    let sandbox = Sandbox::new();
    let daemon = Daemon::start_with(&sandbox, 0, |cmd| use_simulator(cmd, &sim, true));
    assert!(
        cli_output(&daemon.socket, &["team", "create", "platform"])
            .status
            .success()
    );
    let viewer = sim.viewer_login();
    let someone_else = another_member_login(&sim);

    // No terminal and no --github-login: nothing stored, and it says how to confirm.
    let out = web_connect(&daemon, None, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("signed the browser in as @{viewer}"))
            && err.contains(&format!("--github-login {viewer}"))
            && err.contains("nothing was stored"),
        "{err}"
    );
    assert_eq!(status_json(&daemon)[0]["integrations"], json!([]));

    // Another account signed the browser in than the script expects: refused, naming both.
    let out = web_connect(
        &daemon,
        Some(&someone_else),
        &["--github-login", &viewer, "--json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "GitHub signed the browser in as @{someone_else}, not @{viewer} (--github-login)"
        )) && err.contains("nothing was stored"),
        "{err}"
    );
    assert_eq!(stdout_text(&out), "", "--json prints nothing but a result");
    assert_eq!(status_json(&daemon)[0]["integrations"], json!([]));

    // The login it names (any case, with or without @): connected, the JSON is the result.
    let named = format!("@{}", viewer.to_uppercase());
    let out = web_connect(&daemon, None, &["--github-login", &named, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let state: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(state["connected"]["github_login"], json!(viewer), "{state}");
    let connected = &status_json(&daemon)[0]["integrations"];
    assert_eq!(connected.as_array().map(Vec::len), Some(1), "{connected}");
}
