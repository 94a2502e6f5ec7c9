//! Extending a call: interceptors (hooks around every attempt, set on the
//! client builder) and the checks on headers that interceptors and per-call
//! [`Extras`](crate::Extras) add.
//!
//! Neither can read or change the credentials: an attempt's headers are
//! shown to interceptors before the credentials are put on, and a header
//! named like the credentials header is refused, as are `Host` and the
//! headers that frame the body.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode};

use crate::error::Error;
use crate::request::OperationInfo;

/// What an interceptor's hook returns to end the call.
pub type HookError = Box<dyn std::error::Error + Send + Sync>;

/// A hook around every attempt of every call of a client, set with
/// [`ClientBuilder::interceptor`](crate::ClientBuilder::interceptor); the
/// hooks run in the order the interceptors were added.
///
/// Each hook has a default that does nothing. An error a hook returns (or a
/// panic in it, which is caught) ends the call with [`Error::Interceptor`]
/// naming the interceptor; the client stays usable. Hooks run on the call's
/// task: they must not block (a hook that blocks for a second delays the
/// call by a second; the call's time limits are checked again after it).
///
/// ```
/// use snapsdk_runtime::{AttemptRequest, AttemptResponse, HookError, Interceptor};
///
/// /// Adds a trace id to every attempt and counts answers by status.
/// struct Tracing { answers: std::sync::atomic::AtomicUsize }
///
/// impl Interceptor for Tracing {
///     fn name(&self) -> &str { "tracing" }
///     fn before_attempt(&self, request: &mut AttemptRequest<'_>) -> Result<(), HookError> {
///         request.insert_header("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")?;
///         Ok(())
///     }
///     fn after_response(&self, response: &AttemptResponse<'_>) -> Result<(), HookError> {
///         self.answers.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
///         Ok(())
///     }
/// }
/// ```
pub trait Interceptor: Send + Sync + 'static {
    /// The name errors give for this interceptor.
    fn name(&self) -> &str;

    /// Before each attempt is sent (and before each redirect hop within it):
    /// may look at the request and add headers. The credentials are not
    /// among the headers shown and cannot be set.
    fn before_attempt(&self, request: &mut AttemptRequest<'_>) -> Result<(), HookError> {
        let _ = request;
        Ok(())
    }

    /// After each answer arrives (its status and headers, before its body is
    /// read), whatever its status.
    fn after_response(&self, response: &AttemptResponse<'_>) -> Result<(), HookError> {
        let _ = response;
        Ok(())
    }

    /// After each failed attempt, once the client has decided whether to try again.
    fn on_retry_decision(&self, decision: &RetryDecision<'_>) -> Result<(), HookError> {
        let _ = decision;
        Ok(())
    }
}

/// One attempt's request as an interceptor sees it: without the credentials.
pub struct AttemptRequest<'a> {
    pub(crate) op: &'static OperationInfo,
    pub(crate) attempt: u32,
    pub(crate) method: &'a Method,
    pub(crate) url: &'a reqwest::Url,
    pub(crate) headers: &'a mut HeaderMap,
    pub(crate) protected: Option<&'a HeaderName>,
}

impl AttemptRequest<'_> {
    /// The operation id (`list_accounts`).
    #[must_use]
    pub fn operation(&self) -> &'static str {
        self.op.id
    }
    /// The path template as the spec writes it (`/accounts/{id}`).
    #[must_use]
    pub fn path_template(&self) -> &'static str {
        self.op.path_template
    }
    /// The attempt number, from 1.
    #[must_use]
    pub fn attempt(&self) -> u32 {
        self.attempt
    }
    /// The method of this hop (a redirect may turn a POST into a GET).
    #[must_use]
    pub fn method(&self) -> &Method {
        self.method
    }
    /// The path as sent (percent-encoded).
    #[must_use]
    pub fn path(&self) -> &str {
        self.url.path()
    }
    /// The query as sent, without `?`.
    #[must_use]
    pub fn query(&self) -> Option<&str> {
        self.url.query()
    }
    /// The headers so far, without the credentials.
    #[must_use]
    pub fn headers(&self) -> &HeaderMap {
        self.headers
    }
    /// Set a header (replacing one of that name): refused, with nothing
    /// changed, for a name or value that cannot be sent (CR/LF, a space in
    /// the name), the credentials header, `Host`, and the headers that frame
    /// the body (see [`Extras`](crate::Extras)).
    ///
    /// # Errors
    ///
    /// [`HeaderRefused`], saying why.
    pub fn insert_header(&mut self, name: &str, value: &str) -> Result<(), HeaderRefused> {
        let (name, value) = checked_header(name, value, self.protected)?;
        self.headers.insert(name, value);
        Ok(())
    }
}

