//! The Overview tab: the team's GitHub connection, its sync, the webhooks' health and errors;
//! `W` rolls the webhook secret (asks first).

pub mod link;
pub mod view;

use ratatui::crossterm::event::KeyCode;

use super::open_view;
use crate::app::action::{Action, Binding, bind};
use crate::app::event::{Reply, Request};
use crate::app::state::{Modal, Notice, State};
use crate::app::update::request;

pub const KEYS: &[Binding] = &[bind("W", "rotate the webhook secret", KeyCode::Char('W'))];

pub fn action(code: KeyCode) -> Option<Action> {
    match code {
        KeyCode::Char('W') => Some(Action::RotateSecret),
        _ => None,
    }
}

pub(crate) fn ask_rotate(state: &mut State) {
    let Some(view) = open_view(state) else {
        return;
    };
    let connected = view
        .loaded_status()
        .is_some_and(|s| s.integrations.iter().any(|i| i.github.is_some()));
    let (team, name) = (view.id, view.name.clone());
    if connected {
        state.modal = Some(Modal::ConfirmRotate { team, name });
    } else {
        state.notice = Some(Notice::Error("not connected to GitHub".into()));
    }
}

pub(crate) fn confirm_rotate(state: &mut State) -> Vec<Request> {
    let Some(Modal::ConfirmRotate { team, .. }) = state.modal.take() else {
        return Vec::new();
    };
    state.notice = Some(Notice::Info("Rotating the webhook secret…".into()));
    request(state, Request::RotateSecret(team))
}

pub(crate) fn on_reply(state: &mut State, reply: Reply) -> Vec<Request> {
    let Reply::Rotated { result, .. } = reply else {
        unreachable!("not an overview reply: {reply:?}");
    };
    state.notice = Some(match result {
        Ok(report) if report.hooks_failed.is_empty() => Notice::Info(format!(
            "Webhook secret rotated: {} hook(s) updated; the old secret is accepted \
             until {}.",
            report.hooks_updated,
            crate::timefmt::utc(report.old_secret_accepted_until)
        )),
        Ok(report) => Notice::Error(format!(
            "Webhook secret rotated, but {} hook(s) kept the old one: {}",
            report.hooks_failed.len(),
            report.hooks_failed.join("; ")
        )),
        Err(err) => Notice::Error(format!("cannot rotate the webhook secret: {err}")),
    });
    Vec::new()
}
