//! GitHub's rate limits as one integration sees them: the budgets from every response's
//! `x-ratelimit-*` headers (and GraphQL's `rateLimit`), and the rule that no request leaves
//! before a `retry-after` or an exhausted budget's reset. Also bounds requests in flight, and
//! holds the share of the budget that webhook re-reads may spend ([`WEBHOOK_SHARE_PERCENT`]).

use std::sync::Mutex;
use std::time::Duration;
use tidemark_protocol::RateBudget;
use tokio::sync::{Semaphore, SemaphorePermit};

/// Requests in flight at once per integration (GitHub asks for no concurrency; a little is fine).
pub const MAX_IN_FLIGHT: usize = 3;

/// GitHub's rule for a secondary limit that names no `retry-after`: wait at least a minute.
pub const SECONDARY_WAIT: Duration = Duration::from_secs(60);
/// ... and back off exponentially while it persists, up to this many times the first wait.
const SECONDARY_MAX_FACTOR: u32 = 16;

/// The share of GitHub's GraphQL budget (points per rate-limit window, 5,000 an hour for a user)
/// that re-reads caused by webhooks may spend. They go only while GitHub's remaining budget is
/// above the rest of it and while what they spent in this window is below it (see
/// [`webhook_hold`]): a flood of deliveries spends at most this share, and the periodic sync
/// always finds the rest. GitHub's remaining is the user's, shared by every token of theirs,
/// so another team connected by the same GitHub user keeps its sync too.
pub const WEBHOOK_SHARE_PERCENT: u64 = 50;

#[derive(Debug, Default)]
struct State {
    core: Option<RateBudget>,
    graphql: Option<RateBudget>,
    /// Unix seconds before which nothing may be sent (secondary limit's retry-after).
    not_before: i64,
    /// Secondary limits without `retry-after` in a row (each doubles the wait).
    secondary_strikes: u32,
    requests: u64,
    /// Points webhook re-reads spent in the window that ends at `webhook_window`.
    webhook_points: u64,
    webhook_window: i64,
}

/// The rule for webhook re-reads: None when one may go now; else until when they wait (the
/// budget's reset). `graphql` is GitHub's latest answer, `spent` what webhook re-reads spent
/// in the window ending at `window`. Unknown budget: go (the first answer tells); a window
/// that has passed is full again.
pub fn webhook_hold(
    graphql: Option<&RateBudget>,
    spent: u64,
    window: i64,
    now: i64,
) -> Option<i64> {
    let b = graphql?;
    if b.reset_at <= now {
        return None;
    }
    let share = b.limit * WEBHOOK_SHARE_PERCENT / 100;
    let spent = if now < window { spent } else { 0 };
    // The sync's share, which webhook re-reads never dip into.
    let reserve = b.limit - share;
    (b.remaining <= reserve || spent >= share).then_some(b.reset_at)
}

#[derive(Debug)]
pub struct Budget {
    state: Mutex<State>,
    in_flight: Semaphore,
    /// The first wait after a secondary limit without `retry-after` ([`SECONDARY_WAIT`]), in
    /// milliseconds; a reload may change it.
    secondary_wait_ms: std::sync::atomic::AtomicU64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget::new(SECONDARY_WAIT)
    }
}

/// Which budget a request spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Core,
    Graphql,
}

impl Budget {
    pub fn new(secondary_wait: Duration) -> Budget {
        Budget {
            state: Mutex::new(State::default()),
            in_flight: Semaphore::new(MAX_IN_FLIGHT),
            secondary_wait_ms: std::sync::atomic::AtomicU64::new(secondary_wait.as_millis() as u64),
        }
    }

