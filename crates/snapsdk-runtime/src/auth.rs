//! Credentials, applied per request, never printed.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
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
/// and marked sensitive so that `reqwest`/`hyper` never log it. `Debug`
/// prints only the scheme and header name. If a server echoes the secret
/// back in an error body or header, the runtime replaces it with
/// `<redacted>` before the error is built.
#[derive(Clone)]
pub struct Credentials(Arc<Secret>);

/// What a [`Credentials`] holds, shared by its clones (every answer carries
/// one to scrub decode errors with, so a clone is one reference count).
struct Secret {
    scheme: &'static str,
    header: HeaderName,
    value: HeaderValue,
    /// Every form of the secret worth scrubbing from what servers send back.
    secrets: Box<[Vec<u8>]>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("scheme", &self.0.scheme)
            .field("header", &self.0.header)
            .field("value", &"<redacted>")
            .finish()
    }
}

/// Refuse secrets that would be sent wrong: empty, surrounded by whitespace
/// (a key pasted with its newline), or holding control or non-ASCII
/// characters (a header carries them as raw bytes the server would misread).
fn check_secret(scheme: &'static str, what: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::Config(format!("the {scheme} {what} is empty; pass the API key")));
    }
    if value.trim() != value {
        return Err(Error::Config(format!(
            "the {scheme} {what} starts or ends with whitespace; check the key for a stray space or newline"
        )));
    }
    if !value.is_ascii() || value.chars().any(|c| c.is_ascii_control()) {
        return Err(Error::Config(format!(
            "the {scheme} {what} contains characters a header cannot carry (such as a newline); \
             check the key for stray whitespace"
        )));
    }
    Ok(())
}

/// Shortest secret piece that is scrubbed from server answers (so that a
/// placeholder password such as `x` does not blank out every `x`).
const MIN_SCRUB_LEN: usize = 6;

impl Credentials {
    /// HTTP Basic: `username:password`, base64-encoded. The username must be
    /// non-empty; neither part may carry control characters or surrounding
    /// whitespace.
    pub fn basic(scheme: &'static str, username: &str, password: &str) -> Result<Self, Error> {
        use base64::Engine as _;
        check_secret(scheme, "username", username)?;
        if username.contains(':') {
            return Err(Error::Config(format!(
                "the {scheme} username contains ':', which HTTP Basic cannot carry; check the key"
            )));
        }
        if !password.is_empty() {
            check_secret(scheme, "password", password)?;
        }
        let raw = format!("{username}:{password}");
        let encoded = base64::engine::general_purpose::STANDARD.encode(&raw);
        let value = format!("Basic {encoded}");
        let pieces = [username, password, raw.as_str(), encoded.as_str()];
        Self::build(scheme, AUTHORIZATION, value, &pieces)
    }

    /// `Authorization: Bearer <token>`.
    pub fn bearer(scheme: &'static str, token: &str) -> Result<Self, Error> {
        check_secret(scheme, "token", token)?;
        Self::build(scheme, AUTHORIZATION, format!("Bearer {token}"), &[token])
    }

    /// The key in a named header (`header` must be a lowercase header name).
    pub fn header(scheme: &'static str, header: &'static str, key: &str) -> Result<Self, Error> {
        check_secret(scheme, "key", key)?;
        let name = HeaderName::from_static(header);
        Self::build(scheme, name, key.to_owned(), &[key])
    }

