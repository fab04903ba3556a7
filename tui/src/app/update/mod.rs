//! The only code that changes [`State`]: an event (a key, a reply, a link change) updates it and
//! may ask for RPCs, returned as [`Request`]s for the runtime to hand to the daemon link. No I/O
//! here, so every transition is a plain unit test. Local side effects (a browser, the clipboard)
//! are queued in `State::effects` for the runtime. Connecting and disconnecting GitHub is in
//! `github`, setting GitHub up in `setup`, the daemon panel in `daemon`.

mod daemon;
mod github;
mod invitations;
mod setup;
pub(crate) mod team;

pub use setup::{OPERATOR_COMMAND, team_to_connect};

pub use crate::tabs::pulls::pull_url;
pub use team::IDLE_WATCH_MS;

use tidemark_protocol::{TeamInfo, validate_team_name};

use super::action::{Action, action_for_key};
use super::event::{Event, LinkEvent, Reply, Request};
use super::state::{CreateForm, Link, Loadable, Modal, Notice, Screen, State};
use crate::tabs::{self, Tab, alerts, delivery, metrics, overview, pulls, repos};

/// Handle one event; returns the RPCs to start.
pub fn handle_event(state: &mut State, event: Event) -> Vec<Request> {
    match event {
        Event::Key(key) => match action_for_key(state, key) {
            Some(action) => apply(state, action),
            None => Vec::new(),
        },
        Event::Resize => Vec::new(),
        Event::Scroll(down) => {
            if state.modal.is_some()
                && !matches!(
                    state.modal,
                    Some(
                        Modal::AddRepos(_)
                            | Modal::PullRequest(_)
                            | Modal::Daemon(_)
                            | Modal::Invitations(_)
                    )
                )
            {
                return Vec::new();
            }
            apply(state, if down { Action::Down } else { Action::Up })
        }
        Event::Tick => {
            if state.is_busy() {
                state.spinner_tick = state.spinner_tick.wrapping_add(1);
            }
            Vec::new()
        }
        Event::Clock(now) => {
            state.now = now;
            Vec::new()
        }
        Event::EffectFailed(reason) => {
            github::effect_failed(state, reason);
            Vec::new()
        }
        Event::Link(link) => on_link(state, link),
        Event::Reply(reply) => on_reply(state, reply),
    }
}

/// Ask for an RPC, or explain why not: requests made while disconnected would only fail.
pub(crate) fn request(state: &mut State, req: Request) -> Vec<Request> {
    if !state.is_connected() {
        state.notice = Some(Notice::Error(
            "not connected to the daemon; still trying to reconnect".into(),
        ));
        return Vec::new();
    }
    state.in_flight += 1;
    vec![req]
}

/// What the current screen needs from the daemon. The daemon's own info travels with every
/// reload: the first screen and the setup read it, and it may change behind our back (`tidemark
/// setup github` in another terminal).
fn reload(state: &mut State) -> Vec<Request> {
    let mut reqs = request(state, Request::ListTeams);
    reqs.extend(request(state, Request::ListInvitations));
    reqs.extend(request(state, Request::DaemonInfo));
    if let Screen::Team(view) = &state.screen {
        let id = view.id;
        reqs.extend(request(state, Request::LoadTeam(id)));
        reqs.extend(team::load_data(state));
        reqs.extend(team::watch(state, 0));
    }
    reqs
}

