//! `src/lib.rs` of a client crate: the client, its builder and one type per group.

use proc_macro2::TokenStream;
use quote::quote;

use super::{arg_type, builder, docs, groups, ident, required_inputs, rt, used, Scope, Uses};
use crate::ir::{self, Api, ModelKind, Operation, Scheme, Ty};
use crate::names;

pub(crate) fn emit_lib(api: &Api) -> TokenStream {
    let uses = Uses::start();
    let client = client_items(api);
    let builder = builder_items(api);
    let (accessors, defs): (Vec<_>, Vec<_>) = groups(api)
        .into_iter()
        .map(|(g, ops)| group_items(api, &g, &ops))
        .unzip();
    let reexports = reexports(api);
    // `lib.rs` declares `models` and re-exports these runtime items by name.
    let uses = uses.finish(&[
        "crate::models",
        "snapsdk_runtime::FilePart",
        "snapsdk_runtime::NaiveDate",
        "snapsdk_runtime::Alternatives",
        "snapsdk_runtime::Timestamp",
        "snapsdk_runtime::Interceptor",
    ]);
    let kit_doc = kit_doc(api);
    quote! {
        #![doc = include_str!("../README.md")]
        #![forbid(unsafe_code)]
        #![cfg_attr(docsrs, feature(doc_cfg))]

        #![cfg_attr(feature = "test-util", doc = #kit_doc)]

        #[cfg(feature = "test-util")]
        #[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
        pub mod mock;
        pub mod models;
        pub mod operations;

        #reexports
        #uses

        /// `Result` with this crate's [`Error`].
        pub type Result<T, E = Error> = std::result::Result<T, E>;

        #client
        impl Client {
            #(#accessors)*
        }

        #builder
        #(#defs)*
    }
}

/// What the crate re-exports: its models, the runtime items its API names, and the crates it is built on.
fn reexports(api: &Api) -> TokenStream {
    let uses_date = api
        .models
        .iter()
        .any(|m| matches!(&m.kind, ModelKind::Object { fields, .. } if fields.iter().any(|f| f.ty == Ty::Date)))
        || api
            .operations
            .iter()
            .any(|o| super::all_inputs(o).iter().any(|i| *i.ty == Ty::Date));
    let models_use = (!api.models.is_empty()).then(|| {
        quote!(
            pub use models::*;
        )
    });
    let date = uses_date.then(|| {
        quote!(
            pub use snapsdk_runtime::NaiveDate;
        )
    });
    let file = crate::emit::uses_multipart(api).then(|| {
        quote!(
            pub use snapsdk_runtime::FilePart;
        )
    });
    quote! {
        #models_use
        pub use snapsdk_runtime::{
            http_client_builder, Alternatives, ApiError, ByteStream, DecodeError, Error, Paginator, RateLimit, RequestOptions, Response,
            RetryConfig, StatusCode, Timeouts, Timestamp,
        };
        #file
        #date
        /// Extending a call: an [`Interceptor`] (set with [`ClientBuilder::interceptor`]) sees each
        /// attempt's request ([`AttemptRequest`], without the credentials), each answer
        /// ([`AttemptResponse`]) and each [`RetryDecision`]; a hook's error ([`HookError`]) ends the call.
        pub use snapsdk_runtime::{AttemptRequest, AttemptResponse, HeaderRefused, HookError, Interceptor, RetryDecision};
        /// The serde_json version this crate is built on: free-form answers are [`serde_json::Value`]s.
        pub use serde_json;
    }
}