    fn build(scheme: &'static str, header: HeaderName, value: String, pieces: &[&str]) -> Result<Self, Error> {
        let mut header_value = HeaderValue::from_str(&value).map_err(|_| {
            Error::Config(format!(
                "the {scheme} credential contains characters a header cannot carry (such as a newline or non-ASCII); \
                 check the key for stray whitespace"
            ))
        })?;
        header_value.set_sensitive(true);
        let mut secrets: Vec<Vec<u8>> = std::iter::once(value.as_str())
            .chain(pieces.iter().copied())
            .filter(|p| p.len() >= MIN_SCRUB_LEN)
            .map(|p| p.as_bytes().to_vec())
            .collect();
        // Longest first, so that a piece inside another is not scrubbed half-way.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Ok(Self(Arc::new(Secret {
            scheme,
            header,
            value: header_value,
            secrets: secrets.into(),
        })))
    }

    /// The scheme id this credential belongs to.
    #[must_use]
    pub fn scheme(&self) -> &'static str {
        self.0.scheme
    }

    /// The header the credential travels in.
    pub(crate) fn header_name(&self) -> &HeaderName {
        &self.0.header
    }

    pub(crate) fn apply(&self, headers: &mut http::HeaderMap) {
        headers.insert(self.0.header.clone(), self.0.value.clone());
    }

    /// Whether the key travels in `Authorization`, which reqwest itself
    /// drops on a redirect to another host (a custom header it keeps).
    pub(crate) fn in_authorization(&self) -> bool {
        self.0.header == AUTHORIZATION
    }

    /// The longest a secret can be once a server has escaped it (`\u00XX`
    /// is six bytes per byte): how far past a cut an echo may reach.
    pub(crate) fn max_echo_len(&self) -> usize {
        self.0.secrets.first().map_or(0, |s| s.len() * 6)
    }

    /// `bytes` with every form of the secret replaced by `<redacted>`: as
    /// sent, and as a server may echo it escaped: JSON (`\/`, `\u002f`, in
    /// any mix) or percent-encoded (`%2F`, `%2f`). `None` when nothing matched.
    pub(crate) fn scrub(&self, bytes: &[u8]) -> Option<Vec<u8>> {
        let mut changed = false;
        let mut out = bytes.to_vec();
        for secret in self.0.secrets.iter() {
            if find(&out, secret).is_some() {
                changed = true;
                let mut result = Vec::with_capacity(out.len());
                let mut rest = &out[..];
                while let Some(i) = find(rest, secret) {
                    result.extend_from_slice(&rest[..i]);
                    result.extend_from_slice(REDACTED);
                    rest = &rest[i + secret.len()..];
                }
                result.extend_from_slice(rest);
                out = result;
            }
        }
        if out.iter().any(|b| matches!(b, b'\\' | b'%')) {
            if let Some(clean) = self.scrub_escaped(&out) {
                out = clean;
                changed = true;
            }
        }
        changed.then_some(out)
    }

    /// Find the secret in the unescaped view of `bytes` and redact the
    /// escaped spans it came from.
    fn scrub_escaped(&self, bytes: &[u8]) -> Option<Vec<u8>> {
        let (view, starts) = unescaped_view(bytes);
        let mut spans: Vec<(usize, usize)> = Vec::new();
        for secret in self.0.secrets.iter() {
            let mut from = 0;
            while let Some(i) = find(&view[from..], secret) {
                let (a, b) = (from + i, from + i + secret.len());
                spans.push((starts[a], starts[b]));
                from = b;
            }
        }
        if spans.is_empty() {
            return None;
        }
        spans.sort_unstable();
        let mut out = Vec::with_capacity(bytes.len());
        let mut at = 0;
        for (a, b) in spans {
            if b <= at {
                continue;
            }
            out.extend_from_slice(&bytes[at..a.max(at)]);
            if a >= at {
                out.extend_from_slice(REDACTED);
            }
            at = b;
        }
        out.extend_from_slice(&bytes[at..]);
        Some(out)
    }

    pub(crate) fn scrub_bytes(&self, bytes: Bytes) -> Bytes {
        self.scrub(&bytes).map(Bytes::from).unwrap_or(bytes)
    }

    pub(crate) fn scrub_string(&self, s: String) -> String {
        match self.scrub(s.as_bytes()) {
            Some(v) => String::from_utf8_lossy(&v).into_owned(),
            None => s,
        }
    }

    pub(crate) fn scrub_headers(&self, headers: &mut http::HeaderMap) {
        for value in headers.values_mut() {
            if let Some(clean) = self.scrub(value.as_bytes()) {
                *value = HeaderValue::from_bytes(&clean).unwrap_or(HeaderValue::from_static("<redacted>"));
            }
        }
    }
}

