//! The daemon panel: what runs, where, with which settings and from where each comes, and what
//! a reload did. Setting values are shown whole (wrapped when long); only the paths of the
//! facts block give way, from the left with `…`, keeping the file's name in view.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Margin};
use ratatui::style::{Color, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use tidemark_protocol::{DaemonInfo, ReloadReport};

use super::github::keys;
use crate::app::daemon_state::override_origin;
use crate::app::{DaemonPanel, Loadable, State};
use crate::columns::cells;
use crate::timefmt;
use crate::widgets::{popup, spinner};

const WIDTH: u16 = 100;
const LABEL: usize = 13;

/// `text` in at most `width` cells, cut from the left: `…` then its end.
pub fn fit_start(text: &str, width: usize) -> String {
    if cells(text) <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut tail = Vec::new();
    let mut used = 0;
    for c in text.chars().rev() {
        let w = cells(c.encode_utf8(&mut [0; 4]));
        if used + w > width - 1 {
            break;
        }
        tail.push(c);
        used += w;
    }
    std::iter::once('…').chain(tail.into_iter().rev()).collect()
}

/// A labelled path on one line; the path gives way when the line would not fit.
fn path_line(label: &str, path: &str, note: &str, width: usize) -> Line<'static> {
    let room = width.saturating_sub(LABEL + cells(note));
    Line::from(vec![
        Span::from(format!("{label:<LABEL$}")).dark_gray(),
        Span::raw(fit_start(path, room)),
        Span::from(note.to_string()).dark_gray(),
    ])
}

fn facts(info: &DaemonInfo, width: usize) -> Vec<Line<'static>> {
    let mut head = vec![
        format!("pid {}", info.pid),
        format!(
            "version {} (protocol {})",
            info.version, info.protocol_version
        ),
        format!("up {}", timefmt::duration(info.uptime_secs as i64)),
    ];
    if !info.user.is_empty() {
        head.push(format!("user {}", info.user));
    }
    let mut lines = vec![Line::from(head.join(" · ")).bold()];
    lines.push(path_line("Data dir", &info.data_dir, "", width));
    lines.push(path_line("Socket", &info.socket, "", width));
    lines.push(match &info.config_file {
        Some(file) if info.config_file_exists => path_line("Config file", file, "", width),
        Some(file) => path_line("Config file", file, "  (not there yet: defaults)", width),
        None => path_line("Config file", "none", "", width),
    });
    lines.push(Line::from(vec![
        Span::from(format!("{:<LABEL$}", "Managed by")).dark_gray(),
        Span::raw(match &info.managed_by {
            Some(manager) => manager.clone(),
            None => "nothing (started by hand or by a client)".into(),
        }),
    ]));
    lines
}

fn settings(info: &DaemonInfo) -> Vec<Line<'static>> {
    let mut lines = vec![
        Line::default(),
        Line::from("Settings (* only a restart applies a change)").bold(),
    ];
    if info.settings.is_empty() {
        lines.push(Line::from("  none reported").dark_gray());
    }
    let key_width = info
        .settings
        .iter()
        .map(|s| cells(&s.key) + usize::from(!s.reloadable))
        .max()
        .unwrap_or(0);
    for setting in &info.settings {
        let key = format!(
            "{}{}",
            setting.key,
            if setting.reloadable { "" } else { "*" }
        );
        let pad = key_width.saturating_sub(cells(&key));
        let value = match &setting.value {
            Some(value) => Span::raw(value.clone()),
            None => Span::from("not set").dark_gray(),
        };
        lines.push(Line::from(vec![
            Span::raw(format!("  {key}{}  ", " ".repeat(pad))),
            value,
            Span::from(format!("  ({})", setting.source)).dark_gray(),
        ]));
    }
    let github = &info.github;
    lines.push(Line::default());
    lines.push(match (github.configured, github.has_secret) {
        (true, true) => Line::from("GitHub: set up, with a client secret."),
        (true, false) => Line::from("GitHub: set up (device flow; no client secret)."),
        (false, _) => Line::from("GitHub: not set up. Press g to set it up.").yellow(),
    });
    lines
}

