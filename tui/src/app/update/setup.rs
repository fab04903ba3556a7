//! The guided GitHub setup: what to register on GitHub, the client id, the optional secret,
//! saving them to the daemon's config (`github_app_set`, applied at once), then on to a team.
//!
//! The inputs stay in the dialog through every step and every refusal; the secret lives only in
//! a [`crate::widgets::secret_input::SecretInput`] and the one request that carries it.

use tidemark_protocol::{ConnectMethod, DaemonInfo, GitHubAppRequest, TeamId};

use super::{github, request, team};
use crate::app::daemon_state::{check_client_id, check_secret};
use crate::app::event::{Effect, OperateError, Request};
use crate::app::state::{
    CreateForm, Loadable, Modal, Notice, Screen, SetupDialog, SetupStep, State,
};
use crate::widgets::text_input::Edit;

/// The daemon's key for the client id (also shown, unmasked, in its settings).
const CLIENT_ID_KEY: &str = "github_client_id";

/// What an operator must run when this user may not configure the daemon.
pub const OPERATOR_COMMAND: &str = "sudo tidemark setup github";

fn dialog(state: &mut State) -> Option<&mut SetupDialog> {
    match &mut state.modal {
        Some(Modal::Setup(dialog)) => Some(dialog),
        _ => None,
    }
}

fn info(state: &State) -> Option<&DaemonInfo> {
    match &state.daemon_info {
        Loadable::Loaded(info) => Some(info),
        _ => None,
    }
}

/// `g`: open the setup on its first step, with fresh values from the daemon. `team`: the team
/// whose connect attempt found GitHub not set up.
pub(super) fn open(state: &mut State, team: Option<(TeamId, String)>) -> Vec<Request> {
    if !state.is_connected() {
        state.notice = Some(Notice::Error(
            "not connected to the daemon: GitHub is set up in the daemon's config, so it has \
             to be running"
                .into(),
        ));
        return Vec::new();
    }
    // A client id already set is offered again: changing only the secret needs no re-paste.
    let known_id = info(state)
        .and_then(|info| info.setting(CLIENT_ID_KEY))
        .and_then(|s| s.value.clone());
    state.modal = Some(Modal::Setup(SetupDialog::new(known_id.as_deref(), team)));
    request(state, Request::DaemonInfo)
}

/// Esc: one step back; from the first or the last step, close.
pub(super) fn back(state: &mut State) {
    let Some(dialog) = dialog(state) else {
        return;
    };
    dialog.error = None;
    dialog.hint = None;
    dialog.step = match dialog.step {
        SetupStep::ClientId => SetupStep::Register,
        SetupStep::Secret => SetupStep::ClientId,
        // Closing while saving: the reply still comes, and says how it went in the status line.
        SetupStep::Register | SetupStep::Saving | SetupStep::Saved(_) => {
            state.modal = None;
            return;
        }
    };
}

/// Enter: check this step and go on; on the secret step, save.
pub(super) fn submit(state: &mut State) -> Vec<Request> {
    let may_operate = info(state).map(|info| info.caller_may_operate);
    let Some(dialog) = dialog(state) else {
        return Vec::new();
    };
    dialog.hint = None;
    match &dialog.step {
        SetupStep::Register => match may_operate {
            Some(true) => {
                dialog.error = None;
                dialog.step = SetupStep::ClientId;
            }
            // Step 1 says so already (and offers no enter): stay.
            Some(false) => {}
            // Still asking the daemon for the values; enter waits for them.
            None => {}
        },
        SetupStep::ClientId => match check_client_id(dialog.client_id.value()) {
            Ok(_) => {
                dialog.error = None;
                dialog.step = SetupStep::Secret;
            }
            Err(reason) => dialog.error = Some(reason),
        },
        SetupStep::Secret => {
            let client_id = match check_client_id(dialog.client_id.value()) {
                Ok(id) => id,
                Err(reason) => {
                    dialog.step = SetupStep::ClientId;
                    dialog.error = Some(reason);
                    return Vec::new();
                }
            };
            let client_secret = match check_secret(dialog.secret.reveal()) {
                Ok(secret) => secret,
                Err(reason) => {
                    dialog.error = Some(reason);
                    return Vec::new();
                }
            };
            dialog.error = None;
            dialog.step = SetupStep::Saving;
            // No secret typed keeps the one set (if any): the device flow needs none.
            let req = GitHubAppRequest {
                client_id,
                client_secret,
                clear_secret: false,
            };
            return request(state, Request::GithubAppSet(req));
        }
        SetupStep::Saving | SetupStep::Saved(_) => {}
    }
    Vec::new()
}

