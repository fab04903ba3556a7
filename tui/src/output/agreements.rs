//! Wording of working agreements, their breaches (alerts), adherence and the Slack link, for
//! `tidemark agreements|alerts|slack` and the Alerts tab (which shares the short forms: how far
//! over, the Slack post's state, the link's line). Only what the protocol carries is shown: a
//! workspace, a channel, counts; never a token.

use std::fmt::Write as _;

use tidemark_protocol::agreements::{
    AdherenceRow, AgreementKind, Agreements, Alerts, Breach, Over, SlackChannel, SlackPost,
    SlackStatus, WEEKDAYS, clock,
};

use super::{plural, printable};
use crate::columns::{self, Align};
use crate::timefmt;

/// The widest a title gets in the CLI's alerts table (it gives way with `…`).
pub const TITLE_CELLS: usize = 48;
/// The widest a Slack reason gets there.
pub const REASON_CELLS: usize = 40;

/// How far past its limit a breach is: `3h 20m over`, `1240 lines over`, `1 approval missing`,
/// `2 open PRs over`.
pub fn over(o: Over) -> String {
    match o {
        Over::Seconds(s) => format!("{} over", timefmt::duration(s)),
        Over::WorkingTime {
            seconds,
            day_seconds,
        } => format!(
            "{} over",
            tidemark_protocol::agreements::working_time(seconds, day_seconds)
        ),
        Over::Lines(n) => format!("{} over", plural(n, "line", "lines")),
        Over::Approvals(n) => format!("{} missing", plural(n, "approval", "approvals")),
        Over::OpenPrs(n) => format!("{} over", plural(n, "open PR", "open PRs")),
    }
}

/// Where a breach's Slack message stands, short: `posted`, `posted, updated`, `pending`,
/// `not sent: REASON`, `—` (no Slack then).
pub fn slack_post(post: Option<&SlackPost>) -> String {
    match post {
        None => "—".into(),
        Some(SlackPost::Pending) => "pending".into(),
        Some(SlackPost::Posted { updated: false, .. }) => "posted".into(),
        Some(SlackPost::Posted { updated: true, .. }) => "posted, updated".into(),
        Some(SlackPost::NotSent { reason }) => format!("not sent: {}", printable(reason)),
    }
}

/// `#eng-alerts`.
pub fn channel_name(channel: &SlackChannel) -> String {
    format!("#{}", printable(&channel.name))
}

/// The link's state in a line: `Slack: #eng-alerts (acme)`, `Slack: reconnect — token
/// revoked`, `Slack: acme, no channel chosen`, `Slack: not connected`.
pub fn slack_line(status: Option<&SlackStatus>) -> String {
    let Some(s) = status.filter(|s| s.connected || s.problem.is_some()) else {
        return "Slack: not connected".into();
    };
    if let Some(problem) = &s.problem {
        return format!("Slack: reconnect — {}", printable(problem));
    }
    let workspace = s.workspace.as_deref().map(printable);
    match (&s.channel, workspace) {
        (Some(c), Some(w)) => format!("Slack: {} ({w})", channel_name(c)),
        (Some(c), None) => format!("Slack: {}", channel_name(c)),
        (None, Some(w)) => format!("Slack: {w}, no channel chosen"),
        (None, None) => "Slack: connected, no channel chosen".into(),
    }
}

/// The working day: `09:00-18:00 Mon-Fri, Europe/Berlin`.
pub fn working_hours(a: &Agreements) -> Option<String> {
    let w = a.working_hours?;
    let days = if w.days == WEEKDAYS { " Mon-Fri" } else { "" };
    Some(format!("{w}{days}, {}", printable(&a.timezone)))
}

/// Each setting of the agreements as `(name, value)`, in the order `--unset` names them; a
/// value not set reads `not set`. The TUI's editor and `agreements show` list the same.
pub fn agreement_values(a: &Agreements) -> Vec<(&'static str, String)> {
    let not_set = || "not set".to_string();
    let mut rows: Vec<(&'static str, String)> = AgreementKind::ALL
        .into_iter()
        .map(|k| (k.name(), a.limit_text(k).unwrap_or_else(not_set)))
        .collect();
    rows.push((
        "working-hours",
        working_hours(a).unwrap_or_else(|| "not set (spans count calendar time)".into()),
    ));
    rows.push(("timezone", printable(&a.timezone)));
    rows.push((
        "digest",
        a.digest_at.map_or_else(
            || "not set (no daily digest)".into(),
            |m| format!("daily at {} {}", clock(m), printable(&a.timezone)),
        ),
    ));
    rows
}

/// `tidemark agreements show` (and what `set` saved).
pub fn agreements(team: &str, a: &Agreements) -> String {
    let mut out = format!("Working agreements of team '{}':\n", printable(team));
    let rows = agreement_values(a);
    let width = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    for (name, value) in rows {
        let _ = writeln!(out, "  {name:<width$}  {value}");
    }
    if !a.any() {
        out.push_str(
            "No limit is set: nothing is checked yet. Set some with `tidemark agreements set`.\n",
        );
    }
    out
}

/// `87.5%` of the pull requests an agreement applied to stayed within it, to a tenth, rounded
/// down; `—` when it applied to none.
pub fn share(applied: u64, within: u64) -> String {
    if applied == 0 {
        return "—".into();
    }
    let tenths = within.min(applied) * 1000 / applied;
    format!("{}.{}%", tenths / 10, tenths % 10)
}

/// `tidemark agreements adherence`: per ISO week and agreement.
pub fn adherence(team: &str, rows: &[AdherenceRow]) -> String {
    if rows.is_empty() {
        return format!(
            "No adherence to show for team '{}': no agreement applied to a pull request opened \
             in the window.\n",
            printable(team)
        );
    }
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.week.clone(),
                r.kind.name().into(),
                r.applied.to_string(),
                r.within.to_string(),
                share(r.applied, r.within),
            ]
        })
        .collect();
    use Align::{Left, Right};
    columns::text_table(
        &[
            ("WEEK", Left),
            ("AGREEMENT", Left),
            ("APPLIED", Right),
            ("WITHIN", Right),
            ("SHARE", Right),
        ],
        &table,
        2,
        "",
    )
}

