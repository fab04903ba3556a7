//! People: members with the pull requests they authored, reviews they gave, and their median
//! pickup and cycle time over the period; bots in a section of their own.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Style, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Block, Row, Table, TableState};

use super::Person;
use crate::app::State;
use crate::columns::{self, Column, Grid};
use crate::config::Theme;
use crate::tabs::TeamView;
use crate::timefmt;
use crate::views::team::placeholder;

const HEADER: [&str; 7] = [
    "Login", "Name", "PRs", "Merged", "Reviews", "Pickup", "Cycle",
];

/// The login and name give way (the name first); the counts and durations never do. Too narrow
/// even so: the name goes first, then reviews, merged, pickup.
const COLUMNS: [Column; 7] = [
    Column::text(6, 1, 95),
    Column::text(6, 2, 50).grow(),
    Column::whole(85),
    Column::whole(70),
    Column::whole(60),
    Column::whole(80),
    Column::whole(90),
];

fn texts(person: &Person) -> [String; 7] {
    let mut name = person.name.clone();
    if person.left {
        name.push_str(" (left)");
    }
    [
        if person.login.is_empty() {
            "—".to_string()
        } else {
            person.login.clone()
        },
        name,
        person.authored.to_string(),
        person.merged.to_string(),
        person.reviews_given.unwrap_or(0).to_string(),
        timefmt::duration_or_dash(person.median_pickup),
        timefmt::duration_or_dash(person.median_cycle),
    ]
}

fn row(grid: &Grid, person: &Person, texts: [String; 7], theme: Theme) -> Row<'static> {
    let [login, name, rest @ ..] = texts;
    let login = if person.login.is_empty() {
        Line::from(login).fg(theme.dim())
    } else {
        Line::from(login)
    };
    let cells = [login, Line::from(name)]
        .into_iter()
        .chain(rest.into_iter().map(Line::from));
    Row::new(grid.cells(cells))
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
    let inner = block.inner(area);
    let bots = people.len() - humans;
    let separator = format!("bots ({bots})");
    let texts: Vec<[String; 7]> = people.iter().map(texts).collect();
    let mut natural = columns::measure(
        &HEADER,
        texts.iter().map(|row| row.iter().map(String::as_str)),
    );
    if bots > 0 {
        natural[0] = natural[0].max(columns::cells(&separator));
    }
    let grid = Grid::new(&COLUMNS, &natural, inner.width as usize, 1);
    let (human_rows, bot_rows): (Vec<_>, Vec<_>) = people
        .iter()
        .zip(texts)
        .partition(|(person, _)| !person.is_bot);
    let mut rows: Vec<Row> = human_rows
        .into_iter()
        .map(|(p, texts)| row(&grid, p, texts, theme))
        .collect();
    // A separator row before the bots: the selection skips it.
    let mut selected = view.selected_person.row();
    if !bot_rows.is_empty() {
        rows.push(Row::new(grid.cells([Line::from(separator).bold()])));
        if selected >= humans {
            selected += 1;
        }
        rows.extend(
            bot_rows
                .into_iter()
                .map(|(p, texts)| row(&grid, p, texts, theme).fg(theme.dim())),
        );
    }
    let table = Table::new(rows, grid.constraints())
        .header(Row::new(grid.cells(HEADER.map(Line::from))).bold())
        .block(block)
        .row_highlight_style(Style::new().reversed());
    let mut table_state = TableState::default().with_selected(Some(selected));
    frame.render_stateful_widget(table, area, &mut table_state);
}
