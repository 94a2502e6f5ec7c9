//! The client: a call from start to finish (credentials, the URL, waiting
//! its turn, attempts within their limits, retries, tracing).

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use tokio::time::Instant;
use tracing::Instrument;

use crate::auth::{AuthRequirement, Credentials};
use crate::builder::ClientState;
pub use crate::builder::{ClientBuilder, DEFAULT_MAX_BODY_SIZE, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_HOLD_OFF};
use crate::config::RetryConfig;
use crate::error::Error;
use crate::intercept::{apply_extras, RetryDecision};
pub use crate::request::{OperationInfo, Request, VendorInfo};
use crate::response::Response;
use crate::retry::{after, Failure, Next, Policy};
use crate::slots::{Slot, Slots};
use crate::transport::{call_url, Attempt};

/// One more than the longest URI `http::Uri` accepts.
const MAX_URI_LEN: usize = u16::MAX as usize;

/// A configured client. Cheap to clone; clones share connections, the rate
/// limiter and any server-requested hold-off.
#[derive(Clone)]
pub struct Client {
    inner: Arc<ClientState>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("vendor", &self.inner.vendor.name)
            .field("base_url", &self.inner.base_url)
            .field("credentials", &self.inner.transport.credentials)
            .field("timeouts", &self.inner.timeouts)
            .field("retry", &self.inner.retry)
            .field("max_body_size", &self.inner.transport.max_body_size)
            .finish()
    }
}

impl ClientBuilder {
    /// Check the configuration and build the client.
    ///
    /// Fails (with [`Error::Config`], never echoing a secret) when a
    /// credential cannot be sent, the base URL is not `http(s)://host[/prefix]`
    /// or carries a user name, password, query or fragment, credentials would
    /// go over plain `http://` to a non-loopback host (see
    /// [`allow_insecure_http`](Self::allow_insecure_http)), or a limit is zero.
    pub fn build(self) -> Result<Client, Error> {
        Ok(Client {
            inner: Arc::new(self.into_state()?),
        })
    }
}

/// The limits of one call: the client's settings with the call's overrides.
struct Limits {
    started: Instant,
    attempt: Duration,
    idle: Duration,
    policy: Policy,
}

impl Client {
    /// The base URL requests go to (without a trailing `/`).
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// Lift a hold-off a server's `Retry-After` put on this client and its
    /// clones, so that calls go out again at once.
    pub fn clear_hold_off(&self) {
        self.inner.hold_off.clear();
    }

    /// Send a request with retries, limits and tracing; see [`RetryConfig`] and [`crate::Timeouts`].
    ///
    /// Every call runs in a `snapsdk.request` tracing span carrying the
    /// vendor, operation id, method, path template (never the filled-in
    /// path or any header), the attempt number, the final status and the
    /// elapsed milliseconds. Its events follow the same rule: they name the
    /// kind of failure and the status, never the path, a body or a URL.
    pub async fn execute(&self, req: Request) -> Result<Response, Error> {
        let op = req.op;
        let span = tracing::info_span!(
            "snapsdk.request",
            vendor = self.inner.vendor.name,
            operation = op.id,
            method = %op.method,
            path = op.path_template,
            attempt = tracing::field::Empty,
            status = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
        );
        // Boxed, like each attempt (see `attempt_within`): the futures that
        // wrap this one (the generated builder's `send`) then move a pointer,
        // not the call's state.
        Box::pin(self.execute_inner(req)).instrument(span).await
    }

    /// The credentials to send for `op`; an error, before anything is sent,
    /// when it needs some the client lacks.
    fn credentials_for(&self, op: &'static OperationInfo) -> Result<Option<&Credentials>, Error> {
        match op.auth {
            AuthRequirement::None => Ok(None),
            AuthRequirement::Schemes([]) => Ok(None),
            AuthRequirement::Schemes(accepted) => match &self.inner.transport.credentials {
                Some(c) if accepted.contains(&c.scheme()) => Ok(Some(c)),
                Some(c) => Err(Error::invalid(
                    op.id,
                    "credentials",
                    format!(
                        "this operation accepts {accepted:?}, but the client was built with `{}`",
                        c.scheme()
                    ),
                )),
                None => Err(Error::MissingCredentials {
                    operation: op.id,
                    schemes: accepted,
                }),
            },
        }
    }

