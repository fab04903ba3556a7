//! DORA's five delivery measures (design §9) and the performance bands they are shown against.
//!
//! The definitions, as tidemark counts them (the explain output names each rule):
//! - **Deployment frequency**: successful production deployments per period.
//! - **Change lead time**: a change's first commit to the successful deployment that shipped it.
//! - **Change fail rate**: failed deployments over finished deployments (successful or failed).
//! - **Failed deployment recovery time**: a failure's start to its recovery.
//! - **Deployment rework rate**: unplanned deployments (shipping a revert or a hotfix) over
//!   finished deployments.
//!
//! The bands are one edition's: [`EDITION`] is printed beside every band, and the thresholds are
//! the table below, so a new edition changes this file alone.

use serde::{Deserialize, Serialize};

/// The report the bands come from, named wherever a band is shown.
pub const EDITION: &str =
    "DORA, Accelerate State of DevOps Report 2024 (software delivery performance clusters)";

pub const HOUR: i64 = 3_600;
pub const DAY: i64 = 24 * HOUR;
pub const WEEK: i64 = 7 * DAY;
/// A month as the bands mean it.
pub const MONTH: i64 = 30 * DAY;

/// A DORA performance cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Band {
    Elite,
    High,
    Medium,
    Low,
}

impl Band {
    pub fn label(self) -> &'static str {
        match self {
            Band::Elite => "elite",
            Band::High => "high",
            Band::Medium => "medium",
            Band::Low => "low",
        }
    }
}

/// What each cluster of [`EDITION`] reads for a measure, for the explain output and `--help`.
pub fn band_table(measure: Measure) -> &'static [(Band, &'static str)] {
    match measure {
        Measure::DeploymentFrequency => &[
            (Band::Elite, "on demand (once a day or more)"),
            (Band::High, "between once a day and once a week"),
            (Band::Medium, "between once a week and once a month"),
            (Band::Low, "less than once a month"),
        ],
        Measure::ChangeLeadTime => &[
            (Band::Elite, "less than one day"),
            (Band::High, "between one day and one week"),
            (Band::Medium, "between one week and one month"),
            (Band::Low, "more than one month"),
        ],
        // The 2024 clusters' own figures: medium's is lower than high's, as published. A rate
        // is placed in the cluster whose figure is nearest.
        Measure::ChangeFailRate => &[
            (Band::Elite, "5%"),
            (Band::High, "20%"),
            (Band::Medium, "10%"),
            (Band::Low, "40%"),
        ],
        // High and medium share "less than one day" in the 2024 clusters: such a time is shown
        // as high.
        Measure::RecoveryTime => &[
            (Band::Elite, "less than one hour"),
            (Band::High, "less than one day"),
            (Band::Medium, "less than one day"),
            (Band::Low, "one day or more"),
        ],
        Measure::ReworkRate => &[],
    }
}

/// The five measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Measure {
    DeploymentFrequency,
    ChangeLeadTime,
    ChangeFailRate,
    RecoveryTime,
    ReworkRate,
}

impl Measure {
    pub const ALL: [Measure; 5] = [
        Measure::DeploymentFrequency,
        Measure::ChangeLeadTime,
        Measure::ChangeFailRate,
        Measure::RecoveryTime,
        Measure::ReworkRate,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Measure::DeploymentFrequency => "deployment frequency",
            Measure::ChangeLeadTime => "change lead time",
            Measure::ChangeFailRate => "change fail rate",
            Measure::RecoveryTime => "failed deployment recovery time",
            Measure::ReworkRate => "deployment rework rate",
        }
    }
}

/// Why a measure has no band, when it has none.
pub const NO_REWORK_BAND: &str =
    "no band: the 2024 report introduced rework rate without performance clusters for it";

/// Change lead time of one change: its first commit to the deployment that shipped it. A pull
/// request whose commits are unknown counts from when it was opened (the explain says so).
pub fn lead_time(first_commit_at: Option<i64>, opened_at: i64, deployed_at: i64) -> i64 {
    (deployed_at - first_commit_at.unwrap_or(opened_at)).max(0)
}

/// Recovery time of one failure, once it is recovered.
pub fn recovery(began_at: i64, recovered_at: Option<i64>) -> Option<i64> {
    recovered_at.map(|end| (end - began_at).max(0))
}

/// Deployments per week over a window of `seconds`, in thousandths (exact on the wire).
pub fn per_week_milli(deployments: u64, seconds: i64) -> u64 {
    if seconds <= 0 {
        return 0;
    }
    let milli = u128::from(deployments) * 1_000 * WEEK as u128 / seconds as u128;
    u64::try_from(milli).unwrap_or(u64::MAX)
}

/// Deployment frequency's band: successful deployments over a window of `seconds`.
pub fn frequency_band(deployments: u64, seconds: i64) -> Option<Band> {
    if seconds <= 0 {
        return None;
    }
    // Compare deployments × period ≥ window rather than dividing: exact at the boundaries.
    let reaches = |period: i64| i128::from(deployments) * i128::from(period) >= i128::from(seconds);
    Some(if reaches(DAY) {
        Band::Elite
    } else if reaches(WEEK) {
        Band::High
    } else if reaches(MONTH) {
        Band::Medium
    } else {
        Band::Low
    })
}

