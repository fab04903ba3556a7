//! Connecting and disconnecting GitHub: the real daemon against the simulator, every path a real
//! round trip through the daemon's RPC socket, its OAuth callback listener and the simulator.
//! The web flow (callback listener, login confirmation) is in `connect_github/web.rs`.

use serde_json::{Value, json};
use std::time::Duration;
use tidemark_protocol::{
    ConnectMethod, ConnectPrompt, ConnectRequest, ConnectStarted, ConnectState, RpcError,
    SecretState, TeamRef, TidemarkClient,
};
use tidemark_tests::harness::{
    self, Daemon, Sandbox, block_on_shared as block_on, connect, ctx, sim_control as control,
    use_simulator,
};

use tidemark_tests::sim::{OrgSpec, Sim, SimConfig};

// The web flow's tests.
mod web;

fn sim() -> Sim {
    Sim::start(
        SimConfig {
            org: OrgSpec {
                repos: 2,
                prs_per_repo: 3,
                members: 4,
                ..OrgSpec::default()
            },
            device_interval: 0,
            auto_approve: Some(2),
            ..SimConfig::default()
        },
        "127.0.0.1:0",
    )
    .unwrap()
}

struct Setup {
    sim: Sim,
    sandbox: Sandbox,
    daemon: Option<Daemon>,
    with_secret: bool,
}

fn setup(with_secret: bool) -> Setup {
    let sim = sim();
    let sandbox = Sandbox::new();
    let daemon = Daemon::start_with(&sandbox, 0, |cmd| use_simulator(cmd, &sim, with_secret));
    Setup {
        sim,
        sandbox,
        daemon: Some(daemon),
        with_secret,
    }
}

impl Setup {
    fn daemon(&self) -> &Daemon {
        self.daemon.as_ref().expect("a running daemon")
    }

    fn client(&self) -> TidemarkClient {
        block_on(connect(&self.daemon().socket)).unwrap()
    }

    /// Stop the daemon, run `while_stopped`, start it again.
    fn restart(&mut self, while_stopped: impl FnOnce(&Setup)) {
        self.daemon.take().expect("a running daemon").stop();
        while_stopped(self);
        let with_secret = self.with_secret;
        let sim = &self.sim;
        self.daemon = Some(Daemon::start_with(&self.sandbox, 1, |cmd| {
            use_simulator(cmd, sim, with_secret)
        }));
    }
}

fn team(client: &TidemarkClient, name: &str) -> TeamRef {
    block_on(client.team_create(ctx(), name.into()))
        .unwrap()
        .unwrap();
    TeamRef::Name(name.into())
}

fn request(team: &TeamRef, method: ConnectMethod) -> ConnectRequest {
    ConnectRequest {
        team: team.clone(),
        method,
        org: None,
        replace: false,
        org_hook: false,
    }
}

fn start(client: &TidemarkClient, req: ConnectRequest) -> Result<ConnectStarted, RpcError> {
    block_on(client.github_connect(ctx(), req)).unwrap()
}

/// Follow a flow until it leaves `Waiting` (each status call long-polls).
fn outcome(client: &TidemarkClient, flow: u64) -> ConnectState {
    harness::wait_until(Duration::from_secs(30), "the connect flow to move", || {
        let state = block_on(client.github_connect_status(ctx(), flow, 2_000))
            .unwrap()
            .unwrap();
        (state != ConnectState::Waiting).then_some(state)
    })
}

fn integrations(
    client: &TidemarkClient,
    team: &TeamRef,
) -> Vec<tidemark_protocol::IntegrationInfo> {
    block_on(client.integrations(ctx(), team.clone()))
        .unwrap()
        .unwrap()
}

/// The tokens the simulator issued (to look for them where they must not be).
fn issued_tokens(sim: &Sim) -> Vec<String> {
    sim.world().tokens.keys().cloned().collect()
}

