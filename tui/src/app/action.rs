//! Keys become actions. Which key means what depends only on what is on screen (an open modal
//! first, then the screen), and the help overlay is generated from the same tables.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::state::{Modal, Screen, State};
use crate::widgets::text_input::Edit;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Up,
    Down,
    Open,
    Back,
    Refresh,
    Help,
    NewTeam,
    DeleteTeam,
    /// Yes in a confirmation.
    Confirm,
    /// Close a modal without doing anything.
    Cancel,
    /// Enter in a form.
    Submit,
    Edit(Edit),
    /// Team view: connect the team to GitHub.
    ConnectGithub,
    /// Team view: disconnect it.
    DisconnectGithub,
    /// Connect dialog: switch between the device and the web flow.
    SwitchMethod,
    /// Connect dialog: copy the code (or link) to the clipboard.
    Copy,
    /// Connect dialog: open the link in a browser.
    OpenBrowser,
    /// Connect dialog: try again after a failure.
    Retry,
    /// Disconnect dialog: also purge the synced history, or not.
    TogglePurge,
}

/// A documented key: shown in the help overlay and the status bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    pub keys: &'static str,
    pub does: &'static str,
    /// A key that triggers it, so tests can prove the help tells the truth.
    pub example: KeyCode,
}

const fn bind(keys: &'static str, does: &'static str, example: KeyCode) -> Binding {
    Binding {
        keys,
        does,
        example,
    }
}

pub const TEAMS_KEYS: &[Binding] = &[
    bind("j/k ↑/↓", "move", KeyCode::Char('j')),
    bind("enter", "open the team", KeyCode::Enter),
    bind("n", "create a team", KeyCode::Char('n')),
    bind("d", "delete the selected team", KeyCode::Char('d')),
    bind("r", "refresh", KeyCode::Char('r')),
    bind("?", "help", KeyCode::Char('?')),
    bind("q", "quit", KeyCode::Char('q')),
];

pub const TEAM_KEYS: &[Binding] = &[
    bind("j/k ↑/↓", "select a repository", KeyCode::Char('k')),
    bind("esc", "back to the teams", KeyCode::Esc),
    bind("c", "connect GitHub", KeyCode::Char('c')),
    bind("x", "disconnect GitHub", KeyCode::Char('x')),
    bind("d", "delete this team", KeyCode::Char('d')),
    bind("r", "refresh", KeyCode::Char('r')),
    bind("?", "help", KeyCode::Char('?')),
    bind("q", "quit", KeyCode::Char('q')),
];

pub fn bindings(screen: &Screen) -> &'static [Binding] {
    match screen {
        Screen::Teams => TEAMS_KEYS,
        Screen::Team(_) => TEAM_KEYS,
    }
}

/// The action a key press means right now, if any.
pub fn action_for_key(state: &State, key: KeyEvent) -> Option<Action> {
    // Key releases and repeats (reported on some terminals) must not act twice.
    if key.kind != KeyEventKind::Press {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && key.code == KeyCode::Char('c') {
        return Some(Action::Quit);
    }
    match &state.modal {
        Some(Modal::Help) => match key.code {
            KeyCode::Esc | KeyCode::Char('?') | KeyCode::Enter => Some(Action::Cancel),
            KeyCode::Char('q') => Some(Action::Quit),
            _ => None,
        },
        Some(Modal::ConfirmDelete { .. } | Modal::ConfirmReplace { .. }) => match key.code {
            KeyCode::Char('y' | 'Y') => Some(Action::Confirm),
            KeyCode::Char('n' | 'N') | KeyCode::Esc => Some(Action::Cancel),
            _ => None,
        },
        Some(Modal::ConfirmDisconnect { .. }) => match key.code {
            KeyCode::Char('y' | 'Y') => Some(Action::Confirm),
            KeyCode::Char('p' | 'P') => Some(Action::TogglePurge),
            KeyCode::Char('n' | 'N') | KeyCode::Esc => Some(Action::Cancel),
            _ => None,
        },
        // What applies depends on the phase; update ignores the rest.
        Some(Modal::Connect(_)) => match key.code {
            KeyCode::Esc => Some(Action::Cancel),
            KeyCode::Char('w') => Some(Action::SwitchMethod),
            KeyCode::Char('y') => Some(Action::Copy),
            KeyCode::Char('o') => Some(Action::OpenBrowser),
            KeyCode::Char('r') => Some(Action::Retry),
            KeyCode::Char('j') | KeyCode::Down => Some(Action::Down),
            KeyCode::Char('k') | KeyCode::Up => Some(Action::Up),
            KeyCode::Enter => Some(Action::Submit),
            _ => None,
        },
        // Every printable key is text here: `q` types a q, it does not quit.
        Some(Modal::Create(_)) => match key.code {
            KeyCode::Enter => Some(Action::Submit),
            KeyCode::Esc => Some(Action::Cancel),
            KeyCode::Char(c) if !ctrl => Some(Action::Edit(Edit::Insert(c))),
            KeyCode::Backspace => Some(Action::Edit(Edit::Backspace)),
            KeyCode::Delete => Some(Action::Edit(Edit::Delete)),
            KeyCode::Left => Some(Action::Edit(Edit::Left)),
            KeyCode::Right => Some(Action::Edit(Edit::Right)),
            KeyCode::Home => Some(Action::Edit(Edit::Home)),
            KeyCode::End => Some(Action::Edit(Edit::End)),
            _ => None,
        },
        None => screen_action(&state.screen, key.code),
    }
}

fn screen_action(screen: &Screen, code: KeyCode) -> Option<Action> {
    let common = match code {
        KeyCode::Char('q') => Some(Action::Quit),
        KeyCode::Char('?') => Some(Action::Help),
        KeyCode::Char('r') => Some(Action::Refresh),
        KeyCode::Char('j') | KeyCode::Down => Some(Action::Down),
        KeyCode::Char('k') | KeyCode::Up => Some(Action::Up),
        KeyCode::Char('d') => Some(Action::DeleteTeam),
        _ => None,
    };
    common.or(match (screen, code) {
        (Screen::Teams, KeyCode::Enter) => Some(Action::Open),
        (Screen::Teams, KeyCode::Char('n')) => Some(Action::NewTeam),
        (Screen::Team(_), KeyCode::Esc | KeyCode::Backspace) => Some(Action::Back),
        (Screen::Team(_), KeyCode::Char('c')) => Some(Action::ConnectGithub),
        (Screen::Team(_), KeyCode::Char('x')) => Some(Action::DisconnectGithub),
        _ => None,
    })
}
