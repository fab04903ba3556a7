//! Syncing GitHub: after a full sync and after incremental syncs with changes, the daemon's
//! members, pull requests, reviews and commits equal the simulator's truth exactly.

use serde_json::{Value, json};
use tidemark_daemon::store::Store;
use tidemark_protocol::{SyncProgress, SyncStatus, TeamRef, TidemarkClient};
use tidemark_tests::harness::{
    Daemon, Sandbox, block_on_shared as block_on, connect, create_and_connect_team, ctx,
    sim_control, track_all_repos, use_simulator,
};
use tidemark_tests::sim::{OrgSpec, Sim, SimConfig, Stats};

fn team() -> TeamRef {
    TeamRef::Name("platform".into())
}

struct World {
    sim: Sim,
    sandbox: Sandbox,
    daemon: Option<Daemon>,
}

impl World {
    fn new(seed: u64, repos: usize, prs: usize) -> World {
        World::with_limits(seed, repos, prs, 1, None)
    }

    /// `secondary_secs`: how long the simulator holds a caller after a secondary limit;
    /// `secondary_wait`: the daemon's first wait after one without `retry-after`.
    fn with_limits(
        seed: u64,
        repos: usize,
        prs: usize,
        secondary_secs: u64,
        secondary_wait: Option<u64>,
    ) -> World {
        let sim = Sim::start(
            SimConfig {
                org: OrgSpec {
                    seed,
                    repos,
                    prs_per_repo: prs,
                    members: 7,
                    ..OrgSpec::default()
                },
                device_interval: 0,
                secondary_retry_after: secondary_secs,
                auto_approve: Some(1),
                ..SimConfig::default()
            },
            "127.0.0.1:0",
        )
        .unwrap();
        let sandbox = Sandbox::new();
        let daemon = Daemon::start_with(&sandbox, 0, |cmd| {
            use_simulator(cmd, &sim, true);
            if let Some(secs) = secondary_wait {
                cmd.arg("--github-secondary-wait-secs")
                    .arg(secs.to_string());
            }
        });
        let w = World {
            sim,
            sandbox,
            daemon: Some(daemon),
        };
        let client = w.client();
        block_on(async {
            create_and_connect_team(&client, "platform", false)
                .await
                .unwrap();
            // Every one available, every one tracked.
            let tracked = track_all_repos(&client, "platform").await.unwrap();
            assert_eq!(tracked.len(), repos);
        });
        w
    }

    fn client(&self) -> TidemarkClient {
        block_on(connect(&self.daemon.as_ref().unwrap().socket)).unwrap()
    }

    fn control(&self, path: &str, body: Value) -> Value {
        sim_control(&self.sim, path, body)
    }

    /// Run a sync to its end; returns the final progress and what GitHub saw of it.
    /// A sync started after every change made so far (one already running, such as the one
    /// tracking starts, is waited out first), to its end.
    fn sync(&self) -> (SyncProgress, Stats) {
        let client = self.client();
        block_on(async {
            while client
                .sync_status(ctx(), team(), 5_000)
                .await
                .unwrap()
                .unwrap()
                .running
            {}
        });
        let before = self.sim.stats();
        let progress = block_on(async {
            client.sync_start(ctx(), team()).await.unwrap().unwrap();
            loop {
                let p = client
                    .sync_status(ctx(), team(), 5_000)
                    .await
                    .unwrap()
                    .unwrap();
                if !p.running {
                    break p;
                }
            }
        });
        let after = self.sim.stats();
        let mut spent = after.clone();
        spent.requests -= before.requests;
        spent.rest_requests -= before.rest_requests;
        spent.graphql_requests -= before.graphql_requests;
        spent.graphql_points -= before.graphql_points;
        spent.early_requests -= before.early_requests;
        spent.secondary_limited -= before.secondary_limited;
        spent.rate_limited -= before.rate_limited;
        spent.faults_injected -= before.faults_injected;
        spent.not_modified -= before.not_modified;
        (progress, spent)
    }

