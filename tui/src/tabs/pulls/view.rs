//! Pull requests: a sortable, filterable table. Only the rows on screen are built, so a team
//! with 50,000 pull requests draws as fast as one with fifty.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Row, Table, TableState};
use tidemark_protocol::{PrInfo, PrState};

use super::PrColumn;
use crate::app::State;
use crate::columns::{self, Column, Grid};
use crate::config::Theme;
use crate::tabs::TeamView;
use crate::views::team::placeholder;

/// The first row drawn so `selected` shows in a window of `height` rows: the selection stays
/// in the middle once it is past the first half page.
pub fn window_start(selected: usize, len: usize, height: usize) -> usize {
    if height == 0 || len <= height {
        return 0;
    }
    selected.saturating_sub(height / 2).min(len - height)
}

/// Text without control characters (titles come from GitHub and may carry escapes).
fn clean(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}

/// How each column is sized (see [`crate::columns`]): numbers whole, text giving way. When the
/// table is too narrow even so, what goes first: the opening date, the size, the state, the
/// author, the repository; the number, the title and the durations stay longest.
pub fn column(column: PrColumn) -> Column {
    match column {
        PrColumn::Repo => Column::text(4, 1, 50),
        PrColumn::Number => Column::whole(90),
        PrColumn::Title => Column::text(10, 3, 80).grow(),
        PrColumn::Author => Column::text(6, 1, 40),
        PrColumn::State => Column::whole(30).left(),
        PrColumn::Size => Column::whole(20),
        PrColumn::Cycle => Column::whole(70),
        PrColumn::Review => Column::whole(60),
        PrColumn::Created => Column::whole(10).left(),
    }
}

fn cell(pr: &PrInfo, column: PrColumn, theme: Theme) -> Line<'static> {
    let text = column.text(pr).into_owned();
    match column {
        PrColumn::Author if pr.author_is_bot => Line::from(text).fg(theme.dim()),
        PrColumn::State => {
            let color = match (pr.state, pr.is_draft) {
                (PrState::Open, true) => theme.dim(),
                (PrState::Open, false) => theme.good(),
                (PrState::Merged, _) => theme.second(),
                (PrState::Closed, _) => theme.bad(),
            };
            Line::from(text).fg(color)
        }
        _ => Line::from(text),
    }
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, view: &TeamView) {
    if placeholder(frame, area, &view.pulls, "pull requests") {
        return;
    }
    let theme = state.config.theme;
    let list = &view.pr_list;
    let pulls = view.pulls();
    let order = if list.descending { "↓" } else { "↑" };
    let mut title = format!(
        " Pull requests {}/{} · sort {} {order} ",
        list.rows.len(),
        pulls.len(),
        list.sort.name()
    );
    if !list.filter.value().is_empty() && !list.filtering {
        title.push_str(&format!("· filter \"{}\" ", clean(list.filter.value())));
    }
    let block = Block::bordered().title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let filter_height = u16::from(list.filtering);
    let [filter_area, table_area] =
        Layout::vertical([Constraint::Length(filter_height), Constraint::Min(0)]).areas(inner);
    if list.filtering {
        let (text, _) = list
            .filter
            .visible(filter_area.width.saturating_sub(10) as usize);
        frame.render_widget(
            Line::from(vec![
                Span::from(" filter: ").fg(theme.accent()).bold(),
                Span::raw(text),
                Span::from("▏").fg(theme.accent()),
            ]),
            filter_area,
        );
    }
    if list.rows.is_empty() {
        let text = if pulls.is_empty() {
            " No pull requests synced yet"
        } else {
            " No pull request matches the filter"
        };
        frame.render_widget(Line::from(text).fg(theme.dim()), table_area);
        return;
    }

    let columns = &state.config.columns;
    let headers: Vec<String> = columns
        .iter()
        .map(|&c| {
            if c == list.sort {
                format!("{}{order}", c.header())
            } else {
                c.header().to_string()
            }
        })
        .collect();
    // Sized from the widest value of each column over all loaded pull requests (derived when
    // they arrive), so the columns do not move while scrolling.
    let natural: Vec<usize> = columns
        .iter()
        .zip(&headers)
        .map(|(&c, header)| list.widths[c.index()].max(columns::cells(header)))
        .collect();
    let kinds: Vec<Column> = columns.iter().map(|&c| column(c)).collect();
    let grid = Grid::new(&kinds, &natural, table_area.width as usize, 1);
    let height = table_area.height.saturating_sub(1) as usize;
    let selected = list.selected.row();
    let start = window_start(selected, list.rows.len(), height);
    let end = (start + height).min(list.rows.len());
    let rows = list.rows[start..end].iter().map(|&i| {
        let pr = &pulls[i as usize];
        Row::new(grid.cells(columns.iter().map(|&c| cell(pr, c, theme))))
    });
    let headers = columns.iter().zip(headers).map(|(&c, text)| {
        if c == list.sort {
            Line::from(text).fg(theme.accent()).bold()
        } else {
            Line::from(text).bold()
        }
    });
    let table = Table::new(rows, grid.constraints())
        .header(Row::new(grid.cells(headers)))
        .column_spacing(1)
        .row_highlight_style(Style::new().reversed());
    let mut table_state = TableState::default().with_selected(Some(selected - start));
    frame.render_stateful_widget(table, table_area, &mut table_state);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tabs::pulls::short_size;

    #[test]
    fn the_window_follows_the_selection() {
        assert_eq!(window_start(0, 5, 10), 0);
        assert_eq!(window_start(3, 100, 10), 0);
        assert_eq!(window_start(50, 100, 10), 45);
        assert_eq!(window_start(99, 100, 10), 90);
    }

    #[test]
    fn sizes_are_short() {
        assert_eq!(short_size(48), "48");
        assert_eq!(short_size(2000), "2.0k");
        assert_eq!(short_size(9_999), "10.0k");
        assert_eq!(short_size(40_000), "40k");
    }
}
