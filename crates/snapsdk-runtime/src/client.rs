//! The transport: one shared client, the retry loop, limits and tracing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{HeaderMap, HeaderValue, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use http::{Method, StatusCode};
use tokio::sync::Notify;
use tokio::time::Instant;
use tracing::Instrument;

use crate::auth::{AuthRequirement, Credentials};
use crate::body::Body;
#[cfg(feature = "rate-limit")]
use crate::limit::Limiter;
#[cfg(feature = "multipart")]
use crate::multipart::Progress;
use crate::config::{RateLimit, RequestOptions, RetryConfig, Timeouts};
use crate::error::{ApiError, Attempts, Error, StopReason, MAX_ERROR_BODY};
use crate::response::{Response, ResponseBody};

/// Default cap on a buffered (non-streamed) response body: 32 MiB.
pub const DEFAULT_MAX_BODY_SIZE: u64 = 32 * 1024 * 1024;
/// Default cap on requests in flight at once per client (and so on its
/// connections to the API host): 32.
pub const DEFAULT_MAX_CONNECTIONS: usize = 32;
/// Default ceiling on a server-requested hold-off shared by a client's calls: 10 minutes.
pub const DEFAULT_MAX_HOLD_OFF: Duration = Duration::from_secs(600);
/// One more than the longest URI `http::Uri` accepts.
const MAX_URI_LEN: usize = u16::MAX as usize;
/// Redirects followed within the origin before the 3xx is returned.
const MAX_REDIRECTS: usize = 5;

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
    /// The documented rate limit, applied by default when the runtime is
    /// built with its `rate-limit` feature (and not applied without it).
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
    #[cfg(feature = "rate-limit")]
    rate_limit: Option<RateLimit>,
    http: Option<HttpSource>,
    user_agent_suffix: Option<String>,
    allow_insecure_http: bool,
    max_body_size: u64,
    max_connections: usize,
    max_hold_off: Duration,
}

