//! Member changes through an organization hook, end to end: the real daemon against the
//! simulator. GitHub sends `organization` events (members added and removed) only to
//! organization hooks, which need the `admin:org_hook` scope and an owner of the org; with both
//! (`connect github --org-hook`), the daemon creates one and member changes arrive at once,
//! without a sync. Without them there is none and `status` says member changes come with the
//! periodic sync. Repository hooks never ask for `organization` or `membership`.

use serde_json::{Value, json};
use std::process::Output;
use std::time::Duration;
use tidemark_protocol::{MemberChanges, TeamRef, TidemarkClient};
use tidemark_tests::harness::{
    Daemon, Sandbox, block_on_shared as block_on, cli_output, connect, connect_team_and_track_all,
    connect_team_and_track_all_with, ctx, first_sync_and_hooks, free_port, small_org_sim,
    use_simulator_with_webhooks, wait_until,
};
use tidemark_tests::sim::Sim;
use tidemark_tests::sim::world::Hook;

const WAIT: Duration = Duration::from_secs(30);

fn team(name: &str) -> TeamRef {
    TeamRef::Name(name.into())
}

struct Setup {
    sim: Sim,
    sandbox: Sandbox,
    daemon: Daemon,
    port: u16,
    client: TidemarkClient,
}

impl Setup {
    fn hook_url(&self) -> String {
        // The first (only) team's.
        format!("http://127.0.0.1:{}/webhooks/github/team/1", self.port)
    }

    fn start_daemon(sandbox: &Sandbox, sim: &Sim, port: u16, n: usize) -> Daemon {
        Daemon::start_with(sandbox, n, |cmd| {
            let addr = format!("127.0.0.1:{port}");
            use_simulator_with_webhooks(cmd, sim, &addr, &addr);
        })
    }

    /// A daemon with webhooks (its public URL is its own listener) and no team yet.
    fn new() -> Setup {
        let sim = small_org_sim(2, 4, 4);
        let port = free_port();
        let sandbox = Sandbox::new();
        let daemon = Setup::start_daemon(&sandbox, &sim, port, 0);
        let client = block_on(connect(&daemon.socket)).unwrap();
        Setup {
            sim,
            sandbox,
            daemon,
            port,
            client,
        }
    }

    /// Connect `name` (asking for `admin:org_hook` when `org_hook`), track every repository
    /// and wait for the first sync and the repositories' hooks.
    fn connect(&self, name: &str, org_hook: bool) {
        block_on(async {
            connect_team_and_track_all_with(&self.client, name, org_hook)
                .await
                .unwrap();
            first_sync_and_hooks(&self.client, team(name), |r| r.webhook_id.is_some())
                .await
                .unwrap();
        });
    }

    fn control(&self, method: &str, path: &str, body: Value) -> Value {
        block_on(async {
            let r = reqwest::Client::new()
                .request(method.parse().unwrap(), format!("{}{path}", self.sim.url()))
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status();
            let text = r.text().await.unwrap();
            assert!(status.is_success(), "{method} {path}: {status} {text}");
            serde_json::from_str(&text).unwrap()
        })
    }

    fn member_changes(&self, name: &str) -> Option<MemberChanges> {
        block_on(self.client.status(ctx(), Some(team(name))))
            .unwrap()
            .unwrap()
            .remove(0)
            .member_changes
    }

    /// The simulator's one organization hook, once the daemon's status names it.
    fn live_org_hook(&self, name: &str) -> Hook {
        wait_until(WAIT, "the organization hook to be live", || {
            let hook = self.sim.world().org_hooks.values().next().cloned()?;
            (self.member_changes(name)
                == Some(MemberChanges::Live {
                    org_hook_id: hook.id,
                }))
            .then_some(hook)
        })
    }

    /// (login, left) of the team's members, as `tidemark members` lists them.
    fn members(&self, name: &str) -> Vec<(String, bool)> {
        block_on(self.client.members(ctx(), team(name)))
            .unwrap()
            .unwrap()
            .into_iter()
            .filter_map(|m| Some((m.github_login?, m.left_at.is_some())))
            .collect()
    }

    fn tidemark(&self, args: &[&str]) -> Output {
        cli_output(&self.daemon.socket, args)
    }
}

