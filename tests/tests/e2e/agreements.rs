//! Working agreements end to end: the real daemon, synced from the simulator, with webhooks.
//! A pull request that crosses a limit on GitHub is a breach in `alerts` within a minute of its
//! webhook (the timer's period is 30 s; a webhook's check runs at once), with who and how far
//! over; merging it resolves the breach; the team's status counts what is open.

use serde_json::json;
use std::time::{Duration, Instant};
use tidemark_protocol::agreements::{
    AgreementKind, Agreements, AlertsQuery, Breach, Over, Span, WorkingHours,
};
use tidemark_protocol::{RpcError, TeamRef, TidemarkClient};
use tidemark_tests::harness::{
    Daemon, Sandbox, block_on_shared as block_on, connect, connect_team_and_track_all, ctx,
    first_sync_and_hooks, free_port, sim_control as control, small_org_sim,
    use_simulator_with_webhooks, wait_until,
};

fn team() -> TeamRef {
    TeamRef::Name("platform".into())
}

fn alerts(client: &TidemarkClient, include_resolved: bool) -> (Vec<Breach>, u64) {
    let a = block_on(client.alerts(
        ctx(),
        AlertsQuery {
            team: team(),
            include_resolved,
            since: None,
            limit: 1_000,
        },
    ))
    .unwrap()
    .unwrap();
    (a.breaches, a.open)
}

#[test]
fn a_pull_request_over_the_size_limit_is_alerted_within_a_minute_of_its_webhook() {
    let sim = small_org_sim(1, 3, 3);
    let port = free_port();
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
        first_sync_and_hooks(&client, team(), |r| r.last_ping_at.is_some())
            .await
            .unwrap();
        client
    });

    // A bad agreement is refused with its field named, and nothing is saved.
    let bad = Agreements {
        timezone: "Mars/Olympus".into(),
        max_size: Some(400),
        ..Default::default()
    };
    match block_on(client.agreements_set(ctx(), team(), bad)).unwrap() {
        Err(RpcError::InvalidArgument { field, reason }) => {
            assert_eq!(field, "timezone");
            assert!(reason.contains("Mars/Olympus"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        block_on(client.agreements(ctx(), team())).unwrap().unwrap(),
        Agreements::default()
    );
    let wanted = Agreements {
        max_size: Some(400),
        first_review_within: Some(Span::Hours(24)),
        working_hours: Some(WorkingHours::parse("09:00-18:00").unwrap()),
        timezone: "Europe/Berlin".into(),
        ..Default::default()
    };
    let saved = block_on(client.agreements_set(ctx(), team(), wanted.clone()))
        .unwrap()
        .unwrap();
    assert_eq!(saved, wanted);

    // 30 commits of 15 lines each: 450 lines, 50 over.
    let (repo, author) = {
        let w = sim.world();
        let repo = w.repos.values().next().unwrap().name.clone();
        let author = w.account(*w.members.keys().next().unwrap()).login.clone();
        (repo, author)
    };
    let opened = Instant::now();
    let n = control(
        &sim,
        &format!("/_sim/repos/{repo}/pulls"),
        json!({"author": author, "title": "A big change", "commits": 30}),
    )["number"]
        .as_u64()
        .unwrap();
    let breach = wait_until(
        Duration::from_secs(60),
        "the size breach within a minute of the webhook",
        || {
            alerts(&client, false)
                .0
                .into_iter()
                .find(|b| b.number == n && b.kind == AgreementKind::MaxSize)
        },
    );
    let noticed = opened.elapsed();
    let fresh = block_on(client.alerts(
        ctx(),
        AlertsQuery {
            team: team(),
            include_resolved: false,
            since: None,
            limit: 1,
        },
    ))
    .unwrap()
    .unwrap();
    assert!(fresh.evaluated_at.is_some());
    assert_eq!(fresh.breaches.len(), 1, "the limit is honoured");
    assert!(fresh.open >= 1);
    assert!(noticed < Duration::from_secs(60), "{noticed:?}");
    assert!(breach.repo.ends_with(&format!("/{repo}")), "{breach:?}");
    assert_eq!(breach.title, "A big change");
    assert_eq!(breach.author, author);
    assert_eq!(breach.people[0], author);
    assert_eq!(breach.over, Over::Lines(50));
    assert_eq!(breach.limit, "at most 400 lines changed");
    assert!(
        breach.url.ends_with(&format!("/pull/{n}")),
        "{}",
        breach.url
    );
    assert!(breach.resolved_at.is_none());
    let status = block_on(client.status(ctx(), Some(team())))
        .unwrap()
        .unwrap();
    assert!(status[0].open_breaches >= 1);

    // Merged: the breach ends then, and says how; it stays in the history.
    control(
        &sim,
        &format!("/_sim/repos/{repo}/pulls/{n}/merge"),
        json!({}),
    );
    let resolved = wait_until(Duration::from_secs(60), "the breach resolved", || {
        alerts(&client, true)
            .0
            .into_iter()
            .find(|b| b.id == breach.id && b.resolved_at.is_some())
    });
    assert_eq!(resolved.resolution.as_deref(), Some("merged at 450 lines"));
    assert!(!alerts(&client, false).0.iter().any(|b| b.id == breach.id));

    // The breach is on disk: a restarted daemon still has it.
    drop(client);
    assert!(daemon.stop().success());
    let daemon = Daemon::start_with(&sandbox, 1, |cmd| {
        let addr = format!("127.0.0.1:{port}");
        use_simulator_with_webhooks(cmd, &sim, &addr, &addr);
    });
    let client = block_on(connect(&daemon.socket)).unwrap();
    assert!(alerts(&client, true).0.iter().any(|b| b.id == breach.id));
}
