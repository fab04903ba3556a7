//! Connecting a team to GitHub and disconnecting it: the dialogs' transitions, and the replies of
//! the connect flow (start, long-poll status, organization choice, cancel) and of disconnect.
//!
//! A flow lives at the daemon until it ends or is cancelled, so every way out of the dialog but
//! a final answer cancels it: esc, switching method, quitting, and a start reply that arrives
//! after its dialog was closed. A web flow asks the user to confirm the GitHub login GitHub
//! answered (`y`); `n` cancels it, and the daemon stores nothing.

use tidemark_protocol::{ConnectMethod, ConnectPrompt, ConnectStarted, ConnectState, FlowId};

use super::request;
use crate::app::event::{Effect, Request, StartError};
use crate::app::state::{
    ConnectDialog, ConnectPhase, Loadable, Modal, Notice, Screen, State, TeamView,
};
use crate::output::{
    connected_headline, describe_connection, disconnect_summary, github_connection,
};

fn viewed_team(state: &State) -> Option<&TeamView> {
    match &state.screen {
        Screen::Team(view) => Some(view),
        Screen::Teams => None,
    }
}

/// What the team view knows of the team's GitHub connection: `None` while not loaded,
/// `Some(None)` when it has none.
fn known_connection(view: &TeamView) -> Option<Option<String>> {
    match &view.status {
        Loadable::Loaded(status) => {
            Some(github_connection(&status.integrations).map(describe_connection))
        }
        _ => None,
    }
}

fn not_connected(state: &mut State) -> Vec<Request> {
    state.notice = Some(Notice::Error(
        "not connected to the daemon; still trying to reconnect".into(),
    ));
    Vec::new()
}

/// `c` on the team view: ask before replacing a token, else start the device flow.
pub(super) fn connect(state: &mut State) -> Vec<Request> {
    let Some(view) = viewed_team(state) else {
        return Vec::new();
    };
    let (id, name) = (view.id, view.name.clone());
    if let Some(Some(connection)) = known_connection(view) {
        state.modal = Some(Modal::ConfirmReplace {
            id,
            name,
            method: ConnectMethod::Device,
            connection: Some(connection),
            daemon_says: None,
        });
        return Vec::new();
    }
    start(state, id, name, ConnectMethod::Device, false)
}

/// Open the dialog and ask the daemon for a flow.
pub(super) fn start(
    state: &mut State,
    team: u64,
    team_name: String,
    method: ConnectMethod,
    replace: bool,
) -> Vec<Request> {
    if !state.is_connected() {
        return not_connected(state);
    }
    state.connect_attempts += 1;
    let attempt = state.connect_attempts;
    state.modal = Some(Modal::Connect(ConnectDialog {
        team,
        team_name,
        method,
        replace,
        attempt,
        phase: ConnectPhase::Starting,
        hint: None,
    }));
    request(
        state,
        Request::StartConnect {
            team,
            method,
            replace,
            attempt,
        },
    )
}

pub(super) fn confirm_replace(state: &mut State) -> Vec<Request> {
    let Some(Modal::ConfirmReplace {
        id, name, method, ..
    }) = state.modal.take()
    else {
        return Vec::new();
    };
    start(state, id, name, method, true)
}

fn dialog(state: &mut State) -> Option<&mut ConnectDialog> {
    match &mut state.modal {
        Some(Modal::Connect(dialog)) => Some(dialog),
        _ => None,
    }
}

fn cancel(state: &mut State, flow: Option<FlowId>) -> Vec<Request> {
    match flow {
        Some(flow) => request(state, Request::CancelConnect { flow }),
        None => Vec::new(),
    }
}

