//! How many calls may be in flight at one AWS endpoint (a service in a region): a window that
//! halves when calls time out and widens again as they are answered (additive increase,
//! multiplicative decrease, as TCP does). An endpoint that slows down (a brownout, a region
//! with thousands of resources) then answers a queue it can serve within the attempt timeout;
//! without the window, it went on working through requests whose callers had given up and
//! retried, every retry deepening its queue.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

/// The window never closes below this: a slow endpoint still serves a few callers at once.
const MIN_WINDOW: f64 = 2.0;

pub(crate) struct InFlight {
    /// The widest window (0: no limit).
    max: usize,
    /// A call that took longer than this counts as timed out (one of its attempts was cut).
    slow: Duration,
    windows: Mutex<HashMap<(&'static str, String), Arc<Window>>>,
}

struct Window {
    state: Mutex<State>,
    freed: Notify,
}

struct State {
    limit: f64,
    running: usize,
    /// Counts the halvings: a call sent before the last one says nothing of the window now.
    epoch: u64,
}

/// A call's place in its endpoint's window, given back when dropped.
pub(crate) struct Slot {
    window: Arc<Window>,
    max: f64,
    epoch: u64,
}

impl InFlight {
    pub(crate) fn new(max: usize, slow: Duration) -> Self {
        Self { max, slow, windows: Mutex::default() }
    }

    /// Waits for room in the window of `service` in `region`; `None` when there is no limit.
    pub(crate) async fn enter(&self, service: &'static str, region: &str) -> Option<Slot> {
        if self.max == 0 {
            return None;
        }
        let window = {
            let mut windows = self.windows.lock().expect("in-flight windows");
            let fresh = || {
                let state = State { limit: self.max as f64, running: 0, epoch: 0 };
                Arc::new(Window { state: Mutex::new(state), freed: Notify::new() })
            };
            windows.entry((service, region.to_string())).or_insert_with(fresh).clone()
        };
        loop {
            // Registered before looking, so a slot freed in between is not missed.
            let freed = window.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            {
                let mut state = window.state.lock().expect("in-flight window");
                if (state.running as f64) < state.limit.floor() {
                    state.running += 1;
                    return Some(Slot { window: window.clone(), max: self.max as f64, epoch: state.epoch });
                }
            }
            freed.await;
        }
    }

    /// Whether a call that took `elapsed` and ended in `timed_out` tells of an endpoint that
    /// cannot keep up.
    pub(crate) fn overloaded(&self, elapsed: Duration, timed_out: bool) -> bool {
        timed_out || elapsed > self.slow
    }

    /// The window of `service` in `region` now (the widest while it has not been used).
    #[cfg(test)]
    pub(crate) fn limit(&self, service: &'static str, region: &str) -> f64 {
        let windows = self.windows.lock().expect("in-flight windows");
        windows
            .get(&(service, region.to_string()))
            .map_or(self.max as f64, |w| w.state.lock().expect("in-flight window").limit)
    }
}

impl Slot {
    /// The call is over: an endpoint that could not keep up halves its window, once for all
    /// the calls that were in flight together (they time out together); an answer in time
    /// widens it by one call per window's worth of answers, up to the widest. Returns the window.
    pub(crate) fn done(self, overloaded: bool) -> f64 {
        let mut state = self.window.state.lock().expect("in-flight window");
        match overloaded {
            true if self.epoch == state.epoch => {
                state.limit = (state.limit / 2.0).max(MIN_WINDOW);
                state.epoch += 1;
            }
            true => {}
            false => state.limit = (state.limit + 1.0 / state.limit).min(self.max),
        }
        state.limit
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.window.state.lock().expect("in-flight window").running -= 1;
        self.window.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLOW: Duration = Duration::from_secs(20);

    #[tokio::test]
    async fn calls_beyond_the_window_wait_for_one_to_end() {
        let in_flight = InFlight::new(2, SLOW);
        let a = in_flight.enter("ec2", "us-east-1").await.unwrap();
        let _b = in_flight.enter("ec2", "us-east-1").await.unwrap();
        let third = in_flight.enter("ec2", "us-east-1");
        tokio::pin!(third);
        assert!(futures::poll!(third.as_mut()).is_pending(), "two in flight: the third waits");
        // Other endpoints have windows of their own.
        assert!(in_flight.enter("ec2", "eu-west-1").await.is_some());
        assert!(in_flight.enter("route53", "us-east-1").await.is_some());
        a.done(false);
        assert!(third.await.is_some(), "one ended: the third goes");
    }

    #[tokio::test]
    async fn timeouts_halve_the_window_down_to_a_floor_and_answers_widen_it_again() {
        let in_flight = InFlight::new(32, SLOW);
        for _ in 0..10 {
            in_flight.enter("ec2", "us-east-1").await.unwrap().done(in_flight.overloaded(SLOW, true));
        }
        assert_eq!(in_flight.limit("ec2", "us-east-1"), MIN_WINDOW);
        let _held: Vec<Slot> = futures::future::join_all((0..2).map(|_| in_flight.enter("ec2", "us-east-1")))
            .await
            .into_iter()
            .flatten()
            .collect();
        let waiting = in_flight.enter("ec2", "us-east-1");
        tokio::pin!(waiting);
        assert!(futures::poll!(waiting.as_mut()).is_pending(), "a closed window holds two");
        drop(_held);
        waiting.await.unwrap().done(false);
        // About one more per window's worth of answers: from 2 to 32 takes hundreds.
        let mut answered = 1;
        while in_flight.limit("ec2", "us-east-1") < 32.0 {
            in_flight
                .enter("ec2", "us-east-1")
                .await
                .unwrap()
                .done(in_flight.overloaded(Duration::from_millis(50), false));
            answered += 1;
        }
        assert!((400..600).contains(&answered), "{answered} answers reopened the window");
        in_flight.enter("ec2", "us-east-1").await.unwrap().done(false);
        assert_eq!(in_flight.limit("ec2", "us-east-1"), 32.0, "never wider than the widest");
    }

    #[tokio::test]
    async fn calls_that_time_out_together_halve_the_window_once() {
        let in_flight = InFlight::new(16, SLOW);
        let together: Vec<Slot> = futures::future::join_all((0..16).map(|_| in_flight.enter("ec2", "us-east-1")))
            .await
            .into_iter()
            .flatten()
            .collect();
        together.into_iter().for_each(|slot| {
            slot.done(true);
        });
        assert_eq!(in_flight.limit("ec2", "us-east-1"), 8.0, "one halving for sixteen timeouts");
        in_flight.enter("ec2", "us-east-1").await.unwrap().done(true);
        assert_eq!(in_flight.limit("ec2", "us-east-1"), 4.0, "a call sent under the new window halves it again");
    }

    #[tokio::test]
    async fn a_call_slower_than_an_attempt_may_take_counts_as_timed_out() {
        let in_flight = InFlight::new(8, SLOW);
        assert!(in_flight.overloaded(SLOW + Duration::from_millis(1), false), "an attempt was cut and retried");
        assert!(!in_flight.overloaded(SLOW / 2, false));
        assert!(in_flight.overloaded(Duration::ZERO, true));
    }

    #[tokio::test]
    async fn no_limit_never_waits() {
        let in_flight = InFlight::new(0, SLOW);
        let slots: Vec<Option<Slot>> =
            futures::future::join_all((0..1000).map(|_| in_flight.enter("ec2", "us-east-1"))).await;
        assert!(slots.iter().all(Option::is_none));
    }
}
