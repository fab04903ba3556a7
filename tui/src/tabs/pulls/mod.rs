//! The Pull requests tab: the team's pull requests as a table to sort, filter and open (the
//! details and timeline in a pop-up, or the page in a browser).

pub mod derive;
pub mod detail;
pub mod link;
pub mod view;

use std::borrow::Cow;

use ratatui::crossterm::event::KeyCode;
use tidemark_protocol::{PrInfo, PrState, PrTimeline};

use super::{Tab, TeamView, open_view};
use crate::app::action::{Action, Binding, bind};
use crate::app::event::{Effect, Reply, Request};
use crate::app::selection::{PullKey, Selection, step};
use crate::app::state::{Loadable, Modal, Notice, Screen, State};
use crate::app::update::request;
use crate::timefmt;
use crate::widgets::text_input::TextInput;
use derive::rebuild_pr_rows;

pub const KEYS: &[Binding] = &[
    bind("enter", "details and timeline", KeyCode::Enter),
    bind("o", "open in the browser", KeyCode::Char('o')),
    bind("/", "filter", KeyCode::Char('/')),
    bind("s/S", "sort column / reverse", KeyCode::Char('s')),
];

pub fn action(code: KeyCode) -> Option<Action> {
    match code {
        KeyCode::Enter => Some(Action::Open),
        KeyCode::Char('o') => Some(Action::OpenBrowser),
        KeyCode::Char('/') => Some(Action::Filter),
        KeyCode::Char('s') => Some(Action::SortNext),
        KeyCode::Char('S') => Some(Action::SortReverse),
        _ => None,
    }
}

/// Typing a filter: keys are text until enter (keep) or esc (clear).
pub fn typing(view: &TeamView) -> bool {
    view.pr_list.filtering
}

pub fn move_in(view: &mut TeamView, action: Action) {
    let rows = in_rows(&view.pulls, &view.pr_list.rows);
    view.pr_list.selected.step(action, rows);
}

/// The pull requests, numbered: only the reply to the newest load is kept.
pub fn load(view: &mut TeamView) -> Request {
    view.pulls_gen += 1;
    Request::LoadPulls {
        team: view.id,
        load: view.pulls_gen,
    }
}

/// A column of the pull request table; also what it can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrColumn {
    Repo,
    Number,
    Title,
    Author,
    State,
    Size,
    Cycle,
    Review,
    Created,
}

impl PrColumn {
    pub const ALL: [PrColumn; 9] = [
        PrColumn::Repo,
        PrColumn::Number,
        PrColumn::Title,
        PrColumn::Author,
        PrColumn::State,
        PrColumn::Size,
        PrColumn::Cycle,
        PrColumn::Review,
        PrColumn::Created,
    ];

    /// What the table shows when the config file does not say.
    pub const DEFAULT: [PrColumn; 8] = [
        PrColumn::Repo,
        PrColumn::Number,
        PrColumn::Title,
        PrColumn::Author,
        PrColumn::State,
        PrColumn::Size,
        PrColumn::Cycle,
        PrColumn::Review,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PrColumn::Repo => "repo",
            PrColumn::Number => "number",
            PrColumn::Title => "title",
            PrColumn::Author => "author",
            PrColumn::State => "state",
            PrColumn::Size => "size",
            PrColumn::Cycle => "cycle",
            PrColumn::Review => "review",
            PrColumn::Created => "created",
        }
    }

    pub fn from_name(name: &str) -> Option<PrColumn> {
        PrColumn::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Where the column is in [`PrColumn::ALL`].
    pub fn index(self) -> usize {
        PrColumn::ALL
            .iter()
            .position(|c| *c == self)
            .expect("every column is in ALL")
    }

    /// The table's header.
    pub fn header(self) -> &'static str {
        match self {
            PrColumn::Repo => "Repo",
            PrColumn::Number => "#",
            PrColumn::Title => "Title",
            PrColumn::Author => "Author",
            PrColumn::State => "State",
            PrColumn::Size => "Size",
            PrColumn::Cycle => "Cycle",
            PrColumn::Review => "Review",
            PrColumn::Created => "Opened",
        }
    }

    /// What the table shows of `pr` in this column (control characters are not drawn).
    pub fn text(self, pr: &PrInfo) -> Cow<'_, str> {
        match self {
            PrColumn::Repo => Cow::Borrowed(pr.repo.rsplit('/').next().unwrap_or(&pr.repo)),
            PrColumn::Number => Cow::Owned(pr.number.to_string()),
            PrColumn::Title => Cow::Borrowed(&pr.title),
            PrColumn::Author => Cow::Borrowed(pr.author.as_deref().unwrap_or("ghost")),
            PrColumn::State => Cow::Borrowed(match (pr.state, pr.is_draft) {
                (PrState::Open, true) => "draft",
                (state, _) => state.as_str(),
            }),
            PrColumn::Size => Cow::Owned(short_size(tidemark_protocol::metrics::size(
                pr.additions,
                pr.deletions,
            ))),
            PrColumn::Cycle => Cow::Owned(timefmt::duration_or_dash(pr.cycle_time)),
            PrColumn::Review => Cow::Owned(timefmt::duration_or_dash(pr.review_time)),
            PrColumn::Created => {
                let utc = timefmt::utc(pr.created_at);
                Cow::Owned(utc.split(' ').next().unwrap_or_default().to_string())
            }
        }
    }
}