/// Apply an action (already decided from a key).
pub fn apply(state: &mut State, action: Action) -> Vec<Request> {
    // A fresh keystroke supersedes the last message; actions may set a new one below.
    if !matches!(action, Action::Edit(_)) {
        state.notice = None;
    }
    match action {
        Action::Quit => {
            // Best effort: the runtime gives the link a moment to send it before exiting.
            let reqs = github::cancel_open_flow(state);
            state.quit = true;
            reqs
        }
        Action::Help => {
            state.modal = Some(Modal::Help);
            Vec::new()
        }
        Action::Cancel => match state.modal {
            Some(Modal::Connect(_)) => github::close_dialog(state),
            Some(Modal::Setup(_)) => {
                setup::back(state);
                Vec::new()
            }
            Some(Modal::AddRepos(_)) => {
                repos::picker::cancel(state);
                Vec::new()
            }
            None => {
                if !delivery::end_edit(state, false) && !alerts::end_edit(state, false) {
                    pulls::end_filter(state, false);
                }
                Vec::new()
            }
            _ => {
                state.modal = None;
                Vec::new()
            }
        },
        Action::Up
        | Action::Down
        | Action::Top
        | Action::Bottom
        | Action::PageUp
        | Action::PageDown => {
            if matches!(state.modal, Some(Modal::Connect(_))) {
                if matches!(action, Action::Up | Action::Down) {
                    github::move_org(state, action == Action::Down);
                }
            } else if !daemon::scroll(state, action)
                && !repos::picker::move_in_modal(state, action)
                && !pulls::move_in_detail(state, action)
                && !invitations::move_in(state, action)
            {
                move_selection(state, action);
            }
            Vec::new()
        }
        Action::Open => match &state.screen {
            Screen::Teams => open_selected(state),
            Screen::Team(view) if view.tab == Tab::Delivery => delivery::open(state),
            Screen::Team(view) if view.tab == Tab::Alerts => alerts::open(state),
            Screen::Team(_) => pulls::open_pull(state),
        },
        Action::Back => {
            if !delivery::back(state) && !alerts::back(state) && !pulls::end_filter(state, false) {
                state.screen = Screen::Teams;
            }
            Vec::new()
        }
        Action::NextTab | Action::PrevTab => {
            team::next_tab(state, action == Action::NextTab);
            Vec::new()
        }
        Action::GoTab(tab) => {
            team::go_tab(state, tab);
            Vec::new()
        }
        Action::Filter => {
            if matches!(state.modal, Some(Modal::AddRepos(_))) {
                repos::picker::start_filter(state);
            } else {
                pulls::start_filter(state);
            }
            Vec::new()
        }
        Action::SortNext | Action::SortReverse => {
            pulls::sort(state, action == Action::SortNext);
            Vec::new()
        }
        Action::PeriodNext | Action::PeriodPrev => {
            metrics::change_period(state, action == Action::PeriodNext)
        }
        Action::SyncNow => team::sync_now(state),
        Action::AddRepo => repos::picker::open_add_repos(state),
        Action::Untrack => {
            repos::ask_untrack(state);
            Vec::new()
        }
        Action::RotateSecret => {
            overview::ask_rotate(state);
            Vec::new()
        }
        Action::Toggle => {
            if matches!(state.modal, Some(Modal::AddRepos(_))) {
                repos::picker::toggle(state);
            } else {
                delivery::toggle(state);
            }
            Vec::new()
        }
        Action::DeliveryRules => delivery::open_rules(state),
        Action::DeliveryPreview => delivery::preview(state),
        Action::DeliverySave => delivery::save(state),
        Action::ToggleResolved => alerts::toggle_resolved(state),
        Action::Agreements => alerts::open_agreements(state),
        Action::SaveAgreements => alerts::save(state),
        Action::Refresh => match state.modal {
            Some(Modal::Setup(_)) => setup::refresh(state),
            _ => reload(state),
        },
        Action::NewTeam => {
            if matches!(state.modal, Some(Modal::Setup(_))) {
                setup::create_team(state);
            } else {
                state.modal = Some(Modal::Create(CreateForm::default()));
            }
            Vec::new()
        }
        Action::DeleteTeam => {
            let target = match &state.screen {
                Screen::Team(view) => Some((view.id, view.name.clone())),
                Screen::Teams => state.selected_team().map(|t| (t.id, t.name.clone())),
            };
            if let Some((id, name)) = target {
                state.modal = Some(Modal::ConfirmDelete { id, name });
            }
            Vec::new()
        }
        Action::Confirm => match state.modal {
            Some(Modal::ConfirmDelete { .. }) => confirm_delete(state),
            Some(Modal::ConfirmReplace { .. }) => github::confirm_replace(state),
            Some(Modal::ConfirmDisconnect { .. }) => github::confirm_disconnect(state),
            Some(Modal::ConfirmUntrack { .. }) => repos::confirm_untrack(state),
            Some(Modal::ConfirmRotate { .. }) => overview::confirm_rotate(state),
            Some(Modal::Connect(_)) => github::confirm_login(state),
            _ => Vec::new(),
        },
        Action::Submit => match state.modal {
            Some(Modal::Connect(_)) => github::submit_org(state),
            Some(Modal::AddRepos(_)) => repos::picker::submit(state),
            Some(Modal::Setup(_)) => setup::submit(state),
            None => {
                if !delivery::end_edit(state, true) && !alerts::end_edit(state, true) {
                    pulls::end_filter(state, true);
                }
                Vec::new()
            }
            _ => submit_create(state),
        },
        Action::ConnectGithub => match state.modal {
            Some(Modal::Setup(_)) => setup::connect(state),
            _ => github::connect(state),
        },
        Action::DisconnectGithub => github::disconnect(state),
        Action::SwitchMethod => github::switch_method(state),
        Action::Retry => github::retry(state),
        Action::Copy | Action::CopyCallback => {
            if matches!(state.modal, Some(Modal::Setup(_))) {
                setup::copy(state, action == Action::CopyCallback);
            } else {
                github::copy(state);
            }
            Vec::new()
        }
        Action::OpenBrowser => {
            if matches!(state.modal, Some(Modal::Setup(_))) {
                setup::open_browser(state);
            } else if matches!(state.modal, Some(Modal::Connect(_))) {
                github::open_browser(state);
            } else if !alerts::open_in_browser(state) {
                pulls::open_pull_in_browser(state);
            }
            Vec::new()
        }
        Action::TogglePurge => {
            if let Some(Modal::ConfirmDisconnect { purge, .. }) = &mut state.modal {
                *purge = !*purge;
            }
            Vec::new()
        }
        Action::SetupGithub => match &state.modal {
            Some(Modal::Connect(_)) => match github::not_configured_team(state) {
                Some(team) => setup::open(state, Some(team)),
                None => Vec::new(),
            },
            None | Some(Modal::Daemon(_)) => setup::open(state, None),
            _ => Vec::new(),
        },
        Action::Invitations => invitations::open(state),
        Action::AcceptInvitation => invitations::answer(state, true),
        Action::DeclineInvitation => invitations::answer(state, false),
        Action::DaemonPanel => daemon::open_panel(state),
        Action::ReloadDaemon => daemon::reload(state),
        Action::StartDaemon => daemon::start(state),
        Action::Edit(edit) => {
            if let Some(Modal::Create(form)) = &mut state.modal {
                if !form.submitting {
                    form.input.apply(edit);
                    form.error = None;
                }
            } else if !setup::edit(state, edit)
                && !repos::picker::edit(state, edit)
                && !delivery::edit(state, edit)
                && !alerts::edit(state, edit)
            {
                pulls::edit_filter(state, edit);
            }
            Vec::new()
        }
    }
}