#[test]
fn device_flow_connects_and_stores_only_an_encrypted_token() {
    let s = setup(false);
    let client = s.client();
    let t = team(&client, "platform");
    let started = start(&client, request(&t, ConnectMethod::Device)).unwrap();
    let ConnectPrompt::Device {
        user_code,
        verification_uri,
    } = &started.prompt
    else {
        panic!("a device prompt: {:?}", started.prompt);
    };
    assert!(
        user_code.len() == 9 && user_code.contains('-'),
        "{user_code}"
    );
    assert_eq!(verification_uri, &format!("{}/login/device", s.sim.url()));
    let state = outcome(&client, started.flow);
    let ConnectState::Connected {
        github_login,
        integration,
    } = state
    else {
        panic!("connected: {state:?}");
    };
    assert_eq!(github_login, s.sim.viewer_login());
    let github = integration.github.as_ref().unwrap();
    assert_eq!(github.organization_slug, "acme");
    // Connecting starts the first sync: it may already be under way when the answer is built.
    assert!(
        matches!(
            github.sync_status,
            tidemark_protocol::SyncStatus::Pending | tidemark_protocol::SyncStatus::Syncing
        ),
        "{:?}",
        github.sync_status
    );
    let cred = &integration.credential;
    assert_eq!(cred.scopes, ["read:org", "repo", "read:user"]);
    assert!(matches!(&cred.access_token, SecretState::Masked(m) if m.starts_with("gho_…")));
    assert_eq!(
        cred.connected_by.as_ref().map(|u| u.uid),
        Some(unsafe { libc::geteuid() })
    );
    // The same credential is what the team's status says (its first sync has started since).
    let listed = integrations(&client, &t);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].credential, integration.credential);
    assert_eq!(listed[0].github.as_ref().unwrap().organization_slug, "acme");

    // The token GitHub issued appears nowhere: not in the store's files, the log, or a reply.
    let tokens = issued_tokens(&s.sim);
    assert_eq!(tokens.len(), 1);
    let reply = format!("{:?}", block_on(client.status(ctx(), None)).unwrap());
    let daemon_log = s.daemon().log_text();
    for token in &tokens {
        assert!(!reply.contains(token.as_str()));
        assert!(
            !daemon_log.contains(token.as_str()),
            "token in the daemon log"
        );
        let hits = harness::files_containing(&s.sandbox.data_dir(), token.as_bytes());
        assert!(hits.is_empty(), "token in {hits:?}");
    }
}

#[test]
fn a_denied_or_expired_device_code_fails_and_stores_nothing() {
    let s = setup(false);
    control(&s.sim, "/_sim/oauth", json!({"auto_approve": null}));
    let client = s.client();
    let t = team(&client, "platform");
    for (action, expected) in [("deny", "denied"), ("expire", "expired")] {
        let started = start(&client, request(&t, ConnectMethod::Device)).unwrap();
        let ConnectPrompt::Device { user_code, .. } = &started.prompt else {
            panic!();
        };
        control(
            &s.sim,
            &format!("/_sim/oauth/device/{action}"),
            json!({"user_code": user_code}),
        );
        match outcome(&client, started.flow) {
            ConnectState::Failed { reason } => assert!(reason.contains(expected), "{reason}"),
            other => panic!("{action}: {other:?}"),
        }
        assert!(integrations(&client, &t).is_empty());
    }
}

