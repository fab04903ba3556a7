//! Posting breaches to the team's channel: each one once, and edited (`chat.update`) when it
//! ends. The breach records are the outbox: a message not sent yet is `Unsent` in its record,
//! so nothing is lost across restarts or while Slack is away. Before a post the record says
//! `Sending` (flushed); a daemon killed between the post and its record finds `Sending` on
//! its next round and looks for the message's marker in the channel's recent history before
//! posting again, so nothing is posted twice. One post per second per channel at most, and a
//! 429's `Retry-After` is waited out. A revoked token stops posting and says "reconnect".

use super::api::{SlackApi, SlackError};
use super::{Slack, message};
use crate::context::{Ctx, Event, bus::Listener};
use crate::store::{BreachRecord, DigestRecord, SlackLink, SlackState, StoreError, TeamId};
use std::time::Duration;

/// A round without news, to retry what waits.
const TICK: Duration = Duration::from_secs(15);
/// Slack allows about one message per second per channel.
const PACE: Duration = Duration::from_millis(1_100);
/// Lines about messages that wait, per team.
static WAITING: crate::logging::Throttle =
    crate::logging::Throttle::with_window(Duration::from_secs(300));

/// Rate limits waited out in one round before the round ends.
const MAX_WAITS: u32 = 5;
/// How much of the channel's history a reconciliation reads.
const HISTORY: u32 = 200;

#[derive(Debug, thiserror::Error)]
enum RoundError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Agreements(#[from] crate::agreements::AgreementsError),
    #[error(transparent)]
    Slack(#[from] SlackError),
}

/// Posts until the bus is gone.
pub async fn run(ctx: Ctx, mut events: Listener) {
    // The first tick is at once: what waited across a restart goes first.
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            event = events.next("slack") => match event {
                Some(Event::BreachesChanged { .. }) => {}
                Some(_) => continue,
                None => return,
            },
            _ = tick.tick() => {}
        }
        let Ok(teams) = ctx.store.teams() else {
            continue;
        };
        for team in teams {
            let Ok(Some(link)) = ctx.store.slack_link(team.id) else {
                continue;
            };
            if link.problem.is_some() || link.channel_id.is_none() {
                continue;
            }
            // Slack away for hours retries every round: a line per team every 5 minutes.
            let key = format!("team {}", team.id);
            if let Err(e) = round(&ctx, team.id, link.clone()).await
                && let Some(skipped) = WAITING.allow(&key)
            {
                tracing::warn!(team = team.id, error = %e, "Slack messages wait; will retry{skipped}");
            }
            if let Err(e) = digest_round(&ctx, team.id, &team.name, &link).await
                && let Some(skipped) = WAITING.allow(&format!("{key} digest"))
            {
                tracing::warn!(team = team.id, error = %e, "the Slack digest waits; will retry{skipped}");
            }
        }
    }
}

/// Say on the link why posting stopped (a person must act).
fn stop_posting(ctx: &Ctx, team: TeamId, problem: String) -> Result<(), StoreError> {
    if let Some(mut link) = ctx.store.slack_link(team)? {
        tracing::warn!(team, %problem, "Slack posting stopped");
        link.problem = Some(problem);
        ctx.store.set_slack_link(&link)?;
    }
    Ok(())
}

