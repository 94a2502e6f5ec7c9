//! Successful responses: buffered JSON/text/empty, or a byte stream.

use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt;
use http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use tokio::io::AsyncWriteExt;
use tokio::time::Instant;

use crate::auth::Credentials;
use crate::error::{snippet, transport_error, DecodeError, Error};
use crate::json_path;
use crate::read::within;
use crate::slots::Slot;

/// A success answer. Its body is already read unless the operation streams.
#[derive(Debug)]
pub struct Response {
    pub(crate) operation: &'static str,
    status: StatusCode,
    headers: HeaderMap,
    body: ResponseBody,
    /// Scrubs the client's secret from decode errors built from this body.
    pub(crate) redactor: Option<Credentials>,
    /// The longest pause allowed between two chunks of a streamed body.
    pub(crate) idle: Duration,
    /// When the call started, for the elapsed time of a stream's timeout.
    pub(crate) started: Instant,
    /// The per-host connection slot, held until a streamed body is done.
    pub(crate) permit: Option<Slot>,
}

#[derive(Debug)]
pub(crate) enum ResponseBody {
    Buffered(Bytes),
    /// Boxed: every layer of the call hands the answer on by value, and a
    /// buffered answer (the common case) then moves a pointer, not reqwest's response.
    Streaming(Box<reqwest::Response>),
}

impl Response {
    /// An answer to a call that started at `started`.
    pub(crate) fn new(
        operation: &'static str,
        status: StatusCode,
        headers: HeaderMap,
        body: ResponseBody,
        started: Instant,
    ) -> Self {
        Response {
            operation,
            status,
            headers,
            body,
            redactor: None,
            idle: Duration::from_secs(30),
            started,
            permit: None,
        }
    }

    /// [`scrub`](Self::scrub), with the decode snippet cut again from the
    /// scrubbed body, so that a cut never leaves part of a secret behind.
    fn scrub_decode(redactor: Option<&Credentials>, error: Error, body: &[u8]) -> Error {
        match (redactor, error) {
            (Some(c), Error::Decode(mut d)) => {
                d.snippet = snippet(&c.scrub_bytes(Bytes::copy_from_slice(body)), SNIPPET);
                Self::scrub(Some(c), Error::Decode(d))
            }
            (r, e) => Self::scrub(r, e),
        }
    }

    /// Replace the client's secret, should the body echo it, in a decode error's text.
    pub(crate) fn scrub(redactor: Option<&Credentials>, error: Error) -> Error {
        match (redactor, error) {
            (Some(c), Error::Decode(mut d)) => {
                d.snippet = c.scrub_string(std::mem::take(&mut d.snippet));
                d.message = c.scrub_string(std::mem::take(&mut d.message));
                d.path = c.scrub_string(std::mem::take(&mut d.path));
                Error::Decode(d)
            }
            (_, e) => e,
        }
    }

