//! The teams screen with no team yet: instead of an empty table, the two ways forward. The
//! offline demo is a command to run elsewhere (it starts its own daemon against a GitHub
//! simulator, which this TUI cannot do); GitHub is either still to set up (`g`) or set up, and
//! then a team is what is missing (`n`).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Padding, Paragraph, Wrap};

use crate::app::{Loadable, State};
use crate::columns::cells;

/// Run in the tidemark source tree; shown whole, on a line of its own.
pub const DEMO_COMMAND: &str = "cargo run --release -p tidemark-tests --bin tidemark-demo";

fn way(key: &str, title: &str) -> Line<'static> {
    Line::from(vec![
        Span::from(format!("{key:<3}")).cyan().bold(),
        Span::from(title.to_string()).bold(),
    ])
}

const INDENT: &str = "   ";

/// `text` wrapped at words to `width` cells, every line indented under its way's title.
fn indented(text: &str, width: usize) -> Vec<Line<'static>> {
    let room = width.saturating_sub(INDENT.len()).max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && cells(&line) + 1 + cells(word) > room {
            lines.push(Line::from(format!("{INDENT}{line}")));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(Line::from(format!("{INDENT}{line}")));
    lines
}

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
    let configured = match &state.daemon_info {
        Loadable::Loaded(info) => Some(info.github.configured),
        _ => None,
    };
    let block = Block::bordered()
        .title(" Teams (0) ")
        .padding(Padding::horizontal(1));
    let width = usize::from(block.inner(area).width);
    let mut lines = Vec::new();
    // Someone invited the user: answering may be all they came for.
    let invited = state.invitations().len();
    if invited > 0 {
        let title = match invited {
            1 => "Answer an invitation into a team".to_string(),
            n => format!("Answer {n} invitations into teams"),
        };
        lines.push(way("i", &title));
        lines.extend(indented(
            "You join a team only by accepting; until then you see nothing of it.",
            width,
        ));
        lines.push(Line::default());
    }
    lines.extend([
        Line::from("No teams yet. Two ways forward:"),
        Line::default(),
        way("q", "Try tidemark offline, against a simulated GitHub"),
    ]);
    lines.extend(indented(
        "Quit, then run in the tidemark source tree:",
        width,
    ));
    lines.push(Line::from(vec![
        Span::raw(INDENT),
        Span::from(DEMO_COMMAND).cyan(),
    ]));
    lines.extend(indented(
        "It starts a daemon of its own and a GitHub simulator with a team at work; this daemon \
         is left as it is.",
        width,
    ));
    lines.push(Line::default());
    match configured {
        Some(true) => {
            lines.push(way("n", "Create a team, then connect it to GitHub"));
            lines.extend(indented(
                "GitHub is set up on this daemon: connecting asks you to authorize tidemark at \
                 GitHub and pick the organization.",
                width,
            ));
        }
        // Not set up, or not known yet: the setup's first step says which.
        _ => {
            lines.push(way("g", "Set up GitHub"));
            lines.extend(indented(
                "A short guided path: register tidemark as an OAuth app on GitHub, paste its \
                 client id here, then create a team and connect it.",
                width,
            ));
        }
    }
    lines.push(Line::default());
    lines.push(Line::from("D the daemon and its settings · ? every key").dark_gray());
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        area,
    );
}
