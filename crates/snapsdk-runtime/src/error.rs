//! The one error type every generated client returns.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

/// Everything that can go wrong with a call, each kind keeping its evidence.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a non-success status.
    #[error("{0}")]
    Api(Box<ApiError>),
    /// The server answered success, but the body is not what the operation returns.
    #[error("{0}")]
    Decode(Box<DecodeError>),
    /// No answer within a time limit.
    #[error("{}", fmt_timeout(.operation, .limit, *.elapsed, .attempts.as_ref()))]
    Timeout {
        /// The operation.
        operation: &'static str,
        /// Which limit ran out: `connect`, `attempt`, `operation deadline`,
        /// or `idle` (no body data, in either direction, for longer than the idle limit).
        limit: &'static str,
        /// How long the call ran before giving up.
        elapsed: Duration,
        /// The attempts made, when the error ended the call's retry loop.
        attempts: Option<Attempts>,
    },
    /// The connection could not be made, or broke before the answer was complete.
    #[error("{}", fmt_connection(.operation, .message, .attempts.as_ref()))]
    Connection {
        /// The operation.
        operation: &'static str,
        /// What failed.
        message: String,
        #[source]
        /// The transport's error, when there is one.
        source: Option<reqwest::Error>,
        /// The attempts made, when the error ended the call's retry loop.
        attempts: Option<Attempts>,
    },
    /// The server (or the client-side limiter) asks the caller to wait longer
    /// than the client waits by itself: longer than
    /// [`RetryConfig::max_retry_after`](crate::RetryConfig::max_retry_after)
    /// (for every method, a POST included), past the call's deadline, or
    /// after the last attempt. Nothing waited; `retry_after` says how long
    /// the caller should, and the message what stopped the call.
    #[error("{}", fmt_rate_limited(.operation, *.retry_after, .response.as_deref()))]
    RateLimited {
        /// The operation.
        operation: &'static str,
        /// How long to wait, when the server or the limiter said.
        retry_after: Option<Duration>,
        /// The 429 (or 503) answer, when there was one.
        response: Option<Box<ApiError>>,
    },
    /// A caller-supplied value can't be sent (empty path parameter, bad header value...).
    #[error("{operation}: invalid argument `{name}`: {reason}")]
    InvalidArgument {
        /// The operation.
        operation: &'static str,
        /// The argument's name.
        name: String,
        /// Why it cannot be sent.
        reason: String,
    },
    /// An operation that needs credentials was called on a client built
    /// without any. Nothing was sent.
    #[error("{operation}: this operation needs credentials, but the client was built without any; call the client builder's {} before `.build()`", fmt_schemes(.schemes))]
    MissingCredentials {
        /// The operation.
        operation: &'static str,
        /// The scheme ids the operation accepts; each is also the name of the
        /// generated builder method that sets it.
        schemes: &'static [&'static str],
    },
    /// A buffered (JSON, text) response body is larger than the client's
    /// limit; the rest of it was not read. Streamed downloads have no limit.
    #[error("{operation}: the response body is larger than the {limit}-byte limit for buffered bodies ({}); raise it with the client builder's `max_body_size(..)` if the answer is legitimate", match .length { Some(n) => format!("Content-Length {n}"), None => format!("more than {limit} bytes arrived") })]
    BodyTooLarge {
        /// The operation.
        operation: &'static str,
        /// The limit in bytes.
        limit: u64,
        /// The announced `Content-Length`, when the server sent one.
        length: Option<u64>,
    },
    /// The client could not be built from its configuration.
    #[error("invalid client configuration: {0}")]
    Config(String),
    /// Local I/O failed (reading an upload, writing a download).
    #[error("{context}: {source}")]
    Io {
        /// What was being read or written, and where.
        context: String,
        #[source]
        /// The I/O error.
        source: std::io::Error,
    },
    /// A paged listing stopped because it would never end: the server sent a
    /// cursor or a page it had sent before. The items before were yielded.
    #[error(
        "{operation}: paging stopped: {message}. The server sent a page or a cursor it had sent before, so the listing \
         would never end (a mock server that answers every page number with the same page does this); the items before \
         were yielded. Bound the listing with `max_pages(..)` or `max_items(..)`, or treat this error as the end of the \
         listing; if the real API does this, report it to the vendor"
    )]
    Paging {
        /// The listing operation.
        operation: &'static str,
        /// What repeated.
        message: String,
    },
    /// An interceptor (see [`ClientBuilder::interceptor`](crate::ClientBuilder::interceptor))
    /// ended the call: it returned an error, panicked, or tried to set a
    /// header it may not. Not retried.
    #[error("{operation}: interceptor `{interceptor}` stopped the call: {message}")]
    Interceptor {
        /// The operation.
        operation: &'static str,
        /// The interceptor's [`name`](crate::Interceptor::name).
        interceptor: String,
        /// What it said, or what it did wrong.
        message: String,
    },
}

