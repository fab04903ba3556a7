//! `export`: a team's pull requests, deployments, incidents or weekly measures as CSV or JSON,
//! for spreadsheets. Parsing only; running it is in `commands::export`.

use clap::{Args, ValueEnum};

const EXPORT_HELP: &str = "\
What each export holds (one row each):
  prs          pull requests opened in the window: times, size, cycle and review time
  deployments  deployments in the window (or merged pull requests standing in for them), with
               the rule that counted each, what they shipped, why they failed or are rework
  incidents    failures that began in the window: failed deployments, incidents, reverts, and
               their recovery
  metrics      one row per ISO week: review measures and the five delivery measures

Times are Unix seconds and ISO 8601 (UTC); durations are seconds. In CSV a text cell that a
spreadsheet would run as a formula (starting with = + - @) is prefixed with '.

Examples:
  tidemark export --team platform --what prs --format csv > prs.csv
  tidemark export --team platform --what metrics --since 52w --format json";

#[derive(Debug, Args, Clone, PartialEq, Eq)]
#[command(after_help = EXPORT_HELP)]
pub struct ExportArgs {
    /// The team (a name, or #id)
    #[arg(long, value_name = "NAME")]
    pub team: String,
    /// What to export
    #[arg(long, value_enum)]
    pub what: ExportWhat,
    /// The format written to stdout
    #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
    pub format: ExportFormat,
    /// Start of the window: YYYY-MM-DD (UTC), or 30d / 12w back from now (default 12w)
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportWhat {
    Prs,
    Deployments,
    Incidents,
    Metrics,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Json,
}
