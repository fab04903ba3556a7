//! Webhooks end to end: the daemon creates hooks on tracked repositories, the simulator delivers
//! signed events to the daemon's listener, and the store follows; bad deliveries are refused
//! and change nothing; redeliveries are applied once; a stalled client holds up no one.

use serde_json::{Value, json};
use std::io::Write;
use std::time::Duration;
use tidemark_protocol::{TeamRef, TidemarkClient};
use tidemark_tests::harness::{
    Daemon, Sandbox, block_on_shared as block_on, connect, connect_team_and_track_all,
    create_and_connect_team, ctx, files_containing, first_sync_and_hooks, sim_control as control,
    use_simulator_with_webhooks, wait_until,
};
use tidemark_tests::harness::{all_pull_requests, free_port, small_org_sim};
use tidemark_tests::sim::Sim;

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
    let sim = small_org_sim(2, 5, 4);
    // The public URL must be known before the daemon starts: take a free port for it.
    let port = free_port();
    // The first (only) team's hook URL.
    let hook_url = format!("http://127.0.0.1:{port}/webhooks/github/team/1");
    let sandbox = Sandbox::new();
    let daemon = Daemon::start_with(&sandbox, 0, |cmd| {
        let addr = format!("127.0.0.1:{port}");
        use_simulator_with_webhooks(cmd, &sim, &addr, &addr);
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

fn pr_titles(client: &TidemarkClient) -> Vec<String> {
    block_on(all_pull_requests(client, team()))
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
            let prs = block_on(all_pull_requests(&s.client, team())).unwrap();
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
    let store_dir = tidemark_daemon::lifecycle::store_dir(&s._sandbox.data_dir());
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
    let sim = small_org_sim(2, 3, 3);
    let port = free_port();
    let sandbox = Sandbox::new();
    let args = |cmd: &mut std::process::Command| {
        let addr = format!("127.0.0.1:{port}");
        use_simulator_with_webhooks(cmd, &sim, &addr, &addr);
    };
    // This daemon dies (abort, as kill -9) the moment it would apply a delivery.
    let daemon = Daemon::start_with(&sandbox, 0, |cmd| {
        args(cmd);
        cmd.env("TIDEMARK_FAILPOINT", "webhook:before_apply");
    });
    block_on(async {
        let client = connect(&daemon.socket).await.unwrap();
        create_and_connect_team(&client, "platform", false)
            .await
            .unwrap();
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
    let sim = small_org_sim(2, 4, 4);
    let port = free_port();
    let sandbox = Sandbox::new();
    let args = |cmd: &mut std::process::Command| {
        let addr = format!("127.0.0.1:{port}");
        use_simulator_with_webhooks(cmd, &sim, &addr, &addr);
    };
    let daemon = Daemon::start_with(&sandbox, 0, args);
    let client = block_on(connect(&daemon.socket)).unwrap();
    block_on(connect_team_and_track_all(&client, "platform")).unwrap();
    // Pings applied and the first sync done.
    block_on(first_sync_and_hooks(&client, team(), |r| {
        r.last_ping_at.is_some()
    }))
    .unwrap();
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
            let prs = block_on(all_pull_requests(&client, team())).unwrap();
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
    let store = tidemark_daemon::store::Store::open(&tidemark_daemon::lifecycle::store_dir(
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

/// Issue 15: a second team tracking a repository got GitHub's 422 ("Hook already exists on
/// this repository") while `status` said its webhook was set, and its deliveries never came.
/// Each team's hooks now call a URL of its own: both teams get hooks, each verified with its
/// own secret, and a change reaches both. A hook already at the second team's URL (its id
/// lost) is taken over rather than refused.
#[test]
fn a_repository_two_teams_track_reaches_both_each_through_its_own_hook() {
    let s = setup();
    let (repo_name, repo_id) = {
        let w = s.sim.world();
        let r = w.repos.values().next().unwrap();
        (r.name.clone(), r.id)
    };
    // A hook at the second team's URL already on one repository, with another secret and
    // other events, as if made by it before its id was lost.
    let team2_url = s.hook_url.replace("/team/1", "/team/2");
    let token = s.sim.world().tokens.keys().next().cloned().unwrap();
    let planted: Value = block_on(async {
        reqwest::Client::new()
            .post(format!("{}/repos/acme/{repo_name}/hooks", s.sim.url()))
            .bearer_auth(&token)
            .json(&json!({"name": "web", "config": {"url": team2_url, "content_type": "json", "secret": "stale"}, "events": ["push"]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    let planted = planted["id"].as_u64().unwrap();

    let mobile = || TeamRef::Name("mobile".into());
    block_on(connect_team_and_track_all(&s.client, "mobile")).unwrap();
    block_on(first_sync_and_hooks(&s.client, mobile(), |r| {
        r.webhook_id.is_some() && r.last_webhook_at.is_some()
    }))
    .unwrap();

    // Two hooks per repository, one at each team's URL, with different secrets; the planted
    // one is the second team's now, with our events.
    let hooks: Vec<_> = s.sim.world().hooks.values().cloned().collect();
    assert_eq!(hooks.len(), 4, "{hooks:?}");
    for url in [&s.hook_url, &team2_url] {
        assert_eq!(hooks.iter().filter(|h| &h.url == url).count(), 2);
    }
    let at = |url: &str, repo: u64| {
        hooks
            .iter()
            .find(|h| h.url == url && h.repo_id == repo)
            .unwrap()
            .clone()
    };
    let (one, two) = (at(&s.hook_url, repo_id), at(&team2_url, repo_id));
    assert_eq!(two.id, planted);
    assert_ne!(two.secret.as_deref(), Some("stale"));
    assert_ne!(one.secret, two.secret);
    assert!(
        two.events.iter().any(|e| e == "pull_request"),
        "{:?}",
        two.events
    );
    let tracked = block_on(s.client.tracked_repos(ctx(), mobile()))
        .unwrap()
        .unwrap();
    let r = tracked
        .iter()
        .find(|r| r.github_repo_id == repo_id)
        .unwrap();
    assert_eq!(r.webhook_id, Some(planted));
    assert!(tracked.iter().all(|r| r.webhook_problem.is_none()));

    // A pull request opened on GitHub reaches both teams by webhook.
    let author = {
        let w = s.sim.world();
        w.account(*w.members.keys().next().unwrap()).login.clone()
    };
    control(
        &s.sim,
        &format!("/_sim/repos/{repo_name}/pulls"),
        json!({"author": author, "title": "Seen by both teams"}),
    );
    for t in [team(), mobile()] {
        wait_until(Duration::from_secs(20), "the PR in both teams", || {
            block_on(all_pull_requests(&s.client, t.clone()))
                .unwrap()
                .into_iter()
                .find(|p| p.title == "Seen by both teams")
        });
    }
    // Each delivery went to its own team's URL and was answered 2xx.
    let deliveries = s.sim.world().deliveries.clone();
    for url in [&s.hook_url, &team2_url] {
        assert!(
            deliveries.iter().any(|d| &d.url == url
                && d.event == "pull_request"
                && (200..300).contains(&d.status_code)),
            "no pull_request delivery to {url}"
        );
    }
}

/// A hook GitHub will not make is said so in `status` and `repos list`, with GitHub's reason,
/// and the repository's webhook is not called set.
#[test]
fn a_hook_github_refuses_is_shown_with_its_reason() {
    let s = setup();
    // The tokens lose the hook scopes (as if the app were re-authorized with less): a new
    // repository's hook is refused (GitHub answers 404 to a hook call without them).
    control(
        &s.sim,
        "/_sim/tokens/scopes",
        json!({"scopes": ["read:org", "read:user"]}),
    );
    control(&s.sim, "/_sim/repos", json!({"name": "no-hooks"}));
    block_on(
        s.client
            .repos_track(ctx(), team(), vec!["acme/no-hooks".into()]),
    )
    .unwrap()
    .unwrap();
    let repo = wait_until(Duration::from_secs(20), "the webhook problem", || {
        block_on(s.client.tracked_repos(ctx(), team()))
            .unwrap()
            .unwrap()
            .into_iter()
            .find(|r| r.full_name == "acme/no-hooks" && r.webhook_problem.is_some())
    });
    assert_eq!(repo.webhook_id, None);
    let problem = repo.webhook_problem.unwrap();
    assert!(problem.reason.contains("404"), "{}", problem.reason);
    let out = s
        ._sandbox
        .client_command()
        .args(["--no-start", "status"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let line = text
        .lines()
        .find(|l| l.contains("acme/no-hooks"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("not created"), "{line}");
    assert!(text.contains("404"), "{text}");
}
