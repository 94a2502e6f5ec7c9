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
    if !diags.is_empty() {
        return Err(Failure::Spec(diags.sorted()));
    }
    Ok(all)
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
    let defs = |v: &serde_json::Value| v.get("$defs").cloned().unwrap_or_default();
    let mut all_defs = defs(&vendor).as_object().cloned().unwrap_or_default();
    all_defs.extend(defs(&api).as_object().cloned().unwrap_or_default());
    if let Some(o) = vendor.as_object_mut() {
        o.remove("$defs");
        o.remove("$schema");
        o.remove("title");
    }
    let mut api_only = api.clone();
    if let Some(o) = api_only.as_object_mut() {
        o.remove("$defs");
        o.remove("$schema");
        o.remove("title");
    }
    let doc = serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$comment": format!("{} from xtask/src/spec.rs. Do not edit by hand.", write::MARKER),
        "title": "snapsdk API spec file",
        "oneOf": [vendor, api_only],
        "$defs": all_defs,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// The whole run. Nothing is written unless every spec is valid and every file rendered.
pub fn run(opts: &Options<'_>) -> Result<(Report, Timings), Failure> {
    let mut timings = Timings::default();
    let t = Instant::now();
    let apis = load(opts)?;
    timings.parse_validate = t.elapsed();
    let mut files = generate(&apis, &mut timings).map_err(Failure::Other)?;
    files.insert(PathBuf::from("specs/spec.schema.json"), schema_file());
    let owned: Vec<PathBuf> = match opts.vendor {
        Some(_) => apis.iter().map(|a| PathBuf::from(&a.vendor.crate_dir)).collect(),
        None => opts.spec_roots.iter().flat_map(|r| [r.crates.clone(), r.specs.clone()]).collect(),
    };
    let t = Instant::now();
    let report = write::apply(opts.root, &files, &owned, opts.check).map_err(Failure::Other)?;
    timings.write = t.elapsed();
    if opts.check && !report.stale.is_empty() {
        return Err(Failure::Stale(report));
    }
    Ok((report, timings))
}
