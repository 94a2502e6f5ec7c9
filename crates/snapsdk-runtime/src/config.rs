//! Client and per-request settings, with the documented defaults.

use std::time::Duration;

/// Retry behaviour.
///
/// Defaults: 3 attempts, exponential backoff from 200 ms doubling to at most
/// 5 s with full jitter, and `Retry-After` honoured up to 60 s.
///
/// What is retried: a failure before any byte of the request was sent (DNS,
/// refused connection, connect timeout) for every operation; after sending,
/// timeouts, broken connections and the statuses 408, 429 and 5xx only for
/// idempotent operations (GET, HEAD, PUT, DELETE), for operations the spec
/// marks retryable, or for calls that set
/// [`RequestOptions::retry_non_idempotent`]. A request whose body cannot be
/// sent twice (a [`FilePart::from_reader`](crate::FilePart::from_reader)
/// upload) is never retried. [`Error::is_retryable`](crate::Error::is_retryable)
/// answers the same question for a returned error, and
/// [`Error::attempts`](crate::Error::attempts) says how many attempts were
/// made, in how long, and what stopped them.
///
/// A `Retry-After` answer (seconds or HTTP date) replaces the backoff. A
/// `Retry-After` longer than [`max_retry_after`](Self::max_retry_after) is
/// never waited out silently: the call fails at once with
/// [`Error::RateLimited`](crate::Error::RateLimited) carrying the wait, and
/// the client's other calls fail the same way until that time has passed (at
/// most [`ClientBuilder::max_hold_off`](crate::ClientBuilder::max_hold_off),
/// 10 minutes by default; [`Client::clear_hold_off`](crate::Client::clear_hold_off)
/// lifts it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryConfig {
    /// Total attempts, the first one included. 1 disables retries.
    pub max_attempts: u32,
    /// The backoff ceiling before the second attempt; it doubles per attempt.
    pub initial_backoff: Duration,
    /// The largest backoff ceiling.
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
    #[must_use]
    pub fn disabled() -> Self {
        RetryConfig { max_attempts: 1, ..Self::default() }
    }

    /// The same settings with `n` total attempts (at least 1).
    #[must_use]
    pub fn with_max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// The same settings with another backoff range.
    #[must_use]
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max;
        self
    }

    /// The same settings with another `Retry-After` cap.
    #[must_use]
    pub fn with_max_retry_after(mut self, cap: Duration) -> Self {
        self.max_retry_after = cap;
        self
    }

    /// The largest backoff before attempt `attempt + 1` (so `attempt` >= 1):
    /// `initial * 2^(attempt-1)`, capped at `max_backoff`.
    #[must_use]
    pub fn backoff_ceiling(&self, attempt: u32) -> Duration {
        let exp = self.initial_backoff.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        exp.min(self.max_backoff)
    }

    /// The backoff before attempt `attempt + 1` (so `attempt` >= 1): a random
    /// delay between zero and [`backoff_ceiling`](Self::backoff_ceiling) ("full jitter").
    #[must_use]
    pub fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self.backoff_ceiling(attempt);
        Duration::try_from_secs_f64(ceiling.as_secs_f64() * fastrand::f64()).unwrap_or(ceiling).min(ceiling)
    }
}

/// Time limits.
///
/// Defaults: connect 10 s, each attempt 30 s (from sending the request to the
/// last byte of a buffered response), the whole operation 90 s (every
/// attempt, backoff, `Retry-After` and rate-limit wait included), and idle
/// 30 s: the longest pause allowed while a body moves, in either direction
/// (an upload the server stops reading, a buffered or streamed response that
/// stops arriving). A streamed download is limited by `attempt` only until
/// its headers arrive; after that, `idle` alone bounds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Establishing a TCP/TLS connection.
    pub connect: Duration,
    /// One attempt.
    pub attempt: Duration,
    /// The whole call, across retries and waits.
    pub operation: Duration,
    /// The longest pause between two pieces of a body, sent or received.
    pub idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            attempt: Duration::from_secs(30),
            operation: Duration::from_secs(90),
            idle: Duration::from_secs(30),
        }
    }
}

/// A client-side request budget: `requests` per `period`, with bursts up to
/// `requests`. One budget is shared by every clone of a client and every task
/// using it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// How many requests are allowed per `period`.
    pub requests: u32,
    /// The window the `requests` apply to.
    pub period: Duration,
}

