//! Delivery data of each tracked repository: deployments with their statuses, releases, tags
//! and issues with the incident label by GraphQL, deploy workflow runs by REST, each list read
//! newest first down to a little behind what was read last time; then GitHub's compares
//! between consecutive successful deployments that are not stored yet. A webhook about a
//! deployment, run, release or issue reads its repository again the same way, so the store
//! ends equal to GitHub whatever order the deliveries came in.

use super::session::{Run, SyncError};
use crate::delivery::{self, engine};
use crate::github::delivery as gh;
use crate::github::graphql::delivery::{
    DELIVERY_FIRST, DELIVERY_FIRST_INCREMENTAL, DeliveryAsk, Part, RepoDelivery,
};
use crate::github::graphql::nodes::PageInfo;
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
/// Compares are read for the deployments of the last half year (each one is a REST request);
/// older ones are placed by merge times, and the explain output says so.
const COMPARES_BACK: i64 = 26 * 7 * DAY;
/// Compares asked in one walk of one repository; the rest at the next.
const COMPARES_PER_WALK: usize = 100;

/// Repositories read in one GraphQL query: GitHub charges by the nodes a query could return, so
/// many small pages in one query cost less than one query each.
const REPOS_PER_QUERY: usize = 10;

/// Read every repository's delivery data. A repository GitHub will not show delivery data for
/// (Actions off, no access to deployments) is logged and skipped: its pull requests still stand
/// in for its deployments.
pub async fn sync_delivery(run: &Run<'_>, repos: &[TrackedRepository]) -> Result<(), SyncError> {
    run.phase("delivery: deployments, runs, releases, incidents");
    match refresh_repos(run, repos).await {
        Err(e @ (SyncError::GitHub(_) | SyncError::Failed(_))) => {
            tracing::warn!(error = %e, "delivery data not read");
            Ok(())
        }
        other => other,
    }
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

/// One repository's walk through its delivery lists.
struct Walk<'r> {
    repo: &'r TrackedRepository,
    rules: &'r delivery::rules::Rules,
    /// The issues stored before this walk (kept up to date even when no longer incidents).
    stored_issues: std::collections::HashSet<u64>,
    owner: &'r str,
    name: &'r str,
    state: DeliverySync,
    first: u32,
    /// Each list's floor: a page older than it ends that list's walk.
    marks: [(Part, Option<i64>); 4],
    issues_since: Option<String>,
    /// The lists still to read, with their next page's cursor.
    pending: Vec<(Part, Option<String>)>,
    pages: usize,
    deploys: Vec<Deploy>,
    issues: Vec<IssueRecord>,
    newest: [Option<i64>; 4],
}

impl<'r> Walk<'r> {
    fn new(
        store: &store::Store,
        team: store::TeamId,
        repo: &'r TrackedRepository,
        rules: &'r delivery::rules::Rules,
    ) -> Result<Option<Walk<'r>>, SyncError> {
        let Some((owner, name)) = repo.full_name.split_once('/') else {
            return Ok(None);
        };
        let state = store.delivery_sync(team, repo.github_repo_id)?;
        let read_before = state.deployments_until.is_some() || state.updated_at > 0;
        let stored_issues = store
            .issues(team, repo.github_repo_id)?
            .iter()
            .map(|i| i.number)
            .collect();
        Ok(Some(Walk {
            repo,
            rules,
            stored_issues,
            owner,
            name,
            first: if read_before {
                DELIVERY_FIRST_INCREMENTAL
            } else {
                DELIVERY_FIRST
            },
            marks: [
                (Part::Deployments, mark(state.deployments_until, OVERLAP)),
                (Part::Releases, mark(state.releases_until, OVERLAP)),
                (Part::Tags, mark(state.tags_until, OVERLAP)),
                // Issues are asked `since` their mark: every page counts.
                (Part::Issues, None),
            ],
            issues_since: mark(state.issues_until, ISSUES_OVERLAP).map(rfc3339),
            state,
            pending: Part::ALL.iter().map(|p| (*p, None)).collect(),
            pages: 0,
            deploys: Vec::new(),
            issues: Vec::new(),
            newest: [None; 4],
        }))
    }

    /// Take one page of each pending list; keep the lists whose next page may still be new.
    fn take(&mut self, run: &Run<'_>, data: RepoDelivery, now: i64) {
        let (team, id) = (run.team, self.repo.github_repo_id);
        self.pages += 1;
        if let Some(b) = data.default_branch_ref {
            self.state.default_branch = Some(b.name);
        }
        let marks = self.marks;
        let mut next = Vec::new();
        let mut keep = |part: Part, oldest: Option<i64>, page: &PageInfo| {
            let floor = marks.iter().find(|(p, _)| *p == part).and_then(|(_, m)| *m);
            let older_than_mark = matches!((floor, oldest), (Some(f), Some(o)) if o < f);
            if let Some(cursor) = page.next().filter(|_| !older_than_mark) {
                next.push((part, Some(cursor)));
            }
        };
        if let Some(c) = data.deployments {
            let items = run.reader_readable("a deployment", c.nodes);
            let times: Vec<i64> = items.iter().map(|n| n.created_at).collect();
            self.deploys
                .extend(items.iter().map(|n| gh::deployment(team, id, n, now)));
            self.newest[0] = self.newest[0].max(times.iter().copied().max());
            keep(Part::Deployments, times.iter().copied().min(), &c.page_info);
        }
        if let Some(c) = data.releases {
            let items = run.reader_readable("a release", c.nodes);
            let times: Vec<i64> = items.iter().map(|n| n.created_at).collect();
            self.deploys
                .extend(items.iter().map(|n| gh::release(team, id, n, now)));
            self.newest[1] = self.newest[1].max(times.iter().copied().max());
            keep(Part::Releases, times.iter().copied().min(), &c.page_info);
        }
        if let Some(c) = data.refs {
            let items = run.reader_readable("a tag", c.nodes);
            let tags: Vec<Deploy> = items
                .iter()
                .filter_map(|n| gh::tag(team, id, n, now))
                .collect();
            let times: Vec<i64> = tags.iter().map(|t| t.created_at).collect();
            self.newest[2] = self.newest[2].max(times.iter().copied().max());
            self.deploys.extend(tags);
            keep(Part::Tags, times.iter().copied().min(), &c.page_info);
        }
        if let Some(c) = data.issues {
            let items = run.reader_readable("an issue", c.nodes);
            self.newest[3] = self.newest[3].max(items.iter().map(|n| n.updated_at).max());
            // Issues updated since the last read come whatever their labels: kept when they are
            // incidents, or were (a label taken off is seen).
            let rules = self.rules;
            let stored = &self.stored_issues;
            self.issues.extend(
                items
                    .iter()
                    .map(|n| gh::issue(team, id, n))
                    .filter(|i| rules.is_incident(&i.labels) || stored.contains(&i.number)),
            );
            keep(Part::Issues, None, &c.page_info);
        }
        self.pending = if self.pages < MAX_PAGES {
            next
        } else {
            Vec::new()
        };
    }
}

