//! Wording of `tidemark dora` and `tidemark delivery config`: each figure with its band and the
//! edition the band comes from, and with --explain every item it counts and the rule for each.

use std::fmt::Write as _;

use tidemark_protocol::delivery::{
    DeliveryConfig, DeployOutcome, DeploymentItem, DoraGroup, DoraReport, Durations, FailureItem,
    FailureKind, Signal,
};
use tidemark_protocol::metrics::dora::{self, Band, Measure};

use crate::timefmt;

/// A band as the CLI words it (`no band (nothing counted)` when nothing was counted).
pub fn band(b: Option<Band>) -> &'static str {
    b.map_or("no band (nothing counted)", Band::label)
}

/// `50.0% (4 of 8)`, exact to a tenth, rounded down.
pub fn rate(part: usize, whole: usize) -> String {
    if whole == 0 {
        return "— (nothing finished)".into();
    }
    let tenths = part * 1000 / whole;
    format!("{}.{}% ({part} of {whole})", tenths / 10, tenths % 10)
}

/// `p50 6h, p90 1d (7)`: the median, the 90th percentile and how many were counted.
pub fn spread(d: &Durations) -> String {
    if d.count == 0 {
        return "— (nothing counted)".into();
    }
    format!(
        "p50 {}, p90 {} ({})",
        timefmt::duration_or_dash(d.p50),
        timefmt::duration_or_dash(d.p90),
        d.count
    )
}

/// `3.50/week`, from thousandths.
pub fn per_week(milli: u64) -> String {
    format!("{}.{:02}/week", milli / 1000, milli % 1000 / 10)
}

/// A commit, short (its first 7 characters). Ids are shown whole: GitHub's node ids share
/// their first characters (`DE_kwDO…`).
pub fn short(s: &str) -> &str {
    let end = s.char_indices().nth(7).map_or(s.len(), |(i, _)| i);
    &s[..end]
}

/// The failures of a group not recovered (yet): those that began in it, less those whose
/// recovery time is counted.
pub fn not_recovered(g: &DoraGroup) -> u64 {
    (g.failures.len() as u64).saturating_sub(g.recovery.count)
}

/// Recovery time: `p50 3h, p90 6h (5)`, then how many failures are not recovered.
pub fn recovery(g: &DoraGroup) -> String {
    let mut recovery = spread(&g.recovery);
    let open = not_recovered(g);
    if open > 0 {
        let _ = write!(recovery, ", {open} not recovered");
    }
    recovery
}

/// A measure's figure for a group: `3.50/week (7 successful)`, `p50 6h, p90 1d (7)`,
/// `50.0% (4 of 8)`, the recovery time with what is not recovered.
pub fn figure(g: &DoraGroup, m: Measure) -> String {
    match m {
        Measure::DeploymentFrequency => format!(
            "{} ({} successful)",
            per_week(g.per_week_milli),
            g.deployed.len()
        ),
        Measure::ChangeLeadTime => spread(&g.lead_time),
        Measure::ChangeFailRate => rate(g.failed.len(), g.finished.len()),
        Measure::RecoveryTime => recovery(g),
        Measure::ReworkRate => rate(g.rework.len(), g.finished.len()),
    }
}

/// A measure's band for a group (rework rate has none in this edition: says why).
pub fn band_of(g: &DoraGroup, m: Measure) -> Option<Band> {
    match m {
        Measure::DeploymentFrequency => g.frequency_band,
        Measure::ChangeLeadTime => g.lead_time_band,
        Measure::ChangeFailRate => g.fail_rate_band,
        Measure::RecoveryTime => g.recovery_band,
        Measure::ReworkRate => None,
    }
}

fn band_words(g: &DoraGroup, m: Measure) -> &'static str {
    match m {
        Measure::ReworkRate => dora::NO_REWORK_BAND,
        m => band(band_of(g, m)),
    }
}

