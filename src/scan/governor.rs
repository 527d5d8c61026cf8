//! Paces one region's calls to the rate the region allows, learnt from its throttling.
//!
//! AWS does not publish the request-rate quotas of the guardrail API, so the scanner finds
//! them: it sends as fast as its concurrency allows until the first throttle, then paces
//! at a bit less than the rate that was getting through, and probes upwards slowly
//! (additive increase, multiplicative decrease). A throttled call is simply paced and sent
//! again: no exponential backoff wastes the quota's capacity.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// The share of the observed rate kept after a throttle.
const DECREASE: f64 = 0.9;
/// How fast the pace probes upwards: requests per second gained per second.
const INCREASE_PER_SECOND: f64 = 1.0;
const MIN_RATE: f64 = 0.5;
/// How long a region pauses after a throttle that came before any success.
const FIRST_THROTTLE_PAUSE: Duration = Duration::from_millis(250);

#[derive(Debug)]
pub struct Governor {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Requests per second; None until the first throttle.
    rate: Option<f64>,
    next_slot: Instant,
    last_cut: Instant,
    /// When recent successes came back, to measure the rate that gets through.
    recent: VecDeque<Instant>,
    last_success: Instant,
    /// When the first call was sent: before a second has passed, the successes so far are
    /// a rate over a shorter window.
    first_call: Option<Instant>,
}

impl Default for Governor {
    fn default() -> Self {
        Self::new()
    }
}

impl Governor {
    pub fn new() -> Self {
        let now = Instant::now();
        Governor {
            state: Mutex::new(State {
                rate: None,
                next_slot: now,
                last_cut: now,
                recent: VecDeque::new(),
                last_success: now,
                first_call: None,
            }),
        }
    }

    /// The current pace, if one was learnt.
    pub fn rate(&self) -> Option<f64> {
        self.state.lock().rate
    }

    /// Waits for this call's slot; returns when it was sent, to report its outcome with.
    pub async fn acquire(&self) -> Instant {
        let wait = {
            let mut s = self.state.lock();
            let now = Instant::now();
            s.first_call.get_or_insert(now);
            match s.rate {
                // Unpaced, but for a pause after a throttle that came before any success.
                None => s.next_slot.saturating_duration_since(now),
                Some(rate) => {
                    let slot = s.next_slot.max(now);
                    s.next_slot = slot + Duration::from_secs_f64(1.0 / rate);
                    slot - now
                }
            }
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        Instant::now()
    }

    pub fn on_success(&self) {
        let mut s = self.state.lock();
        let now = Instant::now();
        s.recent.push_back(now);
        while s
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(1))
        {
            s.recent.pop_front();
        }
        let elapsed = now.duration_since(s.last_success).as_secs_f64();
        s.last_success = now;
        if let Some(rate) = s.rate {
            s.rate = Some(rate + INCREASE_PER_SECOND * elapsed.min(1.0));
        }
    }

    /// A call sent at `sent_at` was throttled. Calls already in flight when the pace was
    /// last cut do not cut it again: they were sent at the old pace.
    pub fn on_throttle(&self, sent_at: Instant) {
        let mut s = self.state.lock();
        if s.rate.is_some() && sent_at < s.last_cut {
            return;
        }
        let now = Instant::now();
        // Successes per second: over the last second, or over the time since the first call
        // when that is shorter (a short window under-counts, and a rate cut too low takes
        // long to climb back; one too high is cut again at the next throttle).
        let window = s
            .first_call
            .map_or(1.0, |t| now.duration_since(t).as_secs_f64().clamp(0.2, 1.0));
        let observed = s.recent.len() as f64 / window;
        // A throttle before any success was seen (a burst at the start, its answers racing):
        // there is no rate to measure yet. Pausing briefly and measuring then beats cutting
        // to the minimum, which would pace the region at one call every two seconds.
        if s.rate.is_none() && observed == 0.0 {
            if s.next_slot <= now {
                s.next_slot = now + FIRST_THROTTLE_PAUSE;
                s.last_cut = now;
            }
            return;
        }
        let base = match s.rate {
            Some(rate) => rate.min(observed.max(MIN_RATE)),
            None => observed.max(MIN_RATE),
        };
        s.rate = Some((base * DECREASE).max(MIN_RATE));
        s.last_cut = now;
        s.next_slot = s.next_slot.max(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unpaced_until_the_first_throttle_then_below_what_got_through() {
        let g = Governor::new();
        assert_eq!(g.rate(), None);
        // 20 successes a second for most of a second.
        for _ in 0..18 {
            g.acquire().await;
            g.on_success();
            std::thread::sleep(Duration::from_millis(50));
        }
        let sent = g.acquire().await;
        g.on_throttle(sent);
        let rate = g.rate().unwrap();
        assert!((15.0..=19.0).contains(&rate), "{rate}");
        // A call sent before the cut does not cut again.
        g.on_throttle(sent);
        assert_eq!(g.rate(), Some(rate));
        // A call sent after the cut does.
        let later = g.acquire().await;
        g.on_throttle(later);
        assert!(g.rate().unwrap() < rate);
    }

    #[tokio::test]
    async fn a_throttle_before_any_success_pauses_and_an_early_one_is_not_cut_to_the_floor() {
        let g = Governor::new();
        let sent = g.acquire().await;
        g.on_throttle(sent);
        assert_eq!(g.rate(), None, "nothing to measure yet");
        let waited = Instant::now();
        g.acquire().await;
        assert!(waited.elapsed() >= Duration::from_millis(200), "paused");
        // 5 successes in the first quarter second are 20 a second, not 5.
        let g = Governor::new();
        for _ in 0..5 {
            g.acquire().await;
            g.on_success();
        }
        std::thread::sleep(Duration::from_millis(250));
        let sent = g.acquire().await;
        g.on_throttle(sent);
        assert!(g.rate().unwrap() > 10.0, "{:?}", g.rate());
    }
}
