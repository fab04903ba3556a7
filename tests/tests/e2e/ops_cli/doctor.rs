//! `tidemarkd doctor` against the simulator: every check's verdict, and the exit status.

use super::output;
use serde_json::json;
use tidemark_tests::harness::{Daemon, Sandbox, block_on, use_simulator};
use tidemark_tests::sim::{Sim, SimConfig};

fn doctor(sandbox: &Sandbox, sim: &Sim, public_url: &str) -> (bool, String) {
    let mut cmd = sandbox.daemon_command();
    use_simulator(&mut cmd, sim, false);
    cmd.env("TIDEMARK_PUBLIC_URL", public_url).arg("doctor");
    output(&mut cmd)
}

/// The verdict word of the line about `name`.
fn verdict<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines()
        .find(|l| {
            l.split_once(':')
                .is_some_and(|(head, _)| head.ends_with(name))
        })
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no {name} line in\n{out}"))
}

fn skew(sim: &Sim, secs: i64) {
    block_on(async {
        let r = reqwest::Client::new()
            .post(format!("{}/_sim/faults", sim.url()))
            .json(&json!({ "clock_skew_secs": secs }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    });
}

#[test]
fn doctor_gives_a_verdict_per_check_and_fails_on_what_is_wrong() {
    let sim = Sim::start(SimConfig::default(), "127.0.0.1:0").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let public_url = format!("http://127.0.0.1:{port}");
    let sandbox = Sandbox::new();
    let daemon = Daemon::start_with(&sandbox, 0, |cmd| {
        use_simulator(cmd, &sim, false);
        cmd.args(["--webhook-addr", &format!("127.0.0.1:{port}")]);
    });

    let (ok, out) = doctor(&sandbox, &sim, &public_url);
    assert!(ok, "{out}");
    for name in [
        "data dir",
        "encryption key",
        "store",
        "socket",
        "github",
        "clock",
        "webhook url",
    ] {
        assert_eq!(verdict(&out, name), "ok", "{name}:\n{out}");
    }
    assert!(out.contains("checked by the running daemon"), "{out}");

    skew(&sim, 90);
    let (ok, out) = doctor(&sandbox, &sim, &public_url);
    assert!(ok, "a warning alone does not fail: {out}");
    assert_eq!(verdict(&out, "clock"), "warn", "{out}");
    skew(&sim, -900);
    let (ok, out) = doctor(&sandbox, &sim, &public_url);
    assert!(!ok, "{out}");
    assert_eq!(verdict(&out, "clock"), "fail", "{out}");
    // GitHub's clock 900 s behind: ours is 900 s ahead (±1 for the second boundary).
    let measured: i64 = out
        .lines()
        .find(|l| l.contains("clock:"))
        .and_then(|l| l.split("clock: ").nth(1)?.split(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no skew figure in\n{out}"));
    assert!((899..=901).contains(&measured), "{out}");
    skew(&sim, 0);

    // A public URL that reaches something other than tidemarkd's listener (the simulator).
    let (ok, out) = doctor(&sandbox, &sim, &sim.url());
    assert!(!ok);
    assert_eq!(verdict(&out, "webhook url"), "fail", "{out}");

    // Daemon stopped: the store is checked directly; no socket is a warning.
    assert!(daemon.stop().success());
    let (ok, out) = doctor(&sandbox, &sim, &public_url);
    assert!(!ok, "the webhook URL no longer answers: {out}");
    assert_eq!(verdict(&out, "store"), "ok", "{out}");
    assert!(out.contains("no daemon running"), "{out}");
    assert_eq!(verdict(&out, "socket"), "warn", "{out}");
    assert_eq!(verdict(&out, "webhook url"), "fail", "{out}");

    // GitHub unreachable, and a key file others can read.
    let key = sandbox.data_dir().join("encryption.key");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut cmd = sandbox.daemon_command();
    cmd.env(
        "TIDEMARK_GITHUB_API_URL",
        format!("http://127.0.0.1:{port}"),
    )
    .arg("doctor");
    let (ok, out) = output(&mut cmd);
    assert!(!ok);
    assert_eq!(verdict(&out, "github"), "fail", "{out}");
    assert_eq!(verdict(&out, "encryption key"), "fail", "{out}");
    assert!(out.contains("chmod 600"), "{out}");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();

    // A record that does not decode (kind 0x7f is no kind of ours) fails the store check.
    {
        let db = sled::open(tidemark_daemon::lifecycle::store_dir(&sandbox.data_dir())).unwrap();
        let mut key = 1u64.to_be_bytes().to_vec();
        key.extend_from_slice(&[0x7f, 1]);
        db.insert(key, &b"junk"[..]).unwrap();
        db.flush().unwrap();
    }
    let (ok, out) = tidemark_tests::harness::wait_until(
        std::time::Duration::from_secs(10),
        "sled to release the store",
        || {
            let (ok, out) = doctor(&sandbox, &sim, &public_url);
            (!out.contains("held by a running tidemarkd")).then_some((ok, out))
        },
    );
    assert!(!ok);
    assert_eq!(verdict(&out, "store"), "fail", "{out}");
    assert!(out.contains("unknown kind 0x7f"), "{out}");
}

fn sim_control(sim: &Sim, path: &str, body: serde_json::Value) {
    block_on(async {
        let r = reqwest::Client::new()
            .post(format!("{}{path}", sim.url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "POST {path}: {}", r.status());
    });
}

/// The detail of the line about `name`.
fn detail<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines()
        .find_map(|l| {
            let (head, rest) = l.split_once(':')?;
            head.ends_with(name).then_some(rest.trim())
        })
        .unwrap_or_else(|| panic!("no {name} line in\n{out}"))
}

/// On a real connection: the token's scopes, admin on each tracked repository and the org's
/// OAuth App access restrictions, each with what to do; by the running daemon (which holds the
/// token) and with the daemon stopped. No token in the output.
#[test]
fn doctor_checks_each_github_connection_and_says_what_to_do() {
    use tidemark_tests::harness::{
        connect, connect_team_and_track_all, first_sync_and_hooks, free_port, small_org_sim,
        use_simulator_with_webhooks,
    };
    let sim = small_org_sim(2, 3, 4);
    let port = free_port();
    let public_url = format!("http://127.0.0.1:{port}");
    let sandbox = Sandbox::new();
    let daemon = Daemon::start_with(&sandbox, 0, |cmd| {
        let addr = format!("127.0.0.1:{port}");
        use_simulator_with_webhooks(cmd, &sim, &addr, &addr);
    });
    tidemark_tests::harness::block_on_shared(async {
        let client = connect(&daemon.socket).await.unwrap();
        connect_team_and_track_all(&client, "platform")
            .await
            .unwrap();
        let team = tidemark_protocol::TeamRef::Name("platform".into());
        first_sync_and_hooks(&client, team, |r| r.webhook_id.is_some())
            .await
            .unwrap();
    });
    let tokens: Vec<String> = sim.world().tokens.keys().cloned().collect();
    let no_token = |out: &str| {
        for t in &tokens {
            assert!(!out.contains(t.as_str()), "a token in the output:\n{out}");
        }
    };
    let (scopes, admin, access) = (
        "token scopes [platform]",
        "repo admin [platform]",
        "oauth app access [platform]",
    );

    let (ok, out) = doctor(&sandbox, &sim, &public_url);
    assert!(ok, "{out}");
    no_token(&out);
    for name in [scopes, admin, access] {
        assert_eq!(verdict(&out, name), "ok", "{name}:\n{out}");
    }
    assert!(detail(&out, scopes).contains("no admin:org_hook"), "{out}");

    // A token without repo and read:org.
    sim_control(
        &sim,
        "/_sim/tokens/scopes",
        json!({ "scopes": ["read:user"] }),
    );
    let (ok, out) = doctor(&sandbox, &sim, &public_url);
    assert!(!ok, "{out}");
    assert_eq!(verdict(&out, scopes), "fail", "{out}");
    let d = detail(&out, scopes);
    assert!(d.contains("lacks repo and read:org"), "{d}");
    assert!(
        d.contains("reconnect: tidemark connect github --team platform"),
        "{d}"
    );
    sim_control(
        &sim,
        "/_sim/tokens/scopes",
        json!({ "scopes": ["repo", "read:org", "read:user"] }),
    );

    // The connected user is an admin of one tracked repository only.
    let viewer = sim.viewer_login();
    let (first, second) = {
        let w = sim.world();
        let mut names = w.repos.values().map(|r| r.name.clone());
        (names.next().unwrap(), names.next().unwrap())
    };
    sim_control(
        &sim,
        "/_sim/members",
        json!({ "login": viewer, "role": "member" }),
    );
    sim_control(
        &sim,
        &format!("/_sim/repos/{first}/collaborators"),
        json!({ "login": viewer, "permission": "admin" }),
    );
    let (ok, out) = doctor(&sandbox, &sim, &public_url);
    assert!(ok, "a warning alone does not fail: {out}");
    assert_eq!(verdict(&out, admin), "warn", "{out}");
    let d = detail(&out, admin);
    assert!(
        d.contains(&format!("is not an admin of acme/{second}")),
        "{d}"
    );
    assert!(!d.contains(&format!("acme/{first}")), "{d}");
    assert!(d.contains("ask an org owner"), "{d}");

    // The org restricts OAuth apps.
    sim_control(&sim, "/_sim/org", json!({ "oauth_app_restrictions": true }));
    let (ok, out) = doctor(&sandbox, &sim, &public_url);
    assert!(!ok, "{out}");
    assert_eq!(verdict(&out, access), "fail", "{out}");
    let approve = format!(
        "an org owner must approve the app: {}/organizations/acme/settings/oauth_application_policy",
        sim.url()
    );
    assert!(detail(&out, access).contains(&approve), "{out}");
    assert!(
        detail(&out, admin).contains("the organization restricts OAuth apps"),
        "{out}"
    );
    no_token(&out);

    // Daemon stopped: doctor reads the token from the store itself; same verdicts.
    assert!(daemon.stop().success());
    let (ok, out) = doctor(&sandbox, &sim, &public_url);
    assert!(!ok, "{out}");
    assert!(out.contains("no daemon running"), "{out}");
    assert_eq!(verdict(&out, access), "fail", "{out}");
    assert!(detail(&out, access).contains(&approve), "{out}");
    no_token(&out);
    sim_control(
        &sim,
        "/_sim/org",
        json!({ "oauth_app_restrictions": false }),
    );
    let (_, out) = doctor(&sandbox, &sim, &public_url);
    assert_eq!(verdict(&out, access), "ok", "{out}");
    assert_eq!(verdict(&out, scopes), "ok", "{out}");
    assert_eq!(verdict(&out, admin), "warn", "{out}");
}
