//! API-change review: compare two sets of validated specs, classify every
//! difference by its semver impact on the generated crate, and check that the
//! version in the spec moved far enough.
//!
//! The impact is judged on the generated Rust API, because that is what
//! `cargo` and the crate's users see:
//!
//! - **breaking**: code that compiled against the old crate may stop compiling
//!   or silently change meaning (a removed operation, a new required argument,
//!   a changed argument or field type, a removed model, field or enum value);
//! - **minor**: new API only (an operation, an optional setter, a model, a
//!   field of a `#[non_exhaustive]` struct, a value of a `#[non_exhaustive]`
//!   enum);
//! - **patch**: the Rust API is unchanged but the crate behaves or reads
//!   differently (wire names, paths, auth, docs, limits).
//!
//! Below 1.0 the rules are cargo's: a breaking change needs a minor bump
//! (0.1.x → 0.2.0) and anything else a patch bump.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use semver::Version;

use crate::emit::docs::ty_expr;
use crate::emit::rust::{all_inputs, rust_type, Input};
use crate::ir::{Api, Auth, EnumValue, Field, Model, ModelKind, Operation, Pagination, Ty};
use crate::regen::{self, Options, SpecRoot};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Impact {
    Patch,
    Minor,
    Breaking,
}

impl Impact {
    pub fn as_str(self) -> &'static str {
        match self {
            Impact::Patch => "patch",
            Impact::Minor => "minor",
            Impact::Breaking => "breaking",
        }
    }
}

/// One difference and why it has its impact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub impact: Impact,
    /// What changed: `operation tickets.delete_ticket`, `model Ticket field status`.
    pub item: String,
    pub reason: String,
}

/// The outcome for one crate.
#[derive(Debug, Clone)]
pub struct CrateReport {
    pub vendor: String,
    pub crate_name: String,
    pub old_version: Option<String>,
    pub new_version: Option<String>,
    pub changes: Vec<Change>,
}

/// Whether the version bump covers the changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing changed, or the bump is enough.
    Enough,
    /// The new version must be at least this.
    TooSmall { need: Version },
    /// The spec's version went backwards, or does not parse.
    Invalid(String),
    /// A new crate, or one that no longer exists: nothing to compare.
    NotApplicable,
}

impl CrateReport {
    pub fn impact(&self) -> Option<Impact> {
        self.changes.iter().map(|c| c.impact).max()
    }

    pub fn verdict(&self) -> Verdict {
        let (Some(old), Some(new)) = (&self.old_version, &self.new_version) else {
            return Verdict::NotApplicable;
        };
        let (old, new) = match (Version::parse(old), Version::parse(new)) {
            (Ok(o), Ok(n)) => (o, n),
            (Err(e), _) | (_, Err(e)) => return Verdict::Invalid(format!("version is not semver: {e}")),
        };
        if new < old {
            return Verdict::Invalid(format!("version went backwards ({old} → {new})"));
        }
        let Some(impact) = self.impact() else {
            return Verdict::Enough;
        };
        let need = required_version(&old, impact);
        if new >= need {
            Verdict::Enough
        } else {
            Verdict::TooSmall { need }
        }
    }
}

/// The smallest version that may carry changes of `impact` after `old`.
pub fn required_version(old: &Version, impact: Impact) -> Version {
    let patch = Version::new(old.major, old.minor, old.patch + 1);
    match (impact, old.major) {
        (Impact::Breaking, 0) => Version::new(0, old.minor + 1, 0),
        (Impact::Breaking, m) => Version::new(m + 1, 0, 0),
        (Impact::Minor, 0) | (Impact::Patch, _) => patch,
        (Impact::Minor, m) => Version::new(m, old.minor + 1, 0),
    }
}

/// Compare two spec sets vendor by vendor (matched on the vendor name).
pub fn compare(old: &[Api], new: &[Api]) -> Vec<CrateReport> {
    let old_by: BTreeMap<&str, &Api> = old.iter().map(|a| (a.vendor.name.as_str(), a)).collect();
    let new_by: BTreeMap<&str, &Api> = new.iter().map(|a| (a.vendor.name.as_str(), a)).collect();
    let mut names: Vec<&str> = old_by.keys().chain(new_by.keys()).copied().collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .map(|name| match (old_by.get(name), new_by.get(name)) {
            (Some(o), Some(n)) => CrateReport {
                vendor: name.into(),
                crate_name: n.vendor.crate_name.clone(),
                old_version: Some(o.vendor.version.clone()),
                new_version: Some(n.vendor.version.clone()),
                changes: diff_api(o, n),
            },
            (Some(o), None) => CrateReport {
                vendor: name.into(),
                crate_name: o.vendor.crate_name.clone(),
                old_version: Some(o.vendor.version.clone()),
                new_version: None,
                changes: vec![change(
                    Impact::Breaking,
                    format!("vendor {name}"),
                    "the spec folder is gone, so the crate is no longer generated",
                )],
            },
            (None, Some(n)) => CrateReport {
                vendor: name.into(),
                crate_name: n.vendor.crate_name.clone(),
                old_version: None,
                new_version: Some(n.vendor.version.clone()),
                changes: vec![change(Impact::Minor, format!("vendor {name}"), "new crate")],
            },
            (None, None) => unreachable!("name comes from one of the maps"),
        })
        .collect()
}

