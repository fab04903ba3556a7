//! Pull requests with their reviews and commits, through GraphQL at GitHub's lowest price: many
//! repositories per query (aliases), pull requests walked in `updated_at` order from each
//! repository's checkpoint, big pull requests completed with batched follow-ups (the reading is
//! `github::reader`'s), and each page stored with its checkpoint in one batch.

use super::session::{Run, SyncError};
use crate::github::graphql::documents::RepoPage;
use crate::github::graphql::nodes::{self, PullRequestState};
use crate::github::reader::{FullPullRequest, ReadError};
use crate::store::{self, PrSnapshot, PrState, ReviewState, SyncCursor, TeamId, TrackedRepository};

/// Pull requests per repository in one query: a repository never synced, one being caught up.
const FIRST_FULL: u32 = 50;
const FIRST_INCREMENTAL: u32 = 5;
/// The smallest page asked for when GitHub keeps timing out.
const MIN_FIRST: u32 = 2;
/// About this many pull requests in one query (what GitHub answers without timing out).
const PRS_PER_QUERY: u32 = 100;
/// GitHub lists at most this many commits of a pull request.
pub use crate::github::reader::COMMIT_CAP;

/// Changes within this many seconds of the newest stored one are fetched again: GitHub's times
/// have one-second resolution, and two updates can share a second.
const OVERLAP: i64 = 120;

/// One repository's place in this sync.
pub struct RepoWalk {
    pub repo: TrackedRepository,
    pub owner: String,
    pub name: String,
    /// The stored checkpoint (what the next page's batch writes, updated as pages are stored).
    pub cursor: SyncCursor,
    /// Newest-updated first, down to the checkpoint (the first walk is complete); else the
    /// first walk, oldest-updated first from GitHub's cursor.
    pub descending: bool,
    /// Paging cursor of a descending walk (this sync only).
    pub after: Option<String>,
    /// Newest updated_at seen by a descending walk.
    pub newest: Option<i64>,
    pub first: u32,
    pub done: bool,
    pub failed: Option<String>,
    /// The repository's node id is in the store (checked once per sync).
    pub node_id_stored: bool,
}

impl RepoWalk {
    pub fn new(repo: TrackedRepository, cursor: Option<SyncCursor>) -> RepoWalk {
        let (owner, name) = repo
            .full_name
            .split_once('/')
            .map(|(o, n)| (o.to_string(), n.to_string()))
            .unwrap_or_default();
        let cursor = cursor.unwrap_or(SyncCursor {
            team_id: repo.team_id,
            repo_id: repo.github_repo_id,
            cursor: None,
            updated_at: None,
            pull_requests_seen: 0,
            complete: false,
        });
        let descending = cursor.complete;
        RepoWalk {
            repo,
            owner,
            name,
            first: if descending {
                FIRST_INCREMENTAL
            } else {
                FIRST_FULL
            },
            cursor,
            descending,
            after: None,
            newest: None,
            done: false,
            failed: None,
            node_id_stored: false,
        }
    }
}

