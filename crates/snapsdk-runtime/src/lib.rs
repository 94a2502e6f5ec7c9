//! Shared runtime for the `snapcall`, `besnappy` and `snapengage` clients.
//!
//! Generated crates own their types and one method per operation; this crate
//! owns everything else: the transport, auth, the error type, retries,
//! timeouts, rate limits, paging, streaming downloads and multipart uploads.
//! Application code rarely names it directly; each client re-exports what a
//! caller needs.
//!
#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod auth;
pub mod body;
mod builder;
pub mod client;
pub mod config;
pub mod encode;
pub mod error;
pub mod intercept;
mod json_path;
pub mod lenient;
#[cfg(feature = "rate-limit")]
mod limit;
#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub mod mock;
#[cfg(feature = "multipart")]
#[cfg_attr(docsrs, doc(cfg(feature = "multipart")))]
pub mod multipart;
mod operation;
pub mod paginate;
pub mod query;
mod read;
mod request;
pub mod response;
mod retry;
mod slots;
pub mod tls;
mod transport;
pub mod types;

pub use auth::{AuthRequirement, Credentials};
pub use body::Body;
pub use builder::ClientBuilder;
pub use chrono::NaiveDate;
pub use client::Client;
pub use config::{Extras, RateLimit, RequestOptions, RetryConfig, Timeouts};
pub use error::{ApiError, Attempts, DecodeError, Error, Result, StopReason};
pub use intercept::{AttemptRequest, AttemptResponse, HeaderRefused, HookError, Interceptor, RetryDecision};
#[cfg(feature = "multipart")]
pub use multipart::{FilePart, Multipart};
pub use operation::{Call, RawFuture, SendFuture};
pub use paginate::Paginator;
pub use request::{OperationInfo, Request, VendorInfo};
pub use response::{ByteStream, Response};
pub use tls::http_client_builder;
pub use types::{de, Alternatives, Timestamp};

// Not offered to applications (issue 30): with no TLS provider feature on
// (the runtime turns none on, to keep aws-lc-sys and cmake out),
// `reqwest::Client::new()` panics, and nothing a library can do makes that
// first call work. Kept, hidden, only for generated crates of 0.2 that name
// `snapsdk_runtime::reqwest::Client` in `http_client(..)`; generated code
// should name `__private::reqwest`, and applications start from
// [`http_client_builder`].
/// HTTP status codes, as [`Error::status`] returns them.
pub use http::StatusCode;
#[doc(hidden)]
pub use reqwest;

/// Re-exports generated code relies on, so client crates need no direct dependency.
#[doc(hidden)]
pub mod __private {
    pub use chrono;
    pub use futures_core::Stream;
    pub use http;
    pub use reqwest;
    pub use serde;
    pub use serde_json;
}