    /// The limits and retry policy of `req`, starting now.
    fn limits(&self, req: &Request) -> Limits {
        let inner = &*self.inner;
        let started = Instant::now();
        let operation_timeout = req.options.operation_timeout.unwrap_or(inner.timeouts.operation);
        let retry = req.options.retry.unwrap_or(inner.retry);
        let policy = Policy {
            retry,
            max_attempts: req.options.max_attempts.unwrap_or(retry.max_attempts).max(1),
            may_resend: req.op.retryable || req.options.retry_non_idempotent,
            replayable: req.body.replayable(),
            operation_timeout,
            deadline: after(started, operation_timeout),
        };
        Limits {
            started,
            attempt: req.options.attempt_timeout.unwrap_or(inner.timeouts.attempt),
            idle: req.options.idle_timeout.unwrap_or(inner.timeouts.idle),
            policy,
        }
    }

    /// The call's URL, refused (as an invalid argument) when longer than
    /// the HTTP stack sends; anything else it refuses comes back from the
    /// first attempt as a builder error, also an invalid argument.
    /// The call's extras (headers, query pairs) are checked and put on here.
    fn url_for(&self, req: &mut Request) -> Result<reqwest::Url, Error> {
        let mut url = call_url(&self.inner.base, &req.path, &req.query);
        if !req.extras.is_empty() {
            let protected = self.inner.transport.credentials.as_ref().map(Credentials::header_name);
            apply_extras(req.op.id, &req.extras, &mut req.headers, &mut url, protected)?;
        }
        if url.as_str().len() >= MAX_URI_LEN {
            return Err(Error::invalid(
                req.op.id,
                "path",
                format!(
                    "the request URL is {} bytes, and at most {} can be sent; check the path and query parameters",
                    url.as_str().len(),
                    MAX_URI_LEN - 1
                ),
            ));
        }
        Ok(url)
    }

