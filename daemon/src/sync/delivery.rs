//! Delivery data of each tracked repository: deployments with their statuses, releases, tags
//! and issues with the incident label by GraphQL, deploy workflow runs by REST, each list read
//! newest first down to a little behind what was read last time; then GitHub's compares
//! between consecutive successful deployments that are not stored yet. A webhook about a
//! deployment, run, release or issue reads its repository again the same way, so the store
//! ends equal to GitHub whatever order the deliveries came in.

use super::session::{Run, SyncError};
use crate::delivery::{self, engine};
use crate::github::delivery as gh;
use crate::github::graphql::delivery::{DeliveryAsk, Part};
use crate::store::{self, Compared, DeliverySync, Deploy, IssueRecord, TrackedRepository};
use tidemark_protocol::metrics::dora::DAY;

/// Lists are read again this far behind their newest stored item: a deployment's statuses and
/// a run's conclusion come after it was created.
const OVERLAP: i64 = 7 * DAY;
/// Issues are read by update time, so less overlap is needed.
const ISSUES_OVERLAP: i64 = DAY;
/// Pages of one list in one walk (50 items each).
const MAX_PAGES: usize = 20;
/// The first read of workflow runs goes back this far.
const FIRST_RUNS_BACK: i64 = 365 * DAY;
/// Compares asked in one walk of one repository; the rest at the next.
const COMPARES_PER_WALK: usize = 100;

/// Read every repository's delivery data.
pub async fn sync_delivery(run: &Run<'_>, repos: &[TrackedRepository]) -> Result<(), SyncError> {
    run.phase("delivery: deployments, runs, releases, incidents");
    for repo in repos {
        match refresh_repo(run, repo).await {
            // One repository GitHub will not show (Actions off, no access to deployments):
            // the others go on; its pull requests still stand in for its deployments.
            Err(e @ (SyncError::GitHub(_) | SyncError::Failed(_))) => {
                tracing::warn!(repo = %repo.full_name, error = %e, "delivery data not read");
            }
            other => other?,
        }
    }
    Ok(())
}

fn mark(t: Option<i64>, overlap: i64) -> Option<i64> {
    t.map(|t| t - overlap)
}

fn rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

/// Read one repository's delivery data that changed since the last read, and store it.
pub async fn refresh_repo(run: &Run<'_>, repo: &TrackedRepository) -> Result<(), SyncError> {
    let store = &run.ctx.store;
    let team = run.team;
    let id = repo.github_repo_id;
    let Some((owner, name)) = repo.full_name.split_once('/') else {
        return Ok(());
    };
    let rules = delivery::saved_rules(store, team).map_err(|e| SyncError::Failed(e.to_string()))?;
    let mut state = store.delivery_sync(team, id)?;
    let now = store::now();
    let marks = [
        (Part::Deployments, mark(state.deployments_until, OVERLAP)),
        (Part::Releases, mark(state.releases_until, OVERLAP)),
        (Part::Tags, mark(state.tags_until, OVERLAP)),
        // Issues are asked `since` their mark: every page counts.
        (Part::Issues, None),
    ];
    let issues_since = mark(state.issues_until, ISSUES_OVERLAP).map(rfc3339);
    let mut pending: Vec<(Part, Option<String>)> = Part::ALL.iter().map(|p| (*p, None)).collect();
    let mut deploys: Vec<Deploy> = Vec::new();
    let mut issues: Vec<IssueRecord> = Vec::new();
    let mut newest: [Option<i64>; 4] = [None; 4];
    let mut pages = 0;
    while !pending.is_empty() && pages < MAX_PAGES {
        pages += 1;
        let ask = DeliveryAsk {
            owner,
            name,
            parts: pending.iter().map(|(p, a)| (*p, a.as_deref())).collect(),
            incident_label: &rules.incident_label,
            issues_since: issues_since.clone(),
        };
        let answer = run.reader.delivery(std::slice::from_ref(&ask)).await?;
        let data = match answer.into_iter().next() {
            Some(Ok(d)) => d,
            Some(Err(why)) => {
                tracing::info!(repo = %repo.full_name, why, "no delivery data for the repository");
                return Ok(());
            }
            None => return Ok(()),
        };
        if let Some(b) = data.default_branch_ref {
            state.default_branch = Some(b.name);
        }
        let mut next = Vec::new();
        let mut keep =
            |part: Part, oldest: Option<i64>, page: &crate::github::graphql::nodes::PageInfo| {
                let floor = marks.iter().find(|(p, _)| *p == part).and_then(|(_, m)| *m);
                let older_than_mark = matches!((floor, oldest), (Some(f), Some(o)) if o < f);
                if let Some(cursor) = page.next().filter(|_| !older_than_mark) {
                    next.push((part, Some(cursor)));
                }
            };
        if let Some(c) = data.deployments {
            let items = run.reader_readable("a deployment", c.nodes);
            let times: Vec<i64> = items.iter().map(|n| n.created_at).collect();
            deploys.extend(items.iter().map(|n| gh::deployment(team, id, n, now)));
            newest[0] = newest[0].max(times.iter().copied().max());
            keep(Part::Deployments, times.iter().copied().min(), &c.page_info);
        }
        if let Some(c) = data.releases {
            let items = run.reader_readable("a release", c.nodes);
            let times: Vec<i64> = items.iter().map(|n| n.created_at).collect();
            deploys.extend(items.iter().map(|n| gh::release(team, id, n, now)));
            newest[1] = newest[1].max(times.iter().copied().max());
            keep(Part::Releases, times.iter().copied().min(), &c.page_info);
        }
        if let Some(c) = data.refs {
            let items = run.reader_readable("a tag", c.nodes);
            let tags: Vec<Deploy> = items
                .iter()
                .filter_map(|n| gh::tag(team, id, n, now))
                .collect();
            let times: Vec<i64> = tags.iter().map(|t| t.created_at).collect();
            newest[2] = newest[2].max(times.iter().copied().max());
            deploys.extend(tags);
            keep(Part::Tags, times.iter().copied().min(), &c.page_info);
        }
        if let Some(c) = data.issues {
            let items = run.reader_readable("an issue", c.nodes);
            newest[3] = newest[3].max(items.iter().map(|n| n.updated_at).max());
            issues.extend(items.iter().map(|n| gh::issue(team, id, n)));
            keep(Part::Issues, None, &c.page_info);
        }
        pending = next;
    }
    if let Some(branch) = state.default_branch.clone() {
        let from = mark(state.runs_until, OVERLAP).unwrap_or(now - FIRST_RUNS_BACK);
        if let Some(runs) = run
            .reader
            .workflow_runs(&repo.full_name, &branch, Some(from))
            .await?
        {
            let newest_run = runs
                .iter()
                .filter_map(|r| crate::github::graphql::parse_time(&r.created_at))
                .max();
            deploys.extend(runs.iter().filter_map(|r| gh::run(team, id, r, now)));
            state.runs_until = state.runs_until.max(newest_run);
        }
    }
    store.put_deploys(team, &deploys)?;
    store.put_issues(team, &issues)?;
    state.deployments_until = state.deployments_until.max(newest[0]);
    state.releases_until = state.releases_until.max(newest[1]);
    state.tags_until = state.tags_until.max(newest[2]);
    state.issues_until = state.issues_until.max(newest[3]);
    state.updated_at = now;
    store.set_delivery_sync(&DeliverySync { ..state })?;
    compares(run, repo, &rules).await
}

