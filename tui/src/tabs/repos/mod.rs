//! The Repos tab: the team's tracked repositories and their sync; `a` opens the picker of the
//! organization's repositories to track, `d` untracks one (asks first).

pub mod link;
pub mod picker;
pub mod view;

use ratatui::crossterm::event::KeyCode;

use super::{TeamView, open_view, view_of};
use crate::app::action::{Action, Binding, bind};
use crate::app::event::{Reply, Request};
use crate::app::state::{Loadable, Modal, Notice, State};
use crate::app::update::request;
use crate::app::update::team::reload_status;

pub const KEYS: &[Binding] = &[
    bind("a", "track repositories", KeyCode::Char('a')),
    bind("d", "untrack the selected one", KeyCode::Char('d')),
];

pub fn action(code: KeyCode) -> Option<Action> {
    match code {
        KeyCode::Char('a') => Some(Action::AddRepo),
        KeyCode::Char('d') => Some(Action::Untrack),
        _ => None,
    }
}

pub fn move_in(view: &mut TeamView, action: Action) {
    if let Loadable::Loaded(status) = &view.status {
        view.selected_repo.step(action, status.repos.iter());
    }
}

pub(crate) fn ask_untrack(state: &mut State) {
    let Some(view) = open_view(state) else {
        return;
    };
    let team = view.id;
    let Some(repo) = view.selected_repo().map(|r| r.full_name.clone()) else {
        return;
    };
    state.modal = Some(Modal::ConfirmUntrack { team, repo });
}

pub(crate) fn confirm_untrack(state: &mut State) -> Vec<Request> {
    let Some(Modal::ConfirmUntrack { team, repo }) = state.modal.take() else {
        return Vec::new();
    };
    if view_of(state, team).is_none() {
        return Vec::new();
    }
    request(state, Request::Untrack { team, name: repo })
}

pub(crate) fn on_reply(state: &mut State, reply: Reply) -> Vec<Request> {
    match reply {
        Reply::Untracked { team, name, result } => match result {
            Ok(()) => {
                state.notice = Some(Notice::Info(format!(
                    "Untracked {name} (its history stays)."
                )));
                reload_status(state, team)
            }
            Err(err) => {
                state.notice = Some(Notice::Error(format!("cannot untrack {name}: {err}")));
                Vec::new()
            }
        },
        reply => picker::on_reply(state, reply),
    }
}
