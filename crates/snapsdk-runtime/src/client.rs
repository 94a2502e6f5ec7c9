//! The transport: one shared client, the retry loop, limits and tracing.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use governor::clock::Clock;
use governor::nanos::Nanos;
use governor::{Quota, RateLimiter};
use http::header::{HeaderMap, HeaderValue, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use http::{Method, StatusCode};
use tokio::time::Instant;
use tracing::Instrument;

use crate::auth::{AuthRequirement, Credentials};
use crate::body::Body;
use crate::config::{RateLimit, RequestOptions, RetryConfig, Timeouts};
use crate::error::{ApiError, Error, MAX_ERROR_BODY};
use crate::response::{Response, ResponseBody};

/// Facts about a vendor that the generated crate hands to the runtime.
#[derive(Debug)]
pub struct VendorInfo {
    /// The vendor's short name (`snapengage`).
    pub name: &'static str,
    /// The generated crate's name, for the `User-Agent`.
    pub crate_name: &'static str,
    /// The generated crate's version, for the `User-Agent`.
    pub crate_version: &'static str,
    /// The default base URL.
    pub base_url: &'static str,
    /// The documented rate limit, applied by default.
    pub rate_limit: Option<RateLimit>,
}

/// Facts about one operation, as a `static` in the generated code.
#[derive(Debug)]
pub struct OperationInfo {
    /// The operation id (`start_chat`), used in errors and traces.
    pub id: &'static str,
    /// The HTTP method.
    pub method: Method,
    /// The path as the spec writes it (`/chat/{widgetId}`), for traces.
    pub path_template: &'static str,
    /// Which credentials the operation sends.
    pub auth: AuthRequirement,
    /// Whether a failed attempt may be retried (idempotent methods, or a spec opt-in).
    pub retryable: bool,
}

/// One call, ready to send.
#[derive(Debug)]
pub struct Request {
    /// What operation this is.
    pub op: &'static OperationInfo,
    /// Encoded path, starting with `/`.
    pub path: String,
    /// Encoded query string, without `?`; may be empty.
    pub query: String,
    /// Headers of the operation's header parameters.
    pub headers: HeaderMap,
    /// The body.
    pub body: Body,
    /// Per-call retry and timeout overrides.
    pub options: RequestOptions,
    /// Read the whole body before returning (JSON, text, empty); `false` streams it.
    pub buffer: bool,
}

impl Request {
    /// A request for `op` to `path` (already encoded), with no query, headers or body yet.
    pub fn new(op: &'static OperationInfo, path: String) -> Self {
        Request { op, path, query: String::new(), headers: HeaderMap::new(), body: Body::Empty, options: RequestOptions::default(), buffer: true }
    }
}

/// Builds a [`Client`]; generated crates wrap it with their auth methods.
#[derive(Debug)]
#[must_use = "a builder does nothing until `.build()`"]
pub struct ClientBuilder {
    vendor: &'static VendorInfo,
    base_url: String,
    credentials: Option<Credentials>,
    credential_error: Option<Error>,
    timeouts: Timeouts,
    retry: RetryConfig,
    rate_limit: Option<RateLimit>,
    http: Option<reqwest::Client>,
    user_agent_suffix: Option<String>,
    allow_insecure_http: bool,
}

impl ClientBuilder {
    /// A builder with the vendor's defaults.
    pub fn new(vendor: &'static VendorInfo) -> Self {
        ClientBuilder {
            vendor,
            base_url: vendor.base_url.to_owned(),
            credentials: None,
            credential_error: None,
            timeouts: Timeouts::default(),
            retry: RetryConfig::default(),
            rate_limit: vendor.rate_limit,
            http: None,
            user_agent_suffix: None,
            allow_insecure_http: false,
        }
    }

    /// Use these credentials; a credential that failed to build is reported by [`build`](Self::build).
    pub fn credentials(mut self, credentials: Result<Credentials, Error>) -> Self {
        match credentials {
            Ok(c) => {
                self.credentials = Some(c);
                self.credential_error = None;
            }
            Err(e) => self.credential_error = Some(e),
        }
        self
    }

    /// Send requests somewhere else (a mock server, a proxy, a staging host).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }
    /// Limit on establishing a connection.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.timeouts.connect = d;
        self
    }
    /// Limit on each attempt, from sending to the last byte of a buffered body.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeouts.attempt = d;
        self
    }
    /// Limit on a whole call, across retries and waits.
    pub fn operation_timeout(mut self, d: Duration) -> Self {
        self.timeouts.operation = d;
        self
    }
    /// The retry policy.
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }
    /// Replace the documented rate limit; `None` turns client-side limiting off.
    pub fn rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.rate_limit = limit;
        self
    }
    /// Bring your own `reqwest::Client` (proxies, TLS roots, connection pools).
    /// Its own timeouts apply in addition to ours; the connect timeout set here is then not used.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }
    /// Appended to the `User-Agent` (which always names the crate and version).
    pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.user_agent_suffix = Some(suffix.into());
        self
    }
    /// Allow sending credentials over plain `http://` to a host other than
    /// the loopback interface. Off by default: [`build`](Self::build) refuses
    /// such a base URL, because the key would cross the network in clear text.
    pub fn allow_insecure_http(mut self, yes: bool) -> Self {
        self.allow_insecure_http = yes;
        self
    }

    /// Check the configuration and build the client.
    ///
    /// Fails (with [`Error::Config`], never echoing a secret) when a
    /// credential cannot be sent, the base URL is not `http(s)://host[/prefix]`
    /// or carries a user name, password, query or fragment, credentials would
    /// go over plain `http://` to a non-loopback host (see
    /// [`allow_insecure_http`](Self::allow_insecure_http)), or a limit is zero.
    pub fn build(self) -> Result<Client, Error> {
        if let Some(e) = self.credential_error {
            return Err(e);
        }
        let base = self.base_url.trim_end_matches('/').to_owned();
        let shown = if base.contains('@') { "(not shown: it may hold a password)".to_owned() } else { format!("{base:?}") };
        let parsed = reqwest::Url::parse(&base)
            .map_err(|e| Error::Config(format!("base URL {shown} is not a URL ({e}); pass e.g. \"https://host\"")))?;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(Error::Config(
                "the base URL carries a user name or password; pass credentials through the client builder's auth methods instead".into(),
            ));
        }
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            return Err(Error::Config(format!("base URL {base:?} must be http(s)://host[/prefix]")));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(Error::Config(format!("base URL {base:?} must not carry a query or fragment")));
        }
        if parsed.scheme() == "http" && self.credentials.is_some() && !is_loopback(&parsed) && !self.allow_insecure_http {
            return Err(Error::Config(format!(
                "base URL {base:?} is plain http, so the credentials would cross the network unencrypted; use https \
                 (http is allowed only for loopback addresses such as a local mock server)"
            )));
        }
        let mut ua = format!("{}/{} (snapsdk-runtime/{})", self.vendor.crate_name, self.vendor.crate_version, env!("CARGO_PKG_VERSION"));
        if let Some(s) = &self.user_agent_suffix {
            ua.push(' ');
            ua.push_str(s);
        }
        let user_agent = HeaderValue::from_str(&ua).map_err(|_| Error::Config("the User-Agent suffix is not a valid header value".into()))?;
        if self.retry.max_attempts == 0 {
            return Err(Error::Config("retry.max_attempts must be at least 1".into()));
        }
        for (name, d) in [("connect", self.timeouts.connect), ("attempt", self.timeouts.attempt), ("operation", self.timeouts.operation)] {
            if d.is_zero() {
                return Err(Error::Config(format!("the {name} timeout is zero; every call would fail")));
            }
        }
        let http = match self.http {
            Some(c) => c,
            None => crate::tls::http_client_builder()?
                .connect_timeout(self.timeouts.connect)
                .redirect(same_origin_redirects())
                .build()
                .map_err(|e| Error::Config(format!("HTTP client: {e}")))?,
        };
        let limiter = match self.rate_limit {
            Some(limit) => Some(Limiter::new(limit)?),
            None => None,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                vendor: self.vendor,
                http,
                base_url: base,
                credentials: self.credentials,
                timeouts: self.timeouts,
                retry: self.retry,
                limiter,
                hold_until: Mutex::new(None),
                user_agent,
            }),
        })
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else { return false };
    let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Follow at most 5 redirects, and only within the origin (scheme, host,
/// port) of the request: a credential in a custom header (`x-api-key`) would
/// otherwise be sent to whatever host a redirect names. A redirect elsewhere
/// comes back as the 3xx answer ([`Error::Api`]).
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same = attempt.previous().first().is_some_and(|first| first.origin() == attempt.url().origin());
        if attempt.previous().len() > 5 || !same {
            attempt.stop()
        } else {
            attempt.follow()
        }
    })
}

