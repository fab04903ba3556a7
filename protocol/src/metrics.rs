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

/// Nearest-rank percentiles of `values` (sorted here): count, p50, p75, p90.
pub fn distribution(mut values: Vec<i64>) -> crate::Distribution {
    values.sort_unstable();
    let n = values.len();
    let pick = |q: f64| -> Option<i64> {
        if n == 0 {
            return None;
        }
        let rank = (q * n as f64).ceil() as usize;
        Some(values[rank.clamp(1, n) - 1])
    };
    crate::Distribution {
        count: n as u64,
        p50: pick(0.50),
        p75: pick(0.75),
        p90: pick(0.90),
    }
}

const DAY: i64 = 86_400;

/// Days since 1970-01-01 of a civil date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil year of a day since 1970-01-01.
fn year_of(days: i64) -> i64 {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    yoe + era * 400 + i64::from(month <= 2)
}

/// `2026-W47`: the ISO week (UTC) of a time.
pub fn iso_week(t: i64) -> String {
    let days = t.div_euclid(DAY);
    // 1970-01-01 was a Thursday; Monday is 0.
    let weekday = (days + 3).rem_euclid(7);
    // An ISO week belongs to the year of its Thursday.
    let thursday = days - weekday + 3;
    let year = year_of(thursday);
    let week = (thursday - days_from_civil(year, 1, 1)) / 7 + 1;
    format!("{year}-W{week:02}")
}

/// The Monday 00:00 UTC that starts the ISO week of `t`.
pub fn week_start(t: i64) -> i64 {
    const FIRST_MONDAY: i64 = 4 * DAY; // 1970-01-05
    t - (t - FIRST_MONDAY).rem_euclid(7 * DAY)
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

    #[test]
    fn nearest_rank_percentiles() {
        let d = distribution(vec![50, 10, 40, 20, 30]);
        assert_eq!(
            (d.count, d.p50, d.p75, d.p90),
            (5, Some(30), Some(40), Some(50))
        );
        assert_eq!(distribution(vec![]), crate::Distribution::default());
        let ten = distribution((1..=10).collect());
        assert_eq!((ten.p50, ten.p75, ten.p90), (Some(5), Some(8), Some(9)));
    }

    #[test]
    fn iso_weeks_cross_years_like_iso_and_start_on_monday() {
        // 2021-01-03 is a Sunday in ISO week 53 of 2020.
        assert_eq!(iso_week(1_609_632_000), "2020-W53");
        assert_eq!(iso_week(1_764_028_800), "2025-W48");
        // 2024-12-30 (Monday) is in 2025-W01; 2026-11-02 (Monday) starts 2026-W45.
        assert_eq!(iso_week(1_735_516_800), "2025-W01");
        assert_eq!(iso_week(1_793_577_600), "2026-W45");
        assert_eq!(iso_week(1_793_577_600 - 1), "2026-W44");
        assert_eq!(week_start(1_793_577_600 + 3 * DAY + 5), 1_793_577_600);
        assert_eq!(week_start(1_793_577_600 - 1), 1_793_577_600 - 7 * DAY);
    }
}
