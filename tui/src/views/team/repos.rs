//! Repos: the tracked repositories with their sync status, last sync and pull requests.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Row, Table, TableState};
use tidemark_protocol::SyncStatus;

use super::{HIGHLIGHT, HIGHLIGHT_WIDTH, ago, placeholder};
use crate::app::State;
use crate::app::team_state::TeamView;
use crate::columns::{self, Column, Grid};

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

    let header = ["Repository", "State", "Sync", "Last sync", "PRs"];
    let texts: Vec<[String; 5]> = repos
        .iter()
        .map(|repo| {
            [
                repo.full_name.clone(),
                (if repo.is_active { "active" } else { "paused" }).to_string(),
                repo.sync_status.as_str().to_string(),
                repo.last_sync_at
                    .map_or("never".into(), |t| ago(state.now, t)),
                repo.pull_request_count.to_string(),
            ]
        })
        .collect();
    let natural = columns::measure(
        &header,
        texts.iter().map(|row| row.iter().map(String::as_str)),
    );
    // The name gives way; the counts and times never do. Too narrow even so: the state goes
    // first, then the sync status, the last sync, the count.
    let kinds = [
        Column::text(8, 1, 90).grow(),
        Column::whole(10).left(),
        Column::whole(20).left(),
        Column::whole(30),
        Column::whole(40),
    ];
    let grid = Grid::new(
        &kinds,
        &natural,
        table_area.width.saturating_sub(HIGHLIGHT_WIDTH) as usize,
        1,
    );
    let rows = repos
        .iter()
        .zip(texts)
        .map(|(repo, [name, active, sync, last, prs])| {
            let color = match repo.sync_status {
                SyncStatus::Complete => theme.good(),
                SyncStatus::Syncing | SyncStatus::Pending => theme.warn(),
                SyncStatus::Error => theme.bad(),
            };
            Row::new(grid.cells([
                Line::from(name),
                Line::from(active),
                Line::from(sync).fg(color),
                Line::from(last),
                Line::from(prs),
            ]))
        });
    let table = Table::new(rows, grid.constraints())
        .header(Row::new(grid.cells(header.map(Line::from))).bold())
        .row_highlight_style(Style::new().reversed())
        .highlight_symbol(HIGHLIGHT);
    let mut table_state = TableState::default().with_selected(Some(view.selected_repo.row()));
    frame.render_stateful_widget(table, table_area, &mut table_state);

    // The selected repository's error: too long for a column, too useful to hide.
    if let Some(repo) = view.selected_repo()
        && let Some(reason) = repo.sync_error.as_deref()
    {
        let line = Line::from(format!(" {}: {reason}", repo.full_name)).fg(theme.bad());
        frame.render_widget(
            columns::fit_line(line, detail_area.width as usize),
            detail_area,
        );
    }
}