    /// A new first wait after a secondary limit (the settings were reloaded).
    pub fn set_secondary_wait(&self, wait: Duration) {
        self.secondary_wait_ms.store(
            wait.as_millis() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    fn secondary_wait(&self) -> Duration {
        Duration::from_millis(
            self.secondary_wait_ms
                .load(std::sync::atomic::Ordering::Relaxed),
        )
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Wait until a request for `resource` may go, and hold a slot while it is in flight.
    pub async fn turn(&self, resource: Resource, on_wait: impl Fn(i64)) -> SemaphorePermit<'_> {
        let permit = self
            .in_flight
            .acquire()
            .await
            .expect("the semaphore is never closed");
        loop {
            let until = {
                let s = self.state();
                let spent = match resource {
                    Resource::Core => s.core.as_ref(),
                    Resource::Graphql => s.graphql.as_ref(),
                }
                .filter(|b| b.remaining == 0)
                // GitHub's reset is in whole seconds: one more to be sure it has passed.
                .map_or(0, |b| b.reset_at + 1);
                s.not_before.max(spent)
            };
            let now = crate::store::now();
            if until <= now {
                break;
            }
            on_wait(until);
            tokio::time::sleep(Duration::from_secs((until - now) as u64)).await;
        }
        self.state().requests += 1;
        permit
    }

    /// Read `x-ratelimit-*` from a response.
    pub fn observe_headers(&self, headers: &reqwest::header::HeaderMap) {
        let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
        let num = |n: &str| get(n).and_then(|v| v.trim().parse::<i64>().ok());
        let (Some(limit), Some(remaining), Some(reset)) = (
            num("x-ratelimit-limit"),
            num("x-ratelimit-remaining"),
            num("x-ratelimit-reset"),
        ) else {
            return;
        };
        let resource = get("x-ratelimit-resource").unwrap_or("core").to_string();
        let b = RateBudget {
            resource: resource.clone(),
            limit: limit.max(0) as u64,
            remaining: remaining.max(0) as u64,
            reset_at: reset,
            seen_at: Some(crate::store::now()),
        };
        let mut s = self.state();
        match resource.as_str() {
            "graphql" => s.graphql = Some(b),
            "core" => s.core = Some(b),
            _ => {}
        }
    }

    /// GraphQL's own account of a query (`rateLimit { remaining resetAt }`).
    pub fn observe_graphql(&self, remaining: u64, reset_at: i64) {
        let mut s = self.state();
        let limit = s.graphql.as_ref().map_or(5_000, |b| b.limit);
        s.graphql = Some(RateBudget {
            resource: "graphql".into(),
            limit,
            remaining,
            reset_at,
            seen_at: Some(crate::store::now()),
        });
    }

    /// Whether a webhook re-read may go now ([`webhook_hold`]): None, or until when it waits.
    pub fn webhook_hold(&self) -> Option<i64> {
        let s = self.state();
        webhook_hold(
            s.graphql.as_ref(),
            s.webhook_points,
            s.webhook_window,
            crate::store::now(),
        )
    }

    /// A webhook re-read's answer cost `points` (GraphQL's `rateLimit.cost`).
    pub fn webhook_spent(&self, points: u64) {
        let now = crate::store::now();
        let mut s = self.state();
        if now >= s.webhook_window {
            // A new window: counted from zero, until the reset GitHub gives (an hour without).
            s.webhook_points = 0;
            s.webhook_window = s
                .graphql
                .as_ref()
                .map(|b| b.reset_at)
                .filter(|&r| r > now)
                .unwrap_or(now + 3600);
        }
        s.webhook_points += points;
    }

    /// Points webhook re-reads spent in the current window.
    pub fn webhook_points(&self) -> u64 {
        let s = self.state();
        if crate::store::now() < s.webhook_window {
            s.webhook_points
        } else {
            0
        }
    }

    /// A secondary limit: nothing goes out for `retry_after`.
    pub fn back_off(&self, retry_after: Duration) {
        let until = crate::store::now() + retry_after.as_secs().max(1) as i64;
        let mut s = self.state();
        s.not_before = s.not_before.max(until);
    }

    /// A secondary limit, as GitHub asks: its `retry-after` when it gave one; else at least
    /// the first wait (a minute), doubling each time it comes again without a success between.
    /// Returns how long nothing goes out.
    pub fn secondary(&self, retry_after: Option<Duration>) -> Duration {
        let wait = match retry_after {
            Some(d) => d,
            None => {
                let strikes = {
                    let mut s = self.state();
                    s.secondary_strikes += 1;
                    s.secondary_strikes
                };
                let factor = 1u32
                    .checked_shl(strikes - 1)
                    .unwrap_or(u32::MAX)
                    .min(SECONDARY_MAX_FACTOR);
                self.secondary_wait() * factor
            }
        };
        self.back_off(wait);
        wait
    }

    /// An answer that was not a limit: the next secondary limit starts from the first wait.
    pub fn succeeded(&self) {
        self.state().secondary_strikes = 0;
    }

    /// The reset GitHub last gave for `resource`'s budget, if it is still ahead.
    pub fn known_reset(&self, resource: Resource) -> Option<i64> {
        let s = self.state();
        match resource {
            Resource::Core => s.core.as_ref(),
            Resource::Graphql => s.graphql.as_ref(),
        }
        .map(|b| b.reset_at)
        .filter(|&r| r > crate::store::now())
    }

    /// The primary budget is spent until `reset`.
    pub fn exhausted(&self, resource: Resource, reset: i64) {
        let mut s = self.state();
        let slot = match resource {
            Resource::Core => &mut s.core,
            Resource::Graphql => &mut s.graphql,
        };
        let limit = slot.as_ref().map_or(5_000, |b| b.limit);
        *slot = Some(RateBudget {
            resource: match resource {
                Resource::Core => "core".into(),
                Resource::Graphql => "graphql".into(),
            },
            limit,
            remaining: 0,
            reset_at: reset,
            seen_at: Some(crate::store::now()),
        });
    }

    pub fn snapshot(&self) -> Vec<RateBudget> {
        let s = self.state();
        s.core.iter().chain(s.graphql.iter()).cloned().collect()
    }

    pub fn requests(&self) -> u64 {
        self.state().requests
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn nothing_leaves_before_retry_after_or_a_spent_budgets_reset() {
        let b = Budget::default();
        let now = crate::store::now();
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("x-ratelimit-limit", "5000".parse().unwrap());
        h.insert("x-ratelimit-remaining", "0".parse().unwrap());
        h.insert("x-ratelimit-reset", now.to_string().parse().unwrap());
        h.insert("x-ratelimit-resource", "core".parse().unwrap());
        b.observe_headers(&h);
        let waited = std::sync::Mutex::new(None);
        let _p = b
            .turn(Resource::Core, |until| {
                *waited.lock().unwrap() = Some(until);
            })
            .await;
        assert_eq!(
            *waited.lock().unwrap(),
            Some(now + 1),
            "waits past the reset second"
        );
        // GraphQL's budget is another one: no wait.
        let waited = std::sync::Mutex::new(None);
        drop(
            b.turn(Resource::Graphql, |u| *waited.lock().unwrap() = Some(u))
                .await,
        );
        assert_eq!(*waited.lock().unwrap(), None);
        b.back_off(Duration::from_secs(1));
        let waited = std::sync::Mutex::new(None);
        drop(
            b.turn(Resource::Graphql, |u| *waited.lock().unwrap() = Some(u))
                .await,
        );
        assert!(
            waited.lock().unwrap().is_some(),
            "retry-after holds every request"
        );
        assert_eq!(b.snapshot().len(), 1);
    }

    fn graphql(limit: u64, remaining: u64, reset_at: i64) -> RateBudget {
        RateBudget {
            resource: "graphql".into(),
            limit,
            remaining,
            reset_at,
            seen_at: None,
        }
    }

    /// Webhook re-reads stop while GitHub's remaining budget is at or below the sync's share,
    /// or once they spent their own share of the window; a new window lets them go again.
    #[test]
    fn webhook_re_reads_keep_to_their_share_of_the_budget() {
        let now = 1_000_000;
        let reset = now + 1800;
        // Not known yet: go, the first answer tells.
        assert_eq!(webhook_hold(None, 0, 0, now), None);
        // Plenty left.
        assert_eq!(
            webhook_hold(Some(&graphql(5000, 4990, reset)), 10, reset, now),
            None
        );
        assert_eq!(
            webhook_hold(Some(&graphql(5000, 2501, reset)), 0, reset, now),
            None
        );
        // Down to the sync's half (whoever spent it: the sync, another team of the user).
        assert_eq!(
            webhook_hold(Some(&graphql(5000, 2500, reset)), 0, reset, now),
            Some(reset)
        );
        assert_eq!(
            webhook_hold(Some(&graphql(5000, 0, reset)), 0, reset, now),
            Some(reset)
        );
        // Their own share spent, whatever GitHub's remaining says.
        assert_eq!(
            webhook_hold(Some(&graphql(5000, 4000, reset)), 2500, reset, now),
            Some(reset)
        );
        // What they spent in a window that has passed does not count.
        assert_eq!(
            webhook_hold(Some(&graphql(5000, 4000, reset)), 2500, now, now),
            None
        );
        // GitHub's window has passed: full again until the next answer.
        assert_eq!(
            webhook_hold(Some(&graphql(5000, 0, now)), 0, now, now),
            None
        );
        // Another limit (an Enterprise server's, a smaller one): the same shares.
        assert_eq!(
            webhook_hold(Some(&graphql(60, 30, reset)), 0, reset, now),
            Some(reset)
        );
        assert_eq!(
            webhook_hold(Some(&graphql(60, 31, reset)), 29, reset, now),
            None
        );
    }

    #[test]
    fn the_budget_counts_what_webhook_re_reads_spend_and_holds_them_at_their_share() {
        let b = Budget::default();
        assert_eq!(b.webhook_hold(), None);
        b.observe_graphql(4990, crate::store::now() + 600);
        b.webhook_spent(3);
        b.webhook_spent(2);
        assert_eq!(b.webhook_points(), 5);
        assert_eq!(b.webhook_hold(), None);
        b.webhook_spent(2495);
        assert!(b.webhook_hold().is_some(), "their share is spent");
        let seen = b.snapshot()[0].seen_at.expect("when GitHub said it");
        assert!((crate::store::now() - seen).abs() <= 1);
    }

    #[test]
    fn a_secondary_limit_without_retry_after_waits_a_minute_then_backs_off() {
        let b = Budget::default();
        let waits: Vec<u64> = (0..7).map(|_| b.secondary(None).as_secs()).collect();
        assert_eq!(waits, [60, 120, 240, 480, 960, 960, 960]);
        let now = crate::store::now();
        let not_before = b.state().not_before;
        assert!(
            (now + 959..=now + 961).contains(&not_before),
            "{not_before} vs {now}"
        );
        // A success between: the next one starts from a minute again.
        b.succeeded();
        assert_eq!(b.secondary(None).as_secs(), 60);
        // GitHub's own time wins when it names one, and does not count as a strike.
        assert_eq!(b.secondary(Some(Duration::from_secs(5))).as_secs(), 5);
        assert_eq!(b.secondary(None).as_secs(), 120);
        // The first wait is a setting (tests shorten it); the doubling stays.
        let quick = Budget::new(Duration::from_secs(2));
        assert_eq!(quick.secondary(None).as_secs(), 2);
        assert_eq!(quick.secondary(None).as_secs(), 4);
    }
}