    fn truth(&self) -> Value {
        block_on(async {
            reqwest::get(format!("{}/_sim/truth", self.sim.url()))
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        })
    }

    /// Compare the store (read with the daemon stopped) to the simulator's truth.
    fn assert_store_equals_truth(&mut self) {
        let daemon = self.daemon.take().unwrap();
        daemon.stop();
        let truth = self.truth();
        let store = Store::open(&tidemark_daemon::lifecycle::store_dir(
            &self.sandbox.data_dir(),
        ))
        .unwrap();
        let team = store.team_by_name("platform").unwrap().unwrap().id;
        tidemark_tests::truth::assert_store_equals_truth(&truth, &store, team);
        drop(store);
        let sim = &self.sim;
        self.daemon = Some(Daemon::start_with(&self.sandbox, 1, |cmd| {
            use_simulator(cmd, sim, true)
        }));
    }
}

#[test]
fn a_full_sync_then_incremental_syncs_equal_githubs_truth() {
    for seed in [1, 7] {
        let mut w = World::new(seed, 3, 14);
        let (progress, spent) = w.sync();
        assert_eq!(progress.status, SyncStatus::Complete, "{progress:?}");
        assert_eq!(progress.error, None);
        // REST only for what GraphQL has no list of: a page of workflow runs per repository
        // (no deployments here, so no compares). The sync that tracking started read them;
        // this one sends their ETags and gets 304s, which GitHub does not count.
        assert_eq!(
            (spent.rest_requests, spent.not_modified),
            (0, 3),
            "{spent:?}"
        );
        assert_eq!(spent.early_requests, 0, "nothing sent early");
        w.assert_store_equals_truth();

        // Nothing changed: a few cheap queries, and the same store; each repository's workflow
        // runs answered 304 (its ETag), which GitHub does not count against the rate limit.
        let (progress, spent) = w.sync();
        assert_eq!(progress.status, SyncStatus::Complete);
        assert_eq!(spent.not_modified, 3, "{spent:?}");
        assert!(spent.graphql_points <= 3 + 1, "{spent:?}");
        w.assert_store_equals_truth();

        // Changes of every kind, then an incremental sync.
        let (repo, author, reviewer) = {
            let s = w.sim.world();
            let repo = s.repos.values().find(|r| !r.archived).unwrap().name.clone();
            let mut people = s.members.keys().map(|id| s.account(*id).login.clone());
            (repo, people.next().unwrap(), people.next().unwrap())
        };
        let n = w.control(
            &format!("/_sim/repos/{repo}/pulls"),
            json!({"author": author, "title": "Fresh", "commits": 2}),
        )["number"]
            .as_u64()
            .unwrap();
        w.control(
            &format!("/_sim/repos/{repo}/pulls/{n}/review"),
            json!({"user": reviewer, "state": "approved"}),
        );
        w.control(
            &format!("/_sim/repos/{repo}/pulls/{n}/push"),
            json!({"commits": 1}),
        );
        w.control(
            &format!("/_sim/repos/{repo}/pulls/{n}/merge"),
            json!({"by": reviewer}),
        );
        let old = {
            let s = w.sim.world();
            let repo_id = s.repo_by_name("acme", &repo).unwrap().id;
            s.repo_pulls(repo_id)
                .find(|p| p.merged() && p.number != n)
                .unwrap()
                .number
        };
        w.control(
            &format!("/_sim/repos/{repo}/pulls/{old}/review"),
            json!({"user": reviewer, "state": "commented", "body": "late"}),
        );
        // Someone who was synced leaves (not the viewer, whose token we use); someone joins.
        let leaver = {
            let s = w.sim.world();
            s.members
                .keys()
                .map(|id| s.account(*id).login.clone())
                .nth(3)
                .unwrap()
        };
        w.control("/_sim/members", json!({"login": "new-hire"}));
        reqwest_delete(&w, &format!("/_sim/members/{leaver}"));
        let (progress, spent) = w.sync();
        assert_eq!(progress.status, SyncStatus::Complete, "{progress:?}");
        assert_eq!(spent.early_requests, 0);
        w.assert_store_equals_truth();
        // The one who left is kept, marked.
        let client = w.client();
        let members = block_on(client.members(ctx(), team())).unwrap().unwrap();
        let left = members
            .iter()
            .find(|m| m.github_login.as_deref() == Some(leaver.as_str()))
            .unwrap();
        assert!(left.left_at.is_some());
    }
}

