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
    Some(match ty {
        // Spaces, a slash and non-ASCII: path parameters must still be one
        // segment; `@` and `:` are pchar and go out raw.
        Ty::String => {
            let s = if plain {
                format!("example-{}", name.replace('_', "-"))
            } else {
                format!("{name} v/1 é a@b.c:d")
            };
            Sample {
                expr: quote!(#s),
                text: vec![s.clone()],
                json: json!(s),
            }
        }
        Ty::Integer
        | Ty::LooseInt
        | Ty::Number
        | Ty::Boolean
        | Ty::LooseBool
        | Ty::Date
        | Ty::Timestamp
        | Ty::Alternatives
        | Ty::Json => return scalar_sample(ty),
        Ty::Binary | Ty::Map(_) => return None,
        Ty::List(inner) => {
            let s = sample(api, inner, name, plain)?;
            let e = s.expr;
            // Only string-like samples are literals of another type than the element.
            let expr = if matches!(**inner, Ty::String | Ty::Alternatives) {
                quote!(vec![#e.into()])
            } else {
                quote!(vec![#e])
            };
            Sample {
                expr,
                text: s.text,
                json: json!([s.json]),
            }
        }
        Ty::JsonList(inner) => {
            let s = sample(api, inner, name, plain)?;
            let e = s.expr;
            let expr = quote!([#e]);
            // One value on the wire: the JSON text of the list.
            let text = json!([s.json]).to_string();
            Sample {
                expr,
                text: vec![text.clone()],
                json: json!(text),
            }
        }
        Ty::Model(m) => return model_sample(api, m, name, plain),
    })
}

/// The sample of a scalar type; `None` for the others.
fn scalar_sample(ty: &Ty) -> Option<Sample> {
    Some(match ty {
        Ty::Integer | Ty::LooseInt => Sample {
            expr: quote!(42),
            text: vec!["42".into()],
            json: json!(42),
        },
        Ty::Number => Sample {
            expr: quote!(2.5),
            text: vec!["2.5".into()],
            json: json!(2.5),
        },
        Ty::Boolean | Ty::LooseBool => Sample {
            expr: quote!(true),
            text: vec!["true".into()],
            json: json!(true),
        },
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
        Ty::Alternatives => Sample {
            expr: quote!(7),
            text: vec!["7".into()],
            json: json!(7),
        },
        Ty::Json => Sample {
            expr: quote!(::serde_json::json!({"k": [1, "two"]})),
            text: vec![],
            json: json!({"k": [1, "two"]}),
        },
        _ => return None,
    })
}

/// A sample of model `m`: its first enum value or one-of variant, or its newtype's inner sample.
fn model_sample(api: &Api, m: &str, name: &str, plain: bool) -> Option<Sample> {
    let krate = format_ident!("{}", names::snake(&api.vendor.crate_name));
    let mm = model(api, m)?;
    let mi = format_ident!("{}", m);
    Some(match &mm.kind {
        ModelKind::Enum { values, integer } => {
            let v = values.first()?;
            let var = format_ident!("{}", v.rust);
            let json = if *integer {
                json!(v.wire.parse::<i64>().ok()?)
            } else {
                json!(v.wire)
            };
            Sample {
                expr: quote!(#krate::#mi::#var),
                text: vec![v.wire.clone()],
                json,
            }
        }
        ModelKind::Newtype { ty } => {
            let s = sample(api, ty, name, plain)?;
            let e = s.expr;
            Sample {
                expr: quote!(#krate::#mi::from(#e)),
                text: s.text,
                json: s.json,
            }
        }
        ModelKind::OneOf { variants } => {
            let (vname, vty) = variants.first()?;
            let s = sample(api, vty, name, plain)?;
            let e = s.expr;
            let var = format_ident!("{}", vname);
            Sample {
                expr: quote!(#krate::#mi::#var(#e.into())),
                text: s.text,
                json: s.json,
            }
        }
        ModelKind::Object { .. } => return None,
    })
}

/// A JSON value of type `ty`, as a server might send it, for decoding.
pub(crate) fn response_json(api: &Api, ty: &Ty, depth: usize) -> Value {
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
                if *integer {
                    json!(v.parse::<i64>().unwrap_or(0))
                } else {
                    json!(v)
                }
            }
            Some(ModelKind::OneOf { variants }) => variants
                .first()
                .map(|(_, t)| response_json(api, t, depth + 1))
                .unwrap_or(Value::Null),
            Some(ModelKind::Newtype { ty }) => response_json(api, ty, depth + 1),
            None => Value::Null,
        },
    }
}

/// A path segment as the runtime writes it (`snapsdk_runtime::encode`): RFC 3986's
/// `pchar` raw (unreserved, the sub-delims `!$&'()*+,;=`, `:` and `@`), all else
/// escaped (`/ ? # %`, spaces, non-ASCII). Kept apart from the runtime's so a
/// change there shows up as a failing wire test.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@');

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
        AuthKind::BasicKey => (
            quote!(.#m(#KEY)),
            (
                "authorization".to_owned(),
                format!(
                    "Basic {}",
                    b64(format!("{KEY}:{}", scheme.password.clone().unwrap_or_default()))
                ),
            ),
        ),
        AuthKind::BasicLogin => (
            quote!(.#m(#USER, #PASSWORD)),
            (
                "authorization".to_owned(),
                format!("Basic {}", b64(format!("{USER}:{PASSWORD}"))),
            ),
        ),
        AuthKind::Bearer => (quote!(.#m(#KEY)), ("authorization".to_owned(), format!("Bearer {KEY}"))),
        AuthKind::Header => (
            quote!(.#m(#KEY)),
            (scheme.header.clone().unwrap_or_default(), KEY.to_owned()),
        ),
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
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body_json: serde_json::Map<String, Value>,
    pub form: Vec<(String, String)>,
    pub parts: Vec<String>,
    pub has_file: bool,
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
                let param = op
                    .params
                    .iter()
                    .find(|x| x.location == ParamLocation::Path && x.wire == p)?;
                let s = sample(api, &param.ty, &param.rust, plain)?;
                c.expected_path
                    .push_str(&percent_encoding::utf8_percent_encode(s.text.first()?, SEGMENT).to_string());
                c.args.push(s.expr);
            }
        }
    }
    for p in op.params.iter().filter(|p| p.location != ParamLocation::Path) {
        let s = match (p.location, &p.ty) {
            // Header values are visible ASCII.
            (ParamLocation::Header, Ty::String) => {
                let v = format!("{}-v1", p.rust);
                Sample {
                    expr: quote!(#v),
                    text: vec![v.clone()],
                    json: json!(v),
                }
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
    body_args(api, op, plain, &mut c)?;
    Some(c)
}

fn op_test(api: &Api, op: &Operation) -> Option<TokenStream> {
    let krate = format_ident!("{}", names::snake(&api.vendor.crate_name));
    let test_name = format_ident!("{}", names::op_ident(&op.id));
    let group = format_ident!("{}", names::snake(&op.group));
    let method_name = format_ident!("{}", names::method(&op.group, &op.id));
    let http_method = op.method.as_str();
    let Call {
        args,
        setters,
        expected_path,
        query,
        headers,
        body_json,
        form,
        parts,
        has_file,
    } = call(api, op, false)?;

    let (cred_call, expected_auth) = credentials(api, op);
    let auth_check = match (&op.auth, expected_auth) {
        (_, Some((h, v))) => quote!(assert_eq!(header(&req, #h).as_deref(), Some(#v), "credentials");),
        (Auth::None, None) => {
            let names: Vec<String> = api
                .vendor
                .schemes
                .iter()
                .map(|s| s.header.clone().unwrap_or_else(|| "authorization".into()))
                .collect();
            quote!(for h in [#(#names),*] { assert_eq!(header(&req, h), None, "a public operation must send no credentials"); })
        }
        _ => quote!(),
    };

    let (response, check_answer) = response_and_check(api, op);
    // A unit answer is matched as `()`, so the test says what it expects
    // without binding a unit value (clippy's `let_unit_value`).
    let binding = match op.success.content {
        ContentKind::Empty | ContentKind::Undocumented => quote!(let ()),
        _ => quote!(let answer),
    };
    let query_pairs = query.iter().map(|(k, v)| quote!((#k, #v)));
    // A space in a query value goes out as `%20`, as the vendors' documents write it, never `+`.
    let space_check = query.iter().any(|(_, v)| v.contains(' ')).then(|| {
        quote!(assert!(!req.url.query().unwrap_or_default().contains('+'), "a space in the query goes out as %20, never +: {:?}", req.url.query());)
    });
    let header_checks = headers
        .iter()
        .map(|(k, v)| quote!(assert_eq!(header(&req, #k).as_deref(), Some(#v), "header parameter");));
    let body_check = body_check(op, body_json, &form, &parts, has_file);
    let doc = format!(" `{} {}`: {}", op.method.as_str(), op.path, op.summary);
    Some(quote! {
        #[doc = #doc]
        #[tokio::test]
        async fn #test_name() {
            let server = MockServer::start().await;
            Mock::given(any()).respond_with(#response).mount(&server).await;
            let client = #krate::Client::builder() #cred_call .base_url(server.uri()).retry(#krate::RetryConfig::disabled()).build().unwrap();
            #binding = client.#group().#method_name(#(#args),*) #(#setters)* .send().await.expect("the call succeeds");
            #check_answer
            let req = only_request(&server).await;
            assert_eq!(req.method.as_str(), #http_method);
            assert_eq!(req.url.path(), #expected_path, "path");
            let mut sent_query: Vec<(String, String)> = req.url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
            let mut want_query: Vec<(String, String)> = vec![#(#query_pairs),*].into_iter().map(|(k, v): (&str, &str)| (k.to_owned(), v.to_owned())).collect();
            sent_query.sort();
            want_query.sort();
            assert_eq!(sent_query, want_query, "query");
            #space_check
            #auth_check
            #(#header_checks)*
            #body_check
        }
    })
}

/// The mock's answer to an operation, and what the test checks of the decoded answer.
fn response_and_check(api: &Api, op: &Operation) -> (TokenStream, TokenStream) {
    let status = op.success.status;
    match (op.success.content, &op.success.ty) {
        (ContentKind::Json, ty) => {
            let body = ty
                .as_ref()
                .map(|t| response_json(api, t, 0))
                .unwrap_or_else(|| json!({"free": "json"}))
                .to_string();
            (
                quote!(ResponseTemplate::new(#status).set_body_raw(#body, "application/json")),
                quote!(let _answer = answer;),
            )
        }
        (ContentKind::Text, _) => {
            let media = op.success.media_type.clone().unwrap_or_else(|| "text/plain".into());
            (
                quote!(ResponseTemplate::new(#status).set_body_raw("a1b2c3d4e5f6g7h8", #media)),
                quote!(assert_eq!(answer.to_string(), "a1b2c3d4e5f6g7h8");),
            )
        }
        (ContentKind::Binary, _) => (
            quote!(ResponseTemplate::new(#status).set_body_raw(&b"\x00binary\xffpayload"[..], "application/octet-stream")),
            quote!(assert_eq!(&answer.collect().await.unwrap()[..], &b"\x00binary\xffpayload"[..]);),
        ),
        (ContentKind::Empty | ContentKind::Undocumented, _) => (quote!(ResponseTemplate::new(#status)), quote!()),
    }
}

/// What the request body must be, by its encoding.
fn body_check(
    op: &Operation,
    body_json: serde_json::Map<String, Value>,
    form: &[(String, String)],
    parts: &[String],
    has_file: bool,
) -> TokenStream {
    match op.body.as_ref().map(|b| b.encoding) {
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
            let ct = op
                .body
                .as_ref()
                .and_then(|b| b.content_type.clone())
                .unwrap_or_else(|| "application/x-www-form-urlencoded".into());
            quote! {
                assert_eq!(header(&req, "content-type").as_deref(), Some(#ct));
                assert!(req.body.is_empty(), "fields travel in the query; the body is empty");
            }
        }
        Some(BodyEncoding::Multipart) => {
            let names = parts.iter().map(|p| format!("name=\"{p}\""));
            let file_check =
                has_file.then(|| quote!(assert!(contains(&req.body, b"file-bytes-\x00\x01"), "file bytes");));
            quote! {
                assert!(header(&req, "content-type").unwrap_or_default().starts_with("multipart/form-data; boundary="));
                for name in [#(#names),*] {
                    assert!(contains(&req.body, name.as_bytes()), "multipart part {name}");
                }
                #file_check
            }
        }
        None => quote!(assert!(req.body.is_empty(), "no body");),
    }
}

/// The body fields: required ones as arguments, optional ones as setters, and what the server must see.
/// `None` when a required field has no generic sample.
fn body_args(api: &Api, op: &Operation, plain: bool, c: &mut Call) -> Option<()> {
    if let Some(b) = &op.body {
        for f in &b.fields {
            let (expr, text, json) = if f.ty == Ty::Binary {
                c.has_file = true;
                c.parts.push(f.wire.clone());
                (
                    quote!(::snapsdk_runtime::FilePart::from_bytes(&b"file-bytes-\x00\x01"[..]).file_name("upload.bin")),
                    vec![],
                    Value::Null,
                )
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
    Some(())
}

// ---------------------------------------------------------------------------
// Forward compatibility: mutated variants of each typed response.
// ---------------------------------------------------------------------------

/// One step of a JSON path: an object key or an array index.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// What sits at one place of a sample response, as far as mutations care.
#[derive(Debug, Clone)]
enum Spot {
    /// An object of a model; `keep` when it keeps unknown fields in `extra`.
    Object {
        keep: bool,
    },
    Enum {
        integer: bool,
        first: String,
    },
    Optional,
    /// A required field; `exact` when its absence must be reported at its path
    /// (not inside a `oneOf`, where another variant may be tried).
    Required {
        field: String,
        exact: bool,
    },
    /// A `seen` or `inferred` field, and a value that does not fit its type.
    Lenient {
        wrong: Value,
    },
    LooseBool,
    LooseInt,
    Timestamp,
    Number,
    Alternatives,
}

/// Every spot of `value` (a sample of type `ty`), with its path.
fn spots(api: &Api, ty: &Ty, value: &Value, path: &mut Vec<Step>, in_one_of: bool, out: &mut Vec<(Vec<Step>, Spot)>) {
    match ty {
        Ty::List(t) => {
            for (i, v) in value.as_array().into_iter().flatten().enumerate() {
                path.push(Step::Index(i));
                spots(api, t, v, path, in_one_of, out);
                path.pop();
            }
        }
        Ty::Map(t) => {
            for (k, v) in value.as_object().into_iter().flatten() {
                path.push(Step::Key(k.clone()));
                spots(api, t, v, path, in_one_of, out);
                path.pop();
            }
        }
        Ty::LooseBool => out.push((path.clone(), Spot::LooseBool)),
        Ty::LooseInt => out.push((path.clone(), Spot::LooseInt)),
        Ty::Timestamp => out.push((path.clone(), Spot::Timestamp)),
        Ty::Number => out.push((path.clone(), Spot::Number)),
        Ty::Alternatives => out.push((path.clone(), Spot::Alternatives)),
        Ty::Model(m) => match model(api, m).map(|m| &m.kind) {
            Some(ModelKind::Object { fields, keep_unknown }) => {
                out.push((path.clone(), Spot::Object { keep: *keep_unknown }));
                let Some(obj) = value.as_object() else { return };
                for f in fields {
                    let Some(v) = obj.get(&f.wire) else { continue };
                    path.push(Step::Key(f.wire.clone()));
                    let spot = if f.required {
                        Spot::Required {
                            field: f.wire.clone(),
                            exact: !in_one_of,
                        }
                    } else {
                        Spot::Optional
                    };
                    out.push((path.clone(), spot));
                    if let (true, Some(wrong)) = (f.evidence.lenient() && *keep_unknown, wrong_form(api, &f.ty)) {
                        out.push((path.clone(), Spot::Lenient { wrong }));
                    }
                    spots(api, &f.ty, v, path, in_one_of, out);
                    path.pop();
                }
            }
            Some(ModelKind::Enum { values, integer }) => out.push((
                path.clone(),
                Spot::Enum {
                    integer: *integer,
                    first: values.first().map(|v| v.wire.clone()).unwrap_or_default(),
                },
            )),
            Some(ModelKind::OneOf { variants }) => {
                if let Some((_, t)) = variants.first() {
                    spots(api, t, value, path, true, out);
                }
            }
            Some(ModelKind::Newtype { ty }) => spots(api, ty, value, path, in_one_of, out),
            None => {}
        },
        _ => {}
    }
}

/// A JSON value that does not fit `ty` (`None` when every value fits, as for `json`).
fn wrong_form(api: &Api, ty: &Ty) -> Option<Value> {
    let not_an_object = json!({"snapsdk": "a value of the wrong form"});
    match ty {
        Ty::Json => None,
        Ty::Map(_) => Some(json!("snapsdk: not an object")),
        Ty::Model(m) => match model(api, m).map(|m| &m.kind) {
            Some(ModelKind::Object { .. }) => Some(json!("snapsdk: not an object")),
            Some(ModelKind::OneOf { variants }) => {
                let takes_objects = variants.iter().any(|(_, t)| {
                    matches!(t, Ty::Json | Ty::Map(_))
                        || matches!(t, Ty::Model(_)) && wrong_form(api, t).is_some_and(|w| !w.is_object())
                });
                (!takes_objects).then_some(not_an_object)
            }
            Some(ModelKind::Newtype { ty }) => wrong_form(api, ty),
            _ => Some(not_an_object),
        },
        _ => Some(not_an_object),
    }
}

fn at_mut<'v>(v: &'v mut Value, path: &[Step]) -> Option<&'v mut Value> {
    path.iter().try_fold(v, |v, s| match s {
        Step::Key(k) => v.get_mut(k.as_str()),
        Step::Index(i) => v.get_mut(*i),
    })
}

fn remove(v: &mut Value, path: &[Step]) {
    if let Some((Step::Key(k), parent)) = path.split_last() {
        if let Some(Value::Object(o)) = at_mut(v, parent) {
            o.remove(k);
        }
    }
}

/// JSON Pointer (RFC 6901) of a path, for `Value::pointer`.
fn pointer(path: &[Step]) -> String {
    path.iter()
        .map(|s| match s {
            Step::Key(k) => format!("/{}", k.replace('~', "~0").replace('/', "~1")),
            Step::Index(i) => format!("/{i}"),
        })
        .collect()
}

/// A path as the runtime's `DecodeError::path` writes it (`data[0].name`; `.` for the root).
fn decode_path(path: &[Step]) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let mut out = String::new();
    for s in path {
        match s {
            Step::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// The field every object gains in the "extra field" case, and what it holds.
const FUTURE_FIELD: &str = "x_future_field";
/// The value every string enum gets in its "unknown value" case; integer enums get [`FUTURE_NUMBER`].
const FUTURE_VALUE: &str = "snapsdk-future-value";
const FUTURE_NUMBER: i64 = 987_654;

/// One mutated response and what must come of it.
pub(crate) struct Mutation {
    pub label: String,
    pub body: String,
    pub expect: Expect,
}

pub(crate) enum Expect {
    /// Decodes; the values at these JSON pointers come back unchanged when re-serialised.
    Decodes(Vec<String>),
    /// Fails to decode at this path, naming this missing field.
    Missing(String, String),
}

/// The mutations of one typed response: an unknown value in every enum, an
/// extra field on every object, `null` in every optional field, every
/// optional field left out, the loose forms of loose scalars, and every
/// required field left out, one at a time.
pub(crate) fn mutations(api: &Api, ty: &Ty) -> Vec<Mutation> {
    let base = response_json(api, ty, 0);
    let mut found = Vec::new();
    spots(api, ty, &base, &mut Vec::new(), false, &mut found);
    let mut out = Vec::new();
    unknown_enum_values(&base, &found, &mut out);
    extra_fields(&base, &found, &mut out);
    optional_fields(&base, &found, &mut out);
    loose_forms(&base, &found, &mut out);
    wrong_forms(&base, &found, &mut out);
    required_fields_left_out(&base, &found, &mut out);
    out
}

/// `base` as JSON text after `f` edited a copy of it.
fn edited(base: &Value, f: &dyn Fn(&mut Value)) -> String {
    let mut v = base.clone();
    f(&mut v);
    v.to_string()
}

/// An unknown value in each enum, one at a time.
fn unknown_enum_values(base: &Value, found: &[(Vec<Step>, Spot)], out: &mut Vec<Mutation>) {
    let with = |f: &dyn Fn(&mut Value)| edited(base, f);
    for (path, spot) in found {
        if let Spot::Enum { integer, .. } = spot {
            let future = if *integer {
                json!(FUTURE_NUMBER)
            } else {
                json!(FUTURE_VALUE)
            };
            let body = with(&|v| {
                if let Some(x) = at_mut(v, path) {
                    *x = future.clone();
                }
            });
            out.push(Mutation {
                label: format!("unknown enum value at {}", decode_path(path)),
                body,
                expect: Expect::Decodes(vec![pointer(path)]),
            });
        }
    }
}

/// An extra field on every object at once.
fn extra_fields(base: &Value, found: &[(Vec<Step>, Spot)], out: &mut Vec<Mutation>) {
    let with = |f: &dyn Fn(&mut Value)| edited(base, f);
    let objects: Vec<&(Vec<Step>, Spot)> = found.iter().filter(|(_, s)| matches!(s, Spot::Object { .. })).collect();
    if !objects.is_empty() {
        let body = with(&|v| {
            for (path, spot) in &objects {
                if let (Some(Value::Object(o)), Spot::Object { keep }) = (at_mut(v, path), spot) {
                    let name = if *keep { FUTURE_FIELD } else { "x_future_field_dropped" };
                    o.insert(name.into(), json!({"since": "v2", "values": [1, "two", null]}));
                }
            }
        });
        out.push(Mutation {
            label: "an extra field on every object".into(),
            body,
            expect: Expect::Decodes(vec![]),
        });
    }
}

/// `null` in every optional field, then every optional field left out.
fn optional_fields(base: &Value, found: &[(Vec<Step>, Spot)], out: &mut Vec<Mutation>) {
    let with = |f: &dyn Fn(&mut Value)| edited(base, f);
    let optional: Vec<&Vec<Step>> = found
        .iter()
        .filter(|(_, s)| matches!(s, Spot::Optional))
        .map(|(p, _)| p)
        .collect();
    if !optional.is_empty() {
        let body = with(&|v| {
            for path in &optional {
                if let Some(x) = at_mut(v, path) {
                    *x = Value::Null;
                }
            }
        });
        out.push(Mutation {
            label: "null in every optional field".into(),
            body,
            expect: Expect::Decodes(vec![]),
        });
        // Deepest first, so every removal still finds its parent.
        let body = with(&|v| optional.iter().rev().for_each(|p| remove(v, p)));
        out.push(Mutation {
            label: "every optional field left out".into(),
            body,
            expect: Expect::Decodes(vec![]),
        });
    }
}

/// Each required field left out, one at a time.
fn required_fields_left_out(base: &Value, found: &[(Vec<Step>, Spot)], out: &mut Vec<Mutation>) {
    let with = |f: &dyn Fn(&mut Value)| edited(base, f);
    for (path, spot) in found {
        if let Spot::Required { field, exact: true } = spot {
            let body = with(&|v| remove(v, path));
            let parent = decode_path(&path[..path.len() - 1]);
            out.push(Mutation {
                label: format!("required field {} left out", decode_path(path)),
                body,
                expect: Expect::Missing(parent, field.clone()),
            });
        }
    }
}

/// The loose forms the spec allows: each form at every place of its kind at once.
fn loose_forms(base: &Value, found: &[(Vec<Step>, Spot)], out: &mut Vec<Mutation>) {
    let with = |f: &dyn Fn(&mut Value)| edited(base, f);
    let loose = loose_kinds();
    for (kind, is, forms) in &loose {
        let places: Vec<&(Vec<Step>, Spot)> = found.iter().filter(|(_, s)| is(s)).collect();
        if places.is_empty() {
            continue;
        }
        // An integer enum's known value also arrives as a string of digits.
        let forms: Vec<Value> = if forms.is_empty() {
            vec![Value::Null]
        } else {
            forms.clone()
        };
        for form in &forms {
            let body = with(&|v| {
                for (path, spot) in &places {
                    let value = match spot {
                        Spot::Enum { first, .. } => json!(first),
                        _ => form.clone(),
                    };
                    if let Some(x) = at_mut(v, path) {
                        *x = value;
                    }
                }
            });
            let shown = if form.is_null() {
                "its digits as a string".to_owned()
            } else {
                form.to_string()
            };
            out.push(Mutation {
                label: format!("every {kind} as {shown}"),
                body,
                expect: Expect::Decodes(vec![]),
            });
        }
    }
}

/// A kind of loose scalar: its name, which spots hold it, and the forms it may arrive in
/// (none for an integer enum: its known value as a string of digits).
type Loose = (&'static str, fn(&Spot) -> bool, Vec<Value>);

/// Every loose kind with the forms the spec allows for it.
fn loose_kinds() -> [Loose; 6] {
    [
        (
            "loose_bool",
            |s| matches!(s, Spot::LooseBool),
            vec![
                json!("true"),
                json!("false"),
                json!("1"),
                json!("0"),
                json!(" TRUE "),
                json!(1),
                json!(0),
                json!(true),
                json!(false),
            ],
        ),
        (
            "loose_int",
            |s| matches!(s, Spot::LooseInt),
            vec![json!(42), json!("42"), json!(" -7 ")],
        ),
        (
            "timestamp",
            |s| matches!(s, Spot::Timestamp),
            vec![json!(1368011747), json!("2013-05-08 11:15:47"), json!(1368011747.0)],
        ),
        (
            "number",
            |s| matches!(s, Spot::Number),
            vec![json!(2), json!(-0.5), json!(1e3)],
        ),
        (
            "alternatives",
            |s| matches!(s, Spot::Alternatives),
            vec![json!(7), json!(2.5), json!("seven")],
        ),
        (
            "integer enum",
            |s| matches!(s, Spot::Enum { integer: true, .. }),
            vec![],
        ),
    ]
}

/// Every `seen` or `inferred` field at once holds a value of the wrong
/// form: the answer still decodes, and each raw value comes back from
/// `extra` where it was sent. Lenient fields inside a lenient object go
/// first (their parent intact), then the lenient objects themselves.
fn wrong_forms(base: &Value, found: &[(Vec<Step>, Spot)], out: &mut Vec<Mutation>) {
    let lenient: Vec<(&Vec<Step>, &Value)> = found
        .iter()
        .filter_map(|(p, s)| match s {
            Spot::Lenient { wrong } => Some((p, wrong)),
            _ => None,
        })
        .collect();
    let holds_another = |p: &Vec<Step>| {
        lenient
            .iter()
            .any(|(q, _)| q.len() > p.len() && pointer(q).starts_with(&format!("{}/", pointer(p))))
    };
    let (parents, leaves): (Vec<_>, Vec<_>) = lenient.iter().partition(|(p, _)| holds_another(p));
    for (label, set) in [
        ("every seen or inferred field", leaves),
        ("every seen or inferred object holding such fields", parents),
    ] {
        if set.is_empty() {
            continue;
        }
        let mut v = base.clone();
        for (path, wrong) in &set {
            if let Some(x) = at_mut(&mut v, path) {
                *x = (*wrong).clone();
            }
        }
        let kept = set.iter().map(|(p, _)| pointer(p)).collect();
        out.push(Mutation {
            label: format!("a value of the wrong form in {label}"),
            body: v.to_string(),
            expect: Expect::Decodes(kept),
        });
    }
}

/// Where the top-level value's `extra` is, if it has one: the JSON pointer and the Rust access from `answer`.
fn top_extra(api: &Api, ty: &Ty) -> Option<(String, TokenStream)> {
    let object_extra = |m: &str| match model(api, m).map(|m| &m.kind) {
        Some(ModelKind::Object {
            fields,
            keep_unknown: true,
        }) => Some(format_ident!("{}", super::rust::extra_map_name(fields))),
        _ => None,
    };
    match ty {
        Ty::Model(m) => object_extra(m).map(|e| (String::new(), quote!(Some(&answer.#e)))),
        Ty::List(t) => match &**t {
            Ty::Model(m) => object_extra(m).map(|e| ("/0".to_owned(), quote!(answer.first().map(|a| &a.#e)))),
            _ => None,
        },
        Ty::Map(t) => match &**t {
            Ty::Model(m) => object_extra(m).map(|e| ("/key".to_owned(), quote!(answer.get("key").map(|a| &a.#e)))),
            _ => None,
        },
        _ => None,
    }
}

/// The forward-compatibility test of one operation, and its number of cases.
fn forward_test(api: &Api, op: &Operation) -> Option<(TokenStream, usize)> {
    let (ContentKind::Json, Some(ty)) = (op.success.content, &op.success.ty) else {
        return None;
    };
    let cases = mutations(api, ty);
    if cases.is_empty() {
        return None;
    }
    let Call { args, setters, .. } = call(api, op, false)?;
    let krate = format_ident!("{}", names::snake(&api.vendor.crate_name));
    let test_name = format_ident!("{}_forward_compatible", op.id.trim_end_matches('_'));
    let group = format_ident!("{}", names::snake(&op.group));
    let method_name = format_ident!("{}", names::method(&op.group, &op.id));
    let (cred_call, _) = credentials(api, op);
    let status = op.success.status;
    let n = cases.len();
    let rows = cases.iter().map(|c| {
        let (label, body) = (&c.label, &c.body);
        let expect = match &c.expect {
            Expect::Decodes(ptrs) => quote!(Expect::Decodes(&[#(#ptrs),*])),
            Expect::Missing(path, field) => quote!(Expect::Missing(#path, #field)),
        };
        quote!((#label, #body, #expect))
    });
    let extra_check = top_extra(api, ty).map(|(ptr, access)| {
        let at = format!("{ptr}/{FUTURE_FIELD}");
        quote! {
            if let Some(v) = sent.pointer(#at) {
                let extra: Option<&::serde_json::Map<String, ::serde_json::Value>> = #access;
                assert_eq!(extra.and_then(|m| m.get(#FUTURE_FIELD)), Some(v), "{case}: the extra field is readable from `extra`");
            }
        }
    });
    let doc = format!(
        " `{} {}`: {n} mutated responses must decode (or fail naming the missing field).",
        op.method.as_str(),
        op.path
    );
    Some((
        quote! {
            #[doc = #doc]
            #[tokio::test]
            async fn #test_name() {
                let server = MockServer::start().await;
                let client = #krate::Client::builder() #cred_call .base_url(server.uri()).retry(#krate::RetryConfig::disabled()).build().unwrap();
                let cases: &[(&str, &str, Expect)] = &[#(#rows),*];
                for (case, body, expect) in cases {
                    server.reset().await;
                    Mock::given(any()).respond_with(ResponseTemplate::new(#status).set_body_raw(*body, "application/json")).mount(&server).await;
                    let result = client.#group().#method_name(#(#args),*) #(#setters)* .send().await;
                    let sent: ::serde_json::Value = ::serde_json::from_str(body).unwrap();
                    match (expect, result) {
                        (Expect::Decodes(kept), Ok(answer)) => {
                            let back = ::serde_json::to_value(&answer).unwrap();
                            extras_kept(case, &sent, &back, "");
                            for p in *kept {
                                assert_eq!(back.pointer(p), sent.pointer(p), "{case}: {p} is kept when re-serialised");
                            }
                            #extra_check
                        }
                        (Expect::Missing(path, field), Err(#krate::Error::Decode(e))) => {
                            assert_eq!(e.path, *path, "{case}: {e}");
                            assert!(e.message.contains(&format!("missing field `{field}`")), "{case}: {e}");
                        }
                        (_, other) => panic!("{case}: {other:?}"),
                    }
                }
            }
        },
        n,
    ))
}

/// For each model with `seen` or `inferred` fields, a decode test: every such
/// field holds a value of the wrong form at once (the model's required fields
/// a sample value); the model decodes, each such field reads as `None`, and
/// each raw value is kept in `extra` and re-serialised where it came from.
/// This reaches models the operation samples do not (deep nesting).
fn lenient_model_tests(api: &Api) -> Vec<TokenStream> {
    let krate = format_ident!("{}", names::snake(&api.vendor.crate_name));
    api.models
        .iter()
        .filter_map(|m| {
            let ModelKind::Object {
                fields,
                keep_unknown: true,
            } = &m.kind
            else {
                return None;
            };
            let wrong: Vec<(&crate::ir::Field, Value)> = fields
                .iter()
                .filter(|f| f.evidence.lenient())
                .filter_map(|f| Some((f, wrong_form(api, &f.ty)?)))
                .collect();
            if wrong.is_empty() {
                return None;
            }
            let mut sent = serde_json::Map::new();
            for f in fields.iter().filter(|f| f.required) {
                sent.insert(f.wire.clone(), response_json(api, &f.ty, 0));
            }
            for (f, w) in &wrong {
                sent.insert(f.wire.clone(), w.clone());
            }
            let body = Value::Object(sent).to_string();
            let name = format_ident!("{}", m.name);
            let extra = format_ident!("{}", super::rust::extra_map_name(fields));
            let checks = wrong.iter().map(|(f, _)| {
                let (rust, wire) = (format_ident!("{}", f.rust), &f.wire);
                quote! {
                    assert!(m.#rust.is_none(), "{}: a value of the wrong form reads as absent", #wire);
                    assert_eq!(m.#extra.get(#wire), sent.get(#wire), "{}: the raw value stays in extra", #wire);
                    assert_eq!(back.get(#wire), sent.get(#wire), "{}: and is re-serialised", #wire);
                }
            });
            let test = format_ident!("{}_fields_of_the_wrong_form_read_as_absent", names::snake(&m.name));
            let doc = format!(
                " `{}`: its {} `seen` or `inferred` fields of the wrong form never fail decoding.",
                m.name,
                wrong.len()
            );
            Some(quote! {
                #[doc = #doc]
                #[test]
                fn #test() {
                    let sent: ::serde_json::Value = ::serde_json::from_str(#body).unwrap();
                    let m: #krate::models::#name = ::serde_json::from_value(sent.clone()).expect("decodes");
                    let back = ::serde_json::to_value(&m).unwrap();
                    #(#checks)*
                }
            })
        })
        .collect()
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
    let forward: Vec<(TokenStream, usize)> = api.operations.iter().filter_map(|op| forward_test(api, op)).collect();
    let cases: usize = forward.iter().map(|(_, n)| n).sum();
    let forward_doc = format!(
        " Forward compatibility: {cases} mutated responses over {} operations with a typed JSON answer (an unknown value in every enum, an extra field on every object, null in and absence of every optional field, the loose forms of loose scalars, each required field left out).",
        forward.len()
    );
    let forward_tests = forward.iter().map(|(t, _)| t);
    let lenient_tests = lenient_model_tests(api);
    let skipped_doc = if skipped.is_empty() {
        "Every operation of the spec is covered.".to_owned()
    } else {
        format!(
            "Not covered (an argument has no generic sample): {}.",
            skipped.join(", ")
        )
    };
    let header_doc = format!(" {count} operations. {skipped_doc}");
    // An operation the generator cannot call is a failing test, never a silent gap.
    let skipped_test = (!skipped.is_empty()).then(|| {
        let msg = format!("operations without a wire test (a required argument has no generic sample; add one in xtask/src/emit/wiretest.rs): {}", skipped.join(", "));
        quote! {
            #[test]
            fn every_operation_has_a_wire_test() {
                panic!(#msg);
            }
        }
    });
    let (helpers, forward_helpers) = (request_helpers(), forward_helpers());
    let tokens = quote! {
        //! Wire conformance: every operation through the generated client against a
        //! loopback mock server; the request is compared with what the spec says.
        #![doc = #header_doc]
        #![doc = ""]
        #![doc = #forward_doc]


        use wiremock::matchers::any;
        use wiremock::{Mock, MockServer, Request, ResponseTemplate};

        #helpers

        #skipped_test

        #(#tests)*

        #forward_helpers

        #(#forward_tests)*

        #(#lenient_tests)*
    };
    (tokens, skipped)
}

/// Reading the one request a test made.
fn request_helpers() -> TokenStream {
    quote! {
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
    }
}

/// What the forward-compatibility tests check a decoded answer against.
fn forward_helpers() -> TokenStream {
    quote! {
        /// What a mutated response must come to.
        #[allow(dead_code)]
        enum Expect {
            /// Decodes; the values at these JSON pointers come back unchanged when re-serialised.
            Decodes(&'static [&'static str]),
            /// Fails with a decode error at this path naming this missing field.
            Missing(&'static str, &'static str),
        }

        /// Every `x_future_field` of the response sent comes back, unchanged, from re-serialising the decoded answer.
        #[allow(dead_code)]
        fn extras_kept(case: &str, sent: &::serde_json::Value, back: &::serde_json::Value, at: &str) {
            match sent {
                ::serde_json::Value::Object(o) => {
                    for (k, v) in o {
                        let here = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                        if k == #FUTURE_FIELD {
                            assert_eq!(back.pointer(&here), Some(v), "{case}: {here} is kept when re-serialised");
                        } else if back.pointer(&here).is_some() {
                            // Absent when re-serialising drops it (a `null` optional field).
                            extras_kept(case, v, back, &here);
                        }
                    }
                }
                ::serde_json::Value::Array(a) => {
                    for (i, v) in a.iter().enumerate() {
                        extras_kept(case, v, back, &format!("{at}/{i}"));
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace() -> Vec<Api> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .to_path_buf();
        crate::regen::load(&crate::regen::Options::workspace(&root, None)).unwrap_or_else(|e| panic!("{e:?}"))
    }

    /// Whether a type holds a model anywhere (an answer mutations can act on).
    /// (A newtype over a scalar, such as a string id, has nothing to mutate.)
    fn has_model(api: &Api, ty: &Ty) -> bool {
        match ty {
            Ty::List(t) | Ty::Map(t) => has_model(api, t),
            Ty::Model(m) => match api.models.iter().find(|x| &x.name == m).map(|x| &x.kind) {
                Some(ModelKind::Newtype { ty }) => has_model(api, ty),
                Some(_) => true,
                None => false,
            },
            _ => false,
        }
    }

    #[test]
    fn every_typed_json_answer_of_every_spec_gets_forward_cases() {
        let apis = workspace();
        let mut covered = 0;
        for api in &apis {
            for op in &api.operations {
                if let (ContentKind::Json, Some(ty)) = (op.success.content, &op.success.ty) {
                    if has_model(api, ty) {
                        assert!(
                            forward_test(api, op).is_some(),
                            "{}: {} has a typed answer but no forward-compatibility test",
                            api.vendor.name,
                            op.id
                        );
                        covered += 1;
                    }
                }
            }
        }
        assert!(covered >= 20, "{covered}");
    }

    #[test]
    fn a_poll_result_gets_every_kind_of_mutation() {
        let apis = workspace();
        let api = apis.iter().find(|a| a.vendor.name == "snapengage").unwrap();
        let cases = mutations(api, &Ty::Model("PollResult".into()));
        let labels: Vec<&str> = cases.iter().map(|c| c.label.as_str()).collect();
        for want in [
            "unknown enum value at messageList[0].type",
            "an extra field on every object",
            "null in every optional field",
            "every optional field left out",
            "every loose_bool as \"1\"",
            "required field caseId left out",
        ] {
            assert!(labels.contains(&want), "{want} not in {labels:#?}");
        }
        let missing = cases
            .iter()
            .find(|c| c.label == "required field caseId left out")
            .unwrap();
        let Expect::Missing(path, field) = &missing.expect else {
            panic!("a required field left out must fail")
        };
        assert_eq!((path.as_str(), field.as_str()), (".", "caseId"));
        let body: Value = serde_json::from_str(&missing.body).unwrap();
        assert!(
            body.get("caseId").is_none() && body.get("messageList").is_some(),
            "{body}"
        );
        let extra = cases
            .iter()
            .find(|c| c.label == "an extra field on every object")
            .unwrap();
        let body: Value = serde_json::from_str(&extra.body).unwrap();
        assert!(
            body.get(FUTURE_FIELD).is_some() && body["messageList"][0].get(FUTURE_FIELD).is_some(),
            "{body}"
        );
        let absent = cases
            .iter()
            .find(|c| c.label == "every optional field left out")
            .unwrap();
        let body: Value = serde_json::from_str(&absent.body).unwrap();
        assert!(
            body.get("messageList").is_none() && body.get("caseId").is_some(),
            "{body}"
        );
    }

    #[test]
    fn decode_paths_read_like_the_runtime_writes_them() {
        let p = [Step::Key("data".into()), Step::Index(2), Step::Key("a/b".into())];
        assert_eq!(decode_path(&p), "data[2].a/b");
        assert_eq!(pointer(&p), "/data/2/a~1b");
        assert_eq!(decode_path(&[Step::Index(0), Step::Key("id".into())]), "[0].id");
        assert_eq!(decode_path(&[]), ".");
    }
}
