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
    pub name: &'static str,
    pub crate_name: &'static str,
    pub crate_version: &'static str,
    pub base_url: &'static str,
    /// The documented rate limit, applied by default.
    pub rate_limit: Option<RateLimit>,
}

/// Facts about one operation, as a `static` in the generated code.
#[derive(Debug)]
pub struct OperationInfo {
    pub id: &'static str,
    pub method: Method,
    pub path_template: &'static str,
    pub auth: AuthRequirement,
    /// Whether a failed attempt may be retried (idempotent methods, or a spec opt-in).
    pub retryable: bool,
}

/// One call, ready to send.
#[derive(Debug)]
pub struct Request {
    pub op: &'static OperationInfo,
    /// Encoded path, starting with `/`.
    pub path: String,
    /// Encoded query string, without `?`; may be empty.
    pub query: String,
    pub headers: HeaderMap,
    pub body: Body,
    pub options: RequestOptions,
    /// Read the whole body before returning (JSON, text, empty); `false` streams it.
    pub buffer: bool,
}

impl Request {
    pub fn new(op: &'static OperationInfo, path: String) -> Self {
        Request { op, path, query: String::new(), headers: HeaderMap::new(), body: Body::Empty, options: RequestOptions::default(), buffer: true }
    }
}

/// Builds a [`Client`]; generated crates wrap it with their auth methods.
#[derive(Debug)]
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
}

impl ClientBuilder {
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

