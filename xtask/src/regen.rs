//! `cargo xtask regen`: the pipeline, with per-stage timings.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::diag::Diags;
use crate::emit::{self, Content};
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

pub struct Options<'a> {
    pub root: &'a Path,
    pub specs: PathBuf,
    pub docs: Option<PathBuf>,
    pub vendor: Option<&'a str>,
    pub check: bool,
}

/// Parse, validate and lower every spec.
pub fn load(opts: &Options<'_>) -> Result<Vec<ir::Api>, Failure> {
    let mut diags = Diags::default();
    let apis = validate::check_all(&opts.specs, opts.root, opts.docs.as_deref(), opts.vendor, &mut diags).map_err(Failure::Other)?;
    if !diags.is_empty() {
        return Err(Failure::Spec(diags.sorted()));
    }
    Ok(apis)
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
    let apis = load(opts)?;
    timings.parse_validate = t.elapsed();
    let mut files = generate(&apis, &mut timings).map_err(Failure::Other)?;
    files.insert(PathBuf::from("specs/spec.schema.json"), schema_file());
    let owned: Vec<PathBuf> = match opts.vendor {
        Some(_) => apis.iter().map(|a| PathBuf::from(format!("crates/{}", a.vendor.crate_name))).collect(),
        None => vec![PathBuf::from("crates"), PathBuf::from("specs")],
    };
    let t = Instant::now();
    let report = write::apply(opts.root, &files, &owned, opts.check).map_err(Failure::Other)?;
    timings.write = t.elapsed();
    if opts.check && !report.stale.is_empty() {
        return Err(Failure::Stale(report));
    }
    let _ = Content::Text(String::new());
    Ok((report, timings))
}
