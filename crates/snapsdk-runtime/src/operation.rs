//! What every generated request builder shares: `options`, `send_raw`, `send`
//! and `.await`, written once here instead of once per operation.
//!
//! A generated builder has the field `rt_call: Call` (the client and the
//! per-call options) and a method `fn request(self) -> Result<(Call, Request)>`
//! that assembles the call; [`request_builder!`](crate::request_builder) adds
//! the rest.
//!
//! What it adds costs little to compile per operation: the call itself (retries,
//! limits, tracing, the body read) is one future compiled once here for every
//! operation ([`RawFuture`]), and an operation adds only its decoding step, a
//! plain function from the read [`Response`] to its answer, run by
//! [`SendFuture`] (generic over the answer type only, so operations with the
//! same answer share it).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::Method;

use crate::{AuthRequirement, Client, Extras, OperationInfo, Request, RequestOptions, Response, Result};

/// The future of a request builder's `send_raw`: the call, with its retries,
/// limits and tracing, and (unless the operation streams) the body read.
///
/// One type for every operation: the state machine is compiled once, in the runtime.
#[must_use = "a request does nothing until it is awaited"]
pub struct RawFuture(Pin<Box<dyn Future<Output = Result<Response>> + Send>>);

impl RawFuture {
    /// The call `parts` describes (what a builder's `request()` returned); an
    /// error in assembling it is the future's answer, without sending anything.
    ///
    /// Never inlined: the call's state machine (and everything it awaits) is
    /// then compiled here, once, and not again in every crate that sends.
    /// The call is boxed once, by the client, and not wrapped again here.
    #[inline(never)]
    pub fn new(parts: Result<(Call, Request)>) -> Self {
        match parts {
            Ok((call, request)) => RawFuture(call.start(request)),
            Err(e) => RawFuture(Box::pin(std::future::ready(Err(e)))),
        }
    }
}

impl Future for RawFuture {
    type Output = Result<Response>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.as_mut().poll(cx)
    }
}

impl fmt::Debug for RawFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RawFuture")
    }
}

/// The future a request builder's `send` and `.await` run: the call
/// ([`RawFuture`]), then the operation's decoding of the response into a `T`.
#[must_use = "a request does nothing until it is awaited"]
pub struct SendFuture<T> {
    raw: RawFuture,
    decode: fn(Response) -> Result<T>,
}

impl<T> SendFuture<T> {
    /// `raw`'s response, decoded by `decode` (for instance [`Response::into_json`]).
    pub fn new(raw: RawFuture, decode: fn(Response) -> Result<T>) -> Self {
        SendFuture { raw, decode }
    }
}

impl<T> Future for SendFuture<T> {
    type Output = Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match Pin::new(&mut self.raw).poll(cx) {
            Poll::Ready(Ok(response)) => Poll::Ready((self.decode)(response)),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> fmt::Debug for SendFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendFuture")
    }
}

/// Adds `options`, `send_raw`, `send` and `IntoFuture` to a generated request builder.
///
/// `request_builder!(GetThing, |response| -> Thing { response.into_json() })`
/// reads: `GetThing` answers with a `Thing`, decoded from the read `response`
/// by the block (which returns a `Result<Thing>` at once: the body is already
/// read, or streams). The arguments are written as a closure so that `rustfmt`
/// formats the call like any other; the closure captures nothing and becomes
/// a plain function.
///
/// `send`, `send_raw` and `into_future` are `#[inline]`, as the generated
/// `request` is: an operation's code (with serde's decoder for its answer) is
/// compiled by the crate that calls it, so an application compiles only the
/// operations it uses, and the client crate itself almost nothing.
#[macro_export]
macro_rules! request_builder {
    ($builder:ident, |$response:ident| -> $out:ty $decode:block) => {
        impl $builder {
            /// Override retries and timeouts for this call only.
            pub fn options(mut self, options: $crate::RequestOptions) -> Self {
                self.rt_call.set_options(options);
                self
            }

            // Per-call extras (issue 30): a self-contained block; the runtime
            // checks them when the call starts, before anything is sent.
            /// Send this header on this call only, for a vendor feature the
            /// spec does not describe yet (replacing a header of that name).
            ///
            /// Checked before anything is sent: a name or value that cannot be
            /// sent (CR/LF, a space in the name), the credentials header, `Host`,
            /// `User-Agent`, `Content-Type` and the headers that frame the body
            /// or connection make the call fail with
            /// [`Error::InvalidArgument`]($crate::Error::InvalidArgument).
            pub fn extra_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
                self.rt_call
                    .extras_mut()
                    .headers
                    .push((name.into(), value.into()));
                self
            }

            /// Append this query pair (unencoded: it is encoded like the
            /// operation's own) on this call only. An empty name makes the call
            /// fail before anything is sent.
            pub fn extra_query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
                self.rt_call.extras_mut().query.push((name.into(), value.into()));
                self
            }

            /// Send the request and return the raw success response (status, headers, body).
            #[inline]
            pub fn send_raw(self) -> $crate::RawFuture {
                $crate::RawFuture::new(self.request())
            }

            /// Send the request and decode the answer.
            #[inline]
            pub fn send(self) -> $crate::SendFuture<$out> {
                $crate::SendFuture::new(self.send_raw(), |$response| -> $crate::Result<$out> { $decode })
            }
        }

        /// `.await` sends the request, like [`send`](Self::send).
        impl ::std::future::IntoFuture for $builder {
            type Output = $crate::Result<$out>;
            type IntoFuture = $crate::SendFuture<$out>;

            #[inline]
            fn into_future(self) -> Self::IntoFuture {
                self.send()
            }
        }
    };
}

