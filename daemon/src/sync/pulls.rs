//! Pull requests with their reviews and commits, through GraphQL at GitHub's lowest price: many
//! repositories per query (aliases), pull requests walked in `updated_at` order from each
//! repository's checkpoint, big pull requests completed with batched follow-ups, and each page
//! stored with its checkpoint in one batch.

use super::run::{Run, SyncError};
use crate::github::graphql::parse_time;
use crate::store::{self, PrSnapshot, PrState, ReviewState, SyncCursor, TeamId, TrackedRepository};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::str::FromStr;

/// Pull requests per repository in one query: a repository never synced, one being caught up.
const FIRST_FULL: u32 = 50;
const FIRST_INCREMENTAL: u32 = 5;
/// The smallest page asked for when GitHub keeps timing out.
const MIN_FIRST: u32 = 2;
/// About this many pull requests in one query (what GitHub answers without timing out).
const PRS_PER_QUERY: u32 = 100;
/// Nested pages in the main query; bigger pull requests get follow-ups.
const REVIEWS_FIRST: u32 = 20;
const COMMITS_FIRST: u32 = 40;
/// GitHub lists at most this many commits of a pull request.
pub const COMMIT_CAP: u64 = 250;
/// Pull requests completed per follow-up query.
const FOLLOW_UPS_PER_QUERY: usize = 10;

const ACTOR: &str = "__typename login ... on User { databaseId } ... on Bot { databaseId }";

fn fragments() -> String {
    format!(
        "fragment Review on PullRequestReview {{ databaseId state submittedAt author {{ {ACTOR} }} }}
fragment PrCommit on PullRequestCommit {{ commit {{ oid authoredDate committedDate author {{ email user {{ databaseId login }} }} }} }}
fragment Pr on PullRequest {{
  id databaseId number title state isDraft createdAt updatedAt closedAt mergedAt additions deletions
  author {{ {ACTOR} }}
  reviews(first: {REVIEWS_FIRST}) {{ totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ ...Review }} }}
  commits(first: {COMMITS_FIRST}) {{ totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ ...PrCommit }} }}
  timelineItems(first: 25, itemTypes: [READY_FOR_REVIEW_EVENT, CONVERT_TO_DRAFT_EVENT]) {{
    nodes {{ __typename ... on ReadyForReviewEvent {{ createdAt }} ... on ConvertToDraftEvent {{ createdAt }} }}
  }}
}}"
    )
}

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
        }
    }
}

