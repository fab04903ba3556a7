//! Pull requests: a sortable, filterable table. Only the rows on screen are built, so a team
//! with 50,000 pull requests draws as fast as one with fifty.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Row, Table, TableState};
use tidemark_protocol::{PrInfo, PrState};

use super::placeholder;
use crate::app::State;
use crate::app::team_state::{PrColumn, TeamView};
use crate::config::Theme;
use crate::timefmt;

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

fn width(column: PrColumn) -> Constraint {
    match column {
        PrColumn::Repo => Constraint::Length(9),
        PrColumn::Number => Constraint::Length(5),
        PrColumn::Title => Constraint::Fill(1),
        PrColumn::Author => Constraint::Length(10),
        PrColumn::State => Constraint::Length(6),
        PrColumn::Size => Constraint::Length(5),
        PrColumn::Cycle => Constraint::Length(6),
        PrColumn::Review => Constraint::Length(6),
        PrColumn::Created => Constraint::Length(10),
    }
}

fn header(column: PrColumn) -> &'static str {
    match column {
        PrColumn::Repo => "Repo",
        PrColumn::Number => "#",
        PrColumn::Title => "Title",
        PrColumn::Author => "Author",
        PrColumn::State => "State",
        PrColumn::Size => "Size",
        PrColumn::Cycle => "Cycle",
        PrColumn::Review => "Review",
        PrColumn::Created => "Opened",
    }
}

/// Lines changed, short: `48`, `1.2k`, `40k`.
pub fn size(lines: u64) -> String {
    match lines {
        0..=999 => lines.to_string(),
        1_000..=9_999 => format!("{:.1}k", lines as f64 / 1000.0),
        _ => format!("{}k", lines / 1000),
    }
}

fn cell(pr: &PrInfo, column: PrColumn, theme: Theme) -> Line<'static> {
    match column {
        PrColumn::Repo => Line::from(pr.repo.rsplit('/').next().unwrap_or(&pr.repo).to_string()),
        PrColumn::Number => Line::from(pr.number.to_string()).right_aligned(),
        PrColumn::Title => Line::from(clean(&pr.title)),
        PrColumn::Author => {
            let author = pr.author.clone().unwrap_or_else(|| "ghost".into());
            if pr.author_is_bot {
                Line::from(author).fg(theme.dim())
            } else {
                Line::from(author)
            }
        }
        PrColumn::State => {
            let (text, color) = match (pr.state, pr.is_draft) {
                (PrState::Open, true) => ("draft", theme.dim()),
                (PrState::Open, false) => ("open", theme.good()),
                (PrState::Merged, _) => ("merged", theme.second()),
                (PrState::Closed, _) => ("closed", theme.bad()),
            };
            Line::from(text).fg(color)
        }
        PrColumn::Size => Line::from(size(pr.additions + pr.deletions)).right_aligned(),
        PrColumn::Cycle => Line::from(timefmt::duration_or_dash(pr.cycle_time)).right_aligned(),
        PrColumn::Review => Line::from(timefmt::duration_or_dash(pr.review_time)).right_aligned(),
        PrColumn::Created => Line::from(
            timefmt::utc(pr.created_at)
                .chars()
                .take(10)
                .collect::<String>(),
        ),
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
    let height = table_area.height.saturating_sub(1) as usize;
    let start = window_start(list.selected, list.rows.len(), height);
    let end = (start + height).min(list.rows.len());
    let rows = list.rows[start..end].iter().map(|&i| {
        let pr = &pulls[i as usize];
        Row::new(columns.iter().map(|&c| cell(pr, c, theme)))
    });
    let headers = columns.iter().map(|&c| {
        let text = header(c);
        if c == list.sort {
            Line::from(format!("{text}{order}"))
                .fg(theme.accent())
                .bold()
        } else {
            Line::from(text).bold()
        }
    });
    let table = Table::new(rows, columns.iter().map(|&c| width(c)))
        .header(Row::new(headers))
        .column_spacing(1)
        .row_highlight_style(Style::new().reversed());
    let mut table_state = TableState::default().with_selected(Some(list.selected - start));
    frame.render_stateful_widget(table, table_area, &mut table_state);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_follows_the_selection() {
        assert_eq!(window_start(0, 5, 10), 0);
        assert_eq!(window_start(3, 100, 10), 0);
        assert_eq!(window_start(50, 100, 10), 45);
        assert_eq!(window_start(99, 100, 10), 90);
    }

    #[test]
    fn sizes_are_short() {
        assert_eq!(size(48), "48");
        assert_eq!(size(2000), "2.0k");
        assert_eq!(size(40_000), "40k");
    }
}
