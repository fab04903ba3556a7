//! The listener's connection slots. A connection is busy while a request of its own is being
//! handled and idle otherwise (before its first head, between keep-alive requests, while a
//! head trickles in). When every slot is taken, a new connection evicts the connection idle
//! the longest instead of waiting behind it: idle connections cannot hold slots against
//! GitHub's deliveries. Also: the open-files limit the slots need, and the accept loop's
//! back-off when the process runs out of file descriptors.
#![allow(unsafe_code)] // libc calls, each with its SAFETY comment.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

pub struct Conns {
    cap: usize,
    next_id: AtomicU64,
    /// Orders idle transitions: the smallest `idle_since` has been idle the longest.
    clock: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Conn>>>,
    /// Connections not asked to close.
    live: AtomicUsize,
    /// A connection closed or became idle: room may be made.
    changed: Notify,
}

pub struct Conn {
    /// Requests being handled on this connection (HTTP/1.1 handles one at a time).
    busy: AtomicUsize,
    /// When it last became idle, on `Conns::clock`.
    idle_since: AtomicU64,
    evicted: AtomicBool,
    evict: Notify,
}

/// A connection's slot; freed when dropped (the connection's task ends).
pub struct Slot {
    conns: Arc<Conns>,
    id: u64,
    pub conn: Arc<Conn>,
}

/// Marks its connection busy while it lives.
pub struct Busy<'a> {
    conns: &'a Conns,
    conn: &'a Conn,
}

impl Conns {
    pub fn new(cap: usize) -> Arc<Conns> {
        Arc::new(Conns {
            cap: cap.max(1),
            next_id: AtomicU64::new(0),
            clock: AtomicU64::new(0),
            open: Mutex::new(HashMap::new()),
            live: AtomicUsize::new(0),
            changed: Notify::new(),
        })
    }

    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Connections open and not asked to close.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    /// Take a slot for a new connection (idle until its first request). Call `make_room`
    /// first: this does not check the cap.
    pub fn open(self: &Arc<Self>) -> Slot {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            busy: AtomicUsize::new(0),
            idle_since: AtomicU64::new(self.tick()),
            evicted: AtomicBool::new(false),
            evict: Notify::new(),
        });
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(id, conn.clone());
        self.live.fetch_add(1, Ordering::SeqCst);
        Slot {
            conns: self.clone(),
            id,
            conn,
        }
    }

    fn tick(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::SeqCst)
    }

    /// Ask the connection idle the longest to close. False: every connection is busy.
    pub fn evict_oldest_idle(&self) -> bool {
        let open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let oldest = open
            .values()
            .filter(|c| !c.evicted.load(Ordering::SeqCst) && c.busy.load(Ordering::SeqCst) == 0)
            .min_by_key(|c| c.idle_since.load(Ordering::SeqCst));
        let Some(c) = oldest else {
            return false;
        };
        c.evicted.store(true, Ordering::SeqCst);
        self.live.fetch_sub(1, Ordering::SeqCst);
        // A stored permit: the connection's task closes it even if it is not waiting yet.
        c.evict.notify_one();
        true
    }

    /// Wait until a new connection may be served: a slot is free, or the connection idle the
    /// longest was asked to give its slot up. While every connection is busy, waits for one to
    /// finish its request or close.
    pub async fn make_room(&self) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.live() < self.cap || self.evict_oldest_idle() {
                return;
            }
            // Busy ones end within the body and ack deadlines; look again at least that often.
            let _ = tokio::time::timeout(Duration::from_millis(100), changed).await;
        }
    }
}

impl Conn {
    /// Resolves once this connection is asked to close.
    pub async fn evicted(&self) {
        while !self.evicted.load(Ordering::SeqCst) {
            self.evict.notified().await;
        }
    }

    /// Is a request of this connection being handled?
    pub fn is_busy(&self) -> bool {
        self.busy.load(Ordering::SeqCst) > 0
    }

    /// Mark a request in hand until the guard is dropped.
    pub fn busy<'a>(&'a self, conns: &'a Conns) -> Busy<'a> {
        self.busy.fetch_add(1, Ordering::SeqCst);
        Busy { conns, conn: self }
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.conn
            .idle_since
            .store(self.conns.tick(), Ordering::SeqCst);
        if self.conn.busy.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.conns.changed.notify_one();
        }
    }
}

