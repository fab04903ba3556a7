//! What the synced data says: members, pull requests with their metrics, and the aggregates of
//! the README's definitions (count, p50, p75, p90 per team, repository, member or ISO week). Pure reads.

use crate::store::{self, PullRequest, Store, StoreError, TeamId, looks_like_bot};
use std::collections::{BTreeMap, HashMap};
use tidemark_protocol::metrics;
use tidemark_protocol::{
    MemberInfo, MetricsGrouping, MetricsQuery, MetricsRow, PrInfo, PrQuery, PrState,
};

pub fn members(store: &Store, team: TeamId) -> Result<Vec<MemberInfo>, StoreError> {
    let mut out: Vec<MemberInfo> = store
        .members(team)?
        .into_iter()
        .map(|m| MemberInfo {
            id: m.id,
            github_id: m.github_id,
            github_login: m.github_username,
            display_name: m.display_name,
            email: m.email,
            is_bot: m.is_bot,
            left_at: m.left_at,
        })
        .collect();
    out.sort_by_key(|m| m.github_login.clone().unwrap_or_default().to_lowercase());
    Ok(out)
}

fn state(s: store::PrState) -> PrState {
    match s {
        store::PrState::Open => PrState::Open,
        store::PrState::Closed => PrState::Closed,
        store::PrState::Merged => PrState::Merged,
    }
}

fn repo_names(store: &Store, team: TeamId) -> Result<HashMap<u64, String>, StoreError> {
    Ok(store
        .tracked_repos(team)?
        .into_iter()
        .map(|r| (r.github_repo_id, r.full_name))
        .collect())
}

fn repo_name(names: &HashMap<u64, String>, id: u64) -> String {
    names
        .get(&id)
        .cloned()
        .unwrap_or_else(|| format!("repository #{id}"))
}

pub fn pull_requests(store: &Store, team: TeamId, q: &PrQuery) -> Result<Vec<PrInfo>, StoreError> {
    let names = repo_names(store, team)?;
    let repo = match &q.repo {
        Some(name) => Some(
            names
                .iter()
                .find(|(_, n)| n.eq_ignore_ascii_case(name))
                .map(|(id, _)| *id)
                .ok_or_else(|| StoreError::NotFound(format!("tracked repository {name}")))?,
        ),
        None => None,
    };
    let mut prs: Vec<PullRequest> = store
        .pull_requests(team, repo)?
        .into_iter()
        .filter(|p| q.state.is_none_or(|s| state(p.state) == s))
        .collect();
    prs.sort_by_key(|p| std::cmp::Reverse((p.created_at, p.number)));
    if q.limit > 0 {
        prs.truncate(q.limit as usize);
    }
    prs.into_iter()
        .map(|p| {
            let reviews = store.reviews(team, p.repo_id, p.number)?.len() as u32;
            let commits = store.commits(team, p.repo_id, p.number)?.len() as u32;
            let truncated = store.pr_extra(team, p.repo_id, p.number)?.is_some();
            Ok(PrInfo {
                repo: repo_name(&names, p.repo_id),
                number: p.number,
                title: p.title,
                author_is_bot: p.author_login.as_deref().is_some_and(looks_like_bot),
                author: p.author_login,
                state: state(p.state),
                is_draft: p.is_draft,
                created_at: p.created_at,
                ready_at: p.ready_at,
                first_commit_at: p.first_commit_at,
                first_review_at: p.first_review_at,
                merged_at: p.merged_at,
                closed_at: p.closed_at,
                additions: p.additions,
                deletions: p.deletions,
                reviews,
                commits,
                commits_truncated: truncated,
                cycle_time: p.cycle_time,
                review_time: p.review_time,
                merged_by: p.merged_by_login,
            })
        })
        .collect()
}

// The definitions live with the others, in `protocol::metrics`.
pub use tidemark_protocol::metrics::{distribution, iso_week};

#[derive(Default)]
struct Acc {
    prs: u64,
    merged: u64,
    cycle: Vec<i64>,
    review_time: Vec<i64>,
    coding: Vec<i64>,
    pickup: Vec<i64>,
    review: Vec<i64>,
    size: Vec<i64>,
}

/// Aggregate a team's pull requests. Bots are left out unless asked for.
pub fn metrics(
    store: &Store,
    team: TeamId,
    team_name: &str,
    q: &MetricsQuery,
) -> Result<Vec<MetricsRow>, StoreError> {
    let names = repo_names(store, team)?;
    let mut groups: BTreeMap<String, Acc> = BTreeMap::new();
    for p in store.pull_requests(team, None)? {
        if q.since.is_some_and(|s| p.created_at < s) {
            continue;
        }
        let bot = p.author_login.as_deref().is_some_and(looks_like_bot);
        if bot && !q.include_bots {
            continue;
        }
        let key = match q.by {
            MetricsGrouping::Team => team_name.to_string(),
            MetricsGrouping::Repo => repo_name(&names, p.repo_id),
            MetricsGrouping::Member => p.author_login.clone().unwrap_or_else(|| "(unknown)".into()),
            // Merged work counts in the week it merged; the rest in the week it opened.
            MetricsGrouping::Week => iso_week(p.merged_at.unwrap_or(p.created_at)),
        };
        let a = groups.entry(key).or_default();
        a.prs += 1;
        if p.state == store::PrState::Merged {
            a.merged += 1;
        }
        a.cycle.extend(p.cycle_time);
        a.review_time.extend(p.review_time);
        let ready = metrics::ready(p.created_at, p.is_draft, p.ready_at);
        a.coding.extend(metrics::coding(p.first_commit_at, ready));
        a.pickup.extend(metrics::pickup(ready, p.first_review_at));
        if p.state == store::PrState::Merged {
            a.review
                .extend(metrics::review(p.first_review_at, p.merged_at));
        }
        a.size.push(metrics::size(p.additions, p.deletions) as i64);
    }
    Ok(groups
        .into_iter()
        .map(|(key, a)| MetricsRow {
            key,
            prs: a.prs,
            merged: a.merged,
            cycle_time: distribution(a.cycle),
            review_time: distribution(a.review_time),
            coding: distribution(a.coding),
            pickup: distribution(a.pickup),
            review: distribution(a.review),
            size: distribution(a.size),
        })
        .collect())
}
