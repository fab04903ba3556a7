//! The People tab: the team's members and the authors who are not, with what they authored,
//! merged and reviewed over the period, people first, bots after.

pub mod derive;
pub mod link;
pub mod view;

use std::collections::BTreeMap;

use ratatui::crossterm::event::KeyCode;
use tidemark_protocol::{MemberInfo, MetricsRow};

use super::{TeamView, view_of};
use crate::app::action::{Action, Binding};
use crate::app::event::{Reply, Request};
use crate::app::state::{Loadable, State};

pub const KEYS: &[Binding] = &[];

pub fn action(_code: KeyCode) -> Option<Action> {
    None
}

pub fn move_in(view: &mut TeamView, action: Action) {
    view.selected_person.step(action, view.people_rows.iter());
}

/// Members, per-member metrics and reviews given since the period's start.
pub fn load(view: &mut TeamView) -> Request {
    Request::LoadPeople {
        team: view.id,
        since: view.since,
    }
}

/// One line of the People tab (derived from members, pull requests and per-member metrics).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The member's id; `None` for an author who is no member (an app, a contractor).
    pub member: Option<u64>,
    pub login: String,
    pub name: String,
    pub is_bot: bool,
    pub left: bool,
    pub authored: u64,
    pub merged: u64,
    /// Reviews this person gave on others' pull requests, when the daemon tells.
    pub reviews_given: Option<u64>,
    pub median_pickup: Option<i64>,
    pub median_cycle: Option<i64>,
}

/// What the People tab is computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeopleData {
    pub members: Vec<MemberInfo>,
    /// Per-member metrics over the period, bots included.
    pub by_member: Vec<MetricsRow>,
    /// Reviews given on others' pull requests over the period, by login.
    pub reviews_given: BTreeMap<String, u64>,
}

pub(crate) fn on_reply(state: &mut State, reply: Reply) -> Vec<Request> {
    let Reply::People {
        team,
        since,
        result,
    } = reply
    else {
        unreachable!("not a people reply: {reply:?}");
    };
    if let Some(view) = view_of(state, team)
        && view.since == since
    {
        match result {
            Ok(people) => view.people = Loadable::Loaded(people),
            Err(err) => view.people = Loadable::Failed(err),
        }
        derive::rebuild_people(view);
    }
    Vec::new()
}
