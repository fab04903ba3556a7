//! A daemon killed (SIGKILL) at random moments of a sync keeps a consistent store every time,
//! resumes without fetching again what it stored, and ends equal to GitHub's truth.

use serde_json::Value;
use tidemark_daemon::store::Store;
use tidemark_protocol::{SyncStatus, TeamRef};
use tidemark_tests::harness::{
    Daemon, Sandbox, block_on_shared as block_on, connect, create_and_connect_team, ctx,
    use_simulator,
};
use tidemark_tests::sim::{OrgSpec, Sim, SimConfig};

fn team() -> TeamRef {
    TeamRef::Name("platform".into())
}

fn sim() -> Sim {
    Sim::start(
        SimConfig {
            org: OrgSpec {
                seed: 5,
                repos: 6,
                prs_per_repo: 60,
                members: 6,
                now: 1_760_000_000,
                ..OrgSpec::default()
            },
            latency_ms: 30,
            device_interval: 0,
            auto_approve: Some(1),
            ..SimConfig::default()
        },
        "127.0.0.1:0",
    )
    .unwrap()
}

fn start(sandbox: &Sandbox, sim: &Sim, n: usize) -> Daemon {
    Daemon::start_with(sandbox, n, |cmd| {
        use_simulator(cmd, sim, false);
        // No scheduled sync of its own: the test starts each one.
        cmd.arg("--sync-interval-secs").arg("86400");
    })
}

/// Connect team "platform", then (daemon stopped, so no sync starts by itself) track every
/// repository in the store.
fn set_up(sandbox: &Sandbox, sim: &Sim) {
    let daemon = start(sandbox, sim, 0);
    block_on(async {
        let client = connect(&daemon.socket).await.unwrap();
        create_and_connect_team(&client, "platform", false)
            .await
            .unwrap();
        // Let the first sync (members only: nothing is tracked yet) finish.
        while client
            .sync_status(ctx(), team(), 2_000)
            .await
            .unwrap()
            .unwrap()
            .running
        {}
    });
    daemon.stop();
    let store = Store::open(&tidemark_daemon::lifecycle::store_dir(&sandbox.data_dir())).unwrap();
    let team = store.team_by_name("platform").unwrap().unwrap().id;
    let repos: Vec<(u64, String)> = {
        let w = sim.world();
        w.repos
            .values()
            .map(|r| (r.id, format!("acme/{}", r.name)))
            .collect()
    };
    for (id, name) in repos {
        store.track_repo(team, id, &name).unwrap();
    }
    store.flush().unwrap();
}

fn graphql_requests(sim: &Sim) -> u64 {
    sim.stats().graphql_requests
}

/// Start a sync and follow it until it fetched at least `until` pull requests (None: to its
/// end). Returns whether it ended.
fn sync_until(daemon: &Daemon, until: Option<u64>) -> bool {
    block_on(async {
        let client = connect(&daemon.socket).await.unwrap();
        client.sync_start(ctx(), team()).await.unwrap().unwrap();
        loop {
            let p = client
                .sync_status(ctx(), team(), 2_000)
                .await
                .unwrap()
                .unwrap();
            if !p.running {
                assert_eq!(p.status, SyncStatus::Complete, "{p:?}");
                return true;
            }
            if until.is_some_and(|n| p.prs_fetched >= n) {
                return false;
            }
        }
    })
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

#[test]
fn killed_mid_sync_at_random_moments_it_resumes_and_converges() {
    // What an uninterrupted sync costs.
    let reference = {
        let sim = sim();
        let sandbox = Sandbox::new();
        set_up(&sandbox, &sim);
        let before = graphql_requests(&sim);
        let daemon = start(&sandbox, &sim, 1);
        assert!(sync_until(&daemon, None));
        graphql_requests(&sim) - before
    };

    let sim = sim();
    let sandbox = Sandbox::new();
    set_up(&sandbox, &sim);
    let truth = truth(&sim);
    let before = graphql_requests(&sim);
    // Kill points, from a fixed seed: after this many pull requests were reported stored.
    let mut rng_state: u64 = 0x5eed;
    let mut kills = 0;
    for round in 0..8 {
        rng_state = rng_state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let target = 1 + (rng_state >> 33) % 60;
        let daemon = start(&sandbox, &sim, 10 + round);
        let ended = sync_until(&daemon, Some(target));
        daemon.kill();
        kills += 1;
        // Whatever moment it died at, every stored pull request is whole and right.
        let store =
            Store::open(&tidemark_daemon::lifecycle::store_dir(&sandbox.data_dir())).unwrap();
        let team = store.team_by_name("platform").unwrap().unwrap().id;
        let stored = tidemark_tests::truth::assert_stored_prs_match_truth(&truth, &store, team);
        drop(store);
        if ended || stored == 360 {
            break;
        }
    }
    let daemon = start(&sandbox, &sim, 30);
    assert!(sync_until(&daemon, None));
    daemon.stop();
    let store = Store::open(&tidemark_daemon::lifecycle::store_dir(&sandbox.data_dir())).unwrap();
    let team = store.team_by_name("platform").unwrap().unwrap().id;
    tidemark_tests::truth::assert_store_equals_truth(&truth, &store, team);
    // Resumed, not restarted: each kill costs at most what was in flight (the page being
    // completed, with up to four follow-ups for a 250-commit pull request) and the members
    // query of the next start, never a whole sync again.
    let spent = graphql_requests(&sim) - before;
    assert!(
        spent <= reference + kills * 6,
        "{spent} GraphQL requests over {kills} kills; an uninterrupted sync takes {reference}"
    );
}