    pub fn build(self) -> Result<Client, Error> {
        if let Some(e) = self.credential_error {
            return Err(e);
        }
        let base = self.base_url.trim_end_matches('/').to_owned();
        let parsed = reqwest::Url::parse(&base)
            .map_err(|e| Error::Config(format!("base URL {base:?} is not a URL ({e}); pass e.g. \"https://host\"")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            return Err(Error::Config(format!("base URL {base:?} must be http(s)://host[/prefix]")));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(Error::Config(format!("base URL {base:?} must not carry a query or fragment")));
        }
        let mut ua = format!("{}/{} (snapsdk-runtime/{})", self.vendor.crate_name, self.vendor.crate_version, env!("CARGO_PKG_VERSION"));
        if let Some(s) = &self.user_agent_suffix {
            ua.push(' ');
            ua.push_str(s);
        }
        let user_agent = HeaderValue::from_str(&ua).map_err(|_| Error::Config("the User-Agent suffix is not a valid header value".into()))?;
        let http = match self.http {
            Some(c) => c,
            None => reqwest::Client::builder()
                .connect_timeout(self.timeouts.connect)
                .build()
                .map_err(|e| Error::Config(format!("HTTP client: {e}")))?,
        };
        if self.retry.max_attempts == 0 {
            return Err(Error::Config("retry.max_attempts must be at least 1".into()));
        }
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
        loop {
            match self.inner.check() {
                Ok(()) => return Ok(()),
                Err(not_until) => {
                    let wait = not_until.wait_time_from(self.clock.now());
                    if Instant::now() + wait > deadline {
                        return Err(wait);
                    }
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
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

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(std::time::SystemTime::now()).unwrap_or(Duration::ZERO))
}

fn request_id(headers: &HeaderMap) -> Option<String> {
    ["x-request-id", "request-id", "x-amzn-requestid", "x-correlation-id"]
        .iter()
        .find_map(|h| headers.get(*h))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Read a body, at most `limit` bytes of it.
async fn read_body(operation: &'static str, mut resp: reqwest::Response, limit: usize) -> Result<Bytes, Error> {
    let mut buf = BytesMut::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| transport_error(operation, e))? {
        let room = limit.saturating_sub(buf.len());
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if buf.len() >= limit {
            break;
        }
    }
    Ok(buf.freeze())
}

enum Attempt {
    Done(Response),
    Failed { error: Error, retry_after: Option<Duration> },
}

impl Client {
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// Send a request with retries, limits and tracing; see [`RetryConfig`] and [`Timeouts`].
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
        let started = Instant::now();
        let deadline = started + req.options.operation_timeout.unwrap_or(inner.timeouts.operation);
        let attempt_limit = req.options.attempt_timeout.unwrap_or(inner.timeouts.attempt);
        let max_attempts = req.options.max_attempts.unwrap_or(inner.retry.max_attempts).max(1);
        let may_retry = (op.retryable || req.options.retry_non_idempotent) && req.body.replayable();
        let url = format!("{}{}{}{}", inner.base_url, req.path, if req.query.is_empty() { "" } else { "?" }, req.query);
        let url = reqwest::Url::parse(&url).map_err(|e| Error::invalid(op.id, "path", format!("does not form a URL: {e}")))?;

        let mut attempt = 0u32;
        loop {
            attempt += 1;
            tracing::Span::current().record("attempt", attempt);
            self.wait_for_turn(op, deadline).await?;

            let now = Instant::now();
            let remaining = deadline.saturating_duration_since(now);
            let (limit, limit_name) = if attempt_limit < remaining { (attempt_limit, "attempt") } else { (remaining, "operation deadline") };
            let outcome = match tokio::time::timeout(limit, self.attempt(&req, url.clone())).await {
                Ok(outcome) => outcome?,
                Err(_) => Attempt::Failed {
                    error: Error::Timeout { operation: op.id, limit: limit_name, elapsed: started.elapsed() },
                    retry_after: None,
                },
            };
            let elapsed = started.elapsed();
            tracing::Span::current().record("elapsed_ms", elapsed.as_millis() as u64);
            let (error, retry_after) = match outcome {
                Attempt::Done(resp) => {
                    tracing::debug!(status = resp.status().as_u16(), "request succeeded");
                    return Ok(resp);
                }
                Attempt::Failed { error, retry_after } => (error, retry_after),
            };
            let error = match error {
                Error::Timeout { operation, limit, .. } => Error::Timeout { operation, limit, elapsed },
                e => e,
            };
            if let Some(status) = error.status() {
                tracing::Span::current().record("status", status.as_u16());
            }
            let status = error.status();
            if let (Some(wait), Some(StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE)) = (retry_after, status) {
                // The server asked everyone to wait: hold back the requests that follow too.
                let until = Instant::now() + wait.min(inner.retry.max_retry_after);
                let mut hold = inner.hold_until.lock().unwrap_or_else(|e| e.into_inner());
                if hold.is_none_or(|h| h < until) {
                    *hold = Some(until);
                }
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
                Some(wait) if wait > inner.retry.max_retry_after => {
                    return Err(Error::RateLimited { operation: op.id, retry_after: Some(wait), response: error_api(error) });
                }
                Some(wait) => wait,
                None => inner.retry.backoff(attempt),
            };
            if Instant::now() + delay >= deadline {
                return Err(give_up(error));
            }
            tracing::info!(attempt, delay_ms = delay.as_millis() as u64, error = %error, "retrying");
            tokio::time::sleep(delay).await;
        }
    }

    async fn wait_for_turn(&self, op: &'static OperationInfo, deadline: Instant) -> Result<(), Error> {
        let hold = *self.inner.hold_until.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(until) = hold {
            if until > deadline {
                return Err(Error::RateLimited { operation: op.id, retry_after: Some(until - Instant::now()), response: None });
            }
            tokio::time::sleep_until(until).await;
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
            Body::Multipart(m) => builder.multipart(m.to_form().await?),
        };
        let resp = match builder.headers(headers).send().await {
            Ok(r) => r,
            Err(e) => return Ok(Attempt::Failed { error: transport_error(op.id, e), retry_after: None }),
        };
        let status = resp.status();
        let headers = resp.headers().clone();
        if status.is_success() {
            let body = if req.buffer {
                match resp.bytes().await {
                    Ok(b) => ResponseBody::Buffered(b),
                    Err(e) => return Ok(Attempt::Failed { error: transport_error(op.id, e), retry_after: None }),
                }
            } else {
                ResponseBody::Streaming(resp)
            };
            return Ok(Attempt::Done(Response::new(op.id, status, headers, body)));
        }
        let retry_after = retry_after(&headers);
        let body = match read_body(op.id, resp, MAX_ERROR_BODY).await {
            Ok(b) => b,
            Err(e) => return Ok(Attempt::Failed { error: e, retry_after }),
        };
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

fn error_api(e: Error) -> Option<Box<ApiError>> {
    match e {
        Error::Api(a) => Some(a),
        _ => None,
    }
}

