//! Rendering: a pure function of [`State`]. Nothing here waits on the daemon or changes state.

mod chrome;
mod daemon;
pub(crate) mod dialogs;
pub mod first_screen;
mod github;
mod help;
mod invitations;
mod setup;
pub mod team;
mod teams;

use ratatui::backend::Backend;
use ratatui::layout::{Constraint, Layout};
use ratatui::{Frame, Terminal};

use crate::app::{Modal, Screen, State};

/// Draw the whole screen for `state`.
pub fn render(frame: &mut Frame, state: &State) {
    let width = frame.area().width;
    let banner = chrome::banner_height(state, width);
    let [header, banner_area, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(banner),
        Constraint::Min(0),
        Constraint::Length(chrome::status_height(state, width)),
    ])
    .areas(frame.area());

    chrome::header(frame, header, state);
    if banner > 0 {
        chrome::banner(frame, banner_area, state);
    }
    match &state.screen {
        Screen::Teams => teams::render(frame, body, state),
        Screen::Team(view) => team::render(frame, body, state, view),
    }
    chrome::status_line(frame, status, state);

    match &state.modal {
        None => {}
        Some(Modal::Help) => help::render(frame, state),
        Some(Modal::Create(form)) => dialogs::create(frame, form),
        Some(Modal::ConfirmDelete { id, name }) => dialogs::confirm_delete(frame, *id, name),
        Some(Modal::Connect(dialog)) => github::connect(frame, state, dialog),
        Some(Modal::ConfirmReplace {
            name,
            connection,
            daemon_says,
            ..
        }) => github::confirm_replace(frame, name, connection.as_deref(), daemon_says.as_deref()),
        Some(Modal::ConfirmDisconnect {
            name,
            connection,
            repos,
            purge,
            ..
        }) => github::confirm_disconnect(frame, name, connection.as_deref(), *repos, *purge),
        Some(Modal::PullRequest(detail)) => crate::tabs::pulls::detail::pull_request(frame, detail),
        Some(Modal::AddRepos(picker)) => crate::tabs::repos::view::add_repos(frame, state, picker),
        Some(Modal::ConfirmUntrack { repo, .. }) => {
            crate::tabs::repos::view::confirm_untrack(frame, repo);
        }
        Some(Modal::ConfirmRotate { name, .. }) => {
            crate::tabs::overview::view::confirm_rotate(frame, name);
        }
        Some(Modal::Setup(dialog)) => setup::render(frame, state, dialog),
        Some(Modal::Daemon(panel)) => daemon::render(frame, state, panel),
        Some(Modal::Invitations(dialog)) => invitations::render(frame, state, dialog),
    }
    apply_theme(frame, state.config.theme);
}

/// Pass every cell's colours through the theme (nothing to do for the default one).
fn apply_theme(frame: &mut Frame, theme: crate::config::Theme) {
    if theme == crate::config::Theme::Dark {
        return;
    }
    for cell in frame.buffer_mut().content.iter_mut() {
        cell.fg = theme.remap(cell.fg);
        cell.bg = theme.remap(cell.bg);
    }
}

/// Draw `state` on any backend: the runtime's terminal, or a `TestBackend` in tests.
pub fn draw<B: Backend>(terminal: &mut Terminal<B>, state: &State) -> Result<(), B::Error> {
    terminal.draw(|frame| render(frame, state)).map(drop)
}
