//! Wire types of working agreements: the limits a team sets itself ([`Agreements`]), the
//! breaches the daemon records when a pull request crosses one ([`Breach`]), weekly adherence,
//! and the team's Slack link ([`SlackStatus`]).
//!
//! Time limits are [`Span`]s. When the team sets working hours, a span counts only working
//! time in the team's time zone: `24h` is 24 working hours and `2d` two working days (each as
//! long as the working day), so a pull request opened on Friday evening is not late on Saturday.

use crate::TeamRef;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A time limit as the team wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Span {
    Hours(u32),
    Days(u32),
}

/// The longest span accepted (a year), so that deadlines stay far from overflow.
pub const SPAN_MAX_HOURS: u32 = 366 * 24;

impl Span {
    /// `24h`, `7d` (a number and its unit; at least 1, at most a year).
    pub fn parse(text: &str) -> Result<Span, String> {
        let t = text.trim();
        let bad = || format!("'{text}' is not a span: write hours or days, e.g. 24h or 7d");
        let (num, unit) = t.split_at(t.len().saturating_sub(1));
        let n: u32 = num.parse().map_err(|_| bad())?;
        let span = match unit {
            "h" | "H" => Span::Hours(n),
            "d" | "D" => Span::Days(n),
            _ => return Err(bad()),
        };
        if n == 0 {
            return Err(format!("'{text}': a span is at least 1h"));
        }
        if span.calendar_hours() > u64::from(SPAN_MAX_HOURS) {
            return Err(format!("'{text}': a span is at most 366d"));
        }
        Ok(span)
    }

    /// Its length in hours when working hours are not set.
    pub fn calendar_hours(self) -> u64 {
        match self {
            Span::Hours(h) => u64::from(h),
            Span::Days(d) => u64::from(d) * 24,
        }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Span::Hours(h) => write!(f, "{h}h"),
            Span::Days(d) => write!(f, "{d}d"),
        }
    }
}

/// The working week: a daily window (minutes after local midnight) on the days set in `days`
/// (bit 0 Monday … bit 6 Sunday), in the team's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkingHours {
    pub start_minute: u16,
    pub end_minute: u16,
    pub days: u8,
}

/// Monday to Friday.
pub const WEEKDAYS: u8 = 0b0001_1111;

impl WorkingHours {
    /// `09:00-18:00`, Monday to Friday.
    pub fn parse(text: &str) -> Result<WorkingHours, String> {
        let bad = || format!("'{text}' is not a working day: write HH:MM-HH:MM, e.g. 09:00-18:00");
        let (a, b) = text.trim().split_once('-').ok_or_else(bad)?;
        let start = parse_clock(a).ok_or_else(bad)?;
        let end = parse_clock(b).ok_or_else(bad)?;
        if end <= start {
            return Err(format!(
                "'{text}': the working day must end after it starts"
            ));
        }
        Ok(WorkingHours {
            start_minute: start,
            end_minute: end,
            days: WEEKDAYS,
        })
    }

    /// Length of one working day in seconds.
    pub fn day_seconds(&self) -> i64 {
        i64::from(self.end_minute - self.start_minute) * 60
    }
}

impl fmt::Display for WorkingHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", clock(self.start_minute), clock(self.end_minute))?;
        if self.days != WEEKDAYS {
            let names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
            let on: Vec<&str> = (0..7)
                .filter(|d| self.days & (1 << d) != 0)
                .map(|d| names[d])
                .collect();
            write!(f, " {}", on.join(","))?;
        }
        Ok(())
    }
}