impl Slot {
    pub fn conns(&self) -> &Conns {
        &self.conns
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.conns
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&self.id);
        if !self.conn.evicted.swap(true, Ordering::SeqCst) {
            self.conns.live.fetch_sub(1, Ordering::SeqCst);
        }
        self.conns.changed.notify_one();
    }
}

/// File descriptors the daemon keeps for itself besides webhook connections (store, spool,
/// RPC socket and clients, GitHub's connections).
const FDS_KEPT: u64 = 256;

/// Raise the open-files soft limit to the hard one (the default soft limit, 1,024 on most
/// systems, is below what the slots need) and return how many connections fit under it.
pub fn connections_that_fit(wanted: usize) -> usize {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return wanted;
    }
    if lim.rlim_cur < lim.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: setrlimit reads the struct we pass.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            lim.rlim_cur = lim.rlim_max;
        }
    }
    let fit = lim.rlim_cur.saturating_sub(FDS_KEPT).max(16);
    wanted.min(usize::try_from(fit).unwrap_or(usize::MAX))
}

/// Does this accept error mean the process or system is out of descriptors or memory (wait
/// before trying again) rather than one connection failing (try the next at once)?
pub fn is_resource_exhaustion(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

/// The accept loop's wait after running out of descriptors: growing from 5 ms to 1 s, back to
/// the start after an accept succeeds.
#[derive(Debug, Default)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    pub fn wait(&mut self) -> Duration {
        let wait = Duration::from_millis(5u64 << self.failures.min(8)).min(Duration::from_secs(1));
        self.failures = self.failures.saturating_add(1);
        wait
    }

    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eviction_picks_the_connection_idle_the_longest_and_never_a_busy_one() {
        let conns = Conns::new(3);
        let a = conns.open();
        let b = conns.open();
        let c = conns.open();
        // a is busy; b finishes a request after c was opened, so c has been idle longer.
        let _a_busy = a.conn.busy(&conns);
        drop(b.conn.busy(&conns));
        assert!(conns.evict_oldest_idle());
        assert!(c.conn.evicted.load(Ordering::SeqCst), "c idle the longest");
        assert!(!b.conn.evicted.load(Ordering::SeqCst));
        assert_eq!(conns.live(), 2);
        assert!(conns.evict_oldest_idle());
        assert!(b.conn.evicted.load(Ordering::SeqCst));
        assert!(!conns.evict_oldest_idle(), "only a busy one is left");
        assert!(!a.conn.evicted.load(Ordering::SeqCst));
        // Evicted slots count once when their connections close.
        drop((b, c));
        assert_eq!(conns.live(), 1);
        drop(_a_busy);
        drop(a);
        assert_eq!(conns.live(), 0);
    }

    #[test]
    fn room_is_made_by_evicting_or_awaited_while_all_are_busy() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            let conns = Conns::new(1);
            conns.make_room().await;
            let a = conns.open();
            // Full, and a is idle: evicted for the newcomer.
            conns.make_room().await;
            assert!(a.conn.evicted.load(Ordering::SeqCst));
            tokio::time::timeout(Duration::from_secs(5), a.conn.evicted())
                .await
                .expect("the evicted connection is told");
            drop(a);
            let b = conns.open();
            let busy = b.conn.busy(&conns);
            // Full and busy: no room until the request ends, and then by eviction.
            let waiting = conns.make_room();
            tokio::pin!(waiting);
            assert!(
                tokio::time::timeout(Duration::from_millis(250), waiting.as_mut())
                    .await
                    .is_err()
            );
            drop(busy);
            tokio::time::timeout(Duration::from_secs(5), waiting)
                .await
                .expect("room once the request ended");
            assert!(b.conn.evicted.load(Ordering::SeqCst));
        });
    }

    #[test]
    fn the_accept_back_off_grows_to_a_second_and_starts_over() {
        let mut b = Backoff::default();
        let waits: Vec<u64> = (0..10).map(|_| b.wait().as_millis() as u64).collect();
        assert_eq!(waits, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        b.reset();
        assert_eq!(b.wait(), Duration::from_millis(5));
    }

    #[test]
    fn exhaustion_errors_are_told_from_a_failed_connection() {
        for code in [libc::EMFILE, libc::ENFILE] {
            assert!(is_resource_exhaustion(&std::io::Error::from_raw_os_error(
                code
            )));
        }
        assert!(!is_resource_exhaustion(&std::io::Error::from_raw_os_error(
            libc::ECONNABORTED
        )));
    }
}
