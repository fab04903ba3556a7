//! The Delivery tab: the team's five DORA measures over the period, each with its band and a
//! weekly trend; how each tracked repository's deployments are found; the deployments, newest
//! first, with what each shipped. `enter` drills into what a measure counts (the rule behind
//! each item, as `tidemark dora --explain` lists it) or into a deployment; `e` opens the team's
//! delivery rules (`rules.rs`), which admins edit, preview and save.

pub mod detail;
pub mod link;
pub mod rules;
mod rules_view;
pub mod view;

#[cfg(test)]
mod tests;

use ratatui::crossterm::event::KeyCode;
use tidemark_protocol::delivery::{DeliveryConfig, DoraGroup, DoraReport};
use tidemark_protocol::metrics::dora::Measure;

use super::{TeamView, open_view, view_of};
use crate::app::action::{Action, Binding, bind};
use crate::app::event::{Reply, Request};
use crate::app::selection::{Keyed, Selection, step};
use crate::app::state::{Loadable, State};
use crate::app::update::request;
use rules::RulesEditor;

/// Four at most, so the help fits 24 rows; the rules page's title lists its own keys.
pub const KEYS: &[Binding] = &[
    bind("enter", "drill in; rules: edit the rule", KeyCode::Enter),
    bind("e", "rules (space turns a signal)", KeyCode::Char('e')),
    bind("p/s", "rules: preview 12 weeks / save", KeyCode::Char('p')),
    bind("[/] ←/→", "period", KeyCode::Char(']')),
];

pub fn action(view: &TeamView, code: KeyCode) -> Option<Action> {
    let in_rules = matches!(view.delivery.page, Page::Rules(_));
    match code {
        KeyCode::Enter => Some(Action::Open),
        KeyCode::Char('e') => Some(Action::DeliveryRules),
        KeyCode::Char('p') => Some(Action::DeliveryPreview),
        KeyCode::Char('s') => Some(Action::DeliverySave),
        KeyCode::Char(' ') => Some(Action::Toggle),
        KeyCode::Right | KeyCode::Char('l') if in_rules => Some(Action::Toggle),
        // The rules are the last 12 weeks' whatever the period: ← is no period key there.
        KeyCode::Left | KeyCode::Char('h') if in_rules => None,
        KeyCode::Char(']' | 'l') | KeyCode::Right => Some(Action::PeriodNext),
        KeyCode::Char('[' | 'h') | KeyCode::Left => Some(Action::PeriodPrev),
        _ => None,
    }
}

/// A rule is being typed: keys are text until enter (keep) or esc (revert).
pub fn typing(view: &TeamView) -> bool {
    matches!(&view.delivery.page, Page::Rules(editor) if editor.editing.is_some())
}

/// The team report, the weekly one and the rules, over the period.
pub fn load(view: &mut TeamView) -> Request {
    Request::LoadDelivery {
        team: view.id,
        since: view.since,
    }
}

/// What the tab shows for one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryData {
    /// Grouped by team: one group, the five figures.
    pub team: DoraReport,
    /// Grouped by ISO week over the same window: the trends.
    pub weekly: DoraReport,
    /// The team's rules as saved.
    pub config: DeliveryConfig,
    /// Indices into `team.deployments`, newest first (derived).
    pub newest_first: Vec<u32>,
    /// The rows the cursor moves over: the five measures, then the deployments (derived).
    pub items: Vec<Item>,
    /// Per deployment (as in `team.deployments`), the changes it shipped (derived).
    pub changes_of: Vec<Vec<u32>>,
    /// The widest value of each column of the deployments table, in cells (derived).
    pub widths: [usize; 5],
}

impl DeliveryData {
    pub fn new(team: DoraReport, weekly: DoraReport, config: DeliveryConfig) -> DeliveryData {
        let mut newest_first: Vec<u32> = (0..team.deployments.len() as u32).collect();
        // The report lists them in time order; ties keep the report's order reversed too.
        newest_first.reverse();
        newest_first.sort_by_key(|&i| std::cmp::Reverse(team.deployments[i as usize].at));
        let items = Measure::ALL
            .into_iter()
            .map(Item::Measure)
            .chain(newest_first.iter().map(|&i| {
                let d = &team.deployments[i as usize];
                Item::Deployment(DeploymentKey {
                    repo: d.repo.clone(),
                    id: d.id.clone(),
                })
            }))
            .collect();
        let mut changes_of = vec![Vec::new(); team.deployments.len()];
        for (i, c) in team.changes.iter().enumerate() {
            if let Some(list) = changes_of.get_mut(c.deployment as usize) {
                list.push(i as u32);
            }
        }
        let mut data = DeliveryData {
            team,
            weekly,
            config,
            newest_first,
            items,
            changes_of,
            widths: [0; 5],
        };
        for i in 0..data.team.deployments.len() as u32 {
            let (texts, _) = view::deploy_texts(&data, i);
            for (w, text) in data.widths.iter_mut().zip(&texts) {
                *w = (*w).max(crate::columns::cells(text));
            }
        }
        data
    }

