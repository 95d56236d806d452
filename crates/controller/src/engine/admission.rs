//! Which due reconcile runs next, when `--concurrency` are already running.
//!
//! kube-runtime's own limit keeps due objects in a hash set and takes the first it finds, so
//! under a sustained load (many objects, periodic drift checks) the same objects always win
//! and some never run at all. Here every due reconcile waits its turn in arrival order, and
//! work an object needs (a spec change, not yet Ready, deletion) goes before the periodic
//! drift checks of objects that are Ready and current.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

/// What a reconcile is for, which decides its place in the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Priority {
    /// The object needs work: a new generation, not Ready, being deleted.
    Work,
    /// A periodic check of an object that is Ready for its current generation.
    Check,
}

#[derive(Default)]
struct State {
    running: usize,
    closed: bool,
    work: VecDeque<oneshot::Sender<Permit>>,
    check: VecDeque<oneshot::Sender<Permit>>,
}

impl State {
    fn next_waiter(&mut self) -> Option<oneshot::Sender<Permit>> {
        self.work.pop_front().or_else(|| self.check.pop_front())
    }

    fn queued(&self) -> usize {
        self.work.len() + self.check.len()
    }
}

/// A FIFO limit on the reconciles of one kind that run at once.
#[derive(Clone)]
pub struct Admission {
    limit: usize,
    state: Arc<Mutex<State>>,
}

/// A running reconcile's slot; dropping it hands the slot to the next in line.
pub struct Permit {
    admission: Option<Admission>,
}

/// The admission was closed (shutdown) while the reconcile waited.
#[derive(Debug, PartialEq, Eq)]
pub struct Closed;

impl Admission {
    /// At most `limit` at once; 0 means no limit.
    pub fn new(limit: u16) -> Self {
        Self { limit: if limit == 0 { usize::MAX } else { limit as usize }, state: Arc::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("admission state")
    }

    /// Waits for a slot behind everyone already waiting at `priority` (and, for checks, behind
    /// all waiting work).
    pub async fn acquire(&self, priority: Priority) -> Result<Permit, Closed> {
        let waiting = {
            let mut state = self.lock();
            if state.closed {
                return Err(Closed);
            }
            if state.running < self.limit && state.queued() == 0 {
                state.running += 1;
                return Ok(Permit { admission: Some(self.clone()) });
            }
            let (tx, rx) = oneshot::channel();
            match priority {
                Priority::Work => state.work.push_back(tx),
                Priority::Check => state.check.push_back(tx),
            }
            rx
        };
        // A dropped sender means the admission closed.
        waiting.await.map_err(|_| Closed)
    }

    /// Wakes every waiter with `Closed` and admits no one new; running reconciles finish.
    pub fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        state.work.clear();
        state.check.clear();
    }

    fn release(&self) {
        loop {
            let next = {
                let mut state = self.lock();
                match state.next_waiter() {
                    Some(next) => next,
                    None => {
                        state.running -= 1;
                        return;
                    }
                }
            };
            // The slot passes to the waiter; one that gave up meanwhile passes it on.
            match next.send(Permit { admission: Some(self.clone()) }) {
                Ok(()) => return,
                Err(mut unclaimed) => {
                    unclaimed.admission = None;
                }
            }
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(admission) = self.admission.take() {
            admission.release();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;

    fn running(a: &Admission) -> usize {
        a.lock().running
    }

    impl Admission {
        fn queued(&self) -> usize {
            self.lock().queued()
        }
    }

    #[tokio::test]
    async fn admits_up_to_the_limit_then_in_arrival_order() {
        let a = Admission::new(2);
        let first = a.acquire(Priority::Work).await.unwrap();
        let _second = a.acquire(Priority::Work).await.unwrap();
        let mut waiters: Vec<_> = (0..3).map(|_| Box::pin(a.acquire(Priority::Work))).collect();
        for w in &mut waiters {
            assert!(w.as_mut().now_or_never().is_none(), "over the limit, everyone waits");
        }
        assert_eq!(a.queued(), 3);
        drop(first);
        let _third = waiters[0].as_mut().now_or_never().expect("the first to come is the first served");
        assert!(waiters[1].as_mut().now_or_never().is_none());
        assert_eq!(running(&a), 2);
    }

    #[tokio::test]
    async fn work_goes_before_periodic_checks() {
        let a = Admission::new(1);
        let only = a.acquire(Priority::Work).await.unwrap();
        let mut check = Box::pin(a.acquire(Priority::Check));
        assert!(check.as_mut().now_or_never().is_none());
        let mut work = Box::pin(a.acquire(Priority::Work));
        assert!(work.as_mut().now_or_never().is_none());
        drop(only);
        let work_permit = work.as_mut().now_or_never().expect("work admitted first").unwrap();
        assert!(check.as_mut().now_or_never().is_none(), "the check still waits");
        drop(work_permit);
        assert!(check.as_mut().now_or_never().is_some());
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_passes_its_slot_on() {
        let a = Admission::new(1);
        let only = a.acquire(Priority::Work).await.unwrap();
        let mut gone = Box::pin(a.acquire(Priority::Work));
        assert!(gone.as_mut().now_or_never().is_none());
        let mut next = Box::pin(a.acquire(Priority::Work));
        assert!(next.as_mut().now_or_never().is_none());
        drop(gone);
        drop(only);
        let permit = next.as_mut().now_or_never().expect("the slot skipped the waiter that left").unwrap();
        drop(permit);
        assert_eq!(running(&a), 0, "every slot came back");
        assert_eq!(a.queued(), 0);
    }

    #[tokio::test]
    async fn closing_wakes_waiters_and_admits_no_one() {
        let a = Admission::new(1);
        let running_one = a.acquire(Priority::Work).await.unwrap();
        let mut waiting = Box::pin(a.acquire(Priority::Check));
        assert!(waiting.as_mut().now_or_never().is_none());
        a.close();
        assert_eq!(waiting.as_mut().now_or_never().expect("woken").err(), Some(Closed));
        assert_eq!(a.acquire(Priority::Work).now_or_never().expect("refused at once").err(), Some(Closed));
        drop(running_one);
        assert_eq!(running(&a), 0);
    }

    #[tokio::test]
    async fn zero_means_unlimited() {
        let a = Admission::new(0);
        let permits: Vec<_> = (0..100).map(|_| a.acquire(Priority::Check).now_or_never().unwrap().unwrap()).collect();
        assert_eq!(running(&a), 100);
        drop(permits);
        assert_eq!(running(&a), 0);
    }
}