impl RateLimit {
    /// `requests` per `period`.
    #[must_use]
    pub const fn new(requests: u32, period: Duration) -> Self {
        RateLimit { requests, period }
    }
    /// `requests` per second.
    #[must_use]
    pub const fn per_second(requests: u32) -> Self {
        Self::new(requests, Duration::from_secs(1))
    }
    /// `requests` per minute.
    #[must_use]
    pub const fn per_minute(requests: u32) -> Self {
        Self::new(requests, Duration::from_secs(60))
    }
}

/// Overrides for one call; unset fields use the client's settings. Headers
/// and query pairs the spec does not describe go in the call's [`Extras`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestOptions {
    /// Total attempts for this call (overrides `retry.max_attempts` too).
    pub max_attempts: Option<u32>,
    /// Limit on each attempt for this call (overrides the client's).
    pub attempt_timeout: Option<Duration>,
    /// Limit on the whole call, across retries and waits (overrides the client's).
    pub operation_timeout: Option<Duration>,
    /// The longest pause while a body moves (see [`Timeouts::idle`]).
    pub idle_timeout: Option<Duration>,
    /// Let this call retry even though its method is not idempotent (a POST).
    /// Use only when the server deduplicates the request.
    pub retry_non_idempotent: bool,
    /// The whole retry policy (backoff, `Retry-After` cap) for this call.
    pub retry: Option<RetryConfig>,
}

impl RequestOptions {
    #[must_use]
    /// No overrides: the client's settings apply.
    pub fn new() -> Self {
        Self::default()
    }
    #[must_use]
    /// Total attempts for this call; `1` turns retries off.
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = Some(n.max(1));
        self
    }
    #[must_use]
    /// Limit on each attempt of this call.
    pub fn attempt_timeout(mut self, d: Duration) -> Self {
        self.attempt_timeout = Some(d);
        self
    }
    #[must_use]
    /// Limit on the whole call, across retries and waits.
    pub fn operation_timeout(mut self, d: Duration) -> Self {
        self.operation_timeout = Some(d);
        self
    }
    /// The longest pause while this call's body moves, either direction.
    #[must_use]
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.idle_timeout = Some(d);
        self
    }
    #[must_use]
    /// Let this call retry although its method is not idempotent (only when the server deduplicates it).
    pub fn retry_non_idempotent(mut self, yes: bool) -> Self {
        self.retry_non_idempotent = yes;
        self
    }
    /// Use this retry policy (backoff, cap, attempts) for this call.
    #[must_use]
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = Some(retry);
        self
    }
}

/// Headers and query pairs for one call, for vendor features the spec does
/// not describe yet: [`Request::extras`](crate::Request::extras), set by a
/// generated request builder.
///
/// They are checked when the call starts, before anything is sent: the call
/// fails with [`Error::InvalidArgument`](crate::Error::InvalidArgument)
/// (naming `extra header` or `extra query`, and never echoing a value) for a
/// name or value that cannot be sent (CR/LF or another control character, a
/// space in the name), the client's credentials header, `Host`,
/// `User-Agent`, `Content-Type`, and the headers that frame the body or the
/// connection (`Content-Length`, `Transfer-Encoding`, `Connection`,
/// `Keep-Alive`, `Upgrade`, `TE`, `Trailer`, `Proxy-Connection`).
///
/// ```
/// let extras = snapsdk_runtime::Extras::new().header("x-beta-feature", "on").query("beta", "1");
/// assert!(!extras.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extras {
    /// Headers, `(name, value)`, each set on every attempt, replacing a
    /// header of the same name (an operation's header parameter).
    pub headers: Vec<(String, String)>,
    /// Query pairs, `(name, value)` unencoded, appended after the operation's own.
    pub query: Vec<(String, String)>,
}

impl Extras {
    /// None.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
    /// Send this header (see the type's docs for what is refused).
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
    /// Append this query pair (unencoded: the runtime encodes it). An empty
    /// name is refused before anything is sent.
    #[must_use]
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }
    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty() && self.query.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap_and_jitters_below_it() {
        let r = RetryConfig::default();
        assert_eq!(r.backoff_ceiling(1), Duration::from_millis(200));
        assert_eq!(r.backoff_ceiling(2), Duration::from_millis(400));
        assert_eq!(r.backoff_ceiling(5), Duration::from_millis(3200));
        assert_eq!(r.backoff_ceiling(6), Duration::from_secs(5));
        assert_eq!(r.backoff_ceiling(u32::MAX), Duration::from_secs(5));
        for attempt in 1..40 {
            assert!(r.backoff(attempt) <= r.backoff_ceiling(attempt));
        }
        let huge = RetryConfig::default().with_backoff(Duration::MAX, Duration::MAX);
        assert!(huge.backoff(30) <= Duration::MAX);
    }
}
