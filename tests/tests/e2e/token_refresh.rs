//! Expiring GitHub tokens: the daemon refreshes them before they expire, one refresh at a time,
//! and a crash at any step of a refresh leaves one whole, readable token pair in the store.

use serde_json::json;
use std::time::Duration;
use tidemark_daemon::crypto::load_keyring_with;
use tidemark_daemon::store::{Provider, SecretField, Store};
use tidemark_protocol::TeamRef;
use tidemark_tests::harness::{
    Daemon, Sandbox, block_on_shared as block_on, connect, create_and_connect_team, ctx, read,
    use_simulator, wait_until,
};
use tidemark_tests::sim::{OrgSpec, Sim, SimConfig};

/// A simulator whose tokens expire in two minutes (inside the daemon's refresh margin).
fn sim() -> Sim {
    Sim::start(
        SimConfig {
            org: OrgSpec {
                repos: 1,
                prs_per_repo: 2,
                members: 3,
                ..OrgSpec::default()
            },
            device_interval: 0,
            auto_approve: Some(1),
            token_lifetime: Some(120),
            ..SimConfig::default()
        },
        "127.0.0.1:0",
    )
    .unwrap()
}

fn set_lifetime(sim: &Sim, secs: u64) {
    block_on(async {
        let r = reqwest::Client::new()
            .post(format!("{}/_sim/oauth", sim.url()))
            .json(&json!({"token_lifetime": secs}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    });
}

/// Connect team "platform" through the device flow, with a daemon that checks tokens rarely.
fn connected(sim: &Sim, sandbox: &Sandbox) {
    let daemon = Daemon::start_with(sandbox, 0, |cmd| {
        use_simulator(cmd, sim, true);
        cmd.arg("--token-check-secs").arg("3600");
    });
    block_on(async {
        let client = connect(&daemon.socket).await.unwrap();
        create_and_connect_team(&client, "platform", false)
            .await
            .unwrap();
        // Connecting starts a sync, which refreshes the short-lived token first: let it end,
        // so what the tests start from is settled.
        loop {
            let p = client
                .sync_status(ctx(), TeamRef::Name("platform".into()), 2_000)
                .await
                .unwrap()
                .unwrap();
            if !p.running && p.finished_at.is_some() {
                break;
            }
        }
    });
    daemon.stop();
}

/// The pair the store holds now (daemon stopped): (access, refresh).
fn stored_pair(sandbox: &Sandbox) -> (String, String) {
    let (keyring, _) = load_keyring_with(None, &sandbox.data_dir(), false).unwrap();
    let store = Store::open(&tidemark_daemon::lifecycle::store_dir(&sandbox.data_dir())).unwrap();
    let team = store.team_by_name("platform").unwrap().unwrap().id;
    let cred = store
        .credential(team, Provider::Github)
        .unwrap()
        .expect("the credential is never lost");
    let get = |f| {
        store
            .credential_secret(&keyring, &cred, f)
            .expect("both secrets decrypt")
            .expect("both secrets are there")
            .expose()
            .to_string()
    };
    (
        get(SecretField::AccessToken),
        get(SecretField::RefreshToken),
    )
}

/// Every (access, refresh) pair the simulator ever issued.
fn issued_pairs(sim: &Sim) -> Vec<(String, String)> {
    sim.world()
        .tokens
        .iter()
        .filter_map(|(access, t)| t.refresh_token.clone().map(|r| (access.clone(), r)))
        .collect()
}

fn api_status(sim: &Sim, token: &str) -> u16 {
    block_on(async {
        reqwest::Client::new()
            .get(format!("{}/user", sim.url()))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    })
}

#[test]
fn an_expiring_token_is_refreshed_before_it_expires() {
    let sim = sim();
    let sandbox = Sandbox::new();
    connected(&sim, &sandbox);
    let before = stored_pair(&sandbox);
    assert_eq!(api_status(&sim, &before.0), 200);
    // Refreshed tokens last eight hours: one refresh, then quiet.
    set_lifetime(&sim, 8 * 3600);
    let daemon = Daemon::start_with(&sandbox, 1, |cmd| {
        use_simulator(cmd, &sim, true);
        cmd.arg("--token-check-secs").arg("1");
    });
    wait_until(Duration::from_secs(20), "the token to be refreshed", || {
        daemon
            .log_text()
            .contains("GitHub token refreshed")
            .then_some(())
    });
    daemon.stop();
    let after = stored_pair(&sandbox);
    assert_ne!(after, before);
    assert!(
        issued_pairs(&sim).contains(&after),
        "the stored pair is one GitHub issued together"
    );
    assert_eq!(api_status(&sim, &after.0), 200, "the new token works");
    assert_eq!(
        api_status(&sim, &before.0),
        401,
        "the old one is gone at GitHub"
    );
}

#[test]
fn a_crash_at_any_step_of_a_refresh_leaves_a_whole_readable_pair() {
    for point in [
        "refresh:before_exchange",
        "refresh:after_exchange",
        "refresh:after_write",
    ] {
        let sim = sim();
        let sandbox = Sandbox::new();
        connected(&sim, &sandbox);
        let before = stored_pair(&sandbox);
        set_lifetime(&sim, 8 * 3600);
        // Crash at this point of the first refresh.
        let log = sandbox.log_path(9);
        let mut cmd = sandbox.daemon_command();
        use_simulator(&mut cmd, &sim, true);
        cmd.arg("--token-check-secs")
            .arg("1")
            .env("TIDEMARK_FAILPOINT", point)
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(sandbox.log_path(10)).unwrap());
        let mut child = cmd.spawn().unwrap();
        let status = wait_until(
            Duration::from_secs(20),
            "the daemon to crash at the failpoint",
            || child.try_wait().unwrap(),
        );
        assert!(!status.success(), "{point}: {status}");
        assert!(
            read(&sandbox.log_path(10)).contains(point),
            "{point}: crashed elsewhere"
        );
        let pair = stored_pair(&sandbox);
        assert!(
            issued_pairs(&sim).contains(&pair),
            "{point}: a pair GitHub issued together"
        );
        match point {
            "refresh:after_write" => {
                assert_ne!(pair, before, "{point}: the new pair was written before use");
                assert_eq!(api_status(&sim, &pair.0), 200);
            }
            _ => assert_eq!(pair, before, "{point}: nothing written yet"),
        }
        // Started again without the failpoint, the daemon carries on from what is stored.
        let daemon = Daemon::start_with(&sandbox, 11, |cmd| {
            use_simulator(cmd, &sim, true);
            cmd.arg("--token-check-secs").arg("1");
        });
        if point == "refresh:before_exchange" {
            wait_until(Duration::from_secs(20), "the retried refresh", || {
                daemon
                    .log_text()
                    .contains("GitHub token refreshed")
                    .then_some(())
            });
        }
        if point == "refresh:after_exchange" {
            // GitHub rotated the pair we never stored: the daemon says to reconnect, and keeps
            // the credential (reported, never deleted).
            wait_until(Duration::from_secs(20), "the refresh to be refused", || {
                daemon.log_text().contains("refresh failed").then_some(())
            });
            let status = block_on(async {
                let client = connect(&daemon.socket).await.unwrap();
                client.status(ctx(), None).await.unwrap().unwrap()
            });
            let github = status[0].integrations[0].github.clone().unwrap();
            assert!(github.sync_error.unwrap_or_default().contains("reconnect"));
        }
        daemon.stop();
        let _ = stored_pair(&sandbox);
    }
}
