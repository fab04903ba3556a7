//! The DORA measures against a history worked by hand: squash and merge merges, a failed then
//! fixed deployment, an incident linked by time and one by the commit its body names, a revert,
//! a hotfix, a workflow-run repository whose compare is not read yet, and a repository that
//! falls back to the merged pull-request proxy. Times are hours after a Monday 00:00 UTC.

use super::engine::{RepoInput, Window, evaluate, wanted_compares, week_start};
use super::rules::Rules;
use crate::store::{
    Compared, Deploy, DeploySource, DeployState, IssueRecord, PrState, PullRequest,
};
use std::collections::HashMap;
use tidemark_protocol::delivery::{DeliveryConfig, DoraGrouping, DoraReport, FailureKind, Signal};
use tidemark_protocol::metrics::dora::{Band, DAY, HOUR, WEEK};

/// Monday 2026-11-02 00:00 UTC.
const T0: i64 = 1_793_577_600;

fn h(hours: i64) -> i64 {
    T0 + hours * HOUR
}

/// A distinct commit id per `n` (distinct 7-character prefixes too).
fn sha(n: u64) -> String {
    format!("{:07x}{}", n * 0x111_1111, "e".repeat(33))
}

fn pr(number: u64, title: &str, first_commit: Option<i64>, merged: Option<i64>) -> PullRequest {
    PullRequest {
        team_id: 1,
        repo_id: 0,
        number,
        github_id: 5_000_000_000 + number,
        title: title.into(),
        state: if merged.is_some() {
            PrState::Merged
        } else {
            PrState::Open
        },
        is_draft: false,
        author_github_id: Some(1),
        author_login: Some("alice".into()),
        author_member_id: Some(1),
        created_at: first_commit.unwrap_or(h(0)) + HOUR,
        ready_at: None,
        updated_at: merged.unwrap_or(h(0)),
        merged_at: merged,
        closed_at: merged,
        additions: 1,
        deletions: 1,
        first_commit_at: first_commit,
        first_review_at: None,
        cycle_time: None,
        review_time: None,
        merged_by_login: None,
        merged_by_github_id: None,
        merge_commit_sha: merged.map(|_| sha(100 + number)),
        base_ref: Some("main".into()),
        head_ref: Some(format!("feature-{number}")),
        labels: Vec::new(),
    }
}

fn deploy(
    source: DeploySource,
    id: &str,
    name: &str,
    sha_n: u64,
    at: i64,
    state: DeployState,
) -> Deploy {
    Deploy {
        team_id: 1,
        repo_id: 0,
        source,
        id: id.into(),
        sha: sha(sha_n),
        name: name.into(),
        branch: Some("main".into()),
        created_at: at - 600,
        state,
        finished_at: Some(at),
        detail: match state {
            DeployState::Success => "status success".into(),
            _ => "status failure".into(),
        },
        updated_at: at,
    }
}

fn issue(number: u64, opened: i64, closed: Option<i64>, body_shas: Vec<String>) -> IssueRecord {
    IssueRecord {
        team_id: 1,
        repo_id: 0,
        number,
        title: format!("Incident {number}"),
        labels: vec!["incident".into()],
        created_at: opened,
        closed_at: closed,
        updated_at: closed.unwrap_or(opened),
        body_shas,
    }
}

fn compare(repo: &mut RepoInput, base: u64, head: u64, commits: &[u64]) {
    repo.compares.insert(
        (sha(base), sha(head)),
        Compared {
            team_id: 1,
            repo_id: repo.id,
            base: sha(base),
            head: sha(head),
            commits: commits.iter().map(|c| sha(*c)).collect(),
            truncated: false,
        },
    );
}