fn reload_lines(state: &State, reload: &Loadable<ReloadReport>) -> Vec<Line<'static>> {
    let mut lines = vec![Line::default()];
    match reload {
        Loadable::Loading => lines.push(Line::from(vec![
            Span::from(format!("{} ", spinner::frame(state.spinner_tick))).cyan(),
            Span::raw("Reloading the config file…"),
        ])),
        Loadable::Failed(reason) => {
            let text = format!("Not reloaded: {reason}");
            lines.extend(text.lines().map(|line| Line::from(line.to_string()).red()));
        }
        Loadable::Loaded(report) => {
            let file = report.config_file.as_deref().unwrap_or("the config file");
            lines.push(Line::from(format!("Reloaded {file}.")).green());
            if report.applied.is_empty()
                && report.need_restart.is_empty()
                && report.overridden.is_empty()
            {
                lines.push(Line::from("Nothing changed."));
            }
            if !report.applied.is_empty() {
                lines.push(Line::from(format!(
                    "Applied now: {}.",
                    report.applied.join(", ")
                )));
            }
            if !report.need_restart.is_empty() {
                lines.push(
                    Line::from(format!(
                        "Needs a restart to apply: {}.",
                        report.need_restart.join(", ")
                    ))
                    .yellow(),
                );
            }
            for (setting, source) in &report.overridden {
                lines.push(
                    Line::from(format!(
                        "Overridden: {setting} comes from {}, which wins over the file.",
                        override_origin(setting, *source)
                    ))
                    .yellow(),
                );
            }
        }
    }
    lines
}

/// Restart and stop stay commands of the CLI: they are shown, each whole on one line.
fn footer(info: Option<&DaemonInfo>) -> Vec<Line<'static>> {
    let mut lines = vec![Line::default()];
    let mut sudo = "";
    if let Some(info) = info.filter(|info| !info.caller_may_operate) {
        let owner = if info.user.is_empty() {
            "its own user".to_string()
        } else {
            format!("user '{}'", info.user)
        };
        lines.push(
            Line::from(format!(
                "Only {owner} and root may reload, restart or set up this daemon."
            ))
            .yellow(),
        );
        sudo = "sudo ";
    }
    lines.push(Line::from("Restart or stop it from a shell:").dark_gray());
    lines.push(Line::from(vec![
        Span::raw(format!("  {sudo}tidemark daemon restart")),
        Span::from(" · ").dark_gray(),
        Span::raw(format!("{sudo}tidemark daemon stop")),
    ]));
    lines.push(keys(&[
        ("r", "reload the config file"),
        ("g", "set up GitHub"),
        ("j/k", "scroll"),
        ("esc", "close"),
    ]));
    lines
}

pub fn render(frame: &mut Frame, state: &State, panel: &DaemonPanel) {
    let width = WIDTH.min(frame.area().width);
    let text_width = width.saturating_sub(4);
    let info = match &state.daemon_info {
        Loadable::Loaded(info) => Some(info),
        _ => None,
    };
    let mut lines = match &state.daemon_info {
        Loadable::Loaded(info) => {
            let mut lines = facts(info, usize::from(text_width));
            lines.extend(settings(info));
            lines
        }
        Loadable::Loading => vec![Line::from(vec![
            Span::from(format!("{} ", spinner::frame(state.spinner_tick))).cyan(),
            Span::raw("Asking the daemon…"),
        ])],
        Loadable::Failed(err) => {
            vec![Line::from(format!("Cannot read the daemon's settings: {err}")).red()]
        }
    };
    if let Some(reload) = &panel.reload {
        lines.extend(reload_lines(state, reload));
    }
    // The keys stay in view; the rest scrolls when the terminal is too short for it.
    let body = Paragraph::new(lines).wrap(Wrap { trim: false });
    let footer = Paragraph::new(footer(info)).wrap(Wrap { trim: false });
    let body_total = body.line_count(text_width) as u16;
    let footer_height = footer.line_count(text_width) as u16;
    let height = (body_total + footer_height + 2).min(frame.area().height);
    let room = height.saturating_sub(2 + footer_height);
    let scroll = (panel.scroll as u16).min(body_total.saturating_sub(room));
    let title = if body_total > room {
        format!(
            "Daemon · lines {}-{} of {body_total} (j/k)",
            scroll + 1,
            scroll + room
        )
    } else {
        "Daemon".to_string()
    };
    let area = popup::centered(frame.area(), width, height);
    let inner = popup::frame(frame, area, &title, Color::Cyan).inner(Margin::new(1, 0));
    let [body_area, footer_area] =
        Layout::vertical([Constraint::Length(room), Constraint::Min(0)]).areas(inner);
    frame.render_widget(body.scroll((scroll, 0)), body_area);
    frame.render_widget(footer, footer_area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_paths_keep_their_end() {
        assert_eq!(fit_start("/a/b/c.toml", 20), "/a/b/c.toml");
        assert_eq!(
            fit_start("/home/alice/.config/tidemark/daemon.toml", 16),
            "…ark/daemon.toml"
        );
        assert_eq!(
            cells(&fit_start("/home/alice/.config/tidemark/daemon.toml", 16)),
            16
        );
        assert_eq!(fit_start("/x", 0), "");
    }
}
