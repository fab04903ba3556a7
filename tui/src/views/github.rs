//! The GitHub dialogs: connect (device code or link, waiting, the web flow's login question,
//! organization picker, failure), replace a token, disconnect. Each is sized to its wrapped
//! text.

use ratatui::Frame;
use ratatui::layout::Margin;
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use tidemark_protocol::{ConnectMethod, ConnectPrompt, OrgChoice};

use crate::app::{ConnectDialog, ConnectPhase, State};
use crate::output::{printable, spaced};
use crate::timefmt;
use crate::widgets::{popup, spinner};

const WIDTH: u16 = 72;
const CONFIRM_WIDTH: u16 = 60;

/// `key` bold, then what it does; joined with ` · `.
pub(super) fn keys(pairs: &[(&'static str, &'static str)]) -> Line<'static> {
    let mut spans = Vec::new();
    for (i, (key, does)) in pairs.iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw(" · ").dark_gray());
        }
        spans.push(Span::from(*key).bold());
        spans.push(Span::raw(format!(" {does}")).dark_gray());
    }
    Line::from(spans)
}

/// Draw `lines` in a popup as wide as `width` allows, as tall as they wrap to.
pub(super) fn popup_with(
    frame: &mut Frame,
    width: u16,
    title: &str,
    color: Color,
    lines: Vec<Line<'_>>,
) {
    let width = width.min(frame.area().width);
    let paragraph = Paragraph::new(lines).wrap(Wrap { trim: false });
    // Borders take 2 rows and, with the margin, 4 columns.
    let height = paragraph.line_count(width.saturating_sub(4)) as u16 + 2;
    let area = popup::centered(frame.area(), width, height);
    let inner = popup::frame(frame, area, title, color);
    frame.render_widget(paragraph, inner.inner(Margin::new(1, 0)));
}

/// The device code, big: spaced out on a reversed band three rows high.
fn code_block(code: &str) -> Vec<Line<'static>> {
    let text = format!("   {}   ", spaced(code));
    let band = Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD);
    let pad = " ".repeat(text.chars().count());
    vec![
        Line::styled(pad.clone(), band).centered(),
        Line::styled(text, band).centered(),
        Line::styled(pad, band).centered(),
    ]
}

fn countdown(state: &State, expires_at: i64, what: &str) -> String {
    // Until the first clock event the time is unknown: say nothing rather than something wrong.
    if state.now == 0 {
        return String::new();
    }
    let left = expires_at - state.now;
    if left <= 0 {
        format!(" · {what} expired")
    } else {
        format!(" · {what} expires in {}", timefmt::countdown(left))
    }
}

fn waiting(
    state: &State,
    dialog: &ConnectDialog,
    prompt: &ConnectPrompt,
    expires_at: i64,
) -> Vec<Line<'static>> {
    let spin = Span::from(format!("{} ", spinner::frame(state.spinner_tick))).cyan();
    let mut lines = vec![Line::default()];
    let (status, footer) = match prompt {
        ConnectPrompt::Device {
            user_code,
            verification_uri,
        } => {
            lines.push(Line::from(vec![
                Span::raw("1. Open "),
                Span::from(verification_uri.clone()).cyan().underlined(),
            ]));
            lines.push(Line::from("2. Enter this code:"));
            lines.push(Line::default());
            lines.extend(code_block(user_code));
            (
                format!("Waiting for GitHub{}", countdown(state, expires_at, "code")),
                keys(&[
                    ("y", "copy code"),
                    ("o", "open browser"),
                    ("w", "web flow"),
                    ("esc", "cancel"),
                ]),
            )
        }
        ConnectPrompt::Browser { authorize_url } => {
            lines.push(Line::from(
                "Open this link in a browser on this machine and authorize tidemark:",
            ));
            lines.push(Line::default());
            lines.push(Line::from(authorize_url.clone()).cyan().underlined());
            (
                format!("Waiting for GitHub{}", countdown(state, expires_at, "link")),
                keys(&[
                    ("y", "copy link"),
                    ("o", "open browser"),
                    ("w", "use a code"),
                    ("esc", "cancel"),
                ]),
            )
        }
    };
    lines.push(Line::default());
    lines.push(Line::from(vec![spin, Span::raw(status)]));
    lines.push(match &dialog.hint {
        Some(hint) => Line::from(hint.clone()),
        None => Line::default(),
    });
    lines.push(footer);
    lines
}

