//! Keys become actions. Which key means what depends only on what is on screen (an open modal
//! first, then the screen), and the help overlay is generated from the same tables.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::state::{ConnectDialog, ConnectPhase, Modal, Screen, SetupStep, State};
use crate::tabs::{self, Tab};
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
    /// Team view: the next or previous tab, or one by number.
    NextTab,
    PrevTab,
    GoTab(Tab),
    /// First and last row; a page up or down.
    Top,
    Bottom,
    PageUp,
    PageDown,
    /// Start typing a filter (`/`).
    Filter,
    /// Pull requests: sort by the next column; reverse the order.
    SortNext,
    SortReverse,
    /// Start a sync of the team now.
    SyncNow,
    /// Repos: pick repositories to track; untrack the selected one.
    AddRepo,
    Untrack,
    /// Overview: roll the webhook secret (asks first).
    RotateSecret,
    /// Metrics: a longer or shorter period.
    PeriodNext,
    PeriodPrev,
    /// Repository picker: tick or untick the selected repository. Delivery rules: the
    /// repository's next signal.
    Toggle,
    /// Delivery: the team's rules; preview the edited ones; save them.
    DeliveryRules,
    DeliveryPreview,
    DeliverySave,
    /// Alerts: resolved breaches shown or not; the agreements page; save the agreements.
    ToggleResolved,
    Agreements,
    SaveAgreements,
    /// Open the guided GitHub setup.
    SetupGithub,
    /// Open the daemon panel.
    DaemonPanel,
    /// Daemon panel: read the daemon's config file again.
    ReloadDaemon,
    /// After the daemon failed to start: try starting it once more.
    StartDaemon,
    /// GitHub setup: copy the callback URL to register.
    CopyCallback,
    /// Teams screen: the invitations into teams waiting for an answer.
    Invitations,
    /// Invitations: accept or decline the selected one.
    AcceptInvitation,
    DeclineInvitation,
}

/// A documented key: shown in the help overlay and the status bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    pub keys: &'static str,
    pub does: &'static str,
    /// A key that triggers it, so tests can prove the help tells the truth.
    pub example: KeyCode,
}

pub(crate) const fn bind(keys: &'static str, does: &'static str, example: KeyCode) -> Binding {
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
    bind("i", "invitations: accept or decline", KeyCode::Char('i')),
    bind("g", "set up GitHub", KeyCode::Char('g')),
    bind("D", "the daemon: settings, reload", KeyCode::Char('D')),
    bind("s", "retry a failed daemon start", KeyCode::Char('s')),
    bind("r", "refresh", KeyCode::Char('r')),
    bind("?", "help", KeyCode::Char('?')),
    bind("q", "quit", KeyCode::Char('q')),
];

/// Keys of every tab of the team screen.
pub const TEAM_KEYS: &[Binding] = &[
    bind("tab/S-tab", "next / previous tab", KeyCode::Tab),
    bind(tabs::NUMBER_KEYS, "go to a tab", KeyCode::Char('3')),
    bind("j/k ↑/↓", "move", KeyCode::Char('k')),
    bind("g/G", "first / last", KeyCode::Char('G')),
    bind("f", "sync now", KeyCode::Char('f')),
    bind("c", "connect GitHub", KeyCode::Char('c')),
    bind("x", "disconnect GitHub", KeyCode::Char('x')),
    bind("D", "delete this team", KeyCode::Char('D')),
    bind("r", "refresh", KeyCode::Char('r')),
    bind("esc", "back to the teams", KeyCode::Esc),
    bind("?", "help", KeyCode::Char('?')),
    bind("q", "quit", KeyCode::Char('q')),
];

/// Every key of the screen: the tab's own first, then the screen's.
pub fn bindings(screen: &Screen) -> Vec<Binding> {
    match screen {
        Screen::Teams => TEAMS_KEYS.to_vec(),
        Screen::Team(view) => tabs::bindings(view.tab)
            .iter()
            .chain(TEAM_KEYS)
            .copied()
            .collect(),
    }
}

