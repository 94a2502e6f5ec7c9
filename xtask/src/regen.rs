//! `cargo xtask regen`: the pipeline, with per-stage timings.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::diag::Diags;
use crate::emit;
use crate::write::{self, Report};
use crate::{ir, validate};

#[derive(Debug, Default, Clone, Copy)]
pub struct Timings {
    pub parse_validate: Duration,
    pub emit: Duration,
    pub format: Duration,
    pub write: Duration,
}

#[derive(Debug)]
pub enum Failure {
    /// Spec problems, each `file:line:col: message`.
    Spec(Vec<crate::diag::Diag>),
    /// Check mode found stale files.
    Stale(Report),
    /// Anything else (I/O, bad arguments, generator bug).
    Other(String),
}

/// A folder of vendor specs and the folder their crates are generated into.
#[derive(Debug, Clone)]
pub struct SpecRoot {
    pub specs: PathBuf,
    pub crates: PathBuf,
    /// Check cited sections against the vendor documents.
    pub check_sources: bool,
}

pub struct Options<'a> {
    pub root: &'a Path,
    pub spec_roots: Vec<SpecRoot>,
    pub docs: Option<PathBuf>,
    pub vendor: Option<&'a str>,
    pub check: bool,
}

impl Options<'_> {
    /// The workspace's roots: the vendors, and the generator's test fixtures.
    pub fn workspace(root: &Path, docs: Option<PathBuf>) -> Options<'_> {
        Options {
            root,
            spec_roots: vec![
                SpecRoot { specs: PathBuf::from("specs"), crates: PathBuf::from("crates"), check_sources: true },
                SpecRoot { specs: PathBuf::from("xtask/tests/fixtures"), crates: PathBuf::from("tests/fixtures"), check_sources: false },
            ],
            docs,
            vendor: None,
            check: false,
        }
    }
}

/// Parse, validate and lower every spec.
pub fn load(opts: &Options<'_>) -> Result<Vec<ir::Api>, Failure> {
    load_warned(opts).map(|(apis, _)| apis)
}

/// [`load`], also returning the warnings (which do not stop a run). On
/// failure the warnings are listed with the errors, as they may explain them.
pub fn load_warned(opts: &Options<'_>) -> Result<(Vec<ir::Api>, Vec<crate::diag::Diag>), Failure> {
    let mut diags = Diags::default();
    let mut all = Vec::new();
    let mut known = Vec::new();
    for sr in &opts.spec_roots {
        let dir = opts.root.join(&sr.specs);
        if !dir.is_dir() {
            continue;
        }
        let docs = if sr.check_sources { opts.docs.as_deref() } else { None };
        let found = validate::vendor_names(&dir).map_err(Failure::Other)?;
        let only = match opts.vendor {
            Some(v) if !found.iter().any(|f| f == v) => {
                known.extend(found);
                continue;
            }
            other => other,
        };
        known.extend(found);
        let apis = validate::check_all(&dir, opts.root, docs, only, &mut diags).map_err(Failure::Other)?;
        for mut api in apis {
            api.vendor.crate_dir = format!("{}/{}", sr.crates.display(), api.vendor.crate_name);
            all.push(api);
        }
    }
    if let Some(v) = opts.vendor {
        if !known.iter().any(|k| k == v) {
            return Err(Failure::Other(format!("unknown vendor `{v}`; known vendors: {}", known.join(", "))));
        }
    }
    // Hand-written packages are always taken; with --vendor, so are the other
    // vendors' generated crates, which this run does not load.
    let taken: Vec<(String, PathBuf)> = workspace_packages(opts.root)
        .into_iter()
        .filter(|(_, manifest, generated)| !generated || (opts.vendor.is_some() && !all.iter().any(|a| manifest.parent() == Some(Path::new(&a.vendor.crate_dir)))))
        .map(|(name, manifest, _)| (name, manifest))
        .collect();
    let _ = validate::crate_names(opts.root, &all, &taken, &mut diags);
    let warnings = diags.sorted_warnings();
    if !diags.is_empty() {
        let mut all = diags.sorted();
        all.extend(warnings);
        all.sort();
        return Err(Failure::Spec(all));
    }
    Ok((all, warnings))
}

