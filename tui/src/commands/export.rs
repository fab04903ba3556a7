//! `tidemark export`: rows for spreadsheets, from the same calls the other commands make.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;
use tidemark_protocol::delivery::{
    DeployOutcome, DoraGrouping, DoraQuery, DoraReport, FailureKind,
};
use tidemark_protocol::metrics::dora::WEEK;
use tidemark_protocol::{MetricsGrouping, MetricsQuery, PrInfo, PrQuery, TeamRef};

use super::{CliError, connect};
use crate::autostart::Endpoint;
use crate::cli::{ExportArgs, ExportFormat, ExportWhat};
use crate::timefmt;

/// The default window, as `tidemark dora`'s.
const DEFAULT_WEEKS: i64 = 12;
/// Weeks of items read per call.
const SLICE_WEEKS: i64 = 4;

/// `2026-11-02T10:00:00Z`.
fn iso(t: i64) -> String {
    let day = timefmt::utc(t);
    // `utc` gives `2026-11-02 10:00 UTC`: rebuilt with seconds for ISO 8601.
    let date = &day[..10];
    let secs = t.rem_euclid(86_400);
    format!(
        "{date}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

fn iso_opt(t: Option<i64>) -> String {
    t.map(iso).unwrap_or_default()
}

/// A text cell a spreadsheet would run as a formula gets a leading `'` (OWASP's advice for
/// CSV injection): titles and names come from GitHub, written by anyone.
pub fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

#[derive(Serialize)]
struct PrRow {
    repo: String,
    number: u64,
    title: String,
    author: String,
    author_is_bot: bool,
    state: String,
    created_at: i64,
    created: String,
    ready_at: Option<i64>,
    first_commit_at: Option<i64>,
    first_review_at: Option<i64>,
    merged_at: Option<i64>,
    merged: String,
    additions: u64,
    deletions: u64,
    reviews: u32,
    commits: u32,
    cycle_time_secs: Option<i64>,
    review_time_secs: Option<i64>,
}

#[derive(Serialize)]
struct DeploymentRow {
    repo: String,
    signal: String,
    proxy: bool,
    id: String,
    sha: String,
    name: String,
    at: i64,
    at_iso: String,
    outcome: String,
    failed: bool,
    rework: bool,
    shipped: String,
    rule: String,
    failed_by: String,
    rework_by: String,
}

#[derive(Serialize)]
struct IncidentRow {
    repo: String,
    kind: String,
    number: Option<u64>,
    title: String,
    deployment: String,
    began_at: i64,
    began: String,
    recovered_at: Option<i64>,
    recovered: String,
    recovery_secs: Option<i64>,
    rule: String,
}

#[derive(Serialize, Default)]
struct WeekRow {
    week: String,
    prs_opened: u64,
    prs_merged: u64,
    cycle_time_p50_secs: Option<i64>,
    cycle_time_p90_secs: Option<i64>,
    review_time_p50_secs: Option<i64>,
    review_time_p90_secs: Option<i64>,
    deployments: u64,
    deployments_per_week: f64,
    change_lead_time_p50_secs: Option<i64>,
    change_lead_time_p90_secs: Option<i64>,
    deployments_finished: u64,
    deployments_failed: u64,
    recovery_time_p50_secs: Option<i64>,
    recovery_time_p90_secs: Option<i64>,
    deployments_rework: u64,
    bands_edition: String,
}

fn pr_rows(prs: Vec<PrInfo>, since: i64) -> Vec<PrRow> {
    prs.into_iter()
        .filter(|p| p.created_at >= since)
        .map(|p| PrRow {
            repo: p.repo,
            number: p.number,
            title: cell(&p.title),
            author: cell(p.author.as_deref().unwrap_or("")),
            author_is_bot: p.author_is_bot,
            state: format!("{:?}", p.state).to_lowercase(),
            created_at: p.created_at,
            created: iso(p.created_at),
            ready_at: p.ready_at,
            first_commit_at: p.first_commit_at,
            first_review_at: p.first_review_at,
            merged_at: p.merged_at,
            merged: iso_opt(p.merged_at),
            additions: p.additions,
            deletions: p.deletions,
            reviews: p.reviews,
            commits: p.commits,
            cycle_time_secs: p.cycle_time,
            review_time_secs: p.review_time,
        })
        .collect()
}

fn deployment_rows(r: &DoraReport) -> Vec<DeploymentRow> {
    r.deployments
        .iter()
        .filter(|d| r.since <= d.at && d.at < r.until)
        .map(|d| DeploymentRow {
            repo: d.repo.clone(),
            signal: d.signal.name().into(),
            proxy: d.signal.is_proxy(),
            id: d.id.clone(),
            sha: d.sha.clone(),
            name: cell(&d.name),
            at: d.at,
            at_iso: iso(d.at),
            outcome: match d.outcome {
                DeployOutcome::Success => "success".into(),
                DeployOutcome::Failure => "failure".into(),
            },
            failed: !d.failed_by.is_empty(),
            rework: !d.rework_by.is_empty(),
            shipped: d
                .shipped
                .iter()
                .map(|n| format!("#{n}"))
                .collect::<Vec<_>>()
                .join(" "),
            rule: cell(&d.rule),
            failed_by: cell(&d.failed_by.join("; ")),
            rework_by: cell(&d.rework_by.join("; ")),
        })
        .collect()
}

fn incident_rows(r: &DoraReport) -> Vec<IncidentRow> {
    r.failures
        .iter()
        .map(|f| IncidentRow {
            repo: f.repo.clone(),
            kind: match f.kind {
                FailureKind::FailedStatus => "failed-deployment".into(),
                FailureKind::Incident => "incident".into(),
                FailureKind::Revert => "revert".into(),
            },
            number: f.number,
            title: cell(&f.title),
            deployment: r.deployments[f.deployment as usize].id.clone(),
            began_at: f.began_at,
            began: iso(f.began_at),
            recovered_at: f.recovered_at,
            recovered: iso_opt(f.recovered_at),
            recovery_secs: f.recovered_at.map(|end| (end - f.began_at).max(0)),
            rule: cell(&f.rule),
        })
        .collect()
}

fn week_rows(review: Vec<tidemark_protocol::MetricsRow>, delivery: &DoraReport) -> Vec<WeekRow> {
    let mut weeks: BTreeMap<String, WeekRow> = BTreeMap::new();
    for g in &delivery.groups {
        let w = weeks.entry(g.key.clone()).or_default();
        w.deployments = g.deployed.len() as u64;
        w.deployments_per_week = g.per_week_milli as f64 / 1000.0;
        w.change_lead_time_p50_secs = g.lead_time.p50;
        w.change_lead_time_p90_secs = g.lead_time.p90;
        w.deployments_finished = g.finished.len() as u64;
        w.deployments_failed = g.failed.len() as u64;
        w.recovery_time_p50_secs = g.recovery.p50;
        w.recovery_time_p90_secs = g.recovery.p90;
        w.deployments_rework = g.rework.len() as u64;
    }
    for row in review {
        // Review rows outside the delivery window's weeks are left out: one window for both.
        if let Some(w) = weeks.get_mut(&row.key) {
            w.prs_opened = row.prs;
            w.prs_merged = row.merged;
            w.cycle_time_p50_secs = row.cycle_time.p50;
            w.cycle_time_p90_secs = row.cycle_time.p90;
            w.review_time_p50_secs = row.review_time.p50;
            w.review_time_p90_secs = row.review_time.p90;
        }
    }
    weeks
        .into_iter()
        .map(|(week, mut row)| {
            row.week = week;
            row.bands_edition.clone_from(&delivery.edition);
            row
        })
        .collect()
}

fn write<T: Serialize>(format: ExportFormat, rows: &[T]) -> Result<(), CliError> {
    let mut out = io::stdout().lock();
    match format {
        ExportFormat::Json => {
            let mut json = serde_json::to_string_pretty(rows).map_err(io::Error::other)?;
            json.push('\n');
            out.write_all(json.as_bytes())?;
        }
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            for row in rows {
                w.serialize(row).map_err(io::Error::other)?;
            }
            w.flush()?;
        }
    }
    Ok(())
}

pub async fn export(args: ExportArgs, endpoint: &Endpoint) -> Result<(), CliError> {
    let now = timefmt::now();
    let since = match args.since.as_deref() {
        Some(text) => timefmt::parse_since(text, now).map_err(CliError::InvalidSince)?,
        None => now - DEFAULT_WEEKS * WEEK,
    };
    let team = TeamRef::parse(&args.team);
    let conn = connect(endpoint).await?;
    let dora = |since: i64, until: i64, by, explain: bool| DoraQuery {
        team: team.clone(),
        since: Some(since),
        until: Some(until),
        by,
        config: None,
        explain,
    };
    // Items (deployments, failures) are read four weeks at a time: a year of a big team's is
    // more than one answer carries. Each belongs to the slice its time falls in.
    let slices = || {
        let mut out = Vec::new();
        let mut from = since;
        while from < now {
            let to = (from + SLICE_WEEKS * WEEK).min(now);
            out.push((from, to));
            from = to;
        }
        out
    };
    match args.what {
        ExportWhat::Prs => {
            let prs = conn
                .pull_requests(PrQuery {
                    team: team.clone(),
                    repo: None,
                    state: None,
                    limit: 0,
                })
                .await?;
            write(args.format, &pr_rows(prs, since))
        }
        ExportWhat::Deployments => {
            let mut rows = Vec::new();
            for (from, to) in slices() {
                let report = conn.dora(dora(from, to, DoraGrouping::Team, true)).await?;
                rows.extend(deployment_rows(&report));
            }
            write(args.format, &rows)
        }
        ExportWhat::Incidents => {
            let mut rows = Vec::new();
            for (from, to) in slices() {
                let report = conn.dora(dora(from, to, DoraGrouping::Team, true)).await?;
                rows.extend(incident_rows(&report));
            }
            write(args.format, &rows)
        }
        ExportWhat::Metrics => {
            let report = conn
                .dora(dora(since, now, DoraGrouping::Week, false))
                .await?;
            let review = conn
                .metrics(MetricsQuery {
                    team: team.clone(),
                    since: Some(since),
                    by: MetricsGrouping::Week,
                    include_bots: false,
                })
                .await?;
            write(args.format, &week_rows(review, &report))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_times_are_iso() {
        assert_eq!(
            cell("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(cell("-1+1"), "'-1+1");
        assert_eq!(cell("Fix the cache"), "Fix the cache");
        assert_eq!(iso(1_793_577_600 + 3_661), "2026-11-02T01:01:01Z");
    }
}
