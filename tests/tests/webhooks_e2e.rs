//! Webhooks end to end: the daemon creates hooks on tracked repositories, the simulator delivers
//! signed events to the daemon's listener, and the store follows; bad deliveries are refused
//! and change nothing; redeliveries are applied once; a stalled client holds up no one.

use serde_json::{Value, json};
use std::io::Write;
use std::time::Duration;
use tidemark_protocol::{
    ConnectMethod, ConnectRequest, ConnectState, PrQuery, TeamRef, TidemarkClient,
};
use tidemark_tests::harness::{
    Daemon, Sandbox, block_on_shared as block_on, connect, connect_team_and_track_all, ctx,
    files_containing, use_simulator, wait_until,
};
use tidemark_tests::sim::{OrgSpec, Sim, SimConfig};

fn team() -> TeamRef {
    TeamRef::Name("platform".into())
}

struct Setup {
    sim: Sim,
    _sandbox: Sandbox,
    daemon: Daemon,
    hook_url: String,
    client: TidemarkClient,
}

fn setup() -> Setup {
    let sim = Sim::start(
        SimConfig {
            org: OrgSpec {
                repos: 2,
                prs_per_repo: 5,
                members: 4,
                ..OrgSpec::default()
            },
            device_interval: 0,
            auto_approve: Some(1),
            ..SimConfig::default()
        },
        "127.0.0.1:0",
    )
    .unwrap();
    // The public URL must be known before the daemon starts: take a free port for it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let hook_url = format!("http://127.0.0.1:{port}/webhooks/github");
    let sandbox = Sandbox::new();
    let daemon = Daemon::start_with(&sandbox, 0, |cmd| {
        use_simulator(cmd, &sim, false);
        cmd.arg("--webhook-addr")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--public-url")
            .arg(format!("http://127.0.0.1:{port}"));
    });
    let client = block_on(async {
        let client = connect(&daemon.socket).await.unwrap();
        connect_team_and_track_all(&client, "platform")
            .await
            .unwrap();
        client
    });
    Setup {
        sim,
        _sandbox: sandbox,
        daemon,
        hook_url,
        client,
    }
}

