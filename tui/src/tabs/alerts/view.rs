//! The Alerts tab's pages: the breaches (newest first) under the Slack link's state, and a
//! breach's details. The agreements page is `agreements_view.rs`. Times are `ago` on the list
//! and UTC in the details, as everywhere on screen.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table, TableState, Wrap};
use tidemark_protocol::agreements::{Alerts, Breach, SlackPost};

use super::{AlertsData, Page};
use crate::app::{Loadable, State};
use crate::columns::{self, Column, Grid};
use crate::config::Theme;
use crate::output::agreements as words;
use crate::tabs::TeamView;
use crate::tabs::pulls::view::window_start;
use crate::timefmt;
use crate::views::team::{ago, placeholder};

pub fn render(frame: &mut Frame, area: Rect, state: &State, view: &TeamView) {
    let theme = state.config.theme;
    let tab = &view.alerts;
    if let Page::Agreements(editor) = &tab.page {
        super::agreements_view::render(frame, area, editor, theme);
        return;
    }
    if placeholder(frame, area, &tab.data, "alerts") {
        return;
    }
    let Loadable::Loaded(data) = &tab.data else {
        return;
    };
    match &tab.page {
        Page::Breach { id, scroll } => match tab.breach(*id) {
            Some(b) => detail(frame, area, b, *scroll, state.now, theme),
            None => {
                let text =
                    Line::from(" This breach is no longer listed (esc goes back)").fg(theme.dim());
                frame.render_widget(Paragraph::new(text).block(Block::bordered()), area);
            }
        },
        Page::Main | Page::Agreements(_) => {
            main_page(frame, area, data, tab, state.now, theme);
        }
    }
}

/// The Slack link's state, first on the page: `reconnect: PROBLEM` stands out, since posting
/// stopped until a person acts.
pub fn slack_header(alerts: &Alerts, now: i64, theme: Theme) -> Line<'static> {
    let s = &alerts.slack;
    let mut spans = vec![Span::raw(" ")];
    if let Some(problem) = &s.problem {
        spans.push(Span::raw("Slack: "));
        spans.push(
            Span::from(format!("reconnect: {problem}"))
                .fg(theme.bad())
                .bold(),
        );
    } else if s.connected && s.channel.is_some() {
        spans.push(Span::raw(words::slack_line(Some(s))));
    } else {
        spans.push(Span::from(words::slack_line(Some(s))).fg(theme.warn()));
    }
    if let Some(at) = alerts.evaluated_at {
        spans.push(Span::from(format!(" · checked {}", ago(now, at))).fg(theme.dim()));
    }
    Line::from(spans)
}

/// Agreement, PR, title, author, since, over, resolved (with `a`), Slack: the agreement, PR
/// and times never cut; Slack gives way first, then resolved, the author, the since.
const COLUMNS: [Column; 8] = [
    Column::whole(90).left(),
    Column::whole(100).left(),
    Column::text(10, 3, 95).grow(),
    Column::text(6, 1, 70),
    Column::whole(75).left(),
    Column::whole(85).left(),
    Column::whole(60).left(),
    Column::text(7, 1, 50),
];

const HEADER: [&str; 8] = [
    "Agreement",
    "PR",
    "Title",
    "Author",
    "Since",
    "Over",
    "Resolved",
    "Slack",
];

/// A breach's cells as text (the resolved one empty when not shown).
pub fn row_texts(b: &Breach, now: i64, resolved: bool) -> [String; 8] {
    let ended = match b.resolved_at {
        Some(at) if resolved => ago(now, at),
        None if resolved => "open".into(),
        _ => String::new(),
    };
    [
        b.kind.name().into(),
        words::pr_ref(b),
        b.title.clone(),
        b.author.clone(),
        ago(now, b.since),
        words::over(b.over),
        ended,
        words::slack_post(b.slack.as_ref()),
    ]
}

