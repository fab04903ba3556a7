//! A webhook flood costs almost nothing (issue 15, point 2), against the real daemon and the
//! GitHub simulator: one captured signed delivery replayed thousands of times under fresh
//! delivery ids causes no GitHub request and no growth of the store, also after a restart;
//! many distinct deliveries about one pull request are read once per round; a full backlog
//! answers 503 and the next sync brings what was refused; webhook re-reads stop at their share
//! of the rate budget and the sync still runs; the budget shown is GitHub's latest answer.
//!
//! `FLOOD_REPLAYS=72593 cargo nextest run -p tidemark-tests --test webhooks_flood
//! --no-capture` replays as many as the flood; each test prints its figures.

use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use tidemark_protocol::{TeamRef, TeamStatus, TidemarkClient};
use tidemark_tests::harness::{
    Daemon, Sandbox, all_pull_requests, block_on_shared as block_on, connect,
    connect_team_and_track_all, ctx, free_port, sim_control as control, small_org_sim,
    use_simulator_with_webhooks, wait_until,
};
use tidemark_tests::sim::Sim;
use tidemark_tests::sim::world::Delivery;

fn team() -> TeamRef {
    TeamRef::Name("platform".into())
}

struct Setup {
    sim: Sim,
    sandbox: Sandbox,
    daemon: Daemon,
    port: u16,
    hook_url: String,
    client: TidemarkClient,
}

/// A daemon with webhooks on the simulator's small org (2 repositories of 5 pull requests), a
/// team connected with every repository tracked, its first sync done and both hooks pinged.
fn setup(flags: &[&str]) -> Setup {
    let sim = small_org_sim(2, 5, 4);
    let port = free_port();
    let sandbox = Sandbox::new();
    let daemon = start(&sandbox, &sim, port, flags, 0);
    let client = block_on(async {
        let client = connect(&daemon.socket).await.unwrap();
        connect_team_and_track_all(&client, "platform")
            .await
            .unwrap();
        client
    });
    wait_until(
        Duration::from_secs(30),
        "the pings applied and the first sync done",
        || {
            let repos = block_on(client.tracked_repos(ctx(), team()))
                .unwrap()
                .unwrap();
            let sync = block_on(client.sync_status(ctx(), team(), 0))
                .unwrap()
                .unwrap();
            (repos.iter().all(|r| r.last_webhook_at.is_some())
                && !sync.running
                && sync.finished_at.is_some())
            .then_some(())
        },
    );
    Setup {
        sim,
        sandbox,
        daemon,
        port,
        hook_url: format!("http://127.0.0.1:{port}/webhooks/github/team/1"),
        client,
    }
}

fn start(sandbox: &Sandbox, sim: &Sim, port: u16, flags: &[&str], log: usize) -> Daemon {
    Daemon::start_with(sandbox, log, |cmd: &mut Command| {
        let addr = format!("127.0.0.1:{port}");
        use_simulator_with_webhooks(cmd, sim, &addr, &addr);
        cmd.args(flags);
    })
}

fn status(client: &TidemarkClient) -> TeamStatus {
    block_on(client.status(ctx(), Some(team())))
        .unwrap()
        .unwrap()
        .remove(0)
}

fn titles(client: &TidemarkClient) -> Vec<String> {
    block_on(all_pull_requests(client, team()))
        .unwrap()
        .into_iter()
        .map(|p| p.title)
        .collect()
}

/// Open a pull request on the simulator (GitHub sends its `pull_request` delivery).
fn open_pull_request(sim: &Sim, repo: &str, title: &str) {
    let author = sim.viewer_login();
    control(
        sim,
        &format!("/_sim/repos/{repo}/pulls"),
        json!({"author": author, "title": title}),
    );
}

fn first_repo(sim: &Sim) -> String {
    sim.world().repos.values().next().unwrap().name.clone()
}

/// Open a pull request and wait until its delivery is applied (its round logged: what follows
/// in the log is later); that delivery, as GitHub sent it.
fn applied_delivery(s: &Setup, title: &str) -> Delivery {
    let log_from = s.daemon.log_text().len();
    open_pull_request(&s.sim, &first_repo(&s.sim), title);
    wait_until(Duration::from_secs(20), "the delivery applied", || {
        (titles(&s.client).contains(&title.to_string())
            && !rounds(&s.daemon.log_text(), log_from).is_empty())
        .then_some(())
    });
    s.sim
        .world()
        .deliveries
        .iter()
        .rev()
        .find(|d| d.event == "pull_request" && d.action.as_deref() == Some("opened"))
        .unwrap()
        .clone()
}

