//! Live evaluation: a team's agreements are checked again when webhooks or a sync change its
//! pull requests, when it changes its agreements, and every [`TICK`] for the limits time
//! crosses, so a breach is recorded within a minute of happening. Each check compares where
//! every agreement stands with the open breaches: new crossings become breaches, ended ones
//! are resolved. Nothing here posts anywhere: Slack reads the breaches.

use super::evaluate::{self, Crossing, Standing};
use super::{AgreementsError, clock_of};
use crate::context::{Ctx, Event, bus::Listener};
use crate::store::{BreachRecord, PrState, PullRequest, SlackState, Store, TeamId};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tidemark_protocol::agreements::{AgreementKind, Agreements};

/// How often the timed limits are checked without any change.
pub const TICK: Duration = Duration::from_secs(30);
/// Changes arriving together are checked together.
const GATHER: Duration = Duration::from_millis(300);
/// Checks start at most this often: a check of a 50,000-PR team takes about 400 ms
/// (`dora-bench`), and a stream of webhooks must not keep a core busy with them.
const MIN_GAP: Duration = Duration::from_secs(2);

/// When each team was last checked (this process): alerts say how fresh they are.
static CHECKED: std::sync::LazyLock<std::sync::Mutex<HashMap<TeamId, i64>>> =
    std::sync::LazyLock::new(Default::default);

/// When the team's agreements were last checked by this daemon (None: not yet).
pub fn checked_at(team: TeamId) -> Option<i64> {
    CHECKED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&team)
        .copied()
}

/// What one check changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub opened: Vec<u64>,
    pub resolved: Vec<u64>,
}

/// Whom a breach is about: a pull request for one agreement, or an author.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Subject {
    Pr(AgreementKind, u64, u64),
    Author(String),
}

fn subject(b: &BreachRecord) -> Subject {
    match b.kind {
        AgreementKind::MaxOpenPerAuthor => Subject::Author(b.author.to_ascii_lowercase()),
        k => Subject::Pr(k, b.repo_id, b.number),
    }
}

/// Check one team now and store what changed.
pub fn evaluate_team(store: &Store, team: TeamId, now: i64) -> Result<Outcome, AgreementsError> {
    let Some(settings) = store.agreement_settings(team)? else {
        return Ok(Outcome::default());
    };
    let a = &settings.agreements;
    let clock = clock_of(a)?;
    let tracked: HashSet<u64> = store
        .tracked_repos(team)?
        .into_iter()
        .map(|r| r.github_repo_id)
        .collect();
    let prs: Vec<PullRequest> = store
        .pull_requests(team, None)?
        .into_iter()
        .filter(|p| tracked.contains(&p.repo_id))
        .collect();
    let mut open: HashMap<Subject, BreachRecord> = HashMap::new();
    let mut last_resolved: HashMap<Subject, i64> = HashMap::new();
    for b in store.breaches(team)? {
        match b.resolved_at {
            None => {
                open.insert(subject(&b), b);
            }
            Some(at) => {
                let e = last_resolved.entry(subject(&b)).or_insert(at);
                *e = (*e).max(at);
            }
        }
    }
    let mut changed: Vec<BreachRecord> = Vec::new();
    let mut out = Outcome::default();
    let mut new_breach = |kind, pr: &PullRequest, author: &str, c: &Crossing, since: i64| {
        let id = store.next_breach_id()?;
        out.opened.push(id);
        Ok::<_, AgreementsError>(BreachRecord {
            team_id: team,
            id,
            kind,
            repo_id: pr.repo_id,
            number: pr.number,
            author: author.to_string(),
            limit: a.limit_text(kind).unwrap_or_default(),
            since,
            resolved_at: c.resolved.as_ref().map(|(at, _)| (*at).max(since)),
            resolution: c.resolved.as_ref().map(|(_, how)| how.clone()),
            measure: c.measure,
            // A breach that ended before it was noticed is history, not news.
            slack: if c.resolved.is_some() {
                SlackState::NotSent {
                    reason: "it had ended when it was noticed".into(),
                }
            } else {
                SlackState::Unsent
            },
            created_at: now,
        })
    };
    for pr in &prs {
        let kinds: Vec<AgreementKind> = AgreementKind::ALL
            .into_iter()
            .filter(|k| *k != AgreementKind::MaxOpenPerAuthor && a.limit_text(*k).is_some())
            .collect();
        let done_before = closed_at(pr).is_some_and(|c| c < settings.effective_from);
        for kind in kinds {
            let subj = Subject::Pr(kind, pr.repo_id, pr.number);
            let existing = open.remove(&subj);
            if done_before && existing.is_none() {
                continue;
            }
            let reviews = if kind == AgreementKind::MinApprovals && pr.state == PrState::Merged {
                store.reviews(team, pr.repo_id, pr.number)?
            } else {
                Vec::new()
            };
            let st = evaluate::standing(a, &clock, kind, pr, &reviews, now);
            match (st, existing) {
                (Standing::Crossed(c), None) => {
                    if c.resolved
                        .as_ref()
                        .is_some_and(|(at, _)| *at < settings.effective_from)
                    {
                        continue;
                    }
                    // Reopened after a breach ended: the new one starts after the old one.
                    let since = c.since.max(last_resolved.get(&subj).copied().unwrap_or(0));
                    if c.resolved.as_ref().is_some_and(|(at, _)| *at <= since) {
                        continue;
                    }
                    let author = pr.author_login.clone().unwrap_or_default();
                    changed.push(new_breach(kind, pr, &author, &c, since)?);
                }
                (Standing::Crossed(c), Some(mut b)) => {
                    if let Some((at, how)) = c.resolved {
                        b.resolved_at = Some(at.max(b.since));
                        b.resolution = Some(how);
                        out.resolved.push(b.id);
                        changed.push(b);
                    } else if b.measure != c.measure {
                        b.measure = c.measure;
                        changed.push(b);
                    }
                }
                (st, Some(mut b)) => {
                    b.resolved_at = Some(now.max(b.since));
                    b.resolution = Some(ended(&st, kind, pr, a));
                    out.resolved.push(b.id);
                    changed.push(b);
                }
                (_, None) => {}
            }
        }
    }
    if let Some(max) = a.max_open_per_author {
        for over in evaluate::open_per_author(max, &prs) {
            let subj = Subject::Author(over.author.to_ascii_lowercase());
            let c = Crossing {
                since: over.since,
                resolved: None,
                measure: u64::from(over.open),
            };
            match open.remove(&subj) {
                Some(mut b) => {
                    if b.measure != c.measure {
                        b.measure = c.measure;
                        changed.push(b);
                    }
                }
                None => {
                    let since = c.since.max(last_resolved.get(&subj).copied().unwrap_or(0));
                    changed.push(new_breach(
                        AgreementKind::MaxOpenPerAuthor,
                        over.pr,
                        &over.author,
                        &c,
                        since,
                    )?);
                }
            }
        }
    }
    // Open breaches nothing above kept: their limit was unset, the author is back under it,
    // or the pull request is no longer tracked.
    for (subj, mut b) in open {
        b.resolved_at = Some(now.max(b.since));
        b.resolution = Some(match subj {
            Subject::Author(_) if a.max_open_per_author.is_some() => {
                format!("down to {} open", a.max_open_per_author.unwrap_or(0))
            }
            _ if a.limit_text(b.kind).is_none() => "the agreement was unset".into(),
            _ => "no longer tracked".into(),
        });
        out.resolved.push(b.id);
        changed.push(b);
    }
    store.put_breaches(team, &changed)?;
    Ok(out)
}

