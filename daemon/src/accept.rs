//! Accepting connections without spinning: an `accept` that fails (out of file descriptors,
//! `EMFILE`, is the usual one) leaves the waiting connection in the backlog, so the listener is
//! ready again at once; retrying straight away burns a core and writes the same log line
//! millions of times. Every accept loop of the daemon goes through [`accept`]: it pauses with a
//! growing [`Backoff`] (10 ms, doubling, at most 1 s; back to nothing after a success) and logs
//! through a [`Throttle`].

use crate::logging::Throttle;
use std::future::Future;
use std::time::Duration;
use tokio::net::{UnixListener, UnixStream};

/// The pause between failed attempts: grows on each failure, starts over after a success.
#[derive(Debug, Clone, Default)]
pub struct Backoff {
    delay: Duration,
    failures: u64,
}

impl Backoff {
    pub const FIRST: Duration = Duration::from_millis(10);
    pub const MAX: Duration = Duration::from_secs(1);

    pub fn new() -> Backoff {
        Backoff::default()
    }

    /// One more failure: how long to wait before the next attempt.
    pub fn fail(&mut self) -> Duration {
        self.failures += 1;
        self.delay = if self.delay.is_zero() {
            Self::FIRST
        } else {
            (self.delay * 2).min(Self::MAX)
        };
        self.delay
    }

    /// A success: the next failure waits [`Backoff::FIRST`] again. Returns how many failures
    /// came before it (0 when none).
    pub fn succeed(&mut self) -> u64 {
        self.delay = Duration::ZERO;
        std::mem::take(&mut self.failures)
    }
}

/// One line per accept loop per 10 s, however fast accepts fail.
static ACCEPT_FAILED: Throttle = Throttle::new();

/// The next connection on `listener`. Failures are logged (throttled, as `what`) and retried
/// after `backoff`'s pause; this returns only with a connection.
pub async fn accept(listener: &UnixListener, backoff: &mut Backoff, what: &str) -> UnixStream {
    accept_with(|| listener.accept(), backoff, what).await.0
}

/// [`accept`] over any listener's attempt, e.g. a `TcpListener`'s:
/// `accept_with(|| listener.accept(), &mut backoff, "webhooks").await` (tests stand in for a
/// listener out of file descriptors).
pub async fn accept_with<T, F, Fut>(mut attempt: F, backoff: &mut Backoff, what: &str) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = std::io::Result<T>>,
{
    loop {
        match attempt().await {
            Ok(accepted) => {
                let failures = backoff.succeed();
                if failures > 0 {
                    ACCEPT_FAILED.settle(what);
                    tracing::info!(
                        socket = what,
                        failures,
                        "accepting connections again after failed accepts"
                    );
                }
                return accepted;
            }
            Err(e) => {
                let pause = backoff.fail();
                if let Some(skipped) = ACCEPT_FAILED.allow(what) {
                    tracing::warn!(
                        socket = what,
                        error = %e,
                        retry_in_ms = pause.as_millis() as u64,
                        "accept failed; retrying with a growing pause{skipped}"
                    );
                }
                tokio::time::sleep(pause).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_second_and_starts_over_after_a_success() {
        let mut b = Backoff::new();
        let steps: Vec<u64> = (0..10).map(|_| b.fail().as_millis() as u64).collect();
        assert_eq!(steps, [10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000]);
        assert_eq!(b.succeed(), 10);
        assert_eq!(b.fail(), Backoff::FIRST);
        assert_eq!(b.fail(), Backoff::FIRST * 2);
        assert_eq!(b.succeed(), 2);
        assert_eq!(
            b.succeed(),
            0,
            "a success after a success had no failures before it"
        );
    }

    /// Out of file descriptors, a failing accept pauses instead of spinning: with the clock
    /// paused, only a handful of attempts fit in 5 (virtual) seconds; once fds are back the next
    /// attempt succeeds and the pause starts over. (`tests/tests/e2e/rpc_limits.rs` floods the real
    /// daemon under a low RLIMIT_NOFILE.)
    #[tokio::test(start_paused = true)]
    async fn a_failing_accept_waits_longer_each_time_and_works_once_fds_are_back() {
        use std::cell::Cell;
        let out_of_fds = Cell::new(true);
        let attempts = Cell::new(0u32);
        let attempt = || {
            attempts.set(attempts.get() + 1);
            let (n, failing) = (attempts.get(), out_of_fds.get());
            async move {
                if failing {
                    Err(std::io::Error::from_raw_os_error(libc::EMFILE))
                } else {
                    Ok(n)
                }
            }
        };
        let mut backoff = Backoff::new();
        let five_s = tokio::time::timeout(
            Duration::from_secs(5),
            accept_with(attempt, &mut backoff, "test"),
        )
        .await;
        assert!(five_s.is_err(), "no fd to accept with");
        // 10 + 20 + ... + 640 ms, then 1 s steps: 11 attempts in 5 s, not millions.
        assert_eq!(attempts.get(), 11);
        out_of_fds.set(false);
        let started = tokio::time::Instant::now();
        let got = accept_with(attempt, &mut backoff, "test").await;
        assert_eq!(got, 12, "the next attempt succeeds");
        assert_eq!(started.elapsed(), Duration::ZERO);
        assert_eq!(backoff.failures, 0, "reset by the success");
        assert_eq!(backoff.fail(), Backoff::FIRST);
    }
}