#[derive(Debug)]
enum HttpSource {
    Client(reqwest::Client),
    Builder(Box<reqwest::ClientBuilder>),
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
            #[cfg(feature = "rate-limit")]
            rate_limit: vendor.rate_limit,
            http: None,
            user_agent_suffix: None,
            allow_insecure_http: false,
            max_body_size: DEFAULT_MAX_BODY_SIZE,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_hold_off: DEFAULT_MAX_HOLD_OFF,
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
    #[cfg(feature = "rate-limit")]
    #[cfg_attr(docsrs, doc(cfg(feature = "rate-limit")))]
    pub fn rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.rate_limit = limit;
        self
    }
    /// The longest pause allowed while a body moves, in either direction:
    /// an upload the server stops reading, a response body that stops
    /// arriving (buffered or streamed). Default 30 s.
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.timeouts.idle = d;
        self
    }
    /// The largest buffered (JSON, text) response body read into memory;
    /// a larger one fails with [`Error::BodyTooLarge`]. Streamed downloads
    /// are not limited. Default 32 MiB.
    pub fn max_body_size(mut self, bytes: u64) -> Self {
        self.max_body_size = bytes;
        self
    }
    /// At most `n` requests of this client (and its clones) in flight at
    /// once, so at most `n` connections to the API host; further calls wait
    /// their turn (within their deadline). Default 32.
    pub fn max_connections_per_host(mut self, n: usize) -> Self {
        self.max_connections = n;
        self
    }
    /// The longest hold-off a server's `Retry-After` can impose on all of
    /// this client's calls (the call that received it still reports the
    /// server's figure). Default 10 minutes; see also [`Client::clear_hold_off`].
    pub fn max_hold_off(mut self, d: Duration) -> Self {
        self.max_hold_off = d;
        self
    }
    /// Bring your own `reqwest::Client` (proxies, TLS roots, connection pools).
    /// Its own timeouts apply in addition to ours; the connect timeout set here is then not used.
    ///
    /// The runtime cannot stop such a client from following a redirect to
    /// another host, where reqwest keeps custom headers; so with credentials
    /// sent in a header other than `Authorization` (an `x-api-key`),
    /// [`build`](Self::build) refuses it. Pass a builder to
    /// [`http_client_builder`](Self::http_client_builder) instead.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(HttpSource::Client(client));
        self
    }
    /// Bring your own `reqwest::ClientBuilder` (proxies, TLS roots, pools):
    /// the runtime adds its connect timeout and turns reqwest's redirect
    /// handling off (the runtime follows redirects itself, within the origin).
    pub fn http_client_builder(mut self, builder: reqwest::ClientBuilder) -> Self {
        self.http = Some(HttpSource::Builder(Box::new(builder)));
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
        for (name, d) in [
            ("connect", self.timeouts.connect),
            ("attempt", self.timeouts.attempt),
            ("operation", self.timeouts.operation),
            ("idle", self.timeouts.idle),
        ] {
            if d.is_zero() {
                return Err(Error::Config(format!("the {name} timeout is zero; every call would fail")));
            }
        }
        if self.max_connections == 0 {
            return Err(Error::Config("max_connections_per_host is zero; every call would wait forever".into()));
        }
        if self.max_body_size == 0 {
            return Err(Error::Config("max_body_size is zero; every answer with a body would fail".into()));
        }
        let own = |b: reqwest::ClientBuilder| {
            b.connect_timeout(self.timeouts.connect)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| Error::Config(format!("HTTP client: {e}")))
        };
        let http = match self.http {
            Some(HttpSource::Client(c)) => {
                if self.credentials.as_ref().is_some_and(|c| !c.in_authorization()) {
                    return Err(Error::Config(
                        "a reqwest::Client passed to `http_client` may follow a redirect to another host, carrying the key \
                         header with it; pass its reqwest::ClientBuilder to `http_client_builder` instead, so the runtime \
                         handles redirects"
                            .into(),
                    ));
                }
                c
            }
            Some(HttpSource::Builder(b)) => own(*b)?,
            None => own(crate::tls::http_client_builder()?)?,
        };
        #[cfg(feature = "rate-limit")]
        let limiter = match self.rate_limit {
            Some(limit) => Some(Limiter::new(limit)?),
            None => None,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                vendor: self.vendor,
                http,
                base: parsed,
                base_url: base,
                credentials: self.credentials,
                timeouts: self.timeouts,
                retry: self.retry,
                #[cfg(feature = "rate-limit")]
                limiter,
                hold_until: Mutex::new(None),
                user_agent,
                max_body_size: self.max_body_size,
                connections: Arc::new(Slots::new(self.max_connections)),
                max_hold_off: self.max_hold_off,
            }),
        })
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else { return false };
    let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
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
            .field("max_body_size", &self.inner.max_body_size)
            .finish()
    }
}

struct Inner {
    vendor: &'static VendorInfo,
    http: reqwest::Client,
    base_url: String,
    /// `base_url`, parsed once: each call's URL is this with its path and
    /// query set, so the host is not parsed (and IDNA-checked) per call.
    base: reqwest::Url,
    credentials: Option<Credentials>,
    timeouts: Timeouts,
    retry: RetryConfig,
    #[cfg(feature = "rate-limit")]
    limiter: Option<Limiter>,
    /// Set by a 429/503 with `Retry-After`: no request starts before then.
    hold_until: Mutex<Option<Instant>>,
    user_agent: HeaderValue,
    max_body_size: u64,
    /// One permit per request in flight (per host: a client talks to one origin).
    connections: Arc<Slots>,
    max_hold_off: Duration,
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
        return Error::Timeout { operation, limit: if e.is_connect() { "connect" } else { "attempt" }, elapsed: Duration::ZERO, attempts: None };
    }
    let mut message = e.to_string();
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    Error::Connection { operation, message, source: Some(e), attempts: None }
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

/// Read an error body, at most `limit` bytes of it, and give up on a pause
/// longer than `idle`. A transfer that breaks or stalls keeps what arrived,
/// with the error.
async fn read_body(operation: &'static str, mut resp: reqwest::Response, limit: usize, idle: Duration) -> (Bytes, Option<Error>) {
    let mut buf = BytesMut::new();
    loop {
        match tokio::time::timeout(idle, resp.chunk()).await {
            Ok(Ok(Some(chunk))) => {
                let room = limit.saturating_sub(buf.len());
                buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if buf.len() >= limit {
                    return (buf.freeze(), None);
                }
            }
            Ok(Ok(None)) => return (buf.freeze(), None),
            Ok(Err(e)) => return (buf.freeze(), Some(transport_error(operation, e))),
            Err(_) => {
                let e = Error::Timeout { operation, limit: "idle", elapsed: idle, attempts: None };
                return (buf.freeze(), Some(e));
            }
        }
    }
}