fn fmt_schemes(schemes: &[&str]) -> String {
    let methods: Vec<String> = schemes.iter().map(|s| format!("`.{s}(..)`")).collect();
    methods.join(" or ")
}

fn fmt_timeout(operation: &str, limit: &str, elapsed: Duration, attempts: Option<&Attempts>) -> String {
    let what = if limit == "idle" {
        "the body stalled: no data moved for longer than the idle limit".to_owned()
    } else {
        format!("no complete answer within the {limit} limit")
    };
    format!(
        "{operation}: {what} (gave up after {}){}; raise the limit with the client's or the request's timeout settings, or check that the server is reachable",
        fmt_duration(elapsed),
        fmt_attempts(attempts)
    )
}

fn fmt_connection(operation: &str, message: &str, attempts: Option<&Attempts>) -> String {
    let advice = match attempts {
        Some(a) if !a.stopped_by.allows_retry() => "check the base URL and the network",
        _ => "check the base URL and the network, the call can be retried",
    };
    format!("{operation}: connection failed: {message}{}; {advice}", fmt_attempts(attempts))
}

/// `; 3 attempts in 1.20 s, stopped by retry.max_attempts (3)`, or nothing
/// for a single attempt that no retry could have helped.
fn fmt_attempts(attempts: Option<&Attempts>) -> String {
    match attempts {
        None => String::new(),
        Some(a) if a.count <= 1 && a.stopped_by == StopReason::NotRetryable => String::new(),
        Some(a) => format!("; {a}"),
    }
}

/// `1.25 s`, `250 ms`.
fn fmt_duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

fn fmt_rate_limited(operation: &str, wait: Option<Duration>, response: Option<&ApiError>) -> String {
    let who = match response {
        Some(r) => format!("the server answered {}", r.status),
        None => "the client-side rate limit (or an earlier `Retry-After` from the server) holds requests back".to_owned(),
    };
    let mut out = format!("{operation}: rate limited: {who}");
    if let Some(id) = response.and_then(|r| r.request_id.as_deref()) {
        out.push_str(&format!(" (request id {id})"));
    }
    out.push_str(&fmt_attempts(response.and_then(|r| r.attempts.as_ref())));
    match wait {
        Some(d) => out.push_str(&format!("; wait {} before retrying{}", fmt_duration(d), why_not_waited(response))),
        None => out.push_str("; no wait was given: wait and retry, or lower the request rate"),
    }
    out
}

/// Why the call did not wait by itself, from what stopped it; nothing when
/// the attempts already say (`stopped by retry.max_attempts (3)`).
fn why_not_waited(response: Option<&ApiError>) -> String {
    match response.and_then(|r| r.attempts).map(|a| a.stopped_by) {
        Some(StopReason::RetryAfterCap(cap)) => {
            format!(" (longer than the {} this call waits by itself: see RetryConfig::max_retry_after)", fmt_duration(cap))
        }
        Some(StopReason::Deadline(limit)) => {
            format!(" (the wait would pass this call's {} deadline: see the operation timeout)", fmt_duration(limit))
        }
        Some(_) => String::new(),
        None => " (longer than this call waits by itself: see RetryConfig::max_retry_after and the operation timeout)".to_owned(),
    }
}

