//! The daemon-wide budget of unverified body bytes: what the receiver holds of bodies whose
//! signature it cannot check yet. A body takes bytes from it as its buffer grows (never from
//! what `Content-Length` promises) and gives them all back when the delivery is verified and
//! handed to the inbox, or refused.
//!
//! When the budget is spent, the largest body in flight gives way to a smaller one (it is
//! answered 503 and its bytes come back) rather than the newcomer being refused: GitHub's
//! deliveries are small, so an attacker holding the budget with big unverified bodies cannot
//! keep them out. With the connection cap, a body smaller than `limit / connections` always
//! finds room. Only when no body holds more than the asker would is the asker refused (503).
//! A body told to give way gives its bytes back to the budget at once and can never grow
//! again; its buffer is freed when its reader next runs, so memory stays under twice the
//! limit while the newcomer does not wait for a busy reader's turn.
#![allow(unsafe_code)] // libc calls, each with its SAFETY comment.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// Why bytes were not granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the budget of unverified bytes is spent")]
    Spent,
    #[error("this body gave way to a smaller one")]
    GaveWay,
}

pub struct Budget {
    limit: usize,
    used: AtomicUsize,
    next_id: AtomicU64,
    /// Every body in flight, so that the largest can be asked to give way.
    holders: Mutex<HashMap<u64, Arc<Holder>>>,
    /// Some bytes came back (a body finished, was refused or gave way).
    released: Notify,
    /// Bytes of large bodies given back since the allocator was last asked to return them.
    large_released: AtomicUsize,
}

/// A body holding at least this much is large: its pages are worth giving back to the OS.
const LARGE: usize = 1024 * 1024;
/// Large bodies' bytes given back before `tidy` asks the allocator to return them.
const TIDY_AFTER: usize = 16 * 1024 * 1024;

struct Holder {
    held: AtomicUsize,
    /// Asked to give way: its next grow fails and its reader stops.
    told: AtomicBool,
    give_way: Notify,
}

/// One body's share of the budget; everything it holds comes back when it is dropped.
pub struct Hold {
    budget: Arc<Budget>,
    id: u64,
    holder: Arc<Holder>,
}

impl Budget {
    pub fn new(limit: usize) -> Arc<Budget> {
        Arc::new(Budget {
            limit,
            used: AtomicUsize::new(0),
            next_id: AtomicU64::new(0),
            holders: Mutex::new(HashMap::new()),
            released: Notify::new(),
            large_released: AtomicUsize::new(0),
        })
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes held by all bodies now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::SeqCst)
    }

    /// Bodies in flight now.
    pub fn holders(&self) -> usize {
        self.holders
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    /// A share for one body, holding nothing yet.
    pub fn hold(self: &Arc<Self>) -> Hold {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let holder = Arc::new(Holder {
            held: AtomicUsize::new(0),
            told: AtomicBool::new(false),
            give_way: Notify::new(),
        });
        self.holders
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(id, holder.clone());
        Hold {
            budget: self.clone(),
            id,
            holder,
        }
    }

    /// After large bodies were given back (refused big bodies, an attack), ask the allocator to
    /// return its free pages to the OS now. mimalloc otherwise purges them only when the
    /// threads that freed them allocate again, so an idle daemon kept an attack's high-water
    /// mark for as long as it stayed idle. Called every second; true if it asked.
    pub fn tidy(&self) -> bool {
        let released = self.large_released.load(Ordering::SeqCst);
        // Enough to be worth it, or the last of them (nothing held: the attack is over).
        if released < TIDY_AFTER && (released == 0 || self.used() > 0) {
            return false;
        }
        self.large_released.store(0, Ordering::SeqCst);
        // SAFETY: mi_collect takes no pointers; it only walks mimalloc's own free lists (those
        // of this process's mimalloc heaps, if it is not the global allocator: then none).
        unsafe { libmimalloc_sys::mi_collect(true) };
        true
    }

    /// Take `n` bytes if they fit.
    fn take(&self, n: usize) -> bool {
        self.used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
                used.checked_add(n).filter(|&u| u <= self.limit)
            })
            .is_ok()
    }

    /// Ask the largest body holding more than `than` bytes (not `asker`, not one asked
    /// already) to give way. False: there is none.
    fn ask_largest_to_give_way(&self, asker: u64, than: usize) -> bool {
        let holders = self
            .holders
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let victim = holders
            .iter()
            .filter(|(id, h)| **id != asker && !h.told.load(Ordering::SeqCst))
            .map(|(_, h)| (h.held.load(Ordering::SeqCst), h))
            .filter(|(held, _)| *held > than)
            .max_by_key(|(held, _)| *held);
        match victim {
            Some((_, h)) => {
                h.told.store(true, Ordering::SeqCst);
                // Its bytes come back now, not when its task next runs: among a hundred busy
                // readers that took up to 0.6 s, and a real delivery waited that long (issue
                // 15's benchmark). Its buffer lives on until then, but it can no longer grow:
                // memory stays under twice the limit.
                let held = h.held.swap(0, Ordering::SeqCst);
                if held > 0 {
                    self.used.fetch_sub(held, Ordering::SeqCst);
                    if held >= LARGE {
                        self.large_released.fetch_add(held, Ordering::SeqCst);
                    }
                    self.released.notify_waiters();
                }
                // A stored permit: the victim wakes even if it is not waiting yet.
                h.give_way.notify_one();
                true
            }
            None => false,
        }
    }
}