fn reqwest_delete(w: &World, path: &str) {
    block_on(async {
        let r = reqwest::Client::new()
            .delete(format!("{}{path}", w.sim.url()))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    });
}

#[test]
fn faults_secondary_limits_and_a_deleted_repo_do_not_corrupt_the_sync() {
    let mut w = World::new(3, 3, 12);
    // 5xx, resets and truncated answers on a tenth of requests each.
    w.control(
        "/_sim/faults",
        json!({"error_rate": 100, "reset_rate": 100, "truncate_rate": 100}),
    );
    let (progress, spent) = w.sync();
    assert_eq!(progress.status, SyncStatus::Complete, "{progress:?}");
    assert_eq!(spent.early_requests, 0);
    w.control("/_sim/faults", json!({}));
    w.assert_store_equals_truth();

    // Secondary limits (retry-after 1 s) and GitHub timing out on big queries (502): the sync
    // waits as told, asks for smaller pages, and still ends equal to the truth.
    w.control(
        "/_sim/repos/api/pulls",
        json!({"title": "one more", "commits": 1}),
    );
    w.control(
        "/_sim/faults",
        json!({"secondary_next": 2, "graphql_timeout_nodes": 500}),
    );
    let (progress, spent) = w.sync();
    assert_eq!(progress.status, SyncStatus::Complete, "{progress:?}");
    assert_eq!(spent.early_requests, 0, "nothing before retry-after");
    assert!(spent.secondary_limited >= 2, "{spent:?}");
    let log = w.daemon.as_ref().unwrap().log_text();
    assert!(
        log.contains("asking for less"),
        "the 502s were met with smaller queries"
    );
    w.control("/_sim/faults", json!({}));
    w.assert_store_equals_truth();

    // A repository deleted on GitHub: that repo reports it, the others sync.
    let gone = w.sim.world().repos.values().next().unwrap().name.clone();
    reqwest_delete(&w, &format!("/_sim/repos/{gone}"));
    let (progress, _) = w.sync();
    assert_eq!(progress.status, SyncStatus::Error);
    assert!(progress.error.unwrap_or_default().contains(&gone));
    let repos = block_on(w.client().tracked_repos(ctx(), team()))
        .unwrap()
        .unwrap();
    let bad = repos
        .iter()
        .find(|r| r.full_name.ends_with(&format!("/{gone}")))
        .unwrap();
    assert_eq!(bad.sync_status, SyncStatus::Error);
    assert!(
        repos
            .iter()
            .filter(|r| r.sync_status == SyncStatus::Complete)
            .count()
            == 2
    );

    // A revoked token: the integration says to reconnect.
    w.control("/_sim/tokens/revoke", json!({"all": true}));
    let (progress, _) = w.sync();
    assert_eq!(progress.status, SyncStatus::Error);
    assert_eq!(
        progress.error.as_deref(),
        Some(tidemark_daemon::sync::UNAUTHORIZED),
        "worded for any client: no command-line flag"
    );
    assert!(tidemark_daemon::sync::UNAUTHORIZED.contains("reconnect"));
}

