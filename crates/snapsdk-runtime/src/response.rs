//! Successful responses: buffered JSON/text/empty, or a byte stream.

use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt;
use http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use tokio::io::AsyncWriteExt;

use crate::auth::Credentials;
use crate::error::{snippet, DecodeError};
use crate::Error;

/// A success answer. Its body is already read unless the operation streams.
#[derive(Debug)]
pub struct Response {
    pub(crate) operation: &'static str,
    status: StatusCode,
    headers: HeaderMap,
    body: ResponseBody,
    /// Scrubs the client's secret from decode errors built from this body.
    pub(crate) redactor: Option<Credentials>,
}

#[derive(Debug)]
pub(crate) enum ResponseBody {
    Buffered(Bytes),
    Streaming(reqwest::Response),
}

impl Response {
    pub(crate) fn new(operation: &'static str, status: StatusCode, headers: HeaderMap, body: ResponseBody) -> Self {
        Response { operation, status, headers, body, redactor: None }
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

    /// The whole body.
    pub async fn bytes(self) -> Result<Bytes, Error> {
        match self.body {
            ResponseBody::Buffered(b) => Ok(b),
            ResponseBody::Streaming(r) => r.bytes().await.map_err(|e| crate::client::transport_error(self.operation, e)),
        }
    }

    /// Decode the JSON body into `T`, reporting the failing field path.
    pub async fn json<T: DeserializeOwned>(mut self) -> Result<T, Error> {
        let (operation, status) = (self.operation, self.status);
        let headers = std::mem::take(&mut self.headers);
        let redactor = self.redactor.take();
        let body = self.bytes().await?;
        decode_json_with(operation, status, || content_type_of(&headers), &body).map_err(|e| Self::scrub(redactor.as_ref(), e))
    }

    /// The body as UTF-8 text.
    pub async fn text(self) -> Result<String, Error> {
        let (operation, status, content_type) = (self.operation, self.status, self.content_type());
        let redactor = self.redactor.clone();
        let body = self.bytes().await?;
        let text = String::from_utf8(body.to_vec()).map_err(|e| {
            Error::Decode(Box::new(DecodeError {
                operation,
                status,
                content_type,
                path: String::new(),
                snippet: snippet(&body, 120),
                message: format!("the body is not UTF-8 text ({e})"),
            }))
        });
        text.map_err(|e| Self::scrub(redactor.as_ref(), e))
    }

    /// The body as a stream of chunks, in constant memory.
    #[must_use]
    pub fn into_stream(self) -> ByteStream {
        let operation = self.operation;
        let inner = match self.body {
            ResponseBody::Buffered(b) => futures_util::stream::once(async move { Ok(b) }).boxed(),
            ResponseBody::Streaming(r) => {
                r.bytes_stream().map(move |c| c.map_err(|e| crate::client::transport_error(operation, e))).boxed()
            }
        };
        ByteStream { inner }
    }
}

/// Decode a JSON body; shared by [`Response::json`] and the paginators.
pub fn decode_json<T: DeserializeOwned>(
    operation: &'static str,
    status: StatusCode,
    content_type: Option<String>,
    body: &[u8],
) -> Result<T, Error> {
    decode_json_with(operation, status, || content_type, body)
}

fn content_type_of(headers: &HeaderMap) -> Option<String> {
    headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// [`decode_json`], building the content type only for an error.
fn decode_json_with<T: DeserializeOwned>(
    operation: &'static str,
    status: StatusCode,
    content_type: impl FnOnce() -> Option<String>,
    body: &[u8],
) -> Result<T, Error> {
    // Decoding is deterministic: try the plain decoder first, and run the
    // path-tracking one (slower) only to explain a failure.
    if let Ok(v) = T::deserialize(&mut serde_json::Deserializer::from_slice(body)) {
        return Ok(v);
    }
    let content_type = content_type();
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let message = if body.iter().all(u8::is_ascii_whitespace) {
            "the body is empty, but JSON was expected".to_owned()
        } else {
            e.inner().to_string()
        };
        Error::Decode(Box::new(DecodeError {
            operation,
            status,
            content_type,
            path: e.path().to_string(),
            snippet: snippet(body, 120),
            message,
        }))
    })
}

/// A downloaded body as a stream of byte chunks.
pub struct ByteStream {
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
        let io = |what: &str, source| Error::Io { context: format!("{what} {}", path.display()), source };
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
                tokio::fs::rename(&tmp, path).await.map_err(|e| io("renaming into", e))?;
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
