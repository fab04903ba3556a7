//! The team screen's tabs, one room each: a tab's folder holds its state, its keys, its updates
//! (key actions and replies), its RPCs and its view. This file is the list: [`Tab`] names the
//! tabs in order, [`TeamView`] (the team screen's state) holds each tab's state, and the
//! dispatchers below hand a tab its part (keys, moves, data loads, replies, RPCs, drawing).
//! A new tab is a new folder, and here a `mod` line, its [`Tab`], its state in [`TeamView`] and a
//! line in each dispatcher; `app/event.rs` only if it has RPCs of its own (its `Request` and
//! `Reply` variants), `app/action.rs` only if it needs a new kind of key action.
//!
//! Derived lists (the sorted, filtered pull requests; the people table) are computed when their
//! inputs change, so rendering a frame never sorts 50,000 rows.

pub mod alerts;
pub mod delivery;
pub mod metrics;
pub mod overview;
pub mod people;
pub mod pulls;
pub mod repos;

use ratatui::Frame;
use ratatui::crossterm::event::KeyCode;
use ratatui::layout::Rect;
use tidemark_protocol::{PrInfo, SyncProgress, TeamId, TeamStatus};

use crate::app::action::{Action, Binding};
use crate::app::selection::{PersonKey, Selection};
use crate::app::state::{Loadable, Screen, State};
use crate::app::{Reply, Request};
use crate::client::{ClientError, Connection};
use alerts::AlertsTab;
use delivery::DeliveryTab;
use metrics::{MetricsData, Period};
use people::{PeopleData, Person};
use pulls::{PrList, in_rows};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tab {
    #[default]
    Overview,
    Repos,
    Pulls,
    People,
    Metrics,
    Delivery,
    Alerts,
}

impl Tab {
    pub const ALL: [Tab; 7] = [
        Tab::Overview,
        Tab::Repos,
        Tab::Pulls,
        Tab::People,
        Tab::Metrics,
        Tab::Delivery,
        Tab::Alerts,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Overview => "Overview",
            Tab::Repos => "Repos",
            Tab::Pulls => "Pull requests",
            Tab::People => "People",
            Tab::Metrics => "Metrics",
            Tab::Delivery => "Delivery",
            Tab::Alerts => "Alerts",
        }
    }

    /// The title when the tab bar has no room for every full one.
    pub fn short_title(self) -> &'static str {
        match self {
            Tab::Pulls => "PRs",
            tab => tab.title(),
        }
    }

    pub fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    pub fn next(self) -> Tab {
        Tab::ALL[(self.index() + 1) % Tab::ALL.len()]
    }

    pub fn prev(self) -> Tab {
        Tab::ALL[(self.index() + Tab::ALL.len() - 1) % Tab::ALL.len()]
    }

    /// The config file's name for a tab.
    pub fn from_name(name: &str) -> Option<Tab> {
        match name {
            "overview" => Some(Tab::Overview),
            "repos" => Some(Tab::Repos),
            "pulls" | "prs" | "pull-requests" => Some(Tab::Pulls),
            "people" => Some(Tab::People),
            "metrics" => Some(Tab::Metrics),
            "delivery" | "dora" => Some(Tab::Delivery),
            "alerts" | "agreements" => Some(Tab::Alerts),
            _ => None,
        }
    }
}

/// The number keys that go to a tab, as the help shows them (`1-5` for five tabs).
pub const NUMBER_KEYS: &str =
    ["1", "1-2", "1-3", "1-4", "1-5", "1-6", "1-7", "1-8", "1-9"][Tab::ALL.len() - 1];

/// The keys of the tab on screen, shown first in its help.
pub fn bindings(tab: Tab) -> &'static [Binding] {
    match tab {
        Tab::Overview => overview::KEYS,
        Tab::Repos => repos::KEYS,
        Tab::Pulls => pulls::KEYS,
        Tab::People => people::KEYS,
        Tab::Metrics => metrics::KEYS,
        Tab::Delivery => delivery::KEYS,
        Tab::Alerts => alerts::KEYS,
    }
}

/// What a key means on the tab on screen (after the team screen's own keys).
pub fn action(view: &TeamView, code: KeyCode) -> Option<Action> {
    match view.tab {
        Tab::Overview => overview::action(code),
        Tab::Repos => repos::action(code),
        Tab::Pulls => pulls::action(code),
        Tab::People => people::action(code),
        Tab::Metrics => metrics::action(code),
        Tab::Delivery => delivery::action(view, code),
        Tab::Alerts => alerts::action(code),
    }
}

/// The tab on screen takes printable keys as text (a filter being typed).
pub fn typing(view: &TeamView) -> bool {
    match view.tab {
        Tab::Pulls => pulls::typing(view),
        Tab::Delivery => delivery::typing(view),
        Tab::Alerts => alerts::typing(view),
        Tab::Overview | Tab::Repos | Tab::People | Tab::Metrics => false,
    }
}

