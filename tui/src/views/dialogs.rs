//! Modal dialogs: create a team, confirm a deletion.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Margin, Position};
use ratatui::style::{Color, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use tidemark_protocol::{TEAM_NAME_MAX_CHARS, TeamId};

use crate::app::CreateForm;
use crate::widgets::popup;

pub fn create(frame: &mut Frame, form: &CreateForm) {
    let area = popup::centered(frame.area(), 56, 7);
    let inner = popup::frame(frame, area, "New team", Color::Cyan);
    let [label, input, message, _, keys] = Layout::vertical([Constraint::Length(1); 5])
        .areas(inner.inner(ratatui::layout::Margin::new(1, 0)));

    frame.render_widget(Line::from("Name:"), label);
    let prompt = "› ";
    let width = (input.width as usize).saturating_sub(prompt.len());
    let (text, cursor) = form.input.visible(width);
    frame.render_widget(
        Line::from(vec![Span::from(prompt).cyan(), Span::from(text).bold()]),
        input,
    );
    let message_line = match (&form.error, form.submitting) {
        (_, true) => Line::from("creating…").dark_gray(),
        (Some(err), false) => Line::from(err.clone()).red(),
        (None, false) => Line::from(format!("1 to {TEAM_NAME_MAX_CHARS} characters")).dark_gray(),
    };
    frame.render_widget(message_line, message);
    frame.render_widget(Line::from("enter create · esc cancel").dark_gray(), keys);
    if !form.submitting {
        frame.set_cursor_position(Position::new(
            input.x + (prompt.chars().count() + cursor) as u16,
            input.y,
        ));
    }
}

pub fn confirm_delete(frame: &mut Frame, id: TeamId, name: &str) {
    const WIDTH: u16 = 56;
    let text = vec![
        Line::from(vec![
            Span::raw("Delete team "),
            // The id too: two teams may carry look-alike names, the id is what goes.
            Span::from(format!("'{name}' (#{id})")).bold(),
            Span::raw(" and everything stored for it?"),
        ]),
        Line::from("This cannot be undone."),
        Line::default(),
        Line::from(vec![
            Span::from("y").red().bold(),
            Span::raw(" delete · "),
            Span::from("n").bold(),
            Span::raw("/"),
            Span::from("esc").bold(),
            Span::raw(" keep it"),
        ]),
    ];
    let paragraph = Paragraph::new(text).wrap(Wrap { trim: true });
    // Long team names wrap: size the dialog to its text (borders 2 rows, borders+margin 4 cols).
    let height = paragraph.line_count(WIDTH - 4) as u16 + 2;
    let area = popup::centered(frame.area(), WIDTH, height);
    let inner = popup::frame(frame, area, "Delete team", Color::Red);
    frame.render_widget(paragraph, inner.inner(ratatui::layout::Margin::new(1, 0)));
}

/// A yes/no question in a pop-up.
pub(crate) fn confirm(frame: &mut Frame, title: &str, lines: Vec<Line>) {
    let mut lines = lines;
    lines.push(Line::default());
    lines.push(Line::from(vec![
        Span::from("y").bold(),
        Span::raw(" yes · "),
        Span::from("n").bold(),
        Span::raw("/"),
        Span::from("esc").bold(),
        Span::raw(" no"),
    ]));
    let paragraph = Paragraph::new(lines).wrap(Wrap { trim: true });
    let height = paragraph.line_count(52) as u16 + 2;
    let area = popup::centered(frame.area(), 56, height);
    let inner = popup::frame(frame, area, title, Color::Yellow).inner(Margin::new(1, 0));
    frame.render_widget(paragraph, inner);
}
