//! Slack end to end: the real daemon, the GitHub simulator with webhooks and the Slack
//! simulator. A team connects Slack by OAuth v2 through the daemon's loopback redirect, picks a
//! channel, and a breach is posted there once, edited when it ends (through a 429), never
//! twice across a kill between its send and its record; a revoked token stops posting and
//! says reconnect; the bot token shows nowhere outside the daemon.

use serde_json::json;
use std::time::Duration;
use tidemark_protocol::agreements::{AgreementKind, Agreements, AlertsQuery, Breach, SlackPost};
use tidemark_protocol::{TeamRef, TidemarkClient};
use tidemark_tests::harness::{
    Daemon, Sandbox, block_on_shared as block_on, connect, connect_slack,
    connect_team_and_track_all, ctx, files_containing, first_sync_and_hooks, free_port,
    sim_control as control, small_org_sim, use_simulator_with_webhooks, wait_until,
};
use tidemark_tests::sim::Sim;
use tidemark_tests::slack_sim::{SlackConfig, SlackSim};

const CHANNEL: &str = "eng";

fn team() -> TeamRef {
    TeamRef::Name("platform".into())
}

struct World {
    github: Sim,
    slack: SlackSim,
    port: u16,
    sandbox: Sandbox,
}

fn world() -> World {
    World {
        github: small_org_sim(1, 2, 3),
        slack: SlackSim::start(SlackConfig {
            installed_scopes: None,
            ..SlackConfig::default()
        }),
        port: free_port(),
        sandbox: Sandbox::new(),
    }
}

fn start(w: &World, log: usize, failpoint: Option<&str>) -> Daemon {
    Daemon::start_with(&w.sandbox, log, |cmd| {
        let addr = format!("127.0.0.1:{}", w.port);
        use_simulator_with_webhooks(cmd, &w.github, &addr, &addr);
        let cfg = SlackConfig::default();
        cmd.env("TIDEMARK_SLACK_URL", w.slack.url())
            .env("SLACK_CLIENT_ID", &cfg.client_id)
            .env("SLACK_CLIENT_SECRET", &cfg.client_secret);
        if let Some(point) = failpoint {
            cmd.env("TIDEMARK_FAILPOINT", point);
        }
    })
}

/// Connect GitHub (synced, hooks pinged), then Slack through the browser's redirect, and
/// pick the channel.
fn connect_all(daemon: &Daemon) -> TidemarkClient {
    let client = block_on(async {
        let client = connect(&daemon.socket).await.unwrap();
        connect_team_and_track_all(&client, "platform")
            .await
            .unwrap();
        first_sync_and_hooks(&client, team(), |r| r.last_ping_at.is_some())
            .await
            .unwrap();
        client
    });
    let connected = block_on(connect_slack(&client, team(), &format!("#{CHANNEL}"))).unwrap();
    assert_eq!(connected.workspace, "Tidemark Sim");
    assert!(
        connected.callback.starts_with("http://127.0.0.1:"),
        "{}",
        connected.callback
    );
    // The same redirect again is refused (a state is used once), or finds the listener closed
    // already (it closes when no flow waits).
    block_on(async {
        if let Ok(again) = reqwest::get(&connected.callback).await {
            assert_eq!(again.status().as_u16(), 400);
        }
    });
    let status = block_on(client.status(ctx(), Some(team())))
        .unwrap()
        .unwrap()
        .remove(0);
    assert_eq!(status.slack.unwrap().channel.unwrap().name, CHANNEL);
    let agreements = Agreements {
        max_size: Some(400),
        ..Default::default()
    };
    block_on(client.agreements_set(ctx(), team(), agreements))
        .unwrap()
        .unwrap();
    client
}

fn open_big_pr(w: &World, title: &str) -> u64 {
    let (repo, author) = {
        let g = w.github.world();
        let repo = g.repos.values().next().unwrap().name.clone();
        let author = g.account(*g.members.keys().next().unwrap()).login.clone();
        (repo, author)
    };
    control(
        &w.github,
        &format!("/_sim/repos/{repo}/pulls"),
        json!({"author": author, "title": title, "commits": 30}),
    )["number"]
        .as_u64()
        .unwrap()
}

fn breach_of(client: &TidemarkClient, number: u64) -> Option<Breach> {
    block_on(client.alerts(
        ctx(),
        AlertsQuery {
            team: team(),
            include_resolved: true,
            since: None,
            limit: 1_000,
        },
    ))
    .unwrap()
    .unwrap()
    .breaches
    .into_iter()
    .find(|b| b.number == number && b.kind == AgreementKind::MaxSize)
}