/// The whole report.
pub fn dora(report: &DoraReport, explain: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} → {}; bands: {}",
        timefmt::utc(report.since),
        timefmt::utc(report.until),
        report.edition
    );
    for r in &report.repos {
        let _ = writeln!(out, "  {}: {}, {}", r.repo, signal(r.signal), r.rule);
    }
    for g in &report.groups {
        out.push('\n');
        group(&mut out, report, g, explain);
    }
    out
}

/// A signal's name, with `(a proxy)` for merged pull requests.
pub fn signal(s: Signal) -> String {
    if s.is_proxy() {
        format!("{} (a proxy)", s.name())
    } else {
        s.name().to_string()
    }
}

fn group(out: &mut String, report: &DoraReport, g: &DoraGroup, explain: bool) {
    let _ = writeln!(out, "{}", g.key);
    for m in Measure::ALL {
        let _ = writeln!(
            out,
            "  {:<32} {}  [{}]",
            m.label(),
            figure(g, m),
            band_words(g, m)
        );
        if explain {
            for line in explain_items(report, g, m) {
                let _ = writeln!(out, "      {line}");
            }
        }
    }
}

/// What a measure counts in a group, one line per item with the rule that classified it: the
/// contents of `tidemark dora --explain` under that measure, and of the TUI's drill-in.
pub fn explain_items(report: &DoraReport, g: &DoraGroup, m: Measure) -> Vec<String> {
    (0..explain_count(g, m))
        .filter_map(|k| explain_item(report, g, m, k))
        .collect()
}

/// How many items a measure counts in a group.
pub fn explain_count(g: &DoraGroup, m: Measure) -> usize {
    match m {
        Measure::DeploymentFrequency => g.deployed.len(),
        Measure::ChangeLeadTime => g.changes.len(),
        Measure::ChangeFailRate => g.finished.len(),
        Measure::RecoveryTime => g.failures.len(),
        Measure::ReworkRate => g.rework.len(),
    }
}

/// The `k`th item a measure counts, worded as in [`explain_items`] (a screen words only those
/// it shows).
pub fn explain_item(report: &DoraReport, g: &DoraGroup, m: Measure, k: usize) -> Option<String> {
    let deployment_of = |i: u32| report.deployments.get(i as usize);
    let at = |list: &[u32]| list.get(k).copied();
    Some(match m {
        Measure::DeploymentFrequency => deployment(deployment_of(at(&g.deployed)?)?),
        Measure::ChangeLeadTime => {
            let c = report.changes.get(at(&g.changes)? as usize)?;
            let by = deployment_of(c.deployment).map_or("", |d| d.id.as_str());
            format!(
                "{} #{} {}: {} (shipped by {by} at {}): {}",
                c.repo,
                c.number,
                c.title,
                timefmt::duration(c.lead_time),
                timefmt::utc(c.deployed_at),
                c.rule
            )
        }
        Measure::ChangeFailRate => {
            let d = deployment_of(at(&g.finished)?)?;
            let verdict = if d.failed_by.is_empty() {
                "ok".to_string()
            } else {
                format!("FAILED: {}", d.failed_by.join("; "))
            };
            format!("{} {}: {verdict}", d.repo, d.id)
        }
        Measure::RecoveryTime => {
            let f = report.failures.get(at(&g.failures)? as usize)?;
            format!(
                "{} {} {}: {}, from {}: {}",
                f.repo,
                failure_what(f),
                f.title,
                recovery_of(f),
                timefmt::utc(f.began_at),
                f.rule
            )
        }
        Measure::ReworkRate => {
            let d = deployment_of(at(&g.rework)?)?;
            format!("{} {}: {}", d.repo, d.id, d.rework_by.join("; "))
        }
    })
}

/// What a failure is: `failed deployment`, `incident #13`, `revert #4`.
pub fn failure_what(f: &FailureItem) -> String {
    match (f.kind, f.number) {
        (FailureKind::FailedStatus, _) => "failed deployment".to_string(),
        (FailureKind::Incident, Some(n)) => format!("incident #{n}"),
        (FailureKind::Revert, Some(n)) => format!("revert #{n}"),
        (_, None) => "failure".to_string(),
    }
}

