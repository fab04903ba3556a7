//! People: members with the pull requests they authored, reviews they gave, and their median
//! pickup and cycle time over the period; bots in a section of their own.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Block, Row, Table, TableState};

use super::placeholder;
use crate::app::State;
use crate::app::team_state::{Person, TeamView};
use crate::config::Theme;
use crate::timefmt;

fn row(person: &Person, theme: Theme) -> Row<'static> {
    let mut name = person.name.clone();
    if person.left {
        name.push_str(" (left)");
    }
    let login = if person.login.is_empty() {
        Line::from("—").fg(theme.dim())
    } else {
        Line::from(person.login.clone())
    };
    Row::new([
        login,
        Line::from(name),
        Line::from(person.authored.to_string()).right_aligned(),
        Line::from(person.merged.to_string()).right_aligned(),
        Line::from(
            person
                .reviews_given
                .map_or("0".to_string(), |n| n.to_string()),
        )
        .right_aligned(),
        Line::from(timefmt::duration_or_dash(person.median_pickup)).right_aligned(),
        Line::from(timefmt::duration_or_dash(person.median_cycle)).right_aligned(),
    ])
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, view: &TeamView) {
    if placeholder(frame, area, &view.people, "people") {
        return;
    }
    let theme = state.config.theme;
    let people = &view.people_rows;
    let humans = people.iter().filter(|p| !p.is_bot).count();
    let block = Block::bordered().title(format!(
        " People ({humans}) · last {} · [/] on Metrics changes it ",
        view.period.label()
    ));
    let mut rows: Vec<Row> = people
        .iter()
        .filter(|p| !p.is_bot)
        .map(|p| row(p, theme))
        .collect();
    let bots: Vec<Row> = people
        .iter()
        .filter(|p| p.is_bot)
        .map(|p| row(p, theme).fg(theme.dim()))
        .collect();
    // A separator row before the bots: the selection skips it.
    let mut selected = view.selected_person;
    if !bots.is_empty() {
        rows.push(Row::new([
            Line::from(format!("bots ({})", bots.len())).bold()
        ]));
        if selected >= humans {
            selected += 1;
        }
        rows.extend(bots);
    }
    let table = Table::new(
        rows,
        [
            Constraint::Max(18),
            Constraint::Fill(1),
            Constraint::Length(5),
            Constraint::Length(6),
            Constraint::Length(7),
            Constraint::Length(8),
            Constraint::Length(8),
        ],
    )
    .header(
        Row::new([
            "Login", "Name", "PRs", "Merged", "Reviews", "Pickup", "Cycle",
        ])
        .bold(),
    )
    .block(block)
    .row_highlight_style(Style::new().reversed());
    let mut table_state = TableState::default().with_selected(Some(selected));
    frame.render_stateful_widget(table, area, &mut table_state);
}