/// Issues read again by number: stored when they have the incident label or were stored
/// before (so a label taken off is seen).
pub async fn refresh_issues(
    run: &Run<'_>,
    repo: &TrackedRepository,
    numbers: &[u64],
) -> Result<(), SyncError> {
    let store = &run.ctx.store;
    let (team, id) = (run.team, repo.github_repo_id);
    let Some((owner, name)) = repo.full_name.split_once('/') else {
        return Ok(());
    };
    let rules = delivery::saved_rules(store, team).map_err(|e| SyncError::Failed(e.to_string()))?;
    let stored: std::collections::HashSet<u64> =
        store.issues(team, id)?.iter().map(|i| i.number).collect();
    for chunk in numbers.chunks(50) {
        let Some(found) = run.reader.issues(owner, name, chunk).await? else {
            return Ok(());
        };
        let issues: Vec<IssueRecord> = found
            .iter()
            .map(|n| gh::issue(team, id, n))
            .filter(|i| rules.is_incident(&i.labels) || stored.contains(&i.number))
            .collect();
        store.put_issues(team, &issues)?;
    }
    Ok(())
}

/// GitHub's compares the report wants for a repository that are not stored yet.
async fn compares(
    run: &Run<'_>,
    repo: &TrackedRepository,
    rules: &delivery::rules::Rules,
) -> Result<(), SyncError> {
    let store = &run.ctx.store;
    let team = run.team;
    let id = repo.github_repo_id;
    let input = delivery::repo_input(store, team, repo, rules)?;
    let missing: Vec<(String, String)> = engine::wanted_compares(rules, &input)
        .into_iter()
        .filter(|(b, h)| !input.compares.contains_key(&(b.clone(), h.clone())))
        .take(COMPARES_PER_WALK)
        .collect();
    for (base, head) in missing {
        let compared = match run.reader.compare(&repo.full_name, &base, &head).await? {
            Some(c) => Compared {
                team_id: team,
                repo_id: id,
                base,
                head,
                commits: c.commits,
                truncated: c.truncated,
            },
            // A commit GitHub does not know (force-pushed away): kept as incomplete, so the
            // report falls back to merge times and it is not asked again.
            None => Compared {
                team_id: team,
                repo_id: id,
                base,
                head,
                commits: Vec::new(),
                truncated: true,
            },
        };
        store.put_compare(&compared)?;
    }
    Ok(())
}