impl Error {
    /// The HTTP status, when the server answered.
    #[must_use]
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::Decode(e) => Some(e.status),
            Error::RateLimited { response: Some(r), .. } => Some(r.status),
            _ => None,
        }
    }

    /// The HTTP status as a number (`404`), when the server answered.
    #[must_use]
    pub fn status_code(&self) -> Option<u16> {
        self.status().map(|s| s.as_u16())
    }

    /// Whether the server answered 404 Not Found.
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }

    /// Whether the client itself would retry this failure for this
    /// operation (given attempts and time left): the failure is of a
    /// retryable kind (a connection failure, a timeout, 408, 429, 5xx), and
    /// either nothing was sent or the operation may be sent twice (an
    /// idempotent method, a spec opt-in, or
    /// [`RequestOptions::retry_non_idempotent`](crate::RequestOptions::retry_non_idempotent))
    /// with a body that can be sent again.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        let kind = match self {
            Error::Api(e) => is_retryable_status(e.status),
            Error::Timeout { .. } | Error::Connection { .. } | Error::RateLimited { .. } => true,
            _ => false,
        };
        kind && self.attempts().is_none_or(|a| a.stopped_by.allows_retry())
    }

    /// How the call's attempts went, for an error that ended its retry loop.
    #[must_use]
    pub fn attempts(&self) -> Option<&Attempts> {
        match self {
            Error::Api(e) => e.attempts.as_ref(),
            Error::RateLimited { response: Some(r), .. } => r.attempts.as_ref(),
            Error::Timeout { attempts, .. } | Error::Connection { attempts, .. } => attempts.as_ref(),
            _ => None,
        }
    }

    pub(crate) fn set_attempts(&mut self, a: Attempts) {
        match self {
            Error::Api(e) => e.attempts = Some(a),
            Error::RateLimited { response: Some(r), .. } => r.attempts = Some(a),
            Error::Timeout { attempts, .. } | Error::Connection { attempts, .. } => *attempts = Some(a),
            _ => {}
        }
    }

    /// A one-line description for tracing: the kind, status and limit, never
    /// the filled-in path, a body or a transport message (which holds the URL).
    pub(crate) fn trace_summary(&self) -> String {
        match self {
            Error::Api(e) => format!("status {}", e.status.as_u16()),
            Error::Decode(e) => format!("decode error on status {}", e.status.as_u16()),
            Error::Timeout { limit, .. } => format!("timeout ({limit} limit)"),
            Error::Connection { source: Some(s), .. } if s.is_connect() => "connection failed (connect)".to_owned(),
            Error::Connection { .. } => "connection failed".to_owned(),
            Error::RateLimited { response: Some(r), .. } => format!("rate limited (status {})", r.status.as_u16()),
            Error::RateLimited { .. } => "rate limited (client side)".to_owned(),
            Error::InvalidArgument { name, .. } => format!("invalid argument `{name}`"),
            Error::MissingCredentials { .. } => "missing credentials".to_owned(),
            Error::BodyTooLarge { .. } => "body too large".to_owned(),
            Error::Paging { .. } => "listing stopped (paging)".to_owned(),
            Error::Interceptor { .. } => "stopped by an interceptor".to_owned(),
            Error::Config(_) => "configuration".to_owned(),
            Error::Io { .. } => "local I/O".to_owned(),
        }
    }

    /// The API error details, for a non-success answer.
    #[must_use]
    pub fn as_api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            Error::RateLimited { response: Some(r), .. } => Some(r),
            _ => None,
        }
    }

    /// How long to wait before trying again, when the server (or the
    /// client-side limiter) said so.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The server's request id, when it answered with one.
    #[must_use]
    pub fn request_id(&self) -> Option<&str> {
        self.as_api().and_then(|a| a.request_id.as_deref())
    }

    /// The operation id the error belongs to (`None` for a client build error).
    #[must_use]
    pub fn operation(&self) -> Option<&'static str> {
        match self {
            Error::Api(e) => Some(e.operation),
            Error::Decode(e) => Some(e.operation),
            Error::Timeout { operation, .. }
            | Error::Connection { operation, .. }
            | Error::RateLimited { operation, .. }
            | Error::InvalidArgument { operation, .. }
            | Error::MissingCredentials { operation, .. }
            | Error::BodyTooLarge { operation, .. }
            | Error::Paging { operation, .. }
            | Error::Interceptor { operation, .. } => Some(operation),
            Error::Config(_) | Error::Io { .. } => None,
        }
    }

    pub(crate) fn invalid(operation: &'static str, name: &str, reason: impl Into<String>) -> Self {
        Error::InvalidArgument { operation, name: name.to_owned(), reason: reason.into() }
    }

    /// An API error for tests and an application's own fakes: `operation`
    /// answered `status` with `body` (no headers; add them with
    /// [`ApiError::with_header`] and `Error::from`).
    ///
    /// ```
    /// use snapsdk_runtime::Error;
    /// let e = Error::api("get_agent", 404, r#"{"error":"no such agent"}"#);
    /// assert!(e.is_not_found());
    /// ```
    ///
    /// # Panics
    ///
    /// When `status` is not a status code (below 100 or above 999).
    #[must_use]
    pub fn api(operation: &'static str, status: u16, body: impl Into<Bytes>) -> Self {
        Error::from(ApiError::new(operation, status).with_body(body))
    }

    /// A 429 answer with `Retry-After: retry_after` (whole seconds, rounded
    /// up), as the client returns it when it stops waiting:
    /// [`Error::RateLimited`] with [`retry_after`](Self::retry_after) set.
    #[must_use]
    pub fn rate_limited(operation: &'static str, retry_after: Duration) -> Self {
        let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
        let response = ApiError::new(operation, 429).with_header("retry-after", &secs.to_string());
        Error::RateLimited { operation, retry_after: Some(retry_after), response: Some(Box::new(response)) }
    }

    /// A timeout of the `attempt` limit after `elapsed`, as the client
    /// returns it when an attempt got no complete answer in time.
    #[must_use]
    pub fn timeout(operation: &'static str, elapsed: Duration) -> Self {
        Error::Timeout { operation, limit: "attempt", elapsed, attempts: None }
    }

    /// A connection failure (`message` says what failed), as the client
    /// returns it when the connection could not be made or broke.
    #[must_use]
    pub fn connection(operation: &'static str, message: impl Into<String>) -> Self {
        Error::Connection { operation, message: message.into(), source: None, attempts: None }
    }
}