/// Esc: close the dialog, cancelling its flow. (A flow still starting is cancelled when its
/// start reply finds the dialog gone.)
pub(super) fn close_dialog(state: &mut State) -> Vec<Request> {
    let Some(Modal::Connect(dialog)) = state.modal.take() else {
        return Vec::new();
    };
    let flow = dialog.phase.open_flow();
    match &dialog.phase {
        ConnectPhase::Failed { .. } | ConnectPhase::NotConfigured { .. } => {}
        ConnectPhase::ConfirmLogin { github_login, .. } => {
            state.notice = Some(Notice::Info(format!(
                "Cancelled: team '{}' was not connected as @{github_login}; nothing was stored.",
                dialog.team_name
            )));
        }
        _ => {
            state.notice = Some(Notice::Info(format!(
                "Cancelled: team '{}' was not connected to GitHub.",
                dialog.team_name
            )));
        }
    }
    cancel(state, flow)
}

/// Quitting with a flow open: cancel it on the way out.
pub(super) fn cancel_open_flow(state: &mut State) -> Vec<Request> {
    let flow = match &state.modal {
        Some(Modal::Connect(dialog)) => dialog.phase.open_flow(),
        _ => None,
    };
    if flow.is_some() && state.is_connected() {
        cancel(state, flow)
    } else {
        Vec::new()
    }
}

/// `w`: the other method, as a new flow (the current one is cancelled). Not while starting (one
/// start at a time) nor once GitHub has approved (then only the organization is left to pick).
pub(super) fn switch_method(state: &mut State) -> Vec<Request> {
    let Some(dialog) = dialog(state) else {
        return Vec::new();
    };
    // Nor when GitHub is not set up: neither method can start then.
    if matches!(
        dialog.phase,
        ConnectPhase::Starting
            | ConnectPhase::ConfirmLogin { .. }
            | ConnectPhase::ChooseOrg { .. }
            | ConnectPhase::NotConfigured { .. }
    ) {
        return Vec::new();
    }
    let method = match dialog.method {
        ConnectMethod::Device => ConnectMethod::Web,
        ConnectMethod::Web => ConnectMethod::Device,
    };
    restart(state, method)
}

/// `r` after a failure: the same method again.
pub(super) fn retry(state: &mut State) -> Vec<Request> {
    match dialog(state) {
        // After a "not set up" too: it may have been set up elsewhere meanwhile.
        Some(dialog)
            if matches!(
                dialog.phase,
                ConnectPhase::Failed { .. } | ConnectPhase::NotConfigured { .. }
            ) =>
        {
            let method = dialog.method;
            restart(state, method)
        }
        _ => Vec::new(),
    }
}

fn restart(state: &mut State, method: ConnectMethod) -> Vec<Request> {
    let Some(Modal::Connect(dialog)) = state.modal.take() else {
        return Vec::new();
    };
    let mut reqs = cancel(state, dialog.phase.open_flow());
    reqs.extend(start(
        state,
        dialog.team,
        dialog.team_name,
        method,
        dialog.replace,
    ));
    reqs
}

/// The link of a waiting flow, and what `y` copies from it: the code, or the link itself.
fn prompt_targets(prompt: &ConnectPrompt) -> (&str, &str, &'static str) {
    match prompt {
        ConnectPrompt::Device {
            user_code,
            verification_uri,
        } => (verification_uri, user_code, "the code"),
        ConnectPrompt::Browser { authorize_url } => (authorize_url, authorize_url, "the link"),
    }
}

pub(super) fn copy(state: &mut State) {
    let Some(dialog) = dialog(state) else {
        return;
    };
    let ConnectPhase::Waiting { prompt, .. } = &dialog.phase else {
        return;
    };
    let (_, text, what) = prompt_targets(prompt);
    let effect = Effect::Copy(text.to_string());
    // OSC 52 gives no answer: the terminal may have ignored it.
    dialog.hint = Some(format!(
        "Copied {what} to the clipboard (if your terminal allows OSC 52)."
    ));
    state.effects.push(effect);
}

