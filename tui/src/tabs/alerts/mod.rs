//! The Alerts tab: breaches of the team's working agreements, newest first (open ones; `a` adds
//! the resolved), with the Slack link's state in the header; `enter` shows a breach's details;
//! `e` opens the agreements (`agreements.rs`), which admins and owners edit and save (`s`) and
//! members read. Its data is reloaded with the other tabs' (when the team's status moves, its
//! open-breach count included).

pub mod agreements;
mod agreements_view;
pub mod link;
pub mod view;

#[cfg(test)]
mod tests;

use ratatui::crossterm::event::KeyCode;
use tidemark_protocol::agreements::{Agreements, Alerts, Breach};
use tidemark_protocol::{Role, TeamStatus};

use super::{Tab, TeamView, open_view, view_of};
use crate::app::action::{Action, Binding, bind};
use crate::app::event::{Effect, Reply, Request};
use crate::app::selection::{Selection, step};
use crate::app::state::{Loadable, Notice, State};
use crate::app::update::request;
use agreements::AgreementsEditor;

/// Four at most, so the help fits 24 rows; the pages' titles list their own keys.
pub const KEYS: &[Binding] = &[
    bind("enter", "breach details; agreements: edit", KeyCode::Enter),
    bind("a", "show / hide resolved breaches", KeyCode::Char('a')),
    bind("e", "the team's working agreements", KeyCode::Char('e')),
    bind("s", "agreements: save", KeyCode::Char('s')),
];

/// The most breaches the tab asks for (newest first; the header's count covers all).
pub const LIMIT: u32 = 200;

pub fn action(code: KeyCode) -> Option<Action> {
    match code {
        KeyCode::Enter => Some(Action::Open),
        KeyCode::Char('a') => Some(Action::ToggleResolved),
        KeyCode::Char('e') => Some(Action::Agreements),
        KeyCode::Char('s') => Some(Action::SaveAgreements),
        KeyCode::Char('o') => Some(Action::OpenBrowser),
        _ => None,
    }
}

/// An agreement is being typed: keys are text until enter (keep) or esc (revert).
pub fn typing(view: &TeamView) -> bool {
    matches!(&view.alerts.page, Page::Agreements(editor) if editor.editing.is_some())
}

pub fn load(view: &mut TeamView) -> Request {
    Request::LoadAlerts {
        team: view.id,
        resolved: view.alerts.show_resolved,
    }
}

/// What the tab shows: the breaches with the Slack link, and the agreements they cross.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertsData {
    pub alerts: Alerts,
    pub agreements: Agreements,
}

/// What the tab shows: the list, a breach, or the agreements.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Page {
    #[default]
    Main,
    /// A breach by id; `scroll` is the first line shown.
    Breach {
        id: u64,
        scroll: usize,
    },
    Agreements(Box<AgreementsEditor>),
}

/// The Alerts tab's state in the team view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertsTab {
    pub data: Loadable<AlertsData>,
    /// Resolved breaches too (`a`); the data is asked for again when it changes.
    pub show_resolved: bool,
    /// In `data.alerts.breaches`, by breach id.
    pub selected: Selection<u64>,
    pub page: Page,
}

impl Default for AlertsTab {
    fn default() -> Self {
        AlertsTab {
            data: Loadable::Loading,
            show_resolved: false,
            selected: Selection::default(),
            page: Page::Main,
        }
    }
}

impl AlertsTab {
    pub fn loaded(&self) -> Option<&AlertsData> {
        match &self.data {
            Loadable::Loaded(data) => Some(data),
            _ => None,
        }
    }

    pub fn breaches(&self) -> &[Breach] {
        self.loaded().map_or(&[], |d| &d.alerts.breaches)
    }

    pub fn breach(&self, id: u64) -> Option<&Breach> {
        self.breaches().iter().find(|b| b.id == id)
    }

    pub fn selected_breach(&self) -> Option<&Breach> {
        self.breaches().get(self.selected.row())
    }
}

/// The open count the tab's title shows (`Alerts 3`): the status's, which every watch renews.
pub fn badge(status: Option<&TeamStatus>) -> Option<String> {
    status
        .map(|s| s.open_breaches)
        .filter(|&n| n > 0)
        .map(|n| n.to_string())
}

/// The lines of a breach's details page, for scrolling (see `view::detail_lines`).
const DETAIL_LINES: usize = 14;

pub fn move_in(view: &mut TeamView, action: Action) {
    let tab = &mut view.alerts;
    match &mut tab.page {
        Page::Main => {
            if let Loadable::Loaded(data) = &tab.data {
                tab.selected.step(action, data.alerts.breaches.iter());
            }
        }
        Page::Breach { scroll, .. } => *scroll = step(*scroll, DETAIL_LINES, action),
        Page::Agreements(editor) => editor.move_cursor(action),
    }
}

fn alerts_view(state: &mut State) -> Option<&mut TeamView> {
    open_view(state).filter(|v| v.tab == Tab::Alerts)
}

