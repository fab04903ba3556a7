//! How one repository's records become classified deployments: which signal it deploys by,
//! its finished deployments, what each successful one shipped, which failed and why, which are
//! rework. `engine::evaluate` puts the results of every repository into a report.

use super::engine::RepoInput;
use super::rules::Rules;
use crate::store::{DeploySource, DeployState, PrState, PullRequest};
use std::collections::HashMap;
use tidemark_protocol::delivery::{FailureKind, RepoSignal, Signal};
use tidemark_protocol::metrics::dora;

pub(super) fn short(sha: &str) -> &str {
    &sha[..sha.len().min(7)]
}

/// A deployment while it is being classified.
#[derive(Debug, Clone)]
pub(super) struct Dep {
    pub(super) signal: Signal,
    pub(super) id: String,
    pub(super) sha: String,
    pub(super) name: String,
    pub(super) at: i64,
    pub(super) success: bool,
    pub(super) detail: String,
    pub(super) rule: String,
    /// Indices into the repository's pull requests.
    pub(super) shipped: Vec<(usize, String)>,
    pub(super) failed_by: Vec<String>,
    pub(super) rework_by: Vec<String>,
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

pub(super) struct RepoResult {
    pub(super) signal: RepoSignal,
    pub(super) deps: Vec<Dep>,
    /// (dep index, pr index, rule)
    pub(super) failures: Vec<Failure>,
}

pub(super) struct Failure {
    pub(super) kind: FailureKind,
    pub(super) number: Option<u64>,
    pub(super) title: String,
    pub(super) dep: usize,
    pub(super) began_at: i64,
    pub(super) recovered_at: Option<i64>,
    pub(super) rule: String,
}

pub(super) fn classify(rules: &Rules, repo: &RepoInput) -> RepoResult {
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