pub(super) fn open_browser(state: &mut State) {
    let can_open = state.can_open_browser;
    let Some(dialog) = dialog(state) else {
        return;
    };
    let ConnectPhase::Waiting { prompt, .. } = &dialog.phase else {
        return;
    };
    let (url, _, _) = prompt_targets(prompt);
    let url = url.to_string();
    if can_open {
        dialog.hint = Some("Opening the browser…".into());
        state.effects.push(Effect::OpenUrl(url));
    } else {
        dialog.hint = Some("No display here: open the link on a device with a browser.".into());
    }
}

pub(super) fn effect_failed(state: &mut State, reason: String) {
    match &mut state.modal {
        Some(Modal::Connect(dialog)) => dialog.hint = Some(reason),
        Some(Modal::Setup(dialog)) => dialog.hint = Some(reason),
        _ => state.notice = Some(Notice::Error(reason)),
    }
}

/// The team of a connect dialog that found GitHub not set up (`g` takes it to the setup).
pub(super) fn not_configured_team(state: &State) -> Option<(u64, String)> {
    match &state.modal {
        Some(Modal::Connect(dialog))
            if matches!(dialog.phase, ConnectPhase::NotConfigured { .. }) =>
        {
            Some((dialog.team, dialog.team_name.clone()))
        }
        _ => None,
    }
}

pub(super) fn move_org(state: &mut State, down: bool) {
    if let Some(ConnectDialog {
        phase:
            ConnectPhase::ChooseOrg {
                orgs,
                selected,
                submitting: false,
                ..
            },
        ..
    }) = dialog(state)
    {
        *selected = if down {
            (*selected + 1).min(orgs.len().saturating_sub(1))
        } else {
            selected.saturating_sub(1)
        };
    }
}

pub(super) fn submit_org(state: &mut State) -> Vec<Request> {
    let Some(ConnectDialog {
        phase:
            ConnectPhase::ChooseOrg {
                flow,
                orgs,
                selected,
                submitting,
            },
        ..
    }) = dialog(state)
    else {
        return Vec::new();
    };
    let Some(org) = orgs.get(*selected).map(|o| o.login.clone()) else {
        return Vec::new();
    };
    if *submitting {
        return Vec::new();
    }
    *submitting = true;
    let flow = *flow;
    request(state, Request::ChooseOrg { flow, org })
}

/// `y` on the web flow's login question: the account GitHub signed in is the one to connect.
pub(super) fn confirm_login(state: &mut State) -> Vec<Request> {
    let Some(ConnectDialog {
        phase:
            ConnectPhase::ConfirmLogin {
                flow,
                github_login,
                submitting,
            },
        ..
    }) = dialog(state)
    else {
        return Vec::new();
    };
    if *submitting {
        return Vec::new();
    }
    *submitting = true;
    let (flow, github_login) = (*flow, github_login.clone());
    request(state, Request::ConfirmLogin { flow, github_login })
}

pub(super) fn on_started(
    state: &mut State,
    attempt: u64,
    result: Result<ConnectStarted, StartError>,
) -> Vec<Request> {
    let can_open = state.can_open_browser;
    let current = match &mut state.modal {
        Some(Modal::Connect(dialog))
            if dialog.attempt == attempt && dialog.phase == ConnectPhase::Starting =>
        {
            dialog
        }
        // Nobody is waiting for this flow any more.
        _ => {
            return match result {
                Ok(started) => cancel(state, Some(started.flow)),
                Err(_) => Vec::new(),
            };
        }
    };
    match result {
        Ok(started) => {
            let flow = started.flow;
            if let ConnectPrompt::Browser { authorize_url } = &started.prompt {
                // The user chose the browser: open it at once where one can show.
                if can_open {
                    current.hint = Some("Opening the browser…".into());
                    state.effects.push(Effect::OpenUrl(authorize_url.clone()));
                } else {
                    current.hint =
                        Some("No display here: open the link on a device with a browser.".into());
                }
            }
            current.phase = ConnectPhase::Waiting {
                flow,
                prompt: started.prompt,
                expires_at: started.expires_at,
            };
            request(state, Request::ConnectStatus { flow })
        }
        Err(StartError::AlreadyConnected(daemon_says)) => {
            let (id, name, method) = (current.team, current.team_name.clone(), current.method);
            let connection = viewed_team(state)
                .filter(|view| view.id == id)
                .and_then(known_connection)
                .flatten();
            state.modal = Some(Modal::ConfirmReplace {
                id,
                name,
                method,
                connection,
                daemon_says: Some(daemon_says),
            });
            Vec::new()
        }
        Err(StartError::Refused(reason)) => {
            current.phase = ConnectPhase::Failed { reason };
            current.hint = None;
            Vec::new()
        }
        Err(StartError::NotConfigured(reason)) => {
            current.phase = ConnectPhase::NotConfigured { reason };
            current.hint = None;
            Vec::new()
        }
    }
}