    /// The team's figures (None only if the daemon sent no group).
    pub fn group(&self) -> Option<&DoraGroup> {
        self.team.groups.first()
    }

    /// The index in `team.deployments` of the deployment `key` names.
    pub fn deployment(&self, key: &DeploymentKey) -> Option<u32> {
        self.team
            .deployments
            .iter()
            .position(|d| d.repo == key.repo && d.id == key.id)
            .map(|i| i as u32)
    }
}

/// A deployment, known across reloads by its repository and GitHub's id for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentKey {
    pub repo: String,
    pub id: String,
}

/// A row of the tab's page: a measure, or a deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Measure(Measure),
    Deployment(DeploymentKey),
}

impl Keyed for Item {
    type Key = Item;

    fn key(&self) -> Item {
        self.clone()
    }
}

/// What the tab shows: the page, a measure's contents, a deployment, or the rules.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Page {
    #[default]
    Main,
    /// What a measure counts; `scroll` is the first line shown.
    Measure {
        measure: Measure,
        scroll: usize,
    },
    Deployment {
        key: DeploymentKey,
        scroll: usize,
    },
    Rules(Box<RulesEditor>),
}

/// The Delivery tab's state in the team view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryTab {
    pub data: Loadable<DeliveryData>,
    /// In `data.items`: a measure or a deployment.
    pub selected: Selection<Item>,
    pub page: Page,
}

impl Default for DeliveryTab {
    fn default() -> Self {
        DeliveryTab {
            data: Loadable::Loading,
            selected: Selection::default(),
            page: Page::Main,
        }
    }
}

impl DeliveryTab {
    pub fn loaded(&self) -> Option<&DeliveryData> {
        match &self.data {
            Loadable::Loaded(data) => Some(data),
            _ => None,
        }
    }

    /// The row under the cursor.
    pub fn selected_item(&self) -> Option<&Item> {
        self.loaded()?.items.get(self.selected.row())
    }
}

/// How far a details page scrolls: a measure's page by item (its heading stays), a
/// deployment's by line (its logical lines, each of which may wrap to three).
fn detail_len(data: &DeliveryData, page: &Page) -> usize {
    match page {
        Page::Measure { measure, .. } => data
            .group()
            .map_or(0, |g| crate::output::delivery::explain_count(g, *measure)),
        Page::Deployment { key, .. } => data.deployment(key).map_or(0, |i| {
            let d = &data.team.deployments[i as usize];
            let failures = data.team.failures.iter().filter(|f| f.deployment == i);
            let lines = 14
                + d.failed_by.len()
                + d.rework_by.len()
                + data.changes_of.get(i as usize).map_or(0, Vec::len)
                + failures.count();
            3 * lines
        }),
        Page::Main | Page::Rules(_) => 0,
    }
}

/// A move key: the cursor on the page, the scroll of a details page, the rule in the rules.
pub fn move_in(view: &mut TeamView, action: Action) {
    let tab = &mut view.delivery;
    let len = match &tab.data {
        Loadable::Loaded(data) => detail_len(data, &tab.page),
        _ => 0,
    };
    match &mut tab.page {
        Page::Main => {
            if let Loadable::Loaded(data) = &tab.data {
                tab.selected.step(action, data.items.iter());
            }
        }
        Page::Measure { scroll, .. } | Page::Deployment { scroll, .. } => {
            *scroll = step(*scroll, len, action);
        }
        Page::Rules(editor) => editor.move_cursor(action),
    }
}

/// `enter`: drill into the measure or deployment under the cursor; in the rules, edit the rule
/// under the cursor (or turn a repository's signal).
pub(crate) fn open(state: &mut State) -> Vec<Request> {
    let Some(view) = open_view(state) else {
        return Vec::new();
    };
    let tab = &mut view.delivery;
    match &mut tab.page {
        Page::Main => {
            tab.page = match tab.selected_item() {
                Some(Item::Measure(measure)) => Page::Measure {
                    measure: *measure,
                    scroll: 0,
                },
                Some(Item::Deployment(key)) => Page::Deployment {
                    key: key.clone(),
                    scroll: 0,
                },
                None => Page::Main,
            };
        }
        Page::Rules(editor) => editor.enter(),
        Page::Measure { .. } | Page::Deployment { .. } => {}
    }
    Vec::new()
}

/// `esc` on the tab: out of a details page or the rules, back to the page. Returns whether it
/// acted (else `esc` goes back to the teams).
pub(crate) fn back(state: &mut State) -> bool {
    let Some(view) = open_view(state) else {
        return false;
    };
    if view.tab != super::Tab::Delivery || view.delivery.page == Page::Main {
        return false;
    }
    view.delivery.page = Page::Main;
    true
}