/// Read one repository's delivery data that changed since the last read, and store it.
pub async fn refresh_repo(run: &Run<'_>, repo: &TrackedRepository) -> Result<(), SyncError> {
    refresh_repos(run, std::slice::from_ref(repo)).await
}

/// Read the delivery data of several repositories that changed since their last read (many
/// repositories per GraphQL query), store it, then the compares the report wants.
pub async fn refresh_repos(run: &Run<'_>, repos: &[TrackedRepository]) -> Result<(), SyncError> {
    let store = &run.ctx.store;
    let team = run.team;
    let rules = delivery::saved_rules(store, team).map_err(|e| SyncError::Failed(e.to_string()))?;
    let now = store::now();
    let mut walks = Vec::new();
    for repo in repos {
        if let Some(w) = Walk::new(store, team, repo, &rules)? {
            walks.push(w);
        }
    }
    loop {
        let open: Vec<usize> = (0..walks.len())
            .filter(|&i| !walks[i].pending.is_empty())
            .take(REPOS_PER_QUERY)
            .collect();
        if open.is_empty() {
            break;
        }
        let asks: Vec<DeliveryAsk<'_>> = open
            .iter()
            .map(|&i| {
                let w = &walks[i];
                DeliveryAsk {
                    first: w.first,
                    owner: w.owner,
                    name: w.name,
                    parts: w.pending.iter().map(|(p, a)| (*p, a.as_deref())).collect(),
                    incident_label: &rules.incident_label,
                    issues_since: w.issues_since.clone(),
                }
            })
            .collect();
        let answers = run.reader.delivery(&asks).await?;
        drop(asks);
        for (&i, answer) in open.iter().zip(answers) {
            match answer {
                Ok(data) => walks[i].take(run, data, now),
                Err(why) => {
                    tracing::info!(repo = %walks[i].repo.full_name, why, "no delivery data for the repository");
                    walks[i].pending.clear();
                }
            }
        }
    }
    for mut w in walks {
        let id = w.repo.github_repo_id;
        if let Some(branch) = w.state.default_branch.clone() {
            let from = mark(w.state.runs_until, OVERLAP).unwrap_or(now - FIRST_RUNS_BACK);
            let etag = w.state.runs_etag.clone();
            match run
                .reader
                .workflow_runs(&w.repo.full_name, &branch, Some(from), etag.as_deref())
                .await?
            {
                gh::Runs::Read { runs, etag } => {
                    let newest_run = runs
                        .iter()
                        .filter_map(|r| crate::github::graphql::parse_time(&r.created_at))
                        .max();
                    w.deploys
                        .extend(runs.iter().filter_map(|r| gh::run(team, id, r, now)));
                    w.state.runs_until = w.state.runs_until.max(newest_run);
                    w.state.runs_etag = etag;
                }
                // Nothing new since the last read (free of GitHub's rate limit), or no runs.
                gh::Runs::Unchanged | gh::Runs::NotFound => {}
            }
        }
        store.put_deploys(team, &w.deploys)?;
        store.put_issues(team, &w.issues)?;
        let s = &mut w.state;
        s.deployments_until = s.deployments_until.max(w.newest[0]);
        s.releases_until = s.releases_until.max(w.newest[1]);
        s.tags_until = s.tags_until.max(w.newest[2]);
        s.issues_until = s.issues_until.max(w.newest[3]);
        s.updated_at = now;
        store.set_delivery_sync(s)?;
        compares(run, w.repo, &rules).await?;
    }
    Ok(())
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
    let from = store::now() - COMPARES_BACK;
    let missing: Vec<(String, String)> = engine::wanted_compares_after(rules, &input, from)
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
