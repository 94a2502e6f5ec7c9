//! `src/mock.rs` of a client crate: the typed test kit (feature `test-util`).
//!
//! One method per operation on the crate's `Mock`, named by the operation id
//! (`mock.list_accounts()`), returning the runtime's `TypedRule` typed by
//! what the operation answers: its own output type for JSON and text
//! answers, bytes for a download, `()` for an empty answer. The encoding of
//! that value (status, `Content-Type`, JSON, text or bytes) is the spec's
//! success answer, so the client decodes it as it decodes the vendor's.

use proc_macro2::TokenStream;
use quote::quote;

use super::{docs, ident, type_in, Scope, Uses};
use crate::ir::{Api, AuthKind, ContentKind, Operation};
use crate::names;

/// The key, username and password `Mock::client()` builds its client with.
pub const TEST_KEY: &str = "test-kit-key";
pub const TEST_USER: &str = "test-kit-user";
pub const TEST_PASSWORD: &str = "test-kit-password";

/// Names `Mock` has of its own or through `Deref` to the runtime's
/// `MockServer`: an operation id among them gets `_operation` appended.
pub const RESERVED: &[&str] = &[
    "new",
    "client",
    "server",
    "on",
    "calls",
    "calls_to",
    "last_call",
    "assert_called",
    "problems",
    "verify",
    "skip_verify",
    "default",
    "deref",
    "fmt",
];

/// The `Mock` method of an operation.
pub fn method_name(op: &Operation) -> String {
    let id = names::op_ident(&op.id);
    if RESERVED.contains(&id.as_str()) {
        format!("{id}_operation")
    } else {
        id
    }
}

