//! Wording of `tidemark dora` and `tidemark delivery config`: each figure with its band and the
//! edition the band comes from, and with --explain every item it counts and the rule for each.

use std::fmt::Write as _;

use tidemark_protocol::delivery::{
    DeliveryConfig, DeployOutcome, DoraGroup, DoraReport, Durations, FailureKind,
};
use tidemark_protocol::metrics::dora::{self, Band, Measure};

use crate::timefmt;

fn band(b: Option<Band>) -> &'static str {
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

fn spread(d: &Durations) -> String {
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

fn per_week(milli: u64) -> String {
    format!("{}.{:02}/week", milli / 1000, milli % 1000 / 10)
}

fn short(s: &str) -> &str {
    &s[..s.len().min(7)]
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
        let proxy = if r.signal.is_proxy() {
            " (a proxy)"
        } else {
            ""
        };
        let _ = writeln!(out, "  {}: {}{proxy}, {}", r.repo, r.signal.name(), r.rule);
    }
    for g in &report.groups {
        out.push('\n');
        group(&mut out, report, g, explain);
    }
    out
}

fn group(out: &mut String, report: &DoraReport, g: &DoraGroup, explain: bool) {
    let _ = writeln!(out, "{}", g.key);
    let line = |out: &mut String, m: Measure, value: String, b: &str| {
        let _ = writeln!(out, "  {:<32} {value}  [{b}]", m.label());
    };
    line(
        out,
        Measure::DeploymentFrequency,
        format!(
            "{} ({} successful)",
            per_week(g.per_week_milli),
            g.deployed.len()
        ),
        band(g.frequency_band),
    );
    if explain {
        for &i in &g.deployed {
            deployment(out, report, i);
        }
    }
    line(
        out,
        Measure::ChangeLeadTime,
        spread(&g.lead_time),
        band(g.lead_time_band),
    );
    if explain {
        for &i in &g.changes {
            let c = &report.changes[i as usize];
            let d = &report.deployments[c.deployment as usize];
            let _ = writeln!(
                out,
                "      {} #{} {}: {} (shipped by {} at {}): {}",
                c.repo,
                c.number,
                c.title,
                timefmt::duration(c.lead_time),
                short(&d.id),
                timefmt::utc(c.deployed_at),
                c.rule
            );
        }
    }
    line(
        out,
        Measure::ChangeFailRate,
        rate(g.failed.len(), g.finished.len()),
        band(g.fail_rate_band),
    );
    if explain {
        for &i in &g.finished {
            let d = &report.deployments[i as usize];
            let verdict = if d.failed_by.is_empty() {
                "ok".to_string()
            } else {
                format!("FAILED: {}", d.failed_by.join("; "))
            };
            let _ = writeln!(out, "      {} {}: {verdict}", d.repo, short(&d.id));
        }
    }
    let open = g
        .failures
        .iter()
        .filter(|&&i| report.failures[i as usize].recovered_at.is_none())
        .count();
    let mut recovery = spread(&g.recovery);
    if open > 0 {
        let _ = write!(recovery, ", {open} not recovered");
    }
    line(out, Measure::RecoveryTime, recovery, band(g.recovery_band));
    if explain {
        for &i in &g.failures {
            let f = &report.failures[i as usize];
            let what = match (f.kind, f.number) {
                (FailureKind::FailedStatus, _) => "failed deployment".to_string(),
                (FailureKind::Incident, Some(n)) => format!("incident #{n}"),
                (FailureKind::Revert, Some(n)) => format!("revert #{n}"),
                (_, None) => "failure".to_string(),
            };
            let took = f.recovered_at.map_or("not recovered".to_string(), |end| {
                timefmt::duration(end - f.began_at)
            });
            let _ = writeln!(
                out,
                "      {} {what} {}: {took}, from {}: {}",
                f.repo,
                f.title,
                timefmt::utc(f.began_at),
                f.rule
            );
        }
    }
    line(
        out,
        Measure::ReworkRate,
        rate(g.rework.len(), g.finished.len()),
        dora::NO_REWORK_BAND,
    );
    if explain {
        for &i in &g.rework {
            let d = &report.deployments[i as usize];
            let _ = writeln!(
                out,
                "      {} {}: {}",
                d.repo,
                short(&d.id),
                d.rework_by.join("; ")
            );
        }
    }
}

fn deployment(out: &mut String, report: &DoraReport, i: u32) {
    let d = &report.deployments[i as usize];
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
    let _ = writeln!(
        out,
        "      {} {} {} at {}{outcome}{shipped}: {}",
        d.repo,
        short(&d.id),
        short(&d.sha),
        timefmt::utc(d.at),
        d.rule
    );
}

/// The team's rules.
pub fn config(team: &str, c: &DeliveryConfig) -> String {
    let mut out = format!("Delivery rules of {team}:\n");
    let _ = writeln!(out, "  production pattern  {}", c.production_pattern);
    let _ = writeln!(out, "  workflow pattern    {}", c.workflow_pattern);
    let _ = writeln!(out, "  tag pattern         {}", c.tag_pattern);
    let _ = writeln!(out, "  incident label      {}", c.incident_label);
    let _ = writeln!(out, "  hotfix label        {}", c.hotfix_label);
    if c.signals.is_empty() {
        out.push_str("  signals             the best one found in each repository\n");
    }
    for (repo, signal) in &c.signals {
        let _ = writeln!(out, "  signal              {repo} = {}", signal.name());
    }
    out
}

/// The effect of new rules on the team's figures (the last 12 weeks), before and after.
pub fn preview(before: &DoraGroup, after: &DoraGroup, saved: bool) -> String {
    let mut out = String::from("Effect on the last 12 weeks (before → after):\n");
    let rows = [
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
        (
            Measure::ChangeFailRate,
            rate(before.failed.len(), before.finished.len()),
            rate(after.failed.len(), after.finished.len()),
        ),
        (
            Measure::RecoveryTime,
            spread(&before.recovery),
            spread(&after.recovery),
        ),
        (
            Measure::ReworkRate,
            rate(before.rework.len(), before.finished.len()),
            rate(after.rework.len(), after.finished.len()),
        ),
    ];
    for (m, b, a) in rows {
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