fn change(impact: Impact, item: impl Into<String>, reason: impl Into<String>) -> Change {
    Change {
        impact,
        item: item.into(),
        reason: reason.into(),
    }
}

fn rs(ty: &Ty) -> String {
    rust_type(ty).to_string().replace(' ', "")
}

/// A type change: breaking when the Rust type differs, patch when only decoding rules do.
fn type_change(old: &Ty, new: &Ty) -> Option<(Impact, String)> {
    if old == new {
        return None;
    }
    let what = format!("type {} → {}", ty_expr(old), ty_expr(new));
    Some(if rs(old) == rs(new) {
        (Impact::Patch, format!("{what}; same Rust type, decoding rules differ"))
    } else {
        (Impact::Breaking, format!("{what}; the Rust type changes"))
    })
}

/// Every difference between two versions of one vendor, in a stable order.
pub fn diff_api(old: &Api, new: &Api) -> Vec<Change> {
    let mut out = Vec::new();
    diff_vendor(old, new, &mut out);
    let old_ops: BTreeMap<&str, &Operation> = old.operations.iter().map(|o| (o.id.as_str(), o)).collect();
    let new_ops: BTreeMap<&str, &Operation> = new.operations.iter().map(|o| (o.id.as_str(), o)).collect();
    for (id, o) in &old_ops {
        match new_ops.get(id) {
            None => out.push(change(
                Impact::Breaking,
                format!("operation {}.{id}", o.group),
                format!("removed; calls to `client.{}().{id}(..)` no longer compile", o.group),
            )),
            Some(n) => diff_operation(o, n, &mut out),
        }
    }
    for (id, n) in &new_ops {
        if !old_ops.contains_key(id) {
            out.push(change(
                Impact::Minor,
                format!("operation {}.{id}", n.group),
                format!("added (`{} {}`)", n.method.as_str(), n.path),
            ));
        }
    }
    let old_models: BTreeMap<&str, &Model> = old.models.iter().map(|m| (m.name.as_str(), m)).collect();
    let new_models: BTreeMap<&str, &Model> = new.models.iter().map(|m| (m.name.as_str(), m)).collect();
    for (name, o) in &old_models {
        match new_models.get(name) {
            None => out.push(change(
                Impact::Breaking,
                format!("model {name}"),
                "removed; code that names the type no longer compiles",
            )),
            Some(n) => diff_model(o, n, &mut out),
        }
    }
    for name in new_models.keys() {
        if !old_models.contains_key(name) {
            out.push(change(Impact::Minor, format!("model {name}"), "added"));
        }
    }
    out
}

fn diff_vendor(old: &Api, new: &Api, out: &mut Vec<Change>) {
    let (o, n) = (&old.vendor, &new.vendor);
    if o.crate_name != n.crate_name {
        out.push(change(
            Impact::Breaking,
            "crate name",
            format!(
                "`{}` → `{}`: a different crate on the registry",
                o.crate_name, n.crate_name
            ),
        ));
    }
    for s in &o.schemes {
        match n.schemes.iter().find(|x| x.id == s.id) {
            None => out.push(change(
                Impact::Breaking,
                format!("auth scheme {}", s.id),
                format!("removed; `ClientBuilder::{}` no longer exists", s.id),
            )),
            Some(x) if x.kind != s.kind || x.header != s.header || x.password != s.password => {
                out.push(change(
                    Impact::Patch,
                    format!("auth scheme {}", s.id),
                    "sends credentials differently",
                ));
            }
            Some(_) => {}
        }
    }
    for s in &n.schemes {
        if !o.schemes.iter().any(|x| x.id == s.id) {
            out.push(change(
                Impact::Minor,
                format!("auth scheme {}", s.id),
                format!("added (`ClientBuilder::{}`)", s.id),
            ));
        }
    }
    let patch = |out: &mut Vec<Change>, item: &str, differs: bool, reason: String| {
        if differs {
            out.push(change(Impact::Patch, item, reason));
        }
    };
    patch(
        out,
        "default auth",
        o.default_auth != n.default_auth,
        format!("[{}] → [{}]", o.default_auth.join(", "), n.default_auth.join(", ")),
    );
    patch(
        out,
        "base URL",
        o.base_url != n.base_url,
        format!("{} → {}", o.base_url, n.base_url),
    );
    let rl = |r: &Option<crate::ir::RateLimit>| {
        r.as_ref()
            .map(|r| format!("{}/{} s", r.requests, r.per_seconds))
            .unwrap_or_else(|| "none".into())
    };
    patch(
        out,
        "rate limit",
        rl(&o.rate_limit) != rl(&n.rate_limit),
        format!("{} → {}", rl(&o.rate_limit), rl(&n.rate_limit)),
    );
    let meta = (&o.title, &o.description, &o.keywords, &o.categories, &o.notes)
        != (&n.title, &n.description, &n.keywords, &n.categories, &n.notes);
    patch(
        out,
        "crate docs",
        meta,
        "title, description, keywords, categories or vendor notes changed".into(),
    );
}

