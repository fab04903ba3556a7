//! Each agreement against one pull request (or one author's open ones), as a pure function of
//! the stored records and the time: where it stands, and since when. The live evaluator turns
//! these into stored breaches; adherence counts them per week.
//!
//! Rules (the README's "Working agreements" says the same):
//! - Pull requests by bots are never measured; bots' and the author's reviews never count.
//! - A draft is measured by nothing while it is a draft (a breach of it resolves as "draft").
//! - First review: the clock starts when the pull request is ready for review and stops at the
//!   first counted review; closed unreviewed within the limit, it is not measured.
//! - Size: additions plus deletions, once ready (counted from then: the record does not say
//!   when it grew); a breach ends when it shrinks or closes.
//! - Merge: the clock starts at opening; merged in time is within, closed unmerged is not
//!   measured; a breach begins no earlier than the pull request was ready.
//! - Approvals: at merge, distinct reviewers whose last approving-or-not review before the
//!   merge approved; approvals given after the merge resolve the breach.
//! - Open per author: ready open pull requests per author; the one beyond the limit names it.

use super::clock::WorkClock;
use crate::store::pr_metrics::review_counts;
use crate::store::{PrReview, PrState, PullRequest, ReviewState, looks_like_bot};
use std::collections::HashMap;
use tidemark_protocol::agreements::{AgreementKind, Agreements, Over, Span};
use tidemark_protocol::metrics as def;

/// Where one agreement stands for one pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// It does not apply (a draft, a bot, closed before it mattered, not set).
    NotMeasured,
    /// Not crossed yet; crossed at `due` unless something happens first.
    Pending {
        due: i64,
    },
    Within,
    Crossed(Crossing),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crossing {
    pub since: i64,
    /// When and how it stopped being crossed (None: still crossed).
    pub resolved: Option<(i64, String)>,
    /// The figure behind it: lines, approvals, open pull requests (0 for the timed ones).
    pub measure: u64,
}

/// Is the pull request's author a bot?
pub fn by_bot(pr: &PullRequest) -> bool {
    pr.author_login.as_deref().is_some_and(looks_like_bot)
}

fn closed_at(pr: &PullRequest) -> Option<i64> {
    match pr.state {
        PrState::Open => None,
        PrState::Merged => pr.merged_at.or(pr.closed_at),
        PrState::Closed => pr.closed_at,
    }
}

fn how_closed(pr: &PullRequest) -> &'static str {
    if pr.state == PrState::Merged {
        "merged"
    } else {
        "closed"
    }
}

/// One pull request against one agreement. `reviews` are needed only for approvals.
pub fn standing(
    a: &Agreements,
    clock: &WorkClock,
    kind: AgreementKind,
    pr: &PullRequest,
    reviews: &[PrReview],
    now: i64,
) -> Standing {
    if by_bot(pr) {
        return Standing::NotMeasured;
    }
    match kind {
        AgreementKind::FirstReview => match a.first_review_within {
            Some(span) => first_review(clock, span, pr, now),
            None => Standing::NotMeasured,
        },
        AgreementKind::MaxSize => match a.max_size {
            Some(max) => size(max, pr),
            None => Standing::NotMeasured,
        },
        AgreementKind::MergeWithin => match a.merge_within {
            Some(span) => merge(clock, span, pr, now),
            None => Standing::NotMeasured,
        },
        AgreementKind::MinApprovals => match a.min_approvals {
            Some(min) => approvals(min, pr, reviews),
            None => Standing::NotMeasured,
        },
        // Per author, not per pull request: see `open_per_author`.
        AgreementKind::MaxOpenPerAuthor => Standing::NotMeasured,
    }
}

fn first_review(clock: &WorkClock, span: Span, pr: &PullRequest, now: i64) -> Standing {
    if pr.state == PrState::Open && pr.is_draft {
        return Standing::NotMeasured;
    }
    let Some(ready) = def::ready(pr.created_at, pr.is_draft, pr.ready_at) else {
        return Standing::NotMeasured;
    };
    let due = clock.deadline(ready, span);
    match (pr.first_review_at, closed_at(pr)) {
        (Some(review), _) if review <= due => Standing::Within,
        (Some(review), closed) => Standing::Crossed(Crossing {
            since: due,
            // Closed before anyone reviewed it: the wait ended then.
            resolved: Some(match closed {
                Some(c) if c < review => (c, how_closed(pr).into()),
                _ => (review, "reviewed".into()),
            }),
            measure: 0,
        }),
        (None, Some(c)) if c <= due => Standing::NotMeasured,
        (None, Some(c)) => Standing::Crossed(Crossing {
            since: due,
            resolved: Some((c, format!("{} without a review", how_closed(pr)))),
            measure: 0,
        }),
        (None, None) if now >= due => Standing::Crossed(Crossing {
            since: due,
            resolved: None,
            measure: 0,
        }),
        (None, None) => Standing::Pending { due },
    }
}

fn size(max: u32, pr: &PullRequest) -> Standing {
    if pr.state == PrState::Open && pr.is_draft {
        return Standing::NotMeasured;
    }
    let lines = pr.additions.saturating_add(pr.deletions);
    if lines <= u64::from(max) {
        return Standing::Within;
    }
    // The record does not say when it grew: it counts from when it was ready for review.
    let since = pr.ready_at.unwrap_or(pr.created_at).max(pr.created_at);
    Standing::Crossed(Crossing {
        since,
        resolved: closed_at(pr).map(|c| (c, format!("{} at {lines} lines", how_closed(pr)))),
        measure: lines,
    })
}

