//! Logs go to stderr (journald picks them up under systemd); `RUST_LOG` filters, default `info`.
//!
//! [`Throttle`] keeps a line that can repeat in a tight loop (a failing `accept`, a peer that
//! misbehaves over and over) from filling the disk: at most one line per key per window, and
//! the next line says how many were left out.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Rate limit for repeated log lines: at most one line per key per window.
///
/// ```
/// use tidemark_daemon::logging::Throttle;
/// static ACCEPT_FAILED: Throttle = Throttle::new();
/// # let e = "Too many open files";
/// if let Some(skipped) = ACCEPT_FAILED.allow("rpc accept") {
///     tracing::warn!(error = %e, "accept failed{skipped}");
/// }
/// ```
///
/// Keys name a line, not a peer: a small fixed set (the call site, perhaps the error's kind).
/// Past [`Throttle::MAX_KEYS`] live keys a new key is left out, so keys taken from input cannot
/// grow it without bound.
#[derive(Debug)]
pub struct Throttle {
    window: Duration,
    keys: Mutex<Option<HashMap<String, Window>>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    /// When the last line for this key was let through.
    logged_at: Instant,
    /// Lines left out since then.
    skipped: u64,
}

/// What [`Throttle::allow`] hands back when a line may be written: how many were left out in the
/// window before it. Its `Display` is empty when none were, else ` (… N more in the last 10 s)`,
/// so it can end the message as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Skipped {
    pub count: u64,
    pub window: Duration,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.count > 0 {
            write!(
                f,
                " (… {} more in the last {} s)",
                self.count,
                self.window.as_secs()
            )?;
        }
        Ok(())
    }
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle::new()
    }
}

impl Throttle {
    pub const WINDOW: Duration = Duration::from_secs(10);
    pub const MAX_KEYS: usize = 256;

    /// One line per key per 10 s. `const`, so a throttle can be a `static` beside its log line.
    pub const fn new() -> Throttle {
        Throttle::with_window(Throttle::WINDOW)
    }

    pub const fn with_window(window: Duration) -> Throttle {
        Throttle {
            window,
            keys: Mutex::new(None),
        }
    }

    /// `Some` when a line for `key` may be written now (with the count left out before it),
    /// `None` when it is to be left out (and counted).
    pub fn allow(&self, key: &str) -> Option<Skipped> {
        self.allow_at(key, Instant::now())
    }

    /// [`Throttle::allow`] at a given time (tests).
    pub fn allow_at(&self, key: &str, now: Instant) -> Option<Skipped> {
        let mut guard = self
            .keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let keys = guard.get_or_insert_with(HashMap::new);
        if let Some(w) = keys.get_mut(key) {
            if now.saturating_duration_since(w.logged_at) < self.window {
                w.skipped += 1;
                return None;
            }
            let skipped = self.skipped(w.skipped);
            *w = Window {
                logged_at: now,
                skipped: 0,
            };
            return Some(skipped);
        }
        if keys.len() >= Self::MAX_KEYS {
            // Forget quiet keys; a key whose window still runs keeps its count.
            keys.retain(|_, w| now.saturating_duration_since(w.logged_at) < self.window);
            if keys.len() >= Self::MAX_KEYS {
                return None;
            }
        }
        keys.insert(
            key.to_string(),
            Window {
                logged_at: now,
                skipped: 0,
            },
        );
        Some(self.skipped(0))
    }

    /// The trouble behind `key` is over (say, an accept succeeded again): forget the key, and
    /// return how many lines were left out since the last one written, if any, so the caller
    /// can say so once.
    pub fn settle(&self, key: &str) -> Option<Skipped> {
        let mut guard = self
            .keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let w = guard.as_mut()?.remove(key)?;
        (w.skipped > 0).then(|| self.skipped(w.skipped))
    }

    fn skipped(&self, count: u64) -> Skipped {
        Skipped {
            count,
            window: self.window,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn one_line_per_window_then_the_count_of_those_left_out() {
        let t = Throttle::new();
        let t0 = Instant::now();
        let first = t.allow_at("accept", t0).expect("the first line is written");
        assert_eq!(first.count, 0);
        assert_eq!(first.to_string(), "");
        for i in 1..=1000u32 {
            assert_eq!(t.allow_at("accept", t0 + S * i / 200), None, "{i}");
        }
        let next = t.allow_at("accept", t0 + 10 * S).expect("a new window");
        assert_eq!(next.count, 1000);
        assert_eq!(next.to_string(), " (… 1000 more in the last 10 s)");
        // The count starts again.
        assert_eq!(t.allow_at("accept", t0 + 11 * S), None);
        assert_eq!(t.allow_at("accept", t0 + 20 * S).unwrap().count, 1);
        assert_eq!(t.allow_at("accept", t0 + 31 * S).unwrap().count, 0);
    }

    #[test]
    fn keys_are_counted_apart() {
        let t = Throttle::new();
        let t0 = Instant::now();
        assert!(t.allow_at("a", t0).is_some());
        assert!(t.allow_at("b", t0).is_some());
        assert!(t.allow_at("a", t0 + S).is_none());
        assert!(t.allow_at("a", t0 + S).is_none());
        assert!(t.allow_at("b", t0 + S).is_none());
        assert_eq!(t.allow_at("a", t0 + 10 * S).unwrap().count, 2);
        assert_eq!(t.allow_at("b", t0 + 10 * S).unwrap().count, 1);
    }

    #[test]
    fn settle_reports_what_was_left_out_once_and_forgets_the_key() {
        let t = Throttle::new();
        let t0 = Instant::now();
        assert_eq!(t.settle("accept"), None, "never seen");
        t.allow_at("accept", t0).unwrap();
        assert_eq!(t.settle("accept"), None, "nothing left out");
        t.allow_at("accept", t0).unwrap();
        t.allow_at("accept", t0);
        t.allow_at("accept", t0);
        assert_eq!(t.settle("accept").unwrap().count, 2);
        assert_eq!(t.settle("accept"), None);
        // The next failure is written at once again.
        assert_eq!(t.allow_at("accept", t0 + S).unwrap().count, 0);
    }

    #[test]
    fn keys_are_capped_and_quiet_ones_make_room() {
        let t = Throttle::new();
        let t0 = Instant::now();
        for i in 0..Throttle::MAX_KEYS {
            assert!(t.allow_at(&format!("k{i}"), t0).is_some());
        }
        assert!(t.allow_at("one too many", t0 + S).is_none());
        // Once their windows have passed, old keys give way.
        assert!(t.allow_at("one too many", t0 + 10 * S).is_some());
    }
}