/// POST `n` deliveries, 16 at a time: `make(i)` gives delivery i's headers and body. Statuses.
fn post_many(
    url: &str,
    n: usize,
    make: impl Fn(usize) -> (Vec<(String, String)>, Vec<u8>),
) -> Vec<u16> {
    let http = reqwest::Client::new();
    block_on(async {
        use futures::StreamExt;
        futures::stream::iter(0..n)
            .map(|i| {
                let (headers, body) = make(i);
                let mut req = http.post(url).body(body);
                for (k, v) in headers {
                    req = req.header(k, v);
                }
                async move { req.send().await.map(|r| r.status().as_u16()).unwrap_or(0) }
            })
            .buffer_unordered(16)
            .collect()
            .await
    })
}

/// A captured delivery's headers with another `X-GitHub-Delivery`.
fn with_guid(d: &Delivery, guid: String) -> Vec<(String, String)> {
    d.request_headers
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("x-github-delivery"))
        .cloned()
        .chain([("X-GitHub-Delivery".to_string(), guid)])
        .collect()
}

/// Bytes of every file under `dir`.
fn bytes_under(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let meta = e.metadata().unwrap();
            if meta.is_dir() {
                stack.push(e.path());
            } else {
                total += meta.len();
            }
        }
    }
    total
}

/// The store's size once sled has written what it holds (the same for a second).
fn settled_store_bytes(s: &Setup) -> u64 {
    let dir = tidemark_daemon::lifecycle::store_dir(&s.sandbox.data_dir());
    wait_until(Duration::from_secs(20), "the store files to settle", || {
        let a = bytes_under(&dir);
        std::thread::sleep(Duration::from_millis(1_100));
        (bytes_under(&dir) == a).then_some(a)
    })
}

/// The applier's rounds logged after byte `from` of the log: (deliveries, pull requests,
/// requests) each.
fn rounds(log: &str, from: usize) -> Vec<(u64, u64, u64)> {
    let field = |line: &str, name: &str| -> u64 {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {line}"))
    };
    log[from.min(log.len())..]
        .lines()
        .filter(|l| l.contains("webhook round applied"))
        .map(|l| {
            (
                field(l, "deliveries"),
                field(l, "pull_requests"),
                field(l, "requests"),
            )
        })
        .collect()
}

fn graphql_requests(sim: &Sim) -> u64 {
    sim.stats().graphql_requests
}

