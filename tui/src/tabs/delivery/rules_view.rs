//! The rules page of the Delivery tab: the text rules, each repository's signal, the effect of
//! edited rules before a save, and the daemon's refusals.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Stylize;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::rules::{RulesEditor, Saving, TEXT_RULES};
use super::view::short_label;
use crate::app::Loadable;
use crate::columns::{self, Column, Grid};
use crate::config::Theme;
use crate::output::delivery as words;

/// The rules: the text rules, each repository's signal, and under them the effect of the
/// edited rules, the save's state and the daemon's refusals.
pub(super) fn rules_page(frame: &mut Frame, area: Rect, editor: &RulesEditor, theme: Theme) {
    let keys: &[&str] = if editor.may_edit {
        &[
            "Delivery rules",
            "enter edit",
            "space signal",
            "p preview",
            "s save",
            "esc back",
        ]
    } else {
        &["Delivery rules", "read-only", "esc back"]
    };
    let title = columns::first_parts(keys.iter().copied(), area.width.saturating_sub(4) as usize);
    let block = Block::bordered().title(format!(" {title} "));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let panel = panel_lines(editor, width, theme);
    let panel_height = Paragraph::new(panel.clone())
        .wrap(Wrap { trim: false })
        .line_count(inner.width) as u16;
    let [list_area, panel_area] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(panel_height.min(inner.height.saturating_sub(3))),
    ])
    .areas(inner);

    // The list: one line a row; a refusal under the rule it names.
    let label_width = words::RULE_NAMES
        .iter()
        .map(|n| columns::cells(n))
        .chain(editor.repos.iter().map(|r| columns::cells(&r.repo)))
        .max()
        .unwrap_or(0)
        .min(width / 2);
    let mut lines: Vec<Line> = Vec::new();
    let mut cursor_line = 0;
    for (i, (name, value)) in words::rule_values(&editor.config).into_iter().enumerate() {
        if i == editor.cursor {
            cursor_line = lines.len();
        }
        let label = columns::pad(
            &columns::fit(name, label_width),
            label_width,
            columns::Align::Left,
        );
        let room = width.saturating_sub(label_width + 3);
        let mut spans = vec![Span::raw(format!(" {label}  "))];
        match (&editor.editing, i == editor.cursor) {
            (Some(input), true) => {
                let (text, at) = input.visible(room.saturating_sub(1));
                let (before, after) =
                    text.split_at(text.char_indices().nth(at).map_or(text.len(), |(b, _)| b));
                spans.push(Span::from(before.to_string()).bold());
                spans.push(Span::from("▏").fg(theme.accent()));
                spans.push(Span::from(after.to_string()).bold());
            }
            _ => {
                let edited = value != words::rule_values(&editor.saved)[i].1;
                let shown = columns::fit(value, room).into_owned();
                spans.push(if edited {
                    Span::from(shown).fg(theme.accent()).bold()
                } else {
                    Span::from(shown)
                });
            }
        }
        let mut line = Line::from(spans);
        if i == editor.cursor && editor.editing.is_none() {
            line = line.reversed();
        }
        lines.push(line);
        if let Some(refusal) = &editor.refusal
            && refusal.rule == Some(i)
        {
            for part in wrap_words(&refusal.text, width.saturating_sub(label_width + 3)) {
                lines.push(
                    Line::from(format!(" {}  {part}", " ".repeat(label_width))).fg(theme.bad()),
                );
            }
        }
    }
    lines.push(Line::from(" Signal per repository (the best found unless the team chose):").bold());
    if editor.repos.is_empty() {
        lines.push(Line::from(" No tracked repositories").fg(theme.dim()));
    }
    for (k, r) in editor.repos.iter().enumerate() {
        if TEXT_RULES + k == editor.cursor {
            cursor_line = lines.len();
        }
        let label = columns::pad(
            &columns::fit(&r.repo, label_width),
            label_width,
            columns::Align::Left,
        );
        let chosen = editor.choice(&r.repo);
        let saved = editor
            .saved
            .signals
            .iter()
            .find(|(repo, _)| repo.eq_ignore_ascii_case(&r.repo))
            .map(|(_, s)| *s);
        let value = chosen.map_or("best found".to_string(), words::signal);
        let now = format!(" · now {}: {}", words::signal(r.signal), r.rule);
        let room = width.saturating_sub(label_width + 3);
        let value_span = if chosen != saved {
            Span::from(value.clone()).fg(theme.accent()).bold()
        } else {
            Span::from(value.clone())
        };
        let line = columns::fit_line(
            Line::from(vec![value_span, Span::from(now).fg(theme.dim())]),
            room,
        );
        let mut spans = vec![Span::raw(format!(" {label}  "))];
        spans.extend(line.spans);
        let mut line = Line::from(spans);
        if TEXT_RULES + k == editor.cursor {
            line = line.reversed();
        }
        lines.push(line);
    }
    let height = list_area.height as usize;
    let offset = (cursor_line + 1).saturating_sub(height);
    frame.render_widget(Paragraph::new(lines).scroll((offset as u16, 0)), list_area);
    frame.render_widget(Paragraph::new(panel).wrap(Wrap { trim: false }), panel_area);
}

