//! Who reviewed what, and one pull request's timeline (the TUI's People tab and pull request
//! details). Pure reads of the store.

use std::collections::{BTreeMap, HashSet};

use tidemark_protocol::{PrTimeline, ReviewerCount, TimelineEvent, TimelineKind};

use crate::store::{ReviewState, Store, StoreError, TeamId, looks_like_bot};

/// One reviewer's count: is a bot, reviews, the distinct (repo, number) reviewed.
type Tally = (bool, u64, HashSet<(u64, u64)>);

/// Reviews given per reviewer on pull requests created at or after `since`, leaving out
/// reviews of one's own pull request and pending (unsubmitted) ones. Busiest reviewer first.
pub fn reviewers(
    store: &Store,
    team: TeamId,
    since: Option<i64>,
) -> Result<Vec<ReviewerCount>, StoreError> {
    let mut acc: BTreeMap<String, Tally> = BTreeMap::new();
    for pr in store.pull_requests(team, None)? {
        if since.is_some_and(|s| pr.created_at < s) {
            continue;
        }
        for review in store.reviews(team, pr.repo_id, pr.number)? {
            let Some(login) = review.reviewer_login else {
                continue;
            };
            let own = match (review.reviewer_github_id, pr.author_github_id) {
                (Some(a), Some(b)) => a == b,
                _ => pr.author_login.as_deref() == Some(login.as_str()),
            };
            if own || review.state == ReviewState::Pending {
                continue;
            }
            let bot = review.reviewer_is_bot || looks_like_bot(&login);
            let entry = acc.entry(login).or_insert((bot, 0, HashSet::new()));
            entry.1 += 1;
            entry.2.insert((pr.repo_id, pr.number));
        }
    }
    let mut out: Vec<ReviewerCount> = acc
        .into_iter()
        .map(|(login, (is_bot, reviews, prs))| ReviewerCount {
            login,
            is_bot,
            reviews,
            pull_requests: prs.len() as u64,
        })
        .collect();
    out.sort_by(|a, b| {
        b.reviews
            .cmp(&a.reviews)
            .then_with(|| a.login.cmp(&b.login))
    });
    Ok(out)
}

/// The commits and reviews of `repo_id`'s pull request `number`, oldest first.
pub fn timeline(
    store: &Store,
    team: TeamId,
    repo_id: u64,
    number: u64,
) -> Result<PrTimeline, StoreError> {
    let mut events = Vec::new();
    for commit in store.commits(team, repo_id, number)? {
        if let Some(at) = commit.authored_at.or(commit.committed_at) {
            events.push(TimelineEvent {
                at,
                kind: TimelineKind::Commit {
                    sha: commit.sha.chars().take(7).collect(),
                },
            });
        }
    }
    for review in store.reviews(team, repo_id, number)? {
        if let Some(at) = review.submitted_at {
            events.push(TimelineEvent {
                at,
                kind: TimelineKind::Review {
                    reviewer: review.reviewer_login,
                    state: review.state.as_str().to_string(),
                },
            });
        }
    }
    events.sort_by_key(|e| e.at);
    Ok(PrTimeline {
        events,
        commits_truncated: store.pr_extra(team, repo_id, number)?.is_some(),
    })
}
