//! What every generated request builder shares: `options`, `send_raw`, `send`
//! and `.await`, written once here instead of once per operation.
//!
//! A generated builder has the field `rt_call: Call` (the client and the
//! per-call options) and a method `fn request(self) -> Result<(Call, Request)>`
//! that assembles the call; [`request_builder!`](crate::request_builder) adds
//! the rest.

use std::future::Future;
use std::pin::Pin;

use http::Method;

use crate::{AuthRequirement, Client, Extras, OperationInfo, Request, RequestOptions, Response, Result};

/// The future a request builder's `.await` runs: the call, then decoding.
pub type SendFuture<T> = Pin<Box<dyn Future<Output = Result<T>> + Send>>;

/// Adds `options`, `send_raw`, `send` and `IntoFuture` to a generated request builder.
///
/// `request_builder!(GetThing, |response| -> Thing { response.json().await })`
/// reads: `GetThing` answers with a `Thing`, decoded from the raw `response`
/// by the block (which returns a `Result<Thing>`). The arguments are written
/// as a closure so that `rustfmt` formats the call like any other.
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
            pub async fn send_raw(self) -> $crate::Result<$crate::Response> {
                let (call, request) = self.request()?;
                call.execute(request).await
            }

            /// Send the request and decode the answer.
            pub async fn send(self) -> $crate::Result<$out> {
                let $response = self.send_raw().await?;
                $decode
            }
        }

        /// `.await` sends the request, like [`send`](Self::send).
        impl ::std::future::IntoFuture for $builder {
            type Output = $crate::Result<$out>;
            type IntoFuture = $crate::SendFuture<$out>;

            fn into_future(self) -> Self::IntoFuture {
                ::std::boxed::Box::pin(self.send())
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
    pub async fn execute(self, mut request: Request) -> Result<Response> {
        request.options = self.options;
        request.extras.headers.extend(self.extras.headers);
        request.extras.query.extend(self.extras.query);
        self.client.execute(request).await
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
