//! The client-side rate limiter (feature `rate-limit`): `governor`'s GCRA on
//! tokio's clock, shared by a client and its clones.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::Clock;
use governor::nanos::Nanos;
use governor::{Quota, RateLimiter};
use tokio::time::Instant;

use crate::config::RateLimit;
use crate::error::Error;

/// A clock on tokio's timeline, so the limiter follows paused time in tests.
#[derive(Clone, Debug)]
struct TokioClock {
    origin: Instant,
}

impl Clock for TokioClock {
    type Instant = Nanos;
    fn now(&self) -> Nanos {
        Nanos::from(self.origin.elapsed())
    }
}

pub(crate) struct Limiter {
    clock: TokioClock,
    inner: RateLimiter<
        governor::state::NotKeyed,
        governor::state::InMemoryState,
        TokioClock,
        governor::middleware::NoOpMiddleware<Nanos>,
    >,
}

impl Limiter {
    pub(crate) fn new(limit: RateLimit) -> Result<Self, Error> {
        let burst = NonZeroU32::new(limit.requests).ok_or_else(|| Error::Config("rate limit of 0 requests".into()))?;
        let quota = Quota::with_period(limit.period / limit.requests)
            .ok_or_else(|| Error::Config("rate limit period must be positive".into()))?
            .allow_burst(burst);
        let clock = TokioClock { origin: Instant::now() };
        Ok(Limiter {
            inner: RateLimiter::direct_with_clock(quota, clock.clone()),
            clock,
        })
    }

    /// Take a permit if one is free now (a refused check takes nothing).
    pub(crate) fn try_acquire(&self) -> bool {
        self.inner.check().is_ok()
    }

    /// Wait for a permit, or say how long it would take if that passes `deadline`.
    pub(crate) async fn acquire(&self, deadline: Instant) -> Result<(), Duration> {
        // Bounded: each pass either takes a permit or sleeps until one is due.
        loop {
            match self.inner.check() {
                Ok(()) => return Ok(()),
                Err(not_until) => {
                    let wait = not_until.wait_time_from(self.clock.now());
                    if wait > deadline.saturating_duration_since(Instant::now()) {
                        return Err(wait);
                    }
                    tracing::debug!(
                        wait_ms = wait.as_millis() as u64,
                        "waiting for the client-side rate limit"
                    );
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}
