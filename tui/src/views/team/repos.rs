//! Repos: the tracked repositories with their sync status, last sync and pull requests.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Row, Table, TableState};
use tidemark_protocol::SyncStatus;

use super::{ago, placeholder};
use crate::app::State;
use crate::app::team_state::TeamView;

pub fn render(frame: &mut Frame, area: Rect, state: &State, view: &TeamView) {
    if placeholder(frame, area, &view.status, "the repositories") {
        return;
    }
    let Some(status) = view.loaded_status() else {
        return;
    };
    let theme = state.config.theme;
    let repos = &status.repos;
    // Repositories are the connected organization's: `a` has nothing to offer before that.
    let connected = view.is_connected();
    let block = Block::bordered().title(if connected {
        format!(
            " Tracked repositories ({}) · a add · d untrack ",
            repos.len()
        )
    } else {
        format!(" Tracked repositories ({}) ", repos.len())
    });
    if repos.is_empty() {
        let text = Line::from(if connected {
            " No tracked repositories · press a to pick some"
        } else {
            " Not connected to GitHub · press c to connect first"
        })
        .fg(theme.dim());
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [table_area, detail_area] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(inner);

    let rows = repos.iter().map(|repo| {
        let color = match repo.sync_status {
            SyncStatus::Complete => theme.good(),
            SyncStatus::Syncing | SyncStatus::Pending => theme.warn(),
            SyncStatus::Error => theme.bad(),
        };
        Row::new([
            Line::from(repo.full_name.clone()),
            Line::from(if repo.is_active { "active" } else { "paused" }),
            Line::from(repo.sync_status.as_str()).fg(color),
            Line::from(
                repo.last_sync_at
                    .map_or("never".into(), |t| ago(state.now, t)),
            ),
            Line::from(repo.pull_request_count.to_string()).right_aligned(),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Fill(1),
            Constraint::Length(6),
            Constraint::Length(8),
            Constraint::Length(16),
            Constraint::Length(6),
        ],
    )
    .header(Row::new(["Repository", "State", "Sync", "Last sync", "PRs"]).bold())
    .row_highlight_style(Style::new().reversed())
    .highlight_symbol("› ");
    let mut table_state = TableState::default().with_selected(Some(view.selected_repo));
    frame.render_stateful_widget(table, table_area, &mut table_state);

    // The selected repository's error: too long for a column, too useful to hide.
    if let Some(repo) = repos.get(view.selected_repo)
        && let Some(reason) = repo.sync_error.as_deref()
    {
        let line = Line::from(format!(" {}: {reason}", repo.full_name)).fg(theme.bad());
        frame.render_widget(line, detail_area);
    }
}
