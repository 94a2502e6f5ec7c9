//! IR → a wire-conformance test per vendor: every operation is called
//! through the generated client against a loopback mock server, and the
//! request the server saw is compared with what the spec says should be sent.
//!
//! The expected method, path (with its percent-encoding), query pairs, body
//! and credentials are computed here from the spec, independently of the
//! client code, so a generator or runtime bug shows up as a failing test.

use base64::Engine as _;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::{json, Value};

use crate::ir::{Api, Auth, AuthKind, BodyEncoding, ContentKind, ModelKind, Operation, ParamLocation, PathPart, Ty};
use crate::names;

const KEY: &str = "wire-test-key";
const USER: &str = "wire-user";
const PASSWORD: &str = "wire-pass";

/// A sample value: the Rust expression passed to the client, the text it
/// becomes in a path/query/form, and the JSON it becomes in a JSON body.
struct Sample {
    expr: TokenStream,
    text: Vec<String>,
    json: Value,
}

fn model<'a>(api: &'a Api, name: &str) -> Option<&'a crate::ir::Model> {
    api.models.iter().find(|m| m.name == name)
}

/// A sample for an input of type `ty`. `None` for types a test cannot build generically (object models).
/// `plain` strings are `example-<name>`, for code people read; the others
/// test encoding.
fn sample(api: &Api, ty: &Ty, name: &str, plain: bool) -> Option<Sample> {
    let krate = format_ident!("{}", names::snake(&api.vendor.crate_name));
    Some(match ty {
        // Spaces, a slash and non-ASCII: path parameters must still be one segment.
        Ty::String => {
            let s = if plain { format!("example-{}", name.replace('_', "-")) } else { format!("{name} v/1 é") };
            Sample { expr: quote!(#s), text: vec![s.clone()], json: json!(s) }
        }
        Ty::Integer | Ty::LooseInt => Sample { expr: quote!(42), text: vec!["42".into()], json: json!(42) },
        Ty::Number => Sample { expr: quote!(2.5), text: vec!["2.5".into()], json: json!(2.5) },
        Ty::Boolean | Ty::LooseBool => Sample { expr: quote!(true), text: vec!["true".into()], json: json!(true) },
        Ty::Date => Sample {
            expr: quote!(::snapsdk_runtime::NaiveDate::from_ymd_opt(2024, 1, 31).unwrap()),
            text: vec!["2024-01-31".into()],
            json: json!("2024-01-31"),
        },
        Ty::Timestamp => Sample {
            expr: quote!(::snapsdk_runtime::Timestamp::from_unix(1368011747).unwrap()),
            text: vec!["1368011747".into()],
            json: json!(1368011747),
        },
        Ty::Alternatives => Sample { expr: quote!(7), text: vec!["7".into()], json: json!(7) },
        Ty::Json => Sample { expr: quote!(::serde_json::json!({"k": [1, "two"]})), text: vec![], json: json!({"k": [1, "two"]}) },
        Ty::Binary => return None,
        Ty::List(inner) => {
            let s = sample(api, inner, name, plain)?;
            let e = s.expr;
            // Only string-like samples are literals of another type than the element.
            let expr = if matches!(**inner, Ty::String | Ty::Alternatives) { quote!(vec![#e.into()]) } else { quote!(vec![#e]) };
            Sample { expr, text: s.text, json: json!([s.json]) }
        }
        Ty::JsonList(inner) => {
            let s = sample(api, inner, name, plain)?;
            let e = s.expr;
            let expr = quote!([#e]);
            // One value on the wire: the JSON text of the list.
            let text = json!([s.json]).to_string();
            Sample { expr, text: vec![text.clone()], json: json!(text) }
        }
        Ty::Map(_) => return None,
        Ty::Model(m) => {
            let mm = model(api, m)?;
            let mi = format_ident!("{}", m);
            match &mm.kind {
                ModelKind::Enum { values, integer } => {
                    let v = values.first()?;
                    let var = format_ident!("{}", v.rust);
                    let json = if *integer { json!(v.wire.parse::<i64>().ok()?) } else { json!(v.wire) };
                    Sample { expr: quote!(#krate::#mi::#var), text: vec![v.wire.clone()], json }
                }
                ModelKind::Newtype { ty } => {
                    let s = sample(api, ty, name, plain)?;
                    let e = s.expr;
                    Sample { expr: quote!(#krate::#mi::from(#e)), text: s.text, json: s.json }
                }
                ModelKind::OneOf { variants } => {
                    let (vname, vty) = variants.first()?;
                    let s = sample(api, vty, name, plain)?;
                    let e = s.expr;
                    let var = format_ident!("{}", vname);
                    Sample { expr: quote!(#krate::#mi::#var(#e.into())), text: s.text, json: s.json }
                }
                ModelKind::Object { .. } => return None,
            }
        }
    })
}

/// A JSON value of type `ty`, as a server might send it, for decoding.
fn response_json(api: &Api, ty: &Ty, depth: usize) -> Value {
    match ty {
        Ty::String => json!("text"),
        Ty::Integer => json!(42),
        Ty::LooseInt => json!("42"),
        Ty::Number => json!(2.5),
        Ty::Boolean => json!(true),
        Ty::LooseBool => json!("true"),
        Ty::Date => json!("2024-01-31"),
        Ty::Timestamp => json!("2013-05-08 11:15:47"),
        Ty::Alternatives => json!(7),
        Ty::Json => json!({"any": [1, null]}),
        Ty::Binary => json!("bytes"),
        Ty::List(t) => json!([response_json(api, t, depth + 1)]),
        Ty::JsonList(t) => json!(json!([response_json(api, t, depth + 1)]).to_string()),
        Ty::Map(t) => json!({"key": response_json(api, t, depth + 1)}),
        Ty::Model(m) => match model(api, m).map(|m| &m.kind) {
            Some(ModelKind::Object { fields, .. }) => {
                let mut o = serde_json::Map::new();
                for f in fields {
                    if f.required || depth < 3 {
                        o.insert(f.wire.clone(), response_json(api, &f.ty, depth + 1));
                    }
                }
                // A field no spec lists: decoding must keep it, not fail.
                o.insert("undocumented_extra".into(), json!({"seen": true}));
                Value::Object(o)
            }
            Some(ModelKind::Enum { values, integer }) => {
                let v = values.first().map(|v| v.wire.clone()).unwrap_or_default();
                if *integer { json!(v.parse::<i64>().unwrap_or(0)) } else { json!(v) }
            }
            Some(ModelKind::OneOf { variants }) => variants.first().map(|(_, t)| response_json(api, t, depth + 1)).unwrap_or(Value::Null),
            Some(ModelKind::Newtype { ty }) => response_json(api, ty, depth + 1),
            None => Value::Null,
        },
    }
}

const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Which credentials the test client carries, and the header they must produce.
pub(crate) fn credentials(api: &Api, op: &Operation) -> (TokenStream, Option<(String, String)>) {
    let accepted: Vec<String> = match &op.auth {
        Auth::Schemes(s) => s.clone(),
        Auth::None => api.vendor.default_auth.clone(),
    };
    let Some(scheme) = api.vendor.schemes.iter().find(|s| accepted.first() == Some(&s.id)) else {
        return (quote!(), None);
    };
    let m = format_ident!("{}", names::snake(&scheme.id));
    let b64 = |s: String| base64::engine::general_purpose::STANDARD.encode(s);
    let (call, header) = match scheme.kind {
        AuthKind::BasicKey => (quote!(.#m(#KEY)), ("authorization".to_owned(), format!("Basic {}", b64(format!("{KEY}:{}", scheme.password.clone().unwrap_or_default()))))),
        AuthKind::BasicLogin => (quote!(.#m(#USER, #PASSWORD)), ("authorization".to_owned(), format!("Basic {}", b64(format!("{USER}:{PASSWORD}"))))),
        AuthKind::Bearer => (quote!(.#m(#KEY)), ("authorization".to_owned(), format!("Bearer {KEY}"))),
        AuthKind::Header => (quote!(.#m(#KEY)), (scheme.header.clone().unwrap_or_default(), KEY.to_owned())),
    };
    let expected = match op.auth {
        Auth::None => None,
        Auth::Schemes(_) => Some(header),
    };
    (call, expected)
}

/// One operation's call, built from samples, and what the spec says it must put on the wire.
pub(crate) struct Call {
    /// Required arguments, in the generated method's order.
    pub args: Vec<TokenStream>,
    /// `.name(value)` for every optional input that has a sample.
    pub setters: Vec<TokenStream>,
    pub expected_path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body_json: serde_json::Map<String, Value>,
    form: Vec<(String, String)>,
    parts: Vec<String>,
    has_file: bool,
}

/// The sample call of `op`: every required input, and every optional one a
/// sample exists for. `None` when a required input has no generic sample.
pub(crate) fn call(api: &Api, op: &Operation, plain: bool) -> Option<Call> {
    // Arguments in the generated order: path params (template order), other required params, required body fields.
    let mut c = Call {
        args: Vec::new(),
        setters: Vec::new(),
        expected_path: String::new(),
        query: Vec::new(),
        headers: Vec::new(),
        body_json: serde_json::Map::new(),
        form: Vec::new(),
        parts: Vec::new(),
        has_file: false,
    };

    for part in op.path_parts() {
        match part {
            PathPart::Lit(l) => c.expected_path.push_str(l),
            PathPart::Param(p) => {
                let param = op.params.iter().find(|x| x.location == ParamLocation::Path && x.wire == p)?;
                let s = sample(api, &param.ty, &param.rust, plain)?;
                c.expected_path.push_str(&percent_encoding::utf8_percent_encode(s.text.first()?, SEGMENT).to_string());
                c.args.push(s.expr);
            }
        }
    }
    for p in op.params.iter().filter(|p| p.location != ParamLocation::Path) {
        let s = match (p.location, &p.ty) {
            // Header values are visible ASCII.
            (ParamLocation::Header, Ty::String) => {
                let v = format!("{}-v1", p.rust);
                Sample { expr: quote!(#v), text: vec![v.clone()], json: json!(v) }
            }
            _ => sample(api, &p.ty, &p.rust, plain)?,
        };
        match p.location {
            ParamLocation::Query => c.query.extend(s.text.iter().map(|t| (p.wire.clone(), t.clone()))),
            ParamLocation::Header => c.headers.push((p.wire.to_lowercase(), s.text.first()?.clone())),
            ParamLocation::Path => {}
        }
        if p.required {
            c.args.push(s.expr);
        } else {
            let n = format_ident!("{}", p.rust);
            let e = s.expr;
            c.setters.push(quote!(.#n(#e)));
        }
    }
    if let Some(b) = &op.body {
        for f in &b.fields {
            let (expr, text, json) = if f.ty == Ty::Binary {
                c.has_file = true;
                c.parts.push(f.wire.clone());
                (quote!(::snapsdk_runtime::FilePart::from_bytes(&b"file-bytes-\x00\x01"[..]).file_name("upload.bin")), vec![], Value::Null)
            } else {
                match sample(api, &f.ty, &f.rust, plain) {
                    Some(s) => (s.expr, s.text, s.json),
                    // Object-typed optional fields are left unset; a required one makes the op untestable here.
                    None if !f.required => continue,
                    None => return None,
                }
            };
            match b.encoding {
                BodyEncoding::Json => {
                    c.body_json.insert(f.wire.clone(), json);
                }
                BodyEncoding::Form => c.form.extend(text.iter().map(|t| (f.wire.clone(), t.clone()))),
                BodyEncoding::Query => c.query.extend(text.iter().map(|t| (f.wire.clone(), t.clone()))),
                BodyEncoding::Multipart => {
                    if f.ty != Ty::Binary {
                        c.parts.push(f.wire.clone());
                    }
                }
            }
            if f.required {
                c.args.push(expr);
            } else {
                let n = format_ident!("{}", f.rust);
                c.setters.push(quote!(.#n(#expr)));
            }
        }
    }
    Some(c)
}

fn op_test(api: &Api, op: &Operation) -> Option<TokenStream> {
    let krate = format_ident!("{}", names::snake(&api.vendor.crate_name));
    let test_name = format_ident!("{}", op.id);
    let group = format_ident!("{}", names::snake(&op.group));
    let method_name = format_ident!("{}", op.id);
    let http_method = op.method.as_str();
    let Call { args, setters, expected_path, query, headers, body_json, form, parts, has_file } = call(api, op, false)?;

    let (cred_call, expected_auth) = credentials(api, op);
    let auth_check = match (&op.auth, expected_auth) {
        (_, Some((h, v))) => quote!(assert_eq!(header(&req, #h).as_deref(), Some(#v), "credentials");),
        (Auth::None, None) => {
            let names: Vec<String> = api.vendor.schemes.iter().map(|s| s.header.clone().unwrap_or_else(|| "authorization".into())).collect();
            quote!(for h in [#(#names),*] { assert_eq!(header(&req, h), None, "a public operation must send no credentials"); })
        }
        _ => quote!(),
    };

    let status = op.success.status;
    let (response, check_answer) = match (op.success.content, &op.success.ty) {
        (ContentKind::Json, ty) => {
            let body = ty.as_ref().map(|t| response_json(api, t, 0)).unwrap_or_else(|| json!({"free": "json"})).to_string();
            (quote!(ResponseTemplate::new(#status).set_body_raw(#body, "application/json")), quote!(let _answer = answer;))
        }
        (ContentKind::Text, _) => {
            let media = op.success.media_type.clone().unwrap_or_else(|| "text/plain".into());
            (quote!(ResponseTemplate::new(#status).set_body_raw("a1b2c3d4e5f6g7h8", #media)), quote!(assert_eq!(answer.to_string(), "a1b2c3d4e5f6g7h8");))
        }
        (ContentKind::Binary, _) => (
            quote!(ResponseTemplate::new(#status).set_body_raw(&b"\x00binary\xffpayload"[..], "application/octet-stream")),
            quote!(assert_eq!(&answer.collect().await.unwrap()[..], &b"\x00binary\xffpayload"[..]);),
        ),
        (ContentKind::Empty, _) => (quote!(ResponseTemplate::new(#status)), quote!(let () = answer;)),
    };

    let query_pairs = query.iter().map(|(k, v)| quote!((#k, #v)));
    let header_checks = headers.iter().map(|(k, v)| quote!(assert_eq!(header(&req, #k).as_deref(), Some(#v), "header parameter");));
    let body_check = match op.body.as_ref().map(|b| b.encoding) {
        Some(BodyEncoding::Json) => {
            let expected = Value::Object(body_json).to_string();
            quote! {
                assert_eq!(header(&req, "content-type").as_deref(), Some("application/json"));
                let sent: ::serde_json::Value = ::serde_json::from_slice(&req.body).expect("JSON body");
                assert_eq!(sent, ::serde_json::from_str::<::serde_json::Value>(#expected).unwrap(), "JSON body");
            }
        }
        Some(BodyEncoding::Form) => {
            let pairs = form.iter().map(|(k, v)| quote!((#k.to_owned(), #v.to_owned())));
            quote! {
                assert_eq!(header(&req, "content-type").as_deref(), Some("application/x-www-form-urlencoded"));
                let mut sent: Vec<(String, String)> = ::serde_urlencoded::from_bytes(&req.body).expect("form body");
                let mut want: Vec<(String, String)> = vec![#(#pairs),*];
                sent.sort();
                want.sort();
                assert_eq!(sent, want, "form body");
            }
        }
        Some(BodyEncoding::Query) => {
            let ct = op.body.as_ref().and_then(|b| b.content_type.clone()).unwrap_or_else(|| "application/x-www-form-urlencoded".into());
            quote! {
                assert_eq!(header(&req, "content-type").as_deref(), Some(#ct));
                assert!(req.body.is_empty(), "fields travel in the query; the body is empty");
            }
        }
        Some(BodyEncoding::Multipart) => {
            let names = parts.iter().map(|p| format!("name=\"{p}\""));
            let file_check = has_file.then(|| quote!(assert!(contains(&req.body, b"file-bytes-\x00\x01"), "file bytes");));
            quote! {
                assert!(header(&req, "content-type").unwrap_or_default().starts_with("multipart/form-data; boundary="));
                for name in [#(#names),*] {
                    assert!(contains(&req.body, name.as_bytes()), "multipart part {name}");
                }
                #file_check
            }
        }
        None => quote!(assert!(req.body.is_empty(), "no body");),
    };
    let doc = format!(" `{} {}`: {}", op.method.as_str(), op.path, op.summary);
    Some(quote! {
        #[doc = #doc]
        #[tokio::test]
        async fn #test_name() {
            let server = MockServer::start().await;
            Mock::given(any()).respond_with(#response).mount(&server).await;
            let client = #krate::Client::builder() #cred_call .base_url(server.uri()).retry(#krate::RetryConfig::disabled()).build().unwrap();
            let answer = client.#group().#method_name(#(#args),*) #(#setters)* .send().await.expect("the call succeeds");
            #check_answer
            let req = only_request(&server).await;
            assert_eq!(req.method.as_str(), #http_method);
            assert_eq!(req.url.path(), #expected_path, "path");
            let mut sent_query: Vec<(String, String)> = req.url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
            let mut want_query: Vec<(String, String)> = vec![#(#query_pairs),*].into_iter().map(|(k, v): (&str, &str)| (k.to_owned(), v.to_owned())).collect();
            sent_query.sort();
            want_query.sort();
            assert_eq!(sent_query, want_query, "query");
            #auth_check
            #(#header_checks)*
            #body_check
        }
    })
}

/// The wire test file for one vendor, and how many operations it covers.
pub fn emit(api: &Api) -> (TokenStream, Vec<String>) {
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
    let count = api.operations.len() - skipped.len();
    let skipped_doc = if skipped.is_empty() {
        "Every operation of the spec is covered.".to_owned()
    } else {
        format!("Not covered (an argument has no generic sample): {}.", skipped.join(", "))
    };
    let header_doc = format!(" {count} operations. {skipped_doc}");
    let tokens = quote! {
        //! Wire conformance: every operation through the generated client against a
        //! loopback mock server; the request is compared with what the spec says.
        #![doc = #header_doc]
        #![allow(clippy::bool_assert_comparison, clippy::let_unit_value)]

        use wiremock::matchers::any;
        use wiremock::{Mock, MockServer, Request, ResponseTemplate};

        async fn only_request(server: &MockServer) -> Request {
            let mut reqs = server.received_requests().await.unwrap();
            assert_eq!(reqs.len(), 1, "exactly one request");
            reqs.remove(0)
        }

        fn header(req: &Request, name: &str) -> Option<String> {
            req.headers.get(name).map(|v| v.to_str().unwrap().to_owned())
        }

        #[allow(dead_code)]
        fn contains(hay: &[u8], needle: &[u8]) -> bool {
            hay.windows(needle.len()).any(|w| w == needle)
        }

        #(#tests)*
    };
    (tokens, skipped)
}
