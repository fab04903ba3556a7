//! `tidemark agreements`, `alerts` and `slack` against the real daemon's service over a store
//! seeded with a pull request over the size limit (no GitHub: the records are what a sync
//! would have stored; the check the daemon runs live is called once here).

use crate::support::cli::{socket_in, stderr, stdout, tidemark};
use crate::support::real_daemon::RealDaemon;
use tidemark_daemon::store::{PrState, PullRequest};
use tidemark_protocol::agreements::{AdherenceRow, AgreementKind, Agreements, Alerts, Span};

const REPO: u64 = 7_100_000_001;

fn big_pr(team: u64, now: i64) -> PullRequest {
    PullRequest {
        team_id: team,
        repo_id: REPO,
        number: 1,
        github_id: 9_100_000_001,
        title: "Rewrite the billing engine".into(),
        state: PrState::Open,
        is_draft: false,
        author_github_id: Some(5),
        author_login: Some("ada".into()),
        author_member_id: None,
        created_at: now - 3_600,
        ready_at: Some(now - 3_600),
        updated_at: now - 3_600,
        merged_at: None,
        closed_at: None,
        additions: 430,
        deletions: 20,
        first_commit_at: None,
        first_review_at: None,
        cycle_time: None,
        review_time: None,
        merged_by_login: None,
        merged_by_github_id: None,
        merge_commit_sha: None,
        base_ref: None,
        head_ref: None,
        labels: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agreements_set_and_show_then_alerts_list_the_breach_the_check_found() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let daemon = RealDaemon::listen(&socket);
    let out = tidemark(&socket, &["team", "create", "platform"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let team = daemon.store().team_by_name("platform").unwrap().unwrap().id;
    daemon.connect_github(team, "acme");
    let store = daemon.store();
    store.track_repo(team, REPO, "acme/api").unwrap();
    let now = tidemark_daemon::store::now();
    store
        .put_pull_request(big_pr(team, now), vec![], vec![])
        .unwrap();

    // A zone the machine does not know is refused by the daemon, naming the field.
    let out = tidemark(
        &socket,
        &[
            "agreements",
            "set",
            "--team",
            "platform",
            "--max-size",
            "400",
            "--timezone",
            "Mars/Olympus",
        ],
    )
    .await;
    assert!(!out.status.success());
    assert!(stderr(&out).contains("Mars/Olympus"), "{}", stderr(&out));
    assert!(store.agreement_settings(team).unwrap().is_none());

    let out = tidemark(
        &socket,
        &[
            "agreements",
            "set",
            "--team",
            "platform",
            "--max-size",
            "400",
            "--first-review-within",
            "24h",
            "--working-hours",
            "09:00-18:00",
            "--timezone",
            "Europe/Berlin",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let out = tidemark(
        &socket,
        &["agreements", "show", "--team", "platform", "--json"],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let shown: Agreements = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown.max_size, Some(400));
    assert_eq!(shown.first_review_within, Some(Span::Hours(24)));
    assert_eq!(shown.timezone, "Europe/Berlin");
    assert_eq!(shown.working_hours.unwrap().to_string(), "09:00-18:00");

    // What the daemon's evaluator does after a webhook: one breach, 50 lines over.
    let o = tidemark_daemon::agreements::live::evaluate_team(store, team, now).unwrap();
    assert_eq!(o.opened.len(), 1);
    let out = tidemark(&socket, &["alerts", "--team", "platform"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("1 open breach"), "{text}");
    assert!(text.contains("Slack: not connected"), "{text}");
    assert!(text.contains("max-size"), "{text}");
    assert!(text.contains("acme/api#1"), "{text}");
    assert!(text.contains("50 lines over"), "{text}");
    let out = tidemark(&socket, &["alerts", "--team", "platform", "--json"]).await;
    let alerts: Alerts = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(alerts.open, 1);
    assert_eq!(alerts.breaches[0].kind, AgreementKind::MaxSize);
    assert_eq!(alerts.breaches[0].author, "ada");
    assert!(!alerts.slack.connected);

    let out = tidemark(
        &socket,
        &["agreements", "adherence", "--team", "platform", "--json"],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let rows: Vec<AdherenceRow> = serde_json::from_slice(&out.stdout).unwrap();
    // Open and unreviewed within its clock: only the size is measured yet.
    let size: Vec<_> = rows
        .iter()
        .filter(|r| r.kind == AgreementKind::MaxSize)
        .collect();
    assert_eq!((size.len(), size[0].applied, size[0].within), (1, 1, 0));

    // Slack without a Slack app: a clear refusal that says what to set.
    let out = tidemark(
        &socket,
        &[
            "connect",
            "slack",
            "--team",
            "platform",
            "--channel",
            "eng",
            "--no-browser",
        ],
    )
    .await;
    assert!(!out.status.success());
    assert!(stderr(&out).contains("SLACK_CLIENT_ID"), "{}", stderr(&out));
}