/// Change lead time's band, from the median.
pub fn lead_time_band(p50: Option<i64>) -> Option<Band> {
    p50.map(|t| {
        if t < DAY {
            Band::Elite
        } else if t <= WEEK {
            Band::High
        } else if t <= MONTH {
            Band::Medium
        } else {
            Band::Low
        }
    })
}

/// Change fail rate's band: the cluster whose published rate is nearest (ties go to the
/// better cluster). None when no deployment finished.
pub fn fail_rate_band(failed: u64, finished: u64) -> Option<Band> {
    if finished == 0 {
        return None;
    }
    // In basis points to stay exact: |failed/finished − p| compared as integers.
    let bp = u128::from(failed) * 10_000 / u128::from(finished);
    let clusters = [
        (Band::Elite, 500u128),
        (Band::Medium, 1_000),
        (Band::High, 2_000),
        (Band::Low, 4_000),
    ];
    clusters
        .iter()
        .min_by_key(|(band, p)| (bp.abs_diff(*p), *band))
        .map(|(band, _)| *band)
}

/// Recovery time's band, from the median.
pub fn recovery_band(p50: Option<i64>) -> Option<Band> {
    p50.map(|t| {
        if t < HOUR {
            Band::Elite
        } else if t < DAY {
            Band::High
        } else {
            Band::Low
        }
    })
}

/// A `Revert "…"` title as GitHub's revert button writes it: the reverted pull request's title.
pub fn reverted_title(title: &str) -> Option<&str> {
    title.strip_prefix("Revert \"")?.strip_suffix('"')
}

/// A `revert-N-branch` head branch as GitHub's revert button names it: the reverted number.
pub fn reverted_number(head_ref: &str) -> Option<u64> {
    let rest = head_ref.strip_prefix("revert-")?;
    let (number, branch) = rest.split_once('-')?;
    if branch.is_empty() {
        return None;
    }
    number.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequency_bands_meet_at_their_boundaries() {
        let weeks = |n: i64| n * WEEK;
        // 28 days: 28 deployments is once a day (elite), 27 is not.
        assert_eq!(frequency_band(28, weeks(4)), Some(Band::Elite));
        assert_eq!(frequency_band(27, weeks(4)), Some(Band::High));
        assert_eq!(frequency_band(4, weeks(4)), Some(Band::High));
        assert_eq!(frequency_band(3, weeks(4)), Some(Band::Medium));
        assert_eq!(frequency_band(1, 30 * DAY), Some(Band::Medium));
        assert_eq!(frequency_band(0, weeks(4)), Some(Band::Low));
        assert_eq!(frequency_band(5, 0), None);
        assert_eq!(per_week_milli(3, weeks(4)), 750);
        assert_eq!(per_week_milli(1, 0), 0);
    }

    #[test]
    fn lead_time_and_recovery_bands() {
        assert_eq!(lead_time_band(Some(DAY - 1)), Some(Band::Elite));
        assert_eq!(lead_time_band(Some(DAY)), Some(Band::High));
        assert_eq!(lead_time_band(Some(WEEK + 1)), Some(Band::Medium));
        assert_eq!(lead_time_band(Some(MONTH + 1)), Some(Band::Low));
        assert_eq!(lead_time_band(None), None);
        assert_eq!(recovery_band(Some(HOUR - 1)), Some(Band::Elite));
        assert_eq!(recovery_band(Some(HOUR)), Some(Band::High));
        assert_eq!(recovery_band(Some(DAY)), Some(Band::Low));
    }

    #[test]
    fn fail_rate_takes_the_nearest_published_cluster() {
        assert_eq!(fail_rate_band(0, 10), Some(Band::Elite));
        // 7.5% is as near 5% as 10%: the better cluster.
        assert_eq!(fail_rate_band(3, 40), Some(Band::Elite));
        assert_eq!(fail_rate_band(1, 10), Some(Band::Medium));
        assert_eq!(fail_rate_band(2, 10), Some(Band::High));
        assert_eq!(fail_rate_band(3, 10), Some(Band::High));
        assert_eq!(fail_rate_band(4, 10), Some(Band::Low));
        assert_eq!(fail_rate_band(0, 0), None);
    }

    #[test]
    fn lead_time_counts_from_the_first_commit_else_the_opening() {
        assert_eq!(lead_time(Some(100), 200, 1_000), 900);
        assert_eq!(lead_time(None, 200, 1_000), 800);
        assert_eq!(lead_time(Some(2_000), 200, 1_000), 0);
        assert_eq!(recovery(100, Some(160)), Some(60));
        assert_eq!(recovery(100, None), None);
    }

    #[test]
    fn revert_shapes_are_githubs() {
        assert_eq!(
            reverted_title("Revert \"Add a cache\""),
            Some("Add a cache")
        );
        assert_eq!(reverted_title("Revert the cache"), None);
        assert_eq!(reverted_number("revert-42-feature/cache"), Some(42));
        assert_eq!(reverted_number("revert-x-cache"), None);
        assert_eq!(reverted_number("revert-42-"), None);
        assert_eq!(reverted_number("feature/revert-42-x"), None);
    }

    #[test]
    fn every_measure_but_rework_has_four_bands() {
        for m in Measure::ALL {
            let n = band_table(m).len();
            assert_eq!(n, if m == Measure::ReworkRate { 0 } else { 4 }, "{m:?}");
        }
    }
}
