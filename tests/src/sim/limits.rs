//! GitHub's rate limits: an hourly budget per user and resource (REST `core`, `graphql` points),
//! and secondary limits that tell a client to back off with `retry-after`.

use std::collections::HashMap;

pub const WINDOW: i64 = 3_600;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Resource {
    Core,
    Graphql,
}

impl Resource {
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Core => "core",
            Resource::Graphql => "graphql",
        }
    }
}

/// One budget's state, as the `x-ratelimit-*` headers report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Budget {
    pub resource: Resource,
    pub limit: u64,
    pub used: u64,
    pub reset: i64,
}

impl Budget {
    pub fn remaining(&self) -> u64 {
        self.limit.saturating_sub(self.used)
    }

    pub fn headers(&self) -> Vec<(String, String)> {
        vec![
            ("x-ratelimit-limit".into(), self.limit.to_string()),
            ("x-ratelimit-remaining".into(), self.remaining().to_string()),
            ("x-ratelimit-used".into(), self.used.to_string()),
            ("x-ratelimit-reset".into(), self.reset.to_string()),
            ("x-ratelimit-resource".into(), self.resource.as_str().into()),
        ]
    }
}

/// Why a request may not go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The hourly budget is spent until `reset`.
    Primary(Budget),
    /// Told to wait until this time (secondary limit); `retry_after` seconds from now.
    Secondary { retry_after: u64 },
}

#[derive(Debug, Default)]
pub struct Limits {
    budgets: HashMap<(u64, Resource), Budget>,
    /// user id → time before which the user was told not to come back.
    blocked_until: HashMap<u64, i64>,
}

impl Limits {
    /// The user's budget now (a new window starts when the old one has passed).
    pub fn budget(&mut self, user: u64, resource: Resource, limit: u64, now: i64) -> Budget {
        let b = self.budgets.entry((user, resource)).or_insert(Budget {
            resource,
            limit,
            used: 0,
            reset: now + WINDOW,
        });
        if now >= b.reset {
            b.used = 0;
            b.reset = now + WINDOW;
        }
        b.limit = limit;
        *b
    }

    /// May `user` send a request now? A request that arrives while the user was told to wait is
    /// refused again: the boolean says it came early.
    pub fn check(
        &mut self,
        user: u64,
        resource: Resource,
        limit: u64,
        now: i64,
    ) -> Result<Budget, (Refusal, bool)> {
        if let Some(until) = self.blocked_until.get(&user).copied() {
            if now < until {
                return Err((
                    Refusal::Secondary {
                        retry_after: (until - now) as u64,
                    },
                    true,
                ));
            }
            self.blocked_until.remove(&user);
        }
        let b = self.budget(user, resource, limit, now);
        if b.remaining() == 0 {
            return Err((Refusal::Primary(b), true));
        }
        Ok(b)
    }

    /// Spend `cost` from the budget (it may go to zero, never below).
    pub fn charge(
        &mut self,
        user: u64,
        resource: Resource,
        limit: u64,
        cost: u64,
        now: i64,
    ) -> Budget {
        self.budget(user, resource, limit, now);
        let b = self
            .budgets
            .get_mut(&(user, resource))
            .expect("budget just made");
        b.used = (b.used + cost).min(b.limit);
        *b
    }

    /// Is `user` told to wait (a secondary limit) now?
    pub fn is_blocked(&self, user: u64, now: i64) -> bool {
        self.blocked_until
            .get(&user)
            .is_some_and(|&until| now < until)
    }

    /// Spend `user`'s whole budget of `resource` until `secs` from now.
    pub fn exhaust(&mut self, user: u64, resource: Resource, limit: u64, now: i64, secs: u64) {
        self.budget(user, resource, limit, now);
        let b = self
            .budgets
            .get_mut(&(user, resource))
            .expect("budget just made");
        b.used = b.limit;
        b.reset = now + secs as i64;
    }

    /// Trip the secondary limit for `user` for `secs` seconds.
    pub fn block(&mut self, user: u64, secs: u64, now: i64) {
        self.blocked_until.insert(user, now + secs as i64);
    }

    /// Forget everything (the control API's reset).
    pub fn reset(&mut self) {
        self.budgets.clear();
        self.blocked_until.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spent_budget_refuses_until_reset_then_refills() {
        let mut l = Limits::default();
        for _ in 0..3 {
            l.check(7, Resource::Core, 3, 100).unwrap();
            l.charge(7, Resource::Core, 3, 1, 100);
        }
        let (refusal, early) = l.check(7, Resource::Core, 3, 200).unwrap_err();
        assert!(early);
        assert!(
            matches!(refusal, Refusal::Primary(b) if b.remaining() == 0 && b.reset == 100 + WINDOW)
        );
        // Another user and another resource are untouched.
        assert!(l.check(8, Resource::Core, 3, 200).is_ok());
        assert!(l.check(7, Resource::Graphql, 3, 200).is_ok());
        let b = l.check(7, Resource::Core, 3, 100 + WINDOW).unwrap();
        assert_eq!(b.remaining(), 3);
    }

    #[test]
    fn a_blocked_user_waits_out_retry_after() {
        let mut l = Limits::default();
        l.block(7, 60, 1_000);
        assert_eq!(
            l.check(7, Resource::Core, 10, 1_030).unwrap_err(),
            (Refusal::Secondary { retry_after: 30 }, true)
        );
        assert!(l.check(7, Resource::Core, 10, 1_060).is_ok());
    }
}