/// A move key on the team screen moves in the list of the tab on screen.
pub fn move_in(view: &mut TeamView, action: Action) {
    match view.tab {
        Tab::Overview | Tab::Metrics => {}
        Tab::Repos => repos::move_in(view, action),
        Tab::Pulls => pulls::move_in(view, action),
        Tab::People => people::move_in(view, action),
        Tab::Delivery => delivery::move_in(view, action),
        Tab::Alerts => alerts::move_in(view, action),
    }
}

/// The data requests of every tab, in tab order, for the open team (`view.since` set).
pub fn loads(view: &mut TeamView) -> Vec<Request> {
    Tab::ALL
        .into_iter()
        .filter_map(|tab| match tab {
            Tab::Overview | Tab::Repos => None,
            Tab::Pulls => Some(pulls::load(view)),
            Tab::People => Some(people::load(view)),
            Tab::Metrics => Some(metrics::load(view)),
            Tab::Delivery => Some(delivery::load(view)),
            Tab::Alerts => Some(alerts::load(view)),
        })
        .collect()
}

/// A reply to a tab's request.
pub fn on_reply(state: &mut State, reply: Reply) -> Vec<Request> {
    match reply {
        reply @ (Reply::Pulls { .. } | Reply::Timeline { .. }) => pulls::on_reply(state, reply),
        reply @ Reply::People { .. } => people::on_reply(state, reply),
        reply @ Reply::Metrics { .. } => metrics::on_reply(state, reply),
        reply @ (Reply::Delivery { .. }
        | Reply::DeliveryPreview { .. }
        | Reply::DeliverySaved { .. }) => delivery::on_reply(state, reply),
        reply @ (Reply::Available { .. } | Reply::Tracked { .. } | Reply::Untracked { .. }) => {
            repos::on_reply(state, reply)
        }
        reply @ Reply::Rotated { .. } => overview::on_reply(state, reply),
        reply @ (Reply::Alerts { .. } | Reply::AgreementsSaved { .. }) => {
            alerts::on_reply(state, reply)
        }
        other => {
            tracing::warn!(?other, "reply with no handler");
            Vec::new()
        }
    }
}

/// The failure reply of a tab's request.
pub fn failed(req: Request, err: String) -> Reply {
    match req {
        req @ (Request::LoadPulls { .. } | Request::Timeline { .. }) => {
            pulls::link::failed(req, err)
        }
        req @ Request::LoadPeople { .. } => people::link::failed(req, err),
        req @ Request::LoadMetrics { .. } => metrics::link::failed(req, err),
        req @ (Request::LoadDelivery { .. }
        | Request::DeliveryPreview { .. }
        | Request::SaveDeliveryRules { .. }) => delivery::link::failed(req, err),
        req @ (Request::ReposAvailable(_) | Request::Track { .. } | Request::Untrack { .. }) => {
            repos::link::failed(req, err)
        }
        req @ Request::RotateSecret(_) => overview::link::failed(req, err),
        req @ (Request::LoadAlerts { .. } | Request::SaveAgreements { .. }) => {
            alerts::link::failed(req, err)
        }
        other => unreachable!("not a tab's request: {other:?}"),
    }
}

/// Run a tab's request. `fail` words an error (and reports a lost connection).
pub async fn perform(
    conn: &Connection,
    req: Request,
    fail: impl Fn(ClientError) -> String,
) -> Reply {
    match req {
        req @ (Request::LoadPulls { .. } | Request::Timeline { .. }) => {
            pulls::link::perform(conn, req, fail).await
        }
        req @ Request::LoadPeople { .. } => people::link::perform(conn, req, fail).await,
        req @ Request::LoadMetrics { .. } => metrics::link::perform(conn, req, fail).await,
        req @ (Request::LoadDelivery { .. }
        | Request::DeliveryPreview { .. }
        | Request::SaveDeliveryRules { .. }) => delivery::link::perform(conn, req, fail).await,
        req @ (Request::ReposAvailable(_) | Request::Track { .. } | Request::Untrack { .. }) => {
            repos::link::perform(conn, req, fail).await
        }
        req @ Request::RotateSecret(_) => overview::link::perform(conn, req, fail).await,
        req @ (Request::LoadAlerts { .. } | Request::SaveAgreements { .. }) => {
            alerts::link::perform(conn, req, fail).await
        }
        other => unreachable!("not a tab's request: {other:?}"),
    }
}

/// Draw the tab on screen in `area` (below the tab bar).
pub fn render(frame: &mut Frame, area: Rect, state: &State, view: &TeamView) {
    match view.tab {
        Tab::Overview => overview::view::render(frame, area, state, view),
        Tab::Repos => repos::view::render(frame, area, state, view),
        Tab::Pulls => pulls::view::render(frame, area, state, view),
        Tab::People => people::view::render(frame, area, state, view),
        Tab::Metrics => metrics::view::render(frame, area, state, view),
        Tab::Delivery => delivery::view::render(frame, area, state, view),
        Tab::Alerts => alerts::view::render(frame, area, state, view),
    }
}