async fn round(ctx: &Ctx, team: TeamId, link: SlackLink) -> Result<(), RoundError> {
    let Some(channel) = link.channel_id.clone() else {
        return Ok(());
    };
    let token = match Slack::token(ctx, team) {
        Ok(t) => t,
        Err(e) => {
            stop_posting(
                ctx,
                team,
                format!("the Slack token cannot be read ({e}): reconnect"),
            )?;
            return Ok(());
        }
    };
    let api = Slack::api(ctx);
    let store = &ctx.store;
    let names = crate::agreements::repo_names(store, team)?;
    let web_url = ctx.github.live().github.web_url.clone();
    let mut breaches = store.breaches(team)?;
    breaches.sort_by_key(|b| b.id);
    let mut queue: std::collections::VecDeque<BreachRecord> = breaches.into();
    let mut waits = 0;
    while let Some(mut b) = queue.pop_front() {
        let result = match &b.slack {
            SlackState::Sending { channel: ch, at } => {
                let (ch, at) = (ch.clone(), *at);
                match reconcile(ctx, &api, &token, &mut b, &ch, at).await {
                    Ok(()) if b.slack == SlackState::Unsent && b.resolved_at.is_none() => {
                        post(ctx, &api, &token, &mut b, &channel, &names, &web_url).await
                    }
                    other => other,
                }
            }
            SlackState::Unsent if b.since < link.connected_at || b.resolved_at.is_some() => {
                b.slack = SlackState::NotSent {
                    reason: if b.resolved_at.is_some() {
                        "it had ended before it could be posted".into()
                    } else {
                        "it began before Slack was connected".into()
                    },
                };
                store.set_breach_slack(team, b.id, b.slack.clone())?;
                Ok(())
            }
            SlackState::Unsent => post(ctx, &api, &token, &mut b, &channel, &names, &web_url).await,
            SlackState::Posted {
                channel: ch, ts, ..
            } if b.resolved_at.is_some() => {
                let (ch, ts) = (ch.clone(), ts.clone());
                update(ctx, &api, &token, &mut b, &ch, &ts, &names, &web_url).await
            }
            _ => Ok(()),
        };
        match result {
            Ok(()) => {}
            // Waited out, then the same message again (a few times per round at most).
            Err(RoundError::Slack(SlackError::RateLimited(wait))) if waits < MAX_WAITS => {
                tracing::info!(team, wait_s = wait.as_secs(), "Slack rate limit: waiting");
                tokio::time::sleep(wait).await;
                waits += 1;
                let again = store.breach(team, b.id)?.unwrap_or(b);
                queue.push_front(again);
            }
            Err(RoundError::Slack(SlackError::RateLimited(wait))) => {
                tokio::time::sleep(wait).await;
                return Ok(());
            }
            Err(RoundError::Slack(e)) if e.is_revoked() => {
                stop_posting(
                    ctx,
                    team,
                    format!(
                        "Slack refused the token ({e}): reconnect with `tidemark connect slack`"
                    ),
                )?;
                return Ok(());
            }
            Err(RoundError::Slack(e)) if e.is_channel_problem() => {
                stop_posting(
                    ctx,
                    team,
                    format!(
                        "the channel cannot take messages ({e}): pick one with `tidemark slack channel`"
                    ),
                )?;
                return Ok(());
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// What a breach names, for its message.
fn named(
    ctx: &Ctx,
    team: TeamId,
    b: &BreachRecord,
    names: &std::collections::HashMap<u64, String>,
    web_url: &str,
) -> Result<(String, String, String, Vec<String>), StoreError> {
    let repo = names
        .get(&b.repo_id)
        .cloned()
        .unwrap_or_else(|| format!("repository {}", b.repo_id));
    let title = ctx
        .store
        .pull_request(team, b.repo_id, b.number)?
        .map(|p| p.title)
        .unwrap_or_default();
    let url = crate::agreements::pr_url(web_url, &repo, b.number);
    let people = crate::agreements::people(&ctx.store, team, b)?;
    Ok((repo, title, url, people))
}

async fn post(
    ctx: &Ctx,
    api: &SlackApi,
    token: &crate::crypto::Secret,
    b: &mut BreachRecord,
    channel: &str,
    names: &std::collections::HashMap<u64, String>,
    web_url: &str,
) -> Result<(), RoundError> {
    let team = b.team_id;
    let (repo, title, url, people) = named(ctx, team, b, names, web_url)?;
    let text = message::opened(b, &repo, &title, &url, &people);
    // Recorded (and on disk) before the send: see the module comment.
    b.slack = SlackState::Sending {
        channel: channel.to_string(),
        at: crate::store::now(),
    };
    ctx.store.set_breach_slack(team, b.id, b.slack.clone())?;
    ctx.store.flush_async().await?;
    crate::failpoint::hit("slack:before_post");
    match api.post(token, channel, &text).await {
        Ok(ts) => {
            crate::failpoint::hit("slack:after_post");
            let at = crate::store::now();
            b.slack = SlackState::Posted {
                channel: channel.to_string(),
                ts,
                at,
            };
            ctx.store.set_breach_slack(team, b.id, b.slack.clone())?;
            ctx.store.note_slack_sent(team, at)?;
            tokio::time::sleep(PACE).await;
            Ok(())
        }
        // Slack answered: nothing was posted, so it can go again.
        Err(e @ (SlackError::Api(_) | SlackError::RateLimited(_))) => {
            b.slack = SlackState::Unsent;
            ctx.store.set_breach_slack(team, b.id, b.slack.clone())?;
            Err(e.into())
        }
        // No answer: it may have been posted. `Sending` stays; the next round looks.
        Err(e) => Err(e.into()),
    }
}

#[allow(clippy::too_many_arguments)]
async fn update(
    ctx: &Ctx,
    api: &SlackApi,
    token: &crate::crypto::Secret,
    b: &mut BreachRecord,
    channel: &str,
    ts: &str,
    names: &std::collections::HashMap<u64, String>,
    web_url: &str,
) -> Result<(), RoundError> {
    let team = b.team_id;
    let (repo, title, url, people) = named(ctx, team, b, names, web_url)?;
    let text = message::resolved(b, &repo, &title, &url, &people);
    match api.update(token, channel, ts, &text).await {
        Ok(()) => {}
        // The message was deleted in Slack: nothing to edit, and nothing posted again.
        Err(SlackError::Api(code)) if code == "message_not_found" => {}
        Err(e) => return Err(e.into()),
    }
    b.slack = SlackState::Updated {
        channel: channel.to_string(),
        ts: ts.to_string(),
        at: crate::store::now(),
    };
    ctx.store.set_breach_slack(team, b.id, b.slack.clone())?;
    tokio::time::sleep(PACE).await;
    Ok(())
}

/// A send was started and its answer not recorded: find the message by its marker, else let
/// it go again.
async fn reconcile(
    ctx: &Ctx,
    api: &SlackApi,
    token: &crate::crypto::Secret,
    b: &mut BreachRecord,
    channel: &str,
    at: i64,
) -> Result<(), RoundError> {
    let marker = message::marker(b.id);
    let recent = api.history(token, channel, at - 60, HISTORY).await?;
    b.slack = match recent.into_iter().find(|m| m.text.ends_with(&marker)) {
        Some(m) => {
            tracing::info!(
                team = b.team_id,
                breach = b.id,
                "Slack message found after an interrupted send"
            );
            ctx.store.note_slack_sent(b.team_id, at)?;
            SlackState::Posted {
                channel: channel.to_string(),
                ts: m.ts,
                at,
            }
        }
        None => SlackState::Unsent,
    };
    ctx.store
        .set_breach_slack(b.team_id, b.id, b.slack.clone())?;
    Ok(())
}

/// The team's daily digest: composed once its local time passes the chosen time, kept as a
/// record, then posted as breaches are (recorded before the send, found again by its marker).
async fn digest_round(
    ctx: &Ctx,
    team: TeamId,
    name: &str,
    link: &SlackLink,
) -> Result<(), RoundError> {
    if link.problem.is_some() {
        return Ok(());
    }
    let Some(channel) = link.channel_id.clone() else {
        return Ok(());
    };
    let a = crate::agreements::get(&ctx.store, team)?;
    let Some(at) = a.digest_at else {
        return Ok(());
    };
    let clock =
        crate::agreements::clock_of(&a).map_err(crate::agreements::AgreementsError::from)?;
    let now = crate::store::now();
    let today = clock.date_of(now).to_string();
    let store = &ctx.store;
    if clock.minute_of(now) >= at && store.digest(team, &today)?.is_none() {
        let (c, n) = (ctx.clone(), name.to_string());
        let composed = tokio::task::spawn_blocking(move || {
            crate::agreements::digest::compose(&c.store, team, &n, now)
        })
        .await
        .map_err(|e| StoreError::Io(e.to_string()))??;
        let web_url = ctx.github.live().github.web_url.clone();
        store.put_digest(&DigestRecord {
            team_id: team,
            date: today.clone(),
            text: message::digest(&composed, &today, &web_url),
            slack: SlackState::Unsent,
        })?;
    }
    let token = Slack::token(ctx, team).map_err(|e| SlackError::Protocol(e.to_string()))?;
    let api = Slack::api(ctx);
    for mut d in store.digests_waiting(team)? {
        if d.date != today {
            d.slack = SlackState::NotSent {
                reason: "its day had passed before it could be posted".into(),
            };
            store.put_digest(&d)?;
            continue;
        }
        if let SlackState::Sending { channel: ch, at } = &d.slack {
            let marker = message::digest_marker(&d.date);
            let recent = api.history(&token, ch, at - 60, HISTORY).await?;
            d.slack = match recent.into_iter().find(|m| m.text.ends_with(&marker)) {
                Some(m) => SlackState::Posted {
                    channel: ch.clone(),
                    ts: m.ts,
                    at: *at,
                },
                None => SlackState::Unsent,
            };
            store.put_digest(&d)?;
        }
        if d.slack != SlackState::Unsent {
            continue;
        }
        d.slack = SlackState::Sending {
            channel: channel.clone(),
            at: crate::store::now(),
        };
        store.put_digest(&d)?;
        store.flush_async().await?;
        match api.post(&token, &channel, &d.text).await {
            Ok(ts) => {
                let at = crate::store::now();
                d.slack = SlackState::Posted {
                    channel: channel.clone(),
                    ts,
                    at,
                };
                store.put_digest(&d)?;
                store.note_slack_sent(team, at)?;
                tracing::info!(team, date = %d.date, "Slack digest posted");
            }
            Err(e @ (SlackError::Api(_) | SlackError::RateLimited(_))) => {
                d.slack = SlackState::Unsent;
                store.put_digest(&d)?;
                if let SlackError::RateLimited(wait) = e {
                    tokio::time::sleep(wait).await;
                }
                if e.is_revoked() {
                    stop_posting(
                        ctx,
                        team,
                        format!(
                            "Slack refused the token ({e}): reconnect with `tidemark connect slack`"
                        ),
                    )?;
                }
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