fn auth_text(a: &Auth) -> String {
    match a {
        Auth::None => "public".into(),
        Auth::Schemes(s) => s.join(", "),
    }
}

fn pagination_text(p: &Option<Pagination>) -> String {
    match p {
        None => "none".into(),
        Some(Pagination::Page {
            param,
            items,
            total,
            item_ty,
        }) => format!("page `{param}` over `{items}` up to `{total}` of {}", ty_expr(item_ty)),
        Some(Pagination::Cursor {
            param,
            cursor_field,
            item_ty,
            ..
        }) => format!("cursor `{param}` from `{cursor_field}` of {}", ty_expr(item_ty)),
    }
}

fn diff_operation(o: &Operation, n: &Operation, out: &mut Vec<Change>) {
    let item = format!("operation {}.{}", n.group, n.id);
    if o.group != n.group {
        out.push(change(
            Impact::Breaking,
            &item,
            format!("moved from `client.{}()` to `client.{}()`", o.group, n.group),
        ));
    }
    if (o.method, &o.path) != (n.method, &n.path) {
        out.push(change(
            Impact::Patch,
            &item,
            format!(
                "request line `{} {}` → `{} {}`",
                o.method.as_str(),
                o.path,
                n.method.as_str(),
                n.path
            ),
        ));
    }
    if auth_text(&o.auth) != auth_text(&n.auth) {
        out.push(change(
            Impact::Patch,
            &item,
            format!("auth {} → {}", auth_text(&o.auth), auth_text(&n.auth)),
        ));
    }
    diff_inputs(&item, o, n, out);
    diff_output(&item, o, n, out);
    match (&o.pagination, &n.pagination) {
        (None, Some(_)) => out.push(change(
            Impact::Minor,
            &item,
            format!("new paging helper ({})", pagination_text(&n.pagination)),
        )),
        (Some(_), None) => out.push(change(Impact::Breaking, &item, "paging helper removed")),
        (a, b) if pagination_text(a) != pagination_text(b) => {
            out.push(change(
                Impact::Breaking,
                &item,
                format!("paging {} → {}", pagination_text(a), pagination_text(b)),
            ));
        }
        _ => {}
    }
    if o.retryable != n.retryable {
        out.push(change(
            Impact::Patch,
            &item,
            if n.retryable {
                "now retried on transient failures"
            } else {
                "no longer retried"
            },
        ));
    }
    let errs = |op: &Operation| {
        op.responses
            .iter()
            .map(|r| (r.status, r.ty.as_ref().map(ty_expr)))
            .collect::<Vec<_>>()
    };
    if errs(o) != errs(n) {
        out.push(change(Impact::Patch, &item, "documented error responses changed"));
    }
    if (&o.summary, &o.description, &o.notes, &o.source.file, &o.source.section)
        != (&n.summary, &n.description, &n.notes, &n.source.file, &n.source.section)
    {
        out.push(change(
            Impact::Patch,
            &item,
            "summary, description, source or spec notes changed",
        ));
    }
}

/// The operation's inputs: required ones are positional arguments, optional ones setters.
fn diff_inputs(item: &str, o: &Operation, n: &Operation, out: &mut Vec<Change>) {
    let (oi, ni) = (all_inputs(o), all_inputs(n));
    diff_kept_inputs(item, &oi, &ni, out);
    diff_added_inputs(item, &oi, &ni, out);
    diff_argument_order(item, &oi, &ni, out);
    let (ob, nb) = (
        o.body.as_ref().map(|b| (b.encoding, b.content_type.clone())),
        n.body.as_ref().map(|b| (b.encoding, b.content_type.clone())),
    );
    if ob.is_some() && nb.is_some() && ob != nb {
        out.push(change(Impact::Patch, item, "the request body is encoded differently"));
    }
}

/// Each old input: removed, or how it changed (required, type, wire place, docs).
fn diff_kept_inputs(item: &str, oi: &[Input<'_>], ni: &[Input<'_>], out: &mut Vec<Change>) {
    for i in oi {
        let sub = format!("{item} parameter {}", i.rust);
        let Some(j) = ni.iter().find(|j| j.rust == i.rust) else {
            let how = if i.required { "argument" } else { "setter" };
            out.push(change(
                Impact::Breaking,
                sub,
                format!("removed; the {how} no longer exists"),
            ));
            continue;
        };
        match (i.required, j.required) {
            (true, false) => out.push(change(
                Impact::Breaking,
                &sub,
                "no longer required: it moves from the arguments to a setter",
            )),
            (false, true) => out.push(change(Impact::Breaking, &sub, "now required: it becomes an argument")),
            _ => {}
        }
        if let Some((impact, why)) = type_change(i.ty, j.ty) {
            out.push(change(impact, &sub, why));
        }
        if (i.wire, i.place) != (j.wire, j.place) {
            out.push(change(
                Impact::Patch,
                &sub,
                format!(
                    "sent as {:?} `{}` instead of {:?} `{}`",
                    j.place, j.wire, i.place, i.wire
                )
                .to_lowercase(),
            ));
        }
        if i.default != j.default || i.description != j.description {
            out.push(change(Impact::Patch, &sub, "description or documented default changed"));
        }
    }
}