/// `e`: the team's rules, editable by admins and owners, read-only for members.
pub(crate) fn open_rules(state: &mut State) -> Vec<Request> {
    let Some(view) = open_view(state) else {
        return Vec::new();
    };
    let may_edit = view.loaded_status().is_some_and(|s| {
        matches!(
            s.team.role,
            Some(tidemark_protocol::Role::Admin | tidemark_protocol::Role::Owner)
        )
    });
    let tab = &mut view.delivery;
    if matches!(tab.page, Page::Rules(_)) {
        return Vec::new();
    }
    match tab.loaded() {
        Some(data) => {
            let editor = RulesEditor::new(data.config.clone(), data.team.repos.clone(), may_edit);
            tab.page = Page::Rules(Box::new(editor));
        }
        None => {
            state.notice = Some(crate::app::state::Notice::Info(
                "The rules come with the figures: once they are loaded, e shows them.".into(),
            ));
        }
    }
    Vec::new()
}

fn editor(state: &mut State) -> Option<(u64, &mut RulesEditor)> {
    let view = open_view(state)?;
    let team = view.id;
    match &mut view.delivery.page {
        Page::Rules(editor) if view.tab == super::Tab::Delivery => Some((team, editor)),
        _ => None,
    }
}

/// Enter (keep) or esc (revert) while typing a rule. Returns whether it acted.
pub(crate) fn end_edit(state: &mut State, keep: bool) -> bool {
    match editor(state) {
        Some((_, editor)) if editor.editing.is_some() => {
            editor.end_edit(keep);
            true
        }
        _ => false,
    }
}

/// A key typed into the rule being edited. Returns whether it went there.
pub(crate) fn edit(state: &mut State, edit: crate::widgets::text_input::Edit) -> bool {
    match editor(state) {
        Some((_, editor)) if editor.editing.is_some() => {
            editor.edit(edit);
            true
        }
        _ => false,
    }
}

/// Space or →: the next signal of the repository under the cursor.
pub(crate) fn toggle(state: &mut State) {
    if let Some((_, editor)) = editor(state) {
        editor.next_signal();
    }
}

/// `p`: ask the daemon what the edited rules would make of the last 12 weeks.
pub(crate) fn preview(state: &mut State) -> Vec<Request> {
    let Some((team, editor)) = editor(state) else {
        return Vec::new();
    };
    match editor.start_preview() {
        Some(config) => request(
            state,
            Request::DeliveryPreview {
                team,
                config: Box::new(config),
            },
        ),
        None => Vec::new(),
    }
}

/// `s`: save the rules once their effect is on screen; before that, show it first.
pub(crate) fn save(state: &mut State) -> Vec<Request> {
    let Some((team, editor)) = editor(state) else {
        return Vec::new();
    };
    match editor.start_save() {
        rules::SaveStep::Preview(config) => request(
            state,
            Request::DeliveryPreview {
                team,
                config: Box::new(config),
            },
        ),
        rules::SaveStep::Save(config) => request(
            state,
            Request::SaveDeliveryRules {
                team,
                config: Box::new(config),
            },
        ),
        rules::SaveStep::Nothing => Vec::new(),
    }
}

/// The period changed: the figures are asked for again.
pub(crate) fn period_changed(view: &mut TeamView) {
    view.delivery.data = Loadable::Loading;
}

pub(crate) fn on_reply(state: &mut State, reply: Reply) -> Vec<Request> {
    match reply {
        Reply::Delivery {
            team,
            since,
            result,
        } => {
            if let Some(view) = view_of(state, team)
                && view.since == since
            {
                let tab = &mut view.delivery;
                match result {
                    Ok(data) => {
                        tab.selected.follow(data.items.iter());
                        if let Page::Rules(editor) = &mut tab.page {
                            editor.reloaded(&data.config, &data.team.repos);
                        }
                        tab.data = Loadable::Loaded(*data);
                    }
                    Err(err) => tab.data = Loadable::Failed(err),
                }
            }
            Vec::new()
        }
        Reply::DeliveryPreview {
            team,
            config,
            result,
        } => {
            if let Some(view) = view_of(state, team)
                && let Page::Rules(editor) = &mut view.delivery.page
            {
                editor.previewed(&config, result);
            }
            Vec::new()
        }
        Reply::DeliverySaved { team, result } => {
            let Some(view) = view_of(state, team) else {
                return Vec::new();
            };
            let saved = result.is_ok();
            match &result {
                Ok(_) => tracing::info!(team, "delivery rules saved"),
                Err(err) => tracing::info!(team, error = %err, "delivery rules refused"),
            }
            if let Page::Rules(editor) = &mut view.delivery.page {
                editor.saved(result);
            }
            if saved {
                // The figures now follow the saved rules.
                let req = load(view);
                return request(state, req);
            }
            Vec::new()
        }
        other => unreachable!("not a delivery reply: {other:?}"),
    }
}
