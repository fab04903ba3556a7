//! The guided GitHub setup's dialog, one step at a time. Values to type at GitHub (the callback
//! URL above all) sit whole on lines of their own wherever the dialog is wide enough for them,
//! and the secret is drawn as bullets only.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Margin, Position};
use ratatui::style::{Color, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use tidemark_protocol::{DaemonInfo, GitHubAppReport};

use crate::app::daemon_state::override_origin;
use crate::app::update::{OPERATOR_COMMAND, team_to_connect};
use crate::app::{Loadable, SetupDialog, SetupStep, State};
use crate::columns::cells;
use crate::widgets::{popup, spinner};

const WIDTH: u16 = 76;
/// The widest label of the values to register, and the gap after it.
const LABEL: usize = 28;
const PROMPT: &str = "› ";

/// `key` bold, then what it does; joined with ` · `.
fn keys(pairs: &[(&str, String)]) -> Line<'static> {
    let mut spans = Vec::new();
    for (i, (key, does)) in pairs.iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw(" · ").dark_gray());
        }
        spans.push(Span::from(key.to_string()).bold());
        spans.push(Span::raw(format!(" {does}")).dark_gray());
    }
    Line::from(spans)
}

fn key(key: &str, does: &str) -> (String, String) {
    (key.to_string(), does.to_string())
}

fn keys_of(pairs: &[(String, String)]) -> Line<'static> {
    let pairs: Vec<(&str, String)> = pairs.iter().map(|(k, d)| (k.as_str(), d.clone())).collect();
    keys(&pairs)
}

/// A value to register: beside its label when both fit in `width`, else on the next line, so
/// the value itself is never broken.
fn field(label: &str, value: &str, note: &str, width: usize) -> Vec<Line<'static>> {
    let value = Span::from(value.to_string()).cyan().bold();
    let note = Span::from(note.to_string()).dark_gray();
    if 2 + LABEL + cells(&value.content) + cells(&note.content) <= width {
        vec![Line::from(vec![
            Span::raw(format!("  {label:<LABEL$}")),
            value,
            note,
        ])]
    } else {
        vec![
            Line::from(format!("  {label}")),
            Line::from(vec![Span::raw("    "), value, note]),
        ]
    }
}

fn heading(text: &str) -> Vec<Line<'static>> {
    vec![Line::from(text.to_string()).bold(), Line::default()]
}

fn register(state: &State, width: usize) -> (Vec<Line<'static>>, Vec<(String, String)>) {
    let mut lines = heading("Step 1 of 3 · Register tidemark on GitHub");
    let info: &DaemonInfo = match &state.daemon_info {
        Loadable::Loaded(info) => info,
        Loadable::Loading => {
            lines.push(Line::from(vec![
                Span::from(format!("{} ", spinner::frame(state.spinner_tick))).cyan(),
                Span::raw("Asking the daemon for the values to register…"),
            ]));
            return (lines, vec![key("esc", "close")]);
        }
        Loadable::Failed(err) => {
            lines.push(Line::from(format!("Cannot read the daemon's settings: {err}")).red());
            return (lines, vec![key("r", "try again"), key("esc", "close")]);
        }
    };
    let github = &info.github;
    lines.push(Line::from("Register a new OAuth app on GitHub, here:"));
    lines.push(Line::from(vec![
        Span::raw("  "),
        Span::from(github.register_url.clone()).cyan().underlined(),
    ]));
    lines.push(Line::from("with these values:"));
    lines.extend(field("Application name", "tidemark", "", width));
    lines.extend(field(
        "Homepage URL",
        &github.web_url,
        "  (anything will do)",
        width,
    ));
    lines.extend(field(
        "Authorization callback URL",
        &github.callback_url,
        "",
        width,
    ));
    lines.extend(field("Enable Device Flow", "tick it", "", width));
    lines.push(Line::from(
        "GitHub accepts any port on a loopback callback URL: tidemark picks a free one when it \
         connects. Then press Register application and copy the Client ID it shows.",
    ));
    if github.configured {
        let secret = if github.has_secret {
            "with a client secret"
        } else {
            "without a client secret"
        };
        lines.push(Line::default());
        lines.push(
            Line::from(format!(
                "GitHub is set up on this daemon already ({secret}): going on replaces its \
                 client id."
            ))
            .yellow(),
        );
    }
    let mut pairs = vec![
        key("o", "open the page"),
        key("y", "copy its link"),
        key("c", "copy the callback URL"),
    ];
    if info.caller_may_operate {
        pairs.push(key("enter", "next"));
    } else {
        let owner = if info.user.is_empty() {
            "another user".to_string()
        } else {
            format!("user '{}'", info.user)
        };
        lines.push(Line::default());
        lines.push(
            Line::from(format!(
                "This daemon runs as {owner} (a system service, say), not as you: only that \
                 user or root may set it up. An operator must run:"
            ))
            .red(),
        );
        lines.push(Line::from(format!("  {OPERATOR_COMMAND}")).red().bold());
    }
    pairs.push(key("esc", "close"));
    (lines, pairs)
}

