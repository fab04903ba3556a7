//! Repos: the tracked repositories with their sync status, last sync and pull requests.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Margin, Rect};
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table, TableState, Wrap};
use tidemark_protocol::SyncStatus;

use super::picker::AddRepos;
use crate::app::{Loadable, State};
use crate::columns::{self, Column, Grid};
use crate::tabs::TeamView;
use crate::views::team::{HIGHLIGHT, HIGHLIGHT_WIDTH, ago, placeholder};
use crate::widgets::popup;

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

/// The picker: the tick and the name stay; the name gives way; too narrow for everything, the
/// last push goes first, then the flags.
const PICKER: [Column; 4] = [
    Column::whole(90).left(),
    Column::text(8, 1, 80).grow(),
    Column::whole(20).left(),
    Column::whole(10).left(),
];

pub fn add_repos(frame: &mut Frame, state: &State, picker: &AddRepos) {
    let area = popup::centered(
        frame.area(),
        64,
        frame.area().height.saturating_sub(4).min(20),
    );
    let inner =
        popup::frame(frame, area, "Track repositories", Color::Cyan).inner(Margin::new(1, 0));
    let [filter_area, list_area, keys_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(inner);
    let filter = picker.filter.value();
    let filter_line = if picker.filtering {
        Line::from(vec![
            Span::from("filter: ").cyan().bold(),
            Span::raw(filter.to_string()),
            Span::from("▏").cyan(),
        ])
    } else if filter.is_empty() {
        Line::from("/ to filter").dark_gray()
    } else {
        Line::from(format!("filter: {filter}")).dark_gray()
    };
    frame.render_widget(filter_line, filter_area);
    match &picker.repos {
        Loadable::Loading => {
            frame.render_widget(
                Line::from("Asking GitHub for the organization's repositories…").dark_gray(),
                list_area,
            );
        }
        Loadable::Failed(err) => {
            frame.render_widget(
                Paragraph::new(Line::from(format!("Cannot list them: {err}")).red())
                    .wrap(Wrap { trim: true }),
                list_area,
            );
        }
        Loadable::Loaded(_) => {
            let visible = picker.visible();
            if visible.is_empty() {
                frame.render_widget(
                    Line::from("Every repository is tracked already, or none matches.").dark_gray(),
                    list_area,
                );
            } else {
                let texts: Vec<[String; 4]> = visible
                    .iter()
                    .map(|repo| {
                        let tick = if picker.chosen.contains(&repo.full_name) {
                            "[x]"
                        } else {
                            "[ ]"
                        };
                        let mut flags = Vec::new();
                        if repo.private {
                            flags.push("private");
                        }
                        if repo.archived {
                            flags.push("archived");
                        }
                        let pushed = repo.pushed_at.map_or(String::new(), |at| {
                            format!("pushed {}", crate::views::team::ago(state.now, at))
                        });
                        [
                            tick.to_string(),
                            repo.full_name.clone(),
                            flags.join(" "),
                            pushed,
                        ]
                    })
                    .collect();
                let natural = columns::measure(
                    &["", "", "", ""],
                    texts.iter().map(|row| row.iter().map(String::as_str)),
                );
                let grid = Grid::new(&PICKER, &natural, list_area.width as usize, 1);
                let rows = texts.into_iter().map(|[tick, name, flags, pushed]| {
                    Row::new(grid.cells([
                        Line::from(tick),
                        Line::from(name),
                        Line::from(flags).dark_gray(),
                        Line::from(pushed).dark_gray(),
                    ]))
                });
                let table = Table::new(rows, grid.constraints())
                    .row_highlight_style(Style::new().reversed());
                let mut table_state =
                    TableState::default().with_selected(Some(picker.selected.row()));
                frame.render_stateful_widget(table, list_area, &mut table_state);
            }
        }
    }
    let keys = if picker.submitting {
        "tracking…".to_string()
    } else {
        format!(
            "space tick · enter track {} · esc close",
            if picker.chosen.is_empty() {
                "selected".to_string()
            } else {
                format!("{} ticked", picker.chosen.len())
            }
        )
    };
    frame.render_widget(Line::from(keys).dark_gray(), keys_area);
}

pub fn confirm_untrack(frame: &mut Frame, repo: &str) {
    crate::views::dialogs::confirm(
        frame,
        "Untrack",
        vec![
            Line::from(vec![
                Span::raw("Stop tracking "),
                Span::from(repo.to_string()).bold(),
                Span::raw("?"),
            ]),
            Line::from("Its webhook is deleted; its synced history stays."),
        ],
    );
}
