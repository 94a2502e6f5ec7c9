//! Reading response bodies under the idle limit: a success body whole (up
//! to a cap), an error body (up to a cap, keeping what arrived if it breaks
//! off), and any one piece of a body ([`within`]).

use std::time::Duration;

use bytes::{Bytes, BytesMut};

use crate::error::{transport_error, Error};

pin_project_lite::pin_project! {
    /// `fut`'s output, or `None` if it takes longer than `limit` (see [`within`]).
    pub(crate) struct Within<F> {
        #[pin]
        fut: F,
        limit: Duration,
        // Armed when `fut` first waits.
        #[pin]
        timer: Option<tokio::time::Sleep>,
    }
}

/// `fut`'s output, or `None` if it takes longer than `limit`. A future that
/// is ready at once (a body chunk already buffered) arms no timer.
///
/// A plain future rather than an `async fn`: it sits in the state of every
/// body read, so it holds `fut` once and the timer, nothing else.
pub(crate) fn within<F: std::future::Future>(limit: Duration, fut: F) -> Within<F> {
    Within {
        fut,
        limit,
        timer: None,
    }
}

impl<F: std::future::Future> std::future::Future for Within<F> {
    type Output = Option<F::Output>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        use std::task::Poll;
        let mut this = self.project();
        if let Poll::Ready(out) = this.fut.poll(cx) {
            return Poll::Ready(Some(out));
        }
        if this.timer.is_none() {
            this.timer.set(Some(tokio::time::sleep(*this.limit)));
        }
        match this.timer.as_pin_mut().map(|t| t.poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(None),
            _ => Poll::Pending,
        }
    }
}

/// Read an error body, at most `limit` bytes of it, and give up on a pause
/// longer than `idle`. A transfer that breaks or stalls keeps what arrived,
/// with the error.
pub(crate) async fn read_error_body(
    operation: &'static str,
    resp: &mut reqwest::Response,
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
    resp: &mut reqwest::Response,
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