/// The web flow's question: whoever opened the link chose the account, so the user says
/// whether it is the one to connect.
fn confirm_login(
    state: &State,
    dialog: &ConnectDialog,
    login: &str,
    submitting: bool,
) -> Vec<Line<'static>> {
    let login = format!("@{}", printable(login));
    let mut lines = vec![
        Line::default(),
        Line::from("GitHub says this browser signed in as"),
        Line::default(),
        Line::from(login.clone()).bold().centered(),
        Line::default(),
        Line::from(vec![
            Span::raw("Connect team "),
            Span::from(format!("'{}'", dialog.team_name)).bold(),
            Span::raw(format!(" as {login}?")),
        ]),
        Line::from(
            "Say no unless this is the account you signed in with: whoever opens the link \
             chooses the account. Nothing is stored until you say yes.",
        )
        .dark_gray(),
        Line::default(),
    ];
    if submitting {
        lines.push(Line::from(vec![
            Span::from(format!("{} ", spinner::frame(state.spinner_tick))).cyan(),
            Span::raw(format!("Connecting as {login}…")),
        ]));
    } else {
        lines.push(Line::from(vec![
            Span::from("y").yellow().bold(),
            Span::raw(" connect as ").dark_gray(),
            Span::raw(login),
            Span::raw(" · ").dark_gray(),
            Span::from("n").bold(),
            Span::raw("/").dark_gray(),
            Span::from("esc").bold(),
            Span::raw(" cancel, store nothing").dark_gray(),
        ]));
    }
    lines
}

fn choose_org(
    state: &State,
    orgs: &[OrgChoice],
    selected: usize,
    submitting: bool,
) -> Vec<Line<'static>> {
    let mut lines = vec![
        Line::default(),
        Line::from("GitHub approved. This account sees several organizations;"),
        Line::from("pick the one to connect:"),
        Line::default(),
    ];
    let width = orgs
        .iter()
        .map(|o| o.login.chars().count())
        .max()
        .unwrap_or(0);
    for (i, org) in orgs.iter().enumerate() {
        let mut spans = vec![Span::raw(if i == selected { "› " } else { "  " })];
        spans.push(Span::raw(format!("{:<width$}", org.login)).bold());
        if let Some(description) = org.description.as_deref().filter(|d| !d.is_empty()) {
            spans.push(Span::raw(format!("  {description}")).dark_gray());
        }
        let line = Line::from(spans);
        lines.push(if i == selected { line.reversed() } else { line });
    }
    lines.push(Line::default());
    if submitting {
        let org = orgs.get(selected).map_or("", |o| o.login.as_str());
        lines.push(Line::from(vec![
            Span::from(format!("{} ", spinner::frame(state.spinner_tick))).cyan(),
            Span::raw(format!("Connecting {org}…")),
        ]));
    } else {
        lines.push(keys(&[
            ("j/k", "move"),
            ("enter", "connect"),
            ("esc", "cancel"),
        ]));
    }
    lines
}

fn other_method(method: ConnectMethod) -> &'static str {
    match method {
        ConnectMethod::Device => "try the web flow",
        ConnectMethod::Web => "try a device code",
    }
}