impl From<ApiError> for Error {
    /// [`Error::Api`], or [`Error::RateLimited`] for a 429 (with its
    /// `Retry-After`, when it has a valid one), as the client reports them.
    fn from(e: ApiError) -> Self {
        if e.status == StatusCode::TOO_MANY_REQUESTS {
            let retry_after = retry_after(&e.headers);
            return Error::RateLimited { operation: e.operation, retry_after, response: Some(Box::new(e)) };
        }
        Error::Api(Box::new(e))
    }
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

/// The server's request id, from the first of the usual headers it sent.
pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    ["x-request-id", "request-id", "x-amzn-requestid", "x-correlation-id"]
        .iter()
        .find_map(|h| headers.get(*h))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
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

/// The wait an answer's `Retry-After` header asks for, if it has a valid one.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    parse_retry_after(headers.get(http::header::RETRY_AFTER)?.to_str().ok()?, std::time::SystemTime::now())
}

/// How a call's attempts went before it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempts {
    /// Attempts made, the first one included.
    pub count: u32,
    /// Time from the start of the call to the failure, waits included.
    pub elapsed: Duration,
    /// Why there was no further attempt.
    pub stopped_by: StopReason,
}

/// Why a call made no further attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// A retry cannot help (a 4xx other than 408/429, a decode error, a bad argument).
    NotRetryable,
    /// The request may have reached the server, and the operation may not
    /// be sent twice (a POST without a spec or per-call opt-in).
    NotIdempotent,
    /// The request body can be sent only once (a reader upload).
    BodyNotReplayable,
    /// `retry.max_attempts` (this many) were made.
    MaxAttempts(u32),
    /// The next attempt or wait would pass the operation deadline (this long).
    Deadline(Duration),
    /// The server asked to wait longer than `retry.max_retry_after` (this long).
    RetryAfterCap(Duration),
}