/// `acme/api#1289`.
pub fn pr_ref(b: &Breach) -> String {
    format!("{}#{}", printable(&b.repo), b.number)
}

/// How a breach ended: `2025-01-02 18:03 UTC (merged)`, or `open`.
fn resolved(b: &Breach, time: &dyn Fn(i64) -> String) -> String {
    match (b.resolved_at, &b.resolution) {
        (Some(at), Some(how)) => format!("{} ({})", time(at), printable(how)),
        (Some(at), None) => time(at),
        (None, _) => "open".into(),
    }
}

/// The first line of `tidemark alerts`: the open count and the Slack link.
pub fn alerts_header(alerts: &Alerts) -> String {
    let open = match alerts.open {
        0 => "No open breaches".to_string(),
        n => plural(n, "open breach", "open breaches"),
    };
    format!("{open} · {}", slack_line(Some(&alerts.slack)))
}

/// `tidemark alerts`: the header, then the breaches newest first. `time` writes an instant (the
/// command passes local time; tests a fixed zone). Titles and Slack reasons give way with `…`;
/// everything else is whole.
pub fn alerts(alerts: &Alerts, all: bool, time: &dyn Fn(i64) -> String) -> String {
    let mut out = alerts_header(alerts);
    out.push('\n');
    if alerts.breaches.is_empty() {
        out.push_str(if all {
            "Nothing crossed an agreement in the window.\n"
        } else {
            "Every pull request is within the team's agreements (--all shows resolved breaches).\n"
        });
        return out;
    }
    let rows: Vec<Vec<String>> = alerts
        .breaches
        .iter()
        .map(|b| {
            let mut row = vec![
                b.kind.name().to_string(),
                pr_ref(b),
                columns::fit(&printable(&b.title), TITLE_CELLS).into_owned(),
                printable(&b.author),
                time(b.since),
                over(b.over),
            ];
            if all {
                row.push(resolved(b, time));
            }
            row.push(columns::fit(&slack_post(b.slack.as_ref()), REASON_CELLS).into_owned());
            row
        })
        .collect();
    use Align::Left;
    let mut header = vec![
        ("AGREEMENT", Left),
        ("PR", Left),
        ("TITLE", Left),
        ("AUTHOR", Left),
        ("SINCE", Left),
        ("OVER", Left),
    ];
    if all {
        header.push(("RESOLVED", Left));
    }
    header.push(("SLACK", Left));
    out.push_str(&columns::text_table(&header, &rows, 2, ""));
    // The daemon answers at most the query's limit; the open count covers all.
    if !all && alerts.open > alerts.breaches.len() as u64 {
        let _ = writeln!(
            out,
            "(the newest {} of {} shown)",
            alerts.breaches.len(),
            alerts.open
        );
    }
    out
}

/// `tidemark slack status`.
pub fn slack_status(team: &str, status: Option<&SlackStatus>, now: i64) -> String {
    let team = printable(team);
    let Some(s) = status.filter(|s| s.connected || s.problem.is_some()) else {
        return format!(
            "Team '{team}' is not connected to Slack (tidemark connect slack --team {team}).\n"
        );
    };
    let mut out = format!("Slack link of team '{team}':\n");
    let workspace = s.workspace.as_deref().map_or("—".into(), printable);
    let _ = writeln!(out, "  workspace:  {workspace}");
    let channel = s.channel.as_ref().map_or_else(
        || format!("none chosen (tidemark slack channel --team {team} CHANNEL)"),
        |c| format!("{} ({})", channel_name(c), printable(&c.id)),
    );
    let _ = writeln!(out, "  channel:    {channel}");
    if let Some(problem) = &s.problem {
        let _ = writeln!(
            out,
            "  problem:    {} — posting stopped; reconnect: tidemark connect slack --team {team}",
            printable(problem)
        );
    }
    let last = s.last_sent_at.map_or_else(
        || "never".to_string(),
        |at| crate::views::team::ago(now, at),
    );
    let _ = writeln!(
        out,
        "  messages:   {} sent (last {last}), {} waiting",
        s.sent, s.pending
    );
    out
}

/// The channels to choose from, numbered from 1.
pub fn channel_menu(channels: &[SlackChannel]) -> String {
    let mut out = String::from("Channels the tidemark bot can see:\n");
    for (i, c) in channels.iter().enumerate() {
        let _ = writeln!(out, "  {:>2}. {}", i + 1, channel_name(c));
    }
    out
}

/// `#a, #b, #c`, for a refusal that lists what to pass.
pub fn channel_names(channels: &[SlackChannel]) -> String {
    channels
        .iter()
        .map(channel_name)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
#[path = "agreements_tests.rs"]
mod tests;
