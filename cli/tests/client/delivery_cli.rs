//! `tidemark dora`, `tidemark delivery config` and `tidemark export` against the real daemon's
//! service over a store seeded with a small, hand-worked delivery history (no GitHub needed:
//! the records are what a sync would have stored).

use crate::support::cli::{socket_in, stderr, stdout, tidemark};
use crate::support::real_daemon::RealDaemon;
use tidemark_daemon::store::{
    Commit, Compared, Deploy, DeploySource, DeployState, IssueRecord, PrState, PullRequest, Store,
};
use tidemark_protocol::delivery::{DoraReport, FailureKind};

const REPO: u64 = 7_000_000_001;
const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;

fn deploy(team: u64, id: &str, sha: &str, at: i64, state: DeployState) -> Deploy {
    Deploy {
        team_id: team,
        repo_id: REPO,
        source: DeploySource::Deployment,
        id: id.into(),
        sha: sha.into(),
        name: "production".into(),
        branch: None,
        created_at: at - 60,
        state,
        finished_at: Some(at),
        detail: if state == DeployState::Success {
            "status success".into()
        } else {
            "status failure".into()
        },
        updated_at: at,
    }
}

/// D1 (5 days ago) ok; D2 (3 days ago) failed; D3 (2 days ago) ok, shipping #1 (first commit 6
/// days ago, a formula for a title); incident #5 opened a day ago, closed 2 hours later.
fn seed(store: &Store, team: u64, now: i64) {
    store.track_repo(team, REPO, "acme/api").unwrap();
    store
        .put_deploys(
            team,
            &[
                deploy(team, "DE_1", "a1a1a1a", now - 5 * DAY, DeployState::Success),
                deploy(team, "DE_2", "a2a2a2a", now - 3 * DAY, DeployState::Failure),
                deploy(team, "DE_3", "a3a3a3a", now - 2 * DAY, DeployState::Success),
            ],
        )
        .unwrap();
    store
        .put_compare(&Compared {
            team_id: team,
            repo_id: REPO,
            base: "a1a1a1a".into(),
            head: "a3a3a3a".into(),
            commits: vec!["b2b2b2b".into(), "c1c1c1c".into()],
            truncated: false,
        })
        .unwrap();
    let pr = PullRequest {
        team_id: team,
        repo_id: REPO,
        number: 1,
        github_id: 9_000_000_001,
        title: "=HYPERLINK(\"http://evil\")".into(),
        state: PrState::Merged,
        is_draft: false,
        author_github_id: Some(5),
        author_login: Some("alice".into()),
        author_member_id: None,
        created_at: now - 5 * DAY - HOUR,
        ready_at: None,
        updated_at: now - 4 * DAY,
        merged_at: Some(now - 4 * DAY),
        closed_at: Some(now - 4 * DAY),
        additions: 3,
        deletions: 1,
        first_commit_at: None,
        first_review_at: None,
        cycle_time: None,
        review_time: None,
        merged_by_login: None,
        merged_by_github_id: None,
        merge_commit_sha: Some("c1c1c1c".into()),
        base_ref: Some("main".into()),
        head_ref: Some("cache".into()),
        labels: Vec::new(),
    };
    let commit = Commit {
        team_id: team,
        repo_id: REPO,
        pr_number: 1,
        sha: "f0f0f0f".into(),
        author_github_id: Some(5),
        author_email: None,
        author_member_id: None,
        authored_at: Some(now - 6 * DAY),
        committed_at: Some(now - 6 * DAY),
    };
    store.put_pull_request(pr, vec![], vec![commit]).unwrap();
    store
        .put_issues(
            team,
            &[IssueRecord {
                team_id: team,
                repo_id: REPO,
                number: 5,
                title: "Checkout down".into(),
                labels: vec!["incident".into()],
                created_at: now - DAY,
                closed_at: Some(now - DAY + 2 * HOUR),
                updated_at: now - DAY + 2 * HOUR,
                body_shas: Vec::new(),
            }],
        )
        .unwrap();
}

