//! The daily digest's contents, from the store: pull requests waiting for a first review and
//! for how long, those over the size limit, what merged in the last day, cycle and review time
//! of the last day against the last four weeks, and the week's deliveries. Slack words it.

use super::{AgreementsError, clock_of, evaluate};
use crate::store::{PrState, PullRequest, Store, TeamId};
use tidemark_protocol::delivery::{DoraGrouping, DoraQuery};
use tidemark_protocol::metrics as def;

const DAY: i64 = 86_400;
/// Pull requests listed per section at most (the count says how many there are).
pub const LISTED: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub repo: String,
    pub number: u64,
    pub title: String,
    pub author: String,
    /// Seconds waited (working time when working hours are set), or lines changed.
    pub figure: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    pub team: String,
    /// Longest wait first.
    pub waiting: Vec<Line>,
    pub waiting_count: usize,
    pub max_size: Option<u32>,
    /// Largest first.
    pub oversized: Vec<Line>,
    pub oversized_count: usize,
    pub merged: Vec<Line>,
    pub merged_count: usize,
    /// p50 of the last day and of the last four weeks (None: nothing to measure).
    pub cycle_p50: (Option<i64>, Option<i64>),
    pub review_p50: (Option<i64>, Option<i64>),
    /// Successful deployments and failures of the last 7 days, when any deployment counted.
    pub deliveries: Option<(usize, usize)>,
    /// The working day's length when waits count working time only.
    pub working_day: Option<i64>,
}

fn line(pr: &PullRequest, names: &std::collections::HashMap<u64, String>, figure: i64) -> Line {
    Line {
        repo: names
            .get(&pr.repo_id)
            .cloned()
            .unwrap_or_else(|| format!("repository {}", pr.repo_id)),
        number: pr.number,
        title: pr.title.clone(),
        author: pr.author_login.clone().unwrap_or_default(),
        figure,
    }
}

fn capped(mut lines: Vec<Line>) -> (Vec<Line>, usize) {
    let n = lines.len();
    lines.truncate(LISTED);
    (lines, n)
}

/// The digest of a team at `now`.
pub fn compose(
    store: &Store,
    team: TeamId,
    team_name: &str,
    now: i64,
) -> Result<Digest, AgreementsError> {
    let a = super::get(store, team)?;
    let clock = clock_of(&a)?;
    let names = super::repo_names(store, team)?;
    let prs: Vec<PullRequest> = store
        .pull_requests(team, None)?
        .into_iter()
        .filter(|p| names.contains_key(&p.repo_id) && !evaluate::by_bot(p))
        .collect();
    let open_ready = |p: &&PullRequest| p.state == PrState::Open && !p.is_draft;
    let mut waiting: Vec<Line> = prs
        .iter()
        .filter(open_ready)
        .filter(|p| p.first_review_at.is_none())
        .filter_map(|p| {
            let ready = def::ready(p.created_at, p.is_draft, p.ready_at)?;
            Some(line(p, &names, clock.elapsed(ready, now)))
        })
        .collect();
    waiting.sort_by_key(|l| std::cmp::Reverse(l.figure));
    let mut oversized: Vec<Line> = match a.max_size {
        Some(max) => prs
            .iter()
            .filter(open_ready)
            .filter(|p| p.additions + p.deletions > u64::from(max))
            .map(|p| line(p, &names, (p.additions + p.deletions) as i64))
            .collect(),
        None => Vec::new(),
    };
    oversized.sort_by_key(|l| std::cmp::Reverse(l.figure));
    let merged_since = |from: i64| {
        prs.iter().filter(move |p| {
            p.state == PrState::Merged && p.merged_at.is_some_and(|m| m > from && m <= now)
        })
    };
    let mut merged: Vec<Line> = merged_since(now - DAY)
        .map(|p| line(p, &names, p.merged_at.unwrap_or(now)))
        .collect();
    merged.sort_by_key(|l| std::cmp::Reverse(l.figure));
    let cycle = |from: i64| {
        def::distribution(merged_since(from).filter_map(|p| p.cycle_time).collect()).p50
    };
    let reviewed = |from: i64| {
        def::distribution(
            prs.iter()
                .filter(|p| p.first_review_at.is_some_and(|r| r > from && r <= now))
                .filter_map(|p| p.review_time)
                .collect(),
        )
        .p50
    };
    let report = crate::delivery::report(
        store,
        team,
        team_name,
        &DoraQuery {
            team: tidemark_protocol::TeamRef::Id(team),
            since: Some(now - 7 * DAY),
            until: Some(now + 1),
            by: DoraGrouping::Team,
            config: None,
            explain: false,
        },
        now,
    );
    let deliveries = report.ok().and_then(|r| {
        let g = r.groups.first()?;
        let proxy_only = r.repos.iter().all(|s| s.signal.is_proxy());
        (!proxy_only && !g.finished.is_empty()).then_some((g.deployed.len(), g.failed.len()))
    });
    let (waiting, waiting_count) = capped(waiting);
    let (oversized, oversized_count) = capped(oversized);
    let (merged, merged_count) = capped(merged);
    Ok(Digest {
        team: team_name.to_string(),
        waiting,
        waiting_count,
        max_size: a.max_size,
        oversized,
        oversized_count,
        merged,
        merged_count,
        cycle_p50: (cycle(now - DAY), cycle(now - 28 * DAY)),
        review_p50: (reviewed(now - DAY), reviewed(now - 28 * DAY)),
        deliveries,
        working_day: a.working_hours.map(|w| w.day_seconds()),
    })
}
