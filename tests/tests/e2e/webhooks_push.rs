//! A `push` past GitHub's 2,048-commit list: the delivery alone (no `pull_request` event with it)
//! makes the daemon read the pull request the pushed branch belongs to again, whole.

use std::time::Duration;
use tidemark_protocol::{PrInfo, TeamRef, TidemarkClient};
use tidemark_tests::harness::{
    Daemon, Sandbox, block_on_shared as block_on, connect, connect_team_and_track_all, ctx,
    first_sync_and_hooks, use_simulator_with_webhooks, wait_until,
};
use tidemark_tests::harness::{all_pull_requests, small_org_sim};

const TEAM: &str = "platform";

fn team() -> TeamRef {
    TeamRef::Name(TEAM.into())
}

fn prs(client: &TidemarkClient) -> Vec<PrInfo> {
    block_on(all_pull_requests(client, team())).unwrap()
}

#[test]
fn a_push_of_more_commits_than_github_lists_rereads_the_pull_request() {
    let sim = small_org_sim(1, 3, 3);
    let public = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let args = |cmd: &mut std::process::Command| {
        use_simulator_with_webhooks(cmd, &sim, "127.0.0.1:0", &public.to_string());
    };
    // An open pull request to push to.
    let (repo_id, repo_name, author) = {
        let w = sim.world();
        let repo = w.repos.values().next().unwrap();
        let author = w.account(*w.members.keys().next().unwrap()).login.clone();
        (repo.id, repo.name.clone(), author)
    };
    let opened: serde_json::Value = block_on(async {
        reqwest::Client::new()
            .post(format!("{}/_sim/repos/{repo_name}/pulls", sim.url()))
            .json(&serde_json::json!({ "author": author, "title": "Big push" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    let number = opened["number"].as_u64().unwrap();
    let sandbox = Sandbox::new();
    let daemon = Daemon::start_with(&sandbox, 0, args);
    let client = block_on(connect(&daemon.socket)).unwrap();
    block_on(connect_team_and_track_all(&client, TEAM)).unwrap();
    block_on(first_sync_and_hooks(&client, team(), |_| true)).unwrap();
    let before = prs(&client)
        .into_iter()
        .find(|p| p.number == number)
        .unwrap();
    assert!(!before.commits_truncated);
    drop(client);
    daemon.stop();

    // 2,100 commits pushed while the daemon is down.
    let tried = sim.world().deliveries.len();
    let resp = block_on(async {
        reqwest::Client::new()
            .post(format!(
                "{}/_sim/repos/{repo_name}/pulls/{number}/push",
                sim.url()
            ))
            .json(&serde_json::json!({ "commits": 2_100 }))
            .send()
            .await
            .unwrap()
            .status()
    });
    assert!(resp.is_success());
    let push = wait_until(Duration::from_secs(20), "the push delivery", || {
        let w = sim.world();
        w.deliveries[tried..]
            .iter()
            .find(|d| d.event == "push" && d.repo_id == repo_id)
            .cloned()
    });
    let listed: serde_json::Value = serde_json::from_slice(&push.payload).unwrap();
    assert_eq!(listed["commits"].as_array().unwrap().len(), 2_048);
    {
        // GitHub believes everything was delivered: only our copy of the push arrives.
        let mut w = sim.world();
        for d in &mut w.deliveries[tried..] {
            d.status_code = 200;
        }
    }

    let daemon = Daemon::start_with(&sandbox, 1, args);
    let url = format!("{}/webhooks/github", daemon.webhook_url());
    let status = block_on(async {
        let mut req = reqwest::Client::new().post(&url).body(push.payload.clone());
        for (k, v) in &push.request_headers {
            if !k.eq_ignore_ascii_case("content-length") && !k.eq_ignore_ascii_case("host") {
                req = req.header(k, v);
            }
        }
        req.send().await.unwrap().status().as_u16()
    });
    assert_eq!(status, 202);
    let client = block_on(connect(&daemon.socket)).unwrap();
    let after = wait_until(Duration::from_secs(30), "the pull request re-read", || {
        prs(&client)
            .into_iter()
            .find(|p| p.number == number && p.commits_truncated)
    });
    // GitHub lists 250 of a pull request's commits; the rest is counted, not lost silently.
    assert_eq!(after.commits, 250);
    // No sync ran: the push alone did it.
    let sync = block_on(client.sync_status(ctx(), team(), 0))
        .unwrap()
        .unwrap();
    assert!(sync.finished_at.is_none(), "{sync:?}");
}
