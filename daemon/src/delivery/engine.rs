//! The DORA measures of a team, computed from its stored records: which signal each repository
//! deploys by, what each deployment shipped, which failed and why, and the five measures per
//! group. Pure: the same records and rules give the same report, and every number in it points
//! at the items it counts and the rule that classified each.

use super::rules::Rules;
use crate::store::{
    Compared, Deploy, DeploySource, DeployState, IssueRecord, PrState, PullRequest,
};
use std::collections::{BTreeMap, HashMap};
use tidemark_protocol::delivery::{
    ChangeItem, DeployOutcome, DeploymentItem, DoraGroup, DoraGrouping, DoraReport, Durations,
    FailureItem, FailureKind, RepoSignal, Signal,
};
use tidemark_protocol::metrics::dora;
use tidemark_protocol::metrics::{distribution, iso_week};

/// One tracked repository's records.
#[derive(Debug, Clone, Default)]
pub struct RepoInput {
    pub id: u64,
    /// `owner/repo`.
    pub name: String,
    pub default_branch: Option<String>,
    pub deploys: Vec<Deploy>,
    pub prs: Vec<PullRequest>,
    pub issues: Vec<IssueRecord>,
    /// GitHub's compares, by (base, head).
    pub compares: HashMap<(String, String), Compared>,
}

#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub since: i64,
    pub until: i64,
}

impl Window {
    fn holds(self, t: i64) -> bool {
        self.since <= t && t < self.until
    }
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(7)]
}

/// A deployment while it is being classified.
#[derive(Debug, Clone)]
struct Dep {
    signal: Signal,
    id: String,
    sha: String,
    name: String,
    at: i64,
    success: bool,
    detail: String,
    rule: String,
    /// Indices into the repository's pull requests.
    shipped: Vec<(usize, String)>,
    failed_by: Vec<String>,
    rework_by: Vec<String>,
}

/// Which signal a repository deploys by, and why.
pub fn choose_signal(rules: &Rules, repo: &RepoInput) -> (Signal, String) {
    if let Some(s) = rules.signals.get(&repo.id) {
        return (*s, "the team's choice".into());
    }
    for signal in [
        Signal::Deployments,
        Signal::WorkflowRuns,
        Signal::Releases,
        Signal::Tags,
    ] {
        if !candidates(rules, repo, signal).is_empty() {
            return (signal, format!("the best signal found: {}", signal.name()));
        }
    }
    (
        Signal::MergedPrs,
        "no deployments, workflow runs, releases or tags found: merged pull requests stand in (a proxy)".into(),
    )
}

fn on_default_branch(repo: &RepoInput, branch: Option<&str>) -> bool {
    match (repo.default_branch.as_deref(), branch) {
        (Some(default), Some(b)) => default == b,
        // The default branch not known yet, or a PR record from before it was read.
        _ => true,
    }
}

