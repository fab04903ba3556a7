//! Working agreements: the limits a team sets itself, checked against its pull requests.
//! [`clock`] counts working time in the team's time zone, [`evaluate`] says where each
//! agreement stands for a pull request (pure), [`live`] turns that into stored breaches when
//! webhooks or syncs change pull requests and on a timer, and this file answers the RPCs:
//! the agreements, setting them, the alerts and the weekly adherence.

pub mod clock;
pub mod digest;
pub mod evaluate;
#[cfg(test)]
mod evaluate_tests;
pub mod live;

use crate::store::{self, AgreementSettings, BreachRecord, PullRequest, Store, StoreError, TeamId};
use clock::{UnknownZone, WorkClock};
use evaluate::Standing;
use std::collections::{BTreeMap, HashMap};
use tidemark_protocol::agreements::{
    AdherenceRow, AgreementKind, Agreements, AlertsQuery, Breach, Over, SlackPost,
};
use tidemark_protocol::metrics::iso_week;

/// The most approvals or open pull requests a limit may ask for, and the largest size.
const MAX_COUNT: u32 = 100;
const MAX_SIZE: u32 = 10_000_000;
/// The most breaches one `alerts` answer carries.
pub const ALERTS_MAX: u32 = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum AgreementsError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Zone(#[from] UnknownZone),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The team's agreements (none set until it saves some).
pub fn get(store: &Store, team: TeamId) -> Result<Agreements, StoreError> {
    Ok(store
        .agreement_settings(team)?
        .map(|s| s.agreements)
        .unwrap_or_default())
}

/// The clock a team's agreements count time with.
pub fn clock_of(a: &Agreements) -> Result<WorkClock, UnknownZone> {
    WorkClock::new(&a.timezone, a.working_hours)
}

/// Check the agreements; the first problem names its field.
pub fn check(a: &Agreements) -> Result<(), AgreementsError> {
    let count = |name: &str, v: Option<u32>, max: u32| match v {
        Some(0) => Err(AgreementsError::Invalid(format!(
            "{name} must be at least 1 (leave it unset for no limit)"
        ))),
        Some(n) if n > max => Err(AgreementsError::Invalid(format!(
            "{name} must be at most {max}"
        ))),
        _ => Ok(()),
    };
    count("max-size", a.max_size, MAX_SIZE)?;
    count("min-approvals", a.min_approvals, MAX_COUNT)?;
    count("max-open-per-author", a.max_open_per_author, MAX_COUNT)?;
    for (name, span) in [
        ("first-review-within", a.first_review_within),
        ("merge-within", a.merge_within),
    ] {
        if let Some(s) = span {
            // Same rule as the client's parser: 1h to a year.
            tidemark_protocol::agreements::Span::parse(&s.to_string())
                .map_err(|e| AgreementsError::Invalid(format!("{name}: {e}")))?;
        }
    }
    if let Some(w) = a.working_hours
        && (w.end_minute <= w.start_minute || w.end_minute > 24 * 60 || w.days & 0x7f == 0)
    {
        return Err(AgreementsError::Invalid(
            "working-hours: the day must end after it starts, and the week have a working day"
                .into(),
        ));
    }
    if a.digest_at.is_some_and(|m| m >= 24 * 60) {
        return Err(AgreementsError::Invalid(
            "digest-at: a time of day, 00:00 to 23:59".into(),
        ));
    }
    clock_of(a)?;
    Ok(())
}

/// Check and save; breaches are recorded from the first time a team sets any.
pub fn set(
    store: &Store,
    team: TeamId,
    a: Agreements,
    now: i64,
) -> Result<Agreements, AgreementsError> {
    check(&a)?;
    let before = store.agreement_settings(team)?;
    let effective_from = match &before {
        Some(b) if b.agreements.any() => b.effective_from,
        _ => now,
    };
    store.set_agreement_settings(&AgreementSettings {
        team_id: team,
        agreements: a.clone(),
        effective_from,
        updated_at: now,
    })?;
    Ok(a)
}

/// `https://github.com/owner/repo/pull/7`.
pub fn pr_url(web_url: &str, repo: &str, number: u64) -> String {
    format!("{}/{repo}/pull/{number}", web_url.trim_end_matches('/'))
}

/// What a breach names besides itself: its repository, pull request and people.
pub struct Named<'a> {
    pub repo: &'a str,
    pub pr: Option<&'a PullRequest>,
    pub people: Vec<String>,
}

/// A stored breach as clients see it, with how far over it is at `now` (or was when resolved).
pub fn to_wire(
    a: &Agreements,
    clock: &WorkClock,
    b: &BreachRecord,
    named: Named<'_>,
    web_url: &str,
    now: i64,
) -> Breach {
    let Named { repo, pr, people } = named;
    let crossing = evaluate::Crossing {
        since: b.since,
        resolved: None,
        measure: b.measure,
    };
    let over = match b.kind {
        AgreementKind::FirstReview | AgreementKind::MergeWithin => {
            let seconds = clock.elapsed(b.since, b.resolved_at.unwrap_or(now));
            match a.working_hours {
                Some(w) => Over::WorkingTime {
                    seconds,
                    day_seconds: w.day_seconds(),
                },
                None => Over::Seconds(seconds),
            }
        }
        _ => evaluate::over(a, clock, b.kind, &crossing, now),
    };
    Breach {
        id: b.id,
        kind: b.kind,
        limit: b.limit.clone(),
        repo: repo.to_string(),
        number: b.number,
        title: pr.map(|p| p.title.clone()).unwrap_or_default(),
        url: pr_url(web_url, repo, b.number),
        author: b.author.clone(),
        people,
        since: b.since,
        resolved_at: b.resolved_at,
        resolution: b.resolution.clone(),
        over,
        slack: slack_post(&b.slack),
    }
}

