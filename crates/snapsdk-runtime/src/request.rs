//! What the generated code hands the runtime: facts about the vendor and
//! each operation, and one call ready to send.

use http::{HeaderMap, Method};

use crate::auth::AuthRequirement;
use crate::body::Body;
use crate::config::{Extras, RateLimit, RequestOptions};

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
    /// Per-call extra headers and query pairs (none unless set).
    pub extras: Extras,
    /// Read the whole body before returning (JSON, text, empty); `false` streams it.
    pub buffer: bool,
}

impl Request {
    /// A request for `op` to `path` (already encoded), with no query, headers or body yet.
    pub fn new(op: &'static OperationInfo, path: String) -> Self {
        Request { op, path, query: String::new(), headers: HeaderMap::new(), body: Body::Empty, options: RequestOptions::default(), extras: Extras::default(), buffer: true }
    }
}
