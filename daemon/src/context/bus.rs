//! The event bus: changes one part of the daemon makes that others act on, so that no part
//! calls into another it should not know (connect does not start syncs, sync does not heal
//! hooks). A broadcast channel; a listener that falls behind loses events, which the periodic
//! reconciliation makes good, and is told so in the log.

use crate::store::TeamId;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::broadcast;

/// Room for a burst of events before a slow listener starts losing them.
const CAPACITY: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Webhook secrets or hook ids changed (rotation, connect, disconnect, a hook created): the
    /// receiver looks them up again.
    HooksChanged,
    /// A team was connected to GitHub: its first sync and its organization hook are due.
    Connected { team: TeamId },
    /// A team's reconciliation is due: its sync starts and its hooks are checked.
    ReconcileDue { team: TeamId },
    /// The public URL changed: every hook moves to it.
    PublicUrlChanged,
    /// A team's sync finished (successfully or not).
    SyncFinished { team: TeamId },
    /// Webhook deliveries of a team were applied: its pull requests may have changed.
    PullsChanged { team: TeamId },
    /// A team saved its working agreements.
    AgreementsChanged { team: TeamId },
    /// A team's breaches were opened or resolved (Slack has news to post).
    BreachesChanged { team: TeamId },
    /// The store was reopened after it could not write (a full disk): what waits in it can be
    /// applied again at once.
    StoreReopened,
}

pub struct Bus {
    tx: broadcast::Sender<Event>,
    /// How many `HooksChanged` were published: the receiver's index compares it on each
    /// delivery (cheaper than a listener task per receiver, and never lagging).
    hooks_generation: AtomicU64,
}

impl Default for Bus {
    fn default() -> Self {
        Self::new()
    }
}

impl Bus {
    pub fn new() -> Bus {
        Bus {
            tx: broadcast::channel(CAPACITY).0,
            hooks_generation: AtomicU64::new(0),
        }
    }

    /// Tell every listener; nobody listening is fine.
    pub fn publish(&self, event: Event) {
        if event == Event::HooksChanged {
            self.hooks_generation.fetch_add(1, Ordering::SeqCst);
        }
        tracing::debug!(?event, "event");
        let _ = self.tx.send(event);
    }

    pub fn subscribe(&self) -> Listener {
        Listener {
            rx: self.tx.subscribe(),
        }
    }

    /// Bumped by each [`Event::HooksChanged`].
    pub fn hooks_generation(&self) -> u64 {
        self.hooks_generation.load(Ordering::SeqCst)
    }
}

pub struct Listener {
    rx: broadcast::Receiver<Event>,
}

impl Listener {
    /// The next event; None once the bus is gone. Lost events are logged and skipped.
    pub async fn next(&mut self, who: &'static str) -> Option<Event> {
        loop {
            match self.rx.recv().await {
                Ok(event) => return Some(event),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(
                        listener = who,
                        lost = n,
                        "event listener fell behind; the reconciliation makes good what it missed"
                    );
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn listeners_hear_events_published_after_they_subscribe() {
        let bus = Bus::new();
        bus.publish(Event::Connected { team: 1 });
        let mut a = bus.subscribe();
        let mut b = bus.subscribe();
        bus.publish(Event::SyncFinished { team: 2 });
        assert_eq!(a.next("a").await, Some(Event::SyncFinished { team: 2 }));
        assert_eq!(b.next("b").await, Some(Event::SyncFinished { team: 2 }));
    }

    #[test]
    fn hooks_changed_bumps_the_generation_only() {
        let bus = Bus::new();
        bus.publish(Event::Connected { team: 1 });
        assert_eq!(bus.hooks_generation(), 0);
        bus.publish(Event::HooksChanged);
        bus.publish(Event::HooksChanged);
        assert_eq!(bus.hooks_generation(), 2);
    }

    #[tokio::test]
    async fn a_listener_that_falls_behind_goes_on_with_the_latest() {
        let bus = Bus::new();
        let mut slow = bus.subscribe();
        for team in 0..(CAPACITY as u64 + 10) {
            bus.publish(Event::SyncFinished { team });
        }
        let first = slow.next("slow").await;
        assert_eq!(first, Some(Event::SyncFinished { team: 10 }));
    }
}
