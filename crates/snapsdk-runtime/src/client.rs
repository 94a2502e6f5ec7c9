//! The client: a call from start to finish (credentials, the URL, waiting
//! its turn, attempts within their limits, retries, tracing).

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use tokio::time::Instant;

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

/// `make()` in a new box, allocated before `make` runs: the compiler then
/// builds the value in place (the call's state, about 2 KB) rather than on
/// the stack to copy it over (measured: 400 instructions and 28 cache-line
/// write misses per call).
#[inline(always)]
fn pin_in_place<T>(make: impl FnOnce() -> T) -> std::pin::Pin<Box<T>> {
    Box::into_pin(Box::write(Box::new_uninit(), make()))
}

/// Where a call waiting for its turn starts waiting.
enum Turn {
    /// At the beginning: a hold-off, then the rate limiter, then a slot.
    HoldOff,
    /// The hold-off and the rate limiter were passed: only a slot is missing.
    Slot,
}

/// A call in flight: what [`Client::start`] returns.
pub(crate) type CallFuture = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Response, Error>> + Send>>;

pin_project_lite::pin_project! {
    /// A call inside its `snapsdk.request` span, made when the call is first
    /// polled (so its parent is the span current where it is awaited, not
    /// where the future was built).
    struct Traced<F> {
        vendor: &'static str,
        op: &'static OperationInfo,
        #[pin]
        call: F,
        // Declared after `call`, so the span closes only once the call is dropped.
        span: Option<tracing::Span>,
    }
}

impl<F: std::future::Future> std::future::Future for Traced<F> {
    type Output = F::Output;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<F::Output> {
        let this = self.project();
        let (vendor, op) = (*this.vendor, *this.op);
        let span = this.span.get_or_insert_with(|| {
            tracing::info_span!(
                "snapsdk.request",
                vendor,
                operation = op.id,
                method = %op.method,
                path = op.path_template,
                attempt = tracing::field::Empty,
                status = tracing::field::Empty,
                elapsed_ms = tracing::field::Empty,
            )
        });
        let _entered = span.enter();
        this.call.poll(cx)
    }
}

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
        self.clone().start(req).await
    }

    /// The call `req` as one boxed future, inside its tracing span (see
    /// [`execute`](Self::execute)).
    ///
    /// One allocation holds the whole call: the futures above it (the
    /// generated builder's `send`) move a pointer, and the answer is handed
    /// up through as few layers as possible.
    pub(crate) fn start(self, req: Request) -> CallFuture {
        let (vendor, op) = (self.inner.vendor.name, req.op);
        pin_in_place(|| Traced {
            vendor,
            op,
            span: None,
            call: self.execute_inner(req),
        })
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

    /// The call, start to finish. A plain function returning an `async`
    /// block, not an `async fn`: an `async fn` would keep its arguments
    /// twice in its state (rust-lang/rust#62958), and the request is hundreds of bytes.
    #[allow(clippy::manual_async_fn)] // on purpose: see above
    fn execute_inner(self, mut req: Request) -> impl std::future::Future<Output = Result<Response, Error>> + Send {
        async move {
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
                let permit = match self.try_turn() {
                    Ok(slot) => slot,
                    // Boxed: only a call that has to wait pays for the room.
                    Err(from) => Box::pin(self.wait_for_turn(op, limits.policy.deadline, &limits.policy.retry, from))
                        .await
                        .map_err(|e| held_back(e, started, &span))?,
                };
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
        let attempt = self
            .inner
            .transport
            .attempt(req, url, credentials, limits.idle, limits.started, permit, number);
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

    /// A call's turn when nothing makes it wait: no hold-off, a rate-limit
    /// permit at hand, a free connection slot. Otherwise where
    /// [`wait_for_turn`](Self::wait_for_turn) picks up.
    fn try_turn(&self) -> Result<Slot, Turn> {
        if self.inner.hold_off.is_set() {
            return Err(Turn::HoldOff);
        }
        #[cfg(feature = "rate-limit")]
        if let Some(limiter) = &self.inner.limiter {
            if !limiter.try_acquire() {
                return Err(Turn::HoldOff);
            }
        }
        Slots::try_take(&self.inner.connections).ok_or(Turn::Slot)
    }

    /// Wait out any hold-off, then the rate limiter, then a connection slot
    /// (from `from` on: [`try_turn`](Self::try_turn) may have passed the first two).
    async fn wait_for_turn(
        &self,
        op: &'static OperationInfo,
        deadline: Instant,
        retry: &RetryConfig,
        from: Turn,
    ) -> Result<Slot, Error> {
        let rate_limited = |wait| Error::RateLimited {
            operation: op.id,
            retry_after: Some(wait),
            response: None,
        };
        if let Turn::HoldOff = from {
            self.inner
                .hold_off
                .wait(deadline, retry.max_retry_after)
                .await
                .map_err(rate_limited)?;
            #[cfg(feature = "rate-limit")]
            if let Some(limiter) = &self.inner.limiter {
                limiter.acquire(deadline).await.map_err(rate_limited)?;
            }
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

#[cfg(test)]
mod state_size {
    //! What a call moves and allocates (issue 25): its answer is handed up
    //! through every layer by value, its state is one allocation written in
    //! place, and each attempt's state sits inside it. These bounds are the
    //! sizes measured when they were set (debug build, Rust 1.95) rounded up;
    //! the designs they replaced measured more (an unboxed streamed answer:
    //! `Response` 400 bytes; the error read inline: attempt 1,248; `async fn`
    //! arguments kept twice: the call 2,280).
    use super::*;

    static VENDOR: VendorInfo = VendorInfo {
        name: "v",
        crate_name: "c",
        crate_version: "0",
        base_url: "http://127.0.0.1:1",
        rate_limit: None,
    };
    static OP: OperationInfo = OperationInfo::get("op", "/x", AuthRequirement::None);

    #[test]
    fn a_calls_state_and_answer_stay_small() {
        let client = ClientBuilder::new(&VENDOR).build().unwrap();
        let req = || Request::new(&OP, "/x".into());
        assert!(
            std::mem::size_of::<Response>() <= 200,
            "{}",
            std::mem::size_of::<Response>()
        );
        let call = std::mem::size_of_val(&client.clone().execute_inner(req()));
        assert!(call <= 1920, "the call's state is {call} bytes");

        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let r = req();
            let limits = client.limits(&r);
            let url = reqwest::Url::parse("http://127.0.0.1:1/x").unwrap();
            let permit = client.try_turn().ok().unwrap();
            let attempt = std::mem::size_of_val(&client.inner.transport.attempt(
                &r,
                &url,
                None,
                limits.idle,
                limits.started,
                permit,
                1,
            ));
            assert!(attempt <= 1000, "an attempt's state is {attempt} bytes");
        });
    }
}