const REDACTED: &[u8] = b"<redacted>";

/// `bytes` with JSON escapes of ASCII (`\/`, `\\`, `\"`, `\u00XX`) and
/// percent escapes (`%XX`) decoded, and for each byte of the result the
/// offset it starts at in `bytes` (plus one final entry: `bytes.len()`).
fn unescaped_view(bytes: &[u8]) -> (Vec<u8>, Vec<usize>) {
    fn hex(b: &[u8]) -> Option<u8> {
        let s = std::str::from_utf8(b).ok()?;
        u8::from_str_radix(s, 16).ok()
    }
    let mut view = Vec::with_capacity(bytes.len());
    let mut starts = Vec::with_capacity(bytes.len() + 1);
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        let (byte, len) = match rest {
            [b'\\', b'/' | b'\\' | b'"', ..] => (rest[1], 2),
            [b'\\', b'u', b'0', b'0', h1, h2, ..] if hex(&[*h1, *h2]).is_some_and(|v| v < 0x80) => {
                (hex(&[*h1, *h2]).unwrap_or(0), 6)
            }
            [b'%', h1, h2, ..] if hex(&[*h1, *h2]).is_some() => (hex(&[*h1, *h2]).unwrap_or(0), 3),
            _ => (rest[0], 1),
        };
        view.push(byte);
        starts.push(i);
        i += len;
    }
    starts.push(bytes.len());
    (view, starts)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > haystack.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsendable_or_sloppy_keys_are_refused() {
        for bad in ["", " key", "key ", "ke\ny", "key\n", "k\tey", "ключ"] {
            assert!(Credentials::header("k", "x-api-key", bad).is_err(), "{bad:?}");
            assert!(Credentials::bearer("k", bad).is_err(), "{bad:?}");
        }
        for bad in ["", "a:b", "ab\n", " ab"] {
            assert!(Credentials::basic("k", bad, "x").is_err(), "{bad:?}");
        }
        assert!(Credentials::basic("k", "user", "pa\nss").is_err());
        assert!(Credentials::basic("k", "usér", "x").is_err());
        assert!(Credentials::basic("k", "user", "").is_ok());
        assert!(Credentials::basic("k", "user", "x").is_ok());
    }

    #[test]
    fn scrubbing_replaces_every_form_and_keeps_the_rest() {
        let c = Credentials::basic("k", "sekrit-key-123", "x").unwrap();
        let b64 = {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode("sekrit-key-123:x")
        };
        let body = format!("bad key sekrit-key-123 or {b64}; x stays");
        let out = String::from_utf8(c.scrub(body.as_bytes()).unwrap()).unwrap();
        assert_eq!(out, "bad key <redacted> or <redacted>; x stays");
        assert!(c.scrub(b"nothing here").is_none());
    }

    #[test]
    fn escaped_echoes_are_scrubbed_in_any_mix() {
        let c = Credentials::header("k", "x-api-key", "ab/cd+ef=gh_12").unwrap();
        for echo in [
            "ab\\/cd+ef=gh_12",
            "ab\\u002fcd\\u002Bef\\u003dgh_12",
            "ab%2Fcd%2Bef%3Dgh_12",
            "ab%2fcd+ef%3dgh%5F12",
            "\\u0061b/cd+ef=gh_12",
        ] {
            let body = format!("{{\"error\":\"bad key {echo}\"}} tail");
            let out = String::from_utf8(c.scrub(body.as_bytes()).expect(echo)).unwrap();
            assert_eq!(out, "{\"error\":\"bad key <redacted>\"} tail", "{echo}");
        }
        // Escapes elsewhere are left alone.
        assert!(c.scrub(b"50%25 off \\/path").is_none());
    }
}
