//! Invitations into teams (`i` on the teams screen): the caller's invitations, listed with
//! the teams and answered from a dialog (`a` accept, `x` decline). Accepting adds the team to
//! the list and selects it.

use tidemark_protocol::{Invitation, TeamId, TeamInfo};

use super::request;
use crate::app::action::Action;
use crate::app::event::Request;
use crate::app::state::{InvitationsDialog, Loadable, Modal, Notice, State};

/// Open the dialog, with the list as last loaded, and load it again.
pub(super) fn open(state: &mut State) -> Vec<Request> {
    let mut dialog = InvitationsDialog::default();
    dialog.selected.select(0, state.invitations().iter());
    state.modal = Some(Modal::Invitations(dialog));
    request(state, Request::ListInvitations)
}

fn dialog(state: &mut State) -> Option<&mut InvitationsDialog> {
    match &mut state.modal {
        Some(Modal::Invitations(dialog)) => Some(dialog),
        _ => None,
    }
}

/// A move key in the dialog.
pub(super) fn move_in(state: &mut State, action: Action) -> bool {
    let Some(Modal::Invitations(dialog)) = &mut state.modal else {
        return false;
    };
    if let Loadable::Loaded(all) = &state.invitations {
        dialog.selected.step(action, all.iter());
    }
    true
}

/// Accept or decline the invitation under the cursor (one answer at a time).
pub(super) fn answer(state: &mut State, accept: bool) -> Vec<Request> {
    let Some(Modal::Invitations(open)) = &state.modal else {
        return Vec::new();
    };
    if open.answering.is_some() {
        return Vec::new();
    }
    let Some(invitation) = state.invitations().get(open.selected.row()) else {
        return Vec::new();
    };
    let (team, name) = (invitation.team_id, invitation.team_name.clone());
    let reqs = request(state, Request::AnswerInvitation { team, name, accept });
    if !reqs.is_empty()
        && let Some(dialog) = dialog(state)
    {
        dialog.answering = Some(team);
    }
    reqs
}

pub(super) fn on_list(state: &mut State, result: Result<Vec<Invitation>, String>) {
    match result {
        Ok(all) => {
            state.invitations = Loadable::Loaded(all);
            follow(state);
        }
        Err(err) => {
            // A list already shown stays; the notice says why it is not fresh.
            if !matches!(state.invitations, Loadable::Loaded(_)) {
                state.invitations = Loadable::Failed(err.clone());
            }
            if matches!(state.modal, Some(Modal::Invitations(_))) {
                state.notice = Some(Notice::Error(format!("cannot list invitations: {err}")));
            }
        }
    }
}

/// The list changed: the dialog's cursor follows its invitation.
fn follow(state: &mut State) {
    let Some(Modal::Invitations(dialog)) = &mut state.modal else {
        return;
    };
    if let Loadable::Loaded(all) = &state.invitations {
        dialog.selected.follow(all.iter());
    }
}

pub(super) fn on_answered(
    state: &mut State,
    team: TeamId,
    name: String,
    result: Result<Option<TeamInfo>, String>,
) -> Vec<Request> {
    if let Some(dialog) = dialog(state)
        && dialog.answering == Some(team)
    {
        dialog.answering = None;
    }
    let joined = match result {
        Ok(joined) => joined,
        Err(err) => {
            state.notice = Some(Notice::Error(format!(
                "cannot answer the invitation to '{name}': {err}"
            )));
            return request(state, Request::ListInvitations);
        }
    };
    if let Loadable::Loaded(all) = &mut state.invitations {
        all.retain(|i| i.team_id != team);
    }
    follow(state);
    if state.invitations().is_empty() && matches!(state.modal, Some(Modal::Invitations(_))) {
        state.modal = None;
    }
    let mut reqs = Vec::new();
    match joined {
        Some(info) => {
            state.notice = Some(Notice::Info(format!(
                "Joined team '{}' (#{}) as {}.",
                info.name,
                info.id,
                crate::output::describe_role(info.role)
            )));
            // Show it at once, selected; the reload brings the daemon's order.
            if let Loadable::Loaded(teams) = &mut state.teams {
                teams.retain(|t| t.id != info.id);
                teams.push(info);
                teams.sort_by_key(|t| t.name.to_lowercase());
                state.selected.select_key(&team, teams.iter());
            }
            reqs.extend(request(state, Request::ListTeams));
        }
        None => {
            state.notice = Some(Notice::Info(format!(
                "Declined the invitation to '{name}'."
            )));
        }
    }
    reqs.extend(request(state, Request::ListInvitations));
    reqs
}