#[test]
fn several_orgs_ask_for_a_choice_and_a_named_org_is_taken() {
    let s = setup(false);
    control(&s.sim, "/_sim/orgs", json!({"login": "umbrella"}));
    let client = s.client();
    let t = team(&client, "platform");
    let started = start(&client, request(&t, ConnectMethod::Device)).unwrap();
    let ConnectState::ChooseOrg { orgs } = outcome(&client, started.flow) else {
        panic!("a choice");
    };
    let logins: Vec<_> = orgs.iter().map(|o| o.login.as_str()).collect();
    assert_eq!(logins, ["acme", "umbrella"]);
    // Not one of them: refused, and the flow still waits for a valid choice.
    let bad =
        block_on(client.github_connect_choose_org(ctx(), started.flow, "initech".into())).unwrap();
    assert!(
        matches!(bad, Err(RpcError::InvalidArgument { .. })),
        "{bad:?}"
    );
    let chosen = block_on(client.github_connect_choose_org(ctx(), started.flow, "ACME".into()))
        .unwrap()
        .unwrap();
    assert!(
        matches!(chosen, ConnectState::Connected { .. }),
        "{chosen:?}"
    );

    // With --org, no question; an org the token cannot see fails with the visible ones listed.
    let other = team(&client, "other");
    let mut req = request(&other, ConnectMethod::Device);
    req.org = Some("nope".into());
    let started = start(&client, req.clone()).unwrap();
    match outcome(&client, started.flow) {
        ConnectState::Failed { reason } => {
            assert!(
                reason.contains("'nope'") && reason.contains("acme, umbrella"),
                "{reason}"
            )
        }
        other => panic!("{other:?}"),
    }
    req.org = Some("umbrella".into());
    let started = start(&client, req).unwrap();
    let ConnectState::Connected { integration, .. } = outcome(&client, started.flow) else {
        panic!();
    };
    assert_eq!(integration.github.unwrap().organization_slug, "umbrella");
}

