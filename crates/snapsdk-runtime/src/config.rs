//! Client and per-request settings, with the documented defaults.

use std::time::Duration;

/// Retry behaviour. Defaults: 3 attempts, exponential backoff from 200 ms
/// doubling to at most 5 s with full jitter, and `Retry-After` honoured up to
/// 60 s. A longer `Retry-After` is not waited out: the call fails with
/// [`Error::RateLimited`](crate::Error::RateLimited) carrying the wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryConfig {
    /// Total attempts, the first one included. 1 disables retries.
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// The longest `Retry-After` the client waits by itself.
    pub max_retry_after: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryConfig {
    /// No retries at all.
    pub fn disabled() -> Self {
        RetryConfig { max_attempts: 1, ..Self::default() }
    }

    /// The backoff before attempt `attempt + 1` (so `attempt` >= 1): a random
    /// delay between zero and `initial * 2^(attempt-1)`, capped at `max_backoff`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.initial_backoff.saturating_mul(1u32 << (attempt.saturating_sub(1)).min(16));
        let ceiling = exp.min(self.max_backoff);
        ceiling.mul_f64(fastrand::f64())
    }
}

/// Time limits. Defaults: connect 10 s, each attempt 30 s, the whole
/// operation (all attempts and waits) 90 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub attempt: Duration,
    pub operation: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            attempt: Duration::from_secs(30),
            operation: Duration::from_secs(90),
        }
    }
}

/// A client-side request budget: `requests` per `period`, with bursts up to
/// `requests`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub period: Duration,
}

/// Overrides for one call; unset fields use the client's settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestOptions {
    pub max_attempts: Option<u32>,
    pub attempt_timeout: Option<Duration>,
    pub operation_timeout: Option<Duration>,
    /// Let this call retry even though its method is not idempotent (a POST).
    /// Use only when the server deduplicates the request.
    pub retry_non_idempotent: bool,
}

impl RequestOptions {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = Some(n.max(1));
        self
    }
    pub fn attempt_timeout(mut self, d: Duration) -> Self {
        self.attempt_timeout = Some(d);
        self
    }
    pub fn operation_timeout(mut self, d: Duration) -> Self {
        self.operation_timeout = Some(d);
        self
    }
    pub fn retry_non_idempotent(mut self, yes: bool) -> Self {
        self.retry_non_idempotent = yes;
        self
    }
}
