//! Human output of the subcommands over a team's GitHub data: `repos`, `sync`, `members`, `prs`
//! and `metrics`. Pure functions to `String`, like the rest of [`crate::output`].
//!
//! Text that came from GitHub (titles, names, logins, error reasons quoting an answer) goes
//! through [`printable`] first: it must not be able to drive the terminal.

use std::fmt::Write as _;

use tidemark_protocol::{
    AvailableRepo, Distribution, MemberInfo, MetricsGrouping, MetricsRow, PrInfo, PrState,
    RepoInfo, SyncProgress, SyncStatus,
};

use crate::columns::{self, Align};
use crate::timefmt;

/// Titles wider than this (in terminal cells) are cut, with `…`.
pub const TITLE_MAX_CELLS: usize = 50;
/// Error reasons in the repository table are cut at this width (`--json` has them whole).
pub const ERROR_MAX_CELLS: usize = 60;
/// What shows in a cell with nothing to show.
pub const DASH: &str = timefmt::NO_DURATION;
/// GitHub lists at most this many commits of a pull request.
pub const COMMITS_LISTED: u32 = 250;

/// Text from GitHub made safe for a terminal: control characters, escape sequences included,
/// become `?`.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// At most `max` terminal cells, the last one `…` when cut ([`columns::fit`]).
pub fn truncate(text: &str, max: usize) -> String {
    columns::fit(text, max).into_owned()
}

/// A team name as a shell word, for the commands we suggest: as is when it is plain, else in
/// single quotes.
pub fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.,:/@+=".contains(c));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

/// Columns two spaces apart, each as wide as its widest cell; no trailing spaces.
fn table(columns: &[(&str, Align)], rows: &[Vec<String>]) -> String {
    columns::text_table(columns, rows, 2, "")
}

/// `tidemark repos available`.
pub fn repos_available(team: &str, repos: &[AvailableRepo]) -> String {
    if repos.is_empty() {
        return format!(
            "Team '{}' sees no repositories in its GitHub organization.\n",
            printable(team)
        );
    }
    use Align::Left;
    let rows: Vec<Vec<String>> = repos
        .iter()
        .map(|r| {
            vec![
                printable(&r.full_name),
                yes_no(r.private).into(),
                yes_no(r.archived).into(),
                timefmt::utc_or(r.pushed_at, "never"),
                yes_no(r.tracked).into(),
            ]
        })
        .collect();
    table(
        &[
            ("NAME", Left),
            ("PRIVATE", Left),
            ("ARCHIVED", Left),
            ("LAST PUSH", Left),
            ("TRACKED", Left),
        ],
        &rows,
    )
}

/// A repository's webhook in a word: none (syncs only), not created (GitHub refused it: the
/// reason goes with the repository's error), live (GitHub reached us), created (no delivery
/// yet), or what is still missed after self-healing.
pub(crate) fn hook_state(r: &RepoInfo) -> String {
    let missed = r.webhooks_missed.saturating_sub(r.webhooks_recovered);
    match (r.webhook_id, missed, r.last_webhook_at.or(r.last_ping_at)) {
        (None, _, _) if r.webhook_problem.is_some() => "not created".into(),
        (None, _, _) => "none".into(),
        (Some(_), n, _) if n > 0 => format!("{n} missed"),
        (Some(_), _, Some(_)) => "live".into(),
        (Some(_), _, None) => "created".into(),
    }
}

/// What is wrong with a repository, in words: its sync's error, then its webhook's.
pub(crate) fn repo_problem(r: &RepoInfo) -> Option<String> {
    let hook = r
        .webhook_problem
        .as_ref()
        .filter(|_| r.webhook_id.is_none())
        .map(|p| format!("webhook not created: {}", p.reason));
    match (r.sync_error.as_deref(), hook) {
        (Some(sync), Some(hook)) => Some(format!("{sync}; {hook}")),
        (Some(sync), None) => Some(sync.to_string()),
        (None, hook) => hook,
    }
}

