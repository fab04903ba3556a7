//! The metric definitions, in one place (the README's "Metrics", design §4): the daemon's
//! per-PR figures (stored on every write), its aggregates, and the client's per-PR breakdown
//! all call these, so a figure means the same wherever it is shown. All durations in seconds;
//! a span that would run backwards (clock skew, a commit dated after the PR) counts as 0.
//!
//! [`dora`] holds the delivery measures and the bands they are shown against.

pub mod dora;

/// When a pull request asked for review: when it left draft, or when it was opened if it was
/// never a draft. None while it is still a draft that has never been ready.
pub fn ready(created_at: i64, is_draft: bool, ready_at: Option<i64>) -> Option<i64> {
    match (is_draft, ready_at) {
        (_, Some(ready)) => Some(ready),
        (true, None) => None,
        (false, None) => Some(created_at),
    }
}

/// From `from` to `to` when both are known, never negative.
pub fn span(from: Option<i64>, to: Option<i64>) -> Option<i64> {
    from.zip(to).map(|(from, to)| (to - from).max(0))
}

/// Cycle time: opened → merged, for merged pull requests only.
pub fn cycle(created_at: i64, merged_at: Option<i64>) -> Option<i64> {
    span(Some(created_at), merged_at)
}

/// Review time (also the breakdown's pickup): ready → first counted review.
pub fn review_time(ready: Option<i64>, first_review_at: Option<i64>) -> Option<i64> {
    span(ready, first_review_at)
}

/// Coding: first commit → ready.
pub fn coding(first_commit_at: Option<i64>, ready: Option<i64>) -> Option<i64> {
    span(first_commit_at, ready)
}

/// Pickup: ready → first counted review (the same span as review time).
pub fn pickup(ready: Option<i64>, first_review_at: Option<i64>) -> Option<i64> {
    review_time(ready, first_review_at)
}

/// Review (the breakdown's last part): first counted review → merged.
pub fn review(first_review_at: Option<i64>, merged_at: Option<i64>) -> Option<i64> {
    span(first_review_at, merged_at)
}

/// Size: lines added plus lines deleted.
pub fn size(additions: u64, deletions: u64) -> u64 {
    additions.saturating_add(deletions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_is_ready_when_it_leaves_draft_and_others_when_opened() {
        assert_eq!(ready(100, false, None), Some(100));
        assert_eq!(ready(100, true, None), None);
        assert_eq!(ready(100, true, Some(150)), Some(150));
        assert_eq!(ready(100, false, Some(150)), Some(150));
    }

    #[test]
    fn the_breakdown_adds_up_to_the_lead_time_from_the_first_commit() {
        let (first_commit, created, ready_at, first_review, merged) = (50, 100, 150, 400, 1_000);
        let ready = ready(created, true, Some(ready_at));
        let parts = [
            coding(Some(first_commit), ready),
            pickup(ready, Some(first_review)),
            review(Some(first_review), Some(merged)),
        ];
        assert_eq!(parts, [Some(100), Some(250), Some(600)]);
        assert_eq!(parts.iter().flatten().sum::<i64>(), merged - first_commit);
        assert_eq!(cycle(created, Some(merged)), Some(900));
        assert_eq!(review_time(ready, Some(first_review)), Some(250));
    }

    #[test]
    fn unknown_ends_give_nothing_and_backwards_spans_give_zero() {
        assert_eq!(cycle(100, None), None);
        assert_eq!(coding(None, Some(100)), None);
        assert_eq!(coding(Some(200), Some(100)), Some(0));
        assert_eq!(size(u64::MAX, 1), u64::MAX);
    }
}