/// `HH:MM` to minutes after midnight (24:00 allowed as the end of a day).
pub fn parse_clock(text: &str) -> Option<u16> {
    let (h, m) = text.trim().split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

/// Minutes after midnight as `HH:MM`.
pub fn clock(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// A team's working agreements. Each limit is optional; `None` means the team has not set it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agreements {
    /// A first review (by someone other than the author, not a bot) within this span of the
    /// pull request becoming ready for review.
    pub first_review_within: Option<Span>,
    /// At most this many lines changed (additions plus deletions) per pull request.
    pub max_size: Option<u32>,
    /// Merged within this span of opening.
    pub merge_within: Option<Span>,
    /// At least this many approving reviews (distinct reviewers, not the author) before merge.
    pub min_approvals: Option<u32>,
    /// At most this many open pull requests (drafts aside) per author.
    pub max_open_per_author: Option<u32>,
    /// Spans count only working time when set.
    pub working_hours: Option<WorkingHours>,
    /// An IANA time zone name (`Europe/Berlin`): for working hours and the digest's time.
    pub timezone: String,
    /// When the daily Slack digest is posted, in minutes after local midnight (None: no digest).
    pub digest_at: Option<u16>,
}

impl Default for Agreements {
    fn default() -> Self {
        Agreements {
            first_review_within: None,
            max_size: None,
            merge_within: None,
            min_approvals: None,
            max_open_per_author: None,
            working_hours: None,
            timezone: "UTC".into(),
            digest_at: None,
        }
    }
}

impl Agreements {
    /// Whether any limit is set (working hours and time zone alone check nothing).
    pub fn any(&self) -> bool {
        self.first_review_within.is_some()
            || self.max_size.is_some()
            || self.merge_within.is_some()
            || self.min_approvals.is_some()
            || self.max_open_per_author.is_some()
    }

    /// The limit of one agreement as worded for people, or None when not set.
    pub fn limit_text(&self, kind: AgreementKind) -> Option<String> {
        let hours = if self.working_hours.is_some() {
            " (working time)"
        } else {
            ""
        };
        match kind {
            AgreementKind::FirstReview => self
                .first_review_within
                .map(|s| format!("first review within {s}{hours}")),
            AgreementKind::MaxSize => self.max_size.map(|n| format!("at most {n} lines changed")),
            AgreementKind::MergeWithin => self
                .merge_within
                .map(|s| format!("merged within {s} of opening{hours}")),
            AgreementKind::MinApprovals => self
                .min_approvals
                .map(|n| format!("at least {n} approval(s) before merge")),
            AgreementKind::MaxOpenPerAuthor => self
                .max_open_per_author
                .map(|n| format!("at most {n} open pull request(s) per author")),
        }
    }
}

/// Which agreement a breach crosses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AgreementKind {
    FirstReview,
    MaxSize,
    MergeWithin,
    MinApprovals,
    MaxOpenPerAuthor,
}

impl AgreementKind {
    pub const ALL: [AgreementKind; 5] = [
        AgreementKind::FirstReview,
        AgreementKind::MaxSize,
        AgreementKind::MergeWithin,
        AgreementKind::MinApprovals,
        AgreementKind::MaxOpenPerAuthor,
    ];

    /// The name the CLI, JSON and Slack messages use.
    pub fn name(self) -> &'static str {
        match self {
            AgreementKind::FirstReview => "first-review",
            AgreementKind::MaxSize => "max-size",
            AgreementKind::MergeWithin => "merge-within",
            AgreementKind::MinApprovals => "min-approvals",
            AgreementKind::MaxOpenPerAuthor => "max-open-per-author",
        }
    }

    pub fn from_name(name: &str) -> Option<AgreementKind> {
        AgreementKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether crossing it is a matter of time passing (the timer checks these).
    pub fn is_timed(self) -> bool {
        matches!(
            self,
            AgreementKind::FirstReview | AgreementKind::MergeWithin
        )
    }
}

/// How far past its limit a breach is (at the time of the answer, or at its resolution).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Over {
    /// Seconds past the deadline (no working hours: every second counts).
    Seconds(i64),
    /// Working seconds past the deadline, and how long the team's working day is (a working
    /// day is that long, not 24 hours).
    WorkingTime { seconds: i64, day_seconds: i64 },
    /// Lines changed beyond the limit.
    Lines(u64),
    /// Approvals missing at merge.
    Approvals(u32),
    /// Open pull requests beyond the limit.
    OpenPrs(u32),
}

/// Working time as people count it: `2 working days 4h`, `3h 20m`, `45m` (a working day is
/// `day_seconds` long).
pub fn working_time(seconds: i64, day_seconds: i64) -> String {
    let s = seconds.max(0);
    let day = day_seconds.max(60);
    let (days, rest) = (s / day, s % day);
    let (h, m) = (rest / 3_600, rest % 3_600 / 60);
    let clock = match (h, m) {
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h {m}m"),
    };
    match days {
        0 => clock,
        1 if rest < 60 => "1 working day".into(),
        1 => format!("1 working day {clock}"),
        d if rest < 60 => format!("{d} working days"),
        d => format!("{d} working days {clock}"),
    }
}

/// Where a breach's Slack message stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SlackPost {
    /// Waiting in the outbox (Slack unreachable, rate limited, or a send in progress).
    Pending,
    /// Posted; `updated` once its resolution edited the message.
    Posted { at: i64, updated: bool },
    /// Not sent and not to be: why (no channel, the token was revoked, …).
    NotSent { reason: String },
}