/// The type a test answers `op` with, and the function that turns it into
/// the spec's success answer.
pub(crate) fn answer_type_and_encoder(op: &Operation) -> (TokenStream, TokenStream) {
    let status = op.success.status;
    match (op.success.content, &op.success.ty) {
        (ContentKind::Json, ty) => {
            let t = ty
                .as_ref()
                .map_or_else(|| quote!(serde_json::Value), |t| type_in(t, Scope::Elsewhere));
            (t.clone(), quote!(|value: #t| Answer::status(#status).with_json(value)))
        }
        (ContentKind::Text, ty) => {
            let t = ty
                .as_ref()
                .map_or_else(|| quote!(String), |t| type_in(t, Scope::Elsewhere));
            let media = op.success.media_type.clone().unwrap_or_else(|| "text/plain".into());
            (
                t.clone(),
                quote!(|value: #t| Answer::status(#status).with_header("content-type", #media).with_body(value.to_string())),
            )
        }
        (ContentKind::Binary, _) => {
            let media = op
                .success
                .media_type
                .clone()
                .unwrap_or_else(|| "application/octet-stream".into());
            (
                quote!(Vec<u8>),
                quote!(|bytes: Vec<u8>| Answer::status(#status).with_header("content-type", #media).with_body(bytes)),
            )
        }
        (ContentKind::Empty | ContentKind::Undocumented, _) => (quote!(()), quote!(|(): ()| Answer::status(#status))),
    }
}

/// The builder call `Mock::client()` sets credentials with: the vendor's default scheme.
pub(crate) fn test_credentials(api: &Api) -> TokenStream {
    let v = &api.vendor;
    let Some(s) = v.schemes.iter().find(|s| v.default_auth.first() == Some(&s.id)) else {
        return quote!();
    };
    let m = ident(&names::snake(&s.id));
    match s.kind {
        AuthKind::BasicLogin => quote!(.#m(#TEST_USER, #TEST_PASSWORD)),
        AuthKind::BasicKey | AuthKind::Bearer | AuthKind::Header => quote!(.#m(#TEST_KEY)),
    }
}

pub(crate) fn emit_mock(api: &Api) -> TokenStream {
    let uses = Uses::start();
    let krate = names::snake(&api.vendor.crate_name);
    let creds = test_credentials(api);
    let methods: Vec<TokenStream> = api.operations.iter().map(|op| op_method(api, op)).collect();
    let uses_models = api.operations.iter().any(|o| o.success.ty.is_some());
    let models = uses_models.then(|| {
        quote!(
            use crate::models;
        )
    });
    let uses = uses.finish(&["crate::models"]);
    let module_doc = module_doc(&krate);
    quote! {
        #![doc = #module_doc]

        #models
        #uses

        pub use snapsdk_runtime::mock::{Answer, Call, MockServer, Part, RecordedBody, Reply, RuleHandle, TypedRule};

        /// An in-process server for this crate's client, with one typed rule per operation.
        ///
        /// It dereferences to the runtime's [`MockServer`]: [`calls`](MockServer::calls),
        /// [`calls_to`](MockServer::calls_to), [`assert_called`](MockServer::assert_called),
        /// [`verify`](MockServer::verify).
        #[derive(Debug, Default)]
        pub struct Mock {
            server: MockServer,
        }

        impl Mock {
            /// A mock with no rules: every call fails (loudly) until one is added.
            #[must_use]
            pub fn new() -> Self {
                Self::default()
            }

            /// The runtime's server, to add an untyped rule (`mock.server().on("id")`).
            #[must_use]
            pub fn server(&self) -> &MockServer {
                &self.server
            }

            /// A client answered by this mock, with test credentials for the vendor's default
            /// auth scheme and otherwise the production settings (retries, timeouts, rate limit).
            /// For other settings, use `Client::builder()...mock(&mock)`.
            #[must_use]
            pub fn client(&self) -> crate::Client {
                crate::Client::builder()
                    #creds
                    .mock(self)
                    .build()
                    .expect("a client with the test kit's credentials builds")
            }

            #(#methods)*
        }

        impl std::ops::Deref for Mock {
            type Target = MockServer;
            fn deref(&self) -> &MockServer {
                &self.server
            }
        }
    }
}

/// The `mock` module's docs.
fn module_doc(krate: &str) -> String {
    format!(
        " The test kit: answer this crate's operations in process, without a server, and read what was sent.

 Build a [`Mock`], add rules (one method per operation, named by its id, typed by what the
 operation answers), then build the client with [`ClientBuilder::mock`](crate::ClientBuilder::mock)
 (or take [`Mock::client`]). Answers go through the same encoding, auth, decoding, retries,
 limits and errors as production; only the bytes on the wire are replaced. Every call is
 recorded ([`MockServer::calls`]: operation, method, path as the spec writes it, query pairs, headers with
 the credentials redacted, body). A call no rule answers fails with an error naming the
 operation and the rules that exist; dropping the `Mock` checks that every rule with a count
 (`once`, `times`, `sequence`) was used that often.

 Needs the crate's `test-util` feature (in `[dev-dependencies]`:
 `{krate} = {{ version = \"..\", features = [\"test-util\"] }}`)."
    )
}

/// `mock.list_accounts()`: a rule for one operation, typed by its answer.
fn op_method(api: &Api, op: &Operation) -> TokenStream {
    let m = ident(&method_name(op));
    let id = &op.id;
    let (ty, encode) = answer_type_and_encoder(op);
    let call = super::call_signature(op);
    let answer = match op.success.content {
        ContentKind::Binary => "its bytes (a `Vec<u8>`)".to_owned(),
        ContentKind::Empty | ContentKind::Undocumented => "`()` (its answer is empty)".to_owned(),
        _ => format!("a value of its output type (`{}`)", ty.to_string().replace(' ', "")),
    };
    let _ = api;
    let d = docs([format!(
        "Rules for `{id}` (`{} {}`, `{call}`): answer it with {answer}, an API error or a fault.",
        op.method.as_str(),
        op.path,
    )
    .as_str()]);
    quote! {
        #d
        pub fn #m(&self) -> TypedRule<'_, #ty> {
            TypedRule::new(self.server.on(#id), #encode)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every spec's operations, as the workspace's specs lower them.
    fn apis() -> Vec<Api> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let mut diags = crate::diag::Diags::default();
        let apis = crate::validate::check_all(&root.join("specs"), root, None, None, &mut diags).unwrap();
        assert!(diags.is_empty(), "{:?}", diags.sorted());
        apis
    }

    #[test]
    fn an_operation_named_like_a_mock_method_gets_a_suffix() {
        let mut api = apis().remove(0);
        let mut op = api.operations.remove(0);
        for name in RESERVED {
            op.id = (*name).to_owned();
            assert_eq!(method_name(&op), format!("{name}_operation"));
        }
        op.id = "list_accounts".into();
        assert_eq!(method_name(&op), "list_accounts");
        op.id = "type".into();
        assert_eq!(method_name(&op), "type_", "a keyword is escaped as everywhere else");
    }

    #[test]
    fn every_operation_of_every_spec_has_its_own_mock_method() {
        for api in apis() {
            let mut names: Vec<String> = api.operations.iter().map(method_name).collect();
            let n = names.len();
            names.sort();
            names.dedup();
            assert_eq!(
                names.len(),
                n,
                "{}: two operations share a mock method",
                api.vendor.name
            );
            assert!(names.iter().all(|m| !RESERVED.contains(&m.as_str())));
        }
    }
}
