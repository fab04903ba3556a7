//! The daemon itself: its info (asked for with every reload), the daemon panel and its reload,
//! and starting the daemon once more after it failed to start.

use tidemark_protocol::{DaemonInfo, ReloadReport};

use super::request;
use crate::app::action::Action;
use crate::app::event::{OperateError, Request};
use crate::app::state::{DaemonPanel, Link, Loadable, Modal, Notice, State};

/// What an operator runs to reload a daemon that belongs to someone else.
const OPERATOR_RELOAD: &str = "sudo tidemark daemon reload";

fn panel(state: &mut State) -> Option<&mut DaemonPanel> {
    match &mut state.modal {
        Some(Modal::Daemon(panel)) => Some(panel),
        _ => None,
    }
}

/// `D`: the panel, with the daemon's facts read afresh.
pub(super) fn open_panel(state: &mut State) -> Vec<Request> {
    if !state.is_connected() {
        state.notice = Some(Notice::Error(
            "not connected to the daemon: its settings show once it answers".into(),
        ));
        return Vec::new();
    }
    state.modal = Some(Modal::Daemon(DaemonPanel::default()));
    request(state, Request::DaemonInfo)
}

/// `r` in the panel: read the config file again.
pub(super) fn reload(state: &mut State) -> Vec<Request> {
    let Some(panel) = panel(state) else {
        return Vec::new();
    };
    if panel.reload == Some(Loadable::Loading) {
        return Vec::new();
    }
    panel.reload = Some(Loadable::Loading);
    request(state, Request::DaemonReload)
}

/// Move keys scroll the panel (it can be taller than the terminal; the view clamps).
pub(super) fn scroll(state: &mut State, action: Action) -> bool {
    let Some(panel) = panel(state) else {
        return false;
    };
    panel.scroll = match action {
        Action::Down => panel.scroll + 1,
        Action::Up => panel.scroll.saturating_sub(1),
        Action::PageDown => panel.scroll + 10,
        Action::PageUp => panel.scroll.saturating_sub(10),
        Action::Top => 0,
        _ => panel.scroll,
    };
    true
}

pub(super) fn on_info(state: &mut State, result: Result<Box<DaemonInfo>, String>) {
    match result {
        Ok(info) => state.daemon_info = Loadable::Loaded(*info),
        // Keep what was known; say what went wrong.
        Err(err) if matches!(state.daemon_info, Loadable::Loaded(_)) => {
            state.notice = Some(Notice::Error(format!(
                "cannot read the daemon's settings: {err}"
            )));
        }
        Err(err) => state.daemon_info = Loadable::Failed(err),
    }
}

pub(super) fn on_reloaded(
    state: &mut State,
    result: Result<ReloadReport, OperateError>,
) -> Vec<Request> {
    let outcome = match result {
        Ok(report) => Loadable::Loaded(report),
        // The command on a line of its own: the panel never breaks it.
        Err(OperateError::Denied(says)) => Loadable::Failed(format!(
            "{says}. An operator must run:\n  {OPERATOR_RELOAD}"
        )),
        Err(OperateError::Failed(reason)) => Loadable::Failed(reason),
    };
    let applied = matches!(outcome, Loadable::Loaded(_));
    match panel(state) {
        Some(panel) => panel.reload = Some(outcome),
        None => {
            state.notice = Some(match outcome {
                Loadable::Failed(reason) => Notice::Error(format!("not reloaded: {reason}")),
                _ => Notice::Info("The daemon read its config file again.".into()),
            });
        }
    }
    // Settings may have changed: show them as they are now.
    if applied {
        request(state, Request::DaemonInfo)
    } else {
        Vec::new()
    }
}

/// `s` after a failed start: the link tries `connect_or_start` once more. Not an RPC, so no
/// spinner count and no reply: the link's events (starting, connected, failed) tell the rest.
pub(super) fn start(state: &mut State) -> Vec<Request> {
    match &state.link {
        Link::StartFailed { .. } => {
            state.notice = Some(Notice::Info("Starting the daemon once more…".into()));
            vec![Request::StartDaemon]
        }
        Link::Connected { .. } => {
            state.notice = Some(Notice::Info(
                "The daemon is running: nothing to start.".into(),
            ));
            Vec::new()
        }
        Link::Connecting | Link::Starting => Vec::new(),
        Link::Lost { .. } => {
            state.notice = Some(Notice::Error(
                "s starts the daemon only after this screen failed to start it; start it with \
                 `tidemark daemon` and this screen picks it up"
                    .into(),
            ));
            Vec::new()
        }
    }
}
