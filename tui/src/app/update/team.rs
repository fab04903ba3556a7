//! The team screen's data: opening it, keeping it live, and the replies that fill its tabs.
//!
//! Live without key presses: one `WatchTeam` request is out per open team screen. The link
//! long-polls the sync's progress (the daemon answers as soon as it moves while a sync runs),
//! then reads the team's status; the reply updates the gauge and, when the status's
//! [`Fingerprint`] moved (pull requests or members counted, a sync finished, a webhook
//! arrived), reloads the tabs' data. Then the next watch goes out: at once while a sync runs,
//! after [`IDLE_WATCH_MS`] otherwise. Watches are numbered, so a reply from before a reconnect
//! cannot start a second chain.

use tidemark_protocol::{SyncProgress, TeamId, TeamStatus};

use super::request;
use crate::app::event::{Reply, Request};
use crate::app::state::{Loadable, Notice, Screen, State};
use crate::tabs::{self, Fingerprint, Tab, TeamView, open_view, view_of};

/// Time between two watches while no sync runs (webhooks land at any time).
pub const IDLE_WATCH_MS: u32 = 3_000;
/// After a failed watch, wait this long before the next.
const RETRY_WATCH_MS: u32 = 3_000;
/// While a sync runs, reload the tabs at most this often (seconds): a big first sync changes
/// the counts on every page.
const RELOAD_PACE_SECS: i64 = 10;

/// Open the team screen and ask for everything it shows.
pub(crate) fn open(state: &mut State, id: TeamId, name: String) -> Vec<Request> {
    let mut view = TeamView::new(id, name);
    view.tab = state.config.default_tab;
    state.screen = Screen::Team(Box::new(view));
    let mut reqs = request(state, Request::LoadTeam(id));
    reqs.extend(load_data(state));
    reqs.extend(watch(state, 0));
    reqs
}

/// The tabs' data for the open team (each tab's loads, over the period).
pub(crate) fn load_data(state: &mut State) -> Vec<Request> {
    let now = state.now;
    let Screen::Team(view) = &mut state.screen else {
        return Vec::new();
    };
    view.reloaded_at = now;
    view.since = view.period.since(now);
    let mut reqs = Vec::new();
    for req in tabs::loads(view) {
        reqs.extend(request(state, req));
    }
    reqs
}

/// Send the next watch unless one is out. Quiet: a long poll is no reason for a spinner.
pub(crate) fn watch(state: &mut State, after_ms: u32) -> Vec<Request> {
    if !state.is_connected() {
        return Vec::new();
    }
    let Screen::Team(view) = &mut state.screen else {
        return Vec::new();
    };
    if view.watching.is_some() {
        return Vec::new();
    }
    view.watch_seq += 1;
    view.watching = Some(view.watch_seq);
    vec![Request::WatchTeam {
        team: view.id,
        seq: view.watch_seq,
        after_ms,
    }]
}

/// A new status for the open team (from a load or a watch).
pub(crate) fn set_status(view: &mut TeamView, status: TeamStatus) {
    view.name = status.team.name.clone();
    view.selected_repo.follow(status.repos.iter());
    if view.loaded_for.is_none() {
        // The data asked for when the screen opened matches this status.
        view.loaded_for = Some(Fingerprint::of(&status));
    }
    view.status = Loadable::Loaded(status);
}

pub(crate) fn on_watched(
    state: &mut State,
    team: TeamId,
    seq: u64,
    result: Result<Box<(SyncProgress, TeamStatus)>, String>,
) -> Vec<Request> {
    let now = state.now;
    let Some(view) = view_of(state, team) else {
        return Vec::new();
    };
    if view.watching != Some(seq) {
        return Vec::new();
    }
    view.watching = None;
    match result {
        Ok(watched) => {
            let (sync, status) = *watched;
            let running = sync.running;
            let print = Fingerprint::of(&status);
            view.sync = Some(sync);
            set_status(view, status);
            let changed = view.loaded_for != Some(print);
            let due = !running || now - view.reloaded_at >= RELOAD_PACE_SECS;
            let mut reqs = Vec::new();
            if changed && due {
                tracing::debug!(team, ?print, "team data changed; reloading");
                view.loaded_for = Some(print);
                reqs = load_data(state);
            }
            reqs.extend(watch(state, if running { 0 } else { IDLE_WATCH_MS }));
            reqs
        }
        Err(err) => {
            tracing::info!(team, error = %err, "watching the team failed");
            watch(state, RETRY_WATCH_MS)
        }
    }
}

pub(crate) fn on_reply(state: &mut State, reply: Reply) -> Vec<Request> {
    match reply {
        Reply::Watched { team, seq, result } => on_watched(state, team, seq, result),
        Reply::SyncStarted { team, result } => match result {
            Ok(progress) => {
                state.notice = Some(Notice::Info("Sync started.".into()));
                if let Some(view) = view_of(state, team) {
                    view.sync = Some(progress);
                }
                Vec::new()
            }
            Err(err) => {
                state.notice = Some(Notice::Error(format!("cannot sync: {err}")));
                Vec::new()
            }
        },
        other => tabs::on_reply(state, other),
    }
}

/// Read the open team's status again (after a change made from here).
pub(crate) fn reload_status(state: &mut State, team: TeamId) -> Vec<Request> {
    if view_of(state, team).is_some() {
        request(state, Request::LoadTeam(team))
    } else {
        Vec::new()
    }
}

pub(crate) fn go_tab(state: &mut State, tab: Tab) {
    if let Some(view) = open_view(state) {
        view.tab = tab;
    }
}

pub(crate) fn next_tab(state: &mut State, forward: bool) {
    if let Some(view) = open_view(state) {
        view.tab = if forward {
            view.tab.next()
        } else {
            view.tab.prev()
        };
    }
}

pub(crate) fn sync_now(state: &mut State) -> Vec<Request> {
    let Some(view) = open_view(state) else {
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