/// Repository hooks ask for exactly the events GitHub sends to repository hooks.
fn assert_repo_hook_events(sim: &Sim) {
    let w = sim.world();
    assert!(!w.hooks.is_empty());
    for h in w.hooks.values() {
        assert_eq!(h.events, tidemark_daemon::webhooks::EVENTS, "hook {}", h.id);
        for never in ["organization", "membership"] {
            assert!(!h.events.iter().any(|e| e == never), "{:?}", h.events);
        }
    }
}

#[test]
fn with_the_org_hook_scope_and_an_owner_member_changes_arrive_without_a_sync() {
    let s = Setup::new();
    s.connect("platform", true);
    // The device flow asked for admin:org_hook, and GitHub granted it.
    assert!(
        s.sim
            .world()
            .tokens
            .values()
            .any(|t| t.scopes.iter().any(|x| x == "admin:org_hook")),
        "no token with admin:org_hook"
    );
    let hook = s.live_org_hook("platform");
    assert_eq!(hook.url, s.hook_url());
    assert_eq!(hook.events, ["organization"]);
    assert_eq!(hook.content_type, "json");
    assert!(hook.secret.is_some());
    // Its ping came before the daemon had stored the hook's id: found by the organization and
    // accepted all the same.
    wait_until(WAIT, "the organization hook's ping to be accepted", || {
        s.sim
            .world()
            .deliveries
            .iter()
            .any(|d| d.hook_id == hook.id && d.event == "ping" && d.status_code == 202)
            .then_some(())
    });
    assert_repo_hook_events(&s.sim);

    // A member joins: it reaches `tidemark members` through the organization hook, no sync.
    let before = block_on(s.client.sync_status(ctx(), team("platform"), 0))
        .unwrap()
        .unwrap();
    s.control("POST", "/_sim/stats/reset", json!({}));
    let repo_deliveries = |s: &Setup| {
        let w = s.sim.world();
        w.deliveries
            .iter()
            .filter(|d| w.hooks.contains_key(&d.hook_id) && d.event != "ping")
            .count()
    };
    let repo_deliveries_before = repo_deliveries(&s);
    s.control("POST", "/_sim/members", json!({ "login": "new-hire" }));
    wait_until(WAIT, "new-hire in tidemark members", || {
        s.members("platform")
            .contains(&("new-hire".to_string(), false))
            .then_some(())
    });
    let after = block_on(s.client.sync_status(ctx(), team("platform"), 0))
        .unwrap()
        .unwrap();
    assert!(!after.running, "a sync is running: {after:?}");
    assert_eq!(
        (after.started_at, after.finished_at),
        (before.started_at, before.finished_at),
        "a sync ran; the member should have come through the organization hook"
    );
    let stats = s.sim.stats();
    assert_eq!(
        stats.graphql_requests, 1,
        "only the members query, no pull requests: {stats:?}"
    );
    {
        let w = s.sim.world();
        let got = w
            .deliveries
            .iter()
            .find(|d| d.hook_id == hook.id && d.event == "organization")
            .expect("an organization delivery to the org hook");
        assert_eq!(got.action.as_deref(), Some("member_added"));
        assert_eq!(got.status_code, 202);
    }
    assert_eq!(
        repo_deliveries(&s),
        repo_deliveries_before,
        "repository hooks heard of an org member"
    );

    // And leaves: marked as left, again without a sync.
    let resp = block_on(
        reqwest::Client::new()
            .delete(format!("{}/_sim/members/new-hire", s.sim.url()))
            .send(),
    )
    .unwrap();
    assert!(resp.status().is_success());
    wait_until(WAIT, "new-hire marked as left", || {
        s.members("platform")
            .contains(&("new-hire".to_string(), true))
            .then_some(())
    });
    let last = block_on(s.client.sync_status(ctx(), team("platform"), 0))
        .unwrap()
        .unwrap();
    assert_eq!(last.started_at, before.started_at, "a sync ran");

    // `tidemark status` says so.
    let out = s.tidemark(&["status", "--team", "platform"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "Member changes: live (organization hook #{})",
            hook.id
        )),
        "{text}"
    );
}

