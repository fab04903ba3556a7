//! Logs go to stderr (journald picks them up under systemd); `RUST_LOG` filters, default `info`.
//! [`Every`] rate-limits a line that can repeat many times a second.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Lets a repeated log line through at most once per `period`: a full disk refuses thousands
/// of deliveries a second, and their log lines must not fill it further.
#[derive(Debug)]
pub struct Every {
    period: std::time::Duration,
    state: std::sync::Mutex<(Option<std::time::Instant>, u64)>,
}

impl Every {
    pub const fn new(period: std::time::Duration) -> Every {
        Every {
            period,
            state: std::sync::Mutex::new((None, 0)),
        }
    }

    /// `Some(n)`: log now, saying that `n` like it were left out since the last one.
    pub fn allow(&self) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = std::time::Instant::now();
        match state.0 {
            Some(last) if now.duration_since(last) < self.period => {
                state.1 += 1;
                None
            }
            _ => {
                let suppressed = state.1;
                *state = (Some(now), 0);
                Some(suppressed)
            }
        }
    }

    /// The next line is let through whenever it comes (the condition it was about ended).
    pub fn reset(&self) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = (None, 0);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_repeated_line_is_let_through_once_per_period() {
        let every = super::Every::new(std::time::Duration::from_secs(3600));
        assert_eq!(every.allow(), Some(0));
        assert_eq!(every.allow(), None);
        assert_eq!(every.allow(), None);
        every.reset();
        assert_eq!(every.allow(), Some(0));
        let often = super::Every::new(std::time::Duration::ZERO);
        assert_eq!(often.allow(), Some(0));
        assert_eq!(often.allow(), Some(0));
    }
}