/// `tidemark repos list`.
pub fn tracked_repos(team: &str, repos: &[RepoInfo]) -> String {
    if repos.is_empty() {
        let team = shell_word(team);
        return format!(
            "No tracked repositories. See what there is with `tidemark repos available --team \
             {team}`, then `tidemark repos track --team {team} OWNER/REPO`.\n"
        );
    }
    use Align::{Left, Right};
    let rows: Vec<Vec<String>> = repos
        .iter()
        .map(|r| {
            vec![
                printable(&r.full_name),
                if r.is_active {
                    r.sync_status.as_str().into()
                } else {
                    format!("{} (paused)", r.sync_status.as_str())
                },
                timefmt::utc_or(r.last_sync_at, "never"),
                r.pull_request_count.to_string(),
                hook_state(r),
                timefmt::utc_or(r.last_webhook_at.or(r.last_ping_at), "never"),
                repo_problem(r)
                    .map(|e| truncate(&printable(&e), ERROR_MAX_CELLS))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    table(
        &[
            ("NAME", Left),
            ("SYNC STATUS", Left),
            ("LAST SYNC", Left),
            ("PRS", Right),
            ("HOOK", Left),
            ("LAST WEBHOOK", Left),
            ("ERROR", Left),
        ],
        &rows,
    )
}

fn name_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names
        .into_iter()
        .map(printable)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `tidemark repos track`: what is tracked now.
pub fn tracked(team: &str, repos: &[RepoInfo]) -> String {
    let names = name_list(repos.iter().map(|r| r.full_name.as_str()));
    format!(
        "Team '{}' tracks {names}.\nThe next sync fetches their pull requests; to start it now: \
         `tidemark sync --team {} --wait`.\n",
        printable(team),
        shell_word(team)
    )
}

/// `tidemark repos untrack`: the names untracked, as the daemon answered.
pub fn untracked(team: &str, untracked: &[String]) -> String {
    format!(
        "Team '{}' no longer tracks {}; their synced history stays.\n",
        printable(team),
        name_list(untracked.iter().map(String::as_str))
    )
}

/// `tidemark members`.
/// What `webhook rotate-secret` did, for the terminal.
pub fn rotated(team: &str, r: &tidemark_protocol::RotateReport) -> String {
    let mut out = format!(
        "Rotated the webhook secret of team '{}': {} hook(s) updated on GitHub; the old secret is accepted until {}.\n",
        printable(team),
        r.hooks_updated,
        crate::timefmt::utc(r.old_secret_accepted_until)
    );
    for f in &r.hooks_failed {
        out.push_str(&format!("  not updated: {}\n", printable(f)));
    }
    out
}

pub fn members(team: &str, members: &[MemberInfo]) -> String {
    if members.is_empty() {
        return format!(
            "No members synced yet. Sync with `tidemark sync --team {} --wait`.\n",
            shell_word(team)
        );
    }
    use Align::Left;
    let rows: Vec<Vec<String>> = members
        .iter()
        .map(|m| {
            vec![
                m.github_login
                    .as_deref()
                    .map_or_else(|| DASH.to_string(), printable),
                printable(&m.display_name),
                m.email
                    .as_deref()
                    .map_or_else(|| DASH.to_string(), printable),
                yes_no(m.is_bot).into(),
                timefmt::utc_or(m.left_at, DASH),
            ]
        })
        .collect();
    table(
        &[
            ("LOGIN", Left),
            ("NAME", Left),
            ("EMAIL", Left),
            ("BOT", Left),
            ("LEFT", Left),
        ],
        &rows,
    )
}

/// A pull request's state, `draft` for an open draft.
pub fn describe_pr_state(pr: &PrInfo) -> &'static str {
    match (pr.state, pr.is_draft) {
        (PrState::Open, true) => "draft",
        (state, _) => state.as_str(),
    }
}

/// `+120/−30` (lines added and deleted).
pub fn describe_size(additions: u64, deletions: u64) -> String {
    format!("+{additions}/\u{2212}{deletions}")
}

/// `tidemark prs`. `limit` as asked (0: all), to say when there may be more.
pub fn pull_requests(prs: &[PrInfo], limit: u32) -> String {
    if prs.is_empty() {
        return "No pull requests.\n".into();
    }
    use Align::{Left, Right};
    let rows: Vec<Vec<String>> = prs
        .iter()
        .map(|pr| {
            vec![
                printable(&pr.repo),
                format!(
                    "{}{}",
                    pr.number,
                    if pr.commits_truncated { "*" } else { "" }
                ),
                truncate(&printable(&pr.title), TITLE_MAX_CELLS),
                pr.author
                    .as_deref()
                    .map_or_else(|| DASH.to_string(), printable),
                describe_pr_state(pr).into(),
                describe_size(pr.additions, pr.deletions),
                timefmt::duration_or_dash(pr.cycle_time),
                timefmt::duration_or_dash(pr.review_time),
            ]
        })
        .collect();
    let mut out = table(
        &[
            ("REPO", Left),
            ("#", Right),
            ("TITLE", Left),
            ("AUTHOR", Left),
            ("STATE", Left),
            ("SIZE", Left),
            ("CYCLE", Left),
            ("REVIEW", Left),
        ],
        &rows,
    );
    if prs.iter().any(|pr| pr.commits_truncated) {
        let _ = writeln!(
            out,
            "* more than {COMMITS_LISTED} commits: GitHub lists only {COMMITS_LISTED}, so \
             figures from its commits are approximate."
        );
    }
    if limit != 0 && prs.len() >= limit as usize {
        let _ = writeln!(
            out,
            "The newest {limit}; --limit N shows more (--limit 0: all)."
        );
    }
    out
}

fn percentiles(d: &Distribution, show: impl Fn(i64) -> String) -> String {
    if d.count == 0 || (d.p50, d.p75, d.p90) == (None, None, None) {
        return DASH.into();
    }
    let one = |p: Option<i64>| p.map_or_else(|| DASH.to_string(), &show);
    format!("{} / {} / {}", one(d.p50), one(d.p75), one(d.p90))
}

fn key_header(by: MetricsGrouping) -> &'static str {
    match by {
        MetricsGrouping::Team => "TEAM",
        MetricsGrouping::Repo => "REPO",
        MetricsGrouping::Member => "MEMBER",
        MetricsGrouping::Week => "WEEK",
    }
}

/// `tidemark metrics`: one row per key; each measure as p50 / p75 / p90.
pub fn metrics(rows: &[MetricsRow], by: MetricsGrouping) -> String {
    if rows.is_empty() {
        return "No pull requests to measure.\n".into();
    }
    use Align::{Left, Right};
    let duration = |d: &Distribution| percentiles(d, timefmt::duration);
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                printable(&r.key),
                r.prs.to_string(),
                r.merged.to_string(),
                duration(&r.cycle_time),
                duration(&r.review_time),
                duration(&r.coding),
                duration(&r.pickup),
                duration(&r.review),
                percentiles(&r.size, |lines| lines.to_string()),
            ]
        })
        .collect();
    let mut out = table(
        &[
            (key_header(by), Left),
            ("PRS", Right),
            ("MERGED", Right),
            ("CYCLE", Left),
            ("REVIEW TIME", Left),
            ("CODING", Left),
            ("PICKUP", Left),
            ("REVIEW", Left),
            ("SIZE", Left),
        ],
        &cells,
    );
    out.push_str(
        "Each measure: p50 / p75 / p90; SIZE in lines. Definitions: `tidemark metrics --help`.\n",
    );
    out
}