/// acme/api deploys by GitHub Deployments.
fn api() -> RepoInput {
    use DeploySource::Deployment as Dep;
    let mut repo = RepoInput {
        id: 1,
        name: "acme/api".into(),
        default_branch: Some("main".into()),
        ..RepoInput::default()
    };
    // #1 squash-merged (its own commits kept), #2 merged, #3 after the failed deployment.
    repo.prs = vec![
        pr(1, "Add cache", Some(h(0)), Some(h(10))),
        pr(2, "Add login", Some(h(2)), Some(h(20))),
        pr(3, "Fix typo", Some(h(30)), Some(h(31))),
        PullRequest {
            head_ref: Some("revert-1-feature-1".into()),
            ..pr(4, "Revert \"Add cache\"", Some(h(50)), Some(h(51)))
        },
        PullRequest {
            labels: vec!["hotfix".into()],
            ..pr(5, "Patch login", Some(h(52)), Some(h(53)))
        },
        pr(6, "Still open", Some(h(54)), None),
    ];
    repo.deploys = vec![
        deploy(Dep, "D1", "production", 1, h(5), DeployState::Success),
        deploy(Dep, "D2", "production", 2, h(24), DeployState::Success),
        deploy(Dep, "D3", "production", 3, h(32), DeployState::Failure),
        deploy(Dep, "S1", "staging", 9, h(33), DeployState::Success),
        deploy(Dep, "D4", "prod", 4, h(34), DeployState::Success),
        deploy(Dep, "D5", "production", 5, h(56), DeployState::Success),
        deploy(Dep, "D6", "production", 6, h(58), DeployState::Pending),
    ];
    compare(&mut repo, 1, 2, &[90, 101, 102]);
    compare(&mut repo, 2, 4, &[3, 103]);
    compare(&mut repo, 4, 5, &[104, 105]);
    let d2 = sha(2)[..8].to_string();
    repo.issues = vec![
        issue(10, h(40), Some(h(46)), Vec::new()),
        issue(13, h(60), Some(h(63)), vec![d2]),
        IssueRecord {
            labels: vec!["bug".into()],
            ..issue(14, h(41), None, Vec::new())
        },
    ];
    repo
}

/// acme/web has no deployment signal: merged pull requests stand in.
fn web() -> RepoInput {
    let mut repo = RepoInput {
        id: 2,
        name: "acme/web".into(),
        default_branch: Some("main".into()),
        ..RepoInput::default()
    };
    repo.prs = vec![
        pr(7, "Landing page", Some(h(100)), Some(h(110))),
        PullRequest {
            base_ref: Some("release-1".into()),
            ..pr(8, "Backport", Some(h(101)), Some(h(111)))
        },
        pr(9, "Draft", Some(h(102)), None),
    ];
    repo.issues = vec![issue(11, h(120), Some(h(121)), Vec::new())];
    repo
}

/// acme/cli deploys by a workflow; the compare between its two runs is not read yet.
fn cli() -> RepoInput {
    use DeploySource::WorkflowRun as Run;
    let mut repo = RepoInput {
        id: 3,
        name: "acme/cli".into(),
        default_branch: Some("main".into()),
        ..RepoInput::default()
    };
    repo.prs = vec![pr(12, "Add --json", None, Some(h(205)))];
    repo.prs[0].created_at = h(204);
    repo.deploys = vec![
        deploy(Run, "501", "Deploy", 21, h(200), DeployState::Success),
        deploy(Run, "502", "CI", 22, h(203), DeployState::Success),
        Deploy {
            branch: Some("feature".into()),
            ..deploy(Run, "503", "Deploy", 23, h(206), DeployState::Success)
        },
        deploy(Run, "504", "Deploy", 24, h(210), DeployState::Success),
    ];
    repo
}

fn rules() -> Rules {
    Rules::compile(&DeliveryConfig::default(), &HashMap::new()).unwrap()
}

fn report(by: DoraGrouping) -> DoraReport {
    let window = Window {
        since: T0,
        until: T0 + 2 * WEEK,
    };
    evaluate("platform", &rules(), &[api(), web(), cli()], window, by)
}

fn ids(r: &DoraReport, items: &[u32]) -> Vec<String> {
    items
        .iter()
        .map(|&i| r.deployments[i as usize].id.clone())
        .collect()
}

#[test]
fn each_repository_deploys_by_its_best_signal() {
    let r = report(DoraGrouping::Team);
    let signals: Vec<(&str, Signal)> = r
        .repos
        .iter()
        .map(|s| (s.repo.as_str(), s.signal))
        .collect();
    assert_eq!(
        signals,
        [
            ("acme/api", Signal::Deployments),
            ("acme/web", Signal::MergedPrs),
            ("acme/cli", Signal::WorkflowRuns)
        ]
    );
    assert!(r.repos[1].rule.contains("proxy"), "{}", r.repos[1].rule);
}

