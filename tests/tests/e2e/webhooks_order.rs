//! Deliveries in any order converge: a real sequence of GitHub events (the simulator's activity
//! generator, plus two renames of one repository) is captured while the daemon is down, then
//! delivered to copies of the same daemon state in random orders (proptest); every order ends in
//! the state in-order delivery ends in, which is GitHub's truth.

use proptest::strategy::{Just, Strategy};
use proptest::test_runner::{Config, TestRunner};
use rand::SeedableRng;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;
use tidemark_protocol::TeamRef;
use tidemark_tests::harness::{
    Daemon, Sandbox, block_on_shared as block_on, connect, connect_team_and_track_all, ctx,
    first_sync_and_hooks, open_store, use_simulator_with_webhooks, wait_until,
};
use tidemark_tests::harness::{all_pull_requests, small_org_sim};
use tidemark_tests::sim::{Sim, activity};

const TEAM: &str = "platform";

fn team() -> TeamRef {
    TeamRef::Name(TEAM.into())
}

/// One captured delivery: GitHub's request headers and body, as sent.
#[derive(Clone, Debug)]
struct Captured {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn copy_dir(from: &Path, to: &Path) {
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

/// (repository id, number, state, commits) of every pull request the truth has in tracked
/// repositories, for waiting on convergence over RPC.
fn expected_prs(truth: &Value) -> Vec<(String, u64, String, u64)> {
    let mut out: Vec<_> = truth["pulls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["repo_id"].to_string(),
                p["number"].as_u64().unwrap(),
                p["state"].as_str().unwrap().to_lowercase(),
                p["commits"].as_array().map_or(0, |c| c.len() as u64),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn deliveries_in_any_order_end_where_in_order_delivery_ends() {
    let sim = small_org_sim(2, 3, 4);
    let public = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let args = |cmd: &mut std::process::Command| {
        use_simulator_with_webhooks(cmd, &sim, "127.0.0.1:0", &public.to_string());
    };

    // The starting state: connected, every repository tracked and synced, hooks created.
    let origin = Sandbox::new();
    let daemon = Daemon::start_with(&origin, 0, args);
    let client = block_on(connect(&daemon.socket)).unwrap();
    block_on(connect_team_and_track_all(&client, TEAM)).unwrap();
    block_on(first_sync_and_hooks(&client, team(), |r| {
        r.webhook_id.is_some()
    }))
    .unwrap();
    drop(client);
    daemon.stop();

    // The team works while no daemon listens: GitHub's deliveries fail, and we keep them.
    let before = sim.world().deliveries.len();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
    let renamed = *sim.world().repos.keys().next().unwrap();
    let mut events = 0;
    for step in 0..40 {
        let emitted = {
            let mut w = sim.world();
            match step {
                13 => w.rename_repo(renamed, "renamed-once", tidemark_tests::sim::clock::now()),
                27 => w.rename_repo(renamed, "renamed-twice", tidemark_tests::sim::clock::now()),
                _ => activity::step(&mut w, &mut rng, tidemark_tests::sim::clock::now()),
            }
            .unwrap()
        };
        events += emitted.len();
        sim.shared.emit(emitted);
    }
    let captured: Vec<Captured> = wait_until(
        Duration::from_secs(30),
        "every delivery to have been tried",
        || {
            let w = sim.world();
            let tried = &w.deliveries[before..];
            (tried.len() >= events).then(|| {
                tried
                    .iter()
                    .map(|d| Captured {
                        headers: d.request_headers.clone(),
                        body: d.payload.clone(),
                    })
                    .collect()
            })
        },
    );
    assert!(captured.len() >= 40, "{} deliveries", captured.len());
    {
        // Not failed as far as GitHub knows: the daemons below must get them from us alone, in
        // our order, not by asking for redeliveries.
        let mut w = sim.world();
        for d in &mut w.deliveries[before..] {
            d.status_code = 200;
        }
    }
    let truth = truth(&sim);
    let want = expected_prs(&truth);
    let renamed_now = sim.world().repos[&renamed].name.clone();
    assert_eq!(renamed_now, "renamed-twice");

    // Any order (the first case is the order GitHub sent them in) ends in the truth.
    let n = captured.len();
    let identity: Vec<usize> = (0..n).collect();
    let cases = std::cell::Cell::new(0);
    let shuffled = Just(identity.clone()).prop_shuffle();
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: 5,
            failure_persistence: None,
            ..Config::default()
        },
        proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        ),
    );
    let run_order = |order: &[usize]| {
        cases.set(cases.get() + 1);
        let sandbox = Sandbox::new();
        copy_dir(&origin.data_dir(), &sandbox.data_dir());
        let daemon = Daemon::start_with(&sandbox, 0, args);
        let hook_url = format!("{}/webhooks/github", daemon.webhook_url());
        let http = reqwest::Client::new();
        for &i in order {
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
        let mut last = String::new();
        let converged = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            wait_until(
                Duration::from_secs(30),
                "the deliveries to converge",
                || {
                    let prs = block_on(all_pull_requests(&client, team())).unwrap();
                    let repos = block_on(client.tracked_repos(ctx(), team()))
                        .unwrap()
                        .unwrap();
                    let mut got: Vec<_> = prs
                        .iter()
                        .map(|p| {
                            let repo = repos.iter().find(|r| r.full_name == p.repo);
                            (
                                repo.map(|r| r.github_repo_id.to_string())
                                    .unwrap_or_default(),
                                p.number,
                                format!("{:?}", p.state).to_lowercase(),
                                u64::from(p.commits),
                            )
                        })
                        .collect();
                    got.sort();
                    let names_ok = repos
                        .iter()
                        .any(|r| r.full_name.ends_with("/renamed-twice"));
                    let pending = block_on(client.status(ctx(), Some(team())))
                        .unwrap()
                        .unwrap()[0]
                        .webhooks_pending;
                    last = format!("pending {pending}, names ok {names_ok}, got {got:?}");
                    (got == want && names_ok && pending == 0).then_some(())
                },
            )
        }));
        if converged.is_err() {
            let log = daemon.log_text();
            let problems: Vec<&str> = log
                .lines()
                .filter(|l| l.contains("WARN") || l.contains("ERROR"))
                .collect();
            panic!(
                "no convergence: {last}\nwanted {want:?}\nthe daemon's warnings:\n{}",
                problems.join("\n")
            );
        }
        drop(client);
        daemon.stop();
        // Exactly: every record, not only what the listing shows.
        let store = open_store(&sandbox);
        let team_id = store.team_by_name(TEAM).unwrap().unwrap().id;
        assert!(store.inbox(team_id).unwrap().is_empty());
        tidemark_tests::truth::assert_store_equals_truth(&truth, &store, team_id);
    };
    run_order(&identity);
    runner
        .run(&shuffled, |order: Vec<usize>| {
            run_order(&order);
            Ok(())
        })
        .unwrap();
    assert_eq!(cases.get(), 6);
}
