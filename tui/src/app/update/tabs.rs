//! Keys on the team screen's tabs: switching tabs, moving in the lists, the pull request
//! filter and sort, the period, and the actions that ask first (untrack, rotate).

use super::derive::rebuild_pr_rows;
use super::request;
use super::team::{load_data, view_mut};
use crate::app::action::Action;
use crate::app::event::{Effect, Request};
use crate::app::state::{Loadable, Modal, Notice, PrDetail, Screen, State};
use crate::app::team_state::{PrColumn, Tab, TeamView, in_rows};

fn view(state: &mut State) -> Option<&mut TeamView> {
    match &mut state.screen {
        Screen::Team(view) => Some(view),
        Screen::Teams => None,
    }
}

/// A move key on the team screen moves in the list of the tab on screen.
pub(super) fn move_in_tab(view: &mut TeamView, action: Action) {
    match view.tab {
        Tab::Overview | Tab::Metrics => {}
        Tab::Repos => {
            if let Loadable::Loaded(status) = &view.status {
                view.selected_repo.step(action, status.repos.iter());
            }
        }
        Tab::Pulls => {
            let rows = in_rows(&view.pulls, &view.pr_list.rows);
            view.pr_list.selected.step(action, rows);
        }
        Tab::People => view.selected_person.step(action, view.people_rows.iter()),
    }
}

pub(super) fn go_tab(state: &mut State, tab: Tab) {
    if let Some(view) = view(state) {
        view.tab = tab;
    }
}

pub(super) fn next_tab(state: &mut State, forward: bool) {
    if let Some(view) = view(state) {
        view.tab = if forward {
            view.tab.next()
        } else {
            view.tab.prev()
        };
    }
}

/// `enter` on the pull request table: the details, and ask for the timeline.
pub(super) fn open_pull(state: &mut State) -> Vec<Request> {
    let Some(view) = view(state) else {
        return Vec::new();
    };
    let Some(pr) = view.selected_pull().cloned() else {
        return Vec::new();
    };
    let team = view.id;
    let req = Request::Timeline {
        team,
        repo: pr.repo.clone(),
        number: pr.number,
    };
    state.modal = Some(Modal::PullRequest(PrDetail {
        pr: Box::new(pr),
        timeline: Loadable::Loading,
        scroll: 0,
    }));
    request(state, req)
}

/// The pull request's page on GitHub (`web` is the host the daemon talks to).
pub fn pull_url(web: &str, repo: &str, number: u64) -> String {
    format!("{}/{repo}/pull/{number}", web.trim_end_matches('/'))
}

/// `o`: open the pull request (the one in the details, else the selected row) in a browser.
pub(super) fn open_pull_in_browser(state: &mut State) {
    let pr = match &state.modal {
        Some(Modal::PullRequest(detail)) => Some((detail.pr.repo.clone(), detail.pr.number)),
        _ => match &state.screen {
            Screen::Team(view) => view.selected_pull().map(|p| (p.repo.clone(), p.number)),
            Screen::Teams => None,
        },
    };
    let Some((repo, number)) = pr else {
        return;
    };
    let web = match &state.screen {
        Screen::Team(view) => view.loaded_status().and_then(|s| {
            s.integrations
                .iter()
                .find_map(|i| Some(i.github.as_ref()?.web_url.clone()))
        }),
        Screen::Teams => None,
    };
    let url = pull_url(
        web.as_deref().unwrap_or("https://github.com"),
        &repo,
        number,
    );
    if state.can_open_browser {
        state.notice = Some(Notice::Info(format!("Opening {url}")));
        state.effects.push(Effect::OpenUrl(url));
    } else {
        state.notice = Some(Notice::Info(format!("No display here; the link: {url}")));
    }
}

pub(super) fn start_filter(state: &mut State) {
    if let Some(view) = view(state)
        && view.tab == Tab::Pulls
    {
        view.pr_list.filtering = true;
    }
}

/// Enter (keep) or esc (clear) while typing the filter; esc on a kept filter clears it.
/// Returns whether it acted.
pub(super) fn end_filter(state: &mut State, keep: bool) -> bool {
    let Some(view) = view(state) else {
        return false;
    };
    if view.tab != Tab::Pulls {
        return false;
    }
    let list = &mut view.pr_list;
    if !list.filtering && (keep || list.filter.value().is_empty()) {
        return false;
    }
    list.filtering = false;
    if !keep {
        list.filter = Default::default();
        rebuild_pr_rows(view);
    }
    true
}

pub(super) fn edit_filter(state: &mut State, edit: crate::widgets::text_input::Edit) {
    if let Some(view) = view(state)
        && view.pr_list.filtering
    {
        view.pr_list.filter.apply(edit);
        rebuild_pr_rows(view);
    }
}

pub(super) fn sort(state: &mut State, next_column: bool) {
    let columns = state.config.columns.clone();
    let Some(view) = view(state) else {
        return;
    };
    if next_column {
        // The shown columns in order, then creation time (the default order).
        let mut order: Vec<PrColumn> = columns;
        order.push(PrColumn::Created);
        let at = order.iter().position(|c| *c == view.pr_list.sort);
        view.pr_list.sort = order[at.map_or(0, |i| (i + 1) % order.len())];
    } else {
        view.pr_list.descending = !view.pr_list.descending;
    }
    rebuild_pr_rows(view);
}

pub(super) fn change_period(state: &mut State, longer: bool) -> Vec<Request> {
    let Some(view) = view(state) else {
        return Vec::new();
    };
    view.period = if longer {
        view.period.next()
    } else {
        view.period.prev()
    };
    view.metrics = Loadable::Loading;
    view.people = Loadable::Loading;
    load_data(state)
}

pub(super) fn sync_now(state: &mut State) -> Vec<Request> {
    let Some(view) = view(state) else {
        return Vec::new();
    };
    let team = view.id;
    if !view.is_connected() {
        state.notice = Some(Notice::Error(
            "not connected to GitHub: press c to connect first".into(),
        ));
        return Vec::new();
    }
    request(state, Request::SyncNow(team))
}

pub(super) fn ask_untrack(state: &mut State) {
    let Some(view) = view(state) else {
        return;
    };
    let team = view.id;
    let Some(repo) = view.selected_repo().map(|r| r.full_name.clone()) else {
        return;
    };
    state.modal = Some(Modal::ConfirmUntrack { team, repo });
}

pub(super) fn ask_rotate(state: &mut State) {
    let Some(view) = view(state) else {
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

pub(super) fn confirm_untrack(state: &mut State) -> Vec<Request> {
    let Some(Modal::ConfirmUntrack { team, repo }) = state.modal.take() else {
        return Vec::new();
    };
    if view_mut(state, team).is_none() {
        return Vec::new();
    }
    request(state, Request::Untrack { team, name: repo })
}

pub(super) fn confirm_rotate(state: &mut State) -> Vec<Request> {
    let Some(Modal::ConfirmRotate { team, .. }) = state.modal.take() else {
        return Vec::new();
    };
    state.notice = Some(Notice::Info("Rotating the webhook secret…".into()));
    request(state, Request::RotateSecret(team))
}
