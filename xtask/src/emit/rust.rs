//! IR → Rust source of a client crate. Pure: tokens in, strings out.
//!
//! Runtime items are named through `rt()` only, so the generated code and the
//! runtime crate meet in one place.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use crate::ir::{self, Api, BodyEncoding, ContentKind, Model, ModelKind, Operation, ParamLocation, PathPart, Ty};
use crate::names;

/// The runtime crate path, as generated code spells it.
fn rt() -> TokenStream {
    quote!(::snapsdk_runtime)
}

fn ident(s: &str) -> Ident {
    Ident::new(s, Span::call_site())
}

/// Doc comment lines as `#[doc = "..."]` attributes.
/// Spec prose is escaped (see [`crate::emit::md_escape`]); our own lines use backticks for code.
fn docs<'a>(lines: impl IntoIterator<Item = &'a str>) -> TokenStream {
    let lines = doc_lines(lines);
    quote!(#(#[doc = #lines])*)
}

/// Languages a fenced block in spec prose may keep; any other (none, `rust`)
/// becomes `text`, so rustdoc never compiles an example as a doctest.
const PROSE_FENCES: &[&str] = &["text", "json", "yaml", "xml", "html", "http", "sh", "console", "csv"];

/// Spec prose as rustdoc lines. Fenced blocks are kept verbatim with a
/// non-Rust language (one left open is closed where its prose ends); outside them, prose is
/// escaped and leading indentation dropped, as markdown would read an
/// indented line as a (Rust) code block.
pub(crate) fn doc_lines<'a>(lines: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out = Vec::new();
    let mut fence: Option<String> = None;
    for x in lines.into_iter().flat_map(|l| l.split('\n').map(Some).chain([None])) {
        // The end of one piece of prose: a fence it left open is closed here.
        let Some(x) = x else {
            if let Some(f) = fence.take() {
                out.push(format!(" {f}"));
            }
            continue;
        };
        let t = x.trim_start();
        if let Some(f) = &fence {
            if t.starts_with(f.as_str()) && t.trim_start_matches(f.chars().next().unwrap_or('`')).trim().is_empty() {
                out.push(format!(" {f}"));
                fence = None;
            } else {
                out.push(if x.is_empty() { String::new() } else { format!(" {x}") });
            }
            continue;
        }
        let tick = t.chars().next().filter(|c| matches!(c, '`' | '~'));
        let marker: String = tick.map(|c| t.chars().take_while(|x| *x == c).collect()).unwrap_or_default();
        if marker.len() >= 3 {
            let lang = t[marker.len()..].trim().split([',', ' ']).next().unwrap_or("").to_lowercase();
            let lang = if PROSE_FENCES.contains(&lang.as_str()) { lang } else { "text".to_owned() };
            out.push(format!(" {marker}{lang}"));
            fence = Some(marker);
            continue;
        }
        let x = if x.starts_with("    ") || x.starts_with('\t') { t } else { x };
        out.push(if x.is_empty() { String::new() } else { format!(" {}", crate::emit::md_escape(x)) });
    }
    out
}