/// Each new input: a required one breaks existing calls, an optional one is a new setter.
fn diff_added_inputs(item: &str, oi: &[Input<'_>], ni: &[Input<'_>], out: &mut Vec<Change>) {
    for j in ni {
        if !oi.iter().any(|i| i.rust == j.rust) {
            let sub = format!("{item} parameter {}", j.rust);
            if j.required {
                out.push(change(
                    Impact::Breaking,
                    sub,
                    format!(
                        "new required argument ({}); existing calls no longer compile",
                        ty_expr(j.ty)
                    ),
                ));
            } else {
                out.push(change(
                    Impact::Minor,
                    sub,
                    format!("new optional setter `.{}(..)` ({})", j.rust, ty_expr(j.ty)),
                ));
            }
        }
    }
}

/// The positional arguments kept by both versions must keep their order.
fn diff_argument_order(item: &str, oi: &[Input<'_>], ni: &[Input<'_>], out: &mut Vec<Change>) {
    let order = |v: &[Input<'_>]| {
        v.iter()
            .filter(|i| i.required)
            .map(|i| i.rust.to_owned())
            .collect::<Vec<_>>()
    };
    let (oo, no) = (order(oi), order(ni));
    let common_o: Vec<&String> = oo.iter().filter(|x| no.contains(x)).collect();
    let common_n: Vec<&String> = no.iter().filter(|x| oo.contains(x)).collect();
    if common_o != common_n {
        out.push(change(
            Impact::Breaking,
            item,
            format!("argument order ({}) → ({})", oo.join(", "), no.join(", ")),
        ));
    }
}

/// The operation's output: the success response's type, content, status and media type.
fn diff_output(item: &str, o: &Operation, n: &Operation, out: &mut Vec<Change>) {
    let (os, ns) = (&o.success, &n.success);
    match (&os.ty, &ns.ty) {
        (Some(a), Some(b)) => {
            if let Some((impact, why)) = type_change(a, b) {
                out.push(change(impact, item, format!("response {why}")));
            }
        }
        (None, None) => {}
        (a, b) => out.push(change(
            Impact::Breaking,
            item,
            format!(
                "response {} → {}",
                a.as_ref()
                    .map(ty_expr)
                    .unwrap_or_else(|| format!("{:?}", os.content).to_lowercase()),
                b.as_ref()
                    .map(ty_expr)
                    .unwrap_or_else(|| format!("{:?}", ns.content).to_lowercase())
            ),
        )),
    }
    if os.ty.is_none() && ns.ty.is_none() && os.content != ns.content {
        out.push(change(
            Impact::Breaking,
            item,
            format!(
                "response content {:?} → {:?}; the return type changes",
                os.content, ns.content
            )
            .to_lowercase(),
        ));
    }
    if os.status != ns.status || os.media_type != ns.media_type {
        out.push(change(
            Impact::Patch,
            item,
            format!("success status or media type changed ({} → {})", os.status, ns.status),
        ));
    }
}

fn diff_model(o: &Model, n: &Model, out: &mut Vec<Change>) {
    let item = format!("model {}", n.name);
    match (&o.kind, &n.kind) {
        (
            ModelKind::Object {
                fields: of,
                keep_unknown: ok,
            },
            ModelKind::Object {
                fields: nf,
                keep_unknown: nk,
            },
        ) => {
            diff_fields(&item, of, nf, out);
            diff_keep_unknown(&item, *ok, *nk, out);
        }
        (
            ModelKind::Enum {
                values: ov,
                integer: oi,
            },
            ModelKind::Enum {
                values: nv,
                integer: ni,
            },
        ) => {
            diff_enum(&item, (ov, *oi), (nv, *ni), out);
        }
        (ModelKind::OneOf { variants: ov }, ModelKind::OneOf { variants: nv }) => {
            if ov != nv {
                let show = |v: &[(String, Ty)]| {
                    v.iter()
                        .map(|(n, t)| format!("{n}({})", ty_expr(t)))
                        .collect::<Vec<_>>()
                        .join(" | ")
                };
                out.push(change(
                    Impact::Breaking,
                    &item,
                    format!("variants {} → {}", show(ov), show(nv)),
                ));
            }
        }
        (ModelKind::Newtype { ty: a }, ModelKind::Newtype { ty: b }) => {
            if let Some((impact, why)) = type_change(a, b) {
                out.push(change(impact, &item, why));
            }
        }
        (a, b) => out.push(change(
            Impact::Breaking,
            &item,
            format!("kind {} → {}", kind_name(a), kind_name(b)),
        )),
    }
    if (&o.description, &o.notes) != (&n.description, &n.notes) {
        out.push(change(Impact::Patch, &item, "description or spec notes changed"));
    }
}