fn closed_at(pr: &PullRequest) -> Option<i64> {
    match pr.state {
        PrState::Open => None,
        _ => pr.merged_at.or(pr.closed_at),
    }
}

/// Why an open breach is no longer crossed.
fn ended(st: &Standing, kind: AgreementKind, pr: &PullRequest, a: &Agreements) -> String {
    match st {
        Standing::Within if kind == AgreementKind::MaxSize => format!(
            "down to {} lines",
            pr.additions.saturating_add(pr.deletions)
        ),
        Standing::Within => "within the limit".into(),
        Standing::Pending { .. } => "its clock started again".into(),
        Standing::NotMeasured if pr.state == PrState::Open && pr.is_draft => "back to draft".into(),
        Standing::NotMeasured if pr.state != PrState::Open => {
            if pr.state == PrState::Merged {
                "merged".into()
            } else {
                "closed".into()
            }
        }
        Standing::NotMeasured if a.limit_text(kind).is_none() => "the agreement was unset".into(),
        Standing::NotMeasured => "no longer measured".into(),
        Standing::Crossed(_) => "ended".into(),
    }
}

/// The evaluator: runs until the bus is gone.
pub async fn run(ctx: Ctx, mut events: Listener) {
    let mut due: HashSet<TeamId> = all_teams(&ctx);
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            event = events.next("agreements") => match event {
                Some(Event::PullsChanged { team }
                    | Event::SyncFinished { team }
                    | Event::AgreementsChanged { team }) => {
                    due.insert(team);
                    tokio::time::sleep(GATHER).await;
                }
                Some(_) => continue,
                None => return,
            },
            _ = tick.tick() => due.extend(all_teams(&ctx)),
        }
        let started = tokio::time::Instant::now();
        for team in std::mem::take(&mut due) {
            let c = ctx.clone();
            let now = crate::store::now();
            let result =
                tokio::task::spawn_blocking(move || evaluate_team(&c.store, team, now)).await;
            if matches!(result, Ok(Ok(_))) {
                CHECKED
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(team, now);
            }
            match result {
                Ok(Ok(o)) if o.opened.is_empty() && o.resolved.is_empty() => {}
                Ok(Ok(o)) => {
                    tracing::info!(
                        team,
                        opened = o.opened.len(),
                        resolved = o.resolved.len(),
                        "working agreements: breaches changed"
                    );
                    ctx.bus.publish(Event::BreachesChanged { team });
                }
                Ok(Err(e)) => {
                    tracing::warn!(team, error = %e, "working agreements not checked; will retry");
                }
                Err(e) => tracing::error!(team, error = %e, "working agreements check panicked"),
            }
        }
        tokio::time::sleep_until(started + MIN_GAP).await;
    }
}

/// Teams with agreements saved.
fn all_teams(ctx: &Ctx) -> HashSet<TeamId> {
    ctx.store
        .teams()
        .map(|ts| {
            ts.into_iter()
                .map(|t| t.id)
                .filter(|t| {
                    ctx.store
                        .agreement_settings(*t)
                        .is_ok_and(|s| s.is_some_and(|s| s.agreements.any()))
                })
                .collect()
        })
        .unwrap_or_default()
}