fn main_page(
    frame: &mut Frame,
    area: Rect,
    data: &AlertsData,
    tab: &super::AlertsTab,
    now: i64,
    theme: Theme,
) {
    let alerts = &data.alerts;
    let open = match alerts.open {
        0 => "none open".to_string(),
        n => format!("{n} open"),
    };
    let shown = if tab.show_resolved {
        "a hides resolved"
    } else {
        "a shows resolved"
    };
    let title = columns::first_parts(
        ["Alerts", &open, "enter details", shown, "e agreements"],
        area.width.saturating_sub(4) as usize,
    );
    let block = Block::bordered().title(format!(" {title} "));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [header_area, table_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
    frame.render_widget(slack_header(alerts, now, theme), header_area);
    let breaches = &alerts.breaches;
    if breaches.is_empty() {
        let text = if !data.agreements.any() {
            " No agreements set yet: e shows them (admins and owners set them)"
        } else if tab.show_resolved {
            " Nothing crossed an agreement yet"
        } else {
            " Every pull request is within the team's agreements (a shows resolved breaches)"
        };
        let line = Line::from(columns::fit(text, inner.width as usize).into_owned());
        frame.render_widget(Paragraph::new(line.fg(theme.dim())), table_area);
        return;
    }
    let resolved = tab.show_resolved;
    let texts: Vec<[String; 8]> = breaches
        .iter()
        .map(|b| row_texts(b, now, resolved))
        .collect();
    let mut natural = columns::measure(&HEADER, texts.iter().map(|r| r.iter().map(String::as_str)));
    if !resolved {
        natural[6] = 0;
    }
    let grid = Grid::new(&COLUMNS, &natural, table_area.width as usize, 1);
    let selected = tab.selected.row().min(breaches.len() - 1);
    let height = table_area.height.saturating_sub(1) as usize;
    let start = window_start(selected, breaches.len(), height);
    let end = (start + height).min(breaches.len());
    let rows = breaches[start..end]
        .iter()
        .zip(&texts[start..end])
        .map(|(b, t)| {
            let style = if b.resolved_at.is_some() {
                Style::new().fg(theme.dim())
            } else {
                Style::new()
            };
            let over = if b.resolved_at.is_some() {
                Line::from(t[5].clone())
            } else {
                Line::from(t[5].clone()).fg(theme.bad())
            };
            let slack = match &b.slack {
                Some(SlackPost::NotSent { .. }) => Line::from(t[7].clone()).fg(theme.warn()),
                _ => Line::from(t[7].clone()),
            };
            Row::new(grid.cells([
                Line::from(t[0].clone()),
                Line::from(t[1].clone()),
                Line::from(t[2].clone()),
                Line::from(t[3].clone()),
                Line::from(t[4].clone()),
                over,
                Line::from(t[6].clone()),
                slack,
            ]))
            .style(style)
        });
    let table = Table::new(rows, grid.constraints())
        .flex(Flex::Start)
        .header(Row::new(grid.cells(HEADER.map(Line::from))).bold())
        .row_highlight_style(Style::new().reversed());
    let mut state = TableState::default().with_selected(Some(selected - start));
    frame.render_stateful_widget(table, table_area, &mut state);
}

/// Where a breach's Slack message stands, in words for the details.
fn slack_detail(post: Option<&SlackPost>) -> String {
    match post {
        None => "no message (Slack was not connected)".into(),
        Some(SlackPost::Pending) => "waiting to be posted".into(),
        Some(SlackPost::Posted { at, updated }) => {
            let edit = if *updated {
                ", updated when it was resolved"
            } else {
                ""
            };
            format!("posted {}{edit}", timefmt::utc(*at))
        }
        Some(SlackPost::NotSent { reason }) => format!("not sent: {reason}"),
    }
}

/// The details' lines (label, value); their number is `super::DETAIL_LINES` at most.
pub fn detail_lines(b: &Breach, now: i64) -> Vec<(&'static str, String)> {
    let resolved = match (b.resolved_at, &b.resolution) {
        (Some(at), Some(how)) => format!("{} ({}), {how}", timefmt::utc(at), ago(now, at)),
        (Some(at), None) => format!("{} ({})", timefmt::utc(at), ago(now, at)),
        (None, _) => "not yet: open".into(),
    };
    vec![
        ("Agreement", b.kind.name().into()),
        ("Limit", b.limit.clone()),
        ("Over", words::over(b.over)),
        ("PR", format!("{} {}", words::pr_ref(b), b.title)),
        ("Author", b.author.clone()),
        ("People", b.people.join(", ")),
        (
            "Since",
            format!("{} ({})", timefmt::utc(b.since), ago(now, b.since)),
        ),
        ("Resolved", resolved),
        ("Slack", slack_detail(b.slack.as_ref())),
        ("URL", b.url.clone()),
    ]
}

fn detail(frame: &mut Frame, area: Rect, b: &Breach, scroll: usize, now: i64, theme: Theme) {
    let title = columns::first_parts(
        [
            &format!("{} · {}", b.kind.name(), words::pr_ref(b)),
            "o opens the PR",
            "esc back",
        ],
        area.width.saturating_sub(4) as usize,
    );
    let block = Block::bordered().title(format!(" {title} "));
    let lines: Vec<Line> = detail_lines(b, now)
        .into_iter()
        .map(|(label, value)| {
            let value = match label {
                "Over" if b.resolved_at.is_none() => Span::from(value).fg(theme.bad()),
                "Slack" if matches!(b.slack, Some(SlackPost::NotSent { .. })) => {
                    Span::from(value).fg(theme.warn())
                }
                _ => Span::from(value),
            };
            Line::from(vec![Span::from(format!(" {label:<10}")).bold(), value])
        })
        .collect();
    let paragraph = Paragraph::new(lines)
        .block(block)
        .wrap(Wrap { trim: false })
        .scroll((scroll as u16, 0));
    frame.render_widget(paragraph, area);
}
