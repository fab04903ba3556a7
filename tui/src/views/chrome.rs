//! The frame around every screen: title bar, the daemon banner, and the status line. The banner
//! and status line grow to fit their wrapped text, so an error is never cut off at 80 columns.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Padding, Paragraph, Wrap};

use crate::app::{Link, Notice, Screen, State};
use crate::autostart::STARTING_MESSAGE;
use crate::widgets::spinner;

const HINT: &str = "? help  q quit ";
// Room for a start failure's reason (the daemon's own words) and what to do about it.
const BANNER_MAX: u16 = 10;
const STATUS_MAX: u16 = 3;

pub fn header(frame: &mut Frame, area: Rect, state: &State) {
    let mut crumbs = vec![
        Span::from(" tidemark ").bold().reversed(),
        Span::raw(" Teams"),
    ];
    if let Screen::Team(view) = &state.screen {
        crumbs.push(Span::raw(" › "));
        crumbs.push(Span::from(view.name.clone()).bold());
    }
    let right = match &state.link {
        Link::Connected { daemon_version } => format!("daemon {daemon_version} "),
        Link::Connecting => "connecting… ".into(),
        Link::Starting => "starting… ".into(),
        Link::Lost { .. } => "disconnected ".into(),
        Link::StartFailed { .. } => "not started ".into(),
    };
    let [left_area, right_area] = Layout::horizontal([
        Constraint::Min(0),
        Constraint::Length(right.chars().count() as u16),
    ])
    .areas(area);
    frame.render_widget(Line::from(crumbs), left_area);
    frame.render_widget(Line::from(right).dark_gray(), right_area);
}

fn banner_paragraph(state: &State) -> Option<Paragraph<'static>> {
    let (title, color, lines) = match &state.link {
        Link::Lost { reason } => (
            " daemon unreachable: retrying… ",
            Color::Red,
            vec![
                Line::from(reason.clone()),
                Line::from("Retrying; this screen reconnects by itself.").dark_gray(),
            ],
        ),
        // Nothing restarts it by itself: say so, and how to try again.
        Link::StartFailed { reason } => (
            " the daemon did not start ",
            Color::Red,
            vec![
                Line::from(reason.clone()),
                Line::from(vec![
                    Span::raw("It is not started again by itself. Press "),
                    Span::from("s").bold(),
                    Span::raw(
                        " to try once more; a daemon started elsewhere is picked up by itself.",
                    ),
                ])
                .dark_gray(),
            ],
        ),
        Link::Starting => (
            " daemon ",
            Color::Yellow,
            vec![Line::from(format!(
                "{STARTING_MESSAGE} (socket {})",
                state.socket.display()
            ))],
        ),
        Link::Connecting | Link::Connected { .. } => return None,
    };
    let block = Block::bordered()
        .border_style(Style::new().fg(color))
        .padding(Padding::horizontal(1))
        .title(Span::from(title).fg(color).add_modifier(Modifier::BOLD));
    Some(Paragraph::new(lines).wrap(Wrap { trim: true }).block(block))
}

/// Rows the banner needs at this terminal width; 0 when there is nothing to say.
pub fn banner_height(state: &State, width: u16) -> u16 {
    // Borders and padding take four columns; line_count only subtracts the rows.
    banner_paragraph(state).map_or(0, |p| {
        (p.line_count(width.saturating_sub(4)) as u16).min(BANNER_MAX)
    })
}

pub fn banner(frame: &mut Frame, area: Rect, state: &State) {
    if let Some(paragraph) = banner_paragraph(state) {
        frame.render_widget(paragraph, area);
    }
}

fn status_paragraph(state: &State) -> Paragraph<'static> {
    let mut spans = Vec::new();
    if state.is_busy() {
        spans.push(Span::from(format!(" {} ", spinner::frame(state.spinner_tick))).cyan());
    } else {
        spans.push(Span::raw(" "));
    }
    match &state.notice {
        Some(Notice::Error(text)) => spans.push(Span::from(format!("error: {text}")).red()),
        Some(Notice::Info(text)) => spans.push(Span::from(text.clone()).green()),
        None if matches!(state.link, Link::Connecting) => {
            spans.push(Span::raw(format!(
                "connecting to {}",
                state.socket.display()
            )));
        }
        None if state.in_flight > 0 => spans.push(Span::raw("working…")),
        None => {}
    }
    Paragraph::new(Line::from(spans)).wrap(Wrap { trim: false })
}

/// Rows the status line needs: one, unless a message has to wrap.
pub fn status_height(state: &State, width: u16) -> u16 {
    let width = if state.notice.is_some() {
        width
    } else {
        width.saturating_sub(HINT.len() as u16)
    };
    (status_paragraph(state).line_count(width) as u16).clamp(1, STATUS_MAX)
}

pub fn status_line(frame: &mut Frame, area: Rect, state: &State) {
    // A message takes the whole line; the key hint comes back once it is gone.
    if state.notice.is_some() {
        frame.render_widget(status_paragraph(state), area);
        return;
    }
    let [left_area, right_area] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(HINT.len() as u16)]).areas(area);
    frame.render_widget(status_paragraph(state), left_area);
    frame.render_widget(Line::from(HINT).dark_gray(), right_area);
}