/// `fut`'s output, or `None` if it takes longer than `limit`. A future that
/// is ready at once (a body chunk already buffered) arms no timer.
pub(crate) async fn within<F: std::future::Future>(limit: Duration, fut: F) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    if let std::task::Poll::Ready(out) = std::future::poll_fn(|cx| std::task::Poll::Ready(fut.as_mut().poll(cx))).await {
        return Some(out);
    }
    tokio::time::timeout(limit, fut).await.ok()
}

/// Read a success body whole, refusing one larger than `cap` (by its
/// `Content-Length` before reading, or as it arrives) and one that pauses
/// longer than `idle`.
async fn read_success_body(operation: &'static str, mut resp: reqwest::Response, cap: u64, idle: Duration) -> Result<Bytes, Error> {
    let too_large = |length| Error::BodyTooLarge { operation, limit: cap, length };
    if let Some(len) = resp.content_length() {
        if len > cap {
            return Err(too_large(Some(len)));
        }
    }
    // Most bodies arrive in one chunk: keep it without copying.
    let mut first: Option<Bytes> = None;
    let mut buf = BytesMut::new();
    let mut total = 0u64;
    loop {
        let chunk = match within(idle, resp.chunk()).await {
            Some(Ok(Some(chunk))) => chunk,
            Some(Ok(None)) => break,
            Some(Err(e)) => return Err(transport_error(operation, e)),
            None => return Err(Error::Timeout { operation, limit: "idle", elapsed: idle, attempts: None }),
        };
        total += chunk.len() as u64;
        if total > cap {
            return Err(too_large(None));
        }
        match first.take() {
            None if buf.is_empty() => first = Some(chunk),
            None => buf.extend_from_slice(&chunk),
            Some(f) => {
                buf.reserve(resp.content_length().map_or(f.len() + chunk.len(), |n| n as usize));
                buf.extend_from_slice(&f);
                buf.extend_from_slice(&chunk);
            }
        }
    }
    Ok(first.unwrap_or_else(|| buf.freeze()))
}

#[allow(clippy::large_enum_variant)] // short-lived, one per attempt
enum Attempt {
    Done(Response),
    /// `sent`: whether any of the request may have reached the server.
    Failed { error: Error, retry_after: Option<Duration>, sent: bool },
}

impl Attempt {
    fn failed(error: Error) -> Self {
        Attempt::Failed { error, retry_after: None, sent: true }
    }
}

/// The cap on requests in flight. Taking and returning a slot is one atomic
/// operation each when there is room; callers that find none wait on a
/// `Notify`, and a cancelled waiter passes its wake-up on.
#[derive(Debug)]
pub(crate) struct Slots {
    max: usize,
    used: AtomicUsize,
    waiting: AtomicUsize,
    notify: Notify,
}

/// A slot, returned when dropped (a streamed body keeps it until it is done).
#[derive(Debug)]
pub(crate) struct Slot(Arc<Slots>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.used.fetch_sub(1, Ordering::SeqCst);
        if self.0.waiting.load(Ordering::SeqCst) > 0 {
            self.0.notify.notify_one();
        }
    }
}

impl Slots {
    fn new(max: usize) -> Self {
        Slots { max, used: AtomicUsize::new(0), waiting: AtomicUsize::new(0), notify: Notify::new() }
    }

    fn try_take(this: &Arc<Self>) -> Option<Slot> {
        this.used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| (n < this.max).then_some(n + 1))
            .ok()
            .map(|_| Slot(this.clone()))
    }

    async fn take(this: &Arc<Self>) -> Slot {
        struct Waiting<'a>(&'a AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        this.waiting.fetch_add(1, Ordering::SeqCst);
        let _waiting = Waiting(&this.waiting);
        loop {
            let mut notified = std::pin::pin!(this.notify.notified());
            // Registered before the check, so a slot returned after it wakes us.
            notified.as_mut().enable();
            if let Some(slot) = Self::try_take(this) {
                return slot;
            }
            notified.await;
        }
    }
}