    async fn execute_inner(&self, mut req: Request) -> Result<Response, Error> {
        let op = req.op;
        let span = tracing::Span::current();
        let limits = self.limits(&req);
        let started = limits.started;
        let credentials = self
            .credentials_for(op)
            .inspect_err(|e| tracing::debug!(error = %e.trace_summary(), "not sent"))?;
        let url = self
            .url_for(&mut req)
            .inspect_err(|e| tracing::debug!(error = %e.trace_summary(), "not sent"))?;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            span.record("attempt", attempt);
            let permit = self
                .wait_for_turn(op, limits.policy.deadline, &limits.policy.retry)
                .await
                .map_err(|e| held_back(e, started, &span))?;
            let outcome = self
                .attempt_within(&req, &url, credentials, &limits, permit, attempt)
                .await?;
            let failure = match outcome {
                Attempt::Done(resp) => {
                    // Without a subscriber the span records nothing: no clock read for it.
                    if !span.is_disabled() {
                        span.record("elapsed_ms", started.elapsed().as_millis() as u64);
                        span.record("status", resp.status().as_u16());
                    }
                    tracing::debug!(attempt, status = resp.status().as_u16(), "request succeeded");
                    return Ok(resp);
                }
                Attempt::Failed(failure) => failure,
            };
            let elapsed = started.elapsed();
            span.record("elapsed_ms", elapsed.as_millis() as u64);
            let failure = self.note_failure(failure, elapsed, &span);
            let next = limits.policy.after_failure(op.id, failure, attempt, elapsed);
            if !self.inner.transport.interceptors.is_empty() {
                self.retry_hooks(op.id, attempt, &next)?;
            }
            match next {
                Next::Retry(delay, _) => tokio::time::sleep(delay).await,
                Next::GiveUp(error) => return Err(error),
            }
        }
    }

    /// One attempt, bounded by the attempt limit or what is left of the
    /// call's deadline, whichever is shorter.
    #[allow(clippy::too_many_arguments)] // one attempt's pieces, handed on once
    async fn attempt_within(
        &self,
        req: &Request,
        url: &reqwest::Url,
        credentials: Option<&Credentials>,
        limits: &Limits,
        permit: Slot,
        number: u32,
    ) -> Result<Attempt, Error> {
        let now = Instant::now();
        let remaining = limits.policy.deadline.saturating_duration_since(now);
        let (limit, limit_name) = if limits.attempt < remaining {
            (limits.attempt, "attempt")
        } else {
            (remaining, "operation deadline")
        };
        let timeout = || {
            Attempt::failed(Error::Timeout {
                operation: req.op.id,
                limit: limit_name,
                elapsed: Duration::ZERO,
                attempts: None,
            })
        };
        // `limit` is at most what is left before the deadline: no overflow.
        let due = now + limit;
        // Only with interceptors (whose hooks may block): production calls pay nothing.
        let hooks_deadline = (!self.inner.transport.interceptors.is_empty()).then_some(due);
        // Boxed: the attempt's state is kilobytes, and each layer of futures
        // above would otherwise copy it whole when it is created and moved
        // (most of the instructions and memory writes the runtime added per
        // call); one allocation costs less.
        let attempt =
            Box::pin(
                self.inner
                    .transport
                    .attempt(req, url, credentials, limits.idle, limits.started, permit, number),
            );
        // `timeout_at` with the instant already read: one clock read less than `timeout`.
        match tokio::time::timeout_at(due, attempt).await {
            // A hook that blocked the task may have let the limit pass unseen.
            Ok(Ok(Attempt::Done(_))) if hooks_deadline.is_some_and(|d| Instant::now() > d) => Ok(timeout()),
            Ok(outcome) => outcome,
            Err(_) => Ok(timeout()),
        }
    }

    /// Tell the interceptors what follows a failed attempt.
    fn retry_hooks(&self, operation: &'static str, attempt: u32, next: &Next) -> Result<(), Error> {
        let (error, delay) = match next {
            Next::Retry(delay, error) => (error, Some(*delay)),
            Next::GiveUp(error) => (error, None),
        };
        let decision = RetryDecision {
            operation,
            attempt,
            error,
            delay,
        };
        self.inner
            .transport
            .interceptors
            .run(operation, |i| i.on_retry_decision(&decision))
    }

    /// Record a failed attempt: its time in a timeout, its status on the
    /// span, and a server's `Retry-After` on a 429 or 503 as the client's hold-off.
    fn note_failure(&self, mut failure: Failure, elapsed: Duration, span: &tracing::Span) -> Failure {
        if let Error::Timeout { elapsed: e, .. } = &mut failure.error {
            *e = elapsed;
        }
        let status = failure.error.status();
        if let Some(status) = status {
            span.record("status", status.as_u16());
        }
        if let (Some(wait), Some(StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE)) =
            (failure.retry_after, status)
        {
            // The server asked everyone to wait: hold back the requests that follow too.
            self.inner.hold_off.extend(wait);
        }
        failure
    }

    /// Wait out any hold-off, then the rate limiter, then a connection slot.
    async fn wait_for_turn(
        &self,
        op: &'static OperationInfo,
        deadline: Instant,
        retry: &RetryConfig,
    ) -> Result<Slot, Error> {
        let rate_limited = |wait| Error::RateLimited {
            operation: op.id,
            retry_after: Some(wait),
            response: None,
        };
        self.inner
            .hold_off
            .wait(deadline, retry.max_retry_after)
            .await
            .map_err(rate_limited)?;
        #[cfg(feature = "rate-limit")]
        if let Some(limiter) = &self.inner.limiter {
            limiter.acquire(deadline).await.map_err(rate_limited)?;
        }
        if let Some(slot) = Slots::try_take(&self.inner.connections) {
            return Ok(slot);
        }
        tokio::time::timeout_at(deadline, Slots::take(&self.inner.connections))
            .await
            .map_err(|_| Error::Timeout {
                operation: op.id,
                limit: "operation deadline",
                elapsed: Duration::ZERO,
                attempts: None,
            })
    }
}

/// A call refused before sending (held back past its limits): traced, with
/// a timeout's time filled in.
fn held_back(e: Error, started: Instant, span: &tracing::Span) -> Error {
    span.record("elapsed_ms", started.elapsed().as_millis() as u64);
    tracing::debug!(error = %e.trace_summary(), "not sent: held back");
    match e {
        Error::Timeout {
            operation,
            limit,
            attempts,
            ..
        } => Error::Timeout {
            operation,
            limit,
            elapsed: started.elapsed(),
            attempts,
        },
        e => e,
    }
}
