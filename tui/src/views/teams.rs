//! The list of teams the caller can see.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState};
use tidemark_protocol::validate_team_name;

use crate::app::{Loadable, State};
use crate::output::describe_role;
use crate::timefmt;

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
    let block = Block::bordered().title(match &state.teams {
        Loadable::Loaded(teams) => format!(" Teams ({}) ", teams.len()),
        _ => " Teams ".to_string(),
    });
    let message = match &state.teams {
        Loadable::Loading if state.is_connected() => Some(Line::from("Loading teams…").dark_gray()),
        Loadable::Loading => Some(Line::from("Waiting for the daemon…").dark_gray()),
        Loadable::Failed(err) => Some(Line::from(format!("Cannot list teams: {err}")).red()),
        Loadable::Loaded(teams) if teams.is_empty() => {
            Some(Line::from("No teams yet. Press n to create one.").dark_gray())
        }
        Loadable::Loaded(_) => None,
    };
    if let Some(message) = message {
        frame.render_widget(Paragraph::new(message).block(block), area);
        return;
    }

    let ids: Vec<String> = state.teams().iter().map(|t| format!("#{}", t.id)).collect();
    // Sized from the widest id: an id is never cut.
    let id_width = ids.iter().map(|id| id.len()).max().unwrap_or(0).max(2) as u16;
    let rows = state.teams().iter().zip(ids).map(|(team, id)| {
        let mut name = Line::from(team.name.clone());
        // A name from before names were checked (`#1`, say) is reachable by id only: ask for a
        // new one.
        if validate_team_name(&team.name).is_err() {
            name.push_span(Span::from("  rename it: name not allowed").yellow());
        }
        Row::new([
            Cell::from(id),
            Cell::from(name),
            Cell::from(describe_role(team.role)),
            Cell::from(timefmt::utc(team.created_at)),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(id_width),
            Constraint::Fill(1),
            Constraint::Length(6),
            Constraint::Length(20),
        ],
    )
    .header(Row::new(["Id", "Name", "Role", "Created"]).bold())
    .row_highlight_style(Style::new().reversed())
    .highlight_symbol("› ")
    .block(block);
    let mut table_state = TableState::default().with_selected(Some(state.selected));
    frame.render_stateful_widget(table, area, &mut table_state);
}
