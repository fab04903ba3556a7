//! The endpoint over real HTTP, its answer read by an OpenMetrics parser: the families, the
//! labels, the figures of a seeded team, and what it refuses.

use super::openmetrics::{CONTENT, start};
use crate::context::testing::TwoTeams;
use crate::store::{Compared, Deploy, DeploySource, DeployState, PrState, PullRequest};
use openmetrics_parser::{OpenMetricsValue, openmetrics::parse_openmetrics};
use std::collections::BTreeMap;

const REPO: u64 = 1_000;

fn deploy(team: u64, id: &str, sha: &str, at: i64) -> Deploy {
    Deploy {
        team_id: team,
        repo_id: REPO,
        source: DeploySource::Deployment,
        id: id.into(),
        sha: sha.into(),
        name: "production".into(),
        branch: None,
        created_at: at - 60,
        state: DeployState::Success,
        finished_at: Some(at),
        detail: "status success".into(),
        updated_at: at,
    }
}

/// Two deployments a day apart; the second ships a pull request whose first commit was 3 h
/// before it.
fn seed(fx: &TwoTeams, now: i64) {
    let store = &fx.ctx.store;
    let (d1, d2) = (now - 2 * 86_400, now - 86_400);
    store
        .put_deploys(
            fx.a,
            &[
                deploy(fx.a, "DE_1", "aaa1111", d1),
                deploy(fx.a, "DE_2", "bbb2222", d2),
            ],
        )
        .unwrap();
    store
        .put_compare(&Compared {
            team_id: fx.a,
            repo_id: REPO,
            base: "aaa1111".into(),
            head: "bbb2222".into(),
            commits: vec!["ccc3333".into()],
            truncated: false,
        })
        .unwrap();
    let mut pr = store.pull_requests(fx.a, Some(REPO)).unwrap().remove(0);
    pr = PullRequest {
        number: 2,
        state: PrState::Merged,
        created_at: d2 - 2 * 3_600,
        merged_at: Some(d2 - 3_600),
        merge_commit_sha: Some("ccc3333".into()),
        ..pr
    };
    // The first commit comes from the pull request's own commits.
    let commit = crate::store::Commit {
        team_id: fx.a,
        repo_id: REPO,
        pr_number: 2,
        sha: "ddd4444".into(),
        author_github_id: None,
        author_email: None,
        author_member_id: None,
        authored_at: Some(d2 - 3 * 3_600),
        committed_at: Some(d2 - 3 * 3_600),
    };
    store.put_pull_request(pr, vec![], vec![commit]).unwrap();
}

type Samples = BTreeMap<(String, Vec<(String, String)>), f64>;

fn samples(text: &str) -> Samples {
    let parsed = parse_openmetrics(text).expect("the answer parses as OpenMetrics");
    let mut out = Samples::new();
    for (name, family) in parsed.families {
        let label_names = family.get_label_names().to_vec();
        for s in family.iter_samples() {
            let mut labels: Vec<(String, String)> = label_names
                .iter()
                .cloned()
                .zip(
                    s.get_labelset()
                        .expect("labels")
                        .iter()
                        .map(|(_, v)| v.clone()),
                )
                .filter(|(_, v)| !v.is_empty())
                .collect();
            labels.sort();
            let v = match &s.value {
                OpenMetricsValue::Gauge(n) | OpenMetricsValue::Unknown(n) => n.as_f64(),
                OpenMetricsValue::Counter(c) => c.value.as_f64(),
                other => panic!("{name}: unexpected {other:?}"),
            };
            out.insert((name.clone(), labels), v);
        }
    }
    out
}

fn team(name: &str) -> Vec<(String, String)> {
    vec![("team".into(), name.into())]
}

fn repo(team_name: &str, repo: &str) -> Vec<(String, String)> {
    vec![
        ("repo".into(), repo.into()),
        ("team".into(), team_name.into()),
    ]
}

#[tokio::test]
async fn metrics_parse_as_openmetrics_and_carry_the_teams_figures() {
    let fx = TwoTeams::new();
    let now = crate::store::now();
    seed(&fx, now);
    let syncs = std::sync::Arc::new(crate::sync::Syncs::new(fx.ctx.clone()));
    let addr = start(&fx.ctx, syncs, "127.0.0.1:0".parse().unwrap()).unwrap();
    let http = reqwest::Client::new();
    let resp = http
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], CONTENT);
    let text = resp.text().await.unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    let got = samples(&text);
    let get = |name: &str, labels: Vec<(String, String)>| {
        *got.get(&(name.to_string(), labels.clone()))
            .unwrap_or_else(|| panic!("no {name} {labels:?} in\n{text}"))
    };
    assert_eq!(get("tidemark_dora_deployments", team("alpha")), 2.0);
    assert_eq!(
        get(
            "tidemark_dora_deployments",
            repo("alpha", "alpha-org/alpha-repo")
        ),
        2.0
    );
    assert_eq!(
        get("tidemark_dora_change_lead_time_p50_seconds", team("alpha")),
        3.0 * 3_600.0
    );
    assert_eq!(get("tidemark_dora_change_fail_ratio", team("alpha")), 0.0);
    assert_eq!(get("tidemark_dora_deployments", team("bravo")), 0.0);
    assert_eq!(get("tidemark_sync_running", team("bravo")), 0.0);
    assert_eq!(get("tidemark_webhook_backlog", team("alpha")), 0.0);
    assert_eq!(
        get(
            "tidemark_webhook_deliveries_applied",
            repo("alpha", "alpha-org/alpha-repo")
        ),
        0.0
    );
    // No recovery without a failure: the series is absent, not a made-up zero.
    assert!(
        !got.keys()
            .any(|(n, _)| n == "tidemark_dora_recovery_time_p50_seconds")
    );

    let other = http
        .get(format!("http://{addr}/other"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    let post = http
        .post(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 405);
    assert_eq!(post.headers()["allow"], "GET, HEAD");
}
