//! One team: its integrations (credential metadata, never a token) and tracked repositories.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table, TableState};
use tidemark_protocol::{IntegrationInfo, RepoInfo, SyncStatus, TeamStatus};

use crate::app::{Loadable, TeamView};
use crate::output::{
    describe_expiry, describe_last_sync, describe_role, describe_scopes, describe_secret,
    describe_sync, describe_user,
};
use crate::timefmt;

pub fn render(frame: &mut Frame, area: Rect, view: &TeamView) {
    let status = match &view.status {
        Loadable::Loaded(status) => status,
        Loadable::Loading => {
            let text = Line::from("Loading…").dark_gray();
            frame.render_widget(Paragraph::new(text).block(titled(view)), area);
            return;
        }
        Loadable::Failed(err) => {
            let text = Line::from(format!("Cannot load this team: {err}")).red();
            frame.render_widget(Paragraph::new(text).block(titled(view)), area);
            return;
        }
    };

    let integration_lines = integrations(status);
    let [summary_area, integrations_area, repos_area] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(integration_lines.len() as u16 + 2),
        Constraint::Min(4),
    ])
    .areas(area);

    frame.render_widget(summary(status), summary_area);
    let block = Block::bordered().title(" Integrations ");
    frame.render_widget(
        Paragraph::new(integration_lines).block(block),
        integrations_area,
    );
    repos(frame, repos_area, &status.repos, view.selected_repo);
}

fn titled(view: &TeamView) -> Block<'static> {
    Block::bordered().title(format!(" {} ", view.name))
}

fn summary(status: &TeamStatus) -> Paragraph<'static> {
    let team = &status.team;
    Paragraph::new(vec![
        Line::from(vec![
            Span::from(format!(" {} ", team.name)).bold(),
            Span::raw(format!(
                "· role {} · created {}",
                describe_role(team.role),
                timefmt::utc(team.created_at),
            )),
        ]),
        Line::from(format!(
            " {} members · {} pull requests",
            status.member_count, status.pull_request_count
        ))
        .dark_gray(),
    ])
}

fn sync_color(status: SyncStatus) -> Color {
    match status {
        SyncStatus::Complete => Color::Green,
        SyncStatus::Syncing | SyncStatus::Pending => Color::Yellow,
        SyncStatus::Error => Color::Red,
    }
}

fn integrations(status: &TeamStatus) -> Vec<Line<'static>> {
    if status.integrations.is_empty() {
        return vec![Line::from(" No integrations · press c to connect GitHub").dark_gray()];
    }
    status.integrations.iter().flat_map(integration).collect()
}

/// Label column, so values line up across the lines of one integration.
fn field(label: &str, value: Vec<Span<'static>>) -> Line<'static> {
    let mut spans = vec![Span::from(format!("   {label:<10}")).dark_gray()];
    spans.extend(value);
    Line::from(spans)
}

fn integration(info: &IntegrationInfo) -> Vec<Line<'static>> {
    let cred = &info.credential;
    let heading = match &info.github {
        Some(gh) => format!(
            " {} · org {} (#{})",
            cred.provider.as_str(),
            gh.organization_slug,
            gh.organization_id
        ),
        None => format!(" {} · no organization chosen yet", cred.provider.as_str()),
    };
    let mut lines = vec![Line::from(heading).bold()];
    if let Some(gh) = &info.github {
        lines.push(field(
            "sync",
            vec![
                Span::from(describe_sync(gh.sync_status, gh.sync_error.as_deref()))
                    .fg(sync_color(gh.sync_status)),
                Span::raw(format!(
                    " · last sync {}",
                    describe_last_sync(gh.last_sync_at)
                )),
            ],
        ));
    }
    lines.push(field(
        "token",
        vec![Span::raw(format!(
            "{} · scopes {} · expires {}",
            describe_secret(&cred.access_token),
            describe_scopes(&cred.scopes),
            describe_expiry(cred.expires_at)
        ))],
    ));
    let mut who = format!("by {}", describe_user(cred.connected_by.as_ref()));
    if let Some(gh) = &info.github {
        who.push_str(&format!(
            " · webhook secret {}",
            describe_secret(&gh.webhook_secret)
        ));
    }
    lines.push(field("connected", vec![Span::raw(who)]));
    lines
}

fn repos(frame: &mut Frame, area: Rect, repos: &[RepoInfo], selected: usize) {
    let block = Block::bordered().title(format!(" Tracked repositories ({}) ", repos.len()));
    if repos.is_empty() {
        let text = Line::from(" No tracked repositories").dark_gray();
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // Table rows plus header, then the selected repository's error right under them.
    let rows_height = (repos.len() as u16 + 1).min(inner.height.saturating_sub(1));
    let [table_area, detail_area, _] = Layout::vertical([
        Constraint::Length(rows_height),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(inner);

    let rows = repos.iter().map(|repo| {
        Row::new([
            Line::from(repo.full_name.clone()),
            Line::from(if repo.is_active { "yes" } else { "paused" }),
            Line::from(repo.sync_status.as_str()).fg(sync_color(repo.sync_status)),
            Line::from(describe_last_sync(repo.last_sync_at)),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Fill(1),
            Constraint::Length(6),
            Constraint::Length(8),
            Constraint::Length(20),
        ],
    )
    .header(Row::new(["Repository", "Active", "Sync", "Last sync"]).bold())
    .row_highlight_style(Style::new().reversed())
    .highlight_symbol("› ");
    let mut state = TableState::default().with_selected(Some(selected));
    frame.render_stateful_widget(table, table_area, &mut state);

    // The error of the selected repository: too long for a column, too useful to hide.
    if let Some(reason) = repos.get(selected).and_then(|r| r.sync_error.as_deref()) {
        let line = Line::from(format!("  {}: {reason}", repos[selected].full_name)).red();
        frame.render_widget(line, detail_area);
    }
}
