//! IR → markdown API reference. Pure.

use std::fmt::Write as _;

/// What the Evidence column means, under a model that has a lenient field.
const EVIDENCE_NOTE: &str = "Evidence: `documented` fields have the type the vendor's document states, and a value of another form fails the answer; `seen` fields (recorded traffic or the vendor's SDK) and `inferred` fields (the type from the name alone) read as absent when the value does not fit, and the value stays in `extra`.";

use crate::emit::rust::call_signature;
use crate::ir::{self, Api, ContentKind, ModelKind, Ty};

/// Render a type expression back to the spec's notation, models as links.
pub fn ty_name(ty: &Ty) -> String {
    match ty {
        Ty::List(t) => format!("list<{}>", ty_name(t)),
        Ty::Map(t) => format!("map<{}>", ty_name(t)),
        Ty::JsonList(t) => format!("json_list<{}>", ty_name(t)),
        Ty::Model(m) => format!("[{m}](#{})", m.to_lowercase()),
        other => other.to_string(),
    }
}

/// A type as the spec writes it (`list<Ticket>`), for plain-text reports:
/// the IR's own [`Display`](std::fmt::Display).
pub fn ty_expr(ty: &Ty) -> String {
    ty.to_string()
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

use crate::emit::md_escape as esc;

pub fn emit(api: &Api, header: &str) -> String {
    let mut out = String::new();
    let w = &mut out;
    overview(w, api, header);
    let v = &api.vendor;
    let _ = writeln!(w, "\n## Authentication\n");
    for s in &v.schemes {
        let default = if v.default_auth.contains(&s.id) {
            " (default)"
        } else {
            ""
        };
        let _ = writeln!(
            w,
            "- `ClientBuilder::{}`{default}: {}",
            crate::names::snake(&s.id),
            s.description
        );
    }
    let public: Vec<&str> = api
        .operations
        .iter()
        .filter(|o| matches!(o.auth, ir::Auth::None))
        .map(|o| o.id.as_str())
        .collect();
    if !public.is_empty() {
        let _ = writeln!(
            w,
            "\nPublic operations send no credentials: {}.",
            public.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
        );
    }
    if !v.notes.is_empty() {
        let _ = writeln!(w, "\n## Vendor-wide decisions\n");
        for n in &v.notes {
            let _ = writeln!(w, "- {}", esc(n.trim()));
        }
    }
    let _ = writeln!(w, "\n## Operations\n");
    let _ = writeln!(w, "| Rust call | HTTP | Source |\n|---|---|---|");
    for op in &api.operations {
        let inferred = if op.source.inferred.is_some() {
            " (inferred)"
        } else {
            ""
        };
        let _ = writeln!(
            w,
            "| [`{}`](#{}) | `{} {}` | {}{inferred} |",
            call_signature(op),
            op.id,
            op.method.as_str(),
            op.path,
            cell(&op.source.cite())
        );
    }
    let mut group = "";
    for op in &api.operations {
        if op.group != group {
            group = &op.group;
            let _ = writeln!(w, "\n## Group `{group}`");
        }
        operation(w, op);
    }
    let _ = writeln!(w, "\n## Models");
    for m in &api.models {
        model(w, m);
    }
    out
}

/// The crate at a glance: base URL, version, rate limit, sources.
fn overview(w: &mut String, api: &Api, header: &str) {
    let v = &api.vendor;
    let _ = writeln!(w, "<!-- {header} -->\n");
    let _ = writeln!(w, "# `{}`: {}\n", v.crate_name, v.title);
    let _ = writeln!(w, "{}\n", v.description);
    let _ = writeln!(w, "- Base URL: `{}`", v.base_url);
    let _ = writeln!(w, "- Crate version: `{}`", v.version);
    let _ = writeln!(w, "- Operations: {}", api.operations.len());
    match &v.rate_limit {
        Some(r) => {
            let _ = writeln!(
                w,
                "- Rate limit: {} requests per {} s, enforced client-side by default ({})",
                r.requests,
                r.per_seconds,
                r.source.cite()
            );
        }
        None => {
            let _ = writeln!(w, "- Rate limit: none documented");
        }
    }
    let _ = writeln!(
        w,
        "- Sources: {}",
        v.sources
            .iter()
            .map(|s| format!("`{}` ({})", s.file, s.title))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

/// One operation: its call, HTTP request, source, auth, inputs, responses, paging and decisions.
fn operation(w: &mut String, op: &ir::Operation) {
    let _ = writeln!(w, "\n### {}\n", op.id);
    let _ = writeln!(w, "{}\n", esc(&op.summary));
    let _ = writeln!(w, "- Rust: `{}`", call_signature(op));
    let _ = writeln!(w, "- HTTP: `{} {}`", op.method.as_str(), op.path);
    let _ = writeln!(w, "- Source: {}", op.source.cite());
    if let Some(why) = &op.source.inferred {
        let _ = writeln!(w, "- **Inferred** method/path: {}", esc(why));
    }
    let auth = match &op.auth {
        ir::Auth::None => "none (public)".to_owned(),
        ir::Auth::Schemes(s) => s.join(" or "),
    };
    let _ = writeln!(w, "- Auth: {auth}");
    let _ = writeln!(
        w,
        "- Retried on failure: {}",
        if op.retryable { "yes" } else { "no (not idempotent)" }
    );
    if let Some(d) = &op.description {
        let _ = writeln!(w, "\n{}", esc(d));
    }
    operation_inputs(w, op);
    operation_responses(w, op);
    if let Some(p) = &op.pagination {
        let text = match p {
            ir::Pagination::Page { param, items, total, .. } => format!("numbered pages via `{param}`; items at `{items}`, total at `{total}`; `.into_stream()` yields every item"),
            ir::Pagination::Cursor { param, cursor_field, .. } => format!("cursor via `{param}` = `{cursor_field}` of the last item; `.into_stream()` yields every item"),
        };
        let _ = writeln!(w, "\nPagination: {text}.");
    }
    if !op.notes.is_empty() {
        let _ = writeln!(w, "\nDecisions:\n");
        for n in &op.notes {
            let _ = writeln!(w, "- {}", esc(n.trim()));
        }
    }
}

/// The parameters and body fields of an operation, as one table.
fn operation_inputs(w: &mut String, op: &ir::Operation) {
    if !op.params.is_empty() || op.body.is_some() {
        let _ = writeln!(
            w,
            "\n| Name | Rust | In | Type | Required | Default | Description |\n|---|---|---|---|---|---|---|"
        );
        for p in &op.params {
            let _ = writeln!(
                w,
                "| `{}` | `{}` | {:?} | {} | {} | {} | {} |",
                p.wire,
                p.rust,
                p.location,
                cell(&ty_name(&p.ty)),
                if p.required { "yes" } else { "no" },
                default_cell(p.default.as_ref(), p.client_default.as_ref()),
                cell(&esc(&p.description))
            );
        }
        if let Some(b) = &op.body {
            let place = format!("{:?} body", b.encoding);
            for f in &b.fields {
                let _ = writeln!(
                    w,
                    "| `{}` | `{}` | {} | {} | {} | {} | {} |",
                    f.wire,
                    f.rust,
                    place,
                    cell(&ty_name(&f.ty)),
                    if f.required { "yes" } else { "no" },
                    default_cell(f.default.as_ref(), f.client_default.as_ref()),
                    cell(&esc(&f.description))
                );
            }
        }
    }
}

fn operation_responses(w: &mut String, op: &ir::Operation) {
    let _ = writeln!(w, "\n| Status | Content | Type | Description |\n|---|---|---|---|");
    for r in &op.responses {
        let content = match (r.content, &r.media_type) {
            (_, Some(m)) => format!("{:?} (`{m}`)", r.content).to_lowercase(),
            (ContentKind::Json, None) => "json".into(),
            (c, None) => format!("{c:?}").to_lowercase(),
        };
        let ty = r.ty.as_ref().map(ty_name).unwrap_or_else(|| {
            if r.content == ContentKind::Json {
                "free JSON".into()
            } else {
                String::new()
            }
        });
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} |",
            r.status,
            content,
            cell(&ty),
            cell(&esc(&r.description))
        );
    }
}

/// One model: its description, source, shape and decisions.
fn model(w: &mut String, m: &ir::Model) {
    let _ = writeln!(w, "\n### {}\n\n{}\n", m.name, esc(&m.description));
    if let Some(s) = &m.source {
        let _ = writeln!(w, "Source: {}\n", s.cite());
    }
    match &m.kind {
        ModelKind::Object { fields, keep_unknown } => {
            let _ = writeln!(
                w,
                "| Field | Rust | Type | Required | Evidence | Description |\n|---|---|---|---|---|---|"
            );
            for f in fields {
                let _ = writeln!(
                    w,
                    "| `{}` | `{}` | {} | {} | {} | {} |",
                    f.wire,
                    f.rust,
                    cell(&ty_name(&f.ty)),
                    if f.required { "yes" } else { "no" },
                    f.evidence.as_str(),
                    cell(&esc(&f.description))
                );
            }
            if *keep_unknown {
                let _ = writeln!(w, "\nFields not listed here are kept in `extra`.");
            }
            if fields.iter().any(|f| f.evidence.lenient()) {
                let _ = writeln!(w, "\n{EVIDENCE_NOTE}");
            }
        }
        ModelKind::Enum { values, .. } => {
            let _ = writeln!(w, "| Wire value | Rust variant | Description |\n|---|---|---|");
            for e in values {
                let _ = writeln!(
                    w,
                    "| `{}` | `{}` | {} |",
                    e.wire,
                    e.rust,
                    cell(e.description.as_deref().unwrap_or(""))
                );
            }
            let _ = writeln!(w, "\nOther values decode to `Unknown(String)`.");
        }
        ModelKind::OneOf { variants } => {
            let _ = writeln!(
                w,
                "One of, tried in order: {}.",
                variants
                    .iter()
                    .map(|(n, t)| format!("`{n}` ({})", ty_name(t)))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        ModelKind::Newtype { ty } => {
            let _ = writeln!(w, "A named {}.", ty_name(ty));
        }
    }
    if !m.notes.is_empty() {
        let _ = writeln!(w, "\nDecisions:\n");
        for n in &m.notes {
            let _ = writeln!(w, "- {}", esc(n.trim()));
        }
    }
}

/// The Default column: the server's documented default, or the value the
/// client sends when the caller sets none.
fn default_cell(server: Option<&serde_json::Value>, client: Option<&serde_json::Value>) -> String {
    match (server, client) {
        (_, Some(c)) => format!("`{c}` (sent by the client when unset)"),
        (Some(d), None) => format!("`{d}` (server's, documented)"),
        (None, None) => String::new(),
    }
}