/// Each object field: removed, added, or how it changed.
fn diff_fields(item: &str, of: &[Field], nf: &[Field], out: &mut Vec<Change>) {
    for f in of {
        let sub = format!("{item} field {}", f.rust);
        let Some(g) = nf.iter().find(|g| g.rust == f.rust) else {
            out.push(change(Impact::Breaking, sub, "removed"));
            continue;
        };
        if f.required != g.required {
            out.push(change(
                Impact::Breaking,
                &sub,
                if g.required {
                    "now required: `Option<T>` becomes `T`"
                } else {
                    "now optional: `T` becomes `Option<T>`"
                },
            ));
        }
        if let Some((impact, why)) = type_change(&f.ty, &g.ty) {
            out.push(change(impact, &sub, why));
        }
        if f.wire != g.wire {
            out.push(change(
                Impact::Patch,
                &sub,
                format!("wire name `{}` → `{}`", f.wire, g.wire),
            ));
        }
        if f.description != g.description || f.default != g.default {
            out.push(change(Impact::Patch, &sub, "description or documented default changed"));
        }
    }
    for g in nf {
        if !of.iter().any(|f| f.rust == g.rust) {
            let sub = format!("{item} field {}", g.rust);
            if g.required {
                out.push(change(
                    Impact::Breaking,
                    sub,
                    "new required field: bodies without it stop decoding, and the struct may lose `Default`",
                ));
            } else {
                out.push(change(
                    Impact::Minor,
                    sub,
                    format!(
                        "new optional field ({}); the struct is `#[non_exhaustive]`",
                        ty_expr(&g.ty)
                    ),
                ));
            }
        }
    }
}

/// Whether the struct keeps unknown fields in an `extra` map.
fn diff_keep_unknown(item: &str, ok: bool, nk: bool, out: &mut Vec<Change>) {
    match (ok, nk) {
        (true, false) => out.push(change(
            Impact::Breaking,
            item,
            "no longer keeps unknown fields: the `extra` map is gone",
        )),
        (false, true) => out.push(change(Impact::Minor, item, "now keeps unknown fields in `extra`")),
        _ => {}
    }
}

/// Each enum value: removed, added or re-spelled on the wire; and number versus string.
fn diff_enum(item: &str, (ov, oi): (&[EnumValue], bool), (nv, ni): (&[EnumValue], bool), out: &mut Vec<Change>) {
    for v in ov {
        match nv.iter().find(|w| w.rust == v.rust) {
            None => out.push(change(
                Impact::Breaking,
                format!("{item} value {}", v.rust),
                "removed; the variant no longer exists",
            )),
            Some(w) if w.wire != v.wire => out.push(change(
                Impact::Patch,
                format!("{item} value {}", v.rust),
                format!("wire value `{}` → `{}`", v.wire, w.wire),
            )),
            Some(_) => {}
        }
    }
    for w in nv {
        if !ov.iter().any(|v| v.rust == w.rust) {
            out.push(change(
                Impact::Minor,
                format!("{item} value {}", w.rust),
                "added; the enum is `#[non_exhaustive]` (the value used to decode as `Unknown`)",
            ));
        }
    }
    if oi != ni {
        out.push(change(
            Impact::Patch,
            item,
            "sent as a number instead of a string, or back",
        ));
    }
}

fn kind_name(k: &ModelKind) -> &'static str {
    match k {
        ModelKind::Object { .. } => "object",
        ModelKind::Enum { .. } => "enum",
        ModelKind::OneOf { .. } => "one_of",
        ModelKind::Newtype { .. } => "newtype",
    }
}

/// Add the changes the *generator* made to each crate's public API since `rev`.
///
/// The spec comparison above reads both spec sets through today's generator,
/// so a generator-side change (a naming rule, an argument order) is invisible
/// to it. The committed surface snapshot
/// (`xtask/tests/snapshots/regen__surface_<vendor>.snap`, one line per
/// operation as `emit::surface` writes it) records the API as it was
/// generated at `rev`; the surface today's generator makes from the specs of
/// `rev` differs from it exactly by what the generator changed. (What the
/// specs changed is what [`diff_api`] reports, so nothing is counted twice.)
/// A vendor without a snapshot at `rev` is left to the spec comparison.
pub fn add_surface_changes(root: &Path, rev: &str, old: &[Api], reports: &mut [CrateReport]) -> Result<(), String> {
    for api in old {
        let Some(report) = reports.iter_mut().find(|r| r.vendor == api.vendor.name) else {
            continue;
        };
        let path = crate::emit::surface_snapshot_path(api);
        let out = std::process::Command::new("git")
            .args(["show", &format!("{rev}:{path}")])
            .current_dir(root)
            .output()
            .map_err(|e| format!("could not run git: {e}"))?;
        if !out.status.success() {
            continue;
        }
        let before = String::from_utf8_lossy(&out.stdout);
        report
            .changes
            .extend(diff_surface(snapshot_body(&before), &crate::emit::surface(api)));
    }
    Ok(())
}

/// The surface lines of a snapshot file: what follows insta's `---` header.
fn snapshot_body(text: &str) -> &str {
    match text.strip_prefix("---\n").and_then(|t| t.split_once("\n---\n")) {
        Some((_, body)) => body,
        None => text,
    }
}

/// One line of a surface: `client.g().m(a, b) .opt() -> GET /p [public] [paged] => Out`.
#[derive(Debug, PartialEq, Eq)]
struct SurfaceLine<'a> {
    /// `client.g().m`: what a caller's code names.
    call: &'a str,
    args: &'a str,
    setters: Vec<&'a str>,
    request: &'a str,
    public: bool,
    paged: bool,
    out: &'a str,
}