fn merge(clock: &WorkClock, span: Span, pr: &PullRequest, now: i64) -> Standing {
    let due = clock.deadline(pr.created_at, span);
    let ready = pr.ready_at.unwrap_or(pr.created_at);
    match pr.state {
        PrState::Merged => match pr.merged_at {
            Some(m) if m <= due => Standing::Within,
            Some(m) => Standing::Crossed(Crossing {
                since: due.max(ready).min(m),
                resolved: Some((m, "merged".into())),
                measure: 0,
            }),
            None => Standing::NotMeasured,
        },
        PrState::Closed => Standing::NotMeasured,
        PrState::Open if pr.is_draft => Standing::NotMeasured,
        PrState::Open if now >= due => Standing::Crossed(Crossing {
            since: due.max(ready),
            resolved: None,
            measure: 0,
        }),
        PrState::Open => Standing::Pending { due },
    }
}

/// Approvals that count: per reviewer (not the author, not a bot), the last review that
/// approves or withholds approval (a comment does neither), if it approves. Reviews up to
/// `until` only.
pub fn approvers(pr: &PullRequest, reviews: &[PrReview], until: i64) -> u32 {
    let mut last: HashMap<String, (i64, ReviewState)> = HashMap::new();
    for r in reviews {
        let Some(at) = r.submitted_at else { continue };
        if at > until || !review_counts(pr, r) {
            continue;
        }
        if !matches!(
            r.state,
            ReviewState::Approved | ReviewState::ChangesRequested | ReviewState::Dismissed
        ) {
            continue;
        }
        let who = match (&r.reviewer_login, r.reviewer_github_id) {
            (Some(l), _) => l.to_ascii_lowercase(),
            (None, Some(id)) => format!("#{id}"),
            (None, None) => continue,
        };
        let e = last.entry(who).or_insert((at, r.state));
        if at >= e.0 {
            *e = (at, r.state);
        }
    }
    last.values()
        .filter(|(_, s)| *s == ReviewState::Approved)
        .count() as u32
}

fn approvals(min: u32, pr: &PullRequest, reviews: &[PrReview]) -> Standing {
    let (PrState::Merged, Some(merged)) = (pr.state, pr.merged_at) else {
        return Standing::NotMeasured;
    };
    let at_merge = approvers(pr, reviews, merged);
    if at_merge >= min {
        return Standing::Within;
    }
    // Approvals after the merge: the breach ends at the one that reaches the minimum.
    let mut times: Vec<i64> = reviews
        .iter()
        .filter_map(|r| r.submitted_at)
        .filter(|t| *t > merged)
        .collect();
    times.sort_unstable();
    let resolved = times
        .into_iter()
        .find(|t| approvers(pr, reviews, *t) >= min)
        .map(|t| (t, "approved after merge".to_string()));
    Standing::Crossed(Crossing {
        since: merged,
        resolved,
        measure: u64::from(at_merge),
    })
}

/// One author over the open-per-author limit: the pull request that went beyond it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorOver<'a> {
    pub author: String,
    pub open: u32,
    /// The newest of the author's ready open pull requests, beyond the limit since it was ready.
    pub pr: &'a PullRequest,
    pub since: i64,
}

/// Authors with more ready open pull requests than the limit.
pub fn open_per_author<'a>(max: u32, prs: &'a [PullRequest]) -> Vec<AuthorOver<'a>> {
    let mut by_author: HashMap<String, Vec<&PullRequest>> = HashMap::new();
    for pr in prs {
        if pr.state != PrState::Open || pr.is_draft || by_bot(pr) {
            continue;
        }
        let Some(login) = &pr.author_login else {
            continue;
        };
        by_author
            .entry(login.to_ascii_lowercase())
            .or_default()
            .push(pr);
    }
    let mut out: Vec<AuthorOver> = by_author
        .into_values()
        .filter(|open| open.len() > max as usize)
        .map(|mut open| {
            open.sort_by_key(|p| (p.ready_at.unwrap_or(p.created_at), p.repo_id, p.number));
            let crossing = open[max as usize];
            let newest = open[open.len() - 1];
            AuthorOver {
                author: newest.author_login.clone().unwrap_or_default(),
                open: open.len() as u32,
                pr: newest,
                since: crossing.ready_at.unwrap_or(crossing.created_at),
            }
        })
        .collect();
    out.sort_by(|a, b| a.author.cmp(&b.author));
    out
}

/// How far past its limit a crossing is at `at`.
pub fn over(a: &Agreements, clock: &WorkClock, kind: AgreementKind, c: &Crossing, at: i64) -> Over {
    match kind {
        AgreementKind::FirstReview | AgreementKind::MergeWithin => {
            Over::Seconds(clock.elapsed(c.since, at))
        }
        AgreementKind::MaxSize => {
            Over::Lines(c.measure.saturating_sub(u64::from(a.max_size.unwrap_or(0))))
        }
        AgreementKind::MinApprovals => Over::Approvals(
            a.min_approvals
                .unwrap_or(0)
                .saturating_sub(c.measure as u32),
        ),
        AgreementKind::MaxOpenPerAuthor => {
            Over::OpenPrs((c.measure as u32).saturating_sub(a.max_open_per_author.unwrap_or(0)))
        }
    }
}
