//! IR → Rust source of a client crate. Pure: tokens in, strings out.
//!
//! One module per emitted source file: `lib` (the client, its builder and the
//! group types), `models` (data types) and `operations` (request builders).
//! This module holds what they share: identifiers, types, docs and the `use`
//! lines each file needs (`Uses`).

pub mod builder;
pub mod fmt;
pub mod kit;
mod lib;
mod models;
mod operations;

use std::cell::RefCell;
use std::collections::BTreeSet;

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::ir::{self, Api, BodyEncoding, ContentKind, ModelKind, Operation, ParamLocation, PathPart, Ty};
use crate::names;

pub(crate) use kit::emit_mock;
pub(crate) use lib::emit_lib;
pub(crate) use models::emit_models;
pub(crate) use operations::emit_operations;

thread_local! {
    /// The paths the file being emitted on this thread names, for its `use` lines.
    static USES: RefCell<BTreeSet<String>> = const { RefCell::new(BTreeSet::new()) };
}

/// The `use` lines of one generated file: items named through [`rt`], [`used`]
/// and [`type_in`] while a file is emitted are collected on its thread, and
/// [`Uses::finish`] turns them into `use` items.
pub(crate) struct Uses;

impl Uses {
    /// Start a file: forget what the last file on this thread used.
    pub(crate) fn start() -> Uses {
        USES.with(|u| u.borrow_mut().clear());
        Uses
    }

