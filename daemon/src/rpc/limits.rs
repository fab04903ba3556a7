//! What one local user can cost the daemon over the RPC socket: connections per uid, the size
//! of a request frame, the bytes of unfinished frames held per uid, and how long a silent
//! connection stays. Without them one user could hold every file descriptor (the webhook
//! listener's too) or gigabytes of half-sent frames. The daemon's own user and root get the
//! same limits: they connect through the same socket as everyone else.
#![allow(unsafe_code)] // libc calls, each with its SAFETY comment.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Open connections per uid; the next one is answered with [`Refused`] and closed.
    pub connections_per_uid: usize,
    /// Largest request frame: a longer length prefix closes the connection before anything of
    /// the frame is buffered. Requests are small (the longest is a list of repository names).
    pub request_frame: usize,
    /// Bytes of request frames begun but not finished, over all of one uid's connections.
    pub partial_bytes_per_uid: usize,
    /// A connection with no request for this long is closed (the TUI pings every 3 s).
    pub idle: Duration,
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        connections_per_uid: 64,
        request_frame: 1024 * 1024,
        partial_bytes_per_uid: 8 * 1024 * 1024,
        idle: Duration::from_secs(10 * 60),
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// A connection over the per-uid limit, in words for the person whose client gets it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the daemon already has {open} connections from uid {uid}, the most it takes from one \
     user; close other tidemark windows or scripts of this user and try again"
)]
pub struct Refused {
    pub uid: u32,
    pub open: usize,
}

/// Who holds how many connections and unfinished bytes.
#[derive(Debug, Default)]
pub struct Connections {
    limits: Limits,
    by_uid: Mutex<HashMap<u32, Arc<UidLoad>>>,
}

/// One uid's load. `open` changes only under the map's lock; `partial` from the connections'
/// reads, without it.
#[derive(Debug, Default)]
pub struct UidLoad {
    open: AtomicUsize,
    pub(crate) partial: AtomicUsize,
}

impl UidLoad {
    /// Bytes of unfinished request frames of this uid.
    pub fn partial(&self) -> usize {
        self.partial.load(Ordering::Relaxed)
    }
}

/// A connection's place under its uid's limit; given back when dropped.
#[derive(Debug)]
pub struct Slot {
    connections: Arc<Connections>,
    uid: u32,
    load: Arc<UidLoad>,
}

impl Slot {
    pub fn load(&self) -> &Arc<UidLoad> {
        &self.load
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut map = self.connections.lock();
        if self.load.open.fetch_sub(1, Ordering::Relaxed) == 1 {
            map.remove(&self.uid);
        }
    }
}

impl Connections {
    pub fn new(limits: Limits) -> Arc<Connections> {
        Arc::new(Connections {
            limits,
            by_uid: Mutex::default(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u32, Arc<UidLoad>>> {
        self.by_uid
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Take a place for a new connection of `uid`, or say why not.
    pub fn admit(self: &Arc<Self>, uid: u32) -> Result<Slot, Refused> {
        let mut map = self.lock();
        let load = map.entry(uid).or_default().clone();
        let open = load.open.load(Ordering::Relaxed);
        if open >= self.limits.connections_per_uid {
            return Err(Refused { uid, open });
        }
        load.open.store(open + 1, Ordering::Relaxed);
        Ok(Slot {
            connections: self.clone(),
            uid,
            load,
        })
    }

    /// Open connections of `uid`.
    pub fn open(&self, uid: u32) -> usize {
        self.lock()
            .get(&uid)
            .map_or(0, |l| l.open.load(Ordering::Relaxed))
    }
}

/// Raise the soft limit on open files to the hard one (a login shell's soft 1,024 would cap
/// connections and webhook clients together). Returns (soft before, soft now, hard).
pub fn raise_nofile_limit() -> std::io::Result<(u64, u64, u64)> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: a valid pointer to an rlimit to be filled in.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let before = lim.rlim_cur;
    if lim.rlim_cur < lim.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: a valid pointer to an initialised rlimit.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        lim = raised;
    }
    Ok((before, lim.rlim_cur, lim.rlim_max))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_uid: usize) -> Limits {
        Limits {
            connections_per_uid: per_uid,
            ..Limits::DEFAULT
        }
    }

    #[test]
    fn each_uid_gets_its_own_cap_and_places_come_back() {
        let c = Connections::new(limits(2));
        let a1 = c.admit(1000).unwrap();
        let _a2 = c.admit(1000).unwrap();
        let refused = c.admit(1000).unwrap_err();
        assert_eq!(refused, Refused { uid: 1000, open: 2 });
        assert!(
            refused
                .to_string()
                .starts_with("the daemon already has 2 connections from uid 1000"),
            "{refused}"
        );
        // Another user, root included, is not held up by uid 1000.
        let _b = c.admit(1001).unwrap();
        let _root1 = c.admit(0).unwrap();
        let _root2 = c.admit(0).unwrap();
        assert!(c.admit(0).is_err(), "root has the same cap");
        drop(a1);
        assert_eq!(c.open(1000), 1);
        let _a3 = c.admit(1000).expect("a place came back");
    }

    #[test]
    fn a_uid_with_no_connection_left_is_forgotten() {
        let c = Connections::new(limits(64));
        let slots: Vec<_> = (0..64).map(|_| c.admit(7).unwrap()).collect();
        assert_eq!(c.open(7), 64);
        drop(slots);
        assert_eq!(c.open(7), 0);
        assert!(c.lock().is_empty());
    }

    #[test]
    fn the_soft_fd_limit_is_raised_to_the_hard_one() {
        let (before, now, hard) = raise_nofile_limit().unwrap();
        assert!(before <= now);
        assert_eq!(now, hard);
    }
}
