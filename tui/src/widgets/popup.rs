//! Centered pop-ups drawn over the current screen.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::widgets::{Block, BorderType, Clear};

/// A `width` x `height` rectangle centered in `area`, shrunk to fit small terminals.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

/// Clear `area` and draw a titled frame in it; returns the inner area.
pub fn frame(frame: &mut Frame, area: Rect, title: &str, color: Color) -> Rect {
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(Style::new().fg(color))
        .title(format!(" {title} "));
    let inner = block.inner(area);
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    inner
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centers_and_clamps() {
        let area = Rect::new(0, 0, 80, 24);
        assert_eq!(centered(area, 40, 10), Rect::new(20, 7, 40, 10));
        assert_eq!(
            centered(Rect::new(0, 0, 30, 5), 40, 10),
            Rect::new(0, 0, 30, 5)
        );
    }
}