impl StopReason {
    /// Whether the client would have retried with more attempts or time.
    #[must_use]
    pub fn allows_retry(self) -> bool {
        !matches!(self, StopReason::NotRetryable | StopReason::NotIdempotent | StopReason::BodyNotReplayable)
    }
}

impl fmt::Display for Attempts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = if self.count == 1 { "" } else { "s" };
        write!(f, "{} attempt{plural} in {}, ", self.count, fmt_duration(self.elapsed))?;
        match self.stopped_by {
            StopReason::NotRetryable => f.write_str("not retried: a retry cannot change this answer"),
            StopReason::NotIdempotent => f.write_str(
                "not retried: the request may have reached the server and the operation is not idempotent \
                 (RequestOptions::retry_non_idempotent opts in when the server deduplicates)",
            ),
            StopReason::BodyNotReplayable => f.write_str("not retried: the upload body can be sent only once"),
            StopReason::MaxAttempts(n) => write!(f, "stopped by retry.max_attempts ({n})"),
            StopReason::Deadline(d) => write!(f, "stopped by the operation deadline ({})", fmt_duration(d)),
            StopReason::RetryAfterCap(d) => {
                write!(f, "stopped: the server asked to wait longer than retry.max_retry_after ({})", fmt_duration(d))
            }
        }
    }
}

/// Statuses worth retrying: 408, 429 and 5xx.
#[must_use]
pub fn is_retryable_status(status: StatusCode) -> bool {
    status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
}

/// A non-success answer, kept whole.
#[derive(Clone)]
pub struct ApiError {
    /// The operation.
    pub operation: &'static str,
    /// The request's method.
    pub method: http::Method,
    /// The request's path (filled in).
    pub path: String,
    /// The status the server answered.
    pub status: StatusCode,
    /// The answer's headers.
    pub headers: HeaderMap,
    /// The raw body (at most [`MAX_ERROR_BODY`] bytes are kept).
    pub body: Bytes,
    /// The server's request id, from the first of `x-request-id`, `request-id`,
    /// `x-amzn-requestid`, `x-correlation-id` present.
    pub request_id: Option<String>,
    /// How the call's attempts went (set when this answer ended the call).
    pub attempts: Option<Attempts>,
}

/// How much of a body `Debug` of an [`ApiError`] shows.
const DEBUG_BODY: usize = 1024;

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = &self.body[..self.body.len().min(DEBUG_BODY)];
        let mut body = String::from_utf8_lossy(shown).into_owned();
        if self.body.len() > DEBUG_BODY {
            body.push('…');
        }
        f.debug_struct("ApiError")
            .field("operation", &self.operation)
            .field("method", &self.method)
            .field("path", &self.path)
            .field("status", &self.status)
            .field("request_id", &self.request_id)
            .field("headers", &self.headers)
            .field("body", &format_args!("{body:?} ({} bytes)", self.body.len()))
            .field("attempts", &self.attempts)
            .finish()
    }
}

/// How much of an error body is kept.
pub const MAX_ERROR_BODY: usize = 64 * 1024;

impl ApiError {
    /// An answer of `status` to `operation`, with no headers or body (add
    /// them with [`with_header`](Self::with_header) and
    /// [`with_body`](Self::with_body)); for tests and fakes. The method is
    /// `GET` and the path empty unless set with [`with_request`](Self::with_request).
    ///
    /// # Panics
    ///
    /// When `status` is not a status code (below 100 or above 999).
    #[must_use]
    pub fn new(operation: &'static str, status: u16) -> Self {
        ApiError {
            operation,
            method: http::Method::GET,
            path: String::new(),
            status: StatusCode::from_u16(status).unwrap_or_else(|_| panic!("{status} is not an HTTP status code (100..=999)")),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            request_id: None,
            attempts: None,
        }
    }