/// The open team's view, if the team screen is on.
pub(crate) fn open_view(state: &mut State) -> Option<&mut TeamView> {
    match &mut state.screen {
        Screen::Team(view) => Some(view),
        Screen::Teams => None,
    }
}

/// The open team's view, if `team` is the one on screen.
pub(crate) fn view_of(state: &mut State, team: TeamId) -> Option<&mut TeamView> {
    match &mut state.screen {
        Screen::Team(view) if view.id == team => Some(view),
        _ => None,
    }
}

/// What in a team's status says its data changed, so the tabs reload only then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    pub pull_requests: u64,
    pub members: u64,
    pub repos: usize,
    pub last_sync: Option<i64>,
    pub last_webhook: Option<i64>,
    /// Breaches open now: the daemon's timer opens them without any other change.
    pub open_breaches: u64,
}

impl Fingerprint {
    pub fn of(status: &TeamStatus) -> Fingerprint {
        Fingerprint {
            pull_requests: status.pull_request_count,
            members: status.member_count,
            repos: status.repos.len(),
            last_sync: status
                .integrations
                .iter()
                .filter_map(|i| i.github.as_ref()?.last_sync_at)
                .max(),
            last_webhook: status.repos.iter().filter_map(|r| r.last_webhook_at).max(),
            open_breaches: status.open_breaches,
        }
    }
}

/// The team being looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamView {
    pub id: TeamId,
    /// Known from the list, so the title shows before the details arrive.
    pub name: String,
    pub tab: Tab,
    pub status: Loadable<TeamStatus>,
    /// The sync's progress, kept current by the watch long-poll.
    pub sync: Option<SyncProgress>,
    /// The number of the watch (sync long-poll, then status) out for this view, if any.
    pub watching: Option<u64>,
    /// Watches sent so far.
    pub watch_seq: u64,
    /// The data the tabs show was loaded for this fingerprint.
    pub loaded_for: Option<Fingerprint>,
    /// When the tabs' data was last asked for (Unix seconds), to pace reloads during a sync.
    pub reloaded_at: i64,
    /// In the status's repositories, by GitHub id.
    pub selected_repo: Selection<u64>,
    pub pulls: Loadable<Vec<PrInfo>>,
    /// The number of the newest pull request load asked for.
    pub pulls_gen: u64,
    pub pr_list: PrList,
    pub people: Loadable<PeopleData>,
    /// Derived from `people` and `pulls`: people first, bots after.
    pub people_rows: Vec<Person>,
    /// In `people_rows`, by member id or login.
    pub selected_person: Selection<PersonKey>,
    pub period: Period,
    /// The start of the period the last data request asked for: replies for another (an older
    /// period, or one asked a clock tick earlier) are stale.
    pub since: i64,
    pub metrics: Loadable<MetricsData>,
    pub delivery: DeliveryTab,
    pub alerts: AlertsTab,
}

impl TeamView {
    pub fn new(id: TeamId, name: String) -> TeamView {
        TeamView {
            id,
            name,
            tab: Tab::default(),
            status: Loadable::Loading,
            sync: None,
            watching: None,
            watch_seq: 0,
            loaded_for: None,
            reloaded_at: 0,
            selected_repo: Selection::default(),
            pulls: Loadable::Loading,
            pulls_gen: 0,
            pr_list: PrList::default(),
            people: Loadable::Loading,
            people_rows: Vec::new(),
            selected_person: Selection::default(),
            period: Period::default(),
            since: 0,
            metrics: Loadable::Loading,
            delivery: DeliveryTab::default(),
            alerts: AlertsTab::default(),
        }
    }

    pub fn loaded_status(&self) -> Option<&TeamStatus> {
        match &self.status {
            Loadable::Loaded(status) => Some(status),
            _ => None,
        }
    }

    /// The team is connected to a GitHub organization (false while its status is not loaded).
    pub fn is_connected(&self) -> bool {
        self.loaded_status().is_some_and(team_is_connected)
    }

    pub fn pulls(&self) -> &[PrInfo] {
        match &self.pulls {
            Loadable::Loaded(pulls) => pulls,
            _ => &[],
        }
    }

    /// The pull request under the cursor in the table.
    pub fn selected_pull(&self) -> Option<&PrInfo> {
        let index = *self.pr_list.rows.get(self.pr_list.selected.row())?;
        self.pulls().get(index as usize)
    }

    /// The pull requests in display order.
    pub fn pull_rows(&self) -> impl ExactSizeIterator<Item = &PrInfo> + Clone + '_ {
        in_rows(&self.pulls, &self.pr_list.rows)
    }

    /// The repository under the cursor on the Repos tab.
    pub fn selected_repo(&self) -> Option<&tidemark_protocol::RepoInfo> {
        self.loaded_status()?.repos.get(self.selected_repo.row())
    }
}

/// Connected to a GitHub organization: until then there is nothing to sync or track.
pub fn team_is_connected(status: &TeamStatus) -> bool {
    status.integrations.iter().any(|i| i.github.is_some())
}
