//! Overview: the GitHub integration (masks only, never a token), the sync with a live gauge
//! and the rate-limit budget (as GitHub last answered, and when), webhook health per
//! repository with what the daemon turned away or held back, and the last errors.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Gauge, Paragraph, Row, Table, Wrap};
use tidemark_protocol::{
    IntegrationInfo, RateBudget, RepoInfo, SyncProgress, SyncStatus, TeamStatus,
};

use crate::app::State;
use crate::columns::{self, Column, Grid};
use crate::config::Theme;
use crate::output::{
    backlog_is_stale, describe_backlog, describe_budget, describe_expiry, describe_intake,
    describe_scopes, describe_secret, describe_user, plural,
};
use crate::tabs::TeamView;
use crate::views::team::{ago, placeholder};

pub fn render(frame: &mut Frame, area: Rect, state: &State, view: &TeamView) {
    if placeholder(frame, area, &view.status, "this team") {
        return;
    }
    let Some(status) = view.loaded_status() else {
        return;
    };
    let theme = state.config.theme;
    let integration_lines = integration(status, theme);
    let connected = view.is_connected();
    let sync_height = if !connected {
        3
    } else if view.sync.as_ref().is_some_and(|s| s.running) {
        5
    } else {
        4
    };
    let errors = errors(status, view.sync.as_ref());
    let [integration_area, sync_area, hooks_area, errors_area] = Layout::vertical([
        Constraint::Length(integration_lines.len() as u16 + 2),
        Constraint::Length(sync_height),
        Constraint::Min(3),
        Constraint::Length(if errors.is_empty() {
            0
        } else {
            errors.len().min(4) as u16 + 2
        }),
    ])
    .areas(area);

    let block = Block::bordered().title(format!(
        " {} · you: {} · {} · {} ",
        status.team.name,
        crate::output::describe_role(status.team.role),
        plural(
            status.member_count,
            "GitHub org member",
            "GitHub org members"
        ),
        plural(status.pull_request_count, "pull request", "pull requests")
    ));
    frame.render_widget(
        Paragraph::new(integration_lines).block(block),
        integration_area,
    );
    if connected {
        sync(frame, sync_area, view.sync.as_ref(), state.now, theme);
    } else {
        // Nothing is pending: there is nothing to sync until the team is connected.
        let text = Line::from(" not connected to GitHub: nothing to sync").fg(theme.dim());
        frame.render_widget(
            Paragraph::new(text).block(Block::bordered().title(" Sync ")),
            sync_area,
        );
    }
    webhooks(frame, hooks_area, status, connected, state.now, theme);
    if !errors.is_empty() {
        let block = Block::bordered()
            .title(" Last errors ")
            .border_style(Style::new().fg(theme.bad()));
        let lines: Vec<Line> = errors.into_iter().map(Line::from).collect();
        frame.render_widget(
            Paragraph::new(lines).wrap(Wrap { trim: true }).block(block),
            errors_area,
        );
    }
}

/// Label column, so values line up.
fn field(label: &str, value: impl Into<Vec<Span<'static>>>, theme: Theme) -> Line<'static> {
    let mut spans = vec![Span::from(format!(" {label:<9}")).fg(theme.dim())];
    spans.extend(value.into());
    Line::from(spans)
}

fn integration(status: &TeamStatus, theme: Theme) -> Vec<Line<'static>> {
    let Some(info) = status.integrations.first() else {
        return vec![Line::from(" Not connected to GitHub · press c to connect").fg(theme.dim())];
    };
    github(info, theme)
}

fn github(info: &IntegrationInfo, theme: Theme) -> Vec<Line<'static>> {
    let cred = &info.credential;
    let org = match &info.github {
        Some(gh) => format!("{} (#{})", gh.organization_slug, gh.organization_id),
        None => "no organization chosen yet".into(),
    };
    let mut lines = vec![
        field(
            "GitHub",
            vec![
                Span::from(org).bold(),
                Span::raw(format!(
                    " · connected by {}",
                    describe_user(cred.connected_by.as_ref())
                )),
            ],
            theme,
        ),
        field(
            "token",
            vec![Span::raw(format!(
                "{} · expires {}",
                describe_secret(&cred.access_token),
                describe_expiry(cred.expires_at)
            ))],
            theme,
        ),
        field(
            "scopes",
            vec![Span::raw(describe_scopes(&cred.scopes))],
            theme,
        ),
    ];
    if let Some(gh) = &info.github {
        lines.push(field(
            "webhooks",
            vec![Span::raw(format!(
                "secret {} · W rotates it",
                describe_secret(&gh.webhook_secret)
            ))],
            theme,
        ));
    }
    lines
}