/// A configured client. Cheap to clone; clones share connections, the rate
/// limiter and any server-requested hold-off.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("vendor", &self.inner.vendor.name)
            .field("base_url", &self.inner.base_url)
            .field("credentials", &self.inner.credentials)
            .field("timeouts", &self.inner.timeouts)
            .field("retry", &self.inner.retry)
            .finish()
    }
}

struct Inner {
    vendor: &'static VendorInfo,
    http: reqwest::Client,
    base_url: String,
    credentials: Option<Credentials>,
    timeouts: Timeouts,
    retry: RetryConfig,
    limiter: Option<Limiter>,
    /// Set by a 429/503 with `Retry-After`: no request starts before then.
    hold_until: Mutex<Option<Instant>>,
    user_agent: HeaderValue,
}

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

struct Limiter {
    clock: TokioClock,
    inner: RateLimiter<governor::state::NotKeyed, governor::state::InMemoryState, TokioClock, governor::middleware::NoOpMiddleware<Nanos>>,
}

impl Limiter {
    fn new(limit: RateLimit) -> Result<Self, Error> {
        let burst = NonZeroU32::new(limit.requests).ok_or_else(|| Error::Config("rate limit of 0 requests".into()))?;
        let quota = Quota::with_period(limit.period / limit.requests)
            .ok_or_else(|| Error::Config("rate limit period must be positive".into()))?
            .allow_burst(burst);
        let clock = TokioClock { origin: Instant::now() };
        Ok(Limiter { inner: RateLimiter::direct_with_clock(quota, clock.clone()), clock })
    }