fn surface_line(line: &str) -> Option<SurfaceLine<'_>> {
    let (left, right) = line.split_once(" -> ")?;
    let (req, out) = right.rsplit_once(" => ")?;
    let open = left.match_indices('(').nth(1)?.0;
    let close = open + left[open..].find(')')?;
    let setters = left[close + 1..]
        .split("()")
        .map(|s| s.trim().trim_start_matches('.'))
        .filter(|s| !s.is_empty())
        .collect();
    let (public, paged) = (req.contains(" [public]"), req.contains(" [paged]"));
    let request = req.split(" [").next().unwrap_or(req);
    Some(SurfaceLine {
        call: &left[..open],
        args: &left[open + 1..close],
        setters,
        request,
        public,
        paged,
        out,
    })
}

fn parse_surface(text: &str) -> Vec<(Option<SurfaceLine<'_>>, String)> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| (surface_line(l), l.to_owned()))
        .collect()
}

/// The changes from one surface to another, judged as the compiler would:
/// a call that no longer compiles is breaking, new API minor, the rest patch.
/// A line that does not parse is compared whole (removed: breaking).
pub fn diff_surface(before: &str, after: &str) -> Vec<Change> {
    let (old, new) = (parse_surface(before), parse_surface(after));
    let key =
        |p: &(Option<SurfaceLine<'_>>, String)| p.0.as_ref().map(|l| l.call.to_owned()).unwrap_or_else(|| p.1.clone());
    let mut out = Vec::new();
    let item = |k: &str| format!("surface {k}");
    for o in &old {
        let k = key(o);
        let Some(n) = new.iter().find(|n| key(n) == k) else {
            // The same request under another name is a rename.
            let renamed = o.0.as_ref().and_then(|ol| {
                new.iter()
                    .filter_map(|n| n.0.as_ref())
                    .find(|nl| nl.request == ol.request && !old.iter().any(|x| key(x) == nl.call))
            });
            let why = match renamed {
                Some(nl) => format!(
                    "renamed by the generator to `{}({})`; calls to `{k}(..)` no longer compile",
                    nl.call, nl.args
                ),
                None => format!("gone from the generated API; calls to `{k}(..)` no longer compile"),
            };
            out.push(change(Impact::Breaking, item(&k), why));
            continue;
        };
        let (Some(ol), Some(nl)) = (&o.0, &n.0) else { continue };
        let mut push = |impact, why: String| out.push(change(impact, item(&k), why));
        if ol.args != nl.args {
            push(Impact::Breaking, format!("arguments ({}) → ({})", ol.args, nl.args));
        }
        for s in ol.setters.iter().filter(|s| !nl.setters.contains(s)) {
            push(Impact::Breaking, format!("setter `.{s}(..)` is gone"));
        }
        for s in nl.setters.iter().filter(|s| !ol.setters.contains(s)) {
            push(Impact::Minor, format!("new setter `.{s}(..)`"));
        }
        if ol.out != nl.out {
            push(Impact::Breaking, format!("answers {} instead of {}", nl.out, ol.out));
        }
        match (ol.paged, nl.paged) {
            (true, false) => push(Impact::Breaking, "paging helper `into_stream` is gone".into()),
            (false, true) => push(Impact::Minor, "new paging helper `into_stream`".into()),
            _ => {}
        }
        if (ol.request, ol.public) != (nl.request, nl.public) {
            push(Impact::Patch, format!("request `{}` → `{}`", ol.request, nl.request));
        }
    }
    for n in &new {
        let k = key(n);
        if !old.iter().any(|o| key(o) == k) {
            out.push(change(Impact::Minor, item(&k), "added to the generated API"));
        }
    }
    out
}

/// The pull-request comment: a summary table, then every change per crate.
pub fn markdown(base: &str, reports: &[CrateReport]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "## API changes since `{base}`\n");
    let _ = writeln!(s, "| crate | version | impact | bump |");
    let _ = writeln!(s, "|---|---|---|---|");
    for r in reports {
        let version = match (&r.old_version, &r.new_version) {
            (Some(a), Some(b)) if a == b => a.clone(),
            (Some(a), Some(b)) => format!("{a} → {b}"),
            (Some(a), None) => format!("{a} → (removed)"),
            (None, Some(b)) => format!("(new) {b}"),
            (None, None) => String::new(),
        };
        let impact = r.impact().map(Impact::as_str).unwrap_or("none");
        let bump = match r.verdict() {
            Verdict::Enough if r.changes.is_empty() => "not needed".to_owned(),
            Verdict::Enough => "enough".to_owned(),
            Verdict::TooSmall { need } => format!("**too small: needs {need} or later**"),
            Verdict::Invalid(why) => format!("**{why}**"),
            Verdict::NotApplicable => "n/a".to_owned(),
        };
        let _ = writeln!(s, "| `{}` | {version} | {impact} | {bump} |", r.crate_name);
    }
    for r in reports.iter().filter(|r| !r.changes.is_empty()) {
        let _ = writeln!(s, "\n### `{}` (specs/{}/)", r.crate_name, r.vendor);
        for impact in [Impact::Breaking, Impact::Minor, Impact::Patch] {
            let items: Vec<&Change> = r.changes.iter().filter(|c| c.impact == impact).collect();
            if items.is_empty() {
                continue;
            }
            let _ = writeln!(s, "\n**{}** ({})\n", impact.as_str(), items.len());
            for c in items {
                let _ = writeln!(s, "- `{}`: {}", c.item, c.reason);
            }
        }
    }
    s
}