/// How long a failure took to recover, or `not recovered`.
pub fn recovery_of(f: &FailureItem) -> String {
    f.recovered_at.map_or("not recovered".to_string(), |end| {
        timefmt::duration(end - f.began_at)
    })
}

/// A deployment on one line: repository, id, short commit, when, outcome, what it shipped, its
/// rule.
pub fn deployment(d: &DeploymentItem) -> String {
    let outcome = match d.outcome {
        DeployOutcome::Success => "",
        DeployOutcome::Failure => " (failed)",
    };
    let shipped = if d.shipped.is_empty() {
        String::new()
    } else {
        let numbers: Vec<String> = d.shipped.iter().map(|n| format!("#{n}")).collect();
        format!(", shipped {}", numbers.join(" "))
    };
    format!(
        "{} {} {} at {}{outcome}{shipped}: {}",
        d.repo,
        d.id,
        short(&d.sha),
        timefmt::utc(d.at),
        d.rule
    )
}

/// The names of the team's rules (the daemon names a refused one the same way).
pub const RULE_NAMES: [&str; 5] = [
    "production pattern",
    "workflow pattern",
    "tag pattern",
    "incident label",
    "hotfix label",
];

/// The team's text rules with their names, in [`RULE_NAMES`] order.
pub fn rule_values(c: &DeliveryConfig) -> [(&'static str, &str); 5] {
    let values = [
        &c.production_pattern,
        &c.workflow_pattern,
        &c.tag_pattern,
        &c.incident_label,
        &c.hotfix_label,
    ];
    std::array::from_fn(|i| (RULE_NAMES[i], values[i].as_str()))
}

/// What a repository without a chosen signal uses.
pub const BEST_SIGNAL: &str = "the best one found in each repository";

/// The team's rules.
pub fn config(team: &str, c: &DeliveryConfig) -> String {
    let mut out = format!("Delivery rules of {team}:\n");
    for (name, value) in rule_values(c) {
        let _ = writeln!(out, "  {name:<19} {value}");
    }
    if c.signals.is_empty() {
        let _ = writeln!(out, "  {:<19} {BEST_SIGNAL}", "signals");
    }
    for (repo, signal) in &c.signals {
        let _ = writeln!(out, "  {:<19} {repo} = {}", "signal", signal.name());
    }
    out
}

/// The five figures before and after new rules (the label, before, after).
pub fn preview_rows(before: &DoraGroup, after: &DoraGroup) -> [(Measure, String, String); 5] {
    let fail_rate = |g: &DoraGroup| rate(g.failed.len(), g.finished.len());
    let rework = |g: &DoraGroup| rate(g.rework.len(), g.finished.len());
    [
        (
            Measure::DeploymentFrequency,
            per_week(before.per_week_milli),
            per_week(after.per_week_milli),
        ),
        (
            Measure::ChangeLeadTime,
            spread(&before.lead_time),
            spread(&after.lead_time),
        ),
        (Measure::ChangeFailRate, fail_rate(before), fail_rate(after)),
        (Measure::RecoveryTime, recovery(before), recovery(after)),
        (Measure::ReworkRate, rework(before), rework(after)),
    ]
}

/// What a preview covers, as its heading says.
pub const PREVIEW_HEADING: &str = "Effect on the last 12 weeks (before → after):";

/// The effect of new rules on the team's figures (the last 12 weeks), before and after.
pub fn preview(before: &DoraGroup, after: &DoraGroup, saved: bool) -> String {
    let mut out = format!("{PREVIEW_HEADING}\n");
    for (m, b, a) in preview_rows(before, after) {
        let _ = writeln!(out, "  {:<32} {b} → {a}", m.label());
    }
    out.push_str(if saved {
        "Saved.\n"
    } else {
        "Not saved: run again with --yes to save these rules.\n"
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_weeks_are_exact_and_never_guessed() {
        assert_eq!(rate(4, 8), "50.0% (4 of 8)");
        assert_eq!(rate(1, 3), "33.3% (1 of 3)");
        assert_eq!(rate(0, 0), "— (nothing finished)");
        assert_eq!(per_week(3_500), "3.50/week");
        assert_eq!(per_week(125), "0.12/week");
    }
}