fn channel(w: &World) -> String {
    w.slack.channel_id(CHANNEL).unwrap()
}

#[test]
fn a_breach_is_posted_once_edited_when_it_ends_and_a_revoked_token_says_reconnect() {
    let w = world();
    let daemon = start(&w, 0, None);
    let client = connect_all(&daemon);
    let token = w.slack.bot_token().expect("the app was installed");

    // Slack answers the first two posts 429: waited out, then posted once.
    w.slack.fault_429("chat.postMessage", 2, 1);
    let n = open_big_pr(&w, "A big change");
    let posted = wait_until(Duration::from_secs(60), "the breach posted", || {
        breach_of(&client, n).filter(|b| matches!(b.slack, Some(SlackPost::Posted { .. })))
    });
    let messages = w.slack.messages(&channel(&w));
    let ours: Vec<_> = messages.iter().filter(|m| m.bot_id.is_some()).collect();
    assert_eq!(ours.len(), 1, "{ours:?}");
    assert_eq!(w.slack.calls("chat.postMessage"), 3);
    assert!(ours[0].text.contains(&format!("#{n}>")), "{}", ours[0].text);
    assert!(ours[0].text.contains("at most 400 lines changed"));
    assert!(
        ours[0]
            .text
            .ends_with(&format!("tidemark alert #{}", posted.id))
    );

    // Its end edits the same message, through a 429 on the first try.
    w.slack.fault_429("chat.update", 1, 1);
    let repo = w.github.world().repos.values().next().unwrap().name.clone();
    control(
        &w.github,
        &format!("/_sim/repos/{repo}/pulls/{n}/merge"),
        json!({}),
    );
    wait_until(Duration::from_secs(60), "the message edited", || {
        breach_of(&client, n)
            .filter(|b| matches!(b.slack, Some(SlackPost::Posted { updated: true, .. })))
    });
    let messages = w.slack.messages(&channel(&w));
    let ours: Vec<_> = messages.iter().filter(|m| m.bot_id.is_some()).collect();
    assert_eq!(ours.len(), 1, "edited, not posted again");
    assert!(
        ours[0].text.contains("merged at 450 lines"),
        "{}",
        ours[0].text
    );
    assert_eq!(w.slack.posted(&channel(&w)), 1);

    // Uninstalled from Slack: posting stops, and the status says reconnect.
    w.slack.uninstall();
    let m = open_big_pr(&w, "Another big change");
    let status = wait_until(Duration::from_secs(60), "reconnect in the status", || {
        let s = block_on(client.status(ctx(), Some(team())))
            .unwrap()
            .unwrap()
            .remove(0);
        s.slack.filter(|s| s.problem.is_some())
    });
    assert!(status.problem.unwrap().contains("reconnect"));
    assert!(breach_of(&client, m).is_some_and(|b| b.slack.is_none()));
    assert_eq!(w.slack.posted(&channel(&w)), 1);

    // The bot token is nowhere outside the daemon's memory: not in its files, its log, or a
    // reply.
    let token = token.as_bytes();
    assert!(files_containing(w.sandbox.dir.path(), token).is_empty());
    let replies = format!(
        "{:?}{:?}",
        block_on(client.status(ctx(), Some(team()))).unwrap(),
        block_on(client.integrations(ctx(), team())).unwrap()
    );
    assert!(!replies.contains(std::str::from_utf8(token).unwrap()));
}

#[test]
fn killed_between_the_post_and_its_record_it_does_not_post_again() {
    let w = world();
    let daemon = start(&w, 0, Some("slack:after_post"));
    let client = connect_all(&daemon);
    let n = open_big_pr(&w, "A big change");
    // The daemon posts, then dies before it records the post.
    let mut daemon = daemon;
    let status = wait_until(Duration::from_secs(60), "the daemon to abort", || {
        daemon.child.try_wait().unwrap()
    });
    assert!(!status.success());
    assert_eq!(w.slack.posted(&channel(&w)), 1);
    drop(client);
    std::mem::forget(daemon);

    // Started again: it finds its message in the channel and records it, and posts nothing.
    let daemon = start(&w, 1, None);
    let client = block_on(connect(&daemon.socket)).unwrap();
    let b = wait_until(Duration::from_secs(60), "the post recorded", || {
        breach_of(&client, n).filter(|b| matches!(b.slack, Some(SlackPost::Posted { .. })))
    });
    assert!(
        daemon
            .log_text()
            .contains("found after an interrupted send")
    );
    assert_eq!(w.slack.posted(&channel(&w)), 1);
    let status = block_on(client.status(ctx(), Some(team())))
        .unwrap()
        .unwrap()
        .remove(0);
    assert_eq!(status.slack.unwrap().sent, 1, "{b:?}");
}