/// Every form in which GitHub refuses or gives up, mixed into one sync: a secondary limit with
/// `retry-after` and two without (the daemon's first wait shortened to the simulator's 2 s
/// hold; the default is GitHub's minute, unit-tested in `github::budget`), the GraphQL
/// primary limit as HTTP 200 `RATE_LIMITED` (its reset only in the headers), a JSON 502, bare
/// 502 and 504 gateway pages, and query timeouts in all three forms. The sync waits each out,
/// sends nothing early, asks for less after every timeout, and ends equal to the truth; then
/// again with the primary limit as a 403.
#[test]
fn every_form_of_githubs_limits_and_timeouts_is_waited_out_with_nothing_sent_early() {
    let mut w = World::with_limits(23, 3, 30, 2, Some(2));
    // The sync that tracking starts runs clean; the faults are for the next one.
    let (progress, _) = w.sync();
    assert_eq!(progress.status, SyncStatus::Complete, "{progress:?}");
    for n in 0..6 {
        w.control(
            "/_sim/repos/api/pulls",
            json!({"title": format!("change {n}"), "commits": 3}),
        );
    }
    w.control(
        "/_sim/faults",
        json!({
            "secondary_next": 1,
            "secondary_bare_next": 2,
            "exhaust_for_secs": 3,
            "gateway_next": 2,
            "fail_next": 1,
            "timeout_forms": true,
            "graphql_timeout_nodes": 400,
        }),
    );
    let (progress, spent) = w.sync();
    assert_eq!(progress.status, SyncStatus::Complete, "{progress:?}");
    assert_eq!(
        spent.early_requests, 0,
        "a request before GitHub's wait was over: {spent:?}"
    );
    assert!(spent.secondary_limited >= 3, "{spent:?}");
    assert!(spent.rate_limited >= 1, "{spent:?}");
    assert!(spent.faults_injected >= 3, "{spent:?}");
    let log = w.daemon.as_ref().unwrap().log_text();
    assert!(
        log.contains("asking for less"),
        "timeouts were met with smaller queries"
    );
    w.control("/_sim/faults", json!({}));
    w.assert_store_equals_truth();

    // The primary limit as a 403 with `x-ratelimit-remaining: 0`.
    w.control(
        "/_sim/repos/api/pulls",
        json!({"title": "after the 403", "commits": 1}),
    );
    w.control(
        "/_sim/faults",
        json!({"exhaust_for_secs": 2, "graphql_limit_403": true}),
    );
    let (progress, spent) = w.sync();
    assert_eq!(progress.status, SyncStatus::Complete, "{progress:?}");
    assert_eq!(spent.early_requests, 0, "{spent:?}");
    assert!(spent.rate_limited >= 1, "{spent:?}");
    w.control("/_sim/faults", json!({}));
    w.assert_store_equals_truth();
}

#[test]
fn many_scattered_changes_are_all_picked_up_incrementally() {
    let mut w = World::new(11, 20, 250);
    let (progress, _) = w.sync();
    assert_eq!(progress.status, SyncStatus::Complete, "{progress:?}");
    {
        let mut s = w.sim.world();
        let keys: Vec<(u64, u64)> = s.pulls.keys().copied().collect();
        let people: Vec<String> = s
            .members
            .keys()
            .map(|id| s.account(*id).login.clone())
            .collect();
        let now = tidemark_tests::sim::clock::now();
        for (i, (repo, number)) in keys.iter().step_by(100).enumerate() {
            if i % 2 == 0 {
                s.edit_pull(*repo, *number, &format!("Changed {i}"), now)
                    .unwrap();
            } else {
                let who = &people[i % people.len()];
                s.submit_review(
                    *repo,
                    *number,
                    who,
                    tidemark_tests::sim::world::ReviewState::Commented,
                    "later",
                    now,
                )
                .unwrap();
            }
        }
    }
    let (progress, _) = w.sync();
    assert_eq!(progress.status, SyncStatus::Complete, "{progress:?}");
    // The changed ones, and a few per repository again: the overlap below the checkpoint
    // that catches changes made within the same second as the newest stored one.
    assert!(
        (50..=50 + 20 * 3).contains(&progress.prs_fetched),
        "{} fetched for 50 changed",
        progress.prs_fetched
    );
    w.assert_store_equals_truth();
}