pub fn connect(frame: &mut Frame, state: &State, dialog: &ConnectDialog) {
    let title = format!("Connect GitHub · {}", dialog.team_name);
    let (color, lines) = match &dialog.phase {
        ConnectPhase::Starting => {
            let what = match dialog.method {
                ConnectMethod::Device => "a device code",
                ConnectMethod::Web => "an authorization link",
            };
            (
                Color::Cyan,
                vec![
                    Line::default(),
                    Line::from(vec![
                        Span::from(format!("{} ", spinner::frame(state.spinner_tick))).cyan(),
                        Span::raw(format!("Asking GitHub for {what}…")),
                    ]),
                    Line::default(),
                    keys(&[("esc", "cancel")]),
                ],
            )
        }
        ConnectPhase::Waiting {
            prompt, expires_at, ..
        } => (Color::Cyan, waiting(state, dialog, prompt, *expires_at)),
        ConnectPhase::ConfirmLogin {
            github_login,
            submitting,
            ..
        } => (
            Color::Yellow,
            confirm_login(state, dialog, github_login, *submitting),
        ),
        ConnectPhase::ChooseOrg {
            orgs,
            selected,
            submitting,
            ..
        } => (Color::Cyan, choose_org(state, orgs, *selected, *submitting)),
        ConnectPhase::NotConfigured { reason } => (
            Color::Yellow,
            vec![
                Line::default(),
                Line::from(reason.clone()).yellow(),
                Line::default(),
                Line::from(
                    "Press g to set it up here: register tidemark on GitHub, paste the client \
                     id, then connect this team.",
                ),
                Line::default(),
                keys(&[("g", "set up GitHub"), ("r", "try again"), ("esc", "close")]),
            ],
        ),
        ConnectPhase::Failed { reason } => (
            Color::Red,
            vec![
                Line::default(),
                Line::from("Could not connect to GitHub:").red().bold(),
                Line::from(reason.clone()).red(),
                Line::default(),
                keys(&[
                    ("r", "try again"),
                    ("w", other_method(dialog.method)),
                    ("esc", "close"),
                ]),
            ],
        ),
    };
    popup_with(frame, WIDTH, &title, color, lines);
}

pub fn confirm_replace(
    frame: &mut Frame,
    name: &str,
    connection: Option<&str>,
    daemon_says: Option<&str>,
) {
    let mut first = vec![
        Span::raw("Team "),
        Span::from(format!("'{name}'")).bold(),
        Span::raw(" is already connected to GitHub"),
    ];
    if let Some(org) = connection {
        first.push(Span::raw(format!(" ({org})")));
    }
    first.push(Span::raw("."));
    let mut lines = vec![Line::from(first)];
    if let (None, Some(says)) = (connection, daemon_says) {
        lines.push(Line::from(format!("The daemon says: {says}.")).dark_gray());
    }
    lines.push(Line::from(
        "Replace its token? You authorize at GitHub again; the current token is kept if you \
         cancel.",
    ));
    lines.push(Line::default());
    lines.push(Line::from(vec![
        Span::from("y").yellow().bold(),
        Span::raw(" replace · "),
        Span::from("n").bold(),
        Span::raw("/"),
        Span::from("esc").bold(),
        Span::raw(" keep it"),
    ]));
    popup_with(
        frame,
        CONFIRM_WIDTH,
        "Replace GitHub token",
        Color::Yellow,
        lines,
    );
}

pub fn confirm_disconnect(
    frame: &mut Frame,
    name: &str,
    connection: Option<&str>,
    repos: Option<usize>,
    purge: bool,
) {
    let mut first = vec![
        Span::raw("Disconnect team "),
        Span::from(format!("'{name}'")).bold(),
        Span::raw(" from GitHub"),
    ];
    if let Some(org) = connection {
        first.push(Span::raw(format!(" ({org})")));
    }
    first.push(Span::raw("?"));
    let repos = match repos {
        Some(1) => "its tracked repository".to_string(),
        Some(n) => format!("its {n} tracked repositories"),
        None => "its tracked repositories".to_string(),
    };
    let mut lines = vec![
        Line::from(first),
        Line::from(format!(
            "Its webhooks, its token and {repos} are deleted; the grant is revoked at GitHub \
             when the daemon has the client secret."
        )),
        Line::default(),
        Line::from(vec![
            Span::raw(if purge { "[x] " } else { "[ ] " }).bold(),
            Span::raw("also purge the synced history"),
        ]),
        Line::from("    (members, pull requests, reviews, commits)"),
    ];
    lines.push(if purge {
        Line::from("    Deleted too: this cannot be undone.")
            .red()
            .bold()
    } else {
        Line::from("    Kept: it stays browsable.").dark_gray()
    });
    lines.push(Line::default());
    lines.push(Line::from(vec![
        Span::from("y").red().bold(),
        Span::raw(" disconnect · "),
        Span::from("p").bold(),
        Span::raw(if purge {
            " keep history · "
        } else {
            " purge history · "
        }),
        Span::from("n").bold(),
        Span::raw("/"),
        Span::from("esc").bold(),
        Span::raw(" keep it"),
    ]));
    popup_with(frame, CONFIRM_WIDTH, "Disconnect GitHub", Color::Red, lines);
}
