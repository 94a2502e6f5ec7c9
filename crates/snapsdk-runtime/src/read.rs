//! Reading response bodies under the idle limit: a success body whole (up
//! to a cap), an error body (up to a cap, keeping what arrived if it breaks
//! off), and any one piece of a body ([`within`]).

use std::time::Duration;

use bytes::{Bytes, BytesMut};

use crate::error::{transport_error, Error};

/// `fut`'s output, or `None` if it takes longer than `limit`. A future that
/// is ready at once (a body chunk already buffered) arms no timer.
pub(crate) async fn within<F: std::future::Future>(limit: Duration, fut: F) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    if let std::task::Poll::Ready(out) = std::future::poll_fn(|cx| std::task::Poll::Ready(fut.as_mut().poll(cx))).await
    {
        return Some(out);
    }
    tokio::time::timeout(limit, fut).await.ok()
}

/// Read an error body, at most `limit` bytes of it, and give up on a pause
/// longer than `idle`. A transfer that breaks or stalls keeps what arrived,
/// with the error.
pub(crate) async fn read_error_body(
    operation: &'static str,
    mut resp: reqwest::Response,
    limit: usize,
    idle: Duration,
) -> (Bytes, Option<Error>) {
    let mut buf = BytesMut::new();
    loop {
        match within(idle, resp.chunk()).await {
            Some(Ok(Some(chunk))) => {
                let room = limit.saturating_sub(buf.len());
                buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if buf.len() >= limit {
                    return (buf.freeze(), None);
                }
            }
            Some(Ok(None)) => return (buf.freeze(), None),
            Some(Err(e)) => return (buf.freeze(), Some(transport_error(operation, e))),
            None => {
                let e = Error::Timeout {
                    operation,
                    limit: "idle",
                    elapsed: idle,
                    attempts: None,
                };
                return (buf.freeze(), Some(e));
            }
        }
    }
}

/// Read a success body whole, refusing one larger than `cap` (by its
/// `Content-Length` before reading, or as it arrives) and one that pauses
/// longer than `idle`.
pub(crate) async fn read_success_body(
    operation: &'static str,
    mut resp: reqwest::Response,
    cap: u64,
    idle: Duration,
) -> Result<Bytes, Error> {
    let too_large = |length| Error::BodyTooLarge {
        operation,
        limit: cap,
        length,
    };
    if let Some(len) = resp.content_length() {
        if len > cap {
            return Err(too_large(Some(len)));
        }
    }
    // Most bodies arrive in one chunk: keep it without copying.
    let mut first: Option<Bytes> = None;
    let mut buf = BytesMut::new();
    let mut total = 0u64;
    loop {
        let chunk = match within(idle, resp.chunk()).await {
            Some(Ok(Some(chunk))) => chunk,
            Some(Ok(None)) => break,
            Some(Err(e)) => return Err(transport_error(operation, e)),
            None => {
                return Err(Error::Timeout {
                    operation,
                    limit: "idle",
                    elapsed: idle,
                    attempts: None,
                })
            }
        };
        total += chunk.len() as u64;
        if total > cap {
            return Err(too_large(None));
        }
        match first.take() {
            None if buf.is_empty() => first = Some(chunk),
            None => buf.extend_from_slice(&chunk),
            Some(f) => {
                buf.reserve(resp.content_length().map_or(f.len() + chunk.len(), |n| n as usize));
                buf.extend_from_slice(&f);
                buf.extend_from_slice(&chunk);
            }
        }
    }
    Ok(first.unwrap_or_else(|| buf.freeze()))
}
