//! IR → a test-kit test per vendor (`tests/kit.rs`): every operation is
//! answered by the crate's `mock::Mock` with a value of its own output type
//! and with an API error, and the call the kit recorded is compared with
//! what the wire test (`wiretest.rs`) expects on the wire for the same
//! inputs: the same samples, the same expected method, path, query,
//! headers and body, computed from the spec. Then the per-call extras are
//! tried with hostile input, and the obvious HTTP client is built.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::emit::rust::kit;
use crate::emit::wiretest;
use crate::ir::{Api, Auth, BodyEncoding, ContentKind, Operation};
use crate::names;

const TEXT_ANSWER: &str = "a1b2c3d4e5f6g7h8";

/// The test file, and the ids of the operations it cannot call (a required
/// argument without a generic sample; the file then fails, naming them).
pub fn emit(api: &Api) -> TokenStream {
    let krate = format_ident!("{}", names::snake(&api.vendor.crate_name));
    let mut skipped = Vec::new();
    let tests: Vec<TokenStream> = api
        .operations
        .iter()
        .filter_map(|op| {
            let t = op_test(api, op);
            if t.is_none() {
                skipped.push(op.id.clone());
            }
            t
        })
        .collect();
    let skipped_test = (!skipped.is_empty()).then(|| {
        let msg = format!("operations without a kit test (a required argument has no generic sample; add one in xtask/src/emit/wiretest.rs): {}", skipped.join(", "));
        quote! {
            #[test]
            fn every_operation_has_a_kit_test() {
                panic!(#msg);
            }
        }
    });
    let header_doc = format!(
        " {} operations, each answered with its own output type and with an API error; the recorded call is compared with the wire test's expectations.",
        api.operations.len() - skipped.len()
    );
    let extras = extras_tests(api);
    quote! {
        //! The test kit (feature `test-util`): every operation answered in process by
        //! `mock::Mock`, and per-call extras with hostile input.
        #![doc = #header_doc]

        use #krate::mock::{Mock, RecordedBody, TypedRule};
        use #krate::{Error, RetryConfig, StatusCode};

        /// A value of the rule's own type, read from JSON as the vendor sends it.
        #[allow(dead_code)]
        fn typed<T: ::serde::de::DeserializeOwned>(_rule: &TypedRule<'_, T>, json: &str) -> T {
            ::serde_json::from_str(json).expect("the sample decodes as the operation's output type")
        }

        /// The query pairs, sorted.
        fn sorted(mut pairs: Vec<(String, String)>) -> Vec<(String, String)> {
            pairs.sort();
            pairs
        }

        #skipped_test

        #(#tests)*

        #extras
    }
}

/// One operation: a typed answer, then an error rule, on a client built with the wire test's credentials.
fn op_test(api: &Api, op: &Operation) -> Option<TokenStream> {
    let krate = format_ident!("{}", names::snake(&api.vendor.crate_name));
    let test_name = format_ident!("{}", names::op_ident(&op.id));
    let group = format_ident!("{}", names::snake(&op.group));
    let method = format_ident!("{}", names::method(&op.group, &op.id));
    let rule = format_ident!("{}", kit::method_name(op));
    let id = &op.id;
    let http_method = op.method.as_str();
    let c = wiretest::call(api, op, false)?;
    let (args, setters) = (&c.args, &c.setters);
    let (cred_call, expected_auth) = wiretest::credentials(api, op);
    let send = quote!(client.#group().#method(#(#args),*) #(#setters)* .send().await);

    let (answer, check_answer) = answer_and_check(api, op, &rule, &send);

    let auth_check = auth_check(api, op, expected_auth);
    let expected_path = &c.expected_path;
    let query_pairs = c.query.iter().map(|(k, v)| quote!((#k.to_owned(), #v.to_owned())));
    let header_checks = c
        .headers
        .iter()
        .map(|(k, v)| quote!(assert_eq!(call.header(#k), Some(#v), "header parameter");));
    let body_check = body_check(op, &c);
    let doc = format!(" `{} {}`: {}", op.method.as_str(), op.path, op.summary);
    Some(quote! {
        #[doc = #doc]
        #[tokio::test]
        async fn #test_name() {
            let mock = Mock::new();
            let client = #krate::Client::builder() #cred_call .mock(&mock).retry(RetryConfig::disabled()).build().unwrap();
            #answer
            #check_answer
            mock.assert_called(#id, 1);
            let call = mock.last_call().expect("recorded");
            assert_eq!(call.operation, #id);
            assert_eq!(call.method.as_str(), #http_method);
            assert_eq!(call.path, #expected_path, "path");
            assert_eq!(sorted(call.query.clone()), sorted(vec![#(#query_pairs),*]), "query");
            #auth_check
            #(#header_checks)*
            #body_check

            mock.#rule().once().fails_with(404, ::serde_json::json!({"error": "kit: no such thing"}));
            let error = match #send {
                Ok(_) => panic!("an error rule fails the call"),
                Err(e) => e,
            };
            assert!(matches!(error, Error::Api(_)), "{error:?}");
            assert_eq!(error.status(), Some(StatusCode::NOT_FOUND));
            assert_eq!(error.operation(), Some(#id));
            if let Error::Api(api) = &error {
                assert_eq!(api.body_text(), r#"{"error":"kit: no such thing"}"#);
            }
            mock.assert_called(#id, 2);
            mock.verify();
        }
    })
}

/// The typed rule an operation's test adds, and what it checks of the answer.
fn answer_and_check(
    api: &Api,
    op: &Operation,
    rule: &proc_macro2::Ident,
    send: &TokenStream,
) -> (TokenStream, TokenStream) {
    match (op.success.content, &op.success.ty) {
        (ContentKind::Json, ty) => {
            let json = ty
                .as_ref()
                .map(|t| wiretest::response_json(api, t, 0))
                .unwrap_or_else(|| serde_json::json!({"free": "json"}))
                .to_string();
            (
                quote! {
                    let rule = mock.#rule().once();
                    let value = typed(&rule, #json);
                    rule.returns(value.clone());
                },
                quote! {
                    let answer = #send.expect("the kit answers");
                    assert_eq!(::serde_json::to_value(&answer).unwrap(), ::serde_json::to_value(&value).unwrap(), "the typed answer comes back");
                },
            )
        }
        (ContentKind::Text, _) => {
            let json = serde_json::Value::String(TEXT_ANSWER.into()).to_string();
            (
                quote! {
                    let rule = mock.#rule().once();
                    let value = typed(&rule, #json);
                    rule.returns(value);
                },
                quote! {
                    let answer = #send.expect("the kit answers");
                    assert_eq!(answer.to_string(), #TEXT_ANSWER);
                },
            )
        }
        (ContentKind::Binary, _) => (
            quote!(mock.#rule().once().returns(b"\x00binary\xffpayload".to_vec());),
            quote! {
                let answer = #send.expect("the kit answers");
                assert_eq!(&answer.collect().await.unwrap()[..], &b"\x00binary\xffpayload"[..]);
            },
        ),
        (ContentKind::Empty | ContentKind::Undocumented, _) => (
            quote!(mock.#rule().once().returns(());),
            quote!(let () = #send.expect("the kit answers");),
        ),
    }
}

/// What the recorded call's credentials must be: sent (and redacted), or absent for a public operation.
fn auth_check(api: &Api, op: &Operation, expected_auth: Option<(String, String)>) -> TokenStream {
    match (&op.auth, expected_auth) {
        (_, Some((h, _))) => {
            quote!(assert_eq!(call.header(#h), Some("<redacted>"), "credentials sent, and redacted in the record");)
        }
        (Auth::None, None) => {
            let names: Vec<String> = api
                .vendor
                .schemes
                .iter()
                .map(|s| s.header.clone().unwrap_or_else(|| "authorization".into()))
                .collect();
            quote!(for h in [#(#names),*] { assert_eq!(call.header(h), None, "a public operation sends no credentials"); })
        }
        _ => quote!(),
    }
}

/// What the recorded body must be, by the operation's encoding.
fn body_check(op: &Operation, c: &wiretest::Call) -> TokenStream {
    match op.body.as_ref().map(|b| b.encoding) {
        Some(BodyEncoding::Json) => {
            let expected = serde_json::Value::Object(c.body_json.clone()).to_string();
            quote! {
                assert_eq!(call.header("content-type"), Some("application/json"));
                assert_eq!(call.json(), Some(&::serde_json::from_str::<::serde_json::Value>(#expected).unwrap()), "JSON body");
            }
        }
        Some(BodyEncoding::Form) => {
            let pairs = c.form.iter().map(|(k, v)| quote!((#k.to_owned(), #v.to_owned())));
            quote! {
                assert_eq!(call.header("content-type"), Some("application/x-www-form-urlencoded"));
                let RecordedBody::Form(sent) = &call.body else { panic!("a form body: {:?}", call.body) };
                assert_eq!(sorted(sent.clone()), sorted(vec![#(#pairs),*]), "form body");
            }
        }
        Some(BodyEncoding::Query) => {
            let ct = op
                .body
                .as_ref()
                .and_then(|b| b.content_type.clone())
                .unwrap_or_else(|| "application/x-www-form-urlencoded".into());
            quote! {
                assert_eq!(call.header("content-type"), Some(#ct));
                assert_eq!(call.body, RecordedBody::Empty, "fields travel in the query; the body is empty");
            }
        }
        Some(BodyEncoding::Multipart) => {
            let names = &c.parts;
            let file_check = c.has_file.then(|| {
                quote! {
                    let RecordedBody::Multipart(parts) = &call.body else { panic!("a multipart body: {:?}", call.body) };
                    assert!(parts.iter().any(|p| p.file_name.as_deref() == Some("upload.bin") && &p.data[..] == b"file-bytes-\x00\x01"), "file part: {parts:?}");
                }
            });
            quote! {
                assert!(call.header("content-type").unwrap_or_default().starts_with("multipart/form-data; boundary="));
                for name in [#(#names),*] {
                    assert!(call.part(name).is_some(), "multipart part {name}: {:?}", call.body);
                }
                #file_check
            }
        }
        None => quote!(assert_eq!(call.body, RecordedBody::Empty, "no body");),
    }
}

/// The operation the extras tests call: the first one the wire test can call, preferring a GET.
fn extras_op(api: &Api) -> Option<(&Operation, wiretest::Call)> {
    let callable = |op: &&Operation| op.success.content != ContentKind::Binary;
    let gets = api
        .operations
        .iter()
        .filter(callable)
        .filter(|o| o.method == crate::ir::HttpMethod::GET);
    gets.chain(api.operations.iter().filter(callable))
        .find_map(|op| wiretest::call(api, op, true).map(|c| (op, c)))
}

/// What the extras and interceptor tests share: the crate, the operation they
/// call, the client's credentials and the call itself.
struct Probe {
    krate: proc_macro2::Ident,
    id: String,
    cred_call: TokenStream,
    call: TokenStream,
}

/// Per-call extras reach the wire; hostile ones are refused before anything is sent.
/// And the obvious HTTP client builds (the crate no longer offers a `reqwest` that panics).
fn extras_tests(api: &Api) -> TokenStream {
    let krate = format_ident!("{}", names::snake(&api.vendor.crate_name));
    let obvious = obvious_client_test(&krate);
    let Some((op, c)) = extras_op(api) else {
        return obvious;
    };
    let group = format_ident!("{}", names::snake(&op.group));
    let method = format_ident!("{}", names::method(&op.group, &op.id));
    let (args, setters) = (&c.args, &c.setters);
    let probe = Probe {
        krate,
        id: op.id.clone(),
        cred_call: wiretest::credentials(api, op).0,
        call: quote!(client.#group().#method(#(#args),*) #(#setters)*),
    };
    let cred_header = protected_header(api, op);
    let interceptor = interceptor_test(&probe, cred_header.as_deref());
    let extras = extras_wire_tests(&probe, cred_header.as_deref());
    quote! {
        #obvious
        #interceptor
        #extras
    }
}

/// The documented HTTP client builds and a client takes it.
fn obvious_client_test(krate: &proc_macro2::Ident) -> TokenStream {
    quote! {
        /// The documented way to a custom HTTP client: the crate's `http_client_builder()`,
        /// built and handed to the client builder (no TLS provider to choose, no panic).
        #[tokio::test]
        async fn the_obvious_http_client_builds_and_a_client_takes_it() {
            let http = #krate::http_client_builder().expect("the TLS setup loads").build().expect("the documented HTTP client builds");
            #krate::Client::builder().http_client(http).build().expect("a client takes it");
            #krate::Client::builder().http_client_builder(#krate::http_client_builder().expect("the TLS setup loads")).build().expect("and its builder");
            #krate::Client::builder().build().expect("the default client builds");
        }
    }
}

/// The credentials header the test client carries for `op` (that of the scheme the wire
/// test picks); `None` for a vendor without credentials, which has none to protect.
fn protected_header(api: &Api, op: &Operation) -> Option<String> {
    let accepted: Vec<String> = match &op.auth {
        Auth::Schemes(s) => s.clone(),
        Auth::None => api.vendor.default_auth.clone(),
    };
    api.vendor
        .schemes
        .iter()
        .find(|s| accepted.first() == Some(&s.id))
        .map(|s| {
            s.header
                .clone()
                .unwrap_or_else(|| "authorization".into())
                .to_lowercase()
        })
}

/// An interceptor written against the crate alone adds headers, never the credentials.
fn interceptor_test(p: &Probe, cred_header: Option<&str>) -> TokenStream {
    let Probe {
        krate,
        id,
        cred_call,
        call,
    } = p;
    let sneaky = cred_header.map(|_| {
        quote! {
            let sneaky = Mock::new();
            let client = #krate::Client::builder() #cred_call .interceptor(Stamp("sneaky")).mock(&sneaky).retry(RetryConfig::disabled()).build().unwrap();
            let error = match #call.send_raw().await {
                Ok(_) => panic!("the credentials header was set by an interceptor"),
                Err(e) => e,
            };
            assert!(matches!(&error, Error::Interceptor { interceptor, .. } if interceptor == "sneaky"), "{error:?}");
            assert!(sneaky.calls().is_empty(), "nothing was sent: {:?}", sneaky.calls());
        }
    });
    let cred_header = cred_header.unwrap_or("authorization");
    quote! {
        /// An interceptor written against this crate alone (its re-exports): it adds a header to
        /// every attempt; one that tries to set the credentials header ends the call, naming itself.
        #[tokio::test]
        async fn interceptors_add_headers_but_never_the_credentials() {
            struct Stamp(&'static str);
            impl #krate::Interceptor for Stamp {
                fn name(&self) -> &str {
                    self.0
                }
                fn before_attempt(&self, request: &mut #krate::AttemptRequest<'_>) -> Result<(), #krate::HookError> {
                    let name = if self.0 == "sneaky" { #cred_header } else { "x-stamp" };
                    request.insert_header(name, "stamped")?;
                    Ok(())
                }
            }
            let mock = Mock::new();
            mock.server().on(#id).answer(#krate::mock::Answer::status(599));
            let client = #krate::Client::builder() #cred_call .interceptor(Stamp("stamp")).mock(&mock).retry(RetryConfig::disabled()).build().unwrap();
            let _ = #call.send_raw().await;
            assert_eq!(mock.calls_to(#id)[0].header("x-stamp"), Some("stamped"));

            #sneaky
        }
    }
}

/// Extras reach the wire on their call only; hostile ones are refused before sending.
fn extras_wire_tests(p: &Probe, cred_header: Option<&str>) -> TokenStream {
    let Probe {
        krate,
        id,
        cred_call,
        call,
    } = p;
    let cred_hostile = cred_header.map(|h| {
        let upper = h.to_uppercase();
        quote!((#h, "stolen-or-replaced"), (#upper, "stolen-or-replaced"),)
    });
    quote! {
        /// Extra headers and query pairs set on one call reach the wire with it, and only with it.
        #[tokio::test]
        async fn extras_reach_the_wire_on_that_call_only() {
            let mock = Mock::new();
            let client = #krate::Client::builder() #cred_call .mock(&mock).retry(RetryConfig::disabled()).build().unwrap();
            mock.server().on(#id).answer(#krate::mock::Answer::status(599));
            let _ = #call.extra_header("x-beta-feature", "on").extra_query("beta", "1 2&3").send_raw().await;
            let _ = #call.send_raw().await;
            let calls = mock.calls_to(#id);
            assert_eq!(calls.len(), 2);
            assert_eq!(calls[0].header("x-beta-feature"), Some("on"));
            assert_eq!(calls[0].query.last(), Some(&("beta".to_owned(), "1 2&3".to_owned())));
            assert_eq!(calls[1].header("x-beta-feature"), None, "extras are per call");
            assert!(calls[1].query_param("beta").is_none(), "extras are per call");
        }

        /// Header injection, the credentials header, `Host` and the framing headers are refused
        /// with `Error::InvalidArgument` naming the extra, without echoing the value, and nothing is sent.
        #[tokio::test]
        async fn hostile_extras_are_refused_before_anything_is_sent() {
            let mock = Mock::new();
            let client = #krate::Client::builder() #cred_call .mock(&mock).retry(RetryConfig::disabled()).build().unwrap();
            let hostile: &[(&str, &str)] = &[
                ("x-trace", "a\r\nx-injected: 1"),
                ("x-trace", "a\nb"),
                ("x-trace\r\nx-injected", "1"),
                ("x trace", "1"),
                ("", "1"),
                #cred_hostile
                ("Host", "evil.example"),
                ("content-length", "0"),
                ("Transfer-Encoding", "chunked"),
                ("connection", "close"),
                ("upgrade", "h2c"),
                ("content-type", "text/evil"),
                ("user-agent", "not-the-sdk"),
            ];
            for (name, value) in hostile {
                let error = match #call.extra_header(*name, *value).send_raw().await {
                    Ok(_) => panic!("extra header {name:?} was accepted"),
                    Err(e) => e,
                };
                assert!(
                    matches!(&error, Error::InvalidArgument { name: what, .. } if what == "extra header"),
                    "{name:?}: {error:?}"
                );
                assert!(!error.to_string().contains(value), "the value is not echoed: {error}");
            }
            let error = match #call.extra_query("", "1").send_raw().await {
                Ok(_) => panic!("an empty query name was accepted"),
                Err(e) => e,
            };
            assert!(matches!(&error, Error::InvalidArgument { name: what, .. } if what == "extra query"), "{error:?}");
            assert!(mock.calls().is_empty(), "nothing was sent: {:?}", mock.calls());
        }
    }
}

/// The body of the crate docs' kit doctest (see `rust::lib`): a typed answer,
/// an API error, and what was sent, for the README's operation.
pub fn doc_example(api: &Api) -> String {
    let krate = names::snake(&api.vendor.crate_name);
    let json_ops = api
        .operations
        .iter()
        .filter(|o| o.success.content == ContentKind::Json && o.success.ty.is_some());
    let quick = api
        .vendor
        .quick_start
        .iter()
        .filter_map(|id| api.operations.iter().find(|o| &o.id == id))
        .filter(|o| o.success.content == ContentKind::Json && o.success.ty.is_some());
    let chosen = quick.chain(json_ops).find_map(|op| {
        let c = wiretest::call(api, op, true)?;
        let args: Vec<String> = c.args.iter().map(|a| a.to_string()).collect();
        args.iter()
            .all(|a| !a.contains(' ') || a.starts_with('"'))
            .then_some((op, c, args))
    });
    let Some((op, c, args)) = chosen else {
        return "let mock = Mock::new();\nlet _client = mock.client();\nlet _ = (Answer::timeout(), Reply::<()>::Answer(Answer::status(503)));\n".to_owned();
    };
    let ty = crate::emit::rust::kit::answer_type_and_encoder(op)
        .0
        .to_string()
        .replace(' ', "");
    let ty = ty.replace("models::", &format!("{krate}::models::"));
    let json = wiretest::response_json(api, op.success.ty.as_ref().expect("filtered"), 2).to_string();
    let rule = kit::method_name(op);
    let call = format!(
        "client.{}().{}({})",
        names::snake(&op.group),
        names::method(&op.group, &op.id),
        args.join(", ")
    );
    let path = &c.expected_path;
    format!(
        r##"let mock = Mock::new();
// A value of `{id}`'s own output type (here read from JSON as the vendor sends it).
let answer: {ty} = {krate}::serde_json::from_str(r#"{json}"#).unwrap();
mock.{rule}().once().returns(answer.clone());
mock.{rule}().once().fails_with(404, {krate}::serde_json::json!({{"error": "not found"}}));

// The code under test gets a client built with the mock (`mock.client()`, or
// `Client::builder()...mock(&mock)`), and everything else is production code.
let client = mock.client();
let first = {call}.await?;
assert_eq!({krate}::serde_json::to_value(&first).unwrap(), {krate}::serde_json::to_value(&answer).unwrap());
let second = {call}.await.unwrap_err();
assert!(second.is_not_found());

// What was sent, as sent (credentials redacted).
mock.assert_called("{id}", 2);
assert_eq!(mock.last_call().unwrap().path, "{path}");
// A call no rule answers fails loudly; `Answer` and `Reply` cover faults and sequences:
let _ = (Answer::timeout(), Reply::<()>::Answer(Answer::status(503)));
"##,
        id = op.id,
    )
}