    /// This body.
    #[must_use]
    pub fn with_body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// This body, serialized as JSON.
    ///
    /// # Panics
    ///
    /// When `value` cannot be serialized (a map with non-string keys).
    #[must_use]
    pub fn with_json(self, value: &impl serde::Serialize) -> Self {
        let body = serde_json::to_vec(value).unwrap_or_else(|e| panic!("ApiError::with_json: {e}"));
        self.with_header("content-type", "application/json").with_body(body)
    }

    /// One more header (a request id header also sets
    /// [`request_id`](Self::request_id), as on a real answer).
    ///
    /// # Panics
    ///
    /// When `name` or `value` cannot be a header (a CR/LF, a space in the name).
    #[must_use]
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        let name = http::HeaderName::from_bytes(name.as_bytes()).unwrap_or_else(|_| panic!("{name:?} is not a header name"));
        let value = http::HeaderValue::from_str(value).unwrap_or_else(|_| panic!("{value:?} is not a header value"));
        self.headers.append(name, value);
        self.request_id = request_id(&self.headers);
        self
    }

    /// The request this answers: its method and (filled-in) path.
    #[must_use]
    pub fn with_request(mut self, method: http::Method, path: impl Into<String>) -> Self {
        self.method = method;
        self.path = path.into();
        self
    }

    /// The body as text (lossy).
    #[must_use]
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Decode the body as JSON into the caller's type.
    pub fn body_json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    fn advice(&self) -> &'static str {
        match self.status.as_u16() {
            400 | 422 => "check the arguments against the operation's docs",
            401 => "check the API key or credentials the client was built with",
            403 => "the credentials are valid but lack permission for this resource",
            404 => "check the ids in the path; the resource does not exist or is not visible to this key",
            405 => "the method or path is wrong for this server; check the base URL",
            408 | 429 => "wait and retry",
            s if s >= 500 => "the server failed; retry later, and contact the vendor if it persists",
            _ => "see the status and body",
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} {} answered {}", self.operation, self.method, self.path, self.status)?;
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        let snippet = snippet(&self.body, 200);
        if snippet.is_empty() {
            write!(f, " with an empty body")?;
        } else {
            write!(f, ": {snippet}")?;
        }
        write!(f, "{}; {}", fmt_attempts(self.attempts.as_ref()), self.advice())
    }
}

/// A success answer whose body did not decode.
#[derive(Debug)]
pub struct DecodeError {
    /// The operation.
    pub operation: &'static str,
    /// The status of the (successful) answer.
    pub status: StatusCode,
    /// The answer's `Content-Type`, when it had one.
    pub content_type: Option<String>,
    /// The JSON path where decoding failed, e.g. `messageList[2].index`.
    pub path: String,
    /// The start of the body, for the message.
    pub snippet: String,
    /// What the decoder said.
    pub message: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: could not decode the {} response", self.operation, self.status)?;
        if !self.path.is_empty() && self.path != "." {
            write!(f, " at `{}`", self.path)?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(ct) = &self.content_type {
            write!(f, " (content-type {ct})")?;
        }
        write!(
            f,
            "; body starts {:?}. The server sent something the spec does not describe: use the raw response (`send_raw`) to read it, and report it so the spec can be fixed",
            self.snippet
        )
    }
}

/// The first `max` characters of a body, as text.
pub(crate) fn snippet(body: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out: String = text.chars().take(max).collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}

