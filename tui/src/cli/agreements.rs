//! `agreements`, `alerts`, `slack`, `connect slack` and `disconnect slack`: the team's working
//! agreements, their breaches and the Slack link. Parsing only (values are checked here with
//! the protocol's own parsers, so a bad one is a usage error naming its flag); running them is
//! in `commands::agreements` and `commands::slack`, wording their output in
//! `output::agreements`.

use clap::{Args, Subcommand, ValueEnum};
use tidemark_protocol::agreements::{Span, WorkingHours, parse_clock};

use super::Format;

const AGREEMENTS_HELP: &str = "\
Working agreements are limits a team sets itself; the daemon checks every pull request against
them and records a breach when one is crossed (`tidemark alerts` lists them, Slack hears of
them when the team is connected):
  first-review          a first review (not by the author, not a bot) within a span of the
                        pull request becoming ready
  max-size              at most this many lines changed (additions plus deletions)
  merge-within          merged within a span of opening
  min-approvals         at least this many approvals before merge
  max-open-per-author   at most this many open pull requests (drafts aside) per author

Spans are hours or days (24h, 2d). With working hours set, they count working time in the
team's time zone: 24h is 24 working hours, 2d two working days.

Examples:
  tidemark agreements show --team platform
  tidemark agreements set --team platform --first-review-within 24h --max-size 400
  tidemark agreements set --team platform --working-hours 09:00-18:00 --timezone Europe/Berlin
  tidemark agreements set --team platform --unset max-size --unset digest
  tidemark agreements adherence --team platform --since 12w";

const SET_HELP: &str = "\
Reads the team's agreements, changes only what the flags give, saves them and prints what was
saved. Only the team's admins and owners may; the daemon refuses others.

Examples:
  tidemark agreements set --team platform --first-review-within 24h --merge-within 7d
  tidemark agreements set --team platform --min-approvals 1 --max-open-per-author 5
  tidemark agreements set --team platform --working-hours 09:00-18:00 --timezone Europe/Berlin \\
      --digest-at 09:30
  tidemark agreements set --team platform --unset working-hours";

const ALERTS_HELP: &str = "\
The first line gives the open count and the Slack link's state (`reconnect — …` when posting
stopped and a person must act). Times are in this machine's time zone.

Examples:
  tidemark alerts --team platform
  tidemark alerts --team platform --all --since 30d
  tidemark alerts --team platform --json";

const CONNECT_SLACK_HELP: &str = "\
tidemark prints Slack's authorize link (and opens a browser when there is a display; not with
--no-browser), then waits for Slack's answer; Ctrl-C stops waiting. Once the workspace is
linked, alerts and digests need a channel: --channel names it (#name, name or Slack's id),
otherwise tidemark lists the channels its bot can see and asks (a terminal is needed). Only the
team's admins and owners may connect it.

Examples:
  tidemark connect slack --team platform
  tidemark connect slack --team platform --channel '#eng-alerts' --no-browser";

const DISCONNECT_SLACK_HELP: &str = "\
Revokes the Slack token and deletes it; messages not yet sent are dropped. Breaches stay.

Examples:
  tidemark disconnect slack --team platform
  tidemark disconnect slack --team platform --yes --json";

const SLACK_HELP: &str = "\
Examples:
  tidemark slack status --team platform
  tidemark slack channel --team platform '#eng-alerts'
  tidemark slack channel --team platform C024BE91L";

/// The help after `tidemark agreements --help`.
pub const AGREEMENTS_AFTER_HELP: &str = AGREEMENTS_HELP;
/// The help after `tidemark slack --help`.
pub const SLACK_AFTER_HELP: &str = SLACK_HELP;

#[derive(Debug, Subcommand, PartialEq, Eq)]
pub enum AgreementsCommand {
    /// Each agreement with its limit (or "not set"), the working hours and time zone, and the
    /// digest's time
    #[command(after_help = AGREEMENTS_HELP)]
    Show {
        /// The team (a name, or #id)
        #[arg(long, value_name = "NAME")]
        team: String,
        #[command(flatten)]
        format: Format,
    },
    /// Change some of the team's agreements (admins and owners); the others stay
    Set(AgreementsSetArgs),
    /// How many pull requests stayed within each agreement, per ISO week
    Adherence {
        /// The team (a name, or #id)
        #[arg(long, value_name = "NAME")]
        team: String,
        /// Pull requests opened since: YYYY-MM-DD (UTC), or 30d / 12w back from now (default:
        /// the daemon's, 12 weeks)
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        #[command(flatten)]
        format: Format,
    },
}

/// A setting `--unset` takes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Unset {
    FirstReview,
    MaxSize,
    MergeWithin,
    MinApprovals,
    MaxOpenPerAuthor,
    WorkingHours,
    Digest,
}