/// The Rust type that holds a value of `ty`.
pub fn rust_type(ty: &Ty) -> TokenStream {
    let rt = rt();
    match ty {
        Ty::String => quote!(String),
        Ty::Integer | Ty::LooseInt => quote!(i64),
        Ty::Number => quote!(f64),
        Ty::Boolean | Ty::LooseBool => quote!(bool),
        Ty::Date => quote!(#rt::NaiveDate),
        Ty::Timestamp => quote!(#rt::Timestamp),
        Ty::Alternatives => quote!(#rt::Alternatives),
        Ty::Json => quote!(::serde_json::Value),
        Ty::Binary => quote!(#rt::FilePart),
        Ty::List(t) | Ty::JsonList(t) => {
            let t = rust_type(t);
            quote!(Vec<#t>)
        }
        Ty::Map(t) => {
            let t = rust_type(t);
            quote!(::std::collections::BTreeMap<String, #t>)
        }
        Ty::Model(m) => {
            let m = ident(m);
            quote!(crate::models::#m)
        }
    }
}

/// How a setter or argument takes a value of `ty`: `(parameter type, conversion)`.
fn arg_type(api: &Api, ty: &Ty) -> (TokenStream, TokenStream) {
    let rust = rust_type(ty);
    let by_into = |t: TokenStream| (quote!(impl ::std::convert::Into<#t>), quote!(.into()));
    match ty {
        Ty::String | Ty::Alternatives => by_into(rust),
        // Any list of things that convert: `["a", "b"]`, a `Vec<String>`, an iterator.
        Ty::JsonList(inner) => {
            let (item, _) = arg_type(api, inner);
            let item = if item.to_string().starts_with("impl") { item } else { quote!(impl ::std::convert::Into<#item>) };
            (quote!(impl IntoIterator<Item = #item>), quote!(.into_iter().map(Into::into).collect()))
        }
        Ty::Model(m) => match api.models.iter().find(|x| &x.name == m).map(|x| &x.kind) {
            Some(ModelKind::Newtype { .. } | ModelKind::OneOf { .. } | ModelKind::Enum { .. }) => by_into(rust),
            _ => (rust, quote!()),
        },
        _ => (rust, quote!()),
    }
}

fn is_model_kind(api: &Api, ty: &Ty, f: impl Fn(&ModelKind) -> bool) -> bool {
    matches!(ty, Ty::Model(m) if api.models.iter().any(|x| &x.name == m && f(&x.kind)))
}

/// Whether a type can derive `Default` (for model structs).
fn has_default(ty: &Ty) -> bool {
    !matches!(ty, Ty::Model(_) | Ty::Date | Ty::Timestamp | Ty::Alternatives | Ty::Binary)
}

/// The generated source files of one crate: (path relative to the crate, contents).
pub fn emit(api: &Api) -> Vec<(String, TokenStream)> {
    vec![("src/lib.rs".into(), emit_lib(api)), ("src/models.rs".into(), emit_models(api)), ("src/operations.rs".into(), emit_operations(api))]
}

fn groups(api: &Api) -> Vec<(String, Vec<&Operation>)> {
    let mut out: Vec<(String, Vec<&Operation>)> = Vec::new();
    for op in &api.operations {
        match out.iter_mut().find(|(g, _)| g == &op.group) {
            Some((_, ops)) => ops.push(op),
            None => out.push((op.group.clone(), vec![op])),
        }
    }
    out
}

/// The name of a keep-unknown model's map of unlisted fields: `extra`, or the
/// first of `unknown_fields`, `extra_`, `extra__`, ... no field takes.
pub fn extra_map_name(fields: &[ir::Field]) -> String {
    let taken = |n: &str| fields.iter().any(|f| f.rust == n);
    if !taken("extra") {
        return "extra".into();
    }
    let mut name = "unknown_fields".to_owned();
    let mut n = 0;
    while taken(&name) {
        n += 1;
        name = format!("extra{}", "_".repeat(n));
    }
    name
}

fn group_struct(group: &str) -> Ident {
    ident(&names::group_type(group))
}

fn builder_struct(op: &Operation) -> Ident {
    ident(&names::pascal(&op.id))
}

/// Required inputs of an operation, in order: path params, then required query/header params, then required body fields.
fn required_inputs(op: &Operation) -> Vec<Input<'_>> {
    all_inputs(op).into_iter().filter(|i| i.required).collect()
}

#[derive(Clone, Copy)]
pub(crate) struct Input<'a> {
    pub(crate) wire: &'a str,
    pub(crate) rust: &'a str,
    pub(crate) ty: &'a Ty,
    pub(crate) required: bool,
    pub(crate) description: &'a str,
    pub(crate) default: Option<&'a serde_json::Value>,
    /// Sent when the caller sets no value.
    pub(crate) client_default: Option<&'a serde_json::Value>,
    /// Where it goes: a parameter location, or the body.
    pub(crate) place: Place,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Place {
    Path,
    Query,
    Header,
    Body,
}

pub(crate) fn all_inputs(op: &Operation) -> Vec<Input<'_>> {
    let mut out: Vec<Input<'_>> = Vec::new();
    let place = |l: ParamLocation| match l {
        ParamLocation::Path => Place::Path,
        ParamLocation::Query => Place::Query,
        ParamLocation::Header => Place::Header,
    };
    // Path parameters in template order come first, so arguments read like the URL.
    for part in op.path_parts() {
        if let PathPart::Param(name) = part {
            if let Some(p) = op.params.iter().find(|p| p.location == ParamLocation::Path && p.wire == name) {
                out.push(Input { wire: &p.wire, rust: &p.rust, ty: &p.ty, required: true, description: &p.description, default: p.default.as_ref(), client_default: None, place: Place::Path });
            }
        }
    }
    for p in op.params.iter().filter(|p| p.location != ParamLocation::Path) {
        out.push(Input { wire: &p.wire, rust: &p.rust, ty: &p.ty, required: p.required, description: &p.description, default: p.default.as_ref(), client_default: p.client_default.as_ref(), place: place(p.location) });
    }
    if let Some(b) = &op.body {
        for f in &b.fields {
            out.push(Input { wire: &f.wire, rust: &f.rust, ty: &f.ty, required: f.required, description: &f.description, default: f.default.as_ref(), client_default: f.client_default.as_ref(), place: Place::Body });
        }
    }
    out
}

/// The Rust type `.send()` returns.
fn success_type(op: &Operation) -> TokenStream {
    let rt = rt();
    match (op.success.content, &op.success.ty) {
        (ContentKind::Json, Some(t)) => rust_type(t),
        (ContentKind::Json, None) => quote!(::serde_json::Value),
        (ContentKind::Text, Some(t)) => rust_type(t),
        (ContentKind::Text, None) => quote!(String),
        (ContentKind::Binary, _) => quote!(#rt::ByteStream),
        (ContentKind::Empty | ContentKind::Undocumented, _) => quote!(()),
    }
}

/// `client.group().op(args)` as docs show it.
pub fn call_signature(op: &Operation) -> String {
    let args: Vec<&str> = required_inputs(op).iter().map(|i| i.rust).collect();
    format!("client.{}().{}({})", names::snake(&op.group), names::method(&op.id), args.join(", "))
}

fn op_doc_lines(api: &Api, op: &Operation) -> Vec<String> {
    let mut lines = vec![op.summary.clone(), String::new(), format!("`{} {}`", op.method.as_str(), op.path), String::new()];
    if let Some(d) = &op.description {
        lines.push(d.clone());
        lines.push(String::new());
    }
    lines.push(format!("Source: {}.", op.source.cite()));
    if let Some(why) = &op.source.inferred {
        lines.push(format!("The method and path are inferred, not documented: {why}"));
    }
    match &op.auth {
        ir::Auth::None => lines.push("Public: sends no credentials, even when the client has some.".into()),
        ir::Auth::Schemes(s) if s != &api.vendor.default_auth => lines.push(format!("Accepts only the auth schemes: {}.", s.join(", "))),
        _ => {}
    }
    if !op.notes.is_empty() {
        lines.push(String::new());
        lines.push("# Spec decisions".into());
        lines.push(String::new());
        for n in &op.notes {
            lines.push(format!("- {}", n.trim()));
        }
    }
    lines
}

pub(crate) fn emit_lib(api: &Api) -> TokenStream {
    let rt = rt();
    let v = &api.vendor;
    let name = &v.name;
    let crate_name = &v.crate_name;
    let base_url = &v.base_url;
    let rate_limit = match &v.rate_limit {
        Some(r) => {
            let (n, s) = (r.requests, r.per_seconds as u64);
            quote!(Some(#rt::RateLimit { requests: #n, period: ::std::time::Duration::from_secs(#s) }))
        }
        None => quote!(None),
    };
    let scheme_methods = v.schemes.iter().map(|s| {
        let id = &s.id;
        let m = ident(&names::snake(&s.id));
        let doc = docs([s.description.as_str(), "", "A key that cannot be sent (empty, or with a newline) makes `build()` fail."]);
        match s.kind {
            ir::AuthKind::BasicKey => {
                let pw = s.password.clone().unwrap_or_default();
                quote! { #doc pub fn #m(self, key: impl AsRef<str>) -> Self { Self { inner: self.inner.credentials(#rt::Credentials::basic(#id, key.as_ref(), #pw)) } } }
            }
            ir::AuthKind::BasicLogin => {
                quote! { #doc pub fn #m(self, username: impl AsRef<str>, password: impl AsRef<str>) -> Self { Self { inner: self.inner.credentials(#rt::Credentials::basic(#id, username.as_ref(), password.as_ref())) } } }
            }
            ir::AuthKind::Bearer => {
                quote! { #doc pub fn #m(self, key: impl AsRef<str>) -> Self { Self { inner: self.inner.credentials(#rt::Credentials::bearer(#id, key.as_ref())) } } }
            }
            ir::AuthKind::Header => {
                let h = s.header.clone().unwrap_or_default();
                quote! { #doc pub fn #m(self, key: impl AsRef<str>) -> Self { Self { inner: self.inner.credentials(#rt::Credentials::header(#id, #h, key.as_ref())) } } }
            }
        }
    });
    let group_items = groups(api).into_iter().map(|(group, ops)| {
        let gs = group_struct(&group);
        let gm = ident(&names::snake(&group));
        let gdoc = format!(" Operations of the `{group}` group.");
        let accessor_doc = format!(" The `{group}` operations.");
        let methods = ops.iter().map(|op| {
            let b = builder_struct(op);
            let m = ident(&names::method(&op.id));
            let req = required_inputs(op);
            let params = req.iter().map(|i| {
                let n = ident(i.rust);
                let (t, _) = arg_type(api, i.ty);
                quote!(#n: #t)
            });
            let args = req.iter().map(|i| {
                let n = ident(i.rust);
                let (_, conv) = arg_type(api, i.ty);
                quote!(#n #conv)
            });
            let d = docs(op_doc_lines(api, op).iter().map(String::as_str));
            quote! {
                #d
                pub fn #m(&self, #(#params),*) -> crate::operations::#b {
                    crate::operations::#b::new(self.client.inner.clone(), #(#args),*)
                }
            }
        });
        let accessor = quote! {
            #[doc = #accessor_doc]
            pub fn #gm(&self) -> #gs<'_> { #gs { client: self } }
        };
        let def = quote! {
            #[doc = #gdoc]
            #[derive(Debug, Clone, Copy)]
            pub struct #gs<'a> { client: &'a Client }
            impl #gs<'_> { #(#methods)* }
        };
        (accessor, def)
    });
    let (accessors, defs): (Vec<_>, Vec<_>) = group_items.unzip();
    let default_scheme = v.schemes.iter().find(|s| v.default_auth.first() == Some(&s.id)).map(|s| names::snake(&s.id)).unwrap_or_default();
    let example_doc = format!(" Start here: `Client::builder().{default_scheme}(..).build()?`.");
    let uses_date = api.models.iter().any(|m| matches!(&m.kind, ModelKind::Object { fields, .. } if fields.iter().any(|f| f.ty == Ty::Date)))
        || api.operations.iter().any(|o| all_inputs(o).iter().any(|i| *i.ty == Ty::Date));
    let models_use = (!api.models.is_empty()).then(|| quote!(pub use models::*;));
    let date_reexport = uses_date.then(|| quote!(pub use #rt::NaiveDate;));
    let file_reexport = super::uses_multipart(api).then(|| quote!(pub use #rt::FilePart;));
    quote! {
        #![doc = include_str!("../README.md")]
        #![forbid(unsafe_code)]
        #![cfg_attr(docsrs, feature(doc_cfg))]
        #![allow(clippy::too_many_arguments, clippy::large_enum_variant, clippy::new_without_default, clippy::vec_init_then_push)]

        pub mod models;
        pub mod operations;

        #models_use
        pub use #rt::{Alternatives, ApiError, ByteStream, DecodeError, Error, Paginator, RateLimit, RequestOptions, Response, RetryConfig, StatusCode, Timestamp, Timeouts};
        #file_reexport
        /// The reqwest version this crate is built on: pass a `reqwest::Client` of it to [`ClientBuilder::http_client`].
        pub use #rt::reqwest;
        pub use #rt::http_client_builder;
        #date_reexport

        /// `Result` with this crate's [`Error`].
        pub type Result<T, E = Error> = ::std::result::Result<T, E>;

        static VENDOR: #rt::VendorInfo = #rt::VendorInfo {
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
            inner: #rt::Client,
        }

        impl Client {
            /// A builder with the vendor's defaults: its base URL, its documented rate limit, and the runtime's retry and timeout defaults.
            pub fn builder() -> ClientBuilder {
                ClientBuilder { inner: #rt::ClientBuilder::new(&VENDOR) }
            }

            /// The base URL requests go to.
            pub fn base_url(&self) -> &str {
                self.inner.base_url()
            }

            /// Lift a hold-off a server's `Retry-After` put on this client and its clones.
            pub fn clear_hold_off(&self) {
                self.inner.clear_hold_off()
            }

            #(#accessors)*
        }

        /// Configures a [`Client`]: credentials, base URL, timeouts, retries and rate limit.
        #[derive(Debug)]
        #[must_use]
        pub struct ClientBuilder {
            inner: #rt::ClientBuilder,
        }

        impl ClientBuilder {
            #(#scheme_methods)*

            /// Send requests to another base URL (a mock server, a proxy, a staging host).
            pub fn base_url(self, url: impl ::std::convert::Into<String>) -> Self { Self { inner: self.inner.base_url(url) } }
            /// Limit on establishing a connection.
            pub fn connect_timeout(self, timeout: ::std::time::Duration) -> Self { Self { inner: self.inner.connect_timeout(timeout) } }
            /// Limit on each attempt, from sending to the last byte of a buffered response.
            pub fn timeout(self, timeout: ::std::time::Duration) -> Self { Self { inner: self.inner.timeout(timeout) } }
            /// Limit on a whole call, across retries and waits.
            pub fn operation_timeout(self, timeout: ::std::time::Duration) -> Self { Self { inner: self.inner.operation_timeout(timeout) } }
            /// Retry policy; [`RetryConfig::disabled`] turns retries off.
            pub fn retry(self, retry: RetryConfig) -> Self { Self { inner: self.inner.retry(retry) } }
            /// Replace the client-side rate limit; `None` turns it off. Needs the crate's `rate-limit` feature.
            #[cfg(feature = "rate-limit")]
            #[cfg_attr(docsrs, doc(cfg(feature = "rate-limit")))]
            pub fn rate_limit(self, limit: Option<RateLimit>) -> Self { Self { inner: self.inner.rate_limit(limit) } }
            /// Longest pause while a body moves, either direction (default 30 s).
            pub fn idle_timeout(self, timeout: ::std::time::Duration) -> Self { Self { inner: self.inner.idle_timeout(timeout) } }
            /// Largest buffered (non-streamed) response body, in bytes (default 32 MiB).
            pub fn max_body_size(self, bytes: u64) -> Self { Self { inner: self.inner.max_body_size(bytes) } }
            /// Most requests in flight at once, and so connections to the host (default 32).
            pub fn max_connections_per_host(self, n: usize) -> Self { Self { inner: self.inner.max_connections_per_host(n) } }
            /// Longest hold-off a server's `Retry-After` can put on every call (default 10 minutes).
            pub fn max_hold_off(self, ceiling: ::std::time::Duration) -> Self { Self { inner: self.inner.max_hold_off(ceiling) } }
            /// Use your own `reqwest::Client` (proxies, TLS roots, pools), of the version this crate re-exports as [`reqwest`].
            /// Refused by `build()` for a key sent in a custom header (the client could follow a redirect elsewhere with it):
            /// pass a builder to [`http_client_builder`](Self::http_client_builder) instead.
            /// Start from [`crate::http_client_builder()`] for the same TLS setup as the default client: a `reqwest::Client::builder()`
            /// in a build where no reqwest TLS provider feature is on (this crate turns none on) panics in `build()`.
            pub fn http_client(self, client: #rt::reqwest::Client) -> Self { Self { inner: self.inner.http_client(client) } }
            /// Use your own `reqwest::ClientBuilder` (proxies, TLS roots, pools); the runtime handles redirects, so a key never leaves the base URL's origin.
            pub fn http_client_builder(self, builder: #rt::reqwest::ClientBuilder) -> Self { Self { inner: self.inner.http_client_builder(builder) } }
            /// Allow credentials over plain `http://` to a non-loopback host (a staging server without TLS).
            pub fn allow_insecure_http(self, allow: bool) -> Self { Self { inner: self.inner.allow_insecure_http(allow) } }
            /// Text appended to the `User-Agent` header.
            pub fn user_agent_suffix(self, suffix: impl ::std::convert::Into<String>) -> Self { Self { inner: self.inner.user_agent_suffix(suffix) } }
            /// Build the client; fails on an unusable credential or base URL.
            pub fn build(self) -> Result<Client> {
                Ok(Client { inner: self.inner.build()? })
            }
        }

        #(#defs)*
    }
}

fn field_tokens(f: &ir::Field, lenient: Option<&str>) -> TokenStream {
    let rt = rt();
    let name = ident(&f.rust);
    let wire = &f.wire;
    let ty = rust_type(&f.ty);
    let mut doc_lines = vec![if f.description.is_empty() { format!("`{wire}`") } else { f.description.clone() }];
    if let Some(d) = &f.default {
        doc_lines.push(format!("Server default: `{d}`."));
    }
    if f.sensitive {
        doc_lines.push("A secret: `Debug` prints `<redacted>`; the value itself is kept.".into());
    }
    doc_lines.push(f.evidence.doc().into());
    let d = docs(doc_lines.iter().map(String::as_str));
    if let Some(module) = lenient {
        // A field no document types: a value that does not fit reads as
        // `None` and stays in `extra` (snapsdk_runtime::lenient).
        let de = format!("{module}::de_{}", f.rust.trim_start_matches("r#"));
        let ser = format!("{module}::ser_{}", f.rust.trim_start_matches("r#"));
        return quote! {
            #d
            #[serde(flatten, deserialize_with = #de, serialize_with = #ser)]
            pub #name: Option<#ty>,
        };
    }
    let loose = match (&f.ty, f.required) {
        (Ty::LooseBool, true) => Some(quote!(#rt::de::loose_bool)),
        (Ty::LooseBool, false) => Some(quote!(#rt::de::opt_loose_bool)),
        (Ty::LooseInt, true) => Some(quote!(#rt::de::loose_int)),
        (Ty::LooseInt, false) => Some(quote!(#rt::de::opt_loose_int)),
        _ => None,
    };
    let de_with = loose.map(|p| {
        let p = p.to_string().replace(' ', "");
        quote!(deserialize_with = #p,)
    });
    if f.required {
        quote! {
            #d
            #[serde(rename = #wire, #de_with)]
            pub #name: #ty,
        }
    } else {
        quote! {
            #d
            #[serde(rename = #wire, default, skip_serializing_if = "Option::is_none", #de_with)]
            pub #name: Option<#ty>,
        }
    }
}

/// The decoding glue of a model's lenient (`seen` or `inferred`) fields: the
/// name of a private module and the module itself (`None` when every field is
/// documented). Per field: `de_<field>` and `ser_<field>` for its flattened
/// field; per model: `extra`, which keeps a lenient value only when it did
/// not fit. See `snapsdk_runtime::lenient`.
fn lenient_glue(model: &str, fields: &[ir::Field]) -> (String, Option<TokenStream>) {
    let rt = rt();
    let module = format!("__{}_lenient", names::snake(model));
    let lenient: Vec<&ir::Field> = fields.iter().filter(|f| f.evidence.lenient()).collect();
    if lenient.is_empty() {
        return (module, None);
    }
    let fns = lenient.iter().map(|f| {
        let bare = f.rust.trim_start_matches("r#");
        let (de, ser, decode) = (format_ident!("de_{}", bare), format_ident!("ser_{}", bare), format_ident!("decode_{}", bare));
        let ty = rust_type(&f.ty);
        let wire = &f.wire;
        let body = match f.ty {
            Ty::LooseBool => quote!(#rt::de::loose_bool(v)),
            Ty::LooseInt => quote!(#rt::de::loose_int(v)),
            _ => quote!(<#ty as ::serde::Deserialize>::deserialize(v)),
        };
        quote! {
            fn #decode(v: &::serde_json::Value) -> ::std::result::Result<#ty, ::serde_json::Error> { #body }
            pub(super) fn #de<'de, D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Option<#ty>, D::Error> {
                #rt::lenient::field(d, #model, #wire, #decode)
            }
            pub(super) fn #ser<S: ::serde::Serializer>(v: &Option<#ty>, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                #rt::lenient::serialize_field(v, #wire, s)
            }
        }
    });
    let fits = lenient.iter().map(|f| {
        let decode = format_ident!("decode_{}", f.rust.trim_start_matches("r#"));
        let wire = &f.wire;
        quote!((#wire, |v| #decode(v).is_ok()))
    });
    let m = ident(&module);
    let doc = format!(" Lenient decoding of `{model}`'s fields that no document types.");
    let items = quote! {
        #[doc = #doc]
        mod #m {
            #(#fns)*
            pub(super) fn extra<'de, D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<::serde_json::Map<String, ::serde_json::Value>, D::Error> {
                #rt::lenient::extra(d, &[#(#fits),*])
            }
        }
    };
    (module, Some(items))
}

fn model_doc(m: &Model) -> TokenStream {
    let mut lines = vec![m.description.clone()];
    if let Some(s) = &m.source {
        lines.push(String::new());
        lines.push(format!("Source: {}.", s.cite()));
    }
    if !m.notes.is_empty() {
        lines.push(String::new());
        lines.push("# Spec decisions".into());
        lines.push(String::new());
        lines.extend(m.notes.iter().map(|n| format!("- {}", n.trim())));
    }
    docs(lines.iter().map(String::as_str))
}

pub(crate) fn emit_models(api: &Api) -> TokenStream {
    let rt = rt();
    let items = api.models.iter().map(|m| {
        let name = ident(&m.name);
        let doc = model_doc(m);
        match &m.kind {
            ModelKind::Object { fields, keep_unknown } => {
                let (lenient_mod, lenient_items) = lenient_glue(&m.name, fields);
                let fs = fields.iter().map(|f| field_tokens(f, (f.evidence.lenient() && *keep_unknown).then_some(lenient_mod.as_str())));
                let extra_name = ident(&extra_map_name(fields));
                let extra_de = lenient_items.as_ref().map(|_| {
                    let p = format!("{lenient_mod}::extra");
                    quote!(, deserialize_with = #p)
                });
                let extra = keep_unknown.then(|| quote! {
                    /// Fields the server sent that the spec does not list, kept as JSON
                    /// (with the raw value of a `seen` or `inferred` field that did not fit).
                    #[serde(flatten #extra_de)]
                    pub #extra_name: ::serde_json::Map<String, ::serde_json::Value>,
                });
                let lenient_items = if *keep_unknown { lenient_items } else { None };
                let default = fields.iter().filter(|f| f.required).all(|f| has_default(&f.ty)).then(|| quote!(Default,));
                // `#[non_exhaustive]` keeps new fields a minor change, so callers
                // outside the crate build values with `new` (required fields)
                // or `Default`, then set optional fields.
                let required: Vec<_> = fields.iter().filter(|f| f.required).collect();
                let args = required.iter().map(|f| {
                    let n = ident(&f.rust);
                    let (t, _) = arg_type(api, &f.ty);
                    quote!(#n: #t)
                });
                let inits = fields.iter().map(|f| {
                    let n = ident(&f.rust);
                    let (_, conv) = arg_type(api, &f.ty);
                    if !f.required {
                        quote!(#n: None,)
                    } else if conv.is_empty() {
                        quote!(#n,)
                    } else {
                        quote!(#n: #n #conv,)
                    }
                });
                // Chainable setters for optional fields: `Model::new(..).with_x(..)`.
                let setters = fields.iter().filter(|f| !f.required).map(|f| {
                    let n = ident(&f.rust);
                    // `type_` (an escaped keyword) gets `with_type`; any other name is kept whole, so no two setters collide.
                    let bare = f.rust.trim_end_matches('_');
                    let bare = if bare != f.rust && syn::parse_str::<syn::Ident>(bare).is_err() { bare } else { f.rust.as_str() };
                    let m = format_ident!("with_{}", bare);
                    let (t, conv) = arg_type(api, &f.ty);
                    let d = format!(" Sets `{}`.", f.rust);
                    quote! {
                        #[doc = #d]
                        #[must_use]
                        pub fn #m(mut self, value: #t) -> Self {
                            self.#n = Some(value #conv);
                            self
                        }
                    }
                });
                let extra_init = keep_unknown.then(|| quote!(#extra_name: ::serde_json::Map::new(),));
                let new_doc = if required.is_empty() {
                    "A value with every field unset.".to_owned()
                } else {
                    format!("A value with the required fields ({}) and every optional field unset.", required.iter().map(|f| format!("`{}`", f.rust)).collect::<Vec<_>>().join(", "))
                };
                let new_doc = docs([new_doc.as_str()]);
                let many = (required.len() > 7).then(|| quote!(#[allow(clippy::too_many_arguments)]));
                let redacting = redacts(api, fields, *keep_unknown);
                let derive_debug = (!redacting).then(|| quote!(Debug,));
                let debug_impl = redacting.then(|| debug_impl(api, &m.name, fields, keep_unknown.then_some(&extra_name)));
                quote! {
                    #doc
                    #[derive(#derive_debug Clone, PartialEq, #default ::serde::Serialize, ::serde::Deserialize)]
                    #[non_exhaustive]
                    pub struct #name {
                        #(#fs)*
                        #extra
                    }

                    #debug_impl

                    #lenient_items

                    impl #name {
                        #new_doc
                        #many
                        pub fn new(#(#args),*) -> Self {
                            Self { #(#inits)* #extra_init }
                        }

                        #(#setters)*
                    }
                }
            }
            ModelKind::Enum { values, integer } => {
                let variants = values.iter().map(|v| {
                    let n = ident(&v.rust);
                    let d = docs([v.description.clone().unwrap_or_else(|| format!("`{}`", v.wire)).as_str()]);
                    quote!(#d #n,)
                });
                let to_str = values.iter().map(|v| {
                    let n = ident(&v.rust);
                    let w = &v.wire;
                    quote!(Self::#n => #w,)
                });
                let from_str = values.iter().map(|v| {
                    let n = ident(&v.rust);
                    let w = &v.wire;
                    quote!(#w => Self::#n,)
                });
                let ser = if *integer {
                    quote! {
                        match self.as_str().parse::<i64>() {
                            Ok(n) => serializer.serialize_i64(n),
                            Err(_) => serializer.serialize_str(self.as_str()),
                        }
                    }
                } else {
                    quote!(serializer.serialize_str(self.as_str()))
                };
                quote! {
                    #doc
                    ///
                    /// Values this version does not know decode to `Unknown` instead of failing.
                    /// New values may be added in minor releases, so matches need a `_` arm.
                    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
                    #[non_exhaustive]
                    pub enum #name {
                        #(#variants)*
                        /// A value the spec does not list, kept as sent.
                        Unknown(String),
                    }

                    impl #name {
                        /// The wire value.
                        pub fn as_str(&self) -> &str {
                            match self {
                                #(#to_str)*
                                Self::Unknown(s) => s,
                            }
                        }
                    }

                    impl ::std::convert::From<&str> for #name {
                        fn from(s: &str) -> Self {
                            match s {
                                #(#from_str)*
                                other => Self::Unknown(other.to_owned()),
                            }
                        }
                    }

                    impl ::std::convert::From<String> for #name {
                        fn from(s: String) -> Self {
                            Self::from(s.as_str())
                        }
                    }

                    impl ::std::fmt::Display for #name {
                        fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                            f.write_str(self.as_str())
                        }
                    }

                    impl ::serde::Serialize for #name {
                        fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                            #ser
                        }
                    }

                    impl<'de> ::serde::Deserialize<'de> for #name {
                        fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                            #rt::de::scalar_string(deserializer).map(|s| Self::from(s.as_str()))
                        }
                    }
                }
            }
            ModelKind::OneOf { variants } => {
                let vs = variants.iter().map(|(n, t)| {
                    let n = ident(n);
                    let t = rust_type(t);
                    quote!(#n(#t),)
                });
                let display = variants.iter().map(|(n, _)| {
                    let n = ident(n);
                    quote!(Self::#n(v) => ::std::fmt::Display::fmt(v, f),)
                });
                let all_display = variants.iter().all(|(_, t)| !matches!(t, Ty::List(_) | Ty::Map(_) | Ty::Json | Ty::Binary) && !is_model_kind(api, t, |k| matches!(k, ModelKind::Object { .. })));
                let display = all_display.then(|| quote! {
                    impl ::std::fmt::Display for #name {
                        fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                            match self { #(#display)* }
                        }
                    }
                });
                let mut seen = std::collections::BTreeSet::new();
                let froms = variants.iter().flat_map(|(n, t)| {
                    let v = ident(n);
                    let mut out = Vec::new();
                    let rust = rust_type(t);
                    if seen.insert(rust.to_string()) {
                        out.push(quote! { impl ::std::convert::From<#rust> for #name { fn from(v: #rust) -> Self { Self::#v(v) } } });
                    }
                    match t {
                        Ty::Integer | Ty::LooseInt => {
                            for small in [quote!(i32), quote!(u32)] {
                                if seen.insert(small.to_string()) {
                                    out.push(quote! { impl ::std::convert::From<#small> for #name { fn from(v: #small) -> Self { Self::#v(v.into()) } } });
                                }
                            }
                        }
                        Ty::String if seen.insert("& str".into()) => {
                            out.push(quote! { impl ::std::convert::From<&str> for #name { fn from(v: &str) -> Self { Self::#v(v.to_owned()) } } });
                        }
                        _ => {}
                    }
                    out
                });
                quote! {
                    #doc
                    ///
                    /// Decoding tries each variant in order.
                    #[derive(Debug, Clone, PartialEq, ::serde::Serialize, ::serde::Deserialize)]
                    #[serde(untagged)]
                    pub enum #name {
                        #(#vs)*
                    }
                    #display
                    #(#froms)*
                }
            }
            ModelKind::Newtype { ty } => {
                let inner = rust_type(ty);
                let from_str = (*ty == Ty::String).then(|| quote! {
                    impl ::std::convert::From<&str> for #name { fn from(v: &str) -> Self { Self(v.to_owned()) } }
                    impl #name {
                        /// The wrapped value.
                        pub fn as_str(&self) -> &str { &self.0 }
                    }
                });
                quote! {
                    #doc
                    #[derive(Debug, Clone, PartialEq, ::serde::Serialize, ::serde::Deserialize)]
                    #[serde(transparent)]
                    pub struct #name(pub #inner);

                    impl ::std::convert::From<#inner> for #name { fn from(v: #inner) -> Self { Self(v) } }
                    #from_str
                    impl ::std::fmt::Display for #name {
                        fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                            ::std::fmt::Display::fmt(&self.0, f)
                        }
                    }
                }
            }
        }
    });
    let helpers = redaction_helpers(api);
    quote! {
        //! Data types of the API: request and response models.
        #(#items)*
        #helpers
    }
}

/// Whether an object model needs a hand-rolled `Debug` that hides secrets:
/// it has a sensitive field, or the vendor names sensitive keys and the
/// model holds free JSON (its `extra` map or a `json` field).
fn redacts(api: &Api, fields: &[ir::Field], keep_unknown: bool) -> bool {
    fields.iter().any(|f| f.sensitive) || (!api.vendor.sensitive_fields.is_empty() && (keep_unknown || fields.iter().any(|f| holds_json(&f.ty))))
}

/// Free JSON, or a list or map of it.
fn holds_json(ty: &Ty) -> bool {
    match ty {
        Ty::Json => true,
        Ty::List(t) | Ty::Map(t) => holds_json(t),
        _ => false,
    }
}

fn debug_impl(api: &Api, name: &str, fields: &[ir::Field], extra: Option<&Ident>) -> TokenStream {
    let ty = ident(name);
    let scan_json = !api.vendor.sensitive_fields.is_empty();
    let entries = fields.iter().map(|f| {
        let n = ident(&f.rust);
        let label = f.rust.trim_start_matches("r#");
        let value = match (f.sensitive, f.required, &f.ty) {
            (true, true, _) => quote!(&Redacted),
            (true, false, _) => quote!(&self.#n.as_ref().map(|_| Redacted)),
            (false, true, Ty::Json) if scan_json => quote!(&redact_value(&self.#n)),
            (false, false, Ty::Json) if scan_json => quote!(&self.#n.as_ref().map(redact_value)),
            // Lists and maps of free JSON are shown as the JSON they hold, scrubbed.
            (false, true, t) if scan_json && holds_json(t) => quote!(&redact_value(&::serde_json::to_value(&self.#n).unwrap_or_default())),
            (false, false, t) if scan_json && holds_json(t) => quote!(&self.#n.as_ref().map(|v| redact_value(&::serde_json::to_value(v).unwrap_or_default()))),
            _ => quote!(&self.#n),
        };
        quote!(.field(#label, #value))
    });
    let extra = extra.map(|e| {
        let label = e.to_string();
        if scan_json { quote!(.field(#label, &redact_map(&self.#e))) } else { quote!(.field(#label, &self.#e)) }
    });
    quote! {
        impl ::std::fmt::Debug for #ty {
            fn fmt(&self, out: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                out.debug_struct(#name) #(#entries)* #extra .finish()
            }
        }
    }
}

/// `Redacted` and the JSON scrubbers, emitted once per crate when some model uses them.
fn redaction_helpers(api: &Api) -> TokenStream {
    let objects = || api.models.iter().filter_map(|m| match &m.kind {
        ModelKind::Object { fields, keep_unknown } => Some((fields, *keep_unknown)),
        _ => None,
    });
    let any_sensitive = objects().any(|(fs, _)| fs.iter().any(|f| f.sensitive));
    let names = &api.vendor.sensitive_fields;
    let scans = !names.is_empty() && objects().any(|(fs, keep)| keep || fs.iter().any(|f| holds_json(&f.ty)));
    let redacted = any_sensitive.then(|| quote! {
        /// Stands in for a secret in `Debug` output.
        struct Redacted;

        impl ::std::fmt::Debug for Redacted {
            fn fmt(&self, out: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                out.write_str("<redacted>")
            }
        }
    });
    let scrub = scans.then(|| quote! {
        /// Wire names whose values `Debug` hides wherever they occur in free JSON
        /// (the vendor's `sensitive_fields`), compared without regard to ASCII case.
        const SENSITIVE_KEYS: &[&str] = &[#(#names),*];

        fn redact_map(map: &::serde_json::Map<String, ::serde_json::Value>) -> ::serde_json::Map<String, ::serde_json::Value> {
            map.iter()
                .map(|(k, v)| {
                    let hidden = SENSITIVE_KEYS.iter().any(|s| s.eq_ignore_ascii_case(k));
                    (k.clone(), if hidden { ::serde_json::Value::String("<redacted>".to_owned()) } else { redact_value(v) })
                })
                .collect()
        }

        fn redact_value(v: &::serde_json::Value) -> ::serde_json::Value {
            match v {
                ::serde_json::Value::Object(m) => ::serde_json::Value::Object(redact_map(m)),
                ::serde_json::Value::Array(a) => ::serde_json::Value::Array(a.iter().map(redact_value).collect()),
                other => other.clone(),
            }
        }
    });
    quote!(#redacted #scrub)
}

/// Push a scalar (or list of scalars) onto a `Vec<(&str, String)>` of pairs.
/// `value` is a place (`self.x`) when `owned_place`, else a reference (`value`).
fn push_pair(op_id: &str, target: &Ident, wire: &str, value: TokenStream, ty: &Ty, owned_place: bool) -> TokenStream {
    let rt = rt();
    let iter = if owned_place { quote!(&#value) } else { value.clone() };
    match ty {
        Ty::List(_) => quote! { for item in #iter { #target.push((#wire, item.to_string())); } },
        Ty::JsonList(_) => quote! { #target.push((#wire, #rt::encode::json_text(#op_id, #wire, #iter)?)); },
        _ => quote! { #target.push((#wire, #value.to_string())); },
    }
}

/// A Rust expression of type `rust_type(ty)` for a validated client default.
fn literal(ty: &Ty, v: &serde_json::Value) -> TokenStream {
    match (ty, v) {
        (Ty::Integer | Ty::LooseInt, serde_json::Value::Number(n)) => {
            let n = n.as_i64().unwrap_or_default();
            quote!(#n)
        }
        (Ty::Number, serde_json::Value::Number(n)) => {
            let n = n.as_f64().unwrap_or_default();
            quote!(#n)
        }
        (Ty::Boolean | Ty::LooseBool, serde_json::Value::Bool(b)) => quote!(#b),
        (Ty::Model(_), v) => {
            let t = rust_type(ty);
            let s = v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
            quote!(<#t>::from(#s))
        }
        (_, v) => {
            let s = v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
            quote!(String::from(#s))
        }
    }
}

pub(crate) fn emit_operations(api: &Api) -> TokenStream {
    let rt = rt();
    let items = api.operations.iter().map(|op| {
        let b = builder_struct(op);
        let info = format_ident!("{}", op.id.to_uppercase());
        let id = &op.id;
        let method = ident(op.method.as_str());
        let template = &op.path;
        let auth = match &op.auth {
            ir::Auth::None => quote!(#rt::AuthRequirement::None),
            ir::Auth::Schemes(s) => quote!(#rt::AuthRequirement::Schemes(&[#(#s),*])),
        };
        let retryable = op.retryable;
        let inputs = all_inputs(op);
        let required = required_inputs(op);
        let has_binary = inputs.iter().any(|i| *i.ty == Ty::Binary);
        let clone = (!has_binary).then(|| quote!(Clone,));

        let fields = inputs.iter().map(|i| {
            let n = ident(i.rust);
            let t = rust_type(i.ty);
            if i.required { quote!(#n: #t,) } else { quote!(#n: Option<#t>,) }
        });
        let ctor_params = required.iter().map(|i| {
            let n = ident(i.rust);
            let t = rust_type(i.ty);
            quote!(#n: #t)
        });
        let ctor_fields = inputs.iter().map(|i| {
            let n = ident(i.rust);
            match (i.required, i.client_default) {
                (true, _) => quote!(#n,),
                (false, Some(v)) => {
                    let lit = literal(i.ty, v);
                    quote!(#n: Some(#lit),)
                }
                (false, None) => quote!(#n: None,),
            }
        });
        let setters = inputs.iter().filter(|i| !i.required).map(|i| {
            let n = ident(i.rust);
            let (t, conv) = arg_type(api, i.ty);
            let mut lines = vec![if i.description.is_empty() { format!("Sets `{}`.", i.wire) } else { i.description.to_owned() }];
            lines.push(format!("Sent as `{}` in the {}.", i.wire, match i.place { Place::Path => "path", Place::Query => "query string", Place::Header => "headers", Place::Body => "body" }));
            if let Some(d) = i.default {
                lines.push(format!("The document gives `{d}` as the server's default; the client sends nothing when unset."));
            }
            if let Some(d) = i.client_default {
                lines.push(format!("Client-side default: when unset, the client sends `{d}`."));
            }
            let d = docs(lines.iter().map(String::as_str));
            quote! {
                #d
                pub fn #n(mut self, value: #t) -> Self {
                    self.#n = Some(value #conv);
                    self
                }
            }
        });

        // Path.
        let path_expr = {
            let mut fmt = String::new();
            let mut args = Vec::new();
            for part in op.path_parts() {
                match part {
                    PathPart::Lit(l) => fmt.push_str(&l.replace('{', "{{").replace('}', "}}")),
                    PathPart::Param(p) => {
                        fmt.push_str("{}");
                        let input = inputs.iter().find(|i| i.place == Place::Path && i.wire == p).expect("validated");
                        let n = ident(input.rust);
                        let w = input.wire;
                        args.push(quote!(#rt::encode::path_segment(#id, #w, &self.#n)?));
                    }
                }
            }
            if args.is_empty() {
                quote!(String::from(#fmt))
            } else {
                quote!(format!(#fmt, #(#args),*))
            }
        };

        // Query pairs.
        let query_ident = ident("query");
        let query_inputs: Vec<&Input<'_>> = inputs.iter().filter(|i| i.place == Place::Query || (i.place == Place::Body && op.body.as_ref().is_some_and(|b| b.encoding == BodyEncoding::Query))).collect();
        let query_pushes = query_inputs.iter().map(|i| {
            let n = ident(i.rust);
            if i.required {
                push_pair(id, &query_ident, i.wire, quote!(self.#n), i.ty, true)
            } else {
                let inner = push_pair(id, &query_ident, i.wire, quote!(value), i.ty, false);
                quote!(if let Some(value) = &self.#n { #inner })
            }
        });
        let query_stmt = if query_inputs.is_empty() {
            quote!()
        } else {
            quote! {
                let mut query: Vec<(&'static str, String)> = Vec::new();
                #(#query_pushes)*
                request.query = #rt::query::encode(#id, &query)?;
            }
        };

        // Headers.
        let header_stmts = inputs.iter().filter(|i| i.place == Place::Header).map(|i| {
            let n = ident(i.rust);
            let w = i.wire.to_lowercase();
            let insert = quote!(request.headers.insert(#rt::__private::http::HeaderName::from_static(#w), #rt::encode::header_value(#id, #w, value)?););
            if i.required {
                quote!({ let value = &self.#n; #insert })
            } else {
                quote!(if let Some(value) = &self.#n { #insert })
            }
        });

        // Body.
        let body_stmt = match &op.body {
            None => quote!(),
            Some(body) => {
                let body_inputs: Vec<&Input<'_>> = inputs.iter().filter(|i| i.place == Place::Body).collect();
                match body.encoding {
                    BodyEncoding::Query => {
                        let ct = body.content_type.clone().unwrap_or_else(|| "application/x-www-form-urlencoded".into());
                        quote!(request.body = #rt::Body::EmptyWithContentType(#ct);)
                    }
                    BodyEncoding::Json => {
                        let fields = body_inputs.iter().map(|i| {
                            let n = ident(i.rust);
                            let w = i.wire;
                            let t = rust_type(i.ty);
                            if i.required {
                                quote!(#[serde(rename = #w)] #n: &'a #t,)
                            } else {
                                quote!(#[serde(rename = #w, skip_serializing_if = "Option::is_none")] #n: &'a Option<#t>,)
                            }
                        });
                        let inits = body_inputs.iter().map(|i| {
                            let n = ident(i.rust);
                            quote!(#n: &self.#n,)
                        });
                        quote! {
                            #[derive(::serde::Serialize)]
                            struct Body<'a> { #(#fields)* }
                            request.body = #rt::Body::json(#id, &Body { #(#inits)* })?;
                        }
                    }
                    BodyEncoding::Form => {
                        let form_ident = ident("form");
                        let pushes = body_inputs.iter().map(|i| {
                            let n = ident(i.rust);
                            if i.required {
                                push_pair(id, &form_ident, i.wire, quote!(self.#n), i.ty, true)
                            } else {
                                let inner = push_pair(id, &form_ident, i.wire, quote!(value), i.ty, false);
                                quote!(if let Some(value) = &self.#n { #inner })
                            }
                        });
                        quote! {
                            let mut form: Vec<(&'static str, String)> = Vec::new();
                            #(#pushes)*
                            request.body = #rt::Body::Form(#rt::encode::form(#id, &form)?);
                        }
                    }
                    BodyEncoding::Multipart => {
                        let parts = body_inputs.iter().map(|i| {
                            let n = ident(i.rust);
                            let w = i.wire;
                            let add = match i.ty {
                                Ty::Binary => quote!(multipart = multipart.file(#w, value);),
                                Ty::JsonList(_) => quote!(multipart = multipart.text(#w, #rt::encode::json_text(#id, #w, &value)?);),
                                _ => quote!(multipart = multipart.text(#w, value);),
                            };
                            if i.required {
                                quote!({ let value = self.#n; #add })
                            } else {
                                quote!(if let Some(value) = self.#n { #add })
                            }
                        });
                        quote! {
                            let mut multipart = #rt::Multipart::new();
                            #(#parts)*
                            request.body = #rt::Body::Multipart(multipart);
                        }
                    }
                }
            }
        };
        let consumes = op.body.as_ref().is_some_and(|b| b.encoding == BodyEncoding::Multipart);
        let self_param = if consumes { quote!(self) } else { quote!(&self) };
        let client_expr = quote!(self.rt_client.clone());
        let buffer = op.success.content != ContentKind::Binary;

        let out = success_type(op);
        let finish = match (op.success.content, &op.success.ty) {
            (ContentKind::Json, _) => quote!(response.json().await),
            // A token in a text body: surrounding whitespace (a trailing newline) is not part of it.
            (ContentKind::Text, Some(t)) if *t != Ty::String => quote!(response.text().await.map(|text| text.trim().to_owned().into())),
            (ContentKind::Text, _) => quote!(response.text().await),
            (ContentKind::Binary, _) => quote!(Ok(response.into_stream())),
            (ContentKind::Empty | ContentKind::Undocumented, _) => quote!({ let _ = response; Ok(()) }),
        };
        let send_as = (op.success.content == ContentKind::Json && op.success.ty.is_none()).then(|| quote! {
            /// Send, and decode the JSON answer into your own type (the spec does not describe its shape).
            pub async fn send_as<T: ::serde::de::DeserializeOwned>(self) -> crate::Result<T> {
                self.send_raw().await?.json().await
            }
        });

        let paginate = op.pagination.as_ref().map(|p| match p {
            ir::Pagination::Page { param, items, total, item_ty } => {
                let item = rust_type(item_ty);
                let param_input = inputs.iter().find(|i| i.place == Place::Query && i.wire == param).expect("validated");
                let pn = ident(param_input.rust);
                quote! {
                    /// Every item of every page, from the page set with the page setter (default 1) on, fetched as they are consumed:
                    /// `while let Some(item) = pages.next().await { let item = item?; .. }`, or `.try_collect().await`.
                    /// It ends after the reported total, or at the first empty page; a page that repeats an earlier one ends it with [`Error::Paging`](crate::Error::Paging).
                    /// Cap it with `.max_items(n)` or `.max_pages(n)`.
                    pub fn into_stream(self) -> #rt::Paginator<#item> {
                        let first = self.#pn.unwrap_or(1);
                        #rt::paginate::by_page(#id, first, #items, #total, move |page| {
                            let mut next = self.clone();
                            next.#pn = Some(page);
                            async move { next.send_raw().await }
                        })
                    }
                }
            }
            ir::Pagination::Cursor { param, cursor_rust, item_ty, .. } => {
                let item = rust_type(item_ty);
                let param_input = inputs.iter().find(|i| i.place == Place::Query && i.wire == param).expect("validated");
                let pn = ident(param_input.rust);
                let cf = ident(cursor_rust);
                quote! {
                    /// Every item, page after page (each page starts after the last item of the one before), fetched as they are consumed:
                    /// `while let Some(item) = pages.next().await { let item = item?; .. }`, or `.try_collect().await`.
                    /// It ends at the first empty page; a cursor the server already sent ends it with [`Error::Paging`](crate::Error::Paging).
                    /// Cap it with `.max_items(n)` or `.max_pages(n)`.
                    pub fn into_stream(self) -> #rt::Paginator<#item> {
                        let first = ::std::clone::Clone::clone(&self.#pn);
                        #rt::paginate::by_cursor(
                            #id,
                            first,
                            move |cursor| {
                                let mut next = self.clone();
                                next.#pn = cursor;
                                async move { next.send().await }
                            },
                            |item: &#item| ::std::clone::Clone::clone(&item.#cf),
                        )
                    }
                }
            }
        });

        let d = docs(op_doc_lines(api, op).iter().map(String::as_str).chain(["", "Build it with the group method on the client, then `.await` it (or call `.send().await`)."]));
        quote! {
            static #info: #rt::OperationInfo = #rt::OperationInfo {
                id: #id,
                method: #rt::__private::http::Method::#method,
                path_template: #template,
                auth: #auth,
                retryable: #retryable,
            };

            #d
            #[derive(Debug, #clone)]
            #[must_use = "a request does nothing until it is awaited (`.await` or `.send().await`)"]
            pub struct #b {
                rt_client: #rt::Client,
                #(#fields)*
                rt_options: #rt::RequestOptions,
            }

            impl #b {
                pub(crate) fn new(rt_client: #rt::Client, #(#ctor_params),*) -> Self {
                    Self { rt_client, #(#ctor_fields)* rt_options: #rt::RequestOptions::default() }
                }

                #(#setters)*

                /// Override retries and timeouts for this call only.
                pub fn options(mut self, options: #rt::RequestOptions) -> Self {
                    self.rt_options = options;
                    self
                }

                fn request(#self_param) -> crate::Result<(#rt::Client, #rt::Request)> {
                    let mut request = #rt::Request::new(&#info, #path_expr);
                    request.options = self.rt_options;
                    request.buffer = #buffer;
                    #query_stmt
                    #(#header_stmts)*
                    #body_stmt
                    Ok((#client_expr, request))
                }

                /// Send the request and return the raw success response (status, headers, body).
                pub async fn send_raw(self) -> crate::Result<#rt::Response> {
                    let (client, request) = self.request()?;
                    client.execute(request).await
                }

                /// Send the request and decode the answer.
                pub async fn send(self) -> crate::Result<#out> {
                    let response = self.send_raw().await?;
                    #finish
                }

                #send_as
                #paginate
            }

            /// `.await` sends the request, like [`send`](Self::send).
            impl ::std::future::IntoFuture for #b {
                type Output = crate::Result<#out>;
                type IntoFuture = ::std::pin::Pin<Box<dyn ::std::future::Future<Output = crate::Result<#out>> + Send>>;
                fn into_future(self) -> Self::IntoFuture {
                    Box::pin(self.send())
                }
            }
        }
    });
    quote! {
        //! Request builders, one per operation. Create them through the client's group methods.
        #(#items)*
    }
}

/// Required arguments `(rust name, type)` in order, for docs and examples.
pub fn required_args(op: &Operation) -> Vec<(String, Ty)> {
    required_inputs(op).iter().map(|i| (i.rust.to_owned(), i.ty.clone())).collect()
}

/// Optional setters `(rust name, type)`.
pub fn optional_args(op: &Operation) -> Vec<(String, Ty)> {
    all_inputs(op).iter().filter(|i| !i.required).map(|i| (i.rust.to_owned(), i.ty.clone())).collect()
}