    /// Wait for a permit, or say how long it would take if that passes `deadline`.
    async fn acquire(&self, deadline: Instant) -> Result<(), Duration> {
        // Bounded: each pass either takes a permit or sleeps until one is due.
        loop {
            match self.inner.check() {
                Ok(()) => return Ok(()),
                Err(not_until) => {
                    let wait = not_until.wait_time_from(self.clock.now());
                    if wait > deadline.saturating_duration_since(Instant::now()) {
                        return Err(wait);
                    }
                    tracing::debug!(wait_ms = wait.as_millis() as u64, "waiting for the client-side rate limit");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

/// About thirty years: what "never" means for deadlines and hold-offs, so
/// that instant arithmetic cannot overflow on absurd inputs.
const FAR: Duration = Duration::from_secs(86_400 * 365 * 30);

/// `now + d`, saturating at [`FAR`].
fn after(now: Instant, d: Duration) -> Instant {
    now.checked_add(d.min(FAR)).unwrap_or(now + Duration::from_secs(86_400))
}

/// Turn a reqwest failure into our error kinds.
pub(crate) fn transport_error(operation: &'static str, e: reqwest::Error) -> Error {
    if e.is_timeout() {
        return Error::Timeout { operation, limit: if e.is_connect() { "connect" } else { "attempt" }, elapsed: Duration::ZERO };
    }
    let mut message = e.to_string();
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    Error::Connection { operation, message, source: Some(e) }
}

/// Parse a `Retry-After` value: delay seconds (digits; a fraction is
/// tolerated) or an HTTP date, measured from `now`. A date in the past means
/// no wait; a number too large to represent means "longer than any cap".
/// Anything else is ignored (`None`), and the normal backoff applies.
pub(crate) fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(value.parse::<u64>().map(Duration::from_secs).unwrap_or(Duration::MAX));
    }
    if value.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let secs: f64 = value.parse().ok()?;
        return Some(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    parse_retry_after(headers.get(RETRY_AFTER)?.to_str().ok()?, std::time::SystemTime::now())
}

fn request_id(headers: &HeaderMap) -> Option<String> {
    ["x-request-id", "request-id", "x-amzn-requestid", "x-correlation-id"]
        .iter()
        .find_map(|h| headers.get(*h))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Read a body, at most `limit` bytes of it. A transfer that breaks keeps
/// what arrived, with the error.
async fn read_body(operation: &'static str, mut resp: reqwest::Response, limit: usize) -> (Bytes, Option<Error>) {
    let mut buf = BytesMut::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                let room = limit.saturating_sub(buf.len());
                buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if buf.len() >= limit {
                    return (buf.freeze(), None);
                }
            }
            Ok(None) => return (buf.freeze(), None),
            Err(e) => return (buf.freeze(), Some(transport_error(operation, e))),
        }
    }
}

#[allow(clippy::large_enum_variant)] // short-lived, one per attempt
enum Attempt {
    Done(Response),
    Failed { error: Error, retry_after: Option<Duration> },
}

impl Client {
    /// The base URL requests go to (without a trailing `/`).
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// Send a request with retries, limits and tracing; see [`RetryConfig`] and [`Timeouts`].
    ///
    /// Every call runs in a `snapsdk.request` tracing span carrying the
    /// vendor, operation id, method, path template (never the filled-in
    /// path or any header), the attempt number, the final status and the
    /// elapsed milliseconds.
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
        self.execute_inner(req).instrument(span).await
    }

    async fn execute_inner(&self, req: Request) -> Result<Response, Error> {
        let inner = &*self.inner;
        let op = req.op;
        let span = tracing::Span::current();
        let started = Instant::now();
        let deadline = after(started, req.options.operation_timeout.unwrap_or(inner.timeouts.operation));
        let attempt_limit = req.options.attempt_timeout.unwrap_or(inner.timeouts.attempt);
        let retry = req.options.retry.unwrap_or(inner.retry);
        let max_attempts = req.options.max_attempts.unwrap_or(retry.max_attempts).max(1);
        let may_retry = (op.retryable || req.options.retry_non_idempotent) && req.body.replayable();
        let url = format!("{}{}{}{}", inner.base_url, req.path, if req.query.is_empty() { "" } else { "?" }, req.query);
        let url = reqwest::Url::parse(&url).map_err(|e| Error::invalid(op.id, "path", format!("does not form a URL: {e}")))?;

        let mut attempt = 0u32;
        loop {
            attempt += 1;
            span.record("attempt", attempt);
            if let Err(e) = self.wait_for_turn(op, deadline, &retry).await {
                span.record("elapsed_ms", started.elapsed().as_millis() as u64);
                tracing::debug!(error = %e, "not sent: rate limited");
                return Err(e);
            }

            let remaining = deadline.saturating_duration_since(Instant::now());
            let (limit, limit_name) = if attempt_limit < remaining { (attempt_limit, "attempt") } else { (remaining, "operation deadline") };
            let outcome = match tokio::time::timeout(limit, self.attempt(&req, url.clone())).await {
                Ok(outcome) => outcome?,
                Err(_) => Attempt::Failed {
                    error: Error::Timeout { operation: op.id, limit: limit_name, elapsed: started.elapsed() },
                    retry_after: None,
                },
            };
            let elapsed = started.elapsed();
            span.record("elapsed_ms", elapsed.as_millis() as u64);
            let (error, retry_after) = match outcome {
                Attempt::Done(resp) => {
                    span.record("status", resp.status().as_u16());
                    tracing::debug!(attempt, status = resp.status().as_u16(), "request succeeded");
                    return Ok(resp);
                }
                Attempt::Failed { error, retry_after } => (error, retry_after),
            };
            let error = match error {
                Error::Timeout { operation, limit, .. } => Error::Timeout { operation, limit, elapsed },
                e => e,
            };
            let status = error.status();
            if let Some(status) = status {
                span.record("status", status.as_u16());
            }
            if let (Some(wait), Some(StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE)) = (retry_after, status) {
                // The server asked everyone to wait: hold back the requests that follow too.
                self.hold_off(wait);
            }
            let give_up = |error: Error| -> Error {
                match (error, status) {
                    (Error::Api(api), Some(StatusCode::TOO_MANY_REQUESTS)) => {
                        Error::RateLimited { operation: op.id, retry_after, response: Some(api) }
                    }
                    (e, _) => e,
                }
            };
            if !(may_retry && error.is_retryable() && attempt < max_attempts) {
                tracing::debug!(attempt, error = %error, "request failed");
                return Err(give_up(error));
            }
            let delay = match retry_after {
                Some(wait) if wait > retry.max_retry_after => {
                    tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, "Retry-After exceeds max_retry_after; not waiting");
                    return Err(Error::RateLimited { operation: op.id, retry_after: Some(wait), response: error_api(error) });
                }
                Some(wait) => wait,
                None => retry.backoff(attempt),
            };
            if delay >= deadline.saturating_duration_since(Instant::now()) {
                tracing::debug!(attempt, error = %error, "no time left for another attempt");
                return Err(give_up(error));
            }
            tracing::info!(attempt, delay_ms = delay.as_millis() as u64, error = %error, "retrying");
            tokio::time::sleep(delay).await;
        }
    }

