//! The `?` overlay: the keys of the screen underneath, from the same table the key map uses.

use ratatui::Frame;
use ratatui::style::{Color, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::State;
use crate::app::action::bindings;
use crate::widgets::popup;

pub fn render(frame: &mut Frame, state: &State) {
    let keys = bindings(&state.screen);
    let mut lines: Vec<Line> = keys
        .iter()
        .map(|b| {
            Line::from(vec![
                Span::from(format!(" {:<10}", b.keys)).cyan().bold(),
                Span::raw(b.does),
            ])
        })
        .collect();
    lines.push(Line::from(vec![
        Span::from(format!(" {:<10}", "ctrl-c")).cyan().bold(),
        Span::raw("quit from anywhere"),
    ]));
    if matches!(state.screen, crate::app::Screen::Team(_)) {
        lines.push(Line::from(vec![
            Span::from(format!(" {:<10}", "wheel")).cyan().bold(),
            Span::raw("scroll the list"),
        ]));
    }
    lines.push(Line::default());
    lines.push(Line::from(" esc or ? closes this help").dark_gray());

    let area = popup::centered(frame.area(), 46, lines.len() as u16 + 2);
    let inner = popup::frame(frame, area, "Keys", Color::Cyan);
    frame.render_widget(Paragraph::new(lines), inner);
}
