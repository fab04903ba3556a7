//! The agreements page of the Alerts tab: each setting with its value (what `agreements show`
//! says of it), the one being typed with its cursor, why a typed value was refused under it,
//! and the save's state or the daemon's refusal below.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::agreements::{AgreementsEditor, FIELDS, READ_ONLY, Saving, field_text};
use crate::columns;
use crate::config::Theme;
use crate::output::agreements as words;

pub(super) fn render(frame: &mut Frame, area: Rect, editor: &AgreementsEditor, theme: Theme) {
    let keys: &[&str] = if editor.may_edit {
        &[
            "Working agreements",
            "enter edit",
            "empty = not set",
            "s save",
            "esc back",
        ]
    } else {
        &["Working agreements", "read-only", "esc back"]
    };
    let title = columns::first_parts(keys.iter().copied(), area.width.saturating_sub(4) as usize);
    let block = Block::bordered().title(format!(" {title} "));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;

    let label_width = FIELDS.iter().map(|f| f.len()).max().unwrap_or(0);
    let values = words::agreement_values(&editor.edited);
    let saved = words::agreement_values(&editor.saved);
    let mut lines: Vec<Line> = Vec::new();
    for (i, name) in FIELDS.iter().enumerate() {
        let room = width.saturating_sub(label_width + 4);
        let marker = if i == editor.cursor { "›" } else { " " };
        let mut spans = vec![Span::raw(format!(
            "{marker}{}  ",
            columns::pad(name, label_width, columns::Align::Left)
        ))];
        match (&editor.editing, i == editor.cursor) {
            (Some(input), true) => {
                let (text, at) = input.visible(room.saturating_sub(1));
                let split = text.char_indices().nth(at).map_or(text.len(), |(b, _)| b);
                let (before, after) = text.split_at(split);
                spans.push(Span::from(before.to_string()).bold());
                spans.push(Span::from("▏").fg(theme.accent()));
                spans.push(Span::from(after.to_string()).bold());
            }
            _ => {
                let value = &values[i].1;
                let shown = columns::fit(value, room).into_owned();
                spans.push(if *value != saved[i].1 {
                    Span::from(format!("{shown} *")).fg(theme.accent())
                } else if field_text(&editor.edited, i).is_empty() {
                    Span::from(shown).fg(theme.dim())
                } else {
                    Span::from(shown)
                });
            }
        }
        let mut line = Line::from(spans);
        if i == editor.cursor && editor.editing.is_none() {
            line = line.style(Style::new().reversed());
        }
        lines.push(line);
        if i == editor.cursor
            && let Some(reason) = &editor.invalid
        {
            lines.push(Line::from(format!("   {reason}")).fg(theme.bad()));
        }
    }

    let mut status: Vec<Line> = Vec::new();
    if !editor.may_edit {
        status.push(Line::from(READ_ONLY).fg(theme.dim()));
    }
    match editor.saving {
        Saving::Sending => status.push(Line::from("Saving…").fg(theme.dim())),
        Saving::Saved if !editor.changed() => {
            status.push(Line::from("Saved: the breaches are checked again.").fg(theme.good()));
        }
        _ if editor.changed() => {
            status.push(Line::from("Changed (*): s saves them.").fg(theme.accent()));
        }
        _ => {}
    }
    if let Some(refusal) = &editor.refusal {
        status.push(Line::from(format!("Not saved: {refusal}")).fg(theme.bad()));
    }
    if let Some(hint) = &editor.hint {
        status.push(Line::from(hint.clone()).fg(theme.warn()));
    }
    let status = Paragraph::new(status).wrap(Wrap { trim: true });
    let status_height = status.line_count(inner.width) as u16;
    let [list_area, _, status_area] = Layout::vertical([
        Constraint::Length(lines.len() as u16),
        Constraint::Length(1),
        Constraint::Min(status_height),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(lines), list_area);
    frame.render_widget(status, status_area);
}
