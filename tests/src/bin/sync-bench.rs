//! `sync-bench`: what a sync costs against a big simulated org with GitHub-like latency. Prints
//! figures; asserts nothing. Run from a release build (it starts `target/release/tidemarkd`):
//!
//! `cargo build --release --workspace && target/release/sync-bench [REPOS] [PRS_PER_REPO] [LATENCY_MS]`
//!
//! Defaults: 200 repositories × 250 pull requests (50,000), 50 ms added to every request.
//! `--delivery` gives the org a team at work that deploys (GitHub Deployments, workflow runs,
//! releases, incidents): the figures then show what delivery data adds to a sync.

use std::time::Instant;
use tidemark_protocol::{SyncProgress, TeamRef, TidemarkClient};
use tidemark_tests::harness::{
    Daemon, Sandbox, connect, connect_team_and_track_all, ctx, use_simulator,
};
use tidemark_tests::sim::{OrgSpec, Sim, SimConfig, Stats};

fn main() -> anyhow::Result<()> {
    let delivery = std::env::args().any(|a| a == "--delivery");
    let mut args = std::env::args().skip(1).filter(|a| a != "--delivery");
    let repos: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(200);
    let prs: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(250);
    let latency: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(50);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;

    let t = Instant::now();
    let sim = Sim::start(
        SimConfig {
            org: OrgSpec {
                repos,
                prs_per_repo: prs,
                members: 60,
                delivery,
                ..OrgSpec::default()
            },
            latency_ms: latency,
            device_interval: 0,
            auto_approve: Some(1),
            // A user token's real budget; the sync must fit in it.
            rate_limit: 5_000,
            ..SimConfig::default()
        },
        "127.0.0.1:0",
    )?;
    let (n_prs, n_reviews, n_commits) = {
        let w = sim.world();
        let prs = w.pulls.len();
        let reviews: usize = w.pulls.values().map(|p| p.reviews.len()).sum();
        let commits: usize = w.pulls.values().map(|p| p.commits.len()).sum();
        (prs, reviews, commits)
    };
    println!(
        "simulated org: {repos} repos, {n_prs} PRs, {n_reviews} reviews, {n_commits} commits; {latency} ms per request (generated in {:.1}s)",
        t.elapsed().as_secs_f64()
    );

    let sandbox = Sandbox::new();
    let daemon = Daemon::start_with(&sandbox, 0, |cmd| {
        use_simulator(cmd, &sim, true);
        cmd.env("RUST_LOG", "warn");
    });
    let team = TeamRef::Name("bench".into());
    let client: TidemarkClient = rt.block_on(async {
        let client = connect(&daemon.socket).await?;
        connect_team_and_track_all(&client, "bench").await?;
        anyhow::Ok(client)
    })?;

    let sync = |label: &str| -> anyhow::Result<()> {
        let before = sim.stats();
        let t = Instant::now();
        let p: SyncProgress = rt.block_on(async {
            client.sync_start(ctx(), team.clone()).await??;
            loop {
                let p = client.sync_status(ctx(), team.clone(), 5_000).await??;
                if !p.running {
                    break anyhow::Ok(p);
                }
            }
        })?;
        let wall = t.elapsed();
        let s = diff(&sim.stats(), &before);
        println!(
            "{label}: {:?} in {:.1}s; {} requests ({} GraphQL = {} points, {} REST, {} answered 304); {} early; {} PRs fetched; error: {}",
            p.status,
            wall.as_secs_f64(),
            s.requests,
            s.graphql_requests,
            s.graphql_points,
            s.rest_requests,
            s.not_modified,
            s.early_requests,
            p.prs_fetched,
            p.error.as_deref().unwrap_or("none"),
        );
        // What each kind of query cost: the pull requests' pages and follow-ups, the members,
        // and delivery data (GraphQL `Delivery`, and REST workflow runs and compares).
        let after = sim.stats();
        for (op, (n, points)) in &after.graphql_operations {
            let (n0, p0) = before
                .graphql_operations
                .get(op)
                .copied()
                .unwrap_or_default();
            if n > &n0 {
                println!(
                    "    GraphQL {op}: {} requests, {} points",
                    n - n0,
                    points - p0
                );
            }
        }
        for (endpoint, n) in &after.endpoints {
            let n0 = before.endpoints.get(endpoint).copied().unwrap_or_default();
            if n > &n0 && (endpoint.contains("/actions/runs") || endpoint.contains("/compare/")) {
                println!("    REST {endpoint}: {} requests", n - n0);
            }
        }
        Ok(())
    };

    sync("full first sync   [goal ≤ 1,500 requests, ≤ 120 s]")?;
    let hwm = peak_rss_mb(daemon.pid());
    println!("peak daemon RSS during the full sync: {hwm:.0} MB   [goal ≤ 300 MB]");
    let store_bytes = dir_size(&sandbox.data_dir().join("store"));
    println!(
        "store on disk: {:.1} MB, {:.0} bytes per PR (with its reviews and commits)",
        store_bytes as f64 / 1e6,
        store_bytes as f64 / n_prs as f64
    );

    // 1% of the pull requests change: a review here, a title there.
    {
        let mut w = sim.world();
        let keys: Vec<(u64, u64)> = w.pulls.keys().copied().collect();
        let step = 100;
        let now = tidemark_tests::sim::clock::now();
        let people: Vec<String> = w
            .members
            .keys()
            .map(|id| w.account(*id).login.clone())
            .collect();
        for (i, (repo, number)) in keys.iter().step_by(step).enumerate() {
            if i % 2 == 0 {
                let _ = w.edit_pull(*repo, *number, &format!("Changed {i}"), now);
            } else {
                let reviewer = &people[i % people.len()];
                let _ = w.submit_review(
                    *repo,
                    *number,
                    reviewer,
                    tidemark_tests::sim::world::ReviewState::Commented,
                    "later",
                    now,
                );
            }
        }
        println!("changed {} PRs (1%)", keys.len().div_ceil(step));
    }
    sync("incremental, 1% changed   [goal ≤ 60 requests]")?;
    sync("incremental, nothing changed   [goal: 0 REST points, ≤ 1 GraphQL point per repo]")?;
    // The figures mean something only if the data is right: compare with the truth.
    daemon.stop();
    let truth: serde_json::Value = rt.block_on(async {
        reqwest::get(format!("{}/_sim/truth", sim.url()))
            .await?
            .json()
            .await
    })?;
    let store = tidemark_daemon::store::Store::open(&tidemark_daemon::lifecycle::store_dir(
        &sandbox.data_dir(),
    ))?;
    let team_id = store.team_by_name("bench")?.expect("the bench team").id;
    tidemark_tests::truth::assert_store_equals_truth(&truth, &store, team_id);
    println!("store equals the simulator's truth after the syncs");
    Ok(())
}

fn diff(after: &Stats, before: &Stats) -> Stats {
    Stats {
        requests: after.requests - before.requests,
        rest_requests: after.rest_requests - before.rest_requests,
        graphql_requests: after.graphql_requests - before.graphql_requests,
        graphql_points: after.graphql_points - before.graphql_points,
        not_modified: after.not_modified - before.not_modified,
        early_requests: after.early_requests - before.early_requests,
        ..Stats::default()
    }
}

/// VmHWM: the process's peak resident set.
fn peak_rss_mb(pid: i32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn dir_size(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        total += if path.is_dir() {
            dir_size(&path)
        } else {
            entry.metadata().map(|m| m.len()).unwrap_or(0)
        };
    }
    total
}
