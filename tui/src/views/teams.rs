//! The list of teams the caller can see.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Row, Table, TableState};

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

    let rows = state.teams().iter().map(|team| {
        Row::new([
            team.name.clone(),
            describe_role(team.role).to_string(),
            timefmt::utc(team.created_at),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Fill(1),
            Constraint::Length(6),
            Constraint::Length(20),
        ],
    )
    .header(Row::new(["Name", "Role", "Created"]).bold())
    .row_highlight_style(Style::new().reversed())
    .highlight_symbol("› ")
    .block(block);
    let mut table_state = TableState::default().with_selected(Some(state.selected));
    frame.render_stateful_widget(table, area, &mut table_state);
}