impl Hold {
    /// Bytes this body holds.
    pub fn held(&self) -> usize {
        self.holder.held.load(Ordering::SeqCst)
    }

    /// Was this body asked to give way?
    pub fn told_to_give_way(&self) -> bool {
        self.holder.told.load(Ordering::SeqCst)
    }

    /// Resolves once this body is asked to give way to a smaller one.
    pub async fn gave_way(&self) {
        while !self.told_to_give_way() {
            self.holder.give_way.notified().await;
        }
    }

    /// Take `n` more bytes, without waiting. Nothing is taken on an error.
    pub fn try_grow(&self, n: usize) -> Result<(), Refused> {
        if self.told_to_give_way() {
            return Err(Refused::GaveWay);
        }
        if !self.budget.take(n) {
            return Err(Refused::Spent);
        }
        self.holder.held.fetch_add(n, Ordering::SeqCst);
        Ok(())
    }

    /// Take `n` more bytes; when the budget is spent, ask the largest body holding more than
    /// this one would to give way and wait (up to `wait`) for its bytes. Refused at once when
    /// there is no such body. Nothing is taken on an error.
    pub async fn grow(&self, n: usize, wait: Duration) -> Result<(), Refused> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut asked = false;
        loop {
            // Registered before trying, so a release between the try and the wait is not missed.
            let released = self.budget.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            match self.try_grow(n) {
                Err(Refused::Spent) => {}
                done => return done,
            }
            let would_hold = self.held().saturating_add(n);
            asked |= self.budget.ask_largest_to_give_way(self.id, would_hold);
            if !asked {
                return Err(Refused::Spent);
            }
            if tokio::time::timeout_at(deadline, released).await.is_err() {
                return self.try_grow(n);
            }
        }
    }

    /// Give back everything held (the delivery was verified and handed on, or refused); the
    /// share stays usable.
    pub fn release(&self) {
        let held = self.holder.held.swap(0, Ordering::SeqCst);
        if held > 0 {
            self.budget.used.fetch_sub(held, Ordering::SeqCst);
            self.budget.released.notify_waiters();
        }
        if held >= LARGE {
            self.budget.large_released.fetch_add(held, Ordering::SeqCst);
        }
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        self.budget
            .holders
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&self.id);
        self.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    }

    #[test]
    fn bytes_come_back_on_release_and_on_drop_and_never_go_below_zero() {
        let b = Budget::new(100);
        let h = b.hold();
        h.try_grow(60).unwrap();
        assert_eq!((b.used(), h.held()), (60, 60));
        assert_eq!(h.try_grow(41), Err(Refused::Spent), "over the limit");
        assert_eq!(b.used(), 60, "a refused grow takes nothing");
        h.release();
        h.release();
        assert_eq!((b.used(), h.held()), (0, 0), "released twice, counted once");
        h.try_grow(100).unwrap();
        let other = b.hold();
        assert_eq!(other.try_grow(1), Err(Refused::Spent));
        drop(h);
        assert_eq!(b.used(), 0);
        other.try_grow(100).unwrap();
        drop(other);
        assert_eq!((b.used(), b.holders()), (0, 0));
    }

    #[test]
    fn when_spent_the_largest_body_gives_way_to_a_smaller_one() {
        rt().block_on(async {
            let b = Budget::new(100);
            let big = b.hold();
            let middle = b.hold();
            big.try_grow(70).unwrap();
            middle.try_grow(25).unwrap();
            let small = b.hold();
            // The big one's reader, which gives its bytes back when told (as the receiver does).
            let big_reader = async {
                big.gave_way().await;
                assert_eq!(big.try_grow(1), Err(Refused::GaveWay));
                big.release();
            };
            let (_, grown) = tokio::join!(big_reader, small.grow(10, Duration::from_secs(5)));
            assert_eq!(grown, Ok(()));
            assert!(big.told_to_give_way());
            assert!(!middle.told_to_give_way(), "only the largest is asked");
            assert_eq!(b.used(), 35);
        });
    }

    #[test]
    fn a_body_never_displaces_one_no_larger_than_itself() {
        rt().block_on(async {
            let b = Budget::new(100);
            let first = b.hold();
            first.try_grow(60).unwrap();
            let second = b.hold();
            second.try_grow(30).unwrap();
            // 30 + 20 = 50 < 60: the first is asked, and its bytes come back at once (its
            // buffer goes when its reader next runs; it can no longer grow).
            assert_eq!(second.grow(20, Duration::from_millis(50)).await, Ok(()));
            assert!(first.told_to_give_way());
            assert_eq!((first.held(), b.used()), (0, 50));
            assert_eq!(first.try_grow(1), Err(Refused::GaveWay));
            // A body that would end up larger than everyone else asks no one.
            let third = b.hold();
            third.try_grow(10).unwrap();
            let at_once = tokio::time::timeout(
                Duration::from_secs(5),
                third.grow(60, Duration::from_secs(60)),
            );
            assert_eq!(
                at_once.await,
                Ok(Err(Refused::Spent)),
                "refused without waiting"
            );
            assert!(
                !second.told_to_give_way(),
                "50 is no larger than the 70 it asks for"
            );
            assert_eq!(b.used(), 60, "refused grows took nothing");
            drop((first, second, third));
            assert_eq!((b.used(), b.holders()), (0, 0));
        });
    }

    #[test]
    fn the_allocator_is_asked_back_only_after_large_bodies_and_then_once() {
        let b = Budget::new(64 * LARGE);
        let small = b.hold();
        small.try_grow(LARGE - 1).unwrap();
        drop(small);
        assert!(!b.tidy(), "small bodies are the allocator's fast path");
        let big = b.hold();
        let other = b.hold();
        big.try_grow(2 * LARGE).unwrap();
        other.try_grow(LARGE).unwrap();
        drop(big);
        assert!(!b.tidy(), "a little, while others are still held");
        drop(other);
        assert!(b.tidy(), "the last of them: nothing is held");
        assert!(!b.tidy(), "once");
        let huge = b.hold();
        huge.try_grow(TIDY_AFTER).unwrap();
        huge.release();
        let held = b.hold();
        held.try_grow(1).unwrap();
        assert!(b.tidy(), "enough, even while others are held");
    }
}
