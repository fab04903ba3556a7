//! Rate limits (per channel for `chat.postMessage`, per method for the rest) and the faults the
//! control API switches on.
//!
//! Slack allows about one message a second per channel "with short bursts", and each method a
//! tier of calls per minute; over it, HTTP 429 with `Retry-After` in whole seconds. A token
//! bucket models both: `burst` calls at once, one more every `interval_ms`. `Retry-After` is
//! rounded up, so a client that waits exactly that long is always let through.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// Calls allowed at once.
    pub burst: u32,
    /// One more call allowed every this many milliseconds.
    pub interval_ms: u64,
}

impl Bucket {
    /// `n` calls a minute (Slack's tiers), all of them allowed at once.
    pub const fn per_minute(n: u32) -> Bucket {
        Bucket {
            burst: n,
            interval_ms: 60_000 / n as u64,
        }
    }
}

/// Slack's published tiers for the methods the simulator has (calls per minute per workspace).
pub fn default_method_limits() -> BTreeMap<String, Bucket> {
    [
        ("auth.test", Bucket::per_minute(100)),
        ("auth.revoke", Bucket::per_minute(50)),
        ("conversations.list", Bucket::per_minute(20)),
        ("conversations.history", Bucket::per_minute(50)),
        ("chat.update", Bucket::per_minute(50)),
    ]
    .into_iter()
    .map(|(m, b)| (m.to_string(), b))
    .collect()
}

/// The limits in force (`GET`/`POST /_sim/limits`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimitSettings {
    /// `chat.postMessage` per channel; None: unlimited.
    pub post_per_channel: Option<Bucket>,
    /// Method name → its limit; a method not named is unlimited.
    pub methods: BTreeMap<String, Bucket>,
}

#[derive(Debug)]
struct Level {
    tokens: f64,
    at: Instant,
}

#[derive(Debug)]
pub struct Limits {
    pub settings: LimitSettings,
    /// ("post", channel id) or ("method", name) → fill.
    levels: HashMap<(&'static str, String), Level>,
}

impl Limits {
    pub fn new(settings: LimitSettings) -> Limits {
        Limits {
            settings,
            levels: HashMap::new(),
        }
    }

    pub fn set(&mut self, settings: LimitSettings) {
        self.settings = settings;
        self.levels.clear();
    }

    /// Take a call for `method`; Err(seconds to wait) when over the limit.
    pub fn method(&mut self, method: &str) -> Result<(), u64> {
        match self.settings.methods.get(method).copied() {
            Some(b) => self.take(("method", method.to_string()), b),
            None => Ok(()),
        }
    }

    /// Take a post to `channel`; Err(seconds to wait) when over the limit.
    pub fn post(&mut self, channel: &str) -> Result<(), u64> {
        match self.settings.post_per_channel {
            Some(b) => self.take(("post", channel.to_string()), b),
            None => Ok(()),
        }
    }

    fn take(&mut self, key: (&'static str, String), b: Bucket) -> Result<(), u64> {
        let now = Instant::now();
        let interval = Duration::from_millis(b.interval_ms.max(1)).as_secs_f64();
        let level = self.levels.entry(key).or_insert(Level {
            tokens: f64::from(b.burst),
            at: now,
        });
        let refill = now.duration_since(level.at).as_secs_f64() / interval;
        level.tokens = (level.tokens + refill).min(f64::from(b.burst));
        level.at = now;
        if level.tokens >= 1.0 {
            level.tokens -= 1.0;
            Ok(())
        } else {
            // Whole seconds, rounded up, at least 1: what Slack's header carries.
            let wait = (1.0 - level.tokens) * interval;
            Err((wait.ceil() as u64).max(1))
        }
    }
}

/// What an injected fault does to a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// HTTP 429 `ratelimited` with `Retry-After: retry_after`, the call not carried out.
    Ratelimited,
    /// The connection is reset before the call is carried out.
    Reset,
    /// The call is carried out (a post is stored), then the connection is reset before the
    /// answer: the client cannot tell whether it happened.
    ResetAfter,
    /// HTTP 500, the call not carried out.
    #[serde(rename = "error_500")]
    Error500,
}

/// "The next `n` calls of `method` (any method when None) fail as `kind`."
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    #[serde(default)]
    pub method: Option<String>,
    pub kind: FaultKind,
    #[serde(default = "one")]
    pub n: u32,
    /// Seconds, for `ratelimited`.
    #[serde(default = "one_u64")]
    pub retry_after: u64,
}

fn one() -> u32 {
    1
}

fn one_u64() -> u64 {
    1
}

/// Take the first rule that matches `method`, spending one of its calls.
pub fn take_fault(rules: &mut Vec<FaultRule>, method: &str) -> Option<FaultRule> {
    let i = rules
        .iter()
        .position(|r| r.n > 0 && r.method.as_deref().is_none_or(|m| m == method))?;
    rules[i].n -= 1;
    let rule = rules[i].clone();
    if rules[i].n == 0 {
        rules.remove(i);
    }
    Some(rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_names_a_whole_second_wait() {
        let mut l = Limits::new(LimitSettings {
            post_per_channel: Some(Bucket {
                burst: 2,
                interval_ms: 1500,
            }),
            methods: BTreeMap::new(),
        });
        assert_eq!(l.post("C1"), Ok(()));
        assert_eq!(l.post("C1"), Ok(()));
        assert_eq!(l.post("C1"), Err(2));
        // Channels are limited apart.
        assert_eq!(l.post("C2"), Ok(()));
        assert_eq!(l.method("anything"), Ok(()));
    }

    #[test]
    fn fault_rules_are_spent_in_order() {
        let mut rules = vec![
            FaultRule {
                method: Some("chat.postMessage".into()),
                kind: FaultKind::Reset,
                n: 1,
                retry_after: 1,
            },
            FaultRule {
                method: None,
                kind: FaultKind::Error500,
                n: 2,
                retry_after: 1,
            },
        ];
        assert_eq!(
            take_fault(&mut rules, "auth.test").unwrap().kind,
            FaultKind::Error500
        );
        assert_eq!(
            take_fault(&mut rules, "chat.postMessage").unwrap().kind,
            FaultKind::Reset
        );
        assert_eq!(
            take_fault(&mut rules, "chat.postMessage").unwrap().kind,
            FaultKind::Error500
        );
        assert!(take_fault(&mut rules, "chat.postMessage").is_none());
    }
}