/// The workspace's packages: `(name, manifest, generated)` for every member
/// manifest the root `Cargo.toml` lists (globs expanded).
pub fn workspace_packages(root: &Path) -> Vec<(String, PathBuf, bool)> {
    let Ok(text) = std::fs::read_to_string(root.join("Cargo.toml")) else { return Vec::new() };
    let Ok(doc) = text.parse::<toml_edit::DocumentMut>() else { return Vec::new() };
    let members: Vec<String> = doc
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(|m| m.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let mut dirs = Vec::new();
    for m in members {
        match m.strip_suffix("/*") {
            Some(parent) => {
                let Ok(rd) = std::fs::read_dir(root.join(parent)) else { continue };
                dirs.extend(rd.flatten().map(|e| PathBuf::from(parent).join(e.file_name())));
            }
            None => dirs.push(PathBuf::from(m)),
        }
    }
    dirs.sort();
    let mut out = Vec::new();
    for dir in dirs {
        let manifest = dir.join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(root.join(&manifest)) else { continue };
        let name = text.parse::<toml_edit::DocumentMut>().ok().and_then(|d| d.get("package")?.get("name")?.as_str().map(str::to_owned));
        if let Some(name) = name {
            out.push((name, manifest, text.contains(write::MARKER)));
        }
    }
    out
}

/// Every generated file's final bytes, keyed by path relative to the root.
pub fn generate(apis: &[ir::Api], timings: &mut Timings) -> Result<BTreeMap<PathBuf, String>, String> {
    let t = Instant::now();
    let mut pending = Vec::new();
    for api in apis {
        let header = emit::header_line(api);
        for (path, content) in emit::vendor_files(api) {
            pending.push((path, content, header.clone()));
        }
    }
    timings.emit += t.elapsed();
    let t = Instant::now();
    let mut files = BTreeMap::new();
    for (path, content, header) in pending {
        let text = write::render(&path, content, &header)?;
        files.insert(PathBuf::from(path), text);
    }
    timings.format += t.elapsed();
    Ok(files)
}

/// The JSON Schema of the spec format, written beside the specs.
pub fn schema_file() -> String {
    let mut vendor = serde_json::to_value(schemars::schema_for!(crate::spec::VendorFile)).unwrap_or_default();
    let api = serde_json::to_value(schemars::schema_for!(crate::spec::ApiFile)).unwrap_or_default();
    // One schema for both kinds of file: a vendor.yaml has `vendor`, the others `operations`/`models`.
    let defs = |v: &serde_json::Value| v.get("definitions").cloned().unwrap_or_default();
    let mut all_defs = defs(&vendor).as_object().cloned().unwrap_or_default();
    all_defs.extend(defs(&api).as_object().cloned().unwrap_or_default());
    if let Some(o) = vendor.as_object_mut() {
        o.remove("definitions");
        o.remove("$schema");
        o.remove("title");
    }
    let mut api_only = api.clone();
    if let Some(o) = api_only.as_object_mut() {
        o.remove("definitions");
        o.remove("$schema");
        o.remove("title");
    }
    let doc = serde_json::json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$comment": format!("{} from xtask/src/spec.rs. Do not edit by hand.", write::MARKER),
        "title": "snapsdk API spec file",
        "oneOf": [vendor, api_only],
        "definitions": all_defs,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// The whole run. Nothing is written unless every spec is valid and every file rendered.
pub fn run(opts: &Options<'_>) -> Result<(Report, Timings), Failure> {
    let mut timings = Timings::default();
    let t = Instant::now();
    let (apis, warnings) = load_warned(opts)?;
    timings.parse_validate = t.elapsed();
    let mut files = generate(&apis, &mut timings).map_err(Failure::Other)?;
    files.insert(PathBuf::from("specs/spec.schema.json"), schema_file());
    files.extend(emit::surface_snapshots(&apis).into_iter().map(|(p, t)| (PathBuf::from(p), t)));
    let owned: Vec<PathBuf> = match opts.vendor {
        Some(_) => apis.iter().map(|a| PathBuf::from(&a.vendor.crate_dir)).collect(),
        None => opts.spec_roots.iter().flat_map(|r| [r.crates.clone(), r.specs.clone()]).collect(),
    };
    let t = Instant::now();
    let mut report = write::apply(opts.root, &files, &owned, opts.check).map_err(Failure::Other)?;
    report.warnings = warnings;
    timings.write = t.elapsed();
    if opts.check && !report.stale.is_empty() {
        return Err(Failure::Stale(report));
    }
    Ok((report, timings))
}

/// The workspace this run acts on, found as cargo finds it: the nearest
/// `Cargo.toml` above `cwd` with a `[workspace]` whose `members` include
/// `xtask`. `compiled` is the workspace the binary was built from
/// (`CARGO_MANIFEST_DIR/..`); when the two differ the binary is stale from
/// another checkout (a shared `CARGO_TARGET_DIR` lets cargo reuse it), and
/// acting on either tree would be wrong, so this refuses.
pub fn find_workspace(cwd: &Path, compiled: &Path) -> Result<PathBuf, String> {
    let found = cwd
        .ancestors()
        .find(|dir| {
            let Ok(text) = std::fs::read_to_string(dir.join("Cargo.toml")) else { return false };
            let Ok(doc) = text.parse::<toml_edit::DocumentMut>() else { return false };
            let members = doc.get("workspace").and_then(|w| w.get("members")).and_then(|m| m.as_array());
            members.is_some_and(|m| m.iter().any(|v| v.as_str().is_some_and(|s| s.trim_end_matches('/') == "xtask")))
        })
        .ok_or_else(|| {
            format!(
                "no workspace with an `xtask` member above {}\nhint: run `cargo xtask` from inside the snapsdk checkout",
                cwd.display()
            )
        })?;
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same(found, compiled) {
        return Err(format!(
            "this xtask binary was built from {} but the current directory is in the workspace {}; \
             refusing to run, as it would read or write the other checkout\n\
             hint: a shared CARGO_TARGET_DIR (sccache, a CI cache, several clones) let cargo reuse a stale binary; \
             run `cargo build -p xtask` here (or `touch xtask/src/main.rs`), or use a separate target dir per checkout",
            compiled.display(),
            found.display()
        ));
    }
    Ok(found.to_path_buf())
}