async fn seeded() -> (tempfile::TempDir, std::path::PathBuf, RealDaemon) {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let daemon = RealDaemon::listen(&socket);
    let out = tidemark(&socket, &["team", "create", "platform"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let team = daemon.store().team_by_name("platform").unwrap().unwrap().id;
    daemon.connect_github(team, "acme");
    seed(daemon.store(), team, tidemark_daemon::store::now());
    (dir, socket, daemon)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dora_counts_the_hand_worked_history_and_explains_it() {
    let (_dir, socket, _daemon) = seeded().await;
    let out = tidemark(&socket, &["dora", "--team", "platform", "--json"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let report: DoraReport = serde_json::from_slice(&out.stdout).unwrap();
    let g = &report.groups[0];
    let ids = |items: &[u32]| -> Vec<String> {
        items
            .iter()
            .map(|&i| report.deployments[i as usize].id.clone())
            .collect()
    };
    assert_eq!(ids(&g.deployed), ["DE_1", "DE_3"]);
    assert_eq!(ids(&g.finished), ["DE_1", "DE_2", "DE_3"]);
    assert_eq!(
        ids(&g.failed),
        ["DE_2", "DE_3"],
        "its status; the incident after it"
    );
    assert_eq!(
        g.lead_time.p50,
        Some(4 * DAY),
        "#1: first commit 6 days ago, shipped 2 days ago"
    );
    let mut recovery: Vec<(FailureKind, Option<i64>)> = report
        .failures
        .iter()
        .map(|f| (f.kind, f.recovered_at.map(|r| r - f.began_at)))
        .collect();
    recovery.sort_by_key(|r| r.1);
    assert_eq!(
        recovery,
        [
            (FailureKind::Incident, Some(2 * HOUR)),
            (FailureKind::FailedStatus, Some(DAY))
        ]
    );

    let out = tidemark(&socket, &["dora", "--team", "platform", "--explain"]).await;
    let text = stdout(&out);
    assert!(
        text.contains("bands: DORA, Accelerate State of DevOps Report 2024"),
        "{text}"
    );
    assert!(
        text.contains("acme/api: deployments, the best signal found"),
        "{text}"
    );
    assert!(
        text.contains(
            "merge commit c1c1c1c is in GitHub's compare a1a1a1a...a3a3a3a; from its first commit"
        ),
        "{text}"
    );
    assert!(
        text.contains("FAILED: incident #5 (label `incident`): the last successful deployment before it opened"),
        "{text}"
    );
    assert!(
        text.contains("change fail rate                 66.6% (2 of 3)"),
        "{text}"
    );
    // Under each figure, exactly the items it counts: one line each.
    let mut under: Vec<(String, usize)> = Vec::new();
    for line in text.lines().skip_while(|l| *l != "platform").skip(1) {
        if let Some(item) = line.strip_prefix("      ") {
            assert!(!item.is_empty());
            under.last_mut().expect("an item under a figure").1 += 1;
        } else {
            let label = line.trim_start().split("  ").next().unwrap().to_string();
            under.push((label, 0));
        }
    }
    let counts: Vec<(&str, usize)> = under.iter().map(|(l, n)| (l.as_str(), *n)).collect();
    assert_eq!(
        counts,
        [
            ("deployment frequency", 2),
            ("change lead time", 1),
            ("change fail rate", 3),
            ("failed deployment recovery time", 2),
            ("deployment rework rate", 0)
        ],
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_rules_are_previewed_then_saved_and_bad_ones_refused() {
    let (_dir, socket, daemon) = seeded().await;
    let team = daemon.store().team_by_name("platform").unwrap().unwrap().id;
    // Another incident label: #5 no longer counts. Shown, not saved.
    let out = tidemark(
        &socket,
        &[
            "delivery",
            "config",
            "set",
            "--team",
            "platform",
            "--incident-label",
            "sev1",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("change fail rate                 66.6% (2 of 3) → 33.3% (1 of 3)"),
        "{text}"
    );
    assert!(text.contains("Not saved: run again with --yes"), "{text}");
    assert_eq!(daemon.store().delivery_settings(team).unwrap(), None);

    let out = tidemark(
        &socket,
        &[
            "delivery",
            "config",
            "set",
            "--team",
            "platform",
            "--incident-label",
            "sev1",
            "--yes",
            "--json",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let saved: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(saved["saved"], true);
    assert_eq!(saved["config"]["incident_label"], "sev1");
    let stored = daemon.store().delivery_settings(team).unwrap().unwrap();
    assert_eq!(stored.incident_label, "sev1");
    let out = tidemark(
        &socket,
        &["delivery", "config", "show", "--team", "platform"],
    )
    .await;
    assert!(
        stdout(&out).contains("incident label      sev1"),
        "{}",
        stdout(&out)
    );

    let out = tidemark(
        &socket,
        &[
            "delivery",
            "config",
            "set",
            "--team",
            "platform",
            "--production-pattern",
            "(prod",
            "--yes",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("production pattern: `(prod` is not a usable pattern"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        daemon.store().delivery_settings(team).unwrap().unwrap(),
        stored,
        "unchanged"
    );
    let out = tidemark(
        &socket,
        &[
            "delivery",
            "config",
            "set",
            "--team",
            "platform",
            "--signal",
            "acme/web=tags",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("acme/web"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_writes_rows_a_spreadsheet_reads_without_running_formulas() {
    let (_dir, socket, _daemon) = seeded().await;
    let out = tidemark(
        &socket,
        &[
            "export",
            "--team",
            "platform",
            "--what",
            "deployments",
            "--format",
            "csv",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let headers = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let col = |row: &csv::StringRecord, name: &str| {
        row[headers.iter().position(|h| h == name).unwrap()].to_string()
    };
    let ids: Vec<String> = rows.iter().map(|r| col(r, "id")).collect();
    assert_eq!(ids, ["DE_1", "DE_2", "DE_3"]);
    assert_eq!(col(&rows[2], "shipped"), "#1");
    assert_eq!(col(&rows[1], "failed"), "true");

    let out = tidemark(&socket, &["export", "--team", "platform", "--what", "prs"]).await;
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let row = reader.records().next().unwrap().unwrap();
    assert_eq!(
        &row[2], "'=HYPERLINK(\"http://evil\")",
        "a formula is defused"
    );

    let out = tidemark(
        &socket,
        &[
            "export",
            "--team",
            "platform",
            "--what",
            "incidents",
            "--format",
            "json",
        ],
    )
    .await;
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.len(), 2);
    let out = tidemark(
        &socket,
        &[
            "export", "--team", "platform", "--what", "metrics", "--format", "json",
        ],
    )
    .await;
    let weeks: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        weeks.len() >= 12,
        "every week of the window, empty ones too"
    );
    let deployments: u64 = weeks
        .iter()
        .map(|w| w["deployments"].as_u64().unwrap())
        .sum();
    assert_eq!(deployments, 2);
}