fn move_selection(state: &mut State, action: Action) {
    match &mut state.screen {
        Screen::Teams => {
            if let Loadable::Loaded(teams) = &state.teams {
                state.selected.step(action, teams.iter());
            }
        }
        Screen::Team(view) => tabs::move_in(view, action),
    }
}

fn open_selected(state: &mut State) -> Vec<Request> {
    let Some(team) = state.selected_team() else {
        return Vec::new();
    };
    let (id, name) = (team.id, team.name.clone());
    team::open(state, id, name)
}

fn confirm_delete(state: &mut State) -> Vec<Request> {
    let Some(Modal::ConfirmDelete { id, name }) = state.modal.take() else {
        return Vec::new();
    };
    request(state, Request::DeleteTeam { id, name })
}

fn submit_create(state: &mut State) -> Vec<Request> {
    let connected = state.is_connected();
    let Some(Modal::Create(form)) = &mut state.modal else {
        return Vec::new();
    };
    if form.submitting {
        return Vec::new();
    }
    let name = form.input.value().to_string();
    // Same rule the daemon enforces: refuse early, while the text is still in the field.
    if let Err(reason) = validate_team_name(&name) {
        form.error = Some(reason);
        return Vec::new();
    }
    if !connected {
        form.error = Some("not connected to the daemon; try again once it is back".into());
        return Vec::new();
    }
    form.submitting = true;
    request(state, Request::CreateTeam(name))
}

fn on_link(state: &mut State, event: LinkEvent) -> Vec<Request> {
    match event {
        LinkEvent::Starting => {
            state.link = Link::Starting;
            Vec::new()
        }
        LinkEvent::Connected { daemon_version } => {
            state.link = Link::Connected { daemon_version };
            state.notice = None;
            reload(state)
        }
        LinkEvent::StartFailed { reason } => {
            state.link = Link::StartFailed { reason };
            Vec::new()
        }
        LinkEvent::Lost { reason } => {
            state.link = Link::Lost { reason };
            // A form waiting on a reply gets one (an error) from the link; keep the text.
            Vec::new()
        }
    }
}

/// The teams list changed: the selection follows its team (see [`crate::app::selection`]).
fn reselect(state: &mut State) {
    if let Loadable::Loaded(teams) = &state.teams {
        state.selected.follow(teams.iter());
    }
}