/// Problems that make `regen --check` fail: one line per crate whose bump is short.
pub fn gate_failures(reports: &[CrateReport]) -> Vec<String> {
    let mut out = Vec::new();
    for r in reports {
        let worst = r.changes.iter().max_by_key(|c| c.impact);
        match r.verdict() {
            Verdict::TooSmall { need } => out.push(format!(
                "{}: specs/{}/vendor.yaml keeps version {} but the API has {} changes (first: `{}`: {}); set `crate.version` to {need} or later",
                r.crate_name,
                r.vendor,
                r.new_version.as_deref().unwrap_or_default(),
                r.impact().map(Impact::as_str).unwrap_or_default(),
                worst.map(|c| c.item.as_str()).unwrap_or_default(),
                worst.map(|c| c.reason.as_str()).unwrap_or_default(),
            )),
            Verdict::Invalid(why) => out.push(format!("{}: specs/{}/vendor.yaml: {why}", r.crate_name, r.vendor)),
            Verdict::Enough | Verdict::NotApplicable => {}
        }
    }
    out
}

/// Why specs could not be loaded for a comparison (the messages are the ones the commands print).
#[derive(Debug, thiserror::Error)]
pub enum SpecsError {
    /// The specs do not validate: one entry per diagnostic.
    #[error("{}", .0.join("\n"))]
    Invalid(Vec<String>),
    /// The revision names no commit.
    #[error("`{0}` is not a git revision of this repository; give a commit, branch or tag (e.g. origin/main)")]
    NotARevision(String),
    /// The specs at a revision could not be loaded with this generator.
    #[error("the specs at {rev} do not validate with this generator, so they cannot be compared:\n{error}")]
    AtRevision { rev: String, error: Box<SpecsError> },
    /// Anything else (running git, files), as its message.
    #[error("{0}")]
    Other(String),
}

impl From<String> for SpecsError {
    fn from(message: String) -> Self {
        SpecsError::Other(message)
    }
}

impl From<SpecsError> for String {
    fn from(e: SpecsError) -> Self {
        e.to_string()
    }
}

/// Load and validate the vendor specs of one folder (`<dir>/<vendor>/*.yaml`).
pub fn load_specs(root: &Path, specs: &str) -> Result<Vec<Api>, SpecsError> {
    let opts = Options {
        root,
        spec_roots: vec![SpecRoot {
            specs: PathBuf::from(specs),
            crates: PathBuf::from("crates"),
            check_sources: false,
        }],
        docs: None,
        vendor: None,
        check: true,
    };
    regen::load(&opts).map_err(|f| match f {
        regen::Failure::Spec(diags) => SpecsError::Invalid(diags.iter().map(|d| d.to_string()).collect()),
        regen::Failure::Stale(_) => SpecsError::Other("unexpected stale report".into()),
        regen::Failure::Other(e) => SpecsError::Other(e),
    })
}

