//! The list of teams the caller can see.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table, TableState};
use tidemark_protocol::validate_team_name;

use super::team::{HIGHLIGHT, HIGHLIGHT_WIDTH};
use crate::app::{Loadable, State};
use crate::columns::{self, Column, Grid};
use crate::output::describe_role;
use crate::timefmt;

/// After a name that is no longer allowed.
const RENAME: &str = "  rename it: name not allowed";

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
    let mut block = Block::bordered().title(match &state.teams {
        Loadable::Loaded(teams) => format!(" Teams ({}) ", teams.len()),
        _ => " Teams ".to_string(),
    });
    if let Some(waiting) = super::invitations::waiting(state) {
        block = block.title_bottom(Line::from(format!(" {waiting} ")).yellow());
    }
    let message = match &state.teams {
        Loadable::Loading if state.is_connected() => Some(Line::from("Loading teams…").dark_gray()),
        Loadable::Loading => Some(Line::from("Waiting for the daemon…").dark_gray()),
        Loadable::Failed(err) => Some(Line::from(format!("Cannot list teams: {err}")).red()),
        Loadable::Loaded(teams) if teams.is_empty() => {
            super::first_screen::render(frame, area, state);
            return;
        }
        Loadable::Loaded(_) => None,
    };
    if let Some(message) = message {
        frame.render_widget(Paragraph::new(message).block(block), area);
        return;
    }

    let header = ["Id", "Name", "Role", "Created"];
    let texts: Vec<[String; 4]> = state
        .teams()
        .iter()
        .map(|team| {
            let mut name = team.name.clone();
            // A name from before names were checked (`#1`, say) is reachable by id only: ask
            // for a new one.
            if validate_team_name(&team.name).is_err() {
                name.push_str(RENAME);
            }
            [
                format!("#{}", team.id),
                name,
                describe_role(team.role).to_string(),
                timefmt::utc(team.created_at),
            ]
        })
        .collect();
    let natural = columns::measure(
        &header,
        texts.iter().map(|row| row.iter().map(String::as_str)),
    );
    // An id is never cut; the name gives way. Too narrow even so: the date goes, then the role.
    let kinds = [
        Column::whole(90).left(),
        Column::text(6, 1, 80).grow(),
        Column::whole(30).left(),
        Column::whole(20).left(),
    ];
    let width = block.inner(area).width.saturating_sub(HIGHLIGHT_WIDTH);
    let grid = Grid::new(&kinds, &natural, width as usize, 1);
    let rows = texts
        .into_iter()
        .zip(state.teams())
        .map(|([id, name, role, created], team)| {
            let name = if validate_team_name(&team.name).is_err() {
                Line::from(vec![
                    Span::raw(team.name.clone()),
                    Span::from(RENAME).yellow(),
                ])
            } else {
                Line::from(name)
            };
            Row::new(grid.cells([Line::from(id), name, Line::from(role), Line::from(created)]))
        });
    let table = Table::new(rows, grid.constraints())
        .header(Row::new(grid.cells(header.map(Line::from))).bold())
        .row_highlight_style(Style::new().reversed())
        .highlight_symbol(HIGHLIGHT)
        .block(block);
    let mut table_state = TableState::default().with_selected(Some(state.selected.row()));
    frame.render_stateful_widget(table, area, &mut table_state);
}
