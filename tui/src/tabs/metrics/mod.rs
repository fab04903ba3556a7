//! The Metrics tab: the team's weekly figures over a period (4 to 52 weeks) and the period's
//! breakdown.

pub mod link;
pub mod view;

use ratatui::crossterm::event::KeyCode;
use tidemark_protocol::MetricsRow;

use super::{TeamView, open_view, view_of};
use crate::app::action::{Action, Binding, bind};
use crate::app::event::{Reply, Request};
use crate::app::state::{Loadable, State};
use crate::app::update::team::load_data;

pub const KEYS: &[Binding] = &[bind("[/] ←/→", "period", KeyCode::Char(']'))];

pub fn action(code: KeyCode) -> Option<Action> {
    match code {
        KeyCode::Char(']' | 'l') | KeyCode::Right => Some(Action::PeriodNext),
        KeyCode::Char('[' | 'h') | KeyCode::Left => Some(Action::PeriodPrev),
        _ => None,
    }
}

/// Weekly and whole-team metrics since the period's start.
pub fn load(view: &mut TeamView) -> Request {
    Request::LoadMetrics {
        team: view.id,
        since: view.since,
    }
}

/// The Metrics tab's period: how far back the aggregates reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Period {
    Weeks4,
    #[default]
    Weeks12,
    Weeks26,
    Weeks52,
}

impl Period {
    pub const ALL: [Period; 4] = [
        Period::Weeks4,
        Period::Weeks12,
        Period::Weeks26,
        Period::Weeks52,
    ];

    pub fn weeks(self) -> i64 {
        match self {
            Period::Weeks4 => 4,
            Period::Weeks12 => 12,
            Period::Weeks26 => 26,
            Period::Weeks52 => 52,
        }
    }

    pub fn label(self) -> String {
        format!("{} weeks", self.weeks())
    }

    pub fn next(self) -> Period {
        let i = Period::ALL.iter().position(|p| *p == self).unwrap_or(0);
        Period::ALL[(i + 1) % Period::ALL.len()]
    }

    pub fn prev(self) -> Period {
        let i = Period::ALL.iter().position(|p| *p == self).unwrap_or(0);
        Period::ALL[(i + Period::ALL.len() - 1) % Period::ALL.len()]
    }

    /// Start of the period ending at `now`.
    pub fn since(self, now: i64) -> i64 {
        now - self.weeks() * 7 * 86_400
    }
}

/// The Metrics tab's data for one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsData {
    /// One row per ISO week, oldest first.
    pub weekly: Vec<MetricsRow>,
    /// The whole team over the period (the breakdown).
    pub total: Option<MetricsRow>,
}

pub(crate) fn change_period(state: &mut State, longer: bool) -> Vec<Request> {
    let Some(view) = open_view(state) else {
        return Vec::new();
    };
    view.period = if longer {
        view.period.next()
    } else {
        view.period.prev()
    };
    view.metrics = Loadable::Loading;
    view.people = Loadable::Loading;
    super::delivery::period_changed(view);
    load_data(state)
}

pub(crate) fn on_reply(state: &mut State, reply: Reply) -> Vec<Request> {
    let Reply::Metrics {
        team,
        since,
        result,
    } = reply
    else {
        unreachable!("not a metrics reply: {reply:?}");
    };
    if let Some(view) = view_of(state, team)
        && view.since == since
    {
        view.metrics = match result {
            Ok(data) => Loadable::Loaded(*data),
            Err(err) => Loadable::Failed(err),
        };
    }
    Vec::new()
}
