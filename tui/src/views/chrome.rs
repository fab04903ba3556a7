//! The frame around every screen: title bar, the daemon banner, and the status line.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::app::{Link, Notice, Screen, State};
use crate::autostart::STARTING_MESSAGE;
use crate::widgets::spinner;

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
    };
    let [left_area, right_area] = Layout::horizontal([
        Constraint::Min(0),
        Constraint::Length(right.chars().count() as u16),
    ])
    .areas(area);
    frame.render_widget(Line::from(crumbs), left_area);
    frame.render_widget(Line::from(right).dark_gray(), right_area);
}

pub fn banner_height(state: &State) -> u16 {
    match state.link {
        Link::Lost { .. } => 4,
        Link::Starting => 3,
        Link::Connecting | Link::Connected { .. } => 0,
    }
}

pub fn banner(frame: &mut Frame, area: Rect, state: &State) {
    let (title, color, text) = match &state.link {
        Link::Lost { reason } => (
            " daemon unreachable: retrying… ".to_string(),
            Color::Red,
            format!("{reason}. Start it with `tidemark daemon`; this screen reconnects by itself."),
        ),
        Link::Starting => (
            " daemon ".to_string(),
            Color::Yellow,
            format!("{STARTING_MESSAGE} (socket {})", state.socket.display()),
        ),
        _ => return,
    };
    let block = Block::bordered()
        .border_style(Style::new().fg(color))
        .title(Span::from(title).fg(color).add_modifier(Modifier::BOLD));
    let paragraph = Paragraph::new(text).wrap(Wrap { trim: true }).block(block);
    frame.render_widget(paragraph, area);
}

pub fn status_line(frame: &mut Frame, area: Rect, state: &State) {
    const HINT: &str = "? help  q quit ";
    let [left_area, right_area] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(HINT.len() as u16)]).areas(area);

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
    frame.render_widget(Line::from(spans), left_area);
    frame.render_widget(Line::from(HINT).dark_gray(), right_area);
}
