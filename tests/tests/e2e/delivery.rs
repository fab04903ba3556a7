//! Delivery data from GitHub to the DORA report: a team at work that deploys (GitHub
//! Deployments with a failure then a fix, squash and merge merges, an incident, a revert, a
//! hotfix), one repository with deploy workflow runs and releases, one with nothing but merged
//! pull requests. The store equals the simulator's truth after a full sync, an incremental one,
//! and webhooks delivered in any order; the report counts what GitHub shows, with the rules.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde_json::{Value, json};
use std::time::Duration;
use tidemark_protocol::delivery::{DoraGrouping, DoraQuery, DoraReport, FailureKind, Signal};
use tidemark_protocol::{SyncStatus, TeamRef, TidemarkClient};
use tidemark_tests::harness::{
    Daemon, Sandbox, block_on_shared as block_on, close_issue, connect, create_and_connect_team,
    ctx, deploy, deployment_status, first_sync_and_hooks, label_issue, label_pr, merge_pr,
    open_issue, open_store, release, revert_pr, sim_control, small_org_sim, track_all_repos,
    use_simulator, use_simulator_with_webhooks, wait_until, workflow_run,
};
use tidemark_tests::sim::Sim;

const TEAM: &str = "platform";

fn team() -> TeamRef {
    TeamRef::Name(TEAM.into())
}