    /// Hold back every request of this client (and its clones) for `wait`.
    fn hold_off(&self, wait: Duration) {
        let until = after(Instant::now(), wait);
        let mut hold = self.inner.hold_until.lock().unwrap_or_else(|e| e.into_inner());
        if hold.is_none_or(|h| h < until) {
            *hold = Some(until);
        }
    }

    async fn wait_for_turn(&self, op: &'static OperationInfo, deadline: Instant, retry: &RetryConfig) -> Result<(), Error> {
        let hold = *self.inner.hold_until.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(until) = hold {
            let wait = until.saturating_duration_since(Instant::now());
            if !wait.is_zero() {
                if wait > retry.max_retry_after || until > deadline {
                    return Err(Error::RateLimited { operation: op.id, retry_after: Some(wait), response: None });
                }
                tracing::debug!(wait_ms = wait.as_millis() as u64, "holding back: the server asked to wait");
                tokio::time::sleep_until(until).await;
            }
        }
        if let Some(limiter) = &self.inner.limiter {
            limiter
                .acquire(deadline)
                .await
                .map_err(|wait| Error::RateLimited { operation: op.id, retry_after: Some(wait), response: None })?;
        }
        Ok(())
    }

    async fn attempt(&self, req: &Request, url: reqwest::Url) -> Result<Attempt, Error> {
        let inner = &*self.inner;
        let op = req.op;
        let mut headers = req.headers.clone();
        headers.insert(USER_AGENT, inner.user_agent.clone());
        match op.auth {
            AuthRequirement::None => {}
            AuthRequirement::Schemes(accepted) => match &inner.credentials {
                Some(c) if accepted.contains(&c.scheme()) => c.apply(&mut headers),
                Some(c) => {
                    return Err(Error::invalid(
                        op.id,
                        "credentials",
                        format!("this operation accepts {accepted:?}, but the client was built with `{}`", c.scheme()),
                    ))
                }
                None => {}
            },
        }
        let mut builder = inner.http.request(op.method.clone(), url);
        builder = match &req.body {
            Body::Empty => builder,
            Body::EmptyWithContentType(ct) => {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
                builder
            }
            Body::Json(b) => {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                builder.body(b.clone())
            }
            Body::Form(f) => {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
                builder.body(f.clone())
            }
            // Boxed: the file-opening future is large and would sit in every attempt's state.
            Body::Multipart(m) => builder.multipart(Box::pin(m.to_form()).await?).headers(std::mem::take(&mut headers)),
        };
        let mut request = match builder.build() {
            Ok(r) => r,
            Err(e) => return Ok(Attempt::Failed { error: transport_error(op.id, e), retry_after: None }),
        };
        if !headers.is_empty() {
            // Moving the map in costs less than `RequestBuilder::headers`, which re-inserts each entry.
            merge_headers(request.headers_mut(), headers);
        }
        let mut resp = match inner.http.execute(request).await {
            Ok(r) => r,
            Err(e) => return Ok(Attempt::Failed { error: transport_error(op.id, e), retry_after: None }),
        };
        let status = resp.status();
        let mut headers = std::mem::take(resp.headers_mut());
        if status.is_success() {
            let body = if req.buffer {
                match resp.bytes().await {
                    Ok(b) => ResponseBody::Buffered(b),
                    Err(e) => return Ok(Attempt::Failed { error: transport_error(op.id, e), retry_after: None }),
                }
            } else {
                ResponseBody::Streaming(resp)
            };
            let mut resp = Response::new(op.id, status, headers, body);
            resp.redactor = inner.credentials.clone();
            return Ok(Attempt::Done(resp));
        }
        let retry_after = retry_after(&headers);
        let (mut body, broken) = read_body(op.id, resp, MAX_ERROR_BODY).await;
        if let Some(e) = broken {
            // The status is the evidence that matters; keep it with what arrived.
            tracing::debug!(error = %e, "the error body broke off");
        }
        if let Some(c) = &inner.credentials {
            body = c.scrub_bytes(body);
            c.scrub_headers(&mut headers);
        }
        let error = Error::Api(Box::new(ApiError {
            operation: op.id,
            method: op.method.clone(),
            path: req.path.clone(),
            status,
            request_id: request_id(&headers),
            headers,
            body,
        }));
        Ok(Attempt::Failed { error, retry_after })
    }
}

/// What `RequestBuilder::headers` does: each name in `src` replaces that name
/// in `dst`, keeping all of `src`'s values for it. Into an empty map, a move.
fn merge_headers(dst: &mut HeaderMap, src: HeaderMap) {
    if dst.is_empty() {
        *dst = src;
        return;
    }
    let mut last = None;
    for (name, value) in src {
        if let Some(name) = name {
            dst.insert(&name, value);
            last = Some(name);
        } else if let Some(name) = &last {
            dst.append(name, value);
        }
    }
}

fn error_api(e: Error) -> Option<Box<ApiError>> {
    match e {
        Error::Api(a) => Some(a),
        _ => None,
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