/// One line of progress for stderr while `sync --wait` follows a sync.
pub fn sync_progress_line(p: &SyncProgress) -> String {
    let phase = if p.phase.is_empty() {
        p.status.as_str().to_string()
    } else {
        printable(&p.phase)
    };
    let mut line = format!("sync: {phase}");
    if p.repos_total > 0 {
        // Never more done than there are (a daemon before the fix carried the count over
        // into a second pass).
        let _ = write!(
            line,
            ", {}/{}",
            p.repos_done.min(p.repos_total),
            super::plural(p.repos_total, "repository", "repositories")
        );
    }
    let _ = write!(
        line,
        ", {} fetched",
        super::plural(p.prs_fetched, "pull request", "pull requests")
    );
    if !p.budget.is_empty() {
        let budget: Vec<String> = p
            .budget
            .iter()
            .map(|b| format!("{} {}/{}", printable(&b.resource), b.remaining, b.limit))
            .collect();
        let _ = write!(line, ", rate limit left: {}", budget.join(", "));
    }
    line
}

/// `tidemark sync` without --wait, the sync still running.
pub fn sync_started(team: &str, p: &SyncProgress) -> String {
    let line = sync_progress_line(p);
    let detail = line.strip_prefix("sync: ").unwrap_or(&line);
    format!(
        "Sync of team '{}' running: {detail}.\nFollow it with `tidemark sync --team {} --wait`.\n",
        printable(team),
        shell_word(team)
    )
}

/// A sync that is over (not running), however it ended; an error is the caller's to report.
pub fn sync_finished(team: &str, p: &SyncProgress) -> String {
    let team = printable(team);
    let mut out = match p.status {
        SyncStatus::Complete => format!(
            "Sync of team '{team}' complete: {}, {} fetched with {}",
            super::plural(p.repos_done, "repository", "repositories"),
            super::plural(p.prs_fetched, "pull request", "pull requests"),
            super::plural(p.requests, "request", "requests")
        ),
        status => format!("Sync of team '{team}': {}", status.as_str()),
    };
    if let Some(at) = p.finished_at.or(p.last_sync_at) {
        let _ = write!(out, " (at {})", timefmt::utc(at));
    }
    out.push_str(".\n");
    if let Some(note) = skipped_note(p) {
        out.push_str(&note);
    }
    if let Some(next) = p.next_sync_at {
        let _ = writeln!(out, "Next sync: {}.", timefmt::utc(next));
    }
    out
}

/// What GitHub sent that the sync could not read, if anything: said, never hidden.
pub fn skipped_note(p: &SyncProgress) -> Option<String> {
    (p.skipped > 0).then(|| {
        let what = if p.skipped == 1 { "item" } else { "items" };
        let last = p
            .skipped_note
            .as_deref()
            .map(|n| format!(" (last: {})", printable(n)))
            .unwrap_or_default();
        format!(
            "Skipped {} {what} GitHub sent that tidemark could not read{last}; the daemon's log names each.\n",
            p.skipped
        )
    })
}

/// Why a sync failed, with when the daemon tries again.
pub fn sync_failure(p: &SyncProgress) -> String {
    let mut reason = p
        .error
        .as_deref()
        .map_or_else(|| "no reason given".into(), printable);
    if let Some(next) = p.next_sync_at {
        let _ = write!(
            reason,
            " (the daemon tries again at {})",
            timefmt::utc(next)
        );
    }
    reason
}

#[cfg(test)]
#[path = "sync_tests.rs"]
mod tests;