#[test]
fn rotation_switches_the_org_hook_and_disconnect_deletes_it() {
    let s = Setup::new();
    s.connect("platform", true);
    let hook = s.live_org_hook("platform");
    let report = block_on(s.client.webhook_rotate_secret(ctx(), team("platform")))
        .unwrap()
        .unwrap();
    assert!(report.hooks_failed.is_empty(), "{report:?}");
    assert_eq!(
        report.hooks_updated, 3,
        "two repository hooks and the org's"
    );
    {
        let w = s.sim.world();
        let now = w.org_hooks[&hook.id].secret.clone();
        assert_ne!(now, hook.secret, "the org hook kept the old secret");
        assert!(w.hooks.values().all(|h| h.secret == now));
    }
    // Deliveries signed with the new secret still arrive.
    s.control(
        "POST",
        "/_sim/members",
        json!({ "login": "after-rotation" }),
    );
    wait_until(WAIT, "after-rotation in tidemark members", || {
        s.members("platform")
            .iter()
            .any(|(l, _)| l == "after-rotation")
            .then_some(())
    });

    let report = block_on(s.client.github_disconnect(ctx(), team("platform"), false))
        .unwrap()
        .unwrap();
    assert!(report.hooks_failed.is_empty(), "{report:?}");
    assert_eq!(report.hooks_deleted, 3, "{report:?}");
    let w = s.sim.world();
    assert!(w.org_hooks.is_empty(), "the org hook is still on GitHub");
    assert!(w.hooks.is_empty());
}

#[test]
fn without_the_scope_or_as_a_non_owner_member_changes_come_with_the_periodic_sync() {
    let s = Setup::new();
    // No --org-hook: no admin:org_hook, no organization hook.
    block_on(async {
        connect_team_and_track_all(&s.client, "plain")
            .await
            .unwrap();
        first_sync_and_hooks(&s.client, team("plain"), |r| r.webhook_id.is_some())
            .await
            .unwrap();
    });
    let why = "no organization hook: needs the admin:org_hook scope and an org owner; \
               reconnect asking for admin:org_hook";
    assert_eq!(
        s.member_changes("plain"),
        Some(MemberChanges::PeriodicSync { why: why.into() })
    );
    assert!(s.sim.world().org_hooks.is_empty());
    assert_repo_hook_events(&s.sim);
    let out = s.tidemark(&["status", "--team", "plain"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("Member changes: with the periodic sync ({why})")),
        "{text}"
    );
    // A member joining reaches no hook of ours; the next sync brings them.
    s.control("POST", "/_sim/members", json!({ "login": "quiet-hire" }));
    let out = s.tidemark(&["sync", "--team", "plain", "--wait"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        s.members("plain")
            .contains(&("quiet-hire".to_string(), false))
    );
    {
        let w = s.sim.world();
        assert!(
            !w.deliveries.iter().any(|d| d.event == "organization"),
            "an organization event was delivered"
        );
    }

    // The viewer is no longer an owner: `connect github --org-hook` (the real command) gets
    // the scope, but GitHub would refuse the hook, so none is made and status says why.
    let viewer = s.sim.viewer_login();
    s.control(
        "POST",
        "/_sim/members",
        json!({ "login": viewer, "role": "member" }),
    );
    assert!(s.tidemark(&["team", "create", "second"]).status.success());
    let out = s.tidemark(&[
        "connect",
        "github",
        "--team",
        "second",
        "--org-hook",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let connected: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        connected.to_string().contains("admin:org_hook"),
        "the new token's scopes: {connected}"
    );
    let why = wait_until(WAIT, "second's member changes to say why", || {
        match s.member_changes("second") {
            Some(MemberChanges::PeriodicSync { why }) if why.contains("not an owner") => Some(why),
            _ => None,
        }
    });
    assert!(why.contains("not an owner of acme"), "{why}");
    assert!(s.sim.world().org_hooks.is_empty());
}

#[test]
fn repository_hooks_with_other_events_get_ours_when_healed() {
    let s = Setup::new();
    s.connect("platform", false);
    // A hook as an older tidemark (or someone on GitHub) left it.
    let id = {
        let mut w = s.sim.world();
        let hook = w.hooks.values_mut().next().unwrap();
        hook.events
            .extend(["organization".into(), "membership".into()]);
        hook.id
    };
    let Setup {
        sim,
        sandbox,
        daemon,
        port,
        ..
    } = s;
    assert!(daemon.stop().success());
    // Healed at start.
    let _daemon = Setup::start_daemon(&sandbox, &sim, port, 1);
    wait_until(WAIT, "the hook's events to be corrected", || {
        (sim.world().hooks[&id].events == tidemark_daemon::webhooks::EVENTS).then_some(())
    });
    assert_repo_hook_events(&sim);
}