fn edit_key(code: KeyCode, ctrl: bool) -> Option<Action> {
    match code {
        KeyCode::Char(c) if !ctrl => Some(Action::Edit(Edit::Insert(c))),
        KeyCode::Backspace => Some(Action::Edit(Edit::Backspace)),
        KeyCode::Delete => Some(Action::Edit(Edit::Delete)),
        KeyCode::Left => Some(Action::Edit(Edit::Left)),
        KeyCode::Right => Some(Action::Edit(Edit::Right)),
        KeyCode::Home => Some(Action::Edit(Edit::Home)),
        KeyCode::End => Some(Action::Edit(Edit::End)),
        _ => None,
    }
}

fn moves(code: KeyCode) -> Option<Action> {
    match code {
        KeyCode::Char('j') | KeyCode::Down => Some(Action::Down),
        KeyCode::Char('k') | KeyCode::Up => Some(Action::Up),
        KeyCode::Char('g') | KeyCode::Home => Some(Action::Top),
        KeyCode::Char('G') | KeyCode::End => Some(Action::Bottom),
        KeyCode::PageUp => Some(Action::PageUp),
        KeyCode::PageDown => Some(Action::PageDown),
        _ => None,
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
        // A question like the other confirmations: y, or n/esc.
        Some(Modal::Connect(ConnectDialog {
            phase: ConnectPhase::ConfirmLogin { .. },
            ..
        })) => match key.code {
            KeyCode::Char('y' | 'Y') => Some(Action::Confirm),
            KeyCode::Char('n' | 'N') | KeyCode::Esc => Some(Action::Cancel),
            _ => None,
        },
        // What applies depends on the phase; update ignores the rest.
        Some(Modal::Connect(_)) => match key.code {
            KeyCode::Esc => Some(Action::Cancel),
            KeyCode::Char('g') => Some(Action::SetupGithub),
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
            code => edit_key(code, ctrl),
        },
        Some(Modal::ConfirmUntrack { .. } | Modal::ConfirmRotate { .. }) => match key.code {
            KeyCode::Char('y' | 'Y') => Some(Action::Confirm),
            KeyCode::Char('n' | 'N') | KeyCode::Esc => Some(Action::Cancel),
            _ => None,
        },
        Some(Modal::PullRequest(_)) => match key.code {
            KeyCode::Esc | KeyCode::Enter | KeyCode::Backspace => Some(Action::Cancel),
            KeyCode::Char('o') => Some(Action::OpenBrowser),
            KeyCode::Char('q') => Some(Action::Quit),
            code => moves(code),
        },
        Some(Modal::AddRepos(picker)) if picker.filtering => match key.code {
            KeyCode::Enter => Some(Action::Submit),
            KeyCode::Esc => Some(Action::Cancel),
            KeyCode::Down => Some(Action::Down),
            KeyCode::Up => Some(Action::Up),
            code => edit_key(code, ctrl),
        },
        Some(Modal::AddRepos(_)) => match key.code {
            KeyCode::Enter => Some(Action::Submit),
            KeyCode::Esc => Some(Action::Cancel),
            KeyCode::Char(' ') => Some(Action::Toggle),
            KeyCode::Char('/') => Some(Action::Filter),
            KeyCode::Char('q') => Some(Action::Quit),
            code => moves(code),
        },
        Some(Modal::Setup(dialog)) => setup_action(&dialog.step, key.code, ctrl),
        Some(Modal::Invitations(_)) => match key.code {
            KeyCode::Esc | KeyCode::Char('i') => Some(Action::Cancel),
            KeyCode::Char('a') => Some(Action::AcceptInvitation),
            KeyCode::Char('x') => Some(Action::DeclineInvitation),
            KeyCode::Char('r') => Some(Action::Refresh),
            KeyCode::Char('q') => Some(Action::Quit),
            code => moves(code),
        },
        Some(Modal::Daemon(_)) => match key.code {
            KeyCode::Esc | KeyCode::Enter | KeyCode::Char('D') => Some(Action::Cancel),
            KeyCode::Char('r') => Some(Action::ReloadDaemon),
            KeyCode::Char('g') => Some(Action::SetupGithub),
            KeyCode::Char('q') => Some(Action::Quit),
            KeyCode::Char('j') | KeyCode::Down => Some(Action::Down),
            KeyCode::Char('k') | KeyCode::Up => Some(Action::Up),
            KeyCode::PageUp => Some(Action::PageUp),
            KeyCode::PageDown => Some(Action::PageDown),
            _ => None,
        },
        None => match &state.screen {
            // Typing a filter: keys are text until enter (keep) or esc (clear).
            Screen::Team(view) if tabs::typing(view) => match key.code {
                KeyCode::Enter => Some(Action::Submit),
                KeyCode::Esc => Some(Action::Cancel),
                KeyCode::Down => Some(Action::Down),
                KeyCode::Up => Some(Action::Up),
                code => edit_key(code, ctrl),
            },
            screen => screen_action(screen, key.code),
        },
    }
}