fn control(sim: &Sim, path: &str, body: Value) -> Value {
    block_on(async {
        let r = reqwest::Client::new()
            .post(format!("{}{path}", sim.url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "POST {path}: {}", r.status());
        r.json().await.unwrap()
    })
}

fn pr_titles(client: &TidemarkClient) -> Vec<String> {
    block_on(client.pull_requests(
        ctx(),
        PrQuery {
            team: team(),
            repo: None,
            state: None,
            limit: 0,
        },
    ))
    .unwrap()
    .unwrap()
    .into_iter()
    .map(|p| p.title)
    .collect()
}

#[test]
fn hooks_are_created_pinged_and_deliveries_reach_the_store() {
    let s = setup();
    // One hook per tracked repository, at our public URL, with a secret; GitHub pinged each.
    let hooks: Vec<_> = s.sim.world().hooks.values().cloned().collect();
    assert_eq!(hooks.len(), 2);
    assert!(
        hooks
            .iter()
            .all(|h| h.url == s.hook_url && h.secret.is_some() && h.active)
    );
    wait_until(Duration::from_secs(20), "both pings to be applied", || {
        let repos = block_on(s.client.tracked_repos(ctx(), team()))
            .unwrap()
            .unwrap();
        repos
            .iter()
            .all(|r| r.webhook_id.is_some() && r.last_webhook_at.is_some())
            .then_some(())
    });
    // The secret never shows in the daemon's log.
    let secret = hooks[0].secret.clone().unwrap();
    assert!(!s.daemon.log_text().contains(&secret));

    // A change on GitHub arrives by webhook, without any sync.
    let (repo, author, reviewer) = {
        let w = s.sim.world();
        let repo = w.repos.values().next().unwrap().name.clone();
        let mut people = w.members.keys().map(|id| w.account(*id).login.clone());
        (repo, people.next().unwrap(), people.next().unwrap())
    };
    let n = control(
        &s.sim,
        &format!("/_sim/repos/{repo}/pulls"),
        json!({"author": author, "title": "Arrives by webhook"}),
    )["number"]
        .as_u64()
        .unwrap();
    control(
        &s.sim,
        &format!("/_sim/repos/{repo}/pulls/{n}/review"),
        json!({"user": reviewer, "state": "approved"}),
    );
    wait_until(
        Duration::from_secs(20),
        "the webhook's PR in the store",
        || {
            let prs = block_on(s.client.pull_requests(
                ctx(),
                PrQuery {
                    team: team(),
                    repo: None,
                    state: None,
                    limit: 0,
                },
            ))
            .unwrap()
            .unwrap();
            prs.into_iter()
                .find(|p| p.title == "Arrives by webhook" && p.first_review_at.is_some())
        },
    );
    // Every delivery was answered 2xx. (The review's delivery may still be on its way: the PR
    // read again after the "opened" one can already carry the review.)
    let deliveries = wait_until(Duration::from_secs(10), "the four deliveries", || {
        let d = s.sim.world().deliveries.clone();
        (d.len() >= 4).then_some(d)
    });
    assert!(
        deliveries
            .iter()
            .all(|d| (200..300).contains(&d.status_code)),
        "{:?}",
        deliveries.iter().map(|d| d.status_code).collect::<Vec<_>>()
    );

    // Redelivered (same X-GitHub-Delivery): acknowledged again, applied once.
    let hook = hooks[0].id;
    let delivery = s
        .sim
        .world()
        .deliveries
        .iter()
        .find(|d| d.hook_id == hook)
        .unwrap()
        .clone();
    let before = s.sim.world().deliveries.len();
    let r = block_on(async {
        reqwest::Client::new()
            .post(format!(
                "{}/repos/acme/{}/hooks/{hook}/deliveries/{}/attempts",
                s.sim.url(),
                repo_name(&s.sim, delivery.repo_id),
                delivery.id
            ))
            .bearer_auth(s.sim.token_for(&s.sim.viewer_login()))
            .send()
            .await
            .unwrap()
    });
    assert_eq!(r.status(), 202);
    wait_until(Duration::from_secs(10), "the redelivery", || {
        let w = s.sim.world();
        (w.deliveries.len() > before).then(|| w.deliveries.last().unwrap().clone())
    });
    let again = s.sim.world().deliveries.last().unwrap().clone();
    assert_eq!(again.guid, delivery.guid);
    assert_eq!(
        again.status_code, 200,
        "a duplicate is acknowledged: {}",
        again.response_body
    );
    assert!(again.response_body.contains("duplicate"));
}

fn repo_name(sim: &Sim, id: u64) -> String {
    sim.world().repos[&id].name.clone()
}

/// POST raw bytes with these headers; the status.
fn post(url: &str, headers: &[(&str, &str)], body: &[u8]) -> u16 {
    block_on(async {
        let mut req = reqwest::Client::new().post(url).body(body.to_vec());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.map(|r| r.status().as_u16()).unwrap_or(0)
    })
}

/// Every file of the store with a hash of its bytes.
fn store_files(dir: &std::path::Path) -> Vec<(std::path::PathBuf, String)> {
    use sha2::{Digest, Sha256};
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let hash = hex::encode(Sha256::digest(std::fs::read(&p).unwrap()));
                files.push((p, hash));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn ten_thousand_bad_deliveries_are_refused_and_leave_the_store_untouched() {
    let s = setup();
    // Let the pings be applied and the automatic first sync finish: then nothing else writes.
    wait_until(
        Duration::from_secs(30),
        "the pings and the first sync",
        || {
            let repos = block_on(s.client.tracked_repos(ctx(), team()))
                .unwrap()
                .unwrap();
            let sync = block_on(s.client.sync_status(ctx(), team(), 0))
                .unwrap()
                .unwrap();
            (repos.iter().all(|r| r.last_webhook_at.is_some())
                && !sync.running
                && sync.finished_at.is_some())
            .then_some(())
        },
    );
    let hook = s.sim.world().hooks.values().next().unwrap().clone();
    let secret = hook.secret.clone().unwrap();
    let hook_id = hook.id.to_string();
    let titles = pr_titles(&s.client);
    let store_dir = tidemark_daemon::daemon::store_dir(&s._sandbox.data_dir());
    // What was applied is visible before sled has flushed it to its files: wait until the files
    // stay the same for a second (longer than sled's 500 ms background flush).
    let before = wait_until(Duration::from_secs(20), "the store files to settle", || {
        let a = store_files(&store_dir);
        std::thread::sleep(Duration::from_millis(1_000));
        (store_files(&store_dir) == a).then_some(a)
    });
    let body: &[u8] = br#"{"action":"opened","number":999,"repository":{"id":1},"pull_request":{"number":999,"title":"forged"}}"#;
    let good = tidemark_daemon::webhooks::verify::sign(secret.as_bytes(), body);
    let wrong = tidemark_daemon::webhooks::verify::sign(b"not the secret", body);
    // Six kinds of bad: wrong secret, no signature, empty, short, sha1, and a correct signature
    // over other bytes than those sent.
    let kinds: Vec<(Option<String>, &[u8])> = vec![
        (Some(wrong), body),
        (None, body),
        (Some(String::new()), body),
        (Some("sha256=1234".into()), body),
        (
            Some("sha1=0123456789012345678901234567890123456789".into()),
            body,
        ),
        (Some(good.clone()), b"{\"action\":\"closed\"}"),
    ];
    let http = reqwest::Client::new();
    let statuses: Vec<(usize, u16)> = block_on(async {
        use futures::StreamExt;
        futures::stream::iter(0..10_000usize)
            .map(|i| {
                let (sig, sent) = &kinds[i % kinds.len()];
                let mut req = http
                    .post(&s.hook_url)
                    .header("x-github-event", "pull_request")
                    .header("x-github-hook-id", &hook_id)
                    .header("x-github-delivery", format!("bad-{i}"))
                    .body(sent.to_vec());
                if let Some(sig) = sig {
                    req = req.header("x-hub-signature-256", sig.as_str());
                }
                async move {
                    (
                        i % 6,
                        req.send().await.map(|r| r.status().as_u16()).unwrap_or(0),
                    )
                }
            })
            .buffer_unordered(32)
            .collect()
            .await
    });
    for (kind, status) in &statuses {
        assert_eq!(*status, 401, "kind {kind}");
    }
    // Too big: refused on its Content-Length, before reading.
    let huge = vec![b' '; 26 * 1024 * 1024];
    let status = block_on(
        http.post(&s.hook_url)
            .header("x-github-event", "pull_request")
            .header("x-github-delivery", "huge")
            .header("x-hub-signature-256", good.as_str())
            .body(huge)
            .send(),
    )
    .map(|r| r.status().as_u16())
    .unwrap_or(0);
    assert_eq!(status, 413);
    assert_eq!(
        post(
            &s.hook_url.replace("/webhooks/github", "/other"),
            &[],
            b"{}"
        ),
        404
    );
    let after = store_files(&store_dir);
    let changed: Vec<_> = after
        .iter()
        .filter(|f| !before.contains(f))
        .map(|(p, _)| p.clone())
        .collect();
    let log = s.daemon.log_text();
    let tail: Vec<&str> = log
        .lines()
        .filter(|l| !l.contains("TRACE") && !l.contains("refused"))
        .filter(|l| l.contains("tidemark_daemon"))
        .rev()
        .take(25)
        .collect();
    assert!(
        changed.is_empty() && after.len() == before.len(),
        "refused deliveries change no byte of the store: {changed:?}\n{}",
        tail.join("\n")
    );
    assert_eq!(pr_titles(&s.client), titles);
    assert!(files_containing(&s._sandbox.data_dir(), b"forged").is_empty());
}

#[test]
fn a_stalled_client_holds_up_no_real_delivery() {
    let s = setup();
    let addr = s
        .hook_url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    // Ten clients that promise a body and never send it.
    let stalled: Vec<_> = (0..10)
        .map(|_| {
            let mut c = std::net::TcpStream::connect(&addr).unwrap();
            write!(c, "POST /webhooks/github HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 5000\r\nX-GitHub-Event: ping\r\n\r\n{{\"zen\":").unwrap();
            c
        })
        .collect();
    let repo = s.sim.world().repos.values().next().unwrap().name.clone();
    let author = s.sim.viewer_login();
    control(
        &s.sim,
        &format!("/_sim/repos/{repo}/pulls"),
        json!({"author": author, "title": "Despite the stalled ones"}),
    );
    wait_until(
        Duration::from_secs(20),
        "the real delivery to be applied",
        || {
            pr_titles(&s.client)
                .contains(&"Despite the stalled ones".to_string())
                .then_some(())
        },
    );
    drop(stalled);
}

#[test]
fn acknowledged_deliveries_survive_a_kill_before_they_are_applied() {
    let sim = Sim::start(
        SimConfig {
            org: OrgSpec {
                repos: 2,
                prs_per_repo: 3,
                members: 3,
                ..OrgSpec::default()
            },
            device_interval: 0,
            auto_approve: Some(1),
            ..SimConfig::default()
        },
        "127.0.0.1:0",
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sandbox = Sandbox::new();
    let args = |cmd: &mut std::process::Command| {
        use_simulator(cmd, &sim, false);
        cmd.arg("--webhook-addr")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--public-url")
            .arg(format!("http://127.0.0.1:{port}"));
    };
    // This daemon dies (abort, as kill -9) the moment it would apply a delivery.
    let daemon = Daemon::start_with(&sandbox, 0, |cmd| {
        args(cmd);
        cmd.env("TIDEMARK_FAILPOINT", "webhook:before_apply");
    });
    block_on(async {
        let client = connect(&daemon.socket).await.unwrap();
        client
            .team_create(ctx(), "platform".into())
            .await
            .unwrap()
            .unwrap();
        let started = client
            .github_connect(
                ctx(),
                ConnectRequest {
                    team: team(),
                    method: ConnectMethod::Device,
                    org: None,
                    replace: false,
                },
            )
            .await
            .unwrap()
            .unwrap();
        while let ConnectState::Waiting = client
            .github_connect_status(ctx(), started.flow, 2_000)
            .await
            .unwrap()
            .unwrap()
        {}
        let names = client
            .repos_available(ctx(), team())
            .await
            .unwrap()
            .unwrap();
        // The hooks' pings arrive, are acknowledged, and the daemon dies applying them.
        let _ = client
            .repos_track(
                ctx(),
                team(),
                names.into_iter().map(|r| r.full_name).collect(),
            )
            .await;
    });
    let mut daemon = daemon;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while daemon.child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let d: Vec<_> = sim
                .world()
                .deliveries
                .iter()
                .map(|d| (d.event.clone(), d.status_code, d.response_body.clone()))
                .collect();
            let log = daemon.log_text();
            panic!(
                "still alive; deliveries {d:?}\n{}",
                &log[log.len().saturating_sub(3000)..]
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let acked = sim
        .world()
        .deliveries
        .iter()
        .filter(|d| (200..300).contains(&d.status_code))
        .count();
    assert!(
        acked >= 1,
        "at least one delivery was acknowledged before the crash"
    );
    // Started again, it applies what it had acknowledged: nothing lost.
    let daemon = Daemon::start_with(&sandbox, 1, args);
    let client = block_on(connect(&daemon.socket)).unwrap();
    wait_until(
        Duration::from_secs(20),
        "the acknowledged pings to be applied",
        || {
            let repos = block_on(client.tracked_repos(ctx(), team()))
                .unwrap()
                .unwrap();
            let pinged = repos.iter().filter(|r| r.last_webhook_at.is_some()).count();
            (pinged >= acked.min(2)).then_some(())
        },
    );
}

#[test]
fn after_downtime_missed_deliveries_are_asked_again_and_converge_out_of_order() {
    let sim = Sim::start(
        SimConfig {
            org: OrgSpec {
                repos: 2,
                prs_per_repo: 4,
                members: 4,
                ..OrgSpec::default()
            },
            device_interval: 0,
            auto_approve: Some(1),
            ..SimConfig::default()
        },
        "127.0.0.1:0",
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sandbox = Sandbox::new();
    let args = |cmd: &mut std::process::Command| {
        use_simulator(cmd, &sim, false);
        cmd.arg("--webhook-addr")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--public-url")
            .arg(format!("http://127.0.0.1:{port}"));
    };
    let daemon = Daemon::start_with(&sandbox, 0, args);
    let client = block_on(connect(&daemon.socket)).unwrap();
    block_on(connect_team_and_track_all(&client, "platform")).unwrap();
    wait_until(
        Duration::from_secs(30),
        "pings applied and the first sync done",
        || {
            let repos = block_on(client.tracked_repos(ctx(), team()))
                .unwrap()
                .unwrap();
            let sync = block_on(client.sync_status(ctx(), team(), 0))
                .unwrap()
                .unwrap();
            (repos.iter().all(|r| r.last_ping_at.is_some())
                && !sync.running
                && sync.finished_at.is_some())
            .then_some(())
        },
    );
    drop(client);
    daemon.stop();

    // While the daemon is down, the team works: GitHub's deliveries fail.
    let (repo, people) = {
        let w = sim.world();
        let repo = w.repos.values().next().unwrap().name.clone();
        let people: Vec<String> = w
            .members
            .keys()
            .map(|id| w.account(*id).login.clone())
            .collect();
        (repo, people)
    };
    let n = control(
        &sim,
        &format!("/_sim/repos/{repo}/pulls"),
        json!({"author": people[0], "title": "While you were away"}),
    )["number"]
        .as_u64()
        .unwrap();
    control(
        &sim,
        &format!("/_sim/repos/{repo}/pulls/{n}/review"),
        json!({"user": people[1], "state": "approved"}),
    );
    control(
        &sim,
        &format!("/_sim/repos/{repo}/pulls/{n}/push"),
        json!({"commits": 2}),
    );
    control(
        &sim,
        &format!("/_sim/repos/{repo}/pulls/{n}/merge"),
        json!({"by": people[1]}),
    );
    let failed = sim
        .world()
        .deliveries
        .iter()
        .filter(|d| !(200..300).contains(&d.status_code))
        .count();
    assert!(failed >= 4, "{failed} failed deliveries");

    // Back up: it asks GitHub for what it missed (newest first: out of order) and converges.
    let daemon = Daemon::start_with(&sandbox, 1, args);
    let client = block_on(connect(&daemon.socket)).unwrap();
    wait_until(
        Duration::from_secs(30),
        "the missed changes to arrive",
        || {
            let prs = block_on(client.pull_requests(
                ctx(),
                PrQuery {
                    team: team(),
                    repo: None,
                    state: None,
                    limit: 0,
                },
            ))
            .unwrap()
            .unwrap();
            prs.into_iter().find(|p| {
                p.title == "While you were away"
                    && p.state == tidemark_protocol::PrState::Merged
                    && p.commits == 3
            })
        },
    );
    let repos = block_on(client.tracked_repos(ctx(), team()))
        .unwrap()
        .unwrap();
    let missed: u64 = repos.iter().map(|r| r.webhooks_missed).sum();
    let recovered: u64 = repos.iter().map(|r| r.webhooks_recovered).sum();
    assert!(
        missed >= 4 && recovered == missed,
        "missed {missed}, recovered {recovered}"
    );
    // No sync ran since: the store equals GitHub's truth from webhooks alone.
    let sync = block_on(client.sync_status(ctx(), team(), 0))
        .unwrap()
        .unwrap();
    assert!(
        sync.finished_at.is_none(),
        "no sync since the restart: {sync:?}"
    );
    drop(client);
    daemon.stop();
    let truth: Value = block_on(async {
        reqwest::get(format!("{}/_sim/truth", sim.url()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    let store = tidemark_daemon::store::Store::open(&tidemark_daemon::daemon::store_dir(
        &sandbox.data_dir(),
    ))
    .unwrap();
    let team_id = store.team_by_name("platform").unwrap().unwrap().id;
    tidemark_tests::truth::assert_store_equals_truth(&truth, &store, team_id);
}

#[test]
fn rotating_the_secret_switches_githubs_hooks_and_keeps_accepting_the_old_one_for_a_while() {
    let s = setup();
    wait_until(Duration::from_secs(20), "the pings to be applied", || {
        let repos = block_on(s.client.tracked_repos(ctx(), team()))
            .unwrap()
            .unwrap();
        repos.iter().all(|r| r.last_ping_at.is_some()).then_some(())
    });
    let old = s
        .sim
        .world()
        .hooks
        .values()
        .next()
        .unwrap()
        .secret
        .clone()
        .unwrap();
    let report = block_on(s.client.webhook_rotate_secret(ctx(), team()))
        .unwrap()
        .unwrap();
    assert_eq!(report.hooks_updated, 2, "{report:?}");
    assert!(report.hooks_failed.is_empty());
    assert!(report.old_secret_accepted_until > tidemark_tests::sim::clock::now());
    let secrets: Vec<String> = s
        .sim
        .world()
        .hooks
        .values()
        .map(|h| h.secret.clone().unwrap())
        .collect();
    assert!(
        secrets.iter().all(|x| *x != old && *x == secrets[0]),
        "every hook has the new secret"
    );
    // A delivery still signed with the old secret (sent before GitHub switched) is accepted.
    let hook = s.sim.world().hooks.values().next().unwrap().clone();
    let body = br#"{"zen":"Keep it logically awesome.","hook_id":1}"#;
    let status = post(
        &s.hook_url,
        &[
            ("x-github-event", "ping"),
            ("x-github-delivery", "signed-with-the-old-secret"),
            ("x-github-hook-id", &hook.id.to_string()),
            (
                "x-hub-signature-256",
                &tidemark_daemon::webhooks::verify::sign(old.as_bytes(), body),
            ),
        ],
        body,
    );
    assert_eq!(status, 202);
    // And GitHub's new deliveries, signed with the new one, go through.
    let repo = s.sim.world().repos.values().next().unwrap().name.clone();
    let author = s.sim.viewer_login();
    control(
        &s.sim,
        &format!("/_sim/repos/{repo}/pulls"),
        json!({"author": author, "title": "After the rotation"}),
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !pr_titles(&s.client).contains(&"After the rotation".to_string()) {
        if std::time::Instant::now() > deadline {
            let d: Vec<_> = s
                .sim
                .world()
                .deliveries
                .iter()
                .map(|d| (d.event.clone(), d.status_code, d.response_body.clone()))
                .collect();
            let log = s.daemon.log_text();
            let lines: Vec<&str> = log
                .lines()
                .filter(|l| l.contains("tidemark_daemon") && !l.contains("TRACE"))
                .rev()
                .take(20)
                .collect();
            panic!("not applied; deliveries {d:?}\n{}", lines.join("\n"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !s.daemon.log_text().contains(&secrets[0]),
        "the new secret is never logged"
    );
}

/// A daemon whose store has a team with this webhook secret and `octo-org/hello-world` under
/// hook `HOOK`, GitHub unreachable (deliveries stay in the inbox); its listener's address.
const HOOK: u64 = 77;
const RAW_SECRET: &str = "raw-secret";
const RAW_BODY: &[u8] =
    br#"{"action":"opened","number":1,"repository":{"id":1296269},"pull_request":{"number":1}}"#;

fn seeded_daemon() -> (Sandbox, Daemon, String) {
    use tidemark_tests::harness::seed_connected_team;
    let sandbox = Sandbox::new();
    let team = seed_connected_team(&sandbox, "platform", "gho_t", "ghr_t", RAW_SECRET);
    {
        let store = tidemark_tests::harness::open_store(&sandbox);
        store.set_repo_webhook(team, 1_296_269, Some(HOOK)).unwrap();
        store.flush().unwrap();
    }
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let daemon = Daemon::start_with(&sandbox, 0, |cmd| {
        cmd.env("TIDEMARK_GITHUB_API_URL", format!("http://{closed}"))
            .env("RUST_LOG", "info");
    });
    let addr = daemon
        .webhook_url()
        .trim_start_matches("http://")
        .to_string();
    (sandbox, daemon, addr)
}

/// A delivery's request head (no body), signed for `RAW_BODY`.
fn raw_head(addr: &str, guid: &str, framing: &str) -> String {
    let signature = tidemark_daemon::webhooks::verify::sign(RAW_SECRET.as_bytes(), RAW_BODY);
    format!(
        "POST /webhooks/github HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         {framing}X-GitHub-Event: pull_request\r\nX-GitHub-Delivery: {guid}\r\n\
         X-GitHub-Hook-ID: {HOOK}\r\nX-Hub-Signature-256: {signature}\r\n\r\n"
    )
}

/// One response: its status and head (lower-cased); None if the connection ended first.
fn read_response(c: &mut std::net::TcpStream) -> Option<(u16, String)> {
    use std::io::Read;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match c.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let length: usize = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut rest = vec![0u8; length];
    c.read_exact(&mut rest).ok()?;
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, text))
}

fn raw_connect(addr: &str) -> std::net::TcpStream {
    let c = std::net::TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    c
}

/// Many keep-alive connections opened at once (a tunnel's pool, a burst after an outage) are all
/// served while every one of them stays open: none waits for another connection to close.
#[test]
fn a_burst_of_keep_alive_connections_is_served_at_once() {
    let (_sandbox, daemon, addr) = seeded_daemon();
    const CONNECTIONS: usize = 48;
    let all_answered = std::sync::Arc::new(std::sync::Barrier::new(CONNECTIONS));
    let threads: Vec<_> = (0..CONNECTIONS)
        .map(|i| {
            let (addr, all_answered) = (addr.clone(), all_answered.clone());
            std::thread::spawn(move || {
                let mut c = raw_connect(&addr);
                let mut statuses = Vec::new();
                for n in 0..2 {
                    let length = format!("Content-Length: {}\r\n", RAW_BODY.len());
                    c.write_all(raw_head(&addr, &format!("burst-{i}-{n}"), &length).as_bytes())
                        .unwrap();
                    c.write_all(RAW_BODY).unwrap();
                    statuses.push(read_response(&mut c).map(|(s, _)| s));
                    if n == 0 {
                        // Hold this connection open until every connection had its first answer.
                        all_answered.wait();
                    }
                }
                statuses
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), [Some(202), Some(202)]);
    }
    drop(daemon);
}

/// The listener's HTTP/1.1: chunked bodies, `Expect: 100-continue`, pipelined requests and
/// HTTP/1.0 are served; a request whose framing is ambiguous is refused and its connection
/// closed.
#[test]
fn deliveries_framed_every_way_http_allows() {
    let (_sandbox, daemon, addr) = seeded_daemon();
    let length = format!("Content-Length: {}\r\n", RAW_BODY.len());

    // Chunked, in three chunks, one with an extension; then a second request on the connection.
    let mut c = raw_connect(&addr);
    let (a, b) = RAW_BODY.split_at(10);
    let (b, d) = b.split_at(30);
    let mut req = raw_head(&addr, "chunked", "Transfer-Encoding: chunked\r\n").into_bytes();
    for (n, part) in [a, b, d].iter().enumerate() {
        req.extend_from_slice(
            format!("{:x}{}\r\n", part.len(), if n == 1 { ";ext=1" } else { "" }).as_bytes(),
        );
        req.extend_from_slice(part);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    c.write_all(&req).unwrap();
    assert_eq!(read_response(&mut c).map(|r| r.0), Some(202));
    // The same delivery again, by length: a duplicate, acknowledged.
    c.write_all(raw_head(&addr, "chunked", &length).as_bytes())
        .unwrap();
    c.write_all(RAW_BODY).unwrap();
    assert_eq!(read_response(&mut c).map(|r| r.0), Some(200));

    // Expect: 100-continue: the interim answer, then the body, then the final answer.
    let mut c = raw_connect(&addr);
    let expect = format!("{length}Expect: 100-continue\r\n");
    c.write_all(raw_head(&addr, "expect", &expect).as_bytes())
        .unwrap();
    assert_eq!(read_response(&mut c).map(|r| r.0), Some(100));
    c.write_all(RAW_BODY).unwrap();
    assert_eq!(read_response(&mut c).map(|r| r.0), Some(202));

    // Two requests in one write, answered in order.
    let mut c = raw_connect(&addr);
    let mut two = Vec::new();
    for guid in ["pipelined-1", "pipelined-2"] {
        two.extend_from_slice(raw_head(&addr, guid, &length).as_bytes());
        two.extend_from_slice(RAW_BODY);
    }
    c.write_all(&two).unwrap();
    assert_eq!(read_response(&mut c).map(|r| r.0), Some(202));
    assert_eq!(read_response(&mut c).map(|r| r.0), Some(202));

    // HTTP/1.0: answered, then closed.
    let mut c = raw_connect(&addr);
    let head = raw_head(&addr, "http10", &length).replacen("HTTP/1.1", "HTTP/1.0", 1);
    c.write_all(head.as_bytes()).unwrap();
    c.write_all(RAW_BODY).unwrap();
    let (status, _) = read_response(&mut c).unwrap();
    assert_eq!(status, 202);
    // HTTP/1.0 closes unless asked to keep alive.
    assert!(read_response(&mut c).is_none());

    // Content-Length and Transfer-Encoding both, or two lengths: 400, closed, nothing stored.
    for framing in [
        format!("{length}Transfer-Encoding: chunked\r\n"),
        format!("{length}Content-Length: 5\r\n"),
        "Transfer-Encoding: gzip\r\n".to_string(),
    ] {
        let mut c = raw_connect(&addr);
        c.write_all(raw_head(&addr, "ambiguous", &framing).as_bytes())
            .unwrap();
        c.write_all(RAW_BODY).unwrap();
        assert_eq!(read_response(&mut c).map(|r| r.0), Some(400), "{framing:?}");
        assert!(read_response(&mut c).is_none());
    }
    // A malformed chunk size.
    let mut c = raw_connect(&addr);
    c.write_all(raw_head(&addr, "bad-chunk", "Transfer-Encoding: chunked\r\n").as_bytes())
        .unwrap();
    c.write_all(b"zz\r\n{}\r\n0\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut c).map(|r| r.0), Some(400));

    // What was accepted is in the store; "ambiguous" and "bad-chunk" are not.
    assert!(daemon.stop().success());
    let store = tidemark_tests::harness::open_store(&_sandbox);
    let team = store.teams().unwrap()[0].id;
    let mut guids = store.inbox_guids(team).unwrap();
    guids.sort();
    assert_eq!(
        guids,
        ["chunked", "expect", "http10", "pipelined-1", "pipelined-2"]
    );
}

/// GitHub pings a new hook at once, possibly before the daemon has stored the hook's id: a
/// delivery from a hook id not known yet is matched by the repository it names, and must still
/// be signed with that team's secret.
#[test]
fn a_delivery_from_a_hook_not_recorded_yet_is_matched_by_its_repository() {
    let (_sandbox, _daemon, addr) = seeded_daemon();
    let length = format!("Content-Length: {}\r\n", RAW_BODY.len());
    let send = |guid: &str, body: &[u8], signature: Option<String>| {
        let mut head = raw_head(&addr, guid, &length).replace(
            &format!("X-GitHub-Hook-ID: {HOOK}"),
            "X-GitHub-Hook-ID: 4242",
        );
        if let Some(sig) = signature {
            let good = tidemark_daemon::webhooks::verify::sign(RAW_SECRET.as_bytes(), RAW_BODY);
            head = head.replace(&good, &sig);
        }
        let mut c = raw_connect(&addr);
        c.write_all(head.as_bytes()).unwrap();
        c.write_all(body).unwrap();
        read_response(&mut c).map(|r| r.0)
    };
    assert_eq!(send("new-hook", RAW_BODY, None), Some(202));
    let wrong = tidemark_daemon::webhooks::verify::sign(b"another secret", RAW_BODY);
    assert_eq!(send("new-hook-forged", RAW_BODY, Some(wrong)), Some(401));
    // A repository nobody tracks: refused whatever the signature.
    let other = String::from_utf8_lossy(RAW_BODY)
        .replace("1296269", "1296270")
        .into_bytes();
    let signed = tidemark_daemon::webhooks::verify::sign(RAW_SECRET.as_bytes(), &other);
    assert_eq!(send("untracked", &other, Some(signed)), Some(401));
}