/// One agreement crossed by one pull request (or, for the open-per-author limit, one author).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breach {
    pub id: u64,
    pub kind: AgreementKind,
    /// The limit as worded when the breach began.
    pub limit: String,
    pub repo: String,
    pub number: u64,
    pub title: String,
    pub url: String,
    pub author: String,
    /// Everyone involved, by GitHub login: the author, then requested reviewers and reviewers.
    pub people: Vec<String>,
    /// When the limit was crossed.
    pub since: i64,
    /// When it stopped being crossed, and how.
    pub resolved_at: Option<i64>,
    pub resolution: Option<String>,
    pub over: Over,
    pub slack: Option<SlackPost>,
}

/// Which breaches `alerts` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertsQuery {
    pub team: TeamRef,
    /// Also resolved breaches (newest first, those that began at or after `since`).
    pub include_resolved: bool,
    pub since: Option<i64>,
    /// At most this many breaches (newest first); the counts cover all.
    pub limit: u32,
}

/// A team's breaches, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alerts {
    pub breaches: Vec<Breach>,
    pub open: u64,
    /// When agreements were last evaluated (None: never).
    pub evaluated_at: Option<i64>,
    pub slack: SlackStatus,
}

/// One agreement's adherence over one ISO week: of the pull requests it applied to (by the
/// week they were opened), how many stayed within it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdherenceRow {
    /// `2026-W49`.
    pub week: String,
    pub kind: AgreementKind,
    pub applied: u64,
    pub within: u64,
}

/// A Slack channel the bot can see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlackChannel {
    pub id: String,
    pub name: String,
}

/// A team's Slack link as clients may see it (never a token).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlackStatus {
    pub connected: bool,
    pub workspace: Option<String>,
    pub channel: Option<SlackChannel>,
    /// Set when posting stopped and a person must act (e.g. the token was revoked: reconnect).
    pub problem: Option<String>,
    /// Messages waiting in the outbox.
    pub pending: u64,
    pub sent: u64,
    pub last_sent_at: Option<i64>,
}

/// Where a Slack connect flow stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SlackConnectState {
    Waiting,
    /// Stored; the channels the bot can see, to pick one with `slack_channel_set`.
    Connected {
        workspace: String,
        channels: Vec<SlackChannel>,
    },
    Failed {
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_parse_hours_and_days_and_refuse_the_rest() {
        assert_eq!(Span::parse("24h"), Ok(Span::Hours(24)));
        assert_eq!(Span::parse(" 7d "), Ok(Span::Days(7)));
        assert_eq!(Span::parse("7d").unwrap().to_string(), "7d");
        for bad in ["", "h", "0h", "24", "1w", "-1d", "1.5h", "367d"] {
            assert!(Span::parse(bad).is_err(), "{bad}");
        }
        assert!(Span::parse("366d").is_ok());
    }

    #[test]
    fn working_hours_parse_a_window_monday_to_friday() {
        let w = WorkingHours::parse("09:00-18:00").unwrap();
        assert_eq!(
            (w.start_minute, w.end_minute, w.days),
            (540, 1080, WEEKDAYS)
        );
        assert_eq!(w.day_seconds(), 9 * 3600);
        assert_eq!(w.to_string(), "09:00-18:00");
        assert_eq!(
            WorkingHours::parse("00:00-24:00").unwrap().day_seconds(),
            86_400
        );
        for bad in [
            "9-18",
            "18:00-09:00",
            "09:00-09:00",
            "25:00-26:00",
            "09:60-10:00",
            "x",
        ] {
            assert!(WorkingHours::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn working_time_counts_days_of_the_working_days_length() {
        let day = 9 * 3_600;
        assert_eq!(working_time(45 * 60, day), "45m");
        assert_eq!(working_time(3 * 3_600 + 20 * 60, day), "3h 20m");
        assert_eq!(working_time(day, day), "1 working day");
        assert_eq!(working_time(2 * day + 4 * 3_600, day), "2 working days 4h");
        assert_eq!(working_time(200 * day, day), "200 working days");
        assert_eq!(working_time(-5, day), "0m");
    }

    #[test]
    fn kinds_round_trip_their_names() {
        for k in AgreementKind::ALL {
            assert_eq!(AgreementKind::from_name(k.name()), Some(k));
        }
        assert_eq!(AgreementKind::from_name("size"), None);
    }
}