#[test]
fn the_team_figures_equal_the_hand_worked_ones() {
    let r = report(DoraGrouping::Team);
    assert_eq!(r.groups.len(), 1);
    let g = &r.groups[0];
    // Successful production deployments: api D1 D2 D4 D5, web #7, cli 501 504 (not the staging
    // one, not the pending D6, not the CI run or the run on a feature branch).
    assert_eq!(
        ids(&r, &g.deployed),
        ["D1", "D2", "D4", "D5", "#7", "501", "504"]
    );
    assert_eq!(g.per_week_milli, 3_500);
    assert_eq!(g.frequency_band, Some(Band::High));

    // Lead times: #1 24 h (from its first commit, squash or not), #2 22 h, #3 4 h, #4 6 h,
    // #5 4 h, #7 10 h, #12 6 h (from its opening: no commits known).
    let mut leads: Vec<(u64, i64)> = g
        .changes
        .iter()
        .map(|&i| {
            (
                r.changes[i as usize].number,
                r.changes[i as usize].lead_time / HOUR,
            )
        })
        .collect();
    leads.sort_unstable();
    assert_eq!(
        leads,
        [(1, 24), (2, 22), (3, 4), (4, 6), (5, 4), (7, 10), (12, 6)]
    );
    assert_eq!(
        (g.lead_time.count, g.lead_time.p50, g.lead_time.p90),
        (7, Some(6 * HOUR), Some(24 * HOUR))
    );
    assert_eq!(g.lead_time_band, Some(Band::Elite));

    // Finished: 5 api (D1..D5 but the staging one) + #7 + 2 runs = 8. Failed: D2 (reverted,
    // and named by incident #13), D3 (its status), D4 (incident #10), #7 (incident #11).
    assert_eq!(g.finished.len(), 8);
    assert_eq!(ids(&r, &g.failed), ["D2", "D3", "D4", "#7"]);
    assert_eq!(g.fail_rate_band, Some(Band::Low), "4 of 8 is nearest 40%");

    // Recovery: D3 2 h (to D4), #10 6 h, revert 6 h (opened at 51 h, shipped by D5 at 56 h:
    // 5 h... see below), #13 3 h, #11 1 h.
    let mut rec: Vec<(FailureKind, Option<u64>, Option<i64>)> = g
        .failures
        .iter()
        .map(|&i| {
            let f = &r.failures[i as usize];
            (
                f.kind,
                f.number,
                f.recovered_at.map(|t| (t - f.began_at) / HOUR),
            )
        })
        .collect();
    rec.sort_by_key(|x| (x.1, x.2));
    assert_eq!(
        rec,
        [
            (FailureKind::FailedStatus, None, Some(2)),
            (FailureKind::Revert, Some(4), Some(5)),
            (FailureKind::Incident, Some(10), Some(6)),
            (FailureKind::Incident, Some(11), Some(1)),
            (FailureKind::Incident, Some(13), Some(3)),
        ]
    );
    // Sorted 1 2 3 5 6: p50 is the 3rd, p90 the 5th.
    assert_eq!(
        (g.recovery.count, g.recovery.p50, g.recovery.p90),
        (5, Some(3 * HOUR), Some(6 * HOUR))
    );
    assert_eq!(g.recovery_band, Some(Band::High));

    // Rework: D5 ships the revert #4 and the hotfix #5.
    assert_eq!(ids(&r, &g.rework), ["D5"]);
    let d5 = &r.deployments[g.rework[0] as usize];
    assert_eq!(
        d5.rework_by,
        ["ships #4, a revert of #1", "ships #5, labelled `hotfix`"]
    );
}

