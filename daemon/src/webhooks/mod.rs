//! GitHub webhooks: verified (`verify`), written durably before they are acknowledged
//! (`receiver`; `writer` commits them to the store's spool in groups), deduplicated by delivery id, and
//! applied afterwards (`apply`). The hooks themselves are made, moved and healed by `hooks`,
//! `org_hook` and `heal`, on the bus's events ([`listen`]).
//! `parse` is the pure part of that (signature check, typed view of a body), which the fuzz
//! target (`fuzz`, `daemon/fuzz/`) and the property tests (`proptests`) call.

pub mod apply;
pub mod body;
pub mod budget;
pub mod conns;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzz;
pub mod heal;
pub mod hooks;
pub mod index;
pub mod org_hook;
pub mod parse;
#[cfg(test)]
mod proptests;
pub mod receiver;
pub mod refusals;
pub mod verify;
pub mod writer;

use crate::context::{Context, Ctx, Event};
use crate::store::TeamId;
use std::sync::Arc;
use tidemark_protocol::WebhookIntake;

/// Events tidemark asks its repository webhooks for, as a hook's `events` list
/// (`github::events::REPOSITORY_HOOK`). Hooks whose events differ are corrected when healed.
pub const EVENTS: &[&str] = &crate::github::events::REPOSITORY_HOOK_NAMES;

/// Events tidemark asks its organization webhook for (`org_hook.rs`): members added and removed.
pub const ORG_EVENTS: &[&str] = &crate::github::events::ORGANIZATION_HOOK_NAMES;

/// What the team's webhook deliveries met besides being applied (for `status`): replays
/// ignored, refusals for a full backlog, re-reads held for the rate budget.
pub fn intake(ctx: &Context, team: TeamId) -> WebhookIntake {
    let i = ctx.store.inbox_intake(team);
    let budget = ctx.github.budget(team);
    let now = crate::store::now();
    WebhookIntake {
        backlog_max: ctx.store.backlog_limits().deliveries,
        replays_ignored: i.replays,
        last_replay_at: i.last_replay_at,
        refused_backlog_full: i.refused,
        last_refused_at: i.last_refused_at,
        held_for_budget: i.held,
        last_held_at: i.last_held_at,
        // Only while it holds: a reset that has passed lets them go at the next round.
        held_until: i.held_until.filter(|&t| t > now),
        webhook_points: budget.webhook_points(),
    }
}

/// Open the webhook listener and start applying what arrives. Returns the bound address and
/// what stops the listener gracefully.
pub fn start(
    ctx: &Arc<Context>,
    addr: std::net::SocketAddr,
) -> std::io::Result<(std::net::SocketAddr, receiver::Stopper)> {
    let written = Arc::new(tokio::sync::Notify::new());
    let writer = writer::start(ctx, written.clone())?;
    let (bound, stopper) = receiver::start(ctx, addr, writer)?;
    let events = ctx.bus.subscribe();
    tokio::spawn(apply::applier(ctx.clone(), written.clone(), events));
    // Deliveries stored before a restart are applied at once; those GitHub could not make while
    // we were down are asked for again.
    written.notify_one();
    tokio::spawn(heal::heal_all(ctx.clone()));
    Ok((bound, stopper))
}

/// Act on what the rest of the daemon publishes: a team connected (its organization hook), a
/// reconciliation due (its hooks healed), a new public URL (every hook moved). Runs whether or
/// not the listener does, as the hooks on GitHub are kept either way. `events` is subscribed by
/// the caller before anything runs, so no event published at start is missed.
pub async fn listen(ctx: Ctx, mut events: crate::context::bus::Listener) {
    while let Some(event) = events.next("webhooks").await {
        let ctx = ctx.clone();
        match event {
            Event::Connected { team } => {
                // Best effort; the reconciliation tries again.
                tokio::spawn(async move { org_hook::ensure_logged(&ctx, team).await });
            }
            Event::ReconcileDue { team } => {
                tokio::spawn(async move {
                    if let Err(e) = heal::heal_team(&ctx, team).await {
                        tracing::warn!(team, error = %e, "webhook self-healing failed");
                    }
                });
            }
            Event::PublicUrlChanged => {
                tokio::spawn(heal::heal_all(ctx));
            }
            Event::HooksChanged
            | Event::SyncFinished { .. }
            | Event::PullsChanged { .. }
            | Event::AgreementsChanged { .. }
            | Event::BreachesChanged { .. }
            | Event::StoreReopened => {}
        }
    }
}
