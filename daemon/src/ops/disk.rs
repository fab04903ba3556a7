//! The running daemon's watch over its store's disk, once a second: the free space measured (it
//! decides whether webhook deliveries are admitted, `store/health.rs`) and logged when it runs
//! low or comes back, sled probed with a flush (its own flusher may have failed with no call of
//! ours to see it), and a store whose sled failed to write reopened: once the disk has room
//! again after a full disk, at once otherwise, then with a backoff while reopening fails.
//! No restart is needed; the log says what happens, `doctor` shows it (control socket).

use crate::context::Context;
use crate::logging::Throttle;
use crate::store::health::bytes;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

const TICK: Duration = Duration::from_secs(1);
const REOPEN_BACKOFF_MIN: Duration = Duration::from_secs(1);
const REOPEN_BACKOFF_MAX: Duration = Duration::from_secs(60);
/// While space stays low, or the store waits for it, a reminder every 5 minutes.
static REMINDER: Throttle = Throttle::with_window(Duration::from_secs(300));
const UNREADABLE: &str = "space unreadable";
const LOW: &str = "space low";
const WAITING: &str = "store waits for space";

struct Watch {
    low: bool,
    next_reopen: Instant,
    backoff: Duration,
}

/// Start watching on a thread of its own (a flush or a reopen blocks); it ends with the daemon.
pub fn start(ctx: &Arc<Context>) -> std::io::Result<()> {
    let weak = Arc::downgrade(ctx);
    std::thread::Builder::new()
        .name("disk-watch".into())
        .spawn(move || run(weak))?;
    Ok(())
}

fn run(ctx: Weak<Context>) {
    let mut watch = Watch {
        low: false,
        next_reopen: Instant::now(),
        backoff: REOPEN_BACKOFF_MIN,
    };
    loop {
        std::thread::sleep(TICK);
        let Some(ctx) = ctx.upgrade() else {
            return;
        };
        tick(&ctx, &mut watch);
    }
}

fn tick(ctx: &Context, watch: &mut Watch) {
    let store = &ctx.store;
    let space = match store.health().measure() {
        Ok(space) => Some(space),
        Err(e) => {
            if let Some(skipped) = REMINDER.allow(UNREADABLE) {
                tracing::warn!(error = %e, "the free space of the store's filesystem cannot be read; webhook deliveries are refused{skipped}");
            }
            None
        }
    };
    if let Some(space) = space {
        if space.is_low() {
            if REMINDER.allow(LOW).is_some() {
                tracing::warn!(free = %bytes(space.free), margin = %bytes(space.margin), "low disk space on the store's filesystem: webhook deliveries are refused (503) until more than the margin is free");
            }
            watch.low = true;
        } else if watch.low {
            watch.low = false;
            REMINDER.settle(LOW);
            tracing::info!(free = %bytes(space.free), "disk space is back above the margin: webhook deliveries are accepted again");
        }
    }
    let Some(failure) = store.health().failure() else {
        // An error is recorded by the store itself (`sled_error`), logged there.
        let _ = store.probe();
        return;
    };
    let now = Instant::now();
    if now < watch.next_reopen {
        return;
    }
    if failure.disk_full && space.is_none_or(|s| s.is_low()) {
        if REMINDER.allow(WAITING).is_some() {
            tracing::warn!(
                since = failure.since,
                "the store waits for disk space to reopen: free more than the margin on its filesystem"
            );
        }
        return;
    }
    match store.reopen() {
        Ok(()) => {
            watch.backoff = REOPEN_BACKOFF_MIN;
            REMINDER.settle(WAITING);
            // Anything a lost write had changed in the hook index is read again, and what
            // waits in the inbox is applied now rather than at the applier's next retry.
            ctx.bus.publish(crate::context::Event::HooksChanged);
            ctx.bus.publish(crate::context::Event::StoreReopened);
        }
        Err(e) => {
            tracing::error!(error = %e, retry_in_s = watch.backoff.as_secs(), "the store could not be reopened; tried again later");
            watch.next_reopen = now + watch.backoff;
            watch.backoff = (watch.backoff * 2).min(REOPEN_BACKOFF_MAX);
        }
    }
}