fn truth(sim: &Sim) -> Value {
    block_on(async {
        reqwest::get(format!("{}/_sim/truth", sim.url()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    })
}

/// The repositories' names, sorted: (deploys by Deployments, by runs and releases, nothing).
fn repos(sim: &Sim) -> (String, String, String) {
    let mut names: Vec<String> = sim.world().repos.values().map(|r| r.name.clone()).collect();
    names.sort();
    (names[0].clone(), names[1].clone(), names[2].clone())
}

fn author(sim: &Sim) -> String {
    let w = sim.world();
    let mut logins: Vec<String> = w
        .members
        .keys()
        .map(|id| w.account(*id).login.clone())
        .collect();
    logins.sort();
    logins[0].clone()
}

fn open_pr(sim: &Sim, repo: &str, title: &str) -> u64 {
    sim_control(
        sim,
        &format!("/_sim/repos/{repo}/pulls"),
        json!({"author": author(sim), "title": title, "commits": 2}),
    )["number"]
        .as_u64()
        .unwrap()
}

/// GitHub's times have one-second resolution: deployments of one repository a second apart
/// keep their order (two in the same second are ordered by id, which is not GitHub's order).
fn next_second() {
    let now = tidemark_tests::sim::clock::now();
    wait_until(Duration::from_secs(2), "the clock's next second", || {
        (tidemark_tests::sim::clock::now() > now).then_some(())
    });
}

/// A deployment to production of the default branch's head, with its final status, in a
/// second of its own.
fn ship(sim: &Sim, repo: &str, state: &str) -> String {
    next_second();
    let (id, sha) = deploy(sim, repo, None, "production");
    deployment_status(sim, repo, id, "in_progress");
    deployment_status(sim, repo, id, state);
    sha
}

/// The shas of a team at work. On `api`: d0 ok; #a squash-merged, d1 ok; #b merged, d2 fails,
/// d3 ok (the fix); an incident opened and closed after d3; #a reverted; #h labelled hotfix
/// and squash-merged; d4 ok. On `cli`: a deploy run and a CI run, a release. On `web`: merges.
struct Work {
    d: Vec<String>,
    a: u64,
    b: u64,
    revert: u64,
    hotfix: u64,
    incident: u64,
}

fn work(sim: &Sim) -> Work {
    let (api, cli, web) = repos(sim);
    let d0 = ship(sim, &api, "success");
    let a = open_pr(sim, &api, "Add a cache");
    merge_pr(sim, &api, a, "squash");
    let d1 = ship(sim, &api, "success");
    let b = open_pr(sim, &api, "Add login");
    merge_pr(sim, &api, b, "merge");
    let d2 = ship(sim, &api, "failure");
    let d3 = ship(sim, &api, "success");
    let incident = open_issue(sim, &api, "Checkout is down", &["incident"]);
    close_issue(sim, &api, incident);
    open_issue(sim, &api, "A typo", &["bug"]);
    let revert = revert_pr(sim, &api, a);
    merge_pr(sim, &api, revert, "merge");
    let hotfix = open_pr(sim, &api, "Patch login");
    label_pr(sim, &api, hotfix, "hotfix");
    merge_pr(sim, &api, hotfix, "squash");
    let d4 = ship(sim, &api, "success");

    let c = open_pr(sim, &cli, "Add --json");
    merge_pr(sim, &cli, c, "merge");
    workflow_run(sim, &cli, "Deploy", None, Some("success"));
    workflow_run(sim, &cli, "CI", None, Some("success"));
    release(sim, &cli, "v1.0.0");

    let w = open_pr(sim, &web, "Landing page");
    merge_pr(sim, &web, w, "merge");
    Work {
        d: vec![d0, d1, d2, d3, d4],
        a,
        b,
        revert,
        hotfix,
        incident,
    }
}

fn sync(client: &TidemarkClient) {
    block_on(async {
        while client
            .sync_status(ctx(), team(), 5_000)
            .await
            .unwrap()
            .unwrap()
            .running
        {}
        client.sync_start(ctx(), team()).await.unwrap().unwrap();
        loop {
            let p = client
                .sync_status(ctx(), team(), 5_000)
                .await
                .unwrap()
                .unwrap();
            if !p.running {
                assert_eq!(p.status, SyncStatus::Complete, "{p:?}");
                break;
            }
        }
    });
}

fn dora(client: &TidemarkClient) -> DoraReport {
    block_on(client.dora(
        ctx(),
        DoraQuery {
            team: team(),
            since: None,
            until: None,
            by: DoraGrouping::Repo,
            config: None,
            explain: true,
        },
    ))
    .unwrap()
    .unwrap()
}

/// The report counts what GitHub shows: signals, what shipped, failures and rework, lead times
/// from each pull request's first commit (from the truth) to its deployment's success.
fn assert_report(report: &DoraReport, work: &Work, sim: &Sim) {
    let (api, cli, web) = repos(sim);
    let org = sim.world().org.as_ref().unwrap().login.clone();
    let full = |r: &str| format!("{org}/{r}");
    let signal = |r: &str| {
        report
            .repos
            .iter()
            .find(|s| s.repo == full(r))
            .unwrap()
            .signal
    };
    assert_eq!(signal(&api), Signal::Deployments);
    assert_eq!(signal(&cli), Signal::WorkflowRuns);
    assert_eq!(signal(&web), Signal::MergedPrs);

    // The last deployment of a commit (d2 and d3 deploy the same one: d3 is the fix).
    let dep = |sha: &str| {
        report
            .deployments
            .iter()
            .rev()
            .find(|d| d.sha == sha)
            .unwrap_or_else(|| panic!("no deployment of {sha} in {report:#?}"))
    };
    let d = &work.d;
    assert_eq!(dep(&d[1]).shipped, [work.a], "the squash merge, by compare");
    assert_eq!(
        dep(&d[3]).shipped,
        [work.b],
        "after the failed d2, the fix ships it"
    );
    let mut d4: Vec<u64> = dep(&d[4]).shipped.clone();
    d4.sort_unstable();
    let mut want = vec![work.revert, work.hotfix];
    want.sort_unstable();
    assert_eq!(d4, want);
    let d2 = report
        .deployments
        .iter()
        .find(|x| x.sha == d[2] && x.outcome == tidemark_protocol::delivery::DeployOutcome::Failure)
        .unwrap();
    assert_eq!(d2.failed_by, ["its own status: status failure"]);
    let reverted = &dep(&d[1]).failed_by;
    let prefix = format!(
        "#{} reverts #{} (found by branch `revert-{}-",
        work.revert, work.a, work.a
    );
    assert!(
        reverted.len() == 1 && reverted[0].starts_with(&prefix),
        "{reverted:?}"
    );
    assert_eq!(
        dep(&d[3]).failed_by,
        [format!(
            "incident #{} (label `incident`): the last successful deployment before it opened",
            work.incident
        )]
    );
    assert!(dep(&d[0]).failed_by.is_empty() && dep(&d[4]).failed_by.is_empty());
    assert_eq!(dep(&d[4]).rework_by.len(), 2, "{:?}", dep(&d[4]).rework_by);

    let g = report.groups.iter().find(|g| g.key == full(&api)).unwrap();
    assert_eq!(g.deployed.len(), 4);
    assert_eq!(g.finished.len(), 5);
    assert_eq!(g.failed.len(), 3);
    assert_eq!(g.rework.len(), 1);
    let kinds: Vec<FailureKind> = g
        .failures
        .iter()
        .map(|&i| report.failures[i as usize].kind)
        .collect();
    assert_eq!(kinds.len(), 3);
    for k in [
        FailureKind::FailedStatus,
        FailureKind::Incident,
        FailureKind::Revert,
    ] {
        assert!(kinds.contains(&k), "{kinds:?}");
    }

    // Lead time of each change: its first commit, as GitHub has it, to its deployment.
    let truth = truth(sim);
    for c in report.changes.iter().filter(|c| c.repo == full(&api)) {
        let pr = truth["pulls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| {
                p["number"] == c.number
                    && p["repo_id"]
                        == sim
                            .world()
                            .repos
                            .values()
                            .find(|r| r.name == api)
                            .unwrap()
                            .id
            })
            .unwrap();
        let first = pr["commits"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|x| x["authored_at"].as_i64())
            .min()
            .unwrap();
        assert_eq!(c.started_at, first, "#{}", c.number);
        assert_eq!(c.lead_time, (c.deployed_at - first).max(0), "#{}", c.number);
    }
}

#[test]
fn a_deploying_team_is_counted_as_github_shows_it_after_full_and_incremental_syncs() {
    let sim = small_org_sim(3, 2, 4);
    let sandbox = Sandbox::new();
    let daemon = Daemon::start_with(&sandbox, 0, |cmd| use_simulator(cmd, &sim, true));
    let client = block_on(connect(&daemon.socket)).unwrap();
    block_on(async {
        create_and_connect_team(&client, TEAM, false).await.unwrap();
        track_all_repos(&client, TEAM).await.unwrap();
    });
    let work = work(&sim);
    sync(&client);
    let report = dora(&client);
    assert_report(&report, &work, &sim);

    // More work, then an incremental sync: a new deployment ships a new change; the incident
    // label is taken off the incident (it no longer counts).
    let (api, _, _) = repos(&sim);
    let n = open_pr(&sim, &api, "Faster login");
    merge_pr(&sim, &api, n, "merge");
    let d5 = ship(&sim, &api, "success");
    sim_control(
        &sim,
        &format!("/_sim/repos/{api}/issues/{}/unlabel", work.incident),
        json!({"label": "incident"}),
    );
    label_issue(&sim, &api, work.incident, "postmortem");
    sync(&client);
    let report = dora(&client);
    let d5 = report.deployments.iter().find(|d| d.sha == d5).unwrap();
    assert_eq!(d5.shipped, [n]);
    drop(client);
    daemon.stop();
    let store = open_store(&sandbox);
    let team_id = store.team_by_name(TEAM).unwrap().unwrap().id;
    tidemark_tests::truth::assert_delivery_equals_truth(&truth(&sim), &store, team_id, "incident");
    tidemark_tests::truth::assert_store_equals_truth(&truth(&sim), &store, team_id);
}

/// One captured delivery: GitHub's request headers and body, as sent.
#[derive(Clone)]
struct Captured {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

#[test]
fn delivery_webhooks_in_any_order_end_in_githubs_truth() {
    let sim = small_org_sim(3, 2, 4);
    let public = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let args = |cmd: &mut std::process::Command| {
        use_simulator_with_webhooks(cmd, &sim, "127.0.0.1:0", &public.to_string());
    };
    // Connected, synced, hooks made; then the team works while no daemon listens.
    let origin = Sandbox::new();
    let daemon = Daemon::start_with(&origin, 0, args);
    let client = block_on(connect(&daemon.socket)).unwrap();
    block_on(async {
        create_and_connect_team(&client, TEAM, false).await.unwrap();
        track_all_repos(&client, TEAM).await.unwrap();
        first_sync_and_hooks(&client, team(), |r| r.webhook_id.is_some())
            .await
            .unwrap();
    });
    drop(client);
    daemon.stop();
    let hooks = truth(&sim);
    for h in hooks["hooks"].as_array().unwrap() {
        for e in [
            "deployment",
            "deployment_status",
            "workflow_run",
            "release",
            "issues",
        ] {
            assert!(
                h["events"].as_array().unwrap().iter().any(|x| x == e),
                "{h}"
            );
        }
    }
    let before = sim.world().deliveries.len();
    let work = work(&sim);
    let wanted = sim.world().deliveries.len() - before;
    let captured: Vec<Captured> =
        wait_until(Duration::from_secs(30), "every delivery tried", || {
            let w = sim.world();
            let tried = &w.deliveries[before..];
            (tried.len() >= wanted).then(|| {
                tried
                    .iter()
                    .map(|d| Captured {
                        headers: d.request_headers.clone(),
                        body: d.payload.clone(),
                    })
                    .collect()
            })
        });
    {
        // As far as GitHub knows they arrived: the daemons below get them from us alone.
        let mut w = sim.world();
        for d in &mut w.deliveries[before..] {
            d.status_code = 200;
        }
    }
    let kinds: Vec<String> = captured
        .iter()
        .filter_map(|c| {
            c.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("x-github-event"))
        })
        .map(|(_, v)| v.clone())
        .collect();
    for e in [
        "deployment",
        "deployment_status",
        "workflow_run",
        "release",
        "issues",
    ] {
        assert!(kinds.iter().any(|k| k == e), "no {e} delivery in {kinds:?}");
    }
    let truth_now = truth(&sim);

    let mut shuffled: Vec<usize> = (0..captured.len()).collect();
    shuffled.shuffle(&mut rand::rngs::StdRng::seed_from_u64(0xde1));
    let mut reversed: Vec<usize> = (0..captured.len()).collect();
    reversed.reverse();
    for order in [shuffled, reversed] {
        let sandbox = Sandbox::new();
        copy_dir(&origin.data_dir(), &sandbox.data_dir());
        let daemon = Daemon::start_with(&sandbox, 0, args);
        let hook_url = format!("{}/webhooks/github", daemon.webhook_url());
        let http = reqwest::Client::new();
        for &i in &order {
            let c = &captured[i];
            let status = block_on(async {
                let mut req = http.post(&hook_url).body(c.body.clone());
                for (k, v) in &c.headers {
                    if !k.eq_ignore_ascii_case("content-length") && !k.eq_ignore_ascii_case("host")
                    {
                        req = req.header(k, v);
                    }
                }
                req.send().await.map(|r| r.status().as_u16()).unwrap_or(0)
            });
            assert!((200..300).contains(&status), "delivery {i}: {status}");
        }
        let client = block_on(connect(&daemon.socket)).unwrap();
        // Applied: nothing waits, and the report shows the last deployment's changes.
        wait_until(
            Duration::from_secs(60),
            "the deliveries to be applied",
            || {
                let pending = block_on(client.status(ctx(), Some(team())))
                    .unwrap()
                    .unwrap()[0]
                    .webhooks_pending;
                let report = dora(&client);
                (pending == 0
                    && report
                        .deployments
                        .iter()
                        .any(|d| d.sha == work.d[4] && !d.shipped.is_empty()))
                .then_some(())
            },
        );
        assert_report(&dora(&client), &work, &sim);
        drop(client);
        daemon.stop();
        let store = open_store(&sandbox);
        let team_id = store.team_by_name(TEAM).unwrap().unwrap().id;
        tidemark_tests::truth::assert_delivery_equals_truth(
            &truth_now, &store, team_id, "incident",
        );
    }
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
