//! The team screen's pop-ups that carry data: the repository picker (`a` on Repos) and a pull
//! request's details (`enter` on Pull requests).

use super::request;
use super::team::reload_status;
use crate::app::action::Action;
use crate::app::event::{Reply, Request};
use crate::app::selection::step;
use crate::app::state::{AddRepos, Loadable, Modal, Notice, Screen, State};
use crate::widgets::text_input::Edit;

pub(super) fn open_add_repos(state: &mut State) -> Vec<Request> {
    let Screen::Team(view) = &state.screen else {
        return Vec::new();
    };
    let team = view.id;
    if !view.is_connected() {
        state.notice = Some(Notice::Error(
            "not connected to GitHub: press c to connect first".into(),
        ));
        return Vec::new();
    }
    state.modal = Some(Modal::AddRepos(AddRepos {
        team,
        repos: Loadable::Loading,
        filter: Default::default(),
        filtering: false,
        selected: Default::default(),
        chosen: Default::default(),
        submitting: false,
    }));
    request(state, Request::ReposAvailable(team))
}

fn picker(state: &mut State) -> Option<&mut AddRepos> {
    match &mut state.modal {
        Some(Modal::AddRepos(picker)) => Some(picker),
        _ => None,
    }
}

/// A move key in a pop-up: the picker's selection, or the details' scroll.
pub(super) fn move_in_modal(state: &mut State, action: Action) -> bool {
    match &mut state.modal {
        Some(Modal::AddRepos(picker)) => {
            let visible = picker.visible();
            let mut selected = picker.selected.clone();
            selected.step(action, visible.into_iter());
            picker.selected = selected;
            true
        }
        Some(Modal::PullRequest(detail)) => {
            let len = match &detail.timeline {
                Loadable::Loaded(t) => t.events.len(),
                _ => 0,
            };
            detail.scroll = step(detail.scroll, len, action);
            true
        }
        _ => false,
    }
}

pub(super) fn start_filter(state: &mut State) {
    if let Some(picker) = picker(state) {
        picker.filtering = true;
    }
}

pub(super) fn edit(state: &mut State, edit: Edit) -> bool {
    let Some(picker) = picker(state) else {
        return false;
    };
    if picker.filtering {
        picker.filter.apply(edit);
        picker.follow();
    }
    true
}

pub(super) fn toggle(state: &mut State) {
    if let Some(picker) = picker(state) {
        let Some(name) = picker.selected_repo().map(|r| r.full_name.clone()) else {
            return;
        };
        if !picker.chosen.remove(&name) {
            picker.chosen.insert(name);
        }
    }
}

/// Esc in the picker: leave the filter (clearing it), or close.
pub(super) fn cancel(state: &mut State) {
    if let Some(picker) = picker(state)
        && picker.filtering
    {
        picker.filtering = false;
        picker.filter = Default::default();
        picker.follow();
        return;
    }
    state.modal = None;
}

/// Enter in the picker: leave the filter, or track the ticked repositories (else the selected).
pub(super) fn submit(state: &mut State) -> Vec<Request> {
    let Some(picker) = picker(state) else {
        return Vec::new();
    };
    if picker.filtering {
        picker.filtering = false;
        return Vec::new();
    }
    if picker.submitting {
        return Vec::new();
    }
    let names: Vec<String> = if picker.chosen.is_empty() {
        picker
            .selected_repo()
            .map(|r| vec![r.full_name.clone()])
            .unwrap_or_default()
    } else {
        picker.chosen.iter().cloned().collect()
    };
    if names.is_empty() {
        return Vec::new();
    }
    picker.submitting = true;
    let team = picker.team;
    request(state, Request::Track { team, names })
}

pub(super) fn on_reply(state: &mut State, reply: Reply) -> Vec<Request> {
    match reply {
        Reply::Available { team, result } => {
            if let Some(picker) = picker(state)
                && picker.team == team
            {
                picker.repos = match result {
                    Ok(repos) => Loadable::Loaded(repos),
                    Err(err) => Loadable::Failed(err),
                };
                picker.follow();
            }
            Vec::new()
        }
        Reply::Tracked { team, result } => match result {
            Ok(repos) => {
                if matches!(&state.modal, Some(Modal::AddRepos(p)) if p.team == team) {
                    state.modal = None;
                }
                let names: Vec<&str> = repos.iter().map(|r| r.full_name.as_str()).collect();
                state.notice = Some(Notice::Info(format!(
                    "Tracking {}; a sync starts now.",
                    names.join(", ")
                )));
                reload_status(state, team)
            }
            Err(err) => {
                if let Some(picker) = picker(state) {
                    picker.submitting = false;
                }
                state.notice = Some(Notice::Error(format!("cannot track: {err}")));
                Vec::new()
            }
        },
        Reply::Timeline {
            repo,
            number,
            result,
            ..
        } => {
            if let Some(Modal::PullRequest(detail)) = &mut state.modal
                && detail.pr.repo == repo
                && detail.pr.number == number
            {
                detail.timeline = match result {
                    Ok(timeline) => Loadable::Loaded(timeline),
                    Err(err) => Loadable::Failed(err),
                };
            }
            Vec::new()
        }
        other => {
            tracing::warn!(?other, "reply with no handler");
            Vec::new()
        }
    }
}