/// `enter`: a breach's details; on the agreements, edit the one under the cursor.
pub(crate) fn open(state: &mut State) -> Vec<Request> {
    let Some(view) = alerts_view(state) else {
        return Vec::new();
    };
    let tab = &mut view.alerts;
    match &mut tab.page {
        Page::Main => {
            if let Some(b) = tab.selected_breach() {
                tab.page = Page::Breach {
                    id: b.id,
                    scroll: 0,
                };
            }
        }
        Page::Agreements(editor) => editor.enter(),
        Page::Breach { .. } => {}
    }
    Vec::new()
}

/// `esc` on the tab: out of a page, back to the list. Returns whether it acted (else `esc`
/// goes back to the teams).
pub(crate) fn back(state: &mut State) -> bool {
    match alerts_view(state) {
        Some(view) if view.alerts.page != Page::Main => {
            view.alerts.page = Page::Main;
            true
        }
        _ => false,
    }
}

/// `a`: resolved breaches shown or not; the list is asked for again.
pub(crate) fn toggle_resolved(state: &mut State) -> Vec<Request> {
    let Some(view) = alerts_view(state) else {
        return Vec::new();
    };
    if view.alerts.page != Page::Main {
        return Vec::new();
    }
    view.alerts.show_resolved = !view.alerts.show_resolved;
    view.alerts.data = Loadable::Loading;
    let req = load(view);
    request(state, req)
}

/// `e`: the team's agreements, editable by admins and owners, read-only for members.
pub(crate) fn open_agreements(state: &mut State) -> Vec<Request> {
    let Some(view) = alerts_view(state) else {
        return Vec::new();
    };
    let may_edit = view
        .loaded_status()
        .is_some_and(|s| matches!(s.team.role, Some(Role::Admin | Role::Owner)));
    let tab = &mut view.alerts;
    if matches!(tab.page, Page::Agreements(_)) {
        return Vec::new();
    }
    match tab.loaded() {
        Some(data) => {
            let editor = AgreementsEditor::new(data.agreements.clone(), may_edit);
            tab.page = Page::Agreements(Box::new(editor));
        }
        None => {
            state.notice = Some(Notice::Info(
                "The agreements come with the alerts: once they are loaded, e shows them.".into(),
            ));
        }
    }
    Vec::new()
}

fn editor(state: &mut State) -> Option<(u64, &mut AgreementsEditor)> {
    let view = alerts_view(state)?;
    let team = view.id;
    match &mut view.alerts.page {
        Page::Agreements(editor) => Some((team, editor)),
        _ => None,
    }
}

/// Enter (keep, if it parses) or esc (revert) while typing. Returns whether it acted.
pub(crate) fn end_edit(state: &mut State, keep: bool) -> bool {
    match editor(state) {
        Some((_, editor)) if editor.editing.is_some() => {
            editor.end_edit(keep);
            true
        }
        _ => false,
    }
}

/// A key typed into the agreement being edited. Returns whether it went there.
pub(crate) fn edit(state: &mut State, edit: crate::widgets::text_input::Edit) -> bool {
    match editor(state) {
        Some((_, editor)) if editor.editing.is_some() => {
            editor.edit(edit);
            true
        }
        _ => false,
    }
}

/// `s`: save the edited agreements.
pub(crate) fn save(state: &mut State) -> Vec<Request> {
    let Some((team, editor)) = editor(state) else {
        return Vec::new();
    };
    match editor.start_save() {
        Some(agreements) => request(
            state,
            Request::SaveAgreements {
                team,
                agreements: Box::new(agreements),
            },
        ),
        None => Vec::new(),
    }
}

/// `o` on a breach's details: its pull request in the browser.
pub(crate) fn open_in_browser(state: &mut State) -> bool {
    let url = match alerts_view(state) {
        Some(view) => match &view.alerts.page {
            Page::Breach { id, .. } => view.alerts.breach(*id).map(|b| b.url.clone()),
            _ => None,
        },
        None => return false,
    };
    if let Some(url) = url {
        state.effects.push(Effect::OpenUrl(url));
    }
    true
}

pub(crate) fn on_reply(state: &mut State, reply: Reply) -> Vec<Request> {
    match reply {
        Reply::Alerts {
            team,
            resolved,
            result,
        } => {
            if let Some(view) = view_of(state, team)
                && view.alerts.show_resolved == resolved
            {
                let tab = &mut view.alerts;
                match result {
                    Ok(data) => {
                        tab.selected.follow(data.alerts.breaches.iter());
                        if let Page::Agreements(editor) = &mut tab.page {
                            editor.reloaded(&data.agreements);
                        }
                        tab.data = Loadable::Loaded(*data);
                    }
                    Err(err) => tab.data = Loadable::Failed(err),
                }
            }
            Vec::new()
        }
        Reply::AgreementsSaved { team, result } => {
            let Some(view) = view_of(state, team) else {
                return Vec::new();
            };
            match &result {
                Ok(_) => tracing::info!(team, "working agreements saved"),
                Err(err) => tracing::info!(team, error = %err, "working agreements refused"),
            }
            let saved = result.is_ok();
            if let Page::Agreements(editor) = &mut view.alerts.page {
                editor.saved(result);
            }
            if saved {
                // The daemon evaluates them again at once: the breaches follow.
                let req = load(view);
                return request(state, req);
            }
            Vec::new()
        }
        other => unreachable!("not an alerts reply: {other:?}"),
    }
}