/// Lines changed, short: `48`, `1.2k`, `40k`.
pub fn short_size(lines: u64) -> String {
    match lines {
        0..=999 => lines.to_string(),
        1_000..=9_999 => format!("{:.1}k", lines as f64 / 1000.0),
        _ => format!("{}k", lines / 1000),
    }
}

/// How the pull request table is ordered and narrowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrList {
    pub sort: PrColumn,
    pub descending: bool,
    pub filter: TextInput,
    /// `/` was pressed: keys edit the filter until enter or esc.
    pub filtering: bool,
    /// Indices into the loaded pull requests, in display order (derived).
    pub rows: Vec<u32>,
    /// What the filter searches, per loaded pull request (derived when they arrive).
    pub haystacks: Vec<String>,
    /// The widest value of each column ([`PrColumn::ALL`] order) over the loaded pull
    /// requests, in cells (derived when they arrive): the table's columns are sized from it.
    pub widths: [usize; PrColumn::ALL.len()],
    /// In `rows`, by repository and number.
    pub selected: Selection<PullKey>,
}

impl Default for PrList {
    fn default() -> Self {
        PrList {
            sort: PrColumn::Created,
            descending: true,
            filter: TextInput::default(),
            filtering: false,
            rows: Vec::new(),
            haystacks: Vec::new(),
            widths: [0; PrColumn::ALL.len()],
            selected: Selection::default(),
        }
    }
}

/// `pulls` in the order of `rows` (indices into them): a free function, so a selection can
/// move while the fields are borrowed apart.
pub fn in_rows<'a>(
    pulls: &'a Loadable<Vec<PrInfo>>,
    rows: &'a [u32],
) -> impl ExactSizeIterator<Item = &'a PrInfo> + Clone + 'a {
    // Rows are derived from the loaded pull requests every time those change.
    let (pulls, rows): (&[PrInfo], &[u32]) = match pulls {
        Loadable::Loaded(pulls) => (pulls, rows),
        _ => (&[], &[]),
    };
    rows.iter().map(move |&i| &pulls[i as usize])
}

/// A pull request's details, with its timeline once the daemon sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrDetail {
    pub pr: Box<PrInfo>,
    pub timeline: Loadable<PrTimeline>,
    /// First line of the timeline shown (it can be longer than the screen).
    pub scroll: usize,
}

/// `enter` on the pull request table: the details, and ask for the timeline.
pub(crate) fn open_pull(state: &mut State) -> Vec<Request> {
    let Some(view) = open_view(state) else {
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
pub(crate) fn open_pull_in_browser(state: &mut State) {
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

pub(crate) fn start_filter(state: &mut State) {
    if let Some(view) = open_view(state)
        && view.tab == Tab::Pulls
    {
        view.pr_list.filtering = true;
    }
}

/// Enter (keep) or esc (clear) while typing the filter; esc on a kept filter clears it.
/// Returns whether it acted.
pub(crate) fn end_filter(state: &mut State, keep: bool) -> bool {
    let Some(view) = open_view(state) else {
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

pub(crate) fn edit_filter(state: &mut State, edit: crate::widgets::text_input::Edit) {
    if let Some(view) = open_view(state)
        && view.pr_list.filtering
    {
        view.pr_list.filter.apply(edit);
        rebuild_pr_rows(view);
    }
}

pub(crate) fn sort(state: &mut State, next_column: bool) {
    let columns = state.config.columns.clone();
    let Some(view) = open_view(state) else {
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

/// A move key in the details: scroll the timeline.
pub(crate) fn move_in_detail(state: &mut State, action: Action) -> bool {
    let Some(Modal::PullRequest(detail)) = &mut state.modal else {
        return false;
    };
    let len = match &detail.timeline {
        Loadable::Loaded(t) => t.events.len(),
        _ => 0,
    };
    detail.scroll = step(detail.scroll, len, action);
    true
}

pub(crate) fn on_reply(state: &mut State, reply: Reply) -> Vec<Request> {
    match reply {
        Reply::Pulls { team, load, result } => {
            if let Some(view) = super::view_of(state, team)
                && view.pulls_gen == load
            {
                match result {
                    Ok(pulls) => {
                        view.pulls = Loadable::Loaded(pulls);
                        view.pr_list.haystacks.clear();
                    }
                    Err(err) if !matches!(view.pulls, Loadable::Loaded(_)) => {
                        view.pulls = Loadable::Failed(err);
                    }
                    Err(err) => state.notice = Some(Notice::Error(err)),
                }
            }
            if let Some(view) = super::view_of(state, team) {
                rebuild_pr_rows(view);
                super::people::derive::rebuild_people(view);
            }
            Vec::new()
        }
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
        other => unreachable!("not a pull requests reply: {other:?}"),
    }
}
