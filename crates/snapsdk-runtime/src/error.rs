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
    #[error("{operation}: timed out after {elapsed:?} ({limit}); raise the limit with the client's or the request's timeout settings, or check that the server is reachable")]
    Timeout {
        operation: &'static str,
        /// Which limit ran out: `connect`, `attempt` or `operation deadline`.
        limit: &'static str,
        elapsed: Duration,
    },
    /// The connection could not be made, or broke before the answer was complete.
    #[error("{operation}: connection failed: {message}; check the base URL and the network, the call can be retried")]
    Connection {
        operation: &'static str,
        message: String,
        #[source]
        source: Option<reqwest::Error>,
    },
    /// The server (or the client-side limiter) asks the caller to wait longer
    /// than the configured cap allows waiting automatically.
    #[error("{operation}: rate limited; retry after {}", fmt_wait(*.retry_after))]
    RateLimited {
        operation: &'static str,
        retry_after: Option<Duration>,
        /// The 429 (or 503) answer, when there was one.
        response: Option<Box<ApiError>>,
    },
    /// A caller-supplied value can't be sent (empty path parameter, bad header value...).
    #[error("{operation}: invalid argument `{name}`: {reason}")]
    InvalidArgument {
        operation: &'static str,
        name: String,
        reason: String,
    },
    /// The client could not be built from its configuration.
    #[error("invalid client configuration: {0}")]
    Config(String),
    /// Local I/O failed (reading an upload, writing a download).
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

fn fmt_wait(d: Option<Duration>) -> String {
    match d {
        Some(d) => format!("{:.1}s", d.as_secs_f64()),
        None => "an unspecified delay".to_owned(),
    }
}

impl Error {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::Decode(e) => Some(e.status),
            Error::RateLimited { response: Some(r), .. } => Some(r.status),
            _ => None,
        }
    }

    /// Whether sending the same request again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api(e) => is_retryable_status(e.status),
            Error::Timeout { .. } | Error::Connection { .. } | Error::RateLimited { .. } => true,
            _ => false,
        }
    }

    /// The API error details, for a non-success answer.
    pub fn as_api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            Error::RateLimited { response: Some(r), .. } => Some(r),
            _ => None,
        }
    }

    pub(crate) fn invalid(operation: &'static str, name: &str, reason: impl Into<String>) -> Self {
        Error::InvalidArgument { operation, name: name.to_owned(), reason: reason.into() }
    }
}

/// Statuses worth retrying: 408, 429 and 5xx.
pub fn is_retryable_status(status: StatusCode) -> bool {
    status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
}

/// A non-success answer, kept whole.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub operation: &'static str,
    pub method: http::Method,
    pub path: String,
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The raw body (at most [`MAX_ERROR_BODY`] bytes are kept).
    pub body: Bytes,
    /// The server's request id, from the first of `x-request-id`, `request-id`,
    /// `x-amzn-requestid`, `x-correlation-id` present.
    pub request_id: Option<String>,
}

/// How much of an error body is kept.
pub const MAX_ERROR_BODY: usize = 64 * 1024;

impl ApiError {
    /// The body as text (lossy).
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
        write!(f, "; {}", self.advice())
    }
}

/// A success answer whose body did not decode.
#[derive(Debug)]
pub struct DecodeError {
    pub operation: &'static str,
    pub status: StatusCode,
    pub content_type: Option<String>,
    /// The JSON path where decoding failed, e.g. `messageList[2].index`.
    pub path: String,
    /// The start of the body, for the message.
    pub snippet: String,
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

pub type Result<T, E = Error> = std::result::Result<T, E>;