/// Where a redirect answer points, if the runtime should follow it: within
/// the origin of `from`, with a `Location` that parses.
fn redirect_target(resp: &reqwest::Response, from: &reqwest::Url) -> Option<reqwest::Url> {
    if !matches!(resp.status().as_u16(), 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let next = from.join(resp.headers().get(http::header::LOCATION)?.to_str().ok()?).ok()?;
    (next.origin() == from.origin()).then_some(next)
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
        *self.inner.hold_until.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Send a request with retries, limits and tracing; see [`RetryConfig`] and [`Timeouts`].
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
        self.execute_inner(req).instrument(span).await
    }

    /// The credentials to send for `op`; an error, before anything is sent,
    /// when it needs some the client lacks.
    fn credentials_for(&self, op: &'static OperationInfo) -> Result<Option<&Credentials>, Error> {
        match op.auth {
            AuthRequirement::None => Ok(None),
            AuthRequirement::Schemes([]) => Ok(None),
            AuthRequirement::Schemes(accepted) => match &self.inner.credentials {
                Some(c) if accepted.contains(&c.scheme()) => Ok(Some(c)),
                Some(c) => Err(Error::invalid(
                    op.id,
                    "credentials",
                    format!("this operation accepts {accepted:?}, but the client was built with `{}`", c.scheme()),
                )),
                None => Err(Error::MissingCredentials { operation: op.id, schemes: accepted }),
            },
        }
    }

    async fn execute_inner(&self, req: Request) -> Result<Response, Error> {
        let inner = &*self.inner;
        let op = req.op;
        let span = tracing::Span::current();
        let started = Instant::now();
        let operation_timeout = req.options.operation_timeout.unwrap_or(inner.timeouts.operation);
        let deadline = after(started, operation_timeout);
        let attempt_limit = req.options.attempt_timeout.unwrap_or(inner.timeouts.attempt);
        let idle = req.options.idle_timeout.unwrap_or(inner.timeouts.idle);
        let retry = req.options.retry.unwrap_or(inner.retry);
        let max_attempts = req.options.max_attempts.unwrap_or(retry.max_attempts).max(1);
        let may_resend = op.retryable || req.options.retry_non_idempotent;
        let replayable = req.body.replayable();
        let credentials = self.credentials_for(op).inspect_err(|e| tracing::debug!(error = %e.trace_summary(), "not sent"))?;
        let url = call_url(&inner.base, &req.path, &req.query);
        // The longest URI the HTTP stack sends; anything else it refuses comes
        // back from the first attempt as a builder error, also an invalid argument.
        if url.as_str().len() >= MAX_URI_LEN {
            return Err(Error::invalid(
                op.id,
                "path",
                format!(
                    "the request URL is {} bytes, and at most {} can be sent; check the path and query parameters",
                    url.as_str().len(),
                    MAX_URI_LEN - 1
                ),
            ));
        }

        let mut attempt = 0u32;
        loop {
            attempt += 1;
            span.record("attempt", attempt);
            let permit = match self.wait_for_turn(op, deadline, &retry).await {
                Ok(p) => p,
                Err(e) => {
                    span.record("elapsed_ms", started.elapsed().as_millis() as u64);
                    tracing::debug!(error = %e.trace_summary(), "not sent: held back");
                    return Err(match e {
                        Error::Timeout { operation, limit, attempts, .. } => {
                            Error::Timeout { operation, limit, elapsed: started.elapsed(), attempts }
                        }
                        e => e,
                    });
                }
            };

            let remaining = deadline.saturating_duration_since(Instant::now());
            let (limit, limit_name) = if attempt_limit < remaining { (attempt_limit, "attempt") } else { (remaining, "operation deadline") };
            let outcome = match tokio::time::timeout(limit, self.attempt(&req, &url, credentials, idle, started, permit)).await {
                Ok(outcome) => outcome?,
                Err(_) => Attempt::failed(Error::Timeout { operation: op.id, limit: limit_name, elapsed: Duration::ZERO, attempts: None }),
            };
            let elapsed = started.elapsed();
            span.record("elapsed_ms", elapsed.as_millis() as u64);
            let (error, retry_after, sent) = match outcome {
                Attempt::Done(resp) => {
                    span.record("status", resp.status().as_u16());
                    tracing::debug!(attempt, status = resp.status().as_u16(), "request succeeded");
                    return Ok(resp);
                }
                Attempt::Failed { error, retry_after, sent } => (error, retry_after, sent),
            };
            let error = match error {
                Error::Timeout { operation, limit, attempts, .. } => Error::Timeout { operation, limit, elapsed, attempts },
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
            let give_up = |mut error: Error, stopped_by: StopReason| -> Error {
                error.set_attempts(Attempts { count: attempt, elapsed, stopped_by });
                tracing::debug!(attempt, error = %error.trace_summary(), stopped_by = ?stopped_by, "request failed");
                match (error, status) {
                    (Error::Api(api), Some(StatusCode::TOO_MANY_REQUESTS)) => {
                        Error::RateLimited { operation: op.id, retry_after, response: Some(api) }
                    }
                    (e, _) => e,
                }
            };
            let stop = if !error.is_retryable() {
                Some(StopReason::NotRetryable)
            } else if !replayable {
                Some(StopReason::BodyNotReplayable)
            } else if sent && !may_resend {
                Some(StopReason::NotIdempotent)
            } else if attempt >= max_attempts {
                Some(StopReason::MaxAttempts(max_attempts))
            } else {
                None
            };
            if let Some(stop) = stop {
                return Err(give_up(error, stop));
            }
            let delay = match retry_after {
                Some(wait) if wait > retry.max_retry_after => {
                    let error = give_up(error, StopReason::RetryAfterCap(retry.max_retry_after));
                    return Err(Error::RateLimited { operation: op.id, retry_after: Some(wait), response: error_api(error) });
                }
                Some(wait) => wait,
                None => retry.backoff(attempt),
            };
            if delay >= deadline.saturating_duration_since(Instant::now()) {
                return Err(give_up(error, StopReason::Deadline(operation_timeout)));
            }
            tracing::info!(attempt, delay_ms = delay.as_millis() as u64, error = %error.trace_summary(), "retrying");
            tokio::time::sleep(delay).await;
        }
    }

    /// Hold back every request of this client (and its clones) for `wait`,
    /// at most for the client's `max_hold_off`.
    fn hold_off(&self, wait: Duration) {
        let until = after(Instant::now(), wait.min(self.inner.max_hold_off));
        let mut hold = self.inner.hold_until.lock().unwrap_or_else(|e| e.into_inner());
        if hold.is_none_or(|h| h < until) {
            *hold = Some(until);
        }
    }

    /// Wait out any hold-off (re-reading it, since a later answer may extend
    /// it), then the rate limiter, then a connection slot.
    async fn wait_for_turn(&self, op: &'static OperationInfo, deadline: Instant, retry: &RetryConfig) -> Result<Slot, Error> {
        loop {
            let hold = *self.inner.hold_until.lock().unwrap_or_else(|e| e.into_inner());
            let Some(until) = hold else { break };
            let wait = until.saturating_duration_since(Instant::now());
            if wait.is_zero() {
                break;
            }
            if wait > retry.max_retry_after || until > deadline {
                return Err(Error::RateLimited { operation: op.id, retry_after: Some(wait), response: None });
            }
            tracing::debug!(wait_ms = wait.as_millis() as u64, "holding back: the server asked to wait");
            tokio::time::sleep_until(until).await;
        }
        #[cfg(feature = "rate-limit")]
        if let Some(limiter) = &self.inner.limiter {
            limiter
                .acquire(deadline)
                .await
                .map_err(|wait| Error::RateLimited { operation: op.id, retry_after: Some(wait), response: None })?;
        }
        if let Some(slot) = Slots::try_take(&self.inner.connections) {
            return Ok(slot);
        }
        tokio::time::timeout_at(deadline, Slots::take(&self.inner.connections))
            .await
            .map_err(|_| Error::Timeout { operation: op.id, limit: "operation deadline", elapsed: Duration::ZERO, attempts: None })
    }

    /// Build the request for one hop: headers, credentials, and the body
    /// unless a redirect dropped it. `progress` watches a multipart upload.
    async fn build_request(
        &self,
        req: &Request,
        method: &Method,
        url: reqwest::Url,
        credentials: Option<&Credentials>,
        with_body: bool,
        #[cfg_attr(not(feature = "multipart"), allow(unused_variables))] progress: &Option<Arc<Progress>>,
    ) -> Result<reqwest::Request, Error> {
        let inner = &*self.inner;
        let op = req.op;
        let mut headers = req.headers.clone();
        headers.insert(USER_AGENT, inner.user_agent.clone());
        if let Some(c) = credentials {
            c.apply(&mut headers);
        }
        let mut builder = inner.http.request(method.clone(), url);
        if with_body {
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
                #[cfg(feature = "multipart")]
                Body::Multipart(m) => {
                    let progress = progress.as_ref().expect("a multipart body has a progress watch");
                    builder.multipart(Box::pin(m.to_form(op.id, progress)).await?).headers(std::mem::take(&mut headers))
                }
            };
        }
        let mut request = builder.build().map_err(|e| Error::invalid(op.id, "request", format!("cannot be formed: {}", e.without_url())))?;
        if !headers.is_empty() {
            // Moving the map in costs less than `RequestBuilder::headers`, which re-inserts each entry.
            merge_headers(request.headers_mut(), headers);
        }
        Ok(request)
    }

    async fn attempt(
        &self,
        req: &Request,
        url: &reqwest::Url,
        credentials: Option<&Credentials>,
        idle: Duration,
        started: Instant,
        permit: Slot,
    ) -> Result<Attempt, Error> {
        let inner = &*self.inner;
        let op = req.op;
        let mut method = op.method.clone();
        let mut redirected: Option<reqwest::Url> = None;
        let mut with_body = true;
        let mut hops = 0;
        let resp = loop {
            let url = redirected.as_ref().unwrap_or(url);
            let progress = upload_progress(&req.body);
            let request = self.build_request(req, &method, url.clone(), credentials, with_body, &progress).await?;
            let sending = inner.http.execute(request);
            let result = match &progress {
                // An upload: also fail if the server stops taking the body.
                Some(p) if with_body => {
                    let stalled = p.stalled(idle);
                    match futures_util::future::select(std::pin::pin!(sending), std::pin::pin!(stalled)).await {
                        futures_util::future::Either::Left((r, _)) => r,
                        futures_util::future::Either::Right(_) => {
                            let e = Error::Timeout { operation: op.id, limit: "idle", elapsed: Duration::ZERO, attempts: None };
                            return Ok(Attempt::failed(e));
                        }
                    }
                }
                _ => sending.await,
            };
            let resp = match result {
                Ok(r) => r,
                Err(e) if e.is_builder() => {
                    return Err(Error::invalid(op.id, "request", format!("cannot be formed: {}", e.without_url())));
                }
                Err(e) => {
                    // A failure to connect sent nothing (on the first hop).
                    let sent = hops > 0 || !e.is_connect();
                    return Ok(Attempt::Failed { error: transport_error(op.id, e), retry_after: None, sent });
                }
            };
            // Redirects are followed here, not by reqwest, and only within the
            // origin: the credential goes along only to where it was meant to go.
            let Some(next) = (hops < MAX_REDIRECTS).then(|| redirect_target(&resp, url)).flatten() else { break resp };
            match resp.status().as_u16() {
                303 if method != Method::HEAD => {
                    method = Method::GET;
                    with_body = false;
                }
                301 | 302 if method == Method::POST => {
                    method = Method::GET;
                    with_body = false;
                }
                307 | 308 if with_body && !req.body.replayable() => break resp,
                _ => {}
            }
            hops += 1;
            redirected = Some(next);
        };
        let status = resp.status();
        let mut resp = resp;
        let mut headers = std::mem::take(resp.headers_mut());
        if status.is_success() {
            let mut permit = Some(permit);
            let body = if req.buffer {
                match read_success_body(op.id, resp, inner.max_body_size, idle).await {
                    Ok(b) => ResponseBody::Buffered(b),
                    Err(e) => return Ok(Attempt::failed(e)),
                }
            } else {
                ResponseBody::Streaming(resp)
            };
            let mut resp = Response::new(op.id, status, headers, body);
            resp.redactor = inner.credentials.clone();
            resp.idle = idle;
            resp.started = started;
            if !req.buffer {
                resp.permit = permit.take();
            }
            return Ok(Attempt::Done(resp));
        }
        let retry_after = retry_after(&headers);
        // Read past the cap by the longest escaped echo of the secret, so a
        // secret straddling the cap is redacted before the cut.
        let margin = inner.credentials.as_ref().map_or(0, Credentials::max_echo_len);
        let (mut body, broken) = read_body(op.id, resp, MAX_ERROR_BODY + margin, idle).await;
        drop(permit);
        if let Some(e) = broken {
            // The status is the evidence that matters; keep it with what arrived.
            tracing::debug!(error = %e.trace_summary(), "the error body broke off");
        }
        if let Some(c) = &inner.credentials {
            body = c.scrub_bytes(body);
            c.scrub_headers(&mut headers);
        }
        body.truncate(MAX_ERROR_BODY);
        let error = Error::Api(Box::new(ApiError {
            operation: op.id,
            method: op.method.clone(),
            path: req.path.clone(),
            status,
            request_id: request_id(&headers),
            headers,
            body,
            attempts: None,
        }));
        Ok(Attempt::Failed { error, retry_after, sent: true })
    }
}