pub(super) fn on_state(
    state: &mut State,
    flow: FlowId,
    result: Result<ConnectState, String>,
) -> Vec<Request> {
    let Some(dialog) = dialog(state) else {
        return Vec::new();
    };
    // Late answers about a flow this dialog no longer follows (cancelled, replaced).
    if dialog.phase.open_flow() != Some(flow) {
        return Vec::new();
    }
    let next = match result {
        Ok(ConnectState::Waiting) => return request(state, Request::ConnectStatus { flow }),
        Ok(ConnectState::ConfirmLogin { github_login }) => ConnectPhase::ConfirmLogin {
            flow,
            github_login,
            submitting: false,
        },
        Ok(ConnectState::ChooseOrg { orgs }) => ConnectPhase::ChooseOrg {
            flow,
            orgs,
            selected: 0,
            submitting: false,
        },
        Ok(ConnectState::Connected {
            github_login,
            integration,
        }) => {
            let (team, name) = (dialog.team, dialog.team_name.clone());
            state.modal = None;
            state.notice = Some(Notice::Info(connected_headline(
                &name,
                &github_login,
                &integration,
            )));
            return match viewed_team(state) {
                Some(view) if view.id == team => request(state, Request::LoadTeam(team)),
                _ => Vec::new(),
            };
        }
        Ok(ConnectState::Failed { reason }) | Err(reason) => ConnectPhase::Failed { reason },
    };
    dialog.phase = next;
    dialog.hint = None;
    Vec::new()
}

/// `x` on the team view: confirm first (unless the team is known to have no connection).
pub(super) fn disconnect(state: &mut State) -> Vec<Request> {
    let Some(view) = viewed_team(state) else {
        return Vec::new();
    };
    let (id, name) = (view.id, view.name.clone());
    let repos = match &view.status {
        Loadable::Loaded(status) => Some(status.repos.len()),
        _ => None,
    };
    let connection = match known_connection(view) {
        Some(None) => {
            state.notice = Some(Notice::Error(format!(
                "team '{name}' is not connected to GitHub; press c to connect it"
            )));
            return Vec::new();
        }
        Some(Some(connection)) => Some(connection),
        None => None,
    };
    state.modal = Some(Modal::ConfirmDisconnect {
        id,
        name,
        connection,
        repos,
        purge: false,
    });
    Vec::new()
}

pub(super) fn confirm_disconnect(state: &mut State) -> Vec<Request> {
    let Some(Modal::ConfirmDisconnect {
        id, name, purge, ..
    }) = state.modal.take()
    else {
        return Vec::new();
    };
    request(state, Request::DisconnectGithub { id, name, purge })
}

pub(super) fn on_disconnected(
    state: &mut State,
    id: u64,
    name: String,
    result: Result<tidemark_protocol::DisconnectReport, String>,
) -> Vec<Request> {
    match result {
        Ok(report) => {
            state.notice = Some(Notice::Info(disconnect_summary(&name, &report)));
            match viewed_team(state) {
                Some(view) if view.id == id => request(state, Request::LoadTeam(id)),
                _ => Vec::new(),
            }
        }
        Err(err) => {
            state.notice = Some(Notice::Error(format!(
                "cannot disconnect '{name}' from GitHub: {err}"
            )));
            Vec::new()
        }
    }
}