/// The setup dialog: the two inputs take every printable key as text; the other steps have
/// keys of their own (shown in the dialog's footer).
fn setup_action(step: &SetupStep, code: KeyCode, ctrl: bool) -> Option<Action> {
    match (step, code) {
        (_, KeyCode::Esc) => Some(Action::Cancel),
        (SetupStep::ClientId | SetupStep::Secret, KeyCode::Enter) => Some(Action::Submit),
        (SetupStep::ClientId | SetupStep::Secret, code) => edit_key(code, ctrl),
        (SetupStep::Register, KeyCode::Enter) => Some(Action::Submit),
        (SetupStep::Register, KeyCode::Char('o')) => Some(Action::OpenBrowser),
        (SetupStep::Register, KeyCode::Char('y')) => Some(Action::Copy),
        (SetupStep::Register, KeyCode::Char('c')) => Some(Action::CopyCallback),
        (SetupStep::Register, KeyCode::Char('r')) => Some(Action::Refresh),
        (SetupStep::Saved(_), KeyCode::Enter) => Some(Action::Cancel),
        (SetupStep::Saved(_), KeyCode::Char('n')) => Some(Action::NewTeam),
        (SetupStep::Saved(_), KeyCode::Char('c')) => Some(Action::ConnectGithub),
        _ => None,
    }
}

fn screen_action(screen: &Screen, code: KeyCode) -> Option<Action> {
    // Before the common keys: `g` is "first" elsewhere, here it sets up GitHub.
    if let Screen::Teams = screen {
        match code {
            KeyCode::Char('g') => return Some(Action::SetupGithub),
            KeyCode::Char('D') => return Some(Action::DaemonPanel),
            KeyCode::Char('s') => return Some(Action::StartDaemon),
            KeyCode::Char('i') => return Some(Action::Invitations),
            _ => {}
        }
    }
    let common = match code {
        KeyCode::Char('q') => Some(Action::Quit),
        KeyCode::Char('?') => Some(Action::Help),
        KeyCode::Char('r') => Some(Action::Refresh),
        code => moves(code),
    };
    if common.is_some() {
        return common;
    }
    let view = match screen {
        Screen::Teams => {
            return match code {
                KeyCode::Enter => Some(Action::Open),
                KeyCode::Char('n') => Some(Action::NewTeam),
                KeyCode::Char('d') => Some(Action::DeleteTeam),
                _ => None,
            };
        }
        Screen::Team(view) => view,
    };
    let team = match code {
        KeyCode::Esc | KeyCode::Backspace => Some(Action::Back),
        KeyCode::Tab => Some(Action::NextTab),
        KeyCode::BackTab => Some(Action::PrevTab),
        KeyCode::Char(c @ '1'..='9') => Tab::ALL
            .get(c as usize - '1' as usize)
            .copied()
            .map(Action::GoTab),
        KeyCode::Char('c') => Some(Action::ConnectGithub),
        KeyCode::Char('x') => Some(Action::DisconnectGithub),
        KeyCode::Char('D') => Some(Action::DeleteTeam),
        KeyCode::Char('f') => Some(Action::SyncNow),
        _ => None,
    };
    team.or_else(|| tabs::action(view, code))
}
