//! Credentials, applied per request, never printed.

use std::fmt;

use http::header::{HeaderName, HeaderValue, AUTHORIZATION};

use crate::Error;

/// How an operation wants to be authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthRequirement {
    /// A public operation: no credentials are sent even if the client has some.
    None,
    /// Any of these scheme ids.
    Schemes(&'static [&'static str]),
}

/// A credential bound to one of the vendor's auth schemes.
///
/// The header value is built (and checked) once, when the client is built,
/// and marked sensitive so that `reqwest`/`hyper` never log it.
#[derive(Clone)]
pub struct Credentials {
    scheme: &'static str,
    header: HeaderName,
    value: HeaderValue,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("scheme", &self.scheme)
            .field("header", &self.header)
            .field("value", &"<redacted>")
            .finish()
    }
}

impl Credentials {
    /// HTTP Basic: `username:password`, base64-encoded.
    pub fn basic(scheme: &'static str, username: &str, password: &str) -> Result<Self, Error> {
        use base64::Engine as _;
        if username.contains(':') {
            return Err(Error::Config(format!(
                "the {scheme} username contains ':', which HTTP Basic cannot carry; check the key"
            )));
        }
        let raw = format!("{username}:{password}");
        let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
        Self::build(scheme, AUTHORIZATION, format!("Basic {encoded}"))
    }

    /// `Authorization: Bearer <token>`.
    pub fn bearer(scheme: &'static str, token: &str) -> Result<Self, Error> {
        Self::build(scheme, AUTHORIZATION, format!("Bearer {token}"))
    }

    /// The key in a named header.
    pub fn header(scheme: &'static str, header: &'static str, key: &str) -> Result<Self, Error> {
        let name = HeaderName::from_static(header);
        Self::build(scheme, name, key.to_owned())
    }

    fn build(scheme: &'static str, header: HeaderName, value: String) -> Result<Self, Error> {
        if value.trim().is_empty() || value.ends_with(' ') {
            return Err(Error::Config(format!("the {scheme} credential is empty; pass the API key")));
        }
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            Error::Config(format!(
                "the {scheme} credential contains characters a header cannot carry (such as a newline); \
                 check the key for stray whitespace"
            ))
        })?;
        value.set_sensitive(true);
        Ok(Self { scheme, header, value })
    }

    /// The scheme id this credential belongs to.
    pub fn scheme(&self) -> &'static str {
        self.scheme
    }

    pub(crate) fn apply(&self, headers: &mut http::HeaderMap) {
        headers.insert(self.header.clone(), self.value.clone());
    }
}