/// `VENDOR` and the `Client` type with its own methods (the group accessors come separately).
fn client_items(api: &Api) -> TokenStream {
    let v = &api.vendor;
    let (name, crate_name, base_url) = (&v.name, &v.crate_name, &v.base_url);
    let rate_limit = match &v.rate_limit {
        Some(r) => {
            let (n, s) = (r.requests, r.per_seconds as u64);
            let duration = used("std::time::Duration");
            quote!(Some(RateLimit { requests: #n, period: #duration::from_secs(#s) }))
        }
        None => quote!(None),
    };
    let vendor_info = rt("VendorInfo");
    let default_scheme = v
        .schemes
        .iter()
        .find(|s| v.default_auth.first() == Some(&s.id))
        .map(|s| names::snake(&s.id))
        .unwrap_or_default();
    let example_doc = format!(" Start here: `Client::builder().{default_scheme}(..).build()?`.");
    quote! {
        static VENDOR: #vendor_info = #vendor_info {
            name: #name,
            crate_name: #crate_name,
            crate_version: env!("CARGO_PKG_VERSION"),
            base_url: #base_url,
            rate_limit: #rate_limit,
        };

        /// The API client. Cheap to clone: clones share the connection pool, the rate limiter and any server-requested hold-off.
        #[doc = #example_doc]
        #[derive(Debug, Clone)]
        pub struct Client {
            inner: snapsdk_runtime::Client,
        }

        impl Client {
            /// A builder with the vendor's defaults: its base URL, its documented rate limit, and the runtime's retry and timeout defaults.
            pub fn builder() -> ClientBuilder {
                ClientBuilder { inner: snapsdk_runtime::ClientBuilder::new(&VENDOR) }
            }

            /// The base URL requests go to.
            pub fn base_url(&self) -> &str {
                self.inner.base_url()
            }

            /// Lift a hold-off a server's `Retry-After` put on this client and its clones.
            pub fn clear_hold_off(&self) {
                self.inner.clear_hold_off()
            }
        }
    }
}

/// The generated `ClientBuilder`: one method per auth scheme, then the forwarded options of [`builder::OPTIONS`].
fn builder_items(api: &Api) -> TokenStream {
    let schemes = api.vendor.schemes.iter().map(scheme_method);
    let options = builder::OPTIONS.iter().map(|o| {
        let name = ident(o.name);
        // A model named `Into` (glob-imported here) shadows the prelude's.
        let shadowed = api.models.iter().any(|m| m.name == "Into");
        let param = if shadowed {
            o.param.replace("impl Into<", "impl std::convert::Into<")
        } else {
            o.param.to_owned()
        };
        let param: syn::FnArg = syn::parse_str(&param).expect("builder table parameters parse");
        let arg = ident(o.param.split(':').next().unwrap_or_default().trim());
        for u in o.uses {
            used(u);
        }
        let doc = docs(o.doc.iter().copied());
        let cfg = o
            .feature
            .map(|f| quote!(#[cfg(feature = #f)] #[cfg_attr(docsrs, doc(cfg(feature = #f)))]));
        quote! {
            #doc
            #cfg
            pub fn #name(self, #param) -> Self {
                Self { inner: self.inner.#name(#arg) }
            }
        }
    });
    quote! {
        /// Configures a [`Client`]: credentials, base URL, timeouts, retries and rate limit.
        #[derive(Debug)]
        #[must_use]
        pub struct ClientBuilder {
            inner: snapsdk_runtime::ClientBuilder,
        }

        impl ClientBuilder {
            #(#schemes)*
            #(#options)*

            /// Build the client; fails on an unusable credential or base URL.
            pub fn build(self) -> Result<Client> {
                Ok(Client { inner: self.inner.build()? })
            }
        }
    }
}

/// The builder method that sets one auth scheme's credential.
fn scheme_method(s: &Scheme) -> TokenStream {
    let id = &s.id;
    let m = ident(&names::snake(&s.id));
    let credentials = rt("Credentials");
    let (params, value, refusal) = match s.kind {
        ir::AuthKind::BasicKey => {
            let pw = s.password.clone().unwrap_or_default();
            (quote!(key: impl AsRef<str>), quote!(#credentials::basic(#id, key.as_ref(), #pw)), "A key that cannot be sent (empty, with a `:`, a newline or surrounding whitespace) makes `build()` fail.")
        }
        ir::AuthKind::BasicLogin => (
            quote!(username: impl AsRef<str>, password: impl AsRef<str>),
            quote!(#credentials::basic(#id, username.as_ref(), password.as_ref())),
            "An empty username, a username with `:`, or either part with a newline, another control character or surrounding whitespace makes `build()` fail; the password may be empty.",
        ),
        ir::AuthKind::Bearer => (quote!(key: impl AsRef<str>), quote!(#credentials::bearer(#id, key.as_ref())), "A token that cannot be sent (empty, or with a newline) makes `build()` fail."),
        ir::AuthKind::Header => {
            let h = s.header.clone().unwrap_or_default();
            (quote!(key: impl AsRef<str>), quote!(#credentials::header(#id, #h, key.as_ref())), "A key that cannot be sent (empty, or with a newline) makes `build()` fail.")
        }
    };
    let doc = docs([s.description.as_str(), "", refusal]);
    quote! {
        #doc
        pub fn #m(self, #params) -> Self {
            Self { inner: self.inner.credentials(#value) }
        }
    }
}

/// A group's accessor on `Client`, and its type with one method per operation.
fn group_items(api: &Api, group: &str, ops: &[&Operation]) -> (TokenStream, TokenStream) {
    let gs = super::group_struct(group);
    let gm = ident(&names::snake(group));
    let gdoc = format!(" Operations of the `{group}` group.");
    let accessor_doc = format!(" The `{group}` operations.");
    let methods = ops.iter().map(|op| group_method(api, op));
    let accessor = quote! {
        #[doc = #accessor_doc]
        pub fn #gm(&self) -> #gs<'_> {
            #gs { client: self }
        }
    };
    let def = quote! {
        #[doc = #gdoc]
        #[derive(Debug, Clone, Copy)]
        pub struct #gs<'a> {
            client: &'a Client,
        }

        impl #gs<'_> {
            #(#methods)*
        }
    };
    (accessor, def)
}

/// `client.group().method(args)`: the operation's full docs, and its request builder.
fn group_method(api: &Api, op: &Operation) -> TokenStream {
    let b = super::builder_struct(op);
    let m = ident(&names::method(&op.group, &op.id));
    let req = required_inputs(op);
    let params = req.iter().map(|i| {
        let n = ident(i.rust);
        let (t, _) = arg_type(api, i.ty, Scope::Elsewhere);
        quote!(#n: #t)
    });
    let args = req.iter().map(|i| {
        let n = ident(i.rust);
        let (_, conv) = arg_type(api, i.ty, Scope::Elsewhere);
        quote!(#n #conv)
    });
    let d = docs(
        super::linked(api, super::op_doc_lines(api, op))
            .iter()
            .map(String::as_str),
    );
    // A group method takes each required input as an argument; a long list is the spec's choice.
    let many = (req.len() > 6).then(|| quote!(#[allow(clippy::too_many_arguments)]));
    quote! {
        #d
        #many
        pub fn #m(&self, #(#params),*) -> operations::#b {
            operations::#b::new(self.client.inner.clone(), #(#args),*)
        }
    }
}

/// The crate docs' "Testing your code" section (with the `test-util` feature):
/// a test written with the kit, as a doctest.
fn kit_doc(api: &Api) -> String {
    let krate = names::snake(&api.vendor.crate_name);
    let example = crate::emit::kittest::doc_example(api);
    format!(
        r#"
# Testing your code

With the `test-util` feature (in `[dev-dependencies]`), [`mock::Mock`] answers this crate's
operations in process, typed by each operation's own output, and records what was sent: no
server, no socket, no port. Errors a test needs are one line: [`Error::api`],
[`Error::rate_limited`], [`Error::timeout`], [`ApiError::new`].

```rust
use {krate}::mock::{{Answer, Mock, Reply}};

# #[tokio::main(flavor = "current_thread")]
# async fn main() -> Result<(), {krate}::Error> {{
{example}# Ok(())
# }}
```
"#
    )
}