#[test]
fn no_visible_org_or_a_token_github_then_rejects_fail_cleanly() {
    let s = setup(false);
    let client = s.client();
    let t = team(&client, "platform");
    let viewer = s.sim.viewer_login();
    block_on(async {
        reqwest::Client::new()
            .delete(format!("{}/_sim/members/{viewer}", s.sim.url()))
            .send()
            .await
            .unwrap()
    });
    let started = start(&client, request(&t, ConnectMethod::Device)).unwrap();
    match outcome(&client, started.flow) {
        ConnectState::Failed { reason } => assert!(reason.contains("no organization"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // Tokens that expire at once: reading the user answers 401.
    control(&s.sim, "/_sim/oauth", json!({"token_lifetime": 0}));
    let started = start(&client, request(&t, ConnectMethod::Device)).unwrap();
    match outcome(&client, started.flow) {
        ConnectState::Failed { reason } => assert!(reason.contains("401"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert!(integrations(&client, &t).is_empty());
}

#[test]
fn connecting_again_needs_consent_and_keeps_the_integration() {
    let s = setup(false);
    let client = s.client();
    let t = team(&client, "platform");
    let first = start(&client, request(&t, ConnectMethod::Device)).unwrap();
    let ConnectState::Connected {
        integration: before,
        ..
    } = outcome(&client, first.flow)
    else {
        panic!();
    };
    let refused = start(&client, request(&t, ConnectMethod::Device));
    match refused {
        Err(RpcError::AlreadyExists(what)) => assert!(what.contains("acme"), "{what}"),
        other => panic!("{other:?}"),
    }
    let mut req = request(&t, ConnectMethod::Device);
    req.replace = true;
    let again = start(&client, req).unwrap();
    let ConnectState::Connected {
        integration: after, ..
    } = outcome(&client, again.flow)
    else {
        panic!();
    };
    assert_ne!(
        after.credential.access_token,
        before.credential.access_token
    );
    assert_eq!(after.credential.created_at, before.credential.created_at);
    let (a, b) = (
        after.github.as_ref().unwrap(),
        before.github.as_ref().unwrap(),
    );
    assert_eq!(
        (a.organization_id, &a.organization_slug, &a.webhook_secret),
        (b.organization_id, &b.organization_slug, &b.webhook_secret),
        "same org, same integration"
    );
}

#[test]
fn configuration_problems_are_clear_and_github_being_down_is_reported() {
    // No client id.
    let sim = sim();
    let sandbox = Sandbox::new();
    let daemon = Daemon::start_with(&sandbox, 0, |cmd| {
        cmd.env("TIDEMARK_GITHUB_URL", sim.url());
    });
    let client = block_on(connect(&daemon.socket)).unwrap();
    let t = team(&client, "platform");
    match start(&client, request(&t, ConnectMethod::Device)) {
        Err(RpcError::NotConfigured(reason)) => {
            assert!(reason.contains("not set up on this daemon"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    drop(daemon);
    // A client id but no secret: the web flow says what it needs.
    let s = setup(false);
    let client = s.client();
    let t = team(&client, "platform");
    match start(&client, request(&t, ConnectMethod::Web)) {
        Err(RpcError::InvalidArgument { reason, .. }) => {
            assert!(reason.contains("client secret"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    // GitHub answering 5xx.
    control(&s.sim, "/_sim/faults", json!({"fail_next": 1}));
    match start(&client, request(&t, ConnectMethod::Device)) {
        Err(RpcError::Internal(reason)) => assert!(reason.contains("502"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // GitHub unreachable.
    let sandbox = Sandbox::new();
    let daemon = Daemon::start_with(&sandbox, 1, |cmd| {
        cmd.env("TIDEMARK_GITHUB_URL", "http://127.0.0.1:9")
            .env("GITHUB_CLIENT_ID", "Iv1.x");
    });
    let client = block_on(connect(&daemon.socket)).unwrap();
    let t = team(&client, "platform");
    match start(&client, request(&t, ConnectMethod::Device)) {
        Err(RpcError::Internal(reason)) => assert!(reason.contains("unreachable"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert!(integrations(&client, &t).is_empty());
}

#[test]
fn a_flow_belongs_to_its_caller_and_can_be_cancelled() {
    let s = setup(false);
    control(&s.sim, "/_sim/oauth", json!({"auto_approve": null}));
    let client = s.client();
    let t = team(&client, "platform");
    let started = start(&client, request(&t, ConnectMethod::Device)).unwrap();
    let missing = block_on(client.github_connect_status(ctx(), started.flow + 1000, 0)).unwrap();
    assert!(matches!(missing, Err(RpcError::NotFound(_))));
    block_on(client.github_connect_cancel(ctx(), started.flow))
        .unwrap()
        .unwrap();
    let state = block_on(client.github_connect_status(ctx(), started.flow, 0))
        .unwrap()
        .unwrap();
    assert_eq!(
        state,
        ConnectState::Failed {
            reason: "cancelled".into()
        }
    );
    // Approving at GitHub afterwards changes nothing here.
    let ConnectPrompt::Device { user_code, .. } = &started.prompt else {
        panic!();
    };
    control(
        &s.sim,
        "/_sim/oauth/device/approve",
        json!({"user_code": user_code}),
    );
    assert!(integrations(&client, &t).is_empty());
}

/// With the daemon stopped: track a repo of the simulator's org with a hook tidemark "created"
/// (made on the simulator with the stored token) and one synced member. Returns the hook id.
fn seed_tracked_repo_and_history(s: &Setup, team_name: &str) -> u64 {
    use tidemark_daemon::store::{MemberInput, Store};
    let token = issued_tokens(&s.sim).pop().unwrap();
    let (repo_id, repo_name) = {
        let w = s.sim.world();
        let r = w.repos.values().find(|r| !r.archived).unwrap();
        (r.id, r.name.clone())
    };
    let hook: Value = block_on(async {
        reqwest::Client::new()
            .post(format!("{}/repos/acme/{repo_name}/hooks", s.sim.url()))
            .bearer_auth(&token)
            .json(&json!({"name": "web", "config": {"url": "http://127.0.0.1:9/webhooks/github", "content_type": "json"}, "events": ["pull_request"]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    let hook_id = hook["id"].as_u64().expect("hook created");
    let store = Store::open(&tidemark_daemon::lifecycle::store_dir(
        &s.sandbox.data_dir(),
    ))
    .unwrap();
    let team = store.team_by_name(team_name).unwrap().unwrap().id;
    store
        .track_repo(team, repo_id, &format!("acme/{repo_name}"))
        .unwrap();
    store
        .set_repo_webhook(team, repo_id, Some(hook_id))
        .unwrap();
    store
        .upsert_member(
            team,
            MemberInput {
                github_id: Some(42),
                github_username: Some("someone".into()),
                email: None,
                display_name: None,
                is_bot: false,
            },
        )
        .unwrap();
    store.flush().unwrap();
    hook_id
}

/// The team's status once no sync runs.
fn settled(client: &TidemarkClient, team: &TeamRef) -> tidemark_protocol::TeamStatus {
    harness::wait_until(Duration::from_secs(30), "the sync to settle", || {
        let p = block_on(client.sync_status(ctx(), team.clone(), 2_000))
            .unwrap()
            .unwrap();
        (!p.running).then_some(())
    });
    block_on(client.status(ctx(), Some(team.clone())))
        .unwrap()
        .unwrap()
        .remove(0)
}

fn connected_team(s: &Setup, client: &TidemarkClient, name: &str) -> TeamRef {
    let t = team(client, name);
    let started = start(client, request(&t, ConnectMethod::Device)).unwrap();
    assert!(matches!(
        outcome(client, started.flow),
        ConnectState::Connected { .. }
    ));
    // Connecting starts the first sync: let it finish, so a restart finds nothing due.
    harness::wait_until(Duration::from_secs(30), "the first sync", || {
        let p = block_on(client.sync_status(ctx(), t.clone(), 2_000))
            .unwrap()
            .unwrap();
        (!p.running && p.finished_at.is_some()).then_some(())
    });
    let _ = s;
    t
}

#[test]
fn disconnect_deletes_our_hooks_revokes_the_token_and_keeps_history_unless_purged() {
    let mut s = setup(true);
    let client = s.client();
    let t = connected_team(&s, &client, "platform");
    let token = issued_tokens(&s.sim).pop().unwrap();
    drop(client);
    let mut hook_id = 0;
    s.restart(|s| hook_id = seed_tracked_repo_and_history(s, "platform"));
    let client = s.client();
    // A connected team syncs by itself at start; let that finish first.
    let members_before = settled(&client, &t).member_count;
    let report = block_on(client.github_disconnect(ctx(), t.clone(), false))
        .unwrap()
        .unwrap();
    assert_eq!(report.organization.as_deref(), Some("acme"));
    assert_eq!(report.hooks_deleted, 1, "{report:?}");
    assert!(report.hooks_failed.is_empty(), "{report:?}");
    assert!(report.grant_revoked, "{report:?}");
    assert_eq!(report.repos_removed, 1);
    assert!(!report.history_purged);
    assert!(
        !s.sim.world().hooks.contains_key(&hook_id),
        "the hook is gone from GitHub"
    );
    assert!(
        s.sim.world().tokens[&token].revoked,
        "the token is revoked at GitHub"
    );
    let status = block_on(client.status(ctx(), Some(t.clone())))
        .unwrap()
        .unwrap();
    assert!(status[0].integrations.is_empty() && status[0].repos.is_empty());
    assert_eq!(
        status[0].member_count, members_before,
        "history stays without --purge"
    );
    // Disconnecting twice says there is nothing to disconnect.
    let again = block_on(client.github_disconnect(ctx(), t.clone(), false)).unwrap();
    assert!(matches!(again, Err(RpcError::NotFound(_))), "{again:?}");
}

#[test]
fn disconnect_with_purge_drops_history_and_without_a_secret_says_how_to_revoke() {
    let mut s = setup(false);
    let client = s.client();
    let t = connected_team(&s, &client, "platform");
    drop(client);
    s.restart(|s| {
        seed_tracked_repo_and_history(s, "platform");
    });
    let client = s.client();
    settled(&client, &t);
    // GitHub is down by the time we disconnect: the local disconnect still happens.
    control(&s.sim, "/_sim/faults", json!({"error_rate": 1000}));
    let report = block_on(client.github_disconnect(ctx(), t.clone(), true))
        .unwrap()
        .unwrap();
    assert_eq!(report.hooks_deleted, 0);
    assert_eq!(report.hooks_failed.len(), 1, "{report:?}");
    assert!(!report.grant_revoked);
    let note = report.grant_note.unwrap();
    assert!(
        note.contains("no client secret") && note.contains("/settings/applications"),
        "{note}"
    );
    assert!(report.history_purged);
    let status = block_on(client.status(ctx(), Some(t))).unwrap().unwrap();
    assert!(status[0].integrations.is_empty());
    assert_eq!(status[0].member_count, 0);
}