    #[must_use]
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    #[must_use]
    /// The answer's headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    fn content_type(&self) -> Option<String> {
        content_type_of(&self.headers)
    }

    /// The whole body. A streamed body is read here, bounded by the idle limit only.
    pub async fn bytes(self) -> Result<Bytes, Error> {
        match self.body {
            ResponseBody::Buffered(b) => Ok(b),
            ResponseBody::Streaming(_) => self.into_stream().collect().await,
        }
    }

    /// This response with its body read in full (a streamed body is read
    /// here, bounded by the idle limit only). Not generic: compiled once.
    async fn read_all(mut self) -> Result<Self, Error> {
        if let ResponseBody::Streaming(_) = self.body {
            let streaming = Response {
                operation: self.operation,
                status: self.status,
                headers: HeaderMap::new(),
                body: std::mem::replace(&mut self.body, ResponseBody::Buffered(Bytes::new())),
                redactor: None,
                idle: self.idle,
                started: self.started,
                permit: self.permit.take(),
            };
            self.body = ResponseBody::Buffered(streaming.into_stream().collect().await?);
        }
        Ok(self)
    }

    /// Decode the JSON body into `T`, reporting the failing field path.
    pub async fn json<T: DeserializeOwned>(self) -> Result<T, Error> {
        self.read_all().await?.into_json()
    }

    /// The body as UTF-8 text.
    pub async fn text(self) -> Result<String, Error> {
        self.read_all().await?.into_text()
    }

    /// The body a request builder's `send` read before decoding; an error
    /// naming the fix for a body that streams instead.
    fn read_body(&self) -> Result<&Bytes, Error> {
        match &self.body {
            ResponseBody::Buffered(b) => Ok(b),
            ResponseBody::Streaming(_) => Err(Error::Decode(Box::new(DecodeError {
                operation: self.operation,
                status: self.status,
                content_type: self.content_type(),
                path: String::new(),
                snippet: String::new(),
                message: "the body streams and was not read: use `json().await`, `text().await` or `into_stream()`"
                    .to_owned(),
            }))),
        }
    }

    /// Decode the JSON body, already read, into `T`, reporting the failing
    /// field path; what a request builder's `send` runs. A body that streams
    /// (an operation answering with a download) is an error here: read it
    /// with [`json`](Self::json) instead.
    pub fn into_json<T: DeserializeOwned>(self) -> Result<T, Error> {
        let body = self.read_body()?;
        decode_slice(body).map_err(|failure| {
            let e = decode_error(self.operation, self.status, self.content_type(), body, failure);
            Self::scrub_decode(self.redactor.as_ref(), e, body)
        })
    }

    /// The body, already read, as UTF-8 text; what a request builder's `send`
    /// runs. A body that streams is an error here: read it with [`text`](Self::text).
    pub fn into_text(self) -> Result<String, Error> {
        let body = self.read_body()?;
        let text = std::str::from_utf8(body).map(str::to_owned).map_err(|e| {
            Error::Decode(Box::new(DecodeError {
                operation: self.operation,
                status: self.status,
                content_type: self.content_type(),
                path: String::new(),
                snippet: snippet(body, SNIPPET),
                message: format!("the body is not UTF-8 text ({e})"),
            }))
        });
        text.map_err(|e| Self::scrub_decode(self.redactor.as_ref(), e, body))
    }

    /// The body as a stream of chunks, in constant memory. A pause longer
    /// than the idle limit (see [`Timeouts::idle`](crate::Timeouts::idle))
    /// ends the stream with [`Error::Timeout`] (`limit: "idle"`).
    #[must_use]
    pub fn into_stream(self) -> ByteStream {
        let operation = self.operation;
        let inner = match self.body {
            ResponseBody::Buffered(b) => futures_util::stream::once(async move { Ok(b) }).boxed(),
            ResponseBody::Streaming(r) => {
                let (idle, started) = (self.idle, self.started);
                // The permit rides along: the connection is busy until the body is done.
                let state = (r.bytes_stream(), false, self.permit);
                futures_util::stream::unfold(state, move |(mut chunks, done, permit)| async move {
                    if done {
                        return None;
                    }
                    match within(idle, chunks.next()).await {
                        Some(Some(Ok(b))) => Some((Ok(b), (chunks, false, permit))),
                        Some(Some(Err(e))) => {
                            let e = match transport_error(operation, e) {
                                Error::Timeout {
                                    operation,
                                    limit,
                                    attempts,
                                    ..
                                } => Error::Timeout {
                                    operation,
                                    limit,
                                    elapsed: started.elapsed(),
                                    attempts,
                                },
                                e => e,
                            };
                            Some((Err(e), (chunks, true, None)))
                        }
                        Some(None) => None,
                        None => {
                            let e = Error::Timeout {
                                operation,
                                limit: "idle",
                                elapsed: started.elapsed(),
                                attempts: None,
                            };
                            Some((Err(e), (chunks, true, None)))
                        }
                    }
                })
                .boxed()
            }
        };
        ByteStream { operation, inner }
    }
}

/// Decode a JSON body; shared by [`Response::json`] and the paginators.
pub fn decode_json<T: DeserializeOwned>(
    operation: &'static str,
    status: StatusCode,
    content_type: Option<String>,
    body: &[u8],
) -> Result<T, Error> {
    decode_slice(body).map_err(|failure| decode_error(operation, status, content_type, body, failure))
}

fn content_type_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Why a body did not decode.
enum JsonFailure {
    /// The value did not decode; serde_json's error says where it stopped.
    Value(serde_json::Error),
    /// The value decoded, but more than whitespace follows it.
    Trailing(serde_json::Error),
}

/// The one part of decoding that is generic over `T`: each response type
/// compiles one serde_json decoder and nothing more. Anything but whitespace
/// after the value (an HTML tail, a second document) fails.
fn decode_slice<T: DeserializeOwned>(body: &[u8]) -> Result<T, JsonFailure> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = T::deserialize(&mut de).map_err(JsonFailure::Value)?;
    de.end().map_err(JsonFailure::Trailing)?;
    Ok(value)
}

/// Decode part of an answer already parsed (a listing's items at `pointer`)
/// into `T`, through the same decoder as a body; the error's path starts
/// with the part's place in the answer (`data[3].id`).
pub(crate) fn decode_part<T: DeserializeOwned>(
    operation: &'static str,
    status: StatusCode,
    pointer: &str,
    part: &serde_json::Value,
) -> Result<T, Error> {
    // A `Value` always serialises; the bytes are JSON the decoder reads back.
    let bytes = serde_json::to_vec(part).unwrap_or_default();
    decode_slice(&bytes).map_err(|failure| part_error(operation, status, pointer, &bytes, failure))
}

/// [`decode_error`] for a part: the path joined to the part's place, no
/// snippet and no position (both would be of the re-encoded part, not of
/// the body the server sent).
#[cold]
#[inline(never)]
fn part_error(operation: &'static str, status: StatusCode, pointer: &str, bytes: &[u8], failure: JsonFailure) -> Error {
    let mut error = decode_error(operation, status, None, bytes, failure);
    if let Error::Decode(d) = &mut error {
        let prefix = pointer.trim_start_matches('/').replace('/', ".");
        d.path = match (prefix.is_empty(), d.path.as_str()) {
            (true, _) => std::mem::take(&mut d.path),
            (false, "." | "") => prefix,
            (false, p) if p.starts_with('[') => format!("{prefix}{p}"),
            (false, p) => format!("{prefix}.{p}"),
        };
        // serde_json ends every message about a slice with " at line L column C".
        if let Some((message, _)) = d.message.rsplit_once(" at line ") {
            d.message = message.to_owned();
        }
        d.snippet.clear();
    }
    error
}