fn client_id_intro() -> Vec<Line<'static>> {
    let mut lines = heading("Step 2 of 3 · The client id");
    lines.push(Line::from(
        "Paste the Client ID from the app's page on GitHub (it starts with Ov23li or Iv1.):",
    ));
    lines
}

fn secret_intro(state: &State) -> Vec<Line<'static>> {
    let has_secret = matches!(&state.daemon_info, Loadable::Loaded(info) if info.github.has_secret);
    let mut lines = heading("Step 3 of 3 · The client secret (optional)");
    lines.push(Line::from(
        "The device flow needs no secret; the browser flow and revoking on disconnect do. To \
         add one, press Generate a new client secret on the app's page and paste it here.",
    ));
    lines.push(Line::from(if has_secret {
        "A secret is set already: enter on an empty field keeps it."
    } else {
        "Enter on an empty field skips it."
    }));
    lines
}

fn names(list: &[String]) -> String {
    list.join(", ")
}

fn saved(state: &State, report: &GitHubAppReport) -> (Vec<Line<'static>>, Vec<(String, String)>) {
    let mut lines = vec![];
    if report.github.configured {
        lines.push(Line::from("GitHub is set up.").green().bold());
    } else {
        lines.push(
            Line::from("Saved, but GitHub is still not set up on this daemon:")
                .red()
                .bold(),
        );
    }
    lines.push(Line::default());
    lines.push(Line::from("Saved to the daemon's config file:"));
    lines.push(Line::from(format!("  {}", report.config_file)).cyan());
    let reload = &report.reload;
    if !reload.applied.is_empty() {
        lines.push(Line::from(format!(
            "Applied now, no restart needed: {}.",
            names(&reload.applied)
        )));
    }
    if !reload.need_restart.is_empty() {
        lines.push(
            Line::from(format!(
                "Takes effect at the daemon's next restart: {}. Restart it with:",
                names(&reload.need_restart)
            ))
            .yellow(),
        );
        lines.push(Line::from("  tidemark daemon restart").bold());
    }
    if reload.applied.is_empty() && reload.need_restart.is_empty() && reload.overridden.is_empty() {
        lines.push(Line::from(
            "Nothing changed: the daemon already ran with these values.",
        ));
    }
    for (setting, source) in &reload.overridden {
        lines.push(
            Line::from(format!(
                "{} wins over the file: the daemon keeps using that value for {setting} until \
                 it is removed there and the daemon restarted.",
                override_origin(setting, *source)
            ))
            .yellow(),
        );
    }
    lines.push(Line::from(if report.github.has_secret {
        "With a client secret: the browser flow and revoking on disconnect work too."
    } else {
        "Without a client secret: teams connect with the device flow (a code to type at GitHub)."
    }));
    let mut pairs = vec![key("n", "create a team, then connect it")];
    if report.github.configured
        && let Some((_, name)) = team_to_connect(state)
    {
        pairs.push(key("c", &format!("connect team '{name}'")));
    }
    pairs.push(key("esc", "close"));
    (lines, pairs)
}

/// The step's text above the input (or all of it, on steps without one), the input when there
/// is one, and the keys.
struct Parts {
    intro: Vec<Line<'static>>,
    input: Option<(String, usize)>,
    message: Vec<Line<'static>>,
    /// On the input steps, the callback URL again: the registration may still be open.
    reminder: Option<Line<'static>>,
    keys: Vec<(String, String)>,
}