/// The workspace's `specs/` as of a git revision, extracted to a scratch folder and validated.
pub fn load_specs_at(root: &Path, rev: &str) -> Result<Vec<Api>, SpecsError> {
    let git = |args: &[&str]| -> Result<Vec<u8>, String> {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .map_err(|e| format!("could not run git: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "`git {}` failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(out.stdout)
    };
    let commit = git(&["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")])
        .map_err(|_| SpecsError::NotARevision(rev.to_owned()))?;
    let commit = String::from_utf8_lossy(&commit).trim().to_owned();
    let list = git(&["ls-tree", "-r", "-z", "--name-only", &commit, "--", "specs"])?;
    let scratch = std::env::temp_dir().join(format!(
        "snapsdk-diff-{}-{}",
        std::process::id(),
        &commit[..12.min(commit.len())]
    ));
    let _ = std::fs::remove_dir_all(&scratch);
    let result = (|| {
        for path in list.split(|b| *b == 0).filter(|p| !p.is_empty()) {
            let path = String::from_utf8_lossy(path);
            if !path.ends_with(".yaml") {
                continue;
            }
            let bytes = git(&["show", &format!("{commit}:{path}")])?;
            let dest = scratch.join(path.as_ref());
            if let Some(dir) = dest.parent() {
                std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            }
            std::fs::write(&dest, bytes).map_err(|e| format!("{}: {e}", dest.display()))?;
        }
        if !scratch.join("specs").is_dir() {
            return Ok(Vec::new());
        }
        load_specs(&scratch, "specs").map_err(|e| SpecsError::AtRevision {
            rev: rev.to_owned(),
            error: Box::new(e),
        })
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

/// What the semver gate of `regen --check` found.
#[derive(Debug, Default)]
pub struct Gate {
    /// What was compared with what, or why a crate was not compared.
    pub notes: Vec<String>,
    /// Crates whose version bump does not cover their changes.
    pub failures: Vec<String>,
    /// Crates not compared for want of a release tag: a skipped check (the notes say so).
    pub skipped: Vec<String>,
}

/// Compare the working tree's specs with a baseline: `base` for every crate,
/// or else each crate's newest release tag `<crate>-v<version>`.
pub fn gate(root: &Path, base: Option<&str>) -> Result<Gate, SpecsError> {
    let new = load_specs(root, "specs")?;
    let mut g = Gate::default();
    let mut reports = Vec::new();
    if let Some(rev) = base {
        let old = load_specs_at(root, rev)?;
        g.notes.push(format!("semver check against {rev}"));
        reports = compare(&old, &new);
        add_surface_changes(root, rev, &old, &mut reports)?;
    } else {
        let tags = release_tags(root);
        let mut untagged = Vec::new();
        for api in &new {
            let Some((_, tag)) = tags.get(&api.vendor.crate_name) else {
                untagged.push(api.vendor.crate_name.clone());
                continue;
            };
            let old: Vec<Api> = load_specs_at(root, tag)?
                .into_iter()
                .filter(|a| a.vendor.name == api.vendor.name)
                .collect();
            g.notes.push(format!(
                "semver check of {} against release tag {tag}",
                api.vendor.crate_name
            ));
            let mut one = compare(&old, std::slice::from_ref(api));
            add_surface_changes(root, tag, &old, &mut one)?;
            reports.extend(one);
        }
        if !untagged.is_empty() {
            g.notes.push(format!(
                "semver check skipped for {}: no release tag `<crate>-v<version>`; pass --base REV to compare with a revision",
                untagged.join(", ")
            ));
            g.skipped = untagged;
        }
    }
    g.failures = gate_failures(&reports);
    Ok(g)
}

/// The newest release tag `<crate>-v<version>` of each crate, if any.
pub fn release_tags(root: &Path) -> BTreeMap<String, (Version, String)> {
    let mut out: BTreeMap<String, (Version, String)> = BTreeMap::new();
    let Ok(o) = std::process::Command::new("git")
        .args(["tag", "--list", "*-v*"])
        .current_dir(root)
        .output()
    else {
        return out;
    };
    for tag in String::from_utf8_lossy(&o.stdout).lines() {
        let Some((krate, v)) = tag.rsplit_once("-v") else {
            continue;
        };
        let Ok(v) = Version::parse(v) else { continue };
        if out.get(krate).is_none_or(|(best, _)| v > *best) {
            out.insert(krate.to_owned(), (v, tag.to_owned()));
        }
    }
    out
}

/// The vendor-document fingerprints (`specs/<vendor>/sources.lock`) that
/// differ between `rev` and the working tree, as markdown: which sections a
/// reviewer should see were re-read.
pub fn source_changes(root: &Path, rev: &str) -> Result<String, String> {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .map_err(|e| format!("could not run git: {e}"))
    };
    let listed = git(&["ls-tree", "-r", "--name-only", rev, "--", "specs"])?;
    if !listed.status.success() {
        return Err(format!(
            "`git ls-tree {rev}` failed: {}",
            String::from_utf8_lossy(&listed.stderr).trim()
        ));
    }
    let mut paths: std::collections::BTreeSet<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter(|p| p.ends_with(crate::sources::LOCK_FILE))
        .map(str::to_owned)
        .collect();
    if let Ok(dirs) = std::fs::read_dir(root.join("specs")) {
        for d in dirs.flatten() {
            if d.path().join(crate::sources::LOCK_FILE).is_file() {
                paths.insert(format!(
                    "specs/{}/{}",
                    d.file_name().to_string_lossy(),
                    crate::sources::LOCK_FILE
                ));
            }
        }
    }
    let mut out = format!("\n## Vendor documents re-read since `{rev}`\n\n");
    let mut any = false;
    for path in &paths {
        let old = git(&["show", &format!("{rev}:{path}")])?;
        let old = if old.status.success() {
            Some(
                crate::sources::Lock::parse(&String::from_utf8_lossy(&old.stdout))
                    .map_err(|e| format!("{path} at {rev}: {e}"))?,
            )
        } else {
            None
        };
        let new = crate::sources::read_lock(&root.join(path)).map_err(|e| e.to_string())?;
        for line in crate::sources::lock_changes(old.as_ref(), new.as_ref()) {
            let _ = writeln!(
                out,
                "- {}: {line}",
                path.trim_end_matches(crate::sources::LOCK_FILE).trim_end_matches('/')
            );
            any = true;
        }
    }
    if !any {
        out.push_str("No source fingerprints changed.\n");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_versions_follow_cargo() {
        let v = |s: &str| Version::parse(s).unwrap();
        assert_eq!(required_version(&v("0.1.3"), Impact::Breaking), v("0.2.0"));
        assert_eq!(required_version(&v("0.1.3"), Impact::Minor), v("0.1.4"));
        assert_eq!(required_version(&v("1.4.2"), Impact::Breaking), v("2.0.0"));
        assert_eq!(required_version(&v("1.4.2"), Impact::Minor), v("1.5.0"));
        assert_eq!(required_version(&v("1.4.2"), Impact::Patch), v("1.4.3"));
    }
}
