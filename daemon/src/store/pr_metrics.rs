//! Per-PR metrics, computed whenever a pull request or its reviews or commits are written:
//! which review counts, and the stored figures by the definitions in
//! `tidemark_protocol::metrics` (the one place they are written). Pure: no I/O.

use crate::store::{Commit, PrReview, PrState, PullRequest, ReviewState, looks_like_bot};
use tidemark_protocol::metrics as def;

/// Does this review count toward "first review"? Not by the PR's author, not by a bot (flagged,
/// or a `[bot]` login), and a submitted review (a pending one is not visible to the author yet).
pub fn review_counts(pr: &PullRequest, review: &PrReview) -> bool {
    if review.reviewer_is_bot
        || review.reviewer_login.as_deref().is_some_and(looks_like_bot)
        || review.state == ReviewState::Pending
        || review.submitted_at.is_none()
    {
        return false;
    }
    let same_id =
        matches!((pr.author_github_id, review.reviewer_github_id), (Some(a), Some(r)) if a == r);
    let same_login = matches!(
        (&pr.author_login, &review.reviewer_login),
        (Some(a), Some(r)) if a.eq_ignore_ascii_case(r)
    );
    !(same_id || same_login)
}

/// Recompute the derived fields of `pr` from its reviews and commits.
pub fn compute(pr: &mut PullRequest, reviews: &[PrReview], commits: &[Commit]) {
    pr.first_review_at = reviews
        .iter()
        .filter(|r| review_counts(pr, r))
        .filter_map(|r| r.submitted_at)
        .min();
    pr.first_commit_at = commits
        .iter()
        .filter_map(|c| c.authored_at.or(c.committed_at))
        .min();
    pr.cycle_time = match pr.state {
        PrState::Merged => def::cycle(pr.created_at, pr.merged_at),
        _ => None,
    };
    // A PR still in draft has not asked for review yet: no review time until it is ready.
    let ready = def::ready(pr.created_at, pr.is_draft, pr.ready_at);
    pr.review_time = def::review_time(ready, pr.first_review_at);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pr() -> PullRequest {
        crate::store::tests::pr(1, 10, 1)
    }

    fn review(id: u64, who: u64, login: &str, at: i64, state: ReviewState) -> PrReview {
        PrReview {
            team_id: 1,
            repo_id: 10,
            pr_number: 1,
            review_id: id,
            reviewer_github_id: Some(who),
            reviewer_login: Some(login.into()),
            reviewer_member_id: None,
            reviewer_is_bot: login.ends_with("[bot]"),
            state,
            submitted_at: Some(at),
        }
    }

    #[test]
    fn first_review_ignores_author_bots_and_pending() {
        let mut p = pr();
        let reviews = [
            review(1, 1, "alice", 1_100, ReviewState::Commented),
            review(2, 9, "dependabot[bot]", 1_200, ReviewState::Approved),
            review(3, 2, "bob", 1_300, ReviewState::Pending),
            review(4, 3, "carol", 1_500, ReviewState::ChangesRequested),
            review(5, 2, "bob", 1_400, ReviewState::Approved),
        ];
        compute(&mut p, &reviews, &[]);
        assert_eq!(p.first_review_at, Some(1_400));
        assert_eq!(p.review_time, Some(400));
        assert_eq!(p.cycle_time, None, "not merged");
    }

    #[test]
    fn a_draft_has_no_review_time_until_it_is_ready() {
        let mut p = pr();
        p.is_draft = true;
        compute(
            &mut p,
            &[review(1, 2, "bob", 1_600, ReviewState::Commented)],
            &[],
        );
        assert_eq!(p.first_review_at, Some(1_600));
        assert_eq!(p.review_time, None);
    }

    #[test]
    fn review_time_starts_when_the_draft_became_ready() {
        let mut p = pr();
        p.ready_at = Some(2_000);
        p.state = PrState::Merged;
        p.merged_at = Some(5_000);
        compute(
            &mut p,
            &[review(1, 2, "bob", 2_600, ReviewState::Approved)],
            &[],
        );
        assert_eq!(p.review_time, Some(600));
        assert_eq!(p.cycle_time, Some(4_000), "cycle time counts from creation");
    }
}
