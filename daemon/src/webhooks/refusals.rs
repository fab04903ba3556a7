//! Refused deliveries are counted, not logged one by one: at most one line per kind per
//! window ("N deliveries refused (unknown hook) in the last 10 s"), so a flood costs a few
//! lines instead of one each (issue 15: 24 MB of log in 10 s).

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Why a delivery (or a connection) was turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// No `X-Hub-Signature-256`, or not `sha256=` and 64 hex digits.
    NoSignature,
    /// A signature that matches none of the team's secrets.
    BadSignature,
    /// No team has the hook, repository or organization.
    UnknownHook,
    /// No `X-GitHub-Event` or `X-GitHub-Delivery`.
    MissingHeaders,
    TooLarge,
    TooSlow,
    /// The budget of unverified bytes was spent (or the body gave way to a smaller one).
    NoRoom,
    Unreadable,
    /// The listener could not accept a connection (out of file descriptors).
    AcceptFailed,
}

const KINDS: usize = 9;

impl Kind {
    fn index(self) -> usize {
        self as usize
    }

    fn what(self) -> &'static str {
        match self {
            Kind::NoSignature => "deliveries refused: no signature",
            Kind::BadSignature => "deliveries refused: bad signature",
            Kind::UnknownHook => "deliveries refused: unknown hook",
            Kind::MissingHeaders => "deliveries refused: no X-GitHub-Event or X-GitHub-Delivery",
            Kind::TooLarge => "deliveries refused: over 25 MB",
            Kind::TooSlow => "deliveries refused: body too slow",
            Kind::NoRoom => "deliveries refused: budget of unverified bytes spent",
            Kind::Unreadable => "deliveries refused: body unreadable",
            Kind::AcceptFailed => "connections not accepted",
        }
    }
}

#[derive(Default)]
struct Tally {
    count: u64,
    /// When this kind's last line was written.
    logged: Option<Instant>,
    /// What the last one was (hook id, event, error; never a body or a secret).
    last: String,
}

/// One line per kind per window.
pub struct Refusals {
    window: Duration,
    tallies: Mutex<[Tally; KINDS]>,
}

/// A line to write: how many, of what kind, over how long, and the last one.
#[derive(Debug, PartialEq, Eq)]
pub struct Line {
    pub kind: Kind,
    pub count: u64,
    pub over: Duration,
    pub last: String,
}

impl Refusals {
    pub fn new(window: Duration) -> Refusals {
        Refusals {
            window,
            tallies: Mutex::new(Default::default()),
        }
    }

    /// Count one; log it when this kind's window has passed (the first of a kind at once).
    pub fn record(&self, kind: Kind, last: impl FnOnce() -> String) {
        if let Some(line) = self.record_at(kind, Instant::now(), last) {
            emit(&line);
        }
    }

    /// Log what was counted and not logged yet, for kinds whose window has passed (called
    /// every window, so a burst's count is told even if nothing follows it).
    pub fn flush(&self) {
        for line in self.flush_at(Instant::now()) {
            emit(&line);
        }
    }

    fn record_at(&self, kind: Kind, now: Instant, last: impl FnOnce() -> String) -> Option<Line> {
        let mut tallies = self
            .tallies
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let t = &mut tallies[kind.index()];
        t.count += 1;
        let due = t
            .logged
            .is_none_or(|at| now.duration_since(at) >= self.window);
        if due {
            t.last = last();
            Some(self.take(kind, t, now))
        } else {
            // Only the line's last example is kept; build it for one in a hundred.
            if t.count % 100 == 1 {
                t.last = last();
            }
            None
        }
    }

    fn flush_at(&self, now: Instant) -> Vec<Line> {
        let mut tallies = self
            .tallies
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut lines = Vec::new();
        for (i, t) in tallies.iter_mut().enumerate() {
            let due = t
                .logged
                .is_none_or(|at| now.duration_since(at) >= self.window);
            if t.count > 0 && due {
                lines.push(self.take(ALL[i], t, now));
            }
        }
        lines
    }

    fn take(&self, kind: Kind, t: &mut Tally, now: Instant) -> Line {
        let over = t.logged.map_or(Duration::ZERO, |at| now.duration_since(at));
        t.logged = Some(now);
        Line {
            kind,
            count: std::mem::take(&mut t.count),
            over,
            last: std::mem::take(&mut t.last),
        }
    }
}

const ALL: [Kind; KINDS] = [
    Kind::NoSignature,
    Kind::BadSignature,
    Kind::UnknownHook,
    Kind::MissingHeaders,
    Kind::TooLarge,
    Kind::TooSlow,
    Kind::NoRoom,
    Kind::Unreadable,
    Kind::AcceptFailed,
];

fn emit(line: &Line) {
    let secs = line.over.as_secs();
    if line.count == 1 && secs == 0 {
        tracing::warn!(last = %line.last, "webhook listener: 1 of the {}", line.kind.what());
    } else {
        tracing::warn!(
            count = line.count,
            last = %line.last,
            "webhook listener: {} {} in the last {secs} s",
            line.count,
            line.kind.what(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_is_one_line_per_kind_per_window() {
        let r = Refusals::new(Duration::from_secs(10));
        let t0 = Instant::now();
        let first = r.record_at(Kind::UnknownHook, t0, || "hook 1".into());
        assert_eq!(
            first,
            Some(Line {
                kind: Kind::UnknownHook,
                count: 1,
                over: Duration::ZERO,
                last: "hook 1".into()
            }),
            "the first is told at once"
        );
        for i in 0..10_000u64 {
            let at = t0 + Duration::from_millis(i / 2);
            assert_eq!(
                r.record_at(Kind::UnknownHook, at, || format!("hook {i}")),
                None
            );
        }
        // Another kind has a window of its own.
        assert!(r.record_at(Kind::BadSignature, t0, String::new).is_some());
        // Within the window nothing is flushed; after it, the count, once.
        assert!(r.flush_at(t0 + Duration::from_secs(9)).is_empty());
        let lines = r.flush_at(t0 + Duration::from_secs(10));
        assert_eq!(lines.len(), 1);
        assert_eq!(
            (lines[0].kind, lines[0].count, lines[0].over),
            (Kind::UnknownHook, 10_000, Duration::from_secs(10))
        );
        assert!(lines[0].last.starts_with("hook "));
        assert!(
            r.flush_at(t0 + Duration::from_secs(30)).is_empty(),
            "told once"
        );
        // The next one after a quiet window is told at once again.
        let next = r.record_at(Kind::UnknownHook, t0 + Duration::from_secs(31), String::new);
        assert_eq!(next.map(|l| l.count), Some(1));
    }

    #[test]
    fn every_kind_has_its_own_tally() {
        for (i, k) in ALL.iter().enumerate() {
            assert_eq!(k.index(), i);
        }
    }
}