/// Walk every repository to its end (or its failure).
pub async fn sync_pull_requests(run: &Run<'_>, walks: &mut [RepoWalk]) -> Result<(), SyncError> {
    // Pull requests asked for in one query; halved each time GitHub times out.
    let mut per_query = PRS_PER_QUERY;
    // Timeouts in a row at the smallest size: then GitHub is unwell, not our page too big.
    let mut smallest_timeouts = 0;
    loop {
        let batch: Vec<usize> = {
            let mut picked = Vec::new();
            let mut prs = 0;
            for (i, w) in walks.iter().enumerate().filter(|(_, w)| !w.done) {
                if !picked.is_empty() && prs + w.first > per_query {
                    break;
                }
                prs += w.first;
                picked.push(i);
            }
            picked
        };
        if batch.is_empty() {
            return Ok(());
        }
        run.phase("pull requests");
        let pages: Vec<RepoPage<'_>> = batch
            .iter()
            .map(|&i| {
                let w = &walks[i];
                RepoPage {
                    owner: &w.owner,
                    name: &w.name,
                    first: w.first,
                    after: if w.descending {
                        w.after.as_deref()
                    } else {
                        w.cursor.cursor.as_deref()
                    },
                    descending: w.descending,
                }
            })
            .collect();
        let answer = match run.reader.pages(&pages).await {
            Ok(a) => {
                smallest_timeouts = 0;
                a
            }
            Err(ReadError::TooBig) => {
                // GitHub timed out: fewer pull requests per query, and smaller pages.
                if batch.len() == 1 && walks[batch[0]].first <= MIN_FIRST {
                    smallest_timeouts += 1;
                    if smallest_timeouts >= 5 {
                        return Err(SyncError::Failed(
                            "GitHub times out even on the smallest page".into(),
                        ));
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(500 << smallest_timeouts))
                        .await;
                    continue;
                }
                per_query = (per_query / 2).max(MIN_FIRST);
                for &i in &batch {
                    walks[i].first = (walks[i].first / 2).max(MIN_FIRST);
                }
                tracing::info!(
                    team = run.team,
                    per_query,
                    "GitHub timed out; asking for less"
                );
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        for (page, &i) in answer.into_iter().zip(&batch) {
            let walk = &mut walks[i];
            let page = match page {
                Ok(page) => page,
                Err(why) => {
                    walk.done = true;
                    walk.failed = Some(format!("{} on GitHub: {why}", walk.repo.full_name));
                    continue;
                }
            };
            if !walk.node_id_stored {
                // What finds the repository again after a rename (stored only when it changed).
                run.ctx.store.put_repo_node_ids(
                    run.team,
                    &[(walk.repo.github_repo_id, page.repo_node_id.clone())],
                )?;
                walk.node_id_stored = true;
            }
            let mut pulls = page.pulls;
            let floor = walk
                .cursor
                .updated_at
                .unwrap_or(i64::MIN)
                .saturating_sub(OVERLAP);
            let oldest_received = pulls.iter().map(|p| p.updated_at).min();
            if walk.descending {
                // What is older than the checkpoint is stored already: skip it (and its follow-ups).
                pulls.retain(|p| p.updated_at >= floor);
            }
            tracing::debug!(
                team = run.team,
                repo = %walk.repo.full_name,
                descending = walk.descending,
                received = page.received,
                kept = pulls.len(),
                ?oldest_received,
                floor,
                "pull request page"
            );
            let full = run.reader.complete(pulls).await?;
            let snapshots: Vec<PrSnapshot> =
                full.into_iter().map(|p| snapshot(run, walk, p)).collect();
            let count = snapshots.len() as u64;
            let page_newest = snapshots.iter().map(|s| s.pr.updated_at).max();
            let mut cursor = walk.cursor.clone();
            cursor.pull_requests_seen += count;
            if walk.descending {
                walk.newest = walk.newest.max(page_newest);
                walk.after = page.end_cursor;
                walk.done = !page.has_next || oldest_received.is_some_and(|t| t < floor);
                if walk.done {
                    // The whole span since the checkpoint is stored once this page is.
                    cursor.updated_at = cursor.updated_at.max(walk.newest);
                }
            } else {
                if let Some(end) = page.end_cursor {
                    cursor.cursor = Some(end);
                }
                cursor.updated_at = cursor.updated_at.max(page_newest);
                walk.done = !page.has_next;
                cursor.complete = walk.done;
            }
            if count > 0 || cursor != walk.cursor {
                run.store_page(walk.repo.github_repo_id, snapshots, cursor.clone())?;
                walk.cursor = cursor;
            }
            run.fetched(count);
            if !walk.done {
                // More to fetch than a probe: full-size pages from here (what still fits).
                walk.first = walk.first.max(FIRST_FULL.min(per_query));
            }
        }
    }
}

/// Read named pull requests of one repository again, whole (a webhook's refetch, self-healing).
/// None: GitHub knows no repository by the walk's name (renamed, transferred or deleted since
/// we stored it; the caller re-reads it by id).
pub async fn fetch_pull_requests(
    run: &Run<'_>,
    walk: &RepoWalk,
    numbers: &[u64],
) -> Result<Option<Vec<PrSnapshot>>, SyncError> {
    Ok(run
        .reader
        .pull_requests(&walk.owner, &walk.name, numbers)
        .await?
        .map(|pulls| pulls.into_iter().map(|p| snapshot(run, walk, p)).collect()))
}

/// An actor: (login as REST writes it, database id, is a bot).
fn actor(a: Option<&nodes::Actor>) -> (Option<String>, Option<u64>, bool) {
    match a {
        None => (None, None, false),
        Some(a) => (Some(a.rest_login()), a.database_id, a.is_bot()),
    }
}

fn snapshot(run: &Run<'_>, walk: &RepoWalk, full: FullPullRequest) -> PrSnapshot {
    let FullPullRequest {
        pr: n,
        reviews,
        commits,
    } = full;
    let team: TeamId = walk.repo.team_id;
    let repo = walk.repo.github_repo_id;
    let number = n.number;
    let state = match n.state {
        PullRequestState::Open => PrState::Open,
        PullRequestState::Merged => PrState::Merged,
        PullRequestState::Closed => PrState::Closed,
    };
    let (author_login, author_id, _) = actor(n.author.as_ref());
    let (merged_by_login, merged_by_github_id, _) = actor(n.merged_by.as_ref());
    // ready_at: opened as a draft when its first draft event is "ready for review".
    let mut events: Vec<(i64, bool)> = n
        .timeline_items
        .nodes
        .iter()
        .filter_map(|e| e.0.as_ref().ok())
        .map(|e| (e.created_at, e.is_ready()))
        .collect();
    events.sort();
    let ready_at = match events.first() {
        Some((at, true)) => Some(*at),
        Some((_, false)) => Some(n.created_at),
        None if n.is_draft => None,
        None => Some(n.created_at),
    };
    let member_of = |id: Option<u64>, email: Option<&str>| run.member_for(id, email);
    let reviews = reviews
        .iter()
        .filter_map(|r| {
            let (login, id, bot) = actor(r.author.as_ref());
            let state = match r.state {
                nodes::ReviewState::Approved => ReviewState::Approved,
                nodes::ReviewState::ChangesRequested => ReviewState::ChangesRequested,
                nodes::ReviewState::Commented => ReviewState::Commented,
                nodes::ReviewState::Dismissed => ReviewState::Dismissed,
                // Not submitted yet (only its author sees it): not a review of anyone's work.
                nodes::ReviewState::Pending => return None,
            };
            Some(store::PrReview {
                team_id: team,
                repo_id: repo,
                pr_number: number,
                review_id: r.full_database_id,
                reviewer_github_id: id,
                reviewer_login: login,
                reviewer_member_id: member_of(id, None),
                reviewer_is_bot: bot,
                state,
                submitted_at: r.submitted_at,
            })
        })
        .collect();
    let commits = commits
        .into_iter()
        .map(|c| {
            let user_id = c
                .author
                .as_ref()
                .and_then(|a| a.user.as_ref())
                .and_then(|u| u.database_id);
            let email = c
                .author
                .as_ref()
                .and_then(|a| a.email.clone())
                .filter(|e| !e.is_empty());
            store::Commit {
                team_id: team,
                repo_id: repo,
                pr_number: number,
                sha: c.oid,
                author_github_id: user_id,
                author_member_id: member_of(user_id, email.as_deref()),
                author_email: email,
                authored_at: c.authored_date,
                committed_at: c.committed_date,
            }
        })
        .collect::<Vec<_>>();
    let total = n.commits.total_count.unwrap_or(0);
    PrSnapshot {
        pr: store::PullRequest {
            team_id: team,
            repo_id: repo,
            number,
            github_id: n.full_database_id,
            title: n.title,
            state,
            is_draft: n.is_draft,
            author_member_id: member_of(author_id, None),
            author_github_id: author_id,
            author_login,
            created_at: n.created_at,
            ready_at,
            updated_at: n.updated_at,
            merged_at: n.merged_at,
            closed_at: n.closed_at,
            additions: n.additions,
            deletions: n.deletions,
            first_commit_at: None,
            first_review_at: None,
            cycle_time: None,
            review_time: None,
            merged_by_login,
            merged_by_github_id,
            merge_commit_sha: n.merge_commit.map(|c| c.oid),
            base_ref: n.base_ref_name,
            head_ref: n.head_ref_name,
            labels: n.labels.map(|l| l.names()).unwrap_or_default(),
        },
        reviews,
        commits_total: (total > commits.len() as u64).then_some(total),
        commits,
    }
}