/// Walk every repository to its end (or its failure).
pub async fn sync_pull_requests(run: &Run<'_>, walks: &mut [RepoWalk]) -> Result<(), SyncError> {
    // Pull requests asked for in one query; halved each time GitHub times out.
    let mut per_query = PRS_PER_QUERY;
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
        let (query, vars) = page_query(walks, &batch);
        let answer = match run.query(&query, vars).await {
            Ok(a) => a,
            Err(SyncError::TooBig) => {
                // GitHub timed out: fewer pull requests per query, and smaller pages.
                if batch.len() == 1 && walks[batch[0]].first <= MIN_FIRST {
                    return Err(SyncError::Failed(
                        "GitHub times out even on the smallest page".into(),
                    ));
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
            Err(e) => return Err(e),
        };
        for (slot, &i) in batch.iter().enumerate() {
            let alias = format!("r{slot}");
            let walk = &mut walks[i];
            let repo_node = &answer.data[&alias];
            if repo_node.is_null() {
                let why = answer
                    .errors
                    .iter()
                    .find(|e| e.root() == Some(alias.as_str()))
                    .map(|e| e.message.clone())
                    .unwrap_or_else(|| "not found".into());
                walk.done = true;
                walk.failed = Some(format!("{} on GitHub: {why}", walk.repo.full_name));
                continue;
            }
            let conn = &repo_node["pullRequests"];
            let mut nodes = conn["nodes"].as_array().cloned().unwrap_or_default();
            let floor = walk
                .cursor
                .updated_at
                .unwrap_or(i64::MIN)
                .saturating_sub(OVERLAP);
            let received = nodes.len();
            let oldest_received = nodes.iter().filter_map(|n| time(&n["updatedAt"])).min();
            if walk.descending {
                // What is older than the checkpoint is stored already: skip it (and its follow-ups).
                nodes.retain(|n| time(&n["updatedAt"]).is_none_or(|t| t >= floor));
            }
            tracing::debug!(
                team = run.team,
                repo = %walk.repo.full_name,
                descending = walk.descending,
                received,
                kept = nodes.len(),
                ?oldest_received,
                floor,
                "pull request page"
            );
            let snapshots = complete(run, walk, nodes).await?;
            let end = conn["pageInfo"]["endCursor"].as_str().map(String::from);
            let has_next = conn["pageInfo"]["hasNextPage"].as_bool().unwrap_or(false);
            let count = snapshots.len() as u64;
            let page_newest = snapshots.iter().map(|s| s.pr.updated_at).max();
            let mut cursor = walk.cursor.clone();
            cursor.pull_requests_seen += count;
            if walk.descending {
                walk.newest = walk.newest.max(page_newest);
                walk.after = end;
                walk.done = !has_next || oldest_received.is_some_and(|t| t < floor);
                if walk.done {
                    // The whole span since the checkpoint is stored once this page is.
                    cursor.updated_at = cursor.updated_at.max(walk.newest);
                }
            } else {
                if let Some(end) = end {
                    cursor.cursor = Some(end);
                }
                cursor.updated_at = cursor.updated_at.max(page_newest);
                walk.done = !has_next;
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

fn page_query(walks: &[RepoWalk], batch: &[usize]) -> (String, Value) {
    let mut params = Vec::new();
    let mut body = String::new();
    let mut vars = serde_json::Map::new();
    for (slot, &i) in batch.iter().enumerate() {
        let w = &walks[i];
        params.push(format!(
            "$o{slot}: String!, $n{slot}: String!, $c{slot}: String"
        ));
        vars.insert(format!("o{slot}"), json!(w.owner));
        vars.insert(format!("n{slot}"), json!(w.name));
        let (after, direction) = if w.descending {
            (&w.after, "DESC")
        } else {
            (&w.cursor.cursor, "ASC")
        };
        vars.insert(format!("c{slot}"), json!(after));
        body.push_str(&format!(
            "  r{slot}: repository(owner: $o{slot}, name: $n{slot}) {{ pullRequests(first: {}, after: $c{slot}, orderBy: {{field: UPDATED_AT, direction: {direction}}}) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ ...Pr }} }} }}\n",
            w.first
        ));
    }
    let query = format!(
        "query Pages({}) {{\n  rateLimit {{ cost remaining resetAt }}\n{body}}}\n{}",
        params.join(", "),
        fragments()
    );
    (query, Value::Object(vars))
}

/// Read named pull requests of one repository again, whole (a webhook's refetch).
/// None: GitHub knows no repository by the walk's name (renamed, transferred or deleted since
/// we stored it; the caller re-reads it by id).
pub async fn fetch_pull_requests(
    run: &Run<'_>,
    walk: &RepoWalk,
    numbers: &[u64],
) -> Result<Option<Vec<PrSnapshot>>, SyncError> {
    let mut out = Vec::new();
    for chunk in numbers.chunks(20) {
        let mut body = String::new();
        for (slot, n) in chunk.iter().enumerate() {
            body.push_str(&format!(
                "  p{slot}: pullRequest(number: {n}) {{ ...Pr }}\n"
            ));
        }
        let query = format!(
            "query Refetch($o: String!, $n: String!) {{\n  rateLimit {{ cost remaining resetAt }}\n  repository(owner: $o, name: $n) {{\n{body}  }}\n}}\n{}",
            fragments()
        );
        let answer = run
            .query(&query, json!({ "o": walk.owner, "n": walk.name }))
            .await?;
        let repo = &answer.data["repository"];
        if repo.is_null() {
            return Ok(None);
        }
        let nodes: Vec<Value> = (0..chunk.len())
            .map(|slot| repo[format!("p{slot}")].clone())
            .filter(|n| !n.is_null())
            .collect();
        out.extend(complete(run, walk, nodes).await?);
    }
    Ok(Some(out))
}

/// A pull request node whose reviews or commits did not fit in the main query.
struct Partial {
    node: Value,
    reviews: Vec<Value>,
    commits: Vec<Value>,
    reviews_after: Option<String>,
    commits_after: Option<String>,
}

/// Turn a page's nodes into whole snapshots, fetching the rest of big pull requests.
async fn complete(
    run: &Run<'_>,
    walk: &RepoWalk,
    nodes: Vec<Value>,
) -> Result<Vec<PrSnapshot>, SyncError> {
    let mut partials: Vec<Partial> = nodes
        .into_iter()
        .map(|node| {
            let next = |conn: &str| {
                let p = &node[conn]["pageInfo"];
                p["hasNextPage"]
                    .as_bool()
                    .unwrap_or(false)
                    .then(|| p["endCursor"].as_str().map(String::from))
                    .flatten()
            };
            let list = |conn: &str| node[conn]["nodes"].as_array().cloned().unwrap_or_default();
            // GitHub lists at most 250 commits: past that there is nothing more to fetch.
            let commits_after =
                next("commits").filter(|_| list("commits").len() < COMMIT_CAP as usize);
            Partial {
                reviews: list("reviews"),
                commits: list("commits"),
                reviews_after: next("reviews"),
                commits_after,
                node,
            }
        })
        .collect();
    let mut per_query = FOLLOW_UPS_PER_QUERY;
    loop {
        let pending: Vec<usize> = (0..partials.len())
            .filter(|&i| partials[i].reviews_after.is_some() || partials[i].commits_after.is_some())
            .take(per_query)
            .collect();
        if pending.is_empty() {
            break;
        }
        let mut body = String::new();
        let mut params = Vec::new();
        let mut vars = serde_json::Map::new();
        for (slot, &i) in pending.iter().enumerate() {
            let p = &partials[i];
            // GraphQL refuses declared variables that go unused: declare only what is asked.
            params.push(format!("$id{slot}: ID!"));
            vars.insert(format!("id{slot}"), p.node["id"].clone());
            if p.reviews_after.is_some() {
                params.push(format!("$ra{slot}: String"));
                vars.insert(format!("ra{slot}"), json!(p.reviews_after));
            }
            if p.commits_after.is_some() {
                params.push(format!("$ca{slot}: String"));
                vars.insert(format!("ca{slot}"), json!(p.commits_after));
            }
            let mut fields = String::new();
            if p.reviews_after.is_some() {
                fields.push_str(&format!("reviews(first: 100, after: $ra{slot}) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ ...Review }} }} "));
            }
            if p.commits_after.is_some() {
                fields.push_str(&format!("commits(first: 100, after: $ca{slot}) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ ...PrCommit }} }} "));
            }
            body.push_str(&format!(
                "  p{slot}: node(id: $id{slot}) {{ ... on PullRequest {{ {fields}}} }}\n"
            ));
        }
        // The fragments the follow-up does not use would be a validation error: send the two.
        let fragments = format!(
            "fragment Review on PullRequestReview {{ databaseId state submittedAt author {{ {ACTOR} }} }}
fragment PrCommit on PullRequestCommit {{ commit {{ oid authoredDate committedDate author {{ email user {{ databaseId login }} }} }} }}"
        );
        let uses_reviews = pending.iter().any(|&i| partials[i].reviews_after.is_some());
        let uses_commits = pending.iter().any(|&i| partials[i].commits_after.is_some());
        let fragments: String = fragments
            .lines()
            .filter(|l| {
                (uses_reviews || !l.contains("on PullRequestReview"))
                    && (uses_commits || !l.contains("on PullRequestCommit"))
            })
            .collect::<Vec<_>>()
            .join("\n");
        let query = format!(
            "query Rest({}) {{\n  rateLimit {{ cost remaining resetAt }}\n{body}}}\n{fragments}",
            params.join(", ")
        );
        let answer = match run.query(&query, Value::Object(vars)).await {
            Ok(a) => a,
            Err(SyncError::TooBig) if per_query > 1 => {
                per_query = (per_query / 2).max(1);
                continue;
            }
            Err(e) => return Err(e),
        };
        for (slot, &i) in pending.iter().enumerate() {
            let n = &answer.data[format!("p{slot}")];
            let p = &mut partials[i];
            if n.is_null() {
                // Gone meanwhile: keep what we have; the next sync sees it again.
                p.reviews_after = None;
                p.commits_after = None;
                continue;
            }
            for (conn, list, after) in [
                ("reviews", &mut p.reviews, &mut p.reviews_after),
                ("commits", &mut p.commits, &mut p.commits_after),
            ] {
                if after.is_none() {
                    continue;
                }
                list.extend(n[conn]["nodes"].as_array().cloned().unwrap_or_default());
                let pi = &n[conn]["pageInfo"];
                *after = pi["hasNextPage"]
                    .as_bool()
                    .unwrap_or(false)
                    .then(|| pi["endCursor"].as_str().map(String::from))
                    .flatten();
                if conn == "commits" && list.len() >= COMMIT_CAP as usize {
                    *after = None;
                }
            }
        }
    }
    partials
        .into_iter()
        .map(|p| snapshot(run, walk, p))
        .collect()
}

/// An actor: (login as REST writes it, database id, is a bot).
fn actor(v: &Value) -> (Option<String>, Option<u64>, bool) {
    if v.is_null() {
        return (None, None, false);
    }
    let bot = v["__typename"].as_str() == Some("Bot");
    // GraphQL drops the `[bot]` that REST and webhooks carry: put it back, one spelling everywhere.
    let login = v["login"].as_str().map(|l| {
        if bot && !l.ends_with("[bot]") {
            format!("{l}[bot]")
        } else {
            l.to_string()
        }
    });
    (login, v["databaseId"].as_u64(), bot)
}

fn time(v: &Value) -> Option<i64> {
    v.as_str().and_then(parse_time)
}

fn snapshot(run: &Run<'_>, walk: &RepoWalk, p: Partial) -> Result<PrSnapshot, SyncError> {
    let n = &p.node;
    let team: TeamId = walk.repo.team_id;
    let repo = walk.repo.github_repo_id;
    let bad = |what: &str| SyncError::Failed(format!("GitHub sent a pull request without {what}"));
    let number = n["number"].as_u64().ok_or_else(|| bad("a number"))?;
    let created_at = time(&n["createdAt"]).ok_or_else(|| bad("createdAt"))?;
    let state = match n["state"].as_str() {
        Some("OPEN") => PrState::Open,
        Some("MERGED") => PrState::Merged,
        Some("CLOSED") => PrState::Closed,
        _ => return Err(bad("a known state")),
    };
    let is_draft = n["isDraft"].as_bool().unwrap_or(false);
    let (author_login, author_id, _) = actor(&n["author"]);
    // ready_at: opened as a draft when its first draft event is "ready for review".
    let mut events: Vec<(i64, bool)> = n["timelineItems"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            Some((
                time(&e["createdAt"])?,
                e["__typename"].as_str() == Some("ReadyForReviewEvent"),
            ))
        })
        .collect();
    events.sort();
    let ready_at = match events.first() {
        Some((at, true)) => Some(*at),
        Some((_, false)) => Some(created_at),
        None if is_draft => None,
        None => Some(created_at),
    };
    let member_of = |id: Option<u64>, email: Option<&str>| run.member_for(id, email);
    let reviews = p
        .reviews
        .iter()
        .filter_map(|r| {
            let (login, id, bot) = actor(&r["author"]);
            let state = r["state"]
                .as_str()
                .map(|s| s.to_ascii_lowercase())
                .and_then(|s| ReviewState::from_str(&s).ok())?;
            Some(store::PrReview {
                team_id: team,
                repo_id: repo,
                pr_number: number,
                review_id: r["databaseId"].as_u64()?,
                reviewer_github_id: id,
                reviewer_login: login,
                reviewer_member_id: member_of(id, None),
                reviewer_is_bot: bot,
                state,
                submitted_at: time(&r["submittedAt"]),
            })
        })
        .collect();
    let commits = p
        .commits
        .iter()
        .filter_map(|c| {
            let c = &c["commit"];
            let user_id = c["author"]["user"]["databaseId"].as_u64();
            let email = c["author"]["email"]
                .as_str()
                .filter(|e| !e.is_empty())
                .map(String::from);
            Some(store::Commit {
                team_id: team,
                repo_id: repo,
                pr_number: number,
                sha: c["oid"].as_str()?.to_string(),
                author_github_id: user_id,
                author_member_id: member_of(user_id, email.as_deref()),
                author_email: email,
                authored_at: time(&c["authoredDate"]),
                committed_at: time(&c["committedDate"]),
            })
        })
        .collect::<Vec<_>>();
    let total = n["commits"]["totalCount"].as_u64().unwrap_or(0);
    Ok(PrSnapshot {
        pr: store::PullRequest {
            team_id: team,
            repo_id: repo,
            number,
            github_id: n["databaseId"].as_u64().unwrap_or(0),
            title: n["title"].as_str().unwrap_or_default().to_string(),
            state,
            is_draft,
            author_member_id: member_of(author_id, None),
            author_github_id: author_id,
            author_login,
            created_at,
            ready_at,
            updated_at: time(&n["updatedAt"]).unwrap_or(created_at),
            merged_at: time(&n["mergedAt"]),
            closed_at: time(&n["closedAt"]),
            additions: n["additions"].as_u64().unwrap_or(0),
            deletions: n["deletions"].as_u64().unwrap_or(0),
            first_commit_at: None,
            first_review_at: None,
            cycle_time: None,
            review_time: None,
        },
        reviews,
        commits_total: (total > commits.len() as u64).then_some(total),
        commits,
    })
}

/// Member ids by GitHub id and by email, for linking authors.
#[derive(Default)]
pub struct MemberIndex {
    pub by_github_id: HashMap<u64, u64>,
    pub by_email: HashMap<String, u64>,
}