impl fmt::Debug for AttemptRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttemptRequest")
            .field("operation", &self.op.id)
            .field("attempt", &self.attempt)
            .field("method", self.method)
            .field("path", &self.url.path())
            .field("headers", &self.headers)
            .finish()
    }
}

/// One answer as an interceptor sees it (any echo of the credentials in its
/// headers is redacted).
#[derive(Debug)]
pub struct AttemptResponse<'a> {
    pub(crate) op: &'static OperationInfo,
    pub(crate) attempt: u32,
    pub(crate) status: StatusCode,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) elapsed: Duration,
}

impl AttemptResponse<'_> {
    /// The operation id.
    #[must_use]
    pub fn operation(&self) -> &'static str {
        self.op.id
    }
    /// The attempt number, from 1.
    #[must_use]
    pub fn attempt(&self) -> u32 {
        self.attempt
    }
    /// The status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }
    /// The headers.
    #[must_use]
    pub fn headers(&self) -> &HeaderMap {
        self.headers
    }
    /// From sending the attempt to its answer's headers.
    #[must_use]
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }
}

/// What the client decided after a failed attempt.
#[derive(Debug)]
pub struct RetryDecision<'a> {
    pub(crate) operation: &'static str,
    pub(crate) attempt: u32,
    pub(crate) error: &'a Error,
    pub(crate) delay: Option<Duration>,
}

impl RetryDecision<'_> {
    /// The operation id.
    #[must_use]
    pub fn operation(&self) -> &'static str {
        self.operation
    }
    /// The attempt that failed, from 1.
    #[must_use]
    pub fn attempt(&self) -> u32 {
        self.attempt
    }
    /// Why it failed (on giving up: the error the call returns).
    #[must_use]
    pub fn error(&self) -> &Error {
        self.error
    }
    /// `Some(wait)` when the client tries again after `wait`; `None` when it gives up.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        self.delay
    }
    /// Whether the client tries again.
    #[must_use]
    pub fn will_retry(&self) -> bool {
        self.delay.is_some()
    }
}

/// A header an interceptor or a per-call extra may not set, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("header {name:?} refused: {reason}")]
pub struct HeaderRefused {
    /// The name as given (its value is never shown: it may be a secret).
    pub name: String,
    /// Why.
    pub reason: &'static str,
}

/// Headers the runtime writes itself: `Host` and the body's framing.
const RESERVED: &[(&str, &str)] = &[
    ("host", "the runtime sends Host for the base URL"),
    ("content-length", "it frames the body, which the runtime sets"),
    ("transfer-encoding", "it frames the body, which the runtime sets"),
    ("connection", "it manages the connection, which the HTTP stack owns"),
    ("keep-alive", "it manages the connection, which the HTTP stack owns"),
    ("proxy-connection", "it manages the connection, which the HTTP stack owns"),
    ("upgrade", "it manages the connection, which the HTTP stack owns"),
    ("te", "it frames the body, which the HTTP stack owns"),
    ("trailer", "it frames the body, which the HTTP stack owns"),
    ("content-type", "the runtime sets it for the operation's body"),
    ("user-agent", "the runtime sets it; add to it with the client builder's `user_agent_suffix`"),
];

