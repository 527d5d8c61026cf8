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
            match s.rate {
                None => Duration::ZERO,
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
        let observed = s.recent.len() as f64;
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
        for _ in 0..20 {
            g.acquire().await;
            g.on_success();
        }
        let sent = g.acquire().await;
        g.on_throttle(sent);
        let rate = g.rate().unwrap();
        assert!((17.0..=19.0).contains(&rate), "{rate}");
        // A call sent before the cut does not cut again.
        g.on_throttle(sent);
        assert_eq!(g.rate(), Some(rate));
        // A call sent after the cut does.
        let later = g.acquire().await;
        g.on_throttle(later);
        assert!(g.rate().unwrap() < rate);
    }
}