#[test]
fn the_daily_digest_is_posted_once_its_time_has_come() {
    let w = world();
    let daemon = start(&w, 0, None);
    let client = connect_all(&daemon);
    let n = open_big_pr(&w, "A big change");
    wait_until(Duration::from_secs(60), "the breach", || {
        breach_of(&client, n)
    });
    // Midnight in UTC has always passed today: the digest is due at once.
    let agreements = Agreements {
        max_size: Some(400),
        digest_at: Some(0),
        ..Default::default()
    };
    block_on(client.agreements_set(ctx(), team(), agreements))
        .unwrap()
        .unwrap();
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let marker = format!("tidemark digest {today}");
    let digest = wait_until(Duration::from_secs(60), "the digest", || {
        w.slack
            .messages(&channel(&w))
            .into_iter()
            .find(|m| m.text.ends_with(&marker))
    });
    assert!(digest.text.contains("daily digest"), "{}", digest.text);
    assert!(
        digest.text.contains("*Over 400 lines: 1*"),
        "{}",
        digest.text
    );
    assert!(
        digest.text.contains(&format!("#{n}> A big change")),
        "{}",
        digest.text
    );
    assert!(digest.text.contains("450 lines"), "{}", digest.text);
    assert!(
        digest.text.contains("Waiting for a first review"),
        "{}",
        digest.text
    );
    assert!(digest.text.contains("Cycle time"), "{}", digest.text);
    // The breach's post and the digest: two messages, one of each.
    let ours = w
        .slack
        .messages(&channel(&w))
        .into_iter()
        .filter(|m| m.bot_id.is_some())
        .count();
    wait_until(Duration::from_secs(60), "the status to count both", || {
        let s = block_on(client.status(ctx(), Some(team())))
            .unwrap()
            .unwrap()
            .remove(0);
        (s.slack?.sent == 2).then_some(())
    });
    assert_eq!(ours, 2);
}

#[test]
fn the_public_redirect_refuses_what_is_not_a_waiting_flow_and_loopback_serves_without_one() {
    let w = world();
    let daemon = start(&w, 0, None);
    // Through the public URL (the webhook listener), anyone can call: all refused cheaply.
    let base = format!("http://127.0.0.1:{}/slack/callback", w.port);
    let many = (0..20)
        .map(|i| format!("p{i}=1"))
        .collect::<Vec<_>>()
        .join("&");
    let long = "x".repeat(5_000);
    for (query, status) in [
        ("state=forged&code=abc".to_string(), 400),
        ("code=abc".to_string(), 400),
        ("state=a&state=b".to_string(), 400),
        (many, 400),
        (format!("state={long}"), 414),
    ] {
        let got = block_on(reqwest::get(format!("{base}?{query}"))).unwrap();
        assert_eq!(got.status().as_u16(), status, "{query:.40}");
    }
    // POST is GitHub's there, and refused as a webhook without a signature.
    let post = block_on(async {
        reqwest::Client::new()
            .post(&base)
            .body("{}")
            .send()
            .await
            .unwrap()
    });
    assert_eq!(post.status().as_u16(), 404);
    drop(daemon);

    // Without a public URL the redirect comes to a loopback listener of its own.
    let sandbox = Sandbox::new();
    let daemon = Daemon::start_with(&sandbox, 0, |cmd| {
        tidemark_tests::harness::use_simulator(cmd, &w.github, true);
        let cfg = SlackConfig::default();
        cmd.env("TIDEMARK_SLACK_URL", w.slack.url())
            .env("SLACK_CLIENT_ID", &cfg.client_id)
            .env("SLACK_CLIENT_SECRET", &cfg.client_secret);
    });
    let client = block_on(async {
        let client = connect(&daemon.socket).await.unwrap();
        connect_team_and_track_all(&client, "platform")
            .await
            .unwrap();
        client
    });
    let connected = block_on(connect_slack(&client, team(), "#eng")).unwrap();
    assert!(
        !connected.callback.contains(&format!(":{}/", w.port)),
        "{}",
        connected.callback
    );
    assert!(
        daemon
            .log_text()
            .contains("Slack callback listener open on 127.0.0.1")
    );
}
