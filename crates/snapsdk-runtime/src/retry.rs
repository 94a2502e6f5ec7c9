//! The retry policy at work: reading `Retry-After`, deciding after a failed
//! attempt whether to try again and after how long, and the hold-off a
//! server's `Retry-After` puts on all of a client's calls.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use http::StatusCode;
use tokio::time::Instant;

use crate::config::RetryConfig;
#[cfg(test)]
use crate::error::parse_retry_after;
pub(crate) use crate::error::retry_after;
use crate::error::{is_retryable_status, Attempts, Error, StopReason};

/// About thirty years: what "never" means for deadlines and hold-offs, so
/// that instant arithmetic cannot overflow on absurd inputs.
const FAR: Duration = Duration::from_secs(86_400 * 365 * 30);

/// `now + d`, saturating at [`FAR`].
pub(crate) fn after(now: Instant, d: Duration) -> Instant {
    now.checked_add(d.min(FAR)).unwrap_or(now + Duration::from_secs(86_400))
}

/// The time before which no request of a client (or its clones) starts: set
/// by a 429 or 503 with `Retry-After`, for at most `max`.
#[derive(Debug)]
pub(crate) struct HoldOff {
    until: Mutex<Option<Instant>>,
    /// Whether `until` may be set: calls read it without the lock while
    /// no server has asked to wait (a call racing a first `Retry-After` goes
    /// out as if it had started just before it).
    set: AtomicBool,
    max: Duration,
}

impl HoldOff {
    pub(crate) fn new(max: Duration) -> Self {
        HoldOff {
            until: Mutex::new(None),
            set: AtomicBool::new(false),
            max,
        }
    }

    /// Hold back every request for `wait` from now (at most `max`), unless
    /// a longer hold-off is already set.
    pub(crate) fn extend(&self, wait: Duration) {
        let until = after(Instant::now(), wait.min(self.max));
        let mut hold = self.until.lock().unwrap_or_else(|e| e.into_inner());
        if hold.is_none_or(|h| h < until) {
            *hold = Some(until);
        }
        self.set.store(true, Ordering::Release);
    }

    /// Whether a hold-off may be in force (without taking the lock).
    pub(crate) fn is_set(&self) -> bool {
        self.set.load(Ordering::Acquire)
    }

    /// Lift the hold-off.
    pub(crate) fn clear(&self) {
        let mut hold = self.until.lock().unwrap_or_else(|e| e.into_inner());
        *hold = None;
        self.set.store(false, Ordering::Release);
    }

    /// Wait the hold-off out (re-reading it, since a later answer may extend
    /// it); `Err(wait)`, without waiting, when it lasts longer than `cap` or
    /// past `deadline`.
    pub(crate) async fn wait(&self, deadline: Instant, cap: Duration) -> Result<(), Duration> {
        if !self.is_set() {
            return Ok(());
        }
        loop {
            let hold = *self.until.lock().unwrap_or_else(|e| e.into_inner());
            let Some(until) = hold else { return Ok(()) };
            let wait = until.saturating_duration_since(Instant::now());
            if wait.is_zero() {
                return Ok(());
            }
            if wait > cap || until > deadline {
                return Err(wait);
            }
            tracing::debug!(
                wait_ms = wait.as_millis() as u64,
                "holding back: the server asked to wait"
            );
            tokio::time::sleep_until(until).await;
        }
    }
}

/// One call's retry settings, the client's with the call's overrides.
#[derive(Debug)]
pub(crate) struct Policy {
    pub(crate) retry: RetryConfig,
    pub(crate) max_attempts: u32,
    /// Whether the operation may be sent twice (idempotent, or opted in).
    pub(crate) may_resend: bool,
    /// Whether the body can be sent again.
    pub(crate) replayable: bool,
    pub(crate) operation_timeout: Duration,
    pub(crate) deadline: Instant,
}

