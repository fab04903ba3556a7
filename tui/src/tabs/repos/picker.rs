//! The repository picker (`a` on Repos): the organization's repositories not tracked yet, to
//! filter, tick and track.

use std::collections::BTreeSet;

use tidemark_protocol::{AvailableRepo, TeamId};

use crate::app::action::Action;
use crate::app::event::{Reply, Request};
use crate::app::selection::Selection;
use crate::app::state::{Loadable, Modal, Notice, Screen, State};
use crate::app::update::request;
use crate::app::update::team::reload_status;
use crate::widgets::text_input::{Edit, TextInput};

/// The "track repositories" picker: the org's repositories not tracked yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddRepos {
    pub team: TeamId,
    pub repos: Loadable<Vec<AvailableRepo>>,
    pub filter: TextInput,
    pub filtering: bool,
    /// In the filtered list, by repository id.
    pub selected: Selection<u64>,
    /// Names ticked with space; enter tracks these (or the selected one when none are).
    pub chosen: BTreeSet<String>,
    pub submitting: bool,
}

impl AddRepos {
    /// The repository under the cursor.
    pub fn selected_repo(&self) -> Option<&AvailableRepo> {
        self.visible().get(self.selected.row()).copied()
    }

    /// The list changed (arrived, filtered): the selection follows its repository.
    pub fn follow(&mut self) {
        let visible = self.visible();
        let mut selected = self.selected.clone();
        selected.follow(visible.into_iter());
        self.selected = selected;
    }

    /// The untracked repositories matching the filter, in the daemon's order.
    pub fn visible(&self) -> Vec<&AvailableRepo> {
        let needle = self.filter.value().trim().to_lowercase();
        match &self.repos {
            Loadable::Loaded(repos) => repos
                .iter()
                .filter(|r| !r.tracked && r.full_name.to_lowercase().contains(&needle))
                .collect(),
            _ => Vec::new(),
        }
    }
}

pub(crate) fn open_add_repos(state: &mut State) -> Vec<Request> {
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

/// A move key in the picker: its selection.
pub(crate) fn move_in_modal(state: &mut State, action: Action) -> bool {
    let Some(picker) = picker(state) else {
        return false;
    };
    let visible = picker.visible();
    let mut selected = picker.selected.clone();
    selected.step(action, visible.into_iter());
    picker.selected = selected;
    true
}

pub(crate) fn start_filter(state: &mut State) {
    if let Some(picker) = picker(state) {
        picker.filtering = true;
    }
}

pub(crate) fn edit(state: &mut State, edit: Edit) -> bool {
    let Some(picker) = picker(state) else {
        return false;
    };
    if picker.filtering {
        picker.filter.apply(edit);
        picker.follow();
    }
    true
}

pub(crate) fn toggle(state: &mut State) {
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
pub(crate) fn cancel(state: &mut State) {
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
pub(crate) fn submit(state: &mut State) -> Vec<Request> {
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

pub(crate) fn on_reply(state: &mut State, reply: Reply) -> Vec<Request> {
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
        other => unreachable!("not a repos reply: {other:?}"),
    }
}