fn sync_color(status: SyncStatus, theme: Theme) -> ratatui::style::Color {
    match status {
        SyncStatus::Complete => theme.good(),
        SyncStatus::Syncing | SyncStatus::Pending => theme.warn(),
        SyncStatus::Error => theme.bad(),
    }
}

fn sync(frame: &mut Frame, area: Rect, sync: Option<&SyncProgress>, now: i64, theme: Theme) {
    let block = Block::bordered().title(" Sync · f syncs now ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(sync) = sync else {
        frame.render_widget(Line::from(" Loading…").fg(theme.dim()), inner);
        return;
    };
    let mut lines = Vec::new();
    let state = if sync.running {
        format!("{} · {}", sync.status.as_str(), sync.phase)
    } else {
        sync.status.as_str().to_string()
    };
    let mut first = vec![
        Span::from(format!(" {state}")).fg(sync_color(sync.status, theme)),
        Span::raw(format!(
            " · last {}",
            sync.last_sync_at.map_or("never".into(), |t| ago(now, t))
        )),
    ];
    if let Some(next) = sync.next_sync_at
        && !sync.running
    {
        let left = (next - now).max(0);
        first.push(Span::raw(format!(
            " · next in {}",
            crate::timefmt::duration(left)
        )));
    }
    if sync.skipped > 0 {
        // What GitHub sent that could not be read: said, never hidden (the log names each).
        first
            .push(Span::from(format!(" · {} skipped, see the log", sync.skipped)).fg(theme.warn()));
    }
    lines.push(Line::from(first));
    let width = (inner.width as usize).saturating_sub(1);
    lines.push(Line::from(format!(" {}", budget_line(&sync.budget, now, width))).fg(theme.dim()));
    let [text_area, gauge_area] =
        Layout::vertical([Constraint::Length(2), Constraint::Min(0)]).areas(inner);
    frame.render_widget(Paragraph::new(lines), text_area);
    if sync.running && gauge_area.height > 0 {
        let ratio = if sync.repos_total == 0 {
            0.0
        } else {
            f64::from(sync.repos_done) / f64::from(sync.repos_total)
        };
        let label = format!(
            "{}/{} · {} · {}",
            sync.repos_done,
            plural(sync.repos_total, "repository", "repositories"),
            plural(sync.prs_fetched, "pull request", "pull requests"),
            plural(sync.requests, "request", "requests")
        );
        let gauge = Gauge::default()
            .ratio(ratio.clamp(0.0, 1.0))
            .label(label)
            .gauge_style(Style::new().fg(theme.accent()));
        frame.render_widget(gauge, gauge_area);
    }
}

/// The rate budget as GitHub last answered it and when, in `width` cells: without the reset
/// and the time seen when they do not fit, never a number cut.
fn budget_line(budget: &[RateBudget], now: i64, width: usize) -> String {
    const LABEL: &str = "rate budget: ";
    if budget.is_empty() {
        return columns::first_parts(["rate budget: not known yet"], width);
    }
    let full: Vec<String> = budget
        .iter()
        .map(|b| {
            describe_budget(
                b,
                |reset| format!("in {}", crate::timefmt::duration((reset - now).max(0))),
                |seen| ago(now, seen),
            )
        })
        .collect();
    let line = format!("{LABEL}{}", full.join(columns::SEP));
    if columns::cells(&line) <= width {
        return line;
    }
    let short: Vec<String> = budget
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let label = if i == 0 { LABEL } else { "" };
            format!("{label}{} {}/{}", b.resource, b.remaining, b.limit)
        })
        .collect();
    columns::first_parts(short.iter().map(String::as_str), width)
}

/// A repository's webhook in a word and a colour. `backlog_stale`: the team's deliveries have
/// waited long to be applied, so what arrives is not ok, however recently it came.
fn health(
    repo: &RepoInfo,
    backlog_stale: bool,
    now: i64,
    theme: Theme,
) -> (String, ratatui::style::Color) {
    if repo.webhook_id.is_none() {
        // GitHub refused it: said in red, with the reason in `tidemark status`.
        if repo.webhook_problem.is_some() {
            return ("not created (see status)".into(), theme.bad());
        }
        return ("no hook (syncs only)".into(), theme.dim());
    }
    let missed = repo.webhooks_missed.saturating_sub(repo.webhooks_recovered);
    if missed > 0 {
        return (format!("{missed} missed"), theme.bad());
    }
    if backlog_stale {
        return ("received, not applied".into(), theme.bad());
    }
    match repo.last_webhook_at.or(repo.last_ping_at) {
        Some(at) => (format!("ok · {}", ago(now, at)), theme.good()),
        None => ("waiting for a delivery".into(), theme.warn()),
    }
}