/// The decode error for a failure, with the failing field's path read off
/// the body where serde_json stopped (see [`crate::json_path`]).
#[cold]
#[inline(never)]
fn decode_error(
    operation: &'static str,
    status: StatusCode,
    content_type: Option<String>,
    body: &[u8],
    failure: JsonFailure,
) -> Error {
    let (path, message) = match failure {
        JsonFailure::Trailing(e) => (String::new(), format!("trailing data after the JSON value ({e})")),
        JsonFailure::Value(_) if body.iter().all(u8::is_ascii_whitespace) => {
            (".".to_owned(), "the body is empty, but JSON was expected".to_owned())
        }
        JsonFailure::Value(e) => (json_path::path_at(body, json_path::stop_of(body, &e)), e.to_string()),
    };
    Error::Decode(Box::new(DecodeError {
        operation,
        status,
        content_type,
        path,
        snippet: snippet(body, SNIPPET),
        message,
    }))
}

/// How much of a body a decode error quotes.
const SNIPPET: usize = 120;

/// A downloaded body as a stream of byte chunks.
pub struct ByteStream {
    operation: &'static str,
    inner: futures_util::stream::BoxStream<'static, Result<Bytes, Error>>,
}

impl std::fmt::Debug for ByteStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ByteStream")
    }
}

impl Stream for ByteStream {
    type Item = Result<Bytes, Error>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl ByteStream {
    /// Write the whole stream to `path`, chunk by chunk; returns the byte count.
    /// The file is written under a temporary name and renamed at the end, so
    /// a failed download never leaves a partial file at `path`.
    pub async fn write_to_file(mut self, path: impl AsRef<Path>) -> Result<u64, Error> {
        let path = path.as_ref();
        let tmp = path.with_extension(match path.extension() {
            Some(ext) => format!("{}.part", ext.to_string_lossy()),
            None => "part".to_owned(),
        });
        let operation = self.operation;
        let io = |what: &str, source| Error::Io {
            context: format!("{operation}: {what} {}", path.display()),
            source,
        };
        let mut file = tokio::fs::File::create(&tmp).await.map_err(|e| io("creating", e))?;
        let mut written = 0u64;
        let result: Result<(), Error> = async {
            while let Some(chunk) = self.next().await {
                let chunk = chunk?;
                file.write_all(&chunk).await.map_err(|e| io("writing", e))?;
                written += chunk.len() as u64;
            }
            file.flush().await.map_err(|e| io("writing", e))?;
            Ok(())
        }
        .await;
        drop(file);
        match result {
            Ok(()) => {
                tokio::fs::rename(&tmp, path)
                    .await
                    .map_err(|e| io("renaming into", e))?;
                Ok(written)
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                Err(e)
            }
        }
    }

    /// Collect the whole stream in memory.
    pub async fn collect(mut self) -> Result<Bytes, Error> {
        let mut buf = bytes::BytesMut::new();
        while let Some(chunk) = self.next().await {
            buf.extend_from_slice(&chunk?);
        }
        Ok(buf.freeze())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part_failure(pointer: &str, part: serde_json::Value) -> DecodeError {
        match decode_part::<Vec<Item>>("op", StatusCode::OK, pointer, &part) {
            Err(Error::Decode(d)) => *d,
            other => panic!("{other:?}"),
        }
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Item {
        id: u64,
    }

    #[test]
    fn a_listing_item_that_does_not_decode_is_named_by_its_place_in_the_answer() {
        let items = serde_json::json!([{"id": 1}, {"id": "seven"}]);
        let d = part_failure("/data", items.clone());
        assert_eq!(d.path, "data[1].id");
        assert_eq!(d.message, "invalid type: string \"seven\", expected u64");
        assert_eq!((d.snippet.as_str(), d.content_type), ("", None));
        assert_eq!(part_failure("/meta/items", items.clone()).path, "meta.items[1].id");
        assert_eq!(part_failure("", items).path, "[1].id");
        // The items as a whole, and a missing field: the place of the value.
        assert_eq!(part_failure("/data", serde_json::json!({"id": 1})).path, "data");
        let d = part_failure("/data", serde_json::json!([{"id": 1}, {}]));
        assert_eq!((d.path.as_str(), d.message.as_str()), ("data[1]", "missing field `id`"));
    }

    #[test]
    fn only_the_position_serde_json_appends_is_cut_from_the_message() {
        let d = part_failure("/d", serde_json::json!([{"id": 1, "x": 0}, {"id": "at line 3"}]));
        assert_eq!(d.path, "d[1].id");
        assert_eq!(d.message, "invalid type: string \"at line 3\", expected u64");
    }
}
