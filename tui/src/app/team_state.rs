//! The team screen's state: its tabs and what each shows. Derived lists (the sorted, filtered
//! pull requests; the people table) are computed by `update` when their inputs change, so
//! rendering a frame never sorts 50,000 rows.

use std::borrow::Cow;
use std::collections::BTreeMap;

use tidemark_protocol::{
    MemberInfo, MetricsRow, PrInfo, PrState, SyncProgress, TeamId, TeamStatus,
};

use super::selection::{PersonKey, PullKey, Selection};
use super::state::Loadable;
use crate::timefmt;
use crate::widgets::text_input::TextInput;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tab {
    #[default]
    Overview,
    Repos,
    Pulls,
    People,
    Metrics,
}

impl Tab {
    pub const ALL: [Tab; 5] = [
        Tab::Overview,
        Tab::Repos,
        Tab::Pulls,
        Tab::People,
        Tab::Metrics,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Overview => "Overview",
            Tab::Repos => "Repos",
            Tab::Pulls => "Pull requests",
            Tab::People => "People",
            Tab::Metrics => "Metrics",
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
            _ => None,
        }
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
            PrColumn::Size => Cow::Owned(short_size(pr.additions + pr.deletions)),
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

/// What the People tab is computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeopleData {
    pub members: Vec<MemberInfo>,
    /// Per-member metrics over the period, bots included.
    pub by_member: Vec<MetricsRow>,
    /// Reviews given on others' pull requests over the period, by login.
    pub reviews_given: BTreeMap<String, u64>,
}

/// What in a team's status says its data changed, so the tabs reload only then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    pub pull_requests: u64,
    pub members: u64,
    pub repos: usize,
    pub last_sync: Option<i64>,
    pub last_webhook: Option<i64>,
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