/// A failed attempt, as the retry loop sees it.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) error: Error,
    /// The server's `Retry-After`, when it sent one.
    pub(crate) retry_after: Option<Duration>,
    /// Whether any of the request may have reached the server.
    pub(crate) sent: bool,
}

/// What follows a failed attempt.
pub(crate) enum Next {
    /// Wait this long, then try again (the failed attempt's error, for interceptors).
    Retry(Duration, Error),
    /// The call ends with this error (its attempts recorded).
    GiveUp(Error),
}

impl Policy {
    /// Decide what follows failed attempt number `attempt`, `elapsed` into the call.
    pub(crate) fn after_failure(
        &self,
        operation: &'static str,
        failure: Failure,
        attempt: u32,
        elapsed: Duration,
    ) -> Next {
        let stop = self.stop_reason(&failure, attempt);
        let delay = match (stop, failure.retry_after) {
            (Some(stop), _) => return Next::GiveUp(self.give_up(operation, failure, stop, attempt, elapsed)),
            (None, Some(wait)) if wait > self.retry.max_retry_after => {
                let stop = StopReason::RetryAfterCap(self.retry.max_retry_after);
                return Next::GiveUp(self.give_up(operation, failure, stop, attempt, elapsed));
            }
            (None, Some(wait)) => wait,
            (None, None) => self.retry.backoff(attempt),
        };
        if delay >= self.deadline.saturating_duration_since(Instant::now()) {
            let stop = StopReason::Deadline(self.operation_timeout);
            return Next::GiveUp(self.give_up(operation, failure, stop, attempt, elapsed));
        }
        tracing::info!(attempt, delay_ms = delay.as_millis() as u64, error = %failure.error.trace_summary(), "retrying");
        Next::Retry(delay, failure.error)
    }

    /// Why no further attempt may be made, before looking at the wait.
    fn stop_reason(&self, failure: &Failure, attempt: u32) -> Option<StopReason> {
        if !failure.error.is_retryable() {
            Some(StopReason::NotRetryable)
        } else if !self.replayable {
            Some(StopReason::BodyNotReplayable)
        } else if failure.sent && !self.may_resend {
            Some(StopReason::NotIdempotent)
        } else if attempt >= self.max_attempts {
            Some(StopReason::MaxAttempts(self.max_attempts))
        } else {
            None
        }
    }

    /// The error that ends the call: its attempts recorded, and a 429 (or a
    /// retryable answer whose `Retry-After` is over the cap, whatever else
    /// stopped the call) as [`Error::RateLimited`] carrying the wait.
    fn give_up(
        &self,
        operation: &'static str,
        failure: Failure,
        stopped_by: StopReason,
        attempt: u32,
        elapsed: Duration,
    ) -> Error {
        let Failure {
            mut error, retry_after, ..
        } = failure;
        error.set_attempts(Attempts {
            count: attempt,
            elapsed,
            stopped_by,
        });
        tracing::debug!(attempt, error = %error.trace_summary(), stopped_by = ?stopped_by, "request failed");
        let over_cap = retry_after.is_some_and(|wait| wait > self.retry.max_retry_after);
        match error {
            Error::Api(api)
                if api.status == StatusCode::TOO_MANY_REQUESTS || (over_cap && is_retryable_status(api.status)) =>
            {
                Error::RateLimited {
                    operation,
                    retry_after,
                    response: Some(api),
                }
            }
            e => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("5", now), Some(Duration::from_secs(5)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("1.5", now), Some(Duration::from_millis(1500)));
        assert_eq!(parse_retry_after("99999999999999999999999", now), Some(Duration::MAX));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(120));
        assert_eq!(parse_retry_after(&date, now), Some(Duration::from_secs(120)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(120));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        for junk in ["", "-5", "soon", "1.2.3", "inf", "NaN", "5s"] {
            assert_eq!(parse_retry_after(junk, now), None, "{junk:?}");
        }
    }
}