/// The repository's finished deployments by one signal, oldest first.
fn candidates(rules: &Rules, repo: &RepoInput, signal: Signal) -> Vec<Dep> {
    let mut out: Vec<Dep> = Vec::new();
    let source = match signal {
        Signal::Deployments => DeploySource::Deployment,
        Signal::WorkflowRuns => DeploySource::WorkflowRun,
        Signal::Releases => DeploySource::Release,
        Signal::Tags => DeploySource::Tag,
        Signal::MergedPrs => {
            for pr in &repo.prs {
                let Some(merged_at) = pr.merged_at.filter(|_| pr.state == PrState::Merged) else {
                    continue;
                };
                if !on_default_branch(repo, pr.base_ref.as_deref()) {
                    continue;
                }
                let branch = pr.base_ref.as_deref().unwrap_or("the default branch");
                out.push(Dep {
                    signal,
                    id: format!("#{}", pr.number),
                    sha: pr.merge_commit_sha.clone().unwrap_or_default(),
                    name: pr.title.clone(),
                    at: merged_at,
                    success: true,
                    detail: "merged".into(),
                    rule: format!(
                        "pull request #{} merged into {branch}: a proxy, not a deployment",
                        pr.number
                    ),
                    shipped: Vec::new(),
                    failed_by: Vec::new(),
                    rework_by: Vec::new(),
                });
            }
            out.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
            return out;
        }
    };
    for d in repo.deploys.iter().filter(|d| d.source == source) {
        let success = match d.state {
            DeployState::Success => true,
            DeployState::Failure | DeployState::Error => false,
            DeployState::Pending | DeployState::Ignored => continue,
        };
        let Some(at) = d.finished_at else { continue };
        let rule = match signal {
            Signal::Deployments => {
                if !rules.production.is_match(&d.name) {
                    continue;
                }
                format!(
                    "GitHub Deployment to `{}` (matches `{}`), {}",
                    d.name,
                    rules.production.as_str(),
                    d.detail
                )
            }
            Signal::WorkflowRuns => {
                if !rules.workflow.is_match(&d.name)
                    || repo.default_branch.is_none()
                    || !on_default_branch(repo, d.branch.as_deref())
                {
                    continue;
                }
                format!(
                    "workflow `{}` (matches `{}`) run on {}, {}",
                    d.name,
                    rules.workflow.as_str(),
                    d.branch.as_deref().unwrap_or("?"),
                    d.detail
                )
            }
            Signal::Releases => format!("release `{}`, {}", d.name, d.detail),
            Signal::Tags => {
                if !rules.tag.is_match(&d.name) {
                    continue;
                }
                format!("tag `{}` (matches `{}`)", d.name, rules.tag.as_str())
            }
            Signal::MergedPrs => unreachable!("handled above"),
        };
        out.push(Dep {
            signal,
            id: d.id.clone(),
            sha: d.sha.clone(),
            name: d.name.clone(),
            at,
            success,
            detail: d.detail.clone(),
            rule,
            shipped: Vec::new(),
            failed_by: Vec::new(),
            rework_by: Vec::new(),
        });
    }
    out.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
    out
}

/// The compares the report wants (base, head): each successful deployment's commit against
/// the previous successful one's, by the signal the repository deploys by.
pub fn wanted_compares(rules: &Rules, repo: &RepoInput) -> Vec<(String, String)> {
    wanted_compares_after(rules, repo, i64::MIN)
}

/// [`wanted_compares`] of the deployments that finished at or after `from`.
pub fn wanted_compares_after(rules: &Rules, repo: &RepoInput, from: i64) -> Vec<(String, String)> {
    let (signal, _) = choose_signal(rules, repo);
    if signal.is_proxy() {
        return Vec::new();
    }
    let deps = candidates(rules, repo, signal);
    let successes: Vec<&Dep> = deps.iter().filter(|d| d.success).collect();
    successes
        .windows(2)
        .filter(|w| w[0].sha != w[1].sha && w[1].at >= from)
        .map(|w| (w[0].sha.clone(), w[1].sha.clone()))
        .collect()
}

/// The reverted pull request of a revert, by GitHub's branch name, else its title.
fn reverted(prs: &[PullRequest], revert: &PullRequest) -> Option<(usize, String)> {
    if let Some(n) = revert.head_ref.as_deref().and_then(dora::reverted_number)
        && let Some(i) = prs.iter().position(|p| p.number == n)
    {
        let branch = revert.head_ref.as_deref().unwrap_or("");
        return Some((i, format!("branch `{branch}`")));
    }
    let title = dora::reverted_title(&revert.title)?;
    prs.iter()
        .enumerate()
        .filter(|(_, p)| p.title == title && p.number != revert.number)
        .filter(|(_, p)| p.merged_at.is_some_and(|m| m <= revert.created_at))
        .max_by_key(|(_, p)| p.merged_at)
        .map(|(i, _)| (i, "its title".to_string()))
}