#[derive(Debug, Args, Clone, PartialEq, Eq)]
#[command(after_help = SET_HELP)]
pub struct AgreementsSetArgs {
    /// The team (a name, or #id)
    #[arg(long, value_name = "NAME")]
    pub team: String,
    /// A first review within this span of the pull request becoming ready (24h, 2d)
    #[arg(long, value_name = "SPAN", value_parser = Span::parse)]
    pub first_review_within: Option<Span>,
    /// At most this many lines changed per pull request (additions plus deletions)
    #[arg(long, value_name = "LINES", value_parser = at_least_one)]
    pub max_size: Option<u32>,
    /// Merged within this span of opening (7d, 72h)
    #[arg(long, value_name = "SPAN", value_parser = Span::parse)]
    pub merge_within: Option<Span>,
    /// At least this many approving reviews before merge
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub min_approvals: Option<u32>,
    /// At most this many open pull requests (drafts aside) per author
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub max_open_per_author: Option<u32>,
    /// The working day, Monday to Friday, as HH:MM-HH:MM: spans then count working time only
    #[arg(long, value_name = "HH:MM-HH:MM", value_parser = WorkingHours::parse)]
    pub working_hours: Option<WorkingHours>,
    /// The team's IANA time zone (Europe/Berlin), for working hours and the digest
    #[arg(long, value_name = "ZONE", value_parser = timezone)]
    pub timezone: Option<String>,
    /// Post a daily digest to Slack at this local time (HH:MM)
    #[arg(long, value_name = "HH:MM", value_parser = time_of_day)]
    pub digest_at: Option<u16>,
    /// Take a setting back (repeatable): first-review, max-size, merge-within, min-approvals,
    /// max-open-per-author, working-hours, digest
    #[arg(long, value_name = "NAME", value_enum)]
    pub unset: Vec<Unset>,
    #[command(flatten)]
    pub format: Format,
}

impl AgreementsSetArgs {
    /// Whether any flag asks for a change.
    pub fn changes_something(&self) -> bool {
        self.first_review_within.is_some()
            || self.max_size.is_some()
            || self.merge_within.is_some()
            || self.min_approvals.is_some()
            || self.max_open_per_author.is_some()
            || self.working_hours.is_some()
            || self.timezone.is_some()
            || self.digest_at.is_some()
            || !self.unset.is_empty()
    }
}

fn at_least_one(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("'{text}' is not a whole number")),
    }
}

/// `HH:MM` within the day (24:00 ends a working day, but is no time to post at).
pub fn time_of_day(text: &str) -> Result<u16, String> {
    match parse_clock(text) {
        Some(m) if m < 24 * 60 => Ok(m),
        _ => Err(format!(
            "'{text}' is not a time of day: write HH:MM, e.g. 09:30"
        )),
    }
}

/// The daemon knows the zones; this catches what cannot be one (empty, spaces) before a call.
fn timezone(text: &str) -> Result<String, String> {
    let t = text.trim();
    if t.is_empty() || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "'{text}' is not a time zone name: write an IANA name, e.g. Europe/Berlin or UTC"
        ));
    }
    Ok(t.to_string())
}

#[derive(Debug, Args, Clone, PartialEq, Eq)]
#[command(after_help = ALERTS_HELP)]
pub struct AlertsArgs {
    /// The team (a name, or #id)
    #[arg(long, value_name = "NAME")]
    pub team: String,
    /// Also the resolved breaches
    #[arg(long)]
    pub all: bool,
    /// Breaches that began since: YYYY-MM-DD (UTC), or 30d / 12w back from now
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    #[command(flatten)]
    pub format: Format,
}

#[derive(Debug, Subcommand, PartialEq, Eq)]
pub enum SlackCommand {
    /// The team's Slack link: workspace, channel, what stopped it, messages sent and waiting
    Status {
        /// The team (a name, or #id)
        #[arg(long, value_name = "NAME")]
        team: String,
        #[command(flatten)]
        format: Format,
    },
    /// Choose the channel alerts and digests go to (admins and owners)
    #[command(after_help = SLACK_HELP)]
    Channel {
        /// The team (a name, or #id)
        #[arg(long, value_name = "NAME")]
        team: String,
        /// The channel: #name, name, or Slack's channel id (C024BE91L)
        #[arg(value_name = "CHANNEL")]
        channel: String,
        #[command(flatten)]
        format: Format,
    },
}

#[derive(Debug, Args, PartialEq, Eq)]
#[command(after_help = CONNECT_SLACK_HELP)]
pub struct ConnectSlack {
    /// The team to connect (a name, or #id)
    #[arg(long, value_name = "NAME")]
    pub team: String,
    /// The channel for alerts and digests (#name, name or id); asked for when not given
    #[arg(long, value_name = "CHANNEL")]
    pub channel: Option<String>,
    /// Only print the authorize link: never start a browser
    #[arg(long)]
    pub no_browser: bool,
    #[command(flatten)]
    pub format: Format,
}

#[derive(Debug, Args, PartialEq, Eq)]
#[command(after_help = DISCONNECT_SLACK_HELP)]
pub struct DisconnectSlack {
    /// The team to disconnect (a name, or #id)
    #[arg(long, value_name = "NAME")]
    pub team: String,
    /// Do not ask for confirmation (needed when stdin is not a terminal)
    #[arg(long, short)]
    pub yes: bool,
    #[command(flatten)]
    pub format: Format,
}

/// What the daemon's `slack_channel_set` takes for what a person typed: an id as it is, a name
/// as `#name` (so `eng-alerts` and `#eng-alerts` mean the same).
pub fn channel_arg(text: &str) -> String {
    let t = text.trim();
    if t.starts_with('#') || is_channel_id(t) {
        t.to_string()
    } else {
        format!("#{t}")
    }
}

/// Slack's channel ids: `C`, `G` or `D` and upper-case letters and digits (`C024BE91L`).
/// Channel names are lower case, so the two cannot be confused.
pub fn is_channel_id(text: &str) -> bool {
    text.len() >= 9
        && text.starts_with(['C', 'G', 'D'])
        && text
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

#[cfg(test)]
#[path = "agreements_tests.rs"]
mod tests;