    /// The `use` items for what the file named, sorted.
    /// `skip`: paths the file has by other means (`lib.rs` declares `models`).
    pub(crate) fn finish(self, skip: &[&str]) -> TokenStream {
        let paths = USES.with(|u| std::mem::take(&mut *u.borrow_mut()));
        // One `use` per parent path: `use snapsdk_runtime::{encode, Client};`.
        let mut by_parent: std::collections::BTreeMap<&str, Vec<&str>> = std::collections::BTreeMap::new();
        for p in paths.iter().filter(|p| !skip.contains(&p.as_str())) {
            let (parent, last) = p.rsplit_once("::").unwrap_or(("", p));
            by_parent.entry(parent).or_default().push(last);
        }
        let items = by_parent.iter().map(|(parent, lasts)| {
            let parent: syn::Path = syn::parse_str(parent).expect("generator paths parse");
            let lasts: Vec<Ident> = lasts.iter().map(|l| ident(l)).collect();
            if lasts.len() == 1 {
                quote!(use #parent::#(#lasts)*;)
            } else {
                quote!(use #parent::{#(#lasts),*};)
            }
        });
        quote!(#(#items)*)
    }
}

/// Record that the current file names `path` (`std::fmt`) and return its last segment.
pub(crate) fn used(path: &str) -> TokenStream {
    USES.with(|u| u.borrow_mut().insert(path.to_owned()));
    let last = ident(path.rsplit("::").next().unwrap_or(path));
    quote!(#last)
}

/// A runtime item, imported by the file that names it: `rt("Client")` → `Client`.
pub(crate) fn rt(item: &str) -> TokenStream {
    used(&format!("snapsdk_runtime::{item}"))
}

/// An `http` item, through the runtime's re-export.
pub(crate) fn http(item: &str) -> TokenStream {
    used(&format!("snapsdk_runtime::__private::http::{item}"))
}

pub(crate) fn ident(s: &str) -> Ident {
    Ident::new(s, Span::call_site())
}

/// Doc comment lines as `#[doc = "..."]` attributes.
/// Spec prose is escaped (see [`crate::emit::md_escape`]); our own lines use backticks for code.
pub(crate) fn docs<'a>(lines: impl IntoIterator<Item = &'a str>) -> TokenStream {
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
        let marker: String = tick
            .map(|c| t.chars().take_while(|x| *x == c).collect())
            .unwrap_or_default();
        if marker.len() >= 3 {
            let lang = t[marker.len()..]
                .trim()
                .split([',', ' '])
                .next()
                .unwrap_or("")
                .to_lowercase();
            let lang = if PROSE_FENCES.contains(&lang.as_str()) {
                lang
            } else {
                "text".to_owned()
            };
            out.push(format!(" {marker}{lang}"));
            fence = Some(marker);
            continue;
        }
        let x = if x.starts_with("    ") || x.starts_with('\t') {
            t
        } else {
            x
        };
        let x = for_users(x);
        out.push(if x.is_empty() {
            String::new()
        } else {
            format!(" {}", crate::emit::md_escape(&x))
        });
    }
    out
}
/// The maintainers' notes folder is not in a published crate: rustdoc keeps
/// the fact a note states and drops the pointer to that folder (specs and
/// API.md keep it).
fn for_users(line: &str) -> String {
    const NOTES: &str = "shared/vendor-docs/README.md";
    line.replace(&format!(" ({NOTES})"), "")
        .replace(&format!("({NOTES}, "), "(")
        .replace(&format!("({NOTES}; "), "(")
        .replace(&format!(", see {NOTES}"), "")
        .replace(&format!(", {NOTES}"), "")
        .replace(NOTES, "the maintainers' notes")
}

/// Already escaped doc lines as `#[doc]` attributes.
pub(crate) fn doc_attrs(lines: &[String]) -> TokenStream {
    quote!(#(#[doc = #lines])*)
}

/// Doc lines with code spans that name a model or an operation turned into intra-doc links.
pub(crate) fn docs_linked<'a>(api: &Api, lines: impl IntoIterator<Item = &'a str>) -> TokenStream {
    doc_attrs(&linked(api, doc_lines(lines)))
}

/// Escaped doc lines with `` `Model` `` → ``[`Model`](crate::Model)`` and
/// `` `op_id` `` → its group method, outside fenced blocks.
pub(crate) fn linked(api: &Api, lines: Vec<String>) -> Vec<String> {
    let mut fence = false;
    lines
        .into_iter()
        .map(|l| {
            if l.trim_start().starts_with("```") || l.trim_start().starts_with("~~~") {
                fence = !fence;
            }
            if fence || !l.contains('`') {
                return l;
            }
            let parts: Vec<&str> = l.split('`').collect();
            let mut out = String::new();
            for (i, p) in parts.iter().enumerate() {
                let target = (i % 2 == 1 && i + 1 < parts.len())
                    .then(|| link_target(api, p))
                    .flatten();
                match target {
                    Some(t) => out.push_str(&format!("[`{p}`]({t})")),
                    None if i % 2 == 1 => out.push_str(&format!("`{p}`")),
                    None => out.push_str(p),
                }
            }
            out
        })
        .collect()
}

/// Where a code span's name links to, if it names a model or an operation id.
fn link_target(api: &Api, name: &str) -> Option<String> {
    if api.models.iter().any(|m| m.name == name) {
        return Some(format!("crate::{name}"));
    }
    let op = api.operations.iter().find(|o| o.id == name)?;
    Some(format!(
        "crate::{}::{}",
        names::group_type(&op.group),
        names::method(&op.group, &op.id)
    ))
}

/// The group methods whose answer is a `model` (or a list or page of it), as intra-doc links.
pub(crate) fn operations_using(api: &Api, model: &str) -> Vec<String> {
    fn names_model(ty: &Ty, model: &str) -> bool {
        match ty {
            Ty::Model(m) => m == model,
            Ty::List(t) | Ty::JsonList(t) | Ty::Map(t) => names_model(t, model),
            _ => false,
        }
    }
    api.operations
        .iter()
        .filter(|o| o.success.ty.as_ref().is_some_and(|t| names_model(t, model)))
        .map(|o| {
            let path = format!("{}::{}", names::group_type(&o.group), names::method(&o.group, &o.id));
            format!("[`{path}`](crate::{path})")
        })
        .collect()
}

/// A prelude trait (`From`, `Into`) as the crate can name it: qualified when a model takes its name.
pub(crate) fn prelude(api: &Api, name: &str) -> TokenStream {
    let n = ident(name);
    if api.models.iter().any(|m| m.name == name) {
        quote!(std::convert::#n)
    } else {
        quote!(#n)
    }
}

/// Where a file names a model: from `models.rs` itself, or through `models::` elsewhere.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    Models,
    Elsewhere,
}

/// The Rust type that holds a value of `ty`, as `apidiff` prints it.
pub fn rust_type(ty: &Ty) -> TokenStream {
    match ty {
        Ty::Model(m) => {
            let m = ident(m);
            quote!(crate::models::#m)
        }
        Ty::List(t) | Ty::JsonList(t) => {
            let t = rust_type(t);
            quote!(Vec<#t>)
        }
        Ty::Map(t) => {
            let t = rust_type(t);
            quote!(std::collections::BTreeMap<String, #t>)
        }
        _ => USES.with(|u| {
            // Printing a type for a report names nothing in a file.
            let saved = u.borrow().clone();
            let t = type_in(ty, Scope::Elsewhere);
            *u.borrow_mut() = saved;
            t
        }),
    }
}

/// The Rust type that holds a value of `ty`, in a file of `scope`.
pub(crate) fn type_in(ty: &Ty, scope: Scope) -> TokenStream {
    match ty {
        Ty::String => quote!(String),
        Ty::Integer | Ty::LooseInt => quote!(i64),
        Ty::Number => quote!(f64),
        Ty::Boolean | Ty::LooseBool => quote!(bool),
        Ty::Date => rt("NaiveDate"),
        Ty::Timestamp => rt("Timestamp"),
        Ty::Alternatives => rt("Alternatives"),
        Ty::Json => quote!(serde_json::Value),
        Ty::Binary => rt("FilePart"),
        Ty::List(t) | Ty::JsonList(t) => {
            let t = type_in(t, scope);
            quote!(Vec<#t>)
        }
        Ty::Map(t) => {
            let t = type_in(t, scope);
            let map = used("std::collections::BTreeMap");
            quote!(#map<String, #t>)
        }
        Ty::Model(m) => {
            let m = ident(m);
            match scope {
                Scope::Models => quote!(#m),
                Scope::Elsewhere => {
                    let models = used("crate::models");
                    quote!(#models::#m)
                }
            }
        }
    }
}

/// How a setter or argument takes a value of `ty`: `(parameter type, conversion)`.
pub(crate) fn arg_type(api: &Api, ty: &Ty, scope: Scope) -> (TokenStream, TokenStream) {
    let rust = type_in(ty, scope);
    let into = prelude(api, "Into");
    let by_into = |t: TokenStream| (quote!(impl #into<#t>), quote!(.into()));
    match ty {
        Ty::String | Ty::Alternatives => by_into(rust),
        // Any list of things that convert: `["a", "b"]`, a `Vec<String>`, an iterator.
        Ty::JsonList(inner) => {
            let (item, _) = arg_type(api, inner, scope);
            let item = if item.to_string().starts_with("impl") {
                item
            } else {
                quote!(impl #into<#item>)
            };
            (
                quote!(impl IntoIterator<Item = #item>),
                quote!(.into_iter().map(#into::into).collect()),
            )
        }
        Ty::Model(m) => match api.models.iter().find(|x| &x.name == m).map(|x| &x.kind) {
            Some(ModelKind::Newtype { .. } | ModelKind::OneOf { .. } | ModelKind::Enum { .. }) => by_into(rust),
            _ => (rust, quote!()),
        },
        _ => (rust, quote!()),
    }
}

pub(crate) fn is_model_kind(api: &Api, ty: &Ty, f: impl Fn(&ModelKind) -> bool) -> bool {
    matches!(ty, Ty::Model(m) if api.models.iter().any(|x| &x.name == m && f(&x.kind)))
}

/// Whether a type can derive `Default` (for model structs).
pub(crate) fn has_default(ty: &Ty) -> bool {
    !matches!(
        ty,
        Ty::Model(_) | Ty::Date | Ty::Timestamp | Ty::Alternatives | Ty::Binary
    )
}

pub(crate) fn groups(api: &Api) -> Vec<(String, Vec<&Operation>)> {
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

pub(crate) fn group_struct(group: &str) -> Ident {
    ident(&names::group_type(group))
}

pub(crate) fn builder_struct(op: &Operation) -> Ident {
    ident(&names::pascal(&op.id))
}

/// Required inputs of an operation, in order: path params, then required query/header params, then required body fields.
pub(crate) fn required_inputs(op: &Operation) -> Vec<Input<'_>> {
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
            if let Some(p) = op
                .params
                .iter()
                .find(|p| p.location == ParamLocation::Path && p.wire == name)
            {
                out.push(Input {
                    wire: &p.wire,
                    rust: &p.rust,
                    ty: &p.ty,
                    required: true,
                    description: &p.description,
                    default: p.default.as_ref(),
                    client_default: None,
                    place: Place::Path,
                });
            }
        }
    }
    for p in op.params.iter().filter(|p| p.location != ParamLocation::Path) {
        out.push(Input {
            wire: &p.wire,
            rust: &p.rust,
            ty: &p.ty,
            required: p.required,
            description: &p.description,
            default: p.default.as_ref(),
            client_default: p.client_default.as_ref(),
            place: place(p.location),
        });
    }
    if let Some(b) = &op.body {
        for f in &b.fields {
            out.push(Input {
                wire: &f.wire,
                rust: &f.rust,
                ty: &f.ty,
                required: f.required,
                description: &f.description,
                default: f.default.as_ref(),
                client_default: f.client_default.as_ref(),
                place: Place::Body,
            });
        }
    }
    out
}

/// Where an input really goes, for its docs: a body sent as a query string puts its fields there.
pub(crate) fn sent_in(op: &Operation, input: &Input<'_>) -> &'static str {
    let query_body = op.body.as_ref().is_some_and(|b| b.encoding == BodyEncoding::Query);
    match input.place {
        Place::Path => "path",
        Place::Query => "query string",
        Place::Body if query_body => "query string",
        Place::Header => "headers",
        Place::Body => "body",
    }
}

/// The Rust type `.send()` returns.
pub(crate) fn success_type(op: &Operation) -> TokenStream {
    match (op.success.content, &op.success.ty) {
        (ContentKind::Json | ContentKind::Text, Some(t)) => type_in(t, Scope::Elsewhere),
        (ContentKind::Json, None) => quote!(serde_json::Value),
        (ContentKind::Text, None) => quote!(String),
        (ContentKind::Binary, _) => rt("ByteStream"),
        (ContentKind::Empty | ContentKind::Undocumented, _) => quote!(()),
    }
}

/// `client.group().op(args)` as docs show it.
pub fn call_signature(op: &Operation) -> String {
    let args: Vec<&str> = required_inputs(op).iter().map(|i| i.rust).collect();
    format!(
        "client.{}().{}({})",
        names::snake(&op.group),
        names::method(&op.group, &op.id),
        args.join(", ")
    )
}

pub(crate) fn op_doc_lines(api: &Api, op: &Operation) -> Vec<String> {
    let mut lines = vec![
        op.summary.clone(),
        String::new(),
        format!("`{} {}`", op.method.as_str(), op.path),
        String::new(),
    ];
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
        ir::Auth::Schemes(s) if s != &api.vendor.default_auth => {
            lines.push(format!("Accepts only the auth schemes: {}.", s.join(", ")))
        }
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
/// Required arguments `(rust name, type)` in order, for docs and examples.
pub fn required_args(op: &Operation) -> Vec<(String, Ty)> {
    required_inputs(op)
        .iter()
        .map(|i| (i.rust.to_owned(), i.ty.clone()))
        .collect()
}

/// Optional setters `(rust name, type)`.
pub fn optional_args(op: &Operation) -> Vec<(String, Ty)> {
    all_inputs(op)
        .iter()
        .filter(|i| !i.required)
        .map(|i| (i.rust.to_owned(), i.ty.clone()))
        .collect()
}