struct RepoResult {
    signal: RepoSignal,
    deps: Vec<Dep>,
    /// (dep index, pr index, rule)
    failures: Vec<Failure>,
}

struct Failure {
    kind: FailureKind,
    number: Option<u64>,
    title: String,
    dep: usize,
    began_at: i64,
    recovered_at: Option<i64>,
    rule: String,
}

fn classify(rules: &Rules, repo: &RepoInput) -> RepoResult {
    let (signal, why) = choose_signal(rules, repo);
    let mut deps = candidates(rules, repo, signal);
    let prs = &repo.prs;

    // What each successful deployment shipped.
    if signal.is_proxy() {
        for d in &mut deps {
            let number: u64 = d.id[1..].parse().unwrap_or(0);
            if let Some(i) = prs.iter().position(|p| p.number == number) {
                d.shipped
                    .push((i, "the merged pull request itself (the proxy)".into()));
            }
        }
    } else {
        let mut taken = vec![false; prs.len()];
        let merged: Vec<usize> = (0..prs.len())
            .filter(|&i| prs[i].state == PrState::Merged)
            .collect();
        let by_merge: HashMap<&str, usize> = merged
            .iter()
            .filter_map(|&i| Some((prs[i].merge_commit_sha.as_deref()?, i)))
            .collect();
        // For the fallback on merge times: merged pull requests by merge time.
        let mut by_time: Vec<(i64, usize)> = merged
            .iter()
            .map(|&i| (prs[i].merged_at.unwrap_or(i64::MIN), i))
            .collect();
        by_time.sort_unstable();
        let mut prev: Option<usize> = None;
        for k in 0..deps.len() {
            if !deps[k].success {
                continue;
            }
            let Some(p) = prev else {
                deps[k].rule.push_str(
                    "; the first deployment seen: what it shipped is not known, so not counted",
                );
                prev = Some(k);
                continue;
            };
            let (base, head) = (deps[p].sha.clone(), deps[k].sha.clone());
            let (from, to) = (deps[p].at, deps[k].at);
            let compared = repo.compares.get(&(base.clone(), head.clone()));
            let mut shipped: Vec<(usize, String)> = Vec::new();
            if let Some(c) = compared {
                for sha in &c.commits {
                    if let Some(&i) = by_merge.get(sha.as_str())
                        && !taken[i]
                    {
                        taken[i] = true;
                        let rule = format!(
                            "merge commit {} is in GitHub's compare {}...{}",
                            short(sha),
                            short(&base),
                            short(&head)
                        );
                        shipped.push((i, rule));
                    }
                }
            }
            if compared.is_none_or(|c| c.truncated && base != head) {
                let first = by_time.partition_point(|(t, _)| *t <= from);
                for &(merged_at, i) in &by_time[first..] {
                    if merged_at > to {
                        break;
                    }
                    if taken[i] || !on_default_branch(repo, prs[i].base_ref.as_deref()) {
                        continue;
                    }
                    taken[i] = true;
                    let rule = format!(
                        "merged between deployments {} and {} (GitHub's compare of their commits {})",
                        deps[p].id,
                        deps[k].id,
                        if compared.is_some() {
                            "is incomplete"
                        } else {
                            "is not read yet"
                        }
                    );
                    shipped.push((i, rule));
                }
            }
            shipped.sort_by_key(|(i, _)| prs[*i].number);
            deps[k].shipped = shipped;
            prev = Some(k);
        }
    }
    let shipped_by = |pr: usize, deps: &[Dep]| -> Option<usize> {
        deps.iter()
            .position(|d| d.shipped.iter().any(|(i, _)| *i == pr))
    };

    let mut failures = Vec::new();
    // A deployment's own failed status; recovered by the next successful one.
    for k in 0..deps.len() {
        if deps[k].success {
            continue;
        }
        let next = deps[k + 1..]
            .iter()
            .find(|d| d.success)
            .map(|d| (d.at, d.id.clone()));
        let detail = format!("its own status: {}", deps[k].detail);
        deps[k].failed_by.push(detail);
        failures.push(Failure {
            kind: FailureKind::FailedStatus,
            number: None,
            title: format!("{} {}", deps[k].name, deps[k].detail),
            dep: k,
            began_at: deps[k].at,
            recovered_at: next.as_ref().map(|(at, _)| *at),
            rule: match next {
                Some((_, id)) => format!("recovered by the next successful deployment, {id}"),
                None => "not recovered: no successful deployment since".into(),
            },
        });
    }
    // Incidents: linked to the deployment their body names, else the last successful one
    // before they opened; recovered when closed.
    for issue in &repo.issues {
        if !rules.is_incident(&issue.labels) {
            continue;
        }
        let named = deps.iter().rposition(|d| {
            d.success
                && !d.sha.is_empty()
                && issue
                    .body_shas
                    .iter()
                    .any(|s| d.sha.to_ascii_lowercase().starts_with(s.as_str()))
        });
        let (k, link) = match named {
            Some(k) => (k, format!("its body names {}", short(&deps[k].sha))),
            None => match deps
                .iter()
                .rposition(|d| d.success && d.at <= issue.created_at)
            {
                Some(k) => (k, "the last successful deployment before it opened".into()),
                None => continue,
            },
        };
        deps[k].failed_by.push(format!(
            "incident #{} (label `{}`): {link}",
            issue.number, rules.incident_label
        ));
        failures.push(Failure {
            kind: FailureKind::Incident,
            number: Some(issue.number),
            title: issue.title.clone(),
            dep: k,
            began_at: issue.created_at,
            recovered_at: issue.closed_at,
            rule: format!(
                "linked to {}: {link}; {}",
                deps[k].id,
                if issue.closed_at.is_some() {
                    "recovered when the issue closed"
                } else {
                    "not recovered: the issue is open"
                }
            ),
        });
    }
    // Reverts: the deployment that shipped the reverted change failed; recovered when the
    // revert shipped.
    for (r, revert) in prs.iter().enumerate() {
        if revert.state != PrState::Merged {
            continue;
        }
        let Some((x, by)) = reverted(prs, revert) else {
            continue;
        };
        let reverted_pr = &prs[x];
        if let Some(k) = shipped_by(r, &deps) {
            deps[k].rework_by.push(format!(
                "ships #{}, a revert of #{}",
                revert.number, reverted_pr.number
            ));
        }
        let Some(k) = shipped_by(x, &deps) else {
            continue;
        };
        let fixed = shipped_by(r, &deps).map(|f| deps[f].at);
        deps[k].failed_by.push(format!(
            "#{} reverts #{} (found by {by})",
            revert.number, reverted_pr.number
        ));
        failures.push(Failure {
            kind: FailureKind::Revert,
            number: Some(revert.number),
            title: revert.title.clone(),
            dep: k,
            began_at: revert.created_at,
            recovered_at: fixed,
            rule: format!(
                "#{} reverts #{}, which {} shipped; {}",
                revert.number,
                reverted_pr.number,
                deps[k].id,
                if fixed.is_some() {
                    "recovered when the revert shipped"
                } else {
                    "not recovered: the revert has not shipped"
                }
            ),
        });
    }
    // Hotfixes: a deployment shipping a pull request with the hotfix label is rework.
    for d in &mut deps {
        let hot: Vec<u64> = d
            .shipped
            .iter()
            .filter(|(i, _)| rules.is_hotfix(&prs[*i].labels))
            .map(|(i, _)| prs[*i].number)
            .collect();
        for n in hot {
            d.rework_by
                .push(format!("ships #{n}, labelled `{}`", rules.hotfix_label));
        }
    }
    RepoResult {
        signal: RepoSignal {
            repo: repo.name.clone(),
            signal,
            rule: why,
        },
        deps,
        failures,
    }
}