/// `name: value` as a header an interceptor or extra may set, or why not.
pub(crate) fn checked_header(name: &str, value: &str, protected: Option<&HeaderName>) -> Result<(HeaderName, HeaderValue), HeaderRefused> {
    let refuse = |reason| HeaderRefused { name: name.to_owned(), reason };
    let parsed = HeaderName::from_bytes(name.as_bytes()).map_err(|_| refuse("not a header name (use letters, digits and `-`, no spaces, CR or LF)"))?;
    if protected == Some(&parsed) {
        return Err(refuse("it carries the client's credentials, which only the client's builder sets"));
    }
    if let Some((_, why)) = RESERVED.iter().find(|(n, _)| *n == parsed.as_str()) {
        return Err(refuse(why));
    }
    // `HeaderValue::from_str` refuses CR, LF, NUL and other controls but a tab.
    let value = HeaderValue::from_str(value).map_err(|_| refuse("its value holds CR, LF or another control character, or non-ASCII text"))?;
    Ok((parsed, value))
}

/// The client's interceptors, in order.
#[derive(Default)]
pub(crate) struct Interceptors(pub(crate) Vec<Box<dyn Interceptor>>);

impl fmt::Debug for Interceptors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter().map(|i| i.name())).finish()
    }
}

impl Interceptors {
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Run `hook` on each interceptor in order; the first error (or panic) ends the call.
    pub(crate) fn run(&self, operation: &'static str, mut hook: impl FnMut(&dyn Interceptor) -> Result<(), HookError>) -> Result<(), Error> {
        for i in &self.0 {
            let i = &**i;
            let outcome = catch_unwind(AssertUnwindSafe(|| hook(i)));
            let message = match outcome {
                Ok(Ok(())) => continue,
                Ok(Err(e)) => e.to_string(),
                Err(panic) => format!("it panicked: {}", panic_text(&*panic)),
            };
            return Err(Error::Interceptor { operation, interceptor: i.name().to_owned(), message });
        }
        Ok(())
    }
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> &str {
    panic.downcast_ref::<&str>().copied().or_else(|| panic.downcast_ref::<String>().map(String::as_str)).unwrap_or("(a non-text panic payload)")
}

/// Put a call's [`Extras`](crate::Extras) on its headers and URL, or refuse them.
pub(crate) fn apply_extras(op: &'static str, extras: &crate::Extras, headers: &mut HeaderMap, url: &mut reqwest::Url, protected: Option<&HeaderName>) -> Result<(), Error> {
    for (name, value) in &extras.headers {
        let (name, value) = checked_header(name, value, protected).map_err(|e| Error::invalid(op, "extra header", e.to_string()))?;
        headers.insert(name, value);
    }
    if !extras.query.is_empty() {
        if extras.query.iter().any(|(k, _)| k.is_empty()) {
            return Err(Error::invalid(op, "extra query", "a query pair has an empty name"));
        }
        url.query_pairs_mut().extend_pairs(extras.query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reserved_name_and_the_credentials_header_are_refused_in_any_case() {
        let key = HeaderName::from_static("x-api-key");
        for (name, _) in RESERVED {
            for form in [name.to_string(), name.to_ascii_uppercase()] {
                assert!(checked_header(&form, "v", Some(&key)).is_err(), "{form}");
            }
        }
        assert!(checked_header("X-Api-Key", "v", Some(&key)).is_err());
        assert!(checked_header("x-api-key", "v", None).is_ok());
        assert!(checked_header("x-trace", "a\tb", Some(&key)).is_ok());
        for bad in ["a\r\nx-injected: 1", "a\nb", "a\rb", "a\0b"] {
            let e = checked_header("x-trace", bad, None).unwrap_err();
            assert!(e.reason.contains("CR, LF"), "{e}");
            assert!(!e.to_string().contains(bad), "the value is not echoed: {e}");
        }
        for bad in ["", "x trace", "x\r\ny", "x:y", "é"] {
            assert!(checked_header(bad, "v", None).is_err(), "{bad:?}");
        }
    }
}
