//! Request bodies. Multipart uploads (feature `multipart`) live in
//! [`crate::multipart`] and are re-exported here.

use bytes::Bytes;

use crate::Error;

#[cfg(feature = "multipart")]
pub use crate::multipart::{FilePart, Multipart};

/// What a request carries.
#[derive(Debug, Default)]
pub enum Body {
    #[default]
    /// No body.
    Empty,
    /// No body, but a `Content-Type` header (SnapEngage's query-string posts).
    EmptyWithContentType(&'static str),
    /// A JSON body (already encoded), sent with `Content-Type: application/json`.
    Json(Bytes),
    /// An urlencoded form body (already encoded).
    Form(String),
    /// A multipart form body; file parts are streamed.
    #[cfg(feature = "multipart")]
    Multipart(Multipart),
}

impl Body {
    /// Serialize `value` as the JSON body.
    pub fn json<T: serde::Serialize>(operation: &'static str, value: &T) -> Result<Body, Error> {
        serde_json::to_vec(value)
            .map(|v| Body::Json(v.into()))
            .map_err(|e| Error::invalid(operation, "body", e.to_string()))
    }

    /// Serialize `value` (a flat struct) as a urlencoded form body.
    pub fn form<T: serde::Serialize>(operation: &'static str, value: &T) -> Result<Body, Error> {
        crate::encode::form(operation, value).map(Body::Form)
    }

    /// Whether the body can be sent again on a retry.
    pub fn replayable(&self) -> bool {
        match self {
            #[cfg(feature = "multipart")]
            Body::Multipart(m) => m.replayable(),
            _ => true,
        }
    }
}