/// The URL of one call: the parsed base with the call's path (after the
/// base's own prefix) and query. Setting them on the parsed base gives the
/// URL that parsing `base + path + ?query` would (the generated code has
/// already escaped every parameter), without parsing the host again.
fn call_url(base: &reqwest::Url, path: &str, query: &str) -> reqwest::Url {
    let mut url = base.clone();
    // The base's prefix (`/v2` of `https://host/v2`; empty for a bare host).
    let prefix = base.path().trim_end_matches('/');
    if prefix.is_empty() {
        url.set_path(path);
    } else {
        url.set_path(&[prefix, path].concat());
    }
    url.set_query((!query.is_empty()).then_some(query));
    url
}

/// A watch on the upload, for a multipart body.
#[cfg(feature = "multipart")]
fn upload_progress(body: &Body) -> Option<Arc<Progress>> {
    matches!(body, Body::Multipart(_)).then(Progress::new)
}

/// Without multipart uploads no body streams from a file, so nothing is watched.
#[cfg(not(feature = "multipart"))]
fn upload_progress(_: &Body) -> Option<Arc<Progress>> {
    None
}

/// Stands in for the upload watch when multipart is compiled out: it cannot exist.
#[cfg(not(feature = "multipart"))]
enum Progress {}

#[cfg(not(feature = "multipart"))]
impl Progress {
    async fn stalled(&self, _idle: Duration) {
        match *self {}
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
        Error::Api(a) | Error::RateLimited { response: Some(a), .. } => Some(a),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    /// The URL built on the parsed base is the URL parsing the joined text
    /// gives, for every base form (prefix, port, IPv6, IDNA host) and every
    /// path and query the generated code can produce.
    #[test]
    fn call_url_matches_parsing_the_joined_text() {
        let bases = ["https://api.example.com", "http://127.0.0.1:4010", "https://h.example/v2/prefix", "http://[::1]:8080/p", "https://bücher.example/x"];
        let paths = ["/", "/chat/abc", "/a%2Fb/%20c", "/users/me@x.com", "/x/%E2%9C%93/y", "/a//b", "/caf%C3%A9"];
        let queries = ["", "a=1", "a=1&b=%26%3D", "q=a+b&list=%5B%22x%22%5D", "empty="];
        for base in bases {
            let parsed = reqwest::Url::parse(base).unwrap();
            for path in paths {
                for query in queries {
                    let joined = format!("{base}{path}{}{query}", if query.is_empty() { "" } else { "?" });
                    let want = reqwest::Url::parse(&joined).unwrap();
                    assert_eq!(call_url(&parsed, path, query).as_str(), want.as_str(), "{joined}");
                }
            }
        }
    }

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