/// `text` in lines of at most `width` cells, broken between words (a word longer than a line
/// is cut with `…`).
fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let word = columns::fit(word, width);
        match lines.last_mut() {
            Some(line) if columns::cells(line) + 1 + columns::cells(&word) <= width => {
                line.push(' ');
                line.push_str(&word);
            }
            _ => lines.push(word.into_owned()),
        }
    }
    lines
}

/// Under the rules: the preview (before → after), the save, a refusal no rule owns, a hint.
fn panel_lines(editor: &RulesEditor, width: usize, theme: Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    if !editor.may_edit && editor.hint.is_none() {
        lines.push(Line::from(format!(" {}", super::rules::READ_ONLY)).fg(theme.dim()));
    }
    if let Some(preview) = &editor.preview {
        lines.push(Line::default());
        match &preview.figures {
            Loadable::Loading => {
                lines.push(
                    Line::from(" Working out the effect on the last 12 weeks…").fg(theme.dim()),
                );
            }
            Loadable::Failed(err) => lines.push(Line::from(format!(" {err}")).fg(theme.bad())),
            Loadable::Loaded(figures) => {
                let (before, after) = &**figures;
                lines.push(Line::from(format!(" {}", words::PREVIEW_HEADING)).bold());
                let rows: Vec<[String; 4]> = words::preview_rows(before, after)
                    .into_iter()
                    .map(|(m, b, a)| [short_label(m).to_string(), b, "→".to_string(), a])
                    .collect();
                let natural = columns::measure(
                    &["", "", "", ""],
                    rows.iter().map(|r| r.iter().map(String::as_str)),
                );
                let grid = Grid::new(&PREVIEW, &natural, width.saturating_sub(1), 1);
                for row in &rows {
                    let [label, before, arrow, after] = row;
                    // Too narrow for the names beside the figures: each name above its figures.
                    let shown: Vec<String> = if grid.shown(0) {
                        vec![format!(" {}", grid.text_line(row, 1))]
                    } else {
                        let figures = format!("   {before} {arrow} {after}");
                        if columns::cells(&figures) <= width {
                            vec![format!(" {label}:"), figures]
                        } else {
                            vec![
                                format!(" {label}:"),
                                format!("   {before}"),
                                format!("   {arrow} {after}"),
                            ]
                        }
                    };
                    // What the new rules change stands out.
                    let changed = before != after;
                    lines.extend(shown.into_iter().map(|text| {
                        let line = Line::from(text);
                        if changed {
                            line.fg(theme.accent())
                        } else {
                            line
                        }
                    }));
                }
                if preview.config == editor.config {
                    if editor.changed() && editor.saving == Saving::Idle {
                        lines.push(
                            Line::from(" s saves these rules · esc leaves them unsaved")
                                .fg(theme.dim()),
                        );
                    }
                } else {
                    lines.push(
                        Line::from(" The rules changed since: p shows their effect again")
                            .fg(theme.dim()),
                    );
                }
            }
        }
    }
    match &editor.saving {
        Saving::Idle => {}
        Saving::Sending(_) => lines.push(Line::from(" Saving…").fg(theme.dim())),
        Saving::Saved => lines
            .push(Line::from(" Saved: the tab's figures follow these rules now.").fg(theme.good())),
    }
    if let Some(refusal) = &editor.refusal
        && refusal.rule.is_none()
    {
        lines.push(Line::from(format!(" {}", refusal.text)).fg(theme.bad()));
    }
    if let Some(hint) = &editor.hint {
        lines.push(Line::from(format!(" {hint}")).fg(theme.warn()));
    }
    lines
}

/// Measure, before, the arrow, after: the figures never cut; the name gives way.
const PREVIEW: [Column; 4] = [
    Column::text(9, 1, 95),
    Column::whole(100).left(),
    Column::whole(100).left(),
    Column::whole(100).left(),
];