#[test]
fn a_captured_delivery_replayed_thousands_of_times_costs_no_request_and_no_store() {
    let n: usize = std::env::var("FLOOD_REPLAYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000);
    let s = setup(&[]);
    let captured = applied_delivery(&s, "Captured from Recent deliveries");
    let store_before = settled_store_bytes(&s);
    let requests_before = graphql_requests(&s.sim);
    let started = Instant::now();
    let statuses = post_many(&s.hook_url, n, |i| {
        (
            with_guid(&captured, format!("replay-{i}")),
            captured.payload.clone(),
        )
    });
    let took = started.elapsed();
    assert!(
        statuses.iter().all(|&c| c == 200),
        "every replay is acknowledged (GitHub must not retry): {:?}",
        statuses
            .iter()
            .filter(|&&c| c != 200)
            .take(5)
            .collect::<Vec<_>>()
    );
    let st = wait_until(Duration::from_secs(10), "the replays counted", || {
        let st = status(&s.client);
        (st.webhook_intake.replays_ignored >= n as u64).then_some(st)
    });
    assert_eq!(
        st.webhooks_pending, 0,
        "nothing of them waits to be applied"
    );
    assert!(st.webhook_intake.last_replay_at.is_some());
    let caused = graphql_requests(&s.sim) - requests_before;
    assert_eq!(caused, 0, "no GitHub request for a replay");
    let store_after = settled_store_bytes(&s);
    assert!(
        store_after <= store_before + 64 * 1024,
        "the store does not grow with the replays: {store_before} → {store_after} bytes"
    );
    println!(
        "{n} replays in {:.1} s ({:.0}/s): {caused} GitHub requests, store {store_before} → \
         {store_after} bytes, status: {} replays ignored",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64(),
        st.webhook_intake.replays_ignored
    );

    // After a restart the body is still known (sled keeps its hash beside the delivery ids).
    let Setup {
        sim,
        sandbox,
        daemon,
        port,
        hook_url,
        ..
    } = s;
    assert!(daemon.stop().success());
    let daemon = start(&sandbox, &sim, port, &[], 1);
    let client = block_on(connect(&daemon.socket)).unwrap();
    let statuses = post_many(&hook_url, 200, |i| {
        (
            with_guid(&captured, format!("after-restart-{i}")),
            captured.payload.clone(),
        )
    });
    assert!(statuses.iter().all(|&c| c == 200), "{statuses:?}");
    wait_until(Duration::from_secs(10), "the replays counted", || {
        (status(&client).webhook_intake.replays_ignored >= 200).then_some(())
    });
    assert_eq!(status(&client).webhooks_pending, 0);
    assert!(
        rounds(&daemon.log_text(), 0).is_empty(),
        "nothing was applied after the restart"
    );
}

#[test]
fn many_deliveries_about_one_pull_request_are_read_once_per_round() {
    const N: usize = 500;
    let s = setup(&[]);
    let captured = applied_delivery(&s, "Reviewed a lot");
    let secret = s.sim.world().hooks[&captured.hook_id]
        .secret
        .clone()
        .unwrap();
    let payload: Value = serde_json::from_slice(&captured.payload).unwrap();
    let log_from = s.daemon.log_text().len();
    let requests_before = graphql_requests(&s.sim);
    // Distinct signed bodies (as GitHub would send for many events), all naming one PR.
    let statuses = post_many(&s.hook_url, N, |i| {
        let mut p = payload.clone();
        p["tidemark_burst"] = json!(i);
        let body = serde_json::to_vec(&p).unwrap();
        let mut headers = with_guid(&captured, format!("burst-{i}"));
        headers.retain(|(k, _)| !k.eq_ignore_ascii_case("x-hub-signature-256"));
        headers.push((
            "X-Hub-Signature-256".into(),
            tidemark_daemon::webhooks::verify::sign(secret.as_bytes(), &body),
        ));
        (headers, body)
    });
    assert!(statuses.iter().all(|&c| c == 202), "{statuses:?}");
    let rounds = wait_until(Duration::from_secs(30), "every delivery applied", || {
        let r = rounds(&s.daemon.log_text(), log_from);
        let applied: u64 = r.iter().map(|r| r.0).sum();
        (applied >= N as u64 && status(&s.client).webhooks_pending == 0).then_some(r)
    });
    let caused = graphql_requests(&s.sim) - requests_before;
    let logged: u64 = rounds.iter().map(|r| r.2).sum();
    assert_eq!(caused, logged, "the rounds account for every request");
    for &(deliveries, prs, requests) in &rounds {
        assert!(
            prs <= 1 && requests <= 1,
            "one pull request read once per round: {deliveries} deliveries, {prs} pull \
             requests, {requests} requests"
        );
    }
    assert!(
        rounds.len() <= 5,
        "{N} deliveries sent at once take a few rounds: {rounds:?}"
    );
    println!(
        "{N} distinct deliveries about one pull request: {} rounds, {caused} GitHub requests \
         ({rounds:?})",
        rounds.len()
    );
}

#[test]
fn a_full_backlog_answers_503_and_the_next_sync_brings_what_was_refused() {
    let s = setup(&["--webhook-backlog-max", "3"]);
    // GitHub fails every request: the applier cannot apply, deliveries wait.
    control(&s.sim, "/_sim/faults", json!({"error_rate": 1000}));
    let repo = first_repo(&s.sim);
    let before = s.sim.world().deliveries.len();
    let names: Vec<String> = (1..=6)
        .map(|i| format!("While the backlog is full {i}"))
        .collect();
    for name in &names {
        open_pull_request(&s.sim, &repo, name);
    }
    let answered = wait_until(Duration::from_secs(30), "six deliveries answered", || {
        let w = s.sim.world();
        let d: Vec<u16> = w.deliveries[before..]
            .iter()
            .filter(|d| d.event == "pull_request")
            .map(|d| d.status_code)
            .collect();
        (d.len() >= 6).then_some(d)
    });
    assert_eq!(
        answered,
        [202, 202, 202, 503, 503, 503],
        "three wait, three are refused"
    );
    let st = status(&s.client);
    assert_eq!(st.webhooks_pending, 3);
    assert_eq!(st.webhook_intake.refused_backlog_full, 3);
    assert_eq!(st.webhook_intake.backlog_max, 3);
    // GitHub back: the next sync brings all six, the refused ones too.
    control(&s.sim, "/_sim/faults", json!({}));
    let started = tidemark_tests::sim::clock::now();
    block_on(s.client.sync_start(ctx(), team()))
        .unwrap()
        .unwrap();
    wait_until(Duration::from_secs(60), "the sync to bring them", || {
        let sync = block_on(s.client.sync_status(ctx(), team(), 2_000))
            .unwrap()
            .unwrap();
        let have = titles(&s.client);
        (!sync.running
            && sync.finished_at.is_some_and(|t| t >= started)
            && names.iter().all(|n| have.contains(n)))
        .then_some(())
    });
}

/// The viewer's GraphQL budget on the simulator now: (remaining, reset).
fn sim_budget(sim: &Sim) -> (u64, i64) {
    use tidemark_tests::sim::limits::Resource;
    let viewer = sim.world().viewer_id;
    let b = sim.shared.limits().budget(
        viewer,
        Resource::Graphql,
        sim.shared.config.rate_limit,
        tidemark_tests::sim::clock::now(),
    );
    (b.remaining(), b.reset)
}

/// Spend the viewer's GraphQL points (as another team of the same GitHub user would) until
/// `left` remain.
fn spend_until(sim: &Sim, left: u64) {
    let token = sim.token_for(&sim.viewer_login());
    let http = reqwest::Client::new();
    while sim_budget(sim).0 > left {
        let n = (sim_budget(sim).0 - left).min(64) as usize;
        block_on(async {
            use futures::StreamExt;
            futures::stream::iter(0..n)
                .map(|_| {
                    http.post(format!("{}/graphql", sim.url()))
                        .bearer_auth(&token)
                        .json(&json!({"query": "query { viewer { login } }"}))
                        .send()
                })
                .buffer_unordered(8)
                .collect::<Vec<_>>()
                .await
        });
    }
}

#[test]
fn webhook_re_reads_stop_at_their_share_of_the_budget_and_the_sync_still_runs() {
    let s = setup(&[]);
    let reserve = s.sim.shared.config.rate_limit / 2;
    spend_until(&s.sim, reserve + 3);
    let repo = first_repo(&s.sim);
    // Pull requests opened one at a time, each read again by its webhook, until the re-reads
    // reach the sync's half and are held.
    let mut opened = Vec::new();
    let held = wait_until(
        Duration::from_secs(90),
        "re-reads held for the budget",
        || {
            let name = format!("Opened while the budget runs low {}", opened.len());
            open_pull_request(&s.sim, &repo, &name);
            opened.push(name.clone());
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let st = status(&s.client);
                if st.webhook_intake.held_for_budget > 0 {
                    return Some(st);
                }
                if titles(&s.client).contains(&name) {
                    return None;
                }
                assert!(
                    Instant::now() < deadline,
                    "{name}: neither applied nor held"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        },
    );
    let (remaining, reset) = sim_budget(&s.sim);
    assert!(
        remaining + 10 >= reserve,
        "webhook re-reads stopped at the sync's half: {remaining} left of {}",
        2 * reserve
    );
    assert!(held.webhooks_pending >= 1);
    assert_eq!(held.webhook_intake.held_until, Some(reset));
    // The budget shown is GitHub's latest answer (a webhook's re-read), with when it came.
    let shown = held
        .rate_budget
        .iter()
        .find(|b| b.resource == "graphql")
        .expect("a GraphQL budget")
        .clone();
    assert_eq!((shown.remaining, shown.reset_at), (remaining, reset));
    let now = tidemark_tests::sim::clock::now();
    assert!(shown.seen_at.is_some_and(|t| now - t < 120), "{shown:?}");
    assert!(held.webhook_intake.webhook_points >= 1);
    // The sync keeps its share: it runs, and brings what the held deliveries named.
    let started = tidemark_tests::sim::clock::now();
    block_on(s.client.sync_start(ctx(), team()))
        .unwrap()
        .unwrap();
    let sync = wait_until(Duration::from_secs(60), "the sync to finish", || {
        let sync = block_on(s.client.sync_status(ctx(), team(), 2_000))
            .unwrap()
            .unwrap();
        (!sync.running && sync.finished_at.is_some_and(|t| t >= started)).then_some(sync)
    });
    assert_eq!(sync.error, None);
    let have = titles(&s.client);
    assert!(
        opened.iter().all(|n| have.contains(n)),
        "{opened:?} in {have:?}"
    );
    let after = sim_budget(&s.sim).0;
    assert!(after < remaining, "the sync spent from its share");
    let shown = status(&s.client).rate_budget;
    assert_eq!(
        shown
            .iter()
            .find(|b| b.resource == "graphql")
            .map(|b| b.remaining),
        Some(after),
        "the budget shown follows GitHub's answers"
    );
    println!(
        "{} pull requests opened; re-reads held at {remaining} left of {} ({} held, {} points \
         spent by webhook re-reads); the sync then spent {} points",
        opened.len(),
        2 * reserve,
        held.webhook_intake.held_for_budget,
        held.webhook_intake.webhook_points,
        remaining - after
    );
}