/// `Result` with the runtime's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16) -> Box<ApiError> {
        Box::new(ApiError {
            operation: "op",
            method: http::Method::GET,
            path: "/x".into(),
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            request_id: None,
            attempts: None,
        })
    }

    /// One error of every kind, with the status each should report.
    fn every_kind() -> Vec<(Error, Option<u16>)> {
        let decode = |status| DecodeError {
            operation: "op",
            status: StatusCode::from_u16(status).unwrap(),
            content_type: None,
            path: String::new(),
            snippet: String::new(),
            message: String::new(),
        };
        vec![
            (Error::Api(api(404)), Some(404)),
            (Error::Api(api(500)), Some(500)),
            (Error::Decode(Box::new(decode(200))), Some(200)),
            (Error::Timeout { operation: "op", limit: "attempt", elapsed: Duration::ZERO, attempts: None }, None),
            (Error::Connection { operation: "op", message: "refused".into(), source: None, attempts: None }, None),
            (Error::RateLimited { operation: "op", retry_after: None, response: Some(api(429)) }, Some(429)),
            (Error::RateLimited { operation: "op", retry_after: Some(Duration::from_secs(1)), response: None }, None),
            (Error::invalid("op", "id", "empty"), None),
            (Error::MissingCredentials { operation: "op", schemes: &["api_key"] }, None),
            (Error::BodyTooLarge { operation: "op", limit: 1, length: None }, None),
            (Error::Config("x".into()), None),
            (Error::Io { context: "x".into(), source: std::io::Error::other("x") }, None),
            (Error::Paging { operation: "op", message: "x".into() }, None),
            (Error::Interceptor { operation: "op", interceptor: "i".into(), message: "x".into() }, None),
        ]
    }

    /// Fails to compile when a kind is added, so `every_kind` is kept whole.
    fn kind(e: &Error) -> &'static str {
        match e {
            Error::Api(_) => "Api",
            Error::Decode(_) => "Decode",
            Error::Timeout { .. } => "Timeout",
            Error::Connection { .. } => "Connection",
            Error::RateLimited { .. } => "RateLimited",
            Error::InvalidArgument { .. } => "InvalidArgument",
            Error::MissingCredentials { .. } => "MissingCredentials",
            Error::BodyTooLarge { .. } => "BodyTooLarge",
            Error::Config(_) => "Config",
            Error::Io { .. } => "Io",
            Error::Paging { .. } => "Paging",
            Error::Interceptor { .. } => "Interceptor",
        }
    }

    #[test]
    fn test_constructors_build_what_the_client_returns() {
        let e = Error::api("get", 404, "nope");
        assert!(e.is_not_found());
        assert_eq!(e.as_api().unwrap().body_text(), "nope");
        assert!(!e.is_retryable());
        let e = Error::from(ApiError::new("get", 503).with_header("x-request-id", "r1").with_json(&serde_json::json!({"a": 1})));
        assert_eq!(e.request_id(), Some("r1"));
        assert!(e.is_retryable());
        assert_eq!(e.as_api().unwrap().headers["content-type"], "application/json");
        let e = Error::rate_limited("list", Duration::from_millis(1500));
        assert_eq!(e.retry_after(), Some(Duration::from_millis(1500)));
        assert_eq!(e.status_code(), Some(429));
        assert_eq!(e.as_api().unwrap().headers["retry-after"], "2");
        // A 429 built by hand reads like the client's.
        let e = Error::from(ApiError::new("list", 429).with_header("retry-after", "7"));
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
        assert!(matches!(Error::timeout("x", Duration::from_secs(1)), Error::Timeout { limit: "attempt", .. }));
        assert!(Error::connection("x", "reset").is_retryable());
    }

    #[test]
    #[should_panic(expected = "not a header value")]
    fn a_test_header_with_a_newline_is_refused() {
        let _ = ApiError::new("x", 400).with_header("x-a", "a\r\nb: c");
    }

    #[test]
    fn status_code_and_is_not_found_answer_on_every_kind() {
        let cases = every_kind();
        let kinds: std::collections::BTreeSet<_> = cases.iter().map(|(e, _)| kind(e)).collect();
        assert_eq!(kinds.len(), 12, "every kind has a case: {kinds:?}");
        for (e, status) in &cases {
            assert_eq!(e.status_code(), *status, "{}", kind(e));
            assert_eq!(e.status().map(|s| s.as_u16()), *status, "{}", kind(e));
            assert_eq!(e.is_not_found(), *status == Some(404), "{}", kind(e));
        }
    }
}