/// An error in red, a line per line of it: a command to run comes on a line of its own, so it
/// is never broken.
fn error_lines(err: &str) -> Vec<Line<'static>> {
    err.lines()
        .map(|line| Line::from(line.to_string()).red())
        .collect()
}

fn reminder(state: &State) -> Option<Line<'static>> {
    match &state.daemon_info {
        Loadable::Loaded(info) => Some(
            Line::from(vec![
                Span::raw("Callback URL to register: "),
                Span::from(info.github.callback_url.clone()).cyan(),
            ])
            .dark_gray(),
        ),
        _ => None,
    }
}

fn parts(state: &State, dialog: &SetupDialog, width: usize) -> Parts {
    let input_width = width.saturating_sub(PROMPT.chars().count());
    let message = |fallback: &str| match &dialog.error {
        Some(err) => error_lines(err),
        None => vec![Line::from(fallback.to_string()).dark_gray()],
    };
    match &dialog.step {
        SetupStep::Register => {
            let (intro, keys) = register(state, width);
            Parts {
                intro,
                input: None,
                message: dialog.error.as_deref().map(error_lines).unwrap_or_default(),
                reminder: None,
                keys,
            }
        }
        SetupStep::ClientId => Parts {
            intro: client_id_intro(),
            input: Some(dialog.client_id.visible(input_width)),
            message: message("One word; spaces around it are trimmed."),
            reminder: reminder(state),
            keys: vec![key("enter", "next"), key("esc", "back")],
        },
        SetupStep::Secret => Parts {
            intro: secret_intro(state),
            input: Some(dialog.secret.visible(input_width)),
            message: message("Shown as • only."),
            reminder: reminder(state),
            keys: vec![key("enter", "save"), key("esc", "back")],
        },
        SetupStep::Saving => Parts {
            intro: vec![Line::from(vec![
                Span::from(format!("{} ", spinner::frame(state.spinner_tick))).cyan(),
                Span::raw("Saving to the daemon's config and applying it…"),
            ])],
            input: None,
            message: Vec::new(),
            reminder: None,
            keys: vec![key("esc", "close (it still saves)")],
        },
        SetupStep::Saved(report) => {
            let (intro, keys) = saved(state, report);
            Parts {
                intro,
                input: None,
                message: Vec::new(),
                reminder: None,
                keys,
            }
        }
    }
}

pub fn render(frame: &mut Frame, state: &State, dialog: &SetupDialog) {
    let width = WIDTH.min(frame.area().width);
    // Borders and the margin take four columns.
    let text_width = width.saturating_sub(4);
    let parts = parts(state, dialog, usize::from(text_width));
    let intro = Paragraph::new(parts.intro).wrap(Wrap { trim: false });
    let mut after = Vec::new();
    after.extend(parts.message);
    if let Some(hint) = &dialog.hint {
        after.push(Line::from(hint.clone()));
    }
    if let Some(reminder) = parts.reminder {
        after.push(Line::default());
        after.push(reminder);
    }
    after.push(Line::default());
    after.push(keys_of(&parts.keys));
    let after = Paragraph::new(after).wrap(Wrap { trim: false });
    let intro_height = intro.line_count(text_width) as u16;
    let input_height = u16::from(parts.input.is_some()) * 2;
    let after_height = after.line_count(text_width) as u16;
    let height = intro_height + input_height + after_height + 2;
    let area = popup::centered(frame.area(), width, height);
    let inner = popup::frame(frame, area, "Set up GitHub", Color::Cyan).inner(Margin::new(1, 0));
    let [intro_area, input_area, after_area] = Layout::vertical([
        Constraint::Length(intro_height),
        Constraint::Length(input_height),
        Constraint::Min(0),
    ])
    .areas(inner);
    frame.render_widget(intro, intro_area);
    if let Some((text, cursor)) = parts.input {
        // A blank line, then the input.
        let row = input_area.y + 1;
        if row < input_area.bottom() {
            let line = Line::from(vec![Span::from(PROMPT).cyan(), Span::from(text).bold()]);
            frame.render_widget(
                line,
                ratatui::layout::Rect {
                    y: row,
                    height: 1,
                    ..input_area
                },
            );
            frame.set_cursor_position(Position::new(
                input_area.x + (PROMPT.chars().count() + cursor) as u16,
                row,
            ));
        }
    }
    frame.render_widget(after, after_area);
}