/// The client a request builder sends through, with the options set on that builder.
#[derive(Debug, Clone)]
pub struct Call {
    client: Client,
    options: RequestOptions,
    extras: Extras,
}

impl Call {
    /// A call through `client`, with the client's own retries and timeouts.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            options: RequestOptions::default(),
            extras: Extras::default(),
        }
    }

    /// This call's extra headers and query pairs (see [`Extras`]).
    pub fn extras_mut(&mut self) -> &mut Extras {
        &mut self.extras
    }

    /// Override retries and timeouts for this call only.
    pub fn set_options(&mut self, options: RequestOptions) {
        self.options = options;
    }

    /// Send `request` with this call's options.
    pub async fn execute(self, request: Request) -> Result<Response> {
        self.start(request).await
    }

    /// `request` with this call's options and extras, as the client's boxed call.
    fn start(self, mut request: Request) -> crate::client::CallFuture {
        request.options = self.options;
        if !self.extras.is_empty() {
            request.extras.headers.extend(self.extras.headers);
            request.extras.query.extend(self.extras.query);
        }
        self.client.start(request)
    }
}

/// `const` constructors, so that a generated crate states each operation's
/// facts in one line: `static LIST: OperationInfo = OperationInfo::get("list", "/things", AUTH);`.
///
/// The method-named constructors retry by the method's meaning (GET, HEAD,
/// PUT and DELETE are idempotent; POST and PATCH are not);
/// [`retryable`](Self::retryable) overrides that where a spec says otherwise.
impl OperationInfo {
    /// Every fact spelled out.
    pub const fn new(
        id: &'static str,
        method: Method,
        path_template: &'static str,
        auth: AuthRequirement,
        retryable: bool,
    ) -> Self {
        Self {
            id,
            method,
            path_template,
            auth,
            retryable,
        }
    }

    /// A GET, retried on transient failures.
    pub const fn get(id: &'static str, path_template: &'static str, auth: AuthRequirement) -> Self {
        Self::new(id, Method::GET, path_template, auth, true)
    }

    /// A HEAD, retried on transient failures.
    pub const fn head(id: &'static str, path_template: &'static str, auth: AuthRequirement) -> Self {
        Self::new(id, Method::HEAD, path_template, auth, true)
    }

    /// A PUT, retried on transient failures.
    pub const fn put(id: &'static str, path_template: &'static str, auth: AuthRequirement) -> Self {
        Self::new(id, Method::PUT, path_template, auth, true)
    }

    /// A DELETE, retried on transient failures.
    pub const fn delete(id: &'static str, path_template: &'static str, auth: AuthRequirement) -> Self {
        Self::new(id, Method::DELETE, path_template, auth, true)
    }

    /// A POST, not retried.
    pub const fn post(id: &'static str, path_template: &'static str, auth: AuthRequirement) -> Self {
        Self::new(id, Method::POST, path_template, auth, false)
    }

    /// A PATCH, not retried.
    pub const fn patch(id: &'static str, path_template: &'static str, auth: AuthRequirement) -> Self {
        Self::new(id, Method::PATCH, path_template, auth, false)
    }

    /// Whether a failed attempt may be retried, against the method's default.
    pub const fn retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static POST_RETRIED: OperationInfo =
        OperationInfo::post("create", "/things", AuthRequirement::None).retryable(true);

    #[test]
    fn constructors_retry_by_the_methods_meaning() {
        let auth = AuthRequirement::Schemes(&["key"]);
        for (info, method, retryable) in [
            (OperationInfo::get("a", "/a", auth), Method::GET, true),
            (OperationInfo::head("a", "/a", auth), Method::HEAD, true),
            (OperationInfo::put("a", "/a", auth), Method::PUT, true),
            (OperationInfo::delete("a", "/a", auth), Method::DELETE, true),
            (OperationInfo::post("a", "/a", auth), Method::POST, false),
            (OperationInfo::patch("a", "/a", auth), Method::PATCH, false),
            (OperationInfo::put("a", "/a", auth).retryable(false), Method::PUT, false),
        ] {
            assert_eq!((info.id, info.path_template, info.auth), ("a", "/a", auth));
            assert_eq!((info.method, info.retryable), (method, retryable));
        }
        assert!(POST_RETRIED.retryable && POST_RETRIED.method == Method::POST);
    }
}