pub(super) fn edit(state: &mut State, edit: Edit) -> bool {
    let Some(dialog) = dialog(state) else {
        return false;
    };
    match dialog.step {
        SetupStep::ClientId => dialog.client_id.apply(edit),
        SetupStep::Secret => dialog.secret.apply(edit),
        _ => return true,
    }
    dialog.error = None;
    true
}

/// `y` copies the registration page's link, `c` the callback URL.
pub(super) fn copy(state: &mut State, callback: bool) {
    let Some(github) = info(state).map(|info| info.github.clone()) else {
        return;
    };
    let (text, what) = if callback {
        (github.callback_url, "the callback URL")
    } else {
        (github.register_url, "the registration link")
    };
    state.effects.push(Effect::Copy(text));
    if let Some(dialog) = dialog(state) {
        // OSC 52 gives no answer: the terminal may have ignored it.
        dialog.hint = Some(format!(
            "Copied {what} to the clipboard (if your terminal allows OSC 52)."
        ));
    }
}

/// `o`: the registration page in a browser, where one can show.
pub(super) fn open_browser(state: &mut State) {
    let can_open = state.can_open_browser;
    let Some(url) = info(state).map(|info| info.github.register_url.clone()) else {
        return;
    };
    let hint = if can_open {
        state.effects.push(Effect::OpenUrl(url));
        "Opening the browser…"
    } else {
        "No display here: open the link on a device with a browser."
    };
    if let Some(dialog) = dialog(state) {
        dialog.hint = Some(hint.into());
    }
}

/// `r` on the first step when the daemon's values did not come: ask again.
pub(super) fn refresh(state: &mut State) -> Vec<Request> {
    if matches!(state.daemon_info, Loadable::Loaded(_)) {
        return Vec::new();
    }
    request(state, Request::DaemonInfo)
}

pub(super) fn on_saved(
    state: &mut State,
    result: Result<Box<tidemark_protocol::GitHubAppReport>, OperateError>,
) -> Vec<Request> {
    match result {
        Ok(report) => {
            // The first screen switches at once; the full info follows.
            if let Loadable::Loaded(info) = &mut state.daemon_info {
                info.github = report.github.clone();
            }
            match dialog(state) {
                Some(dialog) => {
                    dialog.error = None;
                    // Saved: the secret has no business staying in memory any longer.
                    dialog.secret = Default::default();
                    dialog.step = SetupStep::Saved(report);
                }
                None => {
                    state.notice = Some(Notice::Info(format!(
                        "GitHub is set up: saved to {}.",
                        report.config_file
                    )));
                }
            }
            request(state, Request::DaemonInfo)
        }
        Err(err) => {
            let reason = match err {
                // The daemon's words say who may; add what to run.
                OperateError::Denied(says) => {
                    format!("{says}. An operator must run:\n  {OPERATOR_COMMAND}")
                }
                OperateError::Failed(reason) => reason,
            };
            match dialog(state) {
                // Back to the last input, everything typed still there.
                Some(dialog) => {
                    dialog.step = SetupStep::Secret;
                    dialog.error = Some(format!("not saved: {reason}"));
                }
                None => {
                    state.notice = Some(Notice::Error(format!("GitHub was not set up: {reason}")));
                }
            }
            Vec::new()
        }
    }
}

/// `n` on the last step: the create-team dialog, which then opens the team and connects it.
pub(super) fn create_team(state: &mut State) {
    state.modal = Some(Modal::Create(CreateForm {
        connect_after: true,
        ..CreateForm::default()
    }));
}

/// The team the last step offers to connect: the one whose connect attempt led here, else the
/// one on screen, else the one selected in the list.
pub fn team_to_connect(state: &State) -> Option<(TeamId, String)> {
    if let Some(Modal::Setup(SetupDialog {
        team: Some(team), ..
    })) = &state.modal
    {
        return Some(team.clone());
    }
    match &state.screen {
        Screen::Team(view) => Some((view.id, view.name.clone())),
        Screen::Teams => state.selected_team().map(|t| (t.id, t.name.clone())),
    }
}

/// `c` on the last step: connect that team (the connect dialog takes over).
pub(super) fn connect(state: &mut State) -> Vec<Request> {
    if !matches!(
        state.modal,
        Some(Modal::Setup(SetupDialog {
            step: SetupStep::Saved(_),
            ..
        }))
    ) {
        return Vec::new();
    }
    let Some((id, name)) = team_to_connect(state) else {
        return Vec::new();
    };
    state.modal = None;
    let mut reqs = Vec::new();
    if !matches!(&state.screen, Screen::Team(view) if view.id == id) {
        reqs = team::open(state, id, name.clone());
    }
    reqs.extend(github::start(state, id, name, ConnectMethod::Device, false));
    reqs
}
