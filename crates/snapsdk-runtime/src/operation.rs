//! What every generated request builder shares: `options`, `send_raw`, `send`
//! and `.await`, written once here instead of once per operation.
//!
//! A generated builder has the fields `rt_client: Client` and
//! `rt_options: RequestOptions` and a method
//! `fn request(self) -> Result<(Client, Request)>` that assembles the call;
//! [`request_builder!`](crate::request_builder) adds the rest.

use std::future::Future;
use std::pin::Pin;

use crate::Result;

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
                self.rt_options = options;
                self
            }

            /// Send the request and return the raw success response (status, headers, body).
            pub async fn send_raw(self) -> $crate::Result<$crate::Response> {
                let (client, request) = self.request()?;
                client.execute(request).await
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