#[test]
fn explain_names_the_rule_behind_each_item() {
    let r = report(DoraGrouping::Team);
    let change = |n: u64| r.changes.iter().find(|c| c.number == n).unwrap();
    assert!(
        change(1).rule.starts_with(&format!(
            "merge commit {} is in GitHub's compare {}...{}",
            &sha(101)[..7],
            &sha(1)[..7],
            &sha(2)[..7]
        )),
        "{}",
        change(1).rule
    );
    assert!(change(1).rule.ends_with("from its first commit"));
    assert!(
        change(12)
            .rule
            .contains("compare of their commits is not read yet"),
        "{}",
        change(12).rule
    );
    assert!(
        change(12)
            .rule
            .ends_with("from its opening (its commits are not known)")
    );
    assert!(change(7).rule.contains("proxy"));
    let dep = |id: &str| r.deployments.iter().find(|d| d.id == id).unwrap();
    assert!(
        dep("D1").rule.contains("first deployment seen"),
        "{}",
        dep("D1").rule
    );
    assert!(
        dep("D4")
            .rule
            .starts_with("GitHub Deployment to `prod` (matches `^prod(uction)?$`)")
    );
    assert_eq!(dep("D2").shipped, [1, 2]);
    assert_eq!(
        dep("D2").failed_by,
        [
            format!(
                "incident #13 (label `incident`): its body names {}",
                &sha(2)[..7]
            ),
            "#4 reverts #1 (found by branch `revert-1-feature-1`)".to_string()
        ]
    );
    assert_eq!(
        dep("D4").failed_by,
        ["incident #10 (label `incident`): the last successful deployment before it opened"]
    );
    assert_eq!(dep("D3").failed_by, ["its own status: status failure"]);
    // The bug-labelled issue #14 is no incident; nothing points at it.
    assert!(r.failures.iter().all(|f| f.number != Some(14)));
    assert!(r.edition.contains("2024"));
}

#[test]
fn weeks_split_the_same_items_and_empty_weeks_show() {
    let r = report(DoraGrouping::Week);
    let keys: Vec<&str> = r.groups.iter().map(|g| g.key.as_str()).collect();
    assert_eq!(keys, ["2026-W45", "2026-W46"]);
    assert_eq!(
        ids(&r, &r.groups[0].deployed),
        ["D1", "D2", "D4", "D5", "#7"]
    );
    assert_eq!(ids(&r, &r.groups[1].deployed), ["501", "504"]);
    assert_eq!(r.groups[0].since, T0);
    assert_eq!(r.groups[1].until, T0 + 2 * WEEK);
    let by_repo = report(DoraGrouping::Repo);
    let api_group = &by_repo.groups[0];
    assert_eq!(api_group.key, "acme/api");
    assert_eq!(
        (
            api_group.finished.len(),
            api_group.failed.len(),
            api_group.rework.len()
        ),
        (5, 3, 1)
    );
    assert_eq!(api_group.fail_rate_band, Some(Band::Low), "60%");
    // A window of no deployments at all: nothing counted, low frequency, no other bands.
    let empty = evaluate(
        "platform",
        &rules(),
        &[api()],
        Window {
            since: T0 + 10 * WEEK,
            until: T0 + 11 * WEEK,
        },
        DoraGrouping::Team,
    );
    let g = &empty.groups[0];
    assert!(g.deployed.is_empty() && g.changes.is_empty() && g.failures.is_empty());
    assert_eq!(
        (
            g.frequency_band,
            g.lead_time_band,
            g.fail_rate_band,
            g.recovery_band
        ),
        (Some(Band::Low), None, None, None)
    );
}

#[test]
fn the_teams_choice_overrides_the_best_signal_and_a_preview_changes_nothing_stored() {
    let config = DeliveryConfig {
        signals: vec![("acme/api".into(), Signal::MergedPrs)],
        production_pattern: "^staging$".into(),
        ..DeliveryConfig::default()
    };
    let names = HashMap::from([("acme/api".to_string(), 1u64)]);
    let rules = Rules::compile(&config, &names).unwrap();
    let window = Window {
        since: T0,
        until: T0 + WEEK,
    };
    let r = evaluate("platform", &rules, &[api()], window, DoraGrouping::Team);
    assert_eq!(r.repos[0].signal, Signal::MergedPrs);
    assert_eq!(r.repos[0].rule, "the team's choice");
    // Merged PRs #1..#5 stand in for deployments.
    assert_eq!(
        ids(&r, &r.groups[0].deployed),
        ["#1", "#2", "#3", "#4", "#5"]
    );
    assert!(wanted_compares(&rules, &api()).is_empty());
    // With the defaults, the compares wanted are between consecutive successful deployments.
    let wanted = wanted_compares(&self::rules(), &api());
    assert_eq!(
        wanted,
        [(sha(1), sha(2)), (sha(2), sha(4)), (sha(4), sha(5))]
    );
}

#[test]
fn weeks_start_on_monday_utc() {
    assert_eq!(week_start(T0), T0);
    assert_eq!(week_start(T0 + WEEK - 1), T0);
    assert_eq!(week_start(T0 - 1), T0 - WEEK);
    assert_eq!(week_start(T0 + 3 * DAY + 5), T0);
}