pub use tidemark_protocol::metrics::week_start;

fn durations(values: Vec<i64>) -> Durations {
    let d = distribution(values);
    Durations {
        count: d.count,
        p50: d.p50,
        p90: d.p90,
    }
}

/// The report for `team` over `window`, grouped `by`.
pub fn evaluate(
    team: &str,
    rules: &Rules,
    repos: &[RepoInput],
    window: Window,
    by: DoraGrouping,
) -> DoraReport {
    let results: Vec<RepoResult> = repos.iter().map(|r| classify(rules, r)).collect();

    // Deployments listed: those in the window and those a counted failure points at.
    let mut listed: BTreeMap<(i64, usize, usize), ()> = BTreeMap::new();
    for (ri, res) in results.iter().enumerate() {
        for (k, d) in res.deps.iter().enumerate() {
            if window.holds(d.at) {
                listed.insert((d.at, ri, k), ());
            }
        }
        for f in res.failures.iter().filter(|f| window.holds(f.began_at)) {
            listed.insert((res.deps[f.dep].at, ri, f.dep), ());
        }
    }
    let mut index: HashMap<(usize, usize), u32> = HashMap::new();
    let mut deployments = Vec::new();
    for (pos, (_, ri, k)) in listed.keys().enumerate() {
        index.insert((*ri, *k), pos as u32);
        let d = &results[*ri].deps[*k];
        let prs = &repos[*ri].prs;
        deployments.push(DeploymentItem {
            repo: repos[*ri].name.clone(),
            signal: d.signal,
            id: d.id.clone(),
            sha: d.sha.clone(),
            name: d.name.clone(),
            at: d.at,
            outcome: if d.success {
                DeployOutcome::Success
            } else {
                DeployOutcome::Failure
            },
            rule: d.rule.clone(),
            failed_by: d.failed_by.clone(),
            rework_by: d.rework_by.clone(),
            shipped: d.shipped.iter().map(|(i, _)| prs[*i].number).collect(),
        });
    }
    let mut changes = Vec::new();
    let mut failures = Vec::new();
    for (ri, res) in results.iter().enumerate() {
        for (k, d) in res.deps.iter().enumerate() {
            let Some(&di) = index.get(&(ri, k)).filter(|_| window.holds(d.at)) else {
                continue;
            };
            for (i, rule) in &d.shipped {
                let pr = &repos[ri].prs[*i];
                let from = if pr.first_commit_at.is_some() {
                    "from its first commit"
                } else {
                    "from its opening (its commits are not known)"
                };
                changes.push(ChangeItem {
                    repo: repos[ri].name.clone(),
                    number: pr.number,
                    title: pr.title.clone(),
                    started_at: pr.first_commit_at.unwrap_or(pr.created_at),
                    deployed_at: d.at,
                    lead_time: dora::lead_time(pr.first_commit_at, pr.created_at, d.at),
                    deployment: di,
                    rule: format!("{rule}; {from}"),
                });
            }
        }
        for f in res.failures.iter().filter(|f| window.holds(f.began_at)) {
            failures.push(FailureItem {
                repo: repos[ri].name.clone(),
                kind: f.kind,
                number: f.number,
                title: f.title.clone(),
                deployment: index[&(ri, f.dep)],
                began_at: f.began_at,
                recovered_at: f.recovered_at,
                rule: f.rule.clone(),
            });
        }
    }
    changes.sort_by_key(|c| (c.deployed_at, c.repo.clone(), c.number));
    failures.sort_by_key(|f| (f.began_at, f.repo.clone(), f.number));

    // The groups: (key, repo filter, window).
    let mut groups: Vec<(String, Option<String>, Window)> = Vec::new();
    match by {
        DoraGrouping::Team => groups.push((team.to_string(), None, window)),
        DoraGrouping::Repo => {
            for r in repos {
                groups.push((r.name.clone(), Some(r.name.clone()), window));
            }
        }
        DoraGrouping::Week => {
            let mut start = week_start(window.since);
            while start < window.until {
                let w = Window {
                    since: start.max(window.since),
                    until: (start + dora::WEEK).min(window.until),
                };
                groups.push((iso_week(start), None, w));
                start += dora::WEEK;
            }
        }
    }
    // Each item goes to its group in one pass (not one scan of every item per group).
    let repo_group: HashMap<&str, usize> = groups
        .iter()
        .enumerate()
        .filter_map(|(g, (_, repo, _))| Some((repo.as_deref()?, g)))
        .collect();
    let first_week = week_start(window.since);
    let group_of = |repo: &str, t: i64| -> Option<usize> {
        if !window.holds(t) {
            return None;
        }
        match by {
            DoraGrouping::Team => Some(0),
            DoraGrouping::Repo => repo_group.get(repo).copied(),
            DoraGrouping::Week => usize::try_from((week_start(t) - first_week) / dora::WEEK).ok(),
        }
    };
    #[derive(Default)]
    struct Acc {
        deployed: Vec<u32>,
        finished: Vec<u32>,
        failed: Vec<u32>,
        rework: Vec<u32>,
        changes: Vec<u32>,
        failures: Vec<u32>,
    }
    let mut accs: Vec<Acc> = groups.iter().map(|_| Acc::default()).collect();
    for (i, d) in deployments.iter().enumerate() {
        let Some(a) = group_of(&d.repo, d.at).and_then(|g| accs.get_mut(g)) else {
            continue;
        };
        let i = i as u32;
        a.finished.push(i);
        if d.outcome == DeployOutcome::Success {
            a.deployed.push(i);
        }
        if !d.failed_by.is_empty() {
            a.failed.push(i);
        }
        if !d.rework_by.is_empty() {
            a.rework.push(i);
        }
    }
    for (i, c) in changes.iter().enumerate() {
        if let Some(a) = group_of(&c.repo, c.deployed_at).and_then(|g| accs.get_mut(g)) {
            a.changes.push(i as u32);
        }
    }
    for (i, f) in failures.iter().enumerate() {
        if let Some(a) = group_of(&f.repo, f.began_at).and_then(|g| accs.get_mut(g)) {
            a.failures.push(i as u32);
        }
    }
    let groups = groups
        .into_iter()
        .zip(accs)
        .map(|((key, _, w), a)| {
            let lead_time = durations(
                a.changes
                    .iter()
                    .map(|&i| changes[i as usize].lead_time)
                    .collect(),
            );
            let recovery = durations(
                a.failures
                    .iter()
                    .filter_map(|&i| {
                        let f = &failures[i as usize];
                        dora::recovery(f.began_at, f.recovered_at)
                    })
                    .collect(),
            );
            let span = w.until - w.since;
            DoraGroup {
                key,
                since: w.since,
                until: w.until,
                per_week_milli: dora::per_week_milli(a.deployed.len() as u64, span),
                frequency_band: dora::frequency_band(a.deployed.len() as u64, span),
                lead_time_band: dora::lead_time_band(lead_time.p50),
                fail_rate_band: dora::fail_rate_band(
                    a.failed.len() as u64,
                    a.finished.len() as u64,
                ),
                recovery_band: dora::recovery_band(recovery.p50),
                deployed: a.deployed,
                changes: a.changes,
                lead_time,
                finished: a.finished,
                failed: a.failed,
                failures: a.failures,
                recovery,
                rework: a.rework,
            }
        })
        .collect();
    DoraReport {
        edition: dora::EDITION.to_string(),
        since: window.since,
        until: window.until,
        repos: results.into_iter().map(|r| r.signal).collect(),
        groups,
        deployments,
        changes,
        failures,
    }
}