fn slack_post(s: &store::SlackState) -> Option<SlackPost> {
    use store::SlackState as S;
    match s {
        S::Unsent | S::Sending { .. } => None,
        S::Posted { at, .. } => Some(SlackPost::Posted {
            at: *at,
            updated: false,
        }),
        S::Updated { at, .. } => Some(SlackPost::Posted {
            at: *at,
            updated: true,
        }),
        S::NotSent { reason } => Some(SlackPost::NotSent {
            reason: reason.clone(),
        }),
    }
}

/// The people involved in a pull request: its author, then its reviewers (bots aside).
pub fn people(store: &Store, team: TeamId, b: &BreachRecord) -> Result<Vec<String>, StoreError> {
    let mut out = vec![b.author.clone()];
    for r in store.reviews(team, b.repo_id, b.number)? {
        if let Some(l) = r.reviewer_login
            && !r.reviewer_is_bot
            && !store::looks_like_bot(&l)
            && !out.iter().any(|o| o.eq_ignore_ascii_case(&l))
        {
            out.push(l);
        }
    }
    Ok(out)
}

/// The team's breaches, newest first, and how many are open.
pub fn alerts(
    store: &Store,
    team: TeamId,
    q: &AlertsQuery,
    web_url: &str,
    now: i64,
) -> Result<(Vec<Breach>, u64), AgreementsError> {
    let a = get(store, team)?;
    let clock = clock_of(&a).unwrap_or_else(|_| WorkClock::calendar());
    let names = repo_names(store, team)?;
    let mut all = store.breaches(team)?;
    let open = all.iter().filter(|b| b.resolved_at.is_none()).count() as u64;
    all.retain(|b| {
        (q.include_resolved || b.resolved_at.is_none()) && q.since.is_none_or(|s| b.since >= s)
    });
    all.sort_by(|x, y| y.since.cmp(&x.since).then(y.id.cmp(&x.id)));
    all.truncate(q.limit.clamp(1, ALERTS_MAX) as usize);
    let mut out = Vec::with_capacity(all.len());
    for b in &all {
        let pr = store.pull_request(team, b.repo_id, b.number)?;
        let repo = names
            .get(&b.repo_id)
            .cloned()
            .unwrap_or_else(|| format!("repository {}", b.repo_id));
        let people = people(store, team, b)?;
        let named = Named {
            repo: &repo,
            pr: pr.as_ref(),
            people,
        };
        out.push(to_wire(&a, &clock, b, named, web_url, now));
    }
    Ok((out, open))
}

/// Repository id → `owner/repo`, for every repository the team tracks or tracked.
pub fn repo_names(store: &Store, team: TeamId) -> Result<HashMap<u64, String>, StoreError> {
    Ok(store
        .tracked_repos(team)?
        .into_iter()
        .map(|r| (r.github_repo_id, r.full_name))
        .collect())
}

/// Share of pull requests within each agreement per ISO week of opening, oldest first.
/// Pull requests an agreement does not measure, or whose clock still runs, are left out. The
/// open-per-author limit is about authors, not pull requests: its history is its breaches.
pub fn adherence(
    store: &Store,
    team: TeamId,
    since: Option<i64>,
    now: i64,
) -> Result<Vec<AdherenceRow>, AgreementsError> {
    let a = get(store, team)?;
    let clock = clock_of(&a)?;
    let prs: Vec<PullRequest> = store
        .pull_requests(team, None)?
        .into_iter()
        .filter(|p| since.is_none_or(|s| p.created_at >= s))
        .collect();
    let mut rows: BTreeMap<(String, AgreementKind), (u64, u64)> = BTreeMap::new();
    for pr in &prs {
        let week = iso_week(pr.created_at);
        for kind in AgreementKind::ALL {
            if kind == AgreementKind::MaxOpenPerAuthor {
                continue;
            }
            let reviews = if kind == AgreementKind::MinApprovals
                && a.min_approvals.is_some()
                && pr.merged_at.is_some()
            {
                store.reviews(team, pr.repo_id, pr.number)?
            } else {
                Vec::new()
            };
            let within = match evaluate::standing(&a, &clock, kind, pr, &reviews, now) {
                Standing::Within => true,
                Standing::Crossed(_) => false,
                Standing::NotMeasured | Standing::Pending { .. } => continue,
            };
            let e = rows.entry((week.clone(), kind)).or_default();
            e.0 += 1;
            e.1 += u64::from(within);
        }
    }
    Ok(rows
        .into_iter()
        .map(|((week, kind), (applied, within))| AdherenceRow {
            week,
            kind,
            applied,
            within,
        })
        .collect())
}