/// Open the config file's default team, once, when the list first arrives.
fn open_default_team(state: &mut State) -> Vec<Request> {
    if std::mem::replace(&mut state.opened_default, true) || state.screen != Screen::Teams {
        return Vec::new();
    }
    let Some(name) = state.config.default_team.clone() else {
        return Vec::new();
    };
    match state.teams().iter().find(|t| t.name == name).map(|t| t.id) {
        Some(id) => {
            if let Loadable::Loaded(teams) = &state.teams {
                state.selected.select_key(&id, teams.iter());
            }
            open_selected(state)
        }
        None => {
            state.notice = Some(Notice::Error(format!(
                "default_team '{name}' (config file) is not one of your teams"
            )));
            Vec::new()
        }
    }
}

fn on_reply(state: &mut State, reply: Reply) -> Vec<Request> {
    // Watches are long polls sent without the spinner; every other reply ends a request.
    if !matches!(reply, Reply::Watched { .. }) {
        state.in_flight = state.in_flight.saturating_sub(1);
    }
    match reply {
        Reply::Teams(Ok(teams)) => {
            state.teams = Loadable::Loaded(teams);
            reselect(state);
            open_default_team(state)
        }
        Reply::Teams(Err(err)) => {
            if !matches!(state.teams, Loadable::Loaded(_)) {
                state.teams = Loadable::Failed(err.clone());
            }
            state.notice = Some(Notice::Error(err));
            Vec::new()
        }
        Reply::Team { id, result } => {
            if let Screen::Team(view) = &mut state.screen
                && view.id == id
            {
                match result {
                    Ok(status) => team::set_status(view, *status),
                    Err(err) => view.status = Loadable::Failed(err),
                }
            }
            Vec::new()
        }
        Reply::Created(result) => on_created(state, result),
        Reply::Invitations(result) => {
            invitations::on_list(state, result);
            Vec::new()
        }
        Reply::Answered { team, name, result } => {
            invitations::on_answered(state, team, name, result)
        }
        Reply::DaemonInfo(result) => {
            daemon::on_info(state, result);
            Vec::new()
        }
        Reply::Reloaded(result) => daemon::on_reloaded(state, result),
        Reply::GithubAppSaved(result) => setup::on_saved(state, result),
        Reply::ConnectStarted { attempt, result } => github::on_started(state, attempt, result),
        Reply::ConnectState { flow, result } => github::on_state(state, flow, result),
        // A failed cancel (the flow had ended by itself) is nothing the user must act on; the
        // link logs it.
        Reply::ConnectCancelled { .. } => Vec::new(),
        Reply::Disconnected { id, name, result } => {
            github::on_disconnected(state, id, name, result)
        }
        Reply::Deleted { id, name, result } => match result {
            Ok(()) => {
                if let Loadable::Loaded(teams) = &mut state.teams {
                    teams.retain(|t| t.id != id);
                }
                reselect(state);
                if matches!(&state.screen, Screen::Team(view) if view.id == id) {
                    state.screen = Screen::Teams;
                }
                state.notice = Some(Notice::Info(format!("Deleted team '{name}'.")));
                request(state, Request::ListTeams)
            }
            Err(err) => {
                state.notice = Some(Notice::Error(format!("cannot delete '{name}': {err}")));
                Vec::new()
            }
        },
        other => team::on_reply(state, other),
    }
}

fn on_created(state: &mut State, result: Result<TeamInfo, String>) -> Vec<Request> {
    match result {
        Ok(team) => {
            let connect_after = matches!(
                &state.modal,
                Some(Modal::Create(CreateForm {
                    connect_after: true,
                    ..
                }))
            );
            if matches!(state.modal, Some(Modal::Create(_))) {
                state.modal = None;
            }
            state.notice = Some(Notice::Info(format!("Created team '{}'.", team.name)));
            let (id, name) = (team.id, team.name.clone());
            // Show it at once; the list reload that follows brings the daemon's order.
            if let Loadable::Loaded(teams) = &mut state.teams {
                teams.push(team);
                teams.sort_by(|a, b| a.name.cmp(&b.name));
                state.selected.select_key(&id, teams.iter());
            }
            let mut reqs = request(state, Request::ListTeams);
            // The end of the GitHub setup: straight on to connecting the new team.
            if connect_after {
                reqs.extend(team::open(state, id, name.clone()));
                reqs.extend(github::start(
                    state,
                    id,
                    name,
                    tidemark_protocol::ConnectMethod::Device,
                    false,
                ));
            }
            reqs
        }
        Err(err) => {
            match &mut state.modal {
                Some(Modal::Create(form)) => {
                    form.submitting = false;
                    form.error = Some(err);
                }
                _ => state.notice = Some(Notice::Error(err)),
            }
            Vec::new()
        }
    }
}