fn webhooks(
    frame: &mut Frame,
    area: Rect,
    status: &TeamStatus,
    connected: bool,
    now: i64,
    theme: Theme,
) {
    let repos = &status.repos;
    // Where GitHub sends them and what waits to be applied, or that there are none.
    let backlog = describe_backlog(
        status.webhooks_pending,
        status.webhooks_oldest_pending_at,
        now,
    );
    let stale = backlog_is_stale(status.webhooks_oldest_pending_at, now);
    let title = match (&status.webhook_public_url, backlog) {
        (Some(url), Some(backlog)) => format!(" Webhooks · {url} · {backlog} "),
        (Some(url), None) => format!(" Webhooks · {url} "),
        (None, _) => " Webhooks · off: no public URL, periodic syncs only ".to_string(),
    };
    let block = Block::bordered().title(title);
    let block = if stale {
        block.border_style(Style::new().fg(theme.bad()))
    } else {
        block
    };
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // What was turned away or held back, above the repositories: each fact from a line of its
    // own, its parts whole, in at most half the block (whole facts; the rest is in `status`).
    let width = (inner.width as usize).saturating_sub(1);
    let room = (inner.height as usize / 2).max(1);
    let mut intake: Vec<Line> = Vec::new();
    for fact in describe_intake(&status.webhook_intake, now) {
        let lines = columns::flow(fact.iter().map(String::as_str), width);
        if intake.len() + lines.len() > room {
            break;
        }
        intake.extend(
            lines
                .into_iter()
                .map(|l| Line::from(format!(" {l}")).fg(theme.warn())),
        );
    }
    let [intake_area, area] =
        Layout::vertical([Constraint::Length(intake.len() as u16), Constraint::Min(0)])
            .areas(inner);
    frame.render_widget(Paragraph::new(intake), intake_area);
    if repos.is_empty() {
        let text = Line::from(if connected {
            " No tracked repositories · 2 then a to add some"
        } else {
            " No tracked repositories · connect GitHub first (c)"
        })
        .fg(theme.dim());
        frame.render_widget(Paragraph::new(text), area);
        return;
    }
    let cells: Vec<(String, (String, ratatui::style::Color), String)> = repos
        .iter()
        .map(|repo| {
            (
                repo.full_name.clone(),
                health(repo, stale, now, theme),
                format!(
                    "{} missed · {} recovered",
                    repo.webhooks_missed, repo.webhooks_recovered
                ),
            )
        })
        .collect();
    let natural = columns::measure(
        &["", "", ""],
        cells
            .iter()
            .map(|(name, (health, _), counts)| [name.as_str(), health.as_str(), counts.as_str()]),
    );
    // The name gives way; the health (a time ago) and the counts never do. Too narrow even so:
    // the counts go first.
    let kinds = [
        Column::text(8, 1, 90).grow(),
        Column::whole(80).left(),
        Column::whole(10).left(),
    ];
    let grid = Grid::new(&kinds, &natural, area.width as usize, 2);
    let rows = cells.into_iter().map(|(name, (health, color), counts)| {
        Row::new(grid.cells([
            Line::from(name),
            Line::from(health).fg(color),
            Line::from(counts).fg(theme.dim()),
        ]))
    });
    let table = Table::new(rows, grid.constraints()).column_spacing(2);
    frame.render_widget(table, area);
}

/// The integration's and the repositories' last errors, newest concerns first.
fn errors(status: &TeamStatus, sync: Option<&SyncProgress>) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(err) = sync.and_then(|s| s.error.as_deref()) {
        out.push(format!("sync: {err}"));
    } else if let Some(err) = status
        .integrations
        .iter()
        .find_map(|i| i.github.as_ref()?.sync_error.as_deref())
    {
        out.push(format!("sync: {err}"));
    }
    out.extend(status.repos.iter().filter_map(|r| {
        r.sync_error
            .as_deref()
            .map(|e| format!("{}: {e}", r.full_name))
    }));
    out
}

pub fn confirm_rotate(frame: &mut Frame, team: &str) {
    crate::views::dialogs::confirm(
        frame,
        "Rotate webhook secret",
        vec![
            Line::from(format!(
                "Give every webhook of '{team}' a new secret on GitHub?"
            )),
            Line::from("Deliveries signed with the old one are accepted for an hour."),
        ],
    );
}
