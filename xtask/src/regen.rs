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
    /// Wall time of emit + format (they run in parallel; `emit` and `format` are summed over threads).
    pub generate: Duration,
    pub write: Duration,
    /// Vendors (spec folders) in the run, and how many of them came from the cache.
    pub units: usize,
    pub cached: usize,
}

#[derive(Debug)]
pub enum Failure {
    /// Spec problems, each `file:line:col: message`.
    Spec(Vec<crate::diag::Diag>),
    /// Check mode found stale files.
    Stale(Box<Report>),
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
                SpecRoot {
                    specs: PathBuf::from("specs"),
                    crates: PathBuf::from("crates"),
                    check_sources: true,
                },
                SpecRoot {
                    specs: PathBuf::from("xtask/tests/fixtures"),
                    crates: PathBuf::from("tests/fixtures"),
                    check_sources: false,
                },
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
        let found = validate::vendor_names(&dir).map_err(|e| Failure::Other(e.to_string()))?;
        let only = match opts.vendor {
            Some(v) if !found.iter().any(|f| f == v) => {
                known.extend(found);
                continue;
            }
            other => other,
        };
        known.extend(found);
        let apis =
            validate::check_all(&dir, opts.root, docs, only, &mut diags).map_err(|e| Failure::Other(e.to_string()))?;
        for mut api in apis {
            api.vendor.crate_dir = format!("{}/{}", sr.crates.display(), api.vendor.crate_name);
            all.push(api);
        }
    }
    if let Some(v) = opts.vendor {
        if !known.iter().any(|k| k == v) {
            return Err(Failure::Other(format!(
                "unknown vendor `{v}`; known vendors: {}",
                known.join(", ")
            )));
        }
    }
    // Hand-written packages are always taken; with --vendor, so are the other
    // vendors' generated crates, which this run does not load.
    let taken: Vec<(String, PathBuf)> = workspace_packages(opts.root)
        .into_iter()
        .filter(|(_, manifest, generated)| {
            !generated
                || (opts.vendor.is_some()
                    && !all
                        .iter()
                        .any(|a| manifest.parent() == Some(Path::new(&a.vendor.crate_dir))))
        })
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
    let Ok(text) = std::fs::read_to_string(root.join("Cargo.toml")) else {
        return Vec::new();
    };
    let Ok(doc) = text.parse::<toml_edit::DocumentMut>() else {
        return Vec::new();
    };
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
                let Ok(rd) = std::fs::read_dir(root.join(parent)) else {
                    continue;
                };
                dirs.extend(rd.flatten().map(|e| PathBuf::from(parent).join(e.file_name())));
            }
            None => dirs.push(PathBuf::from(m)),
        }
    }
    dirs.sort();
    let mut out = Vec::new();
    for dir in dirs {
        let manifest = dir.join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(root.join(&manifest)) else {
            continue;
        };
        let name = text
            .parse::<toml_edit::DocumentMut>()
            .ok()
            .and_then(|d| d.get("package")?.get("name")?.as_str().map(str::to_owned));
        if let Some(name) = name {
            out.push((name, manifest, text.contains(write::MARKER)));
        }
    }
    out
}

/// Why generating the output failed: always a generator bug or the machine.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error(transparent)]
    Render(#[from] write::WriteError),
    #[error("cannot start a formatting thread: {0}")]
    Spawn(std::io::Error),
    #[error("a formatting thread panicked; this is a generator bug")]
    Panicked,
    #[error("{0} was not generated; this is a generator bug")]
    Missing(String),
    /// The run's single rustfmt pass failed (rustfmt missing, or it refused a file).
    #[error("{0}")]
    Rustfmt(String),
}

/// One vendor's generated files: path relative to the root, final bytes.
pub type Files = Vec<(PathBuf, String)>;

/// Every generated file's final bytes, keyed by path relative to the root.
/// Vendors are generated in parallel (see [`generate_each`]).
pub fn generate(apis: &[ir::Api], timings: &mut Timings) -> Result<BTreeMap<PathBuf, String>, GenerateError> {
    let all: Vec<&ir::Api> = apis.iter().collect();
    Ok(generate_each(&all, None, timings)?.0.into_iter().flatten().collect())
}

/// Emit and format every vendor's files on as many threads as there are
/// cores. The unit of work is a part of one vendor's output (a source file,
/// a test, the examples, the text files; see [`emit::vendor_jobs`]), longest
/// first, so a large vendor spreads over every core. Token streams never
/// cross threads: a job emits and formats on the thread that runs it. The
/// result is in the order of `apis`, each vendor's files in output order, and
/// does not depend on the scheduling.
///
/// `timings.emit` and `timings.format` are summed over the threads;
/// `timings.generate` is the stage's wall time.
///
/// With `memo` (a folder), rustfmt's result for each file is remembered
/// there, and a file whose unformatted text was formatted before (by the
/// same rustfmt, with the same settings) is not formatted again (see
/// [`emit::rust::fmt::rustfmt_all`]); the output is the same either way.
/// What the memo should remember comes back with the files, to be stored
/// once they are written.
pub fn generate_each(
    apis: &[&ir::Api],
    memo: Option<&Path>,
    timings: &mut Timings,
) -> Result<(Vec<Files>, emit::rust::fmt::MemoRecords), GenerateError> {
    let started = Instant::now();
    std::thread::scope(|s| {
        // The memo's key needs rustfmt's version (a process, about 20 ms): asked while the files are emitted.
        let version = memo
            .filter(|_| !apis.is_empty())
            .map(|_| s.spawn(emit::rust::fmt::rustfmt_version));
        let mut out = emit_all(apis, timings)?;
        let t = Instant::now();
        let version = match version {
            Some(h) => Some(
                h.join()
                    .map_err(|_| GenerateError::Panicked)?
                    .map_err(GenerateError::Rustfmt)?,
            ),
            None => None,
        };
        let memo = memo
            .zip(version.as_deref())
            .map(|(dir, version)| emit::rust::fmt::Memo { dir, version });
        let remember = emit::rust::fmt::rustfmt_all(&mut out, memo.as_ref()).map_err(GenerateError::Rustfmt)?;
        timings.format += t.elapsed();
        timings.generate += started.elapsed();
        Ok((out, remember))
    })
}

/// Emit every vendor's files (prettyplease-printed, not yet through rustfmt),
/// in parallel (see [`generate_each`]).
fn emit_all(apis: &[&ir::Api], timings: &mut Timings) -> Result<Vec<Files>, GenerateError> {
    let headers: Vec<String> = apis.iter().map(|api| emit::header_line(api)).collect();
    // (vendor, job) pairs, in output order.
    let jobs: Vec<(usize, emit::Job<'_>)> = apis
        .iter()
        .enumerate()
        .flat_map(|(v, api)| emit::vendor_jobs(api).into_iter().map(move |j| (v, j)))
        .collect();
    let run = |k: usize| -> (Result<Files, write::WriteError>, Duration, Duration) {
        let (v, job) = &jobs[k];
        let t = Instant::now();
        let pending = job.run();
        let emitted = t.elapsed();
        let t = Instant::now();
        let files = pending
            .into_iter()
            .map(|(path, content)| Ok((PathBuf::from(&path), write::render(&path, content, &headers[*v])?)))
            .collect();
        (files, emitted, t.elapsed())
    };
    // Longest first, so the longest job never starts last.
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&k| std::cmp::Reverse(jobs[k].1.weight));
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len());
    let mut results: Vec<Option<_>> = (0..jobs.len()).map(|_| None).collect();
    if threads <= 1 {
        for &k in &order {
            results[k] = Some(run(k));
        }
    } else {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let done = std::sync::Mutex::new(&mut results);
        std::thread::scope(|s| -> Result<(), GenerateError> {
            let mut handles = Vec::new();
            for _ in 0..threads {
                let worker = || loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&k) = order.get(n) else { break };
                    let r = run(k);
                    if let Ok(mut d) = done.lock() {
                        d[k] = Some(r);
                    }
                };
                // Deep syntax trees recurse deeply in debug builds: give workers the main thread's room.
                let h = std::thread::Builder::new()
                    .stack_size(64 << 20)
                    .spawn_scoped(s, worker)
                    .map_err(GenerateError::Spawn)?;
                handles.push(h);
            }
            for h in handles {
                h.join().map_err(|_| GenerateError::Panicked)?;
            }
            Ok(())
        })?;
    }
    let mut out: Vec<Files> = (0..apis.len()).map(|_| Vec::new()).collect();
    for (r, (v, job)) in results.into_iter().zip(&jobs) {
        let (files, emitted, formatted) = r.ok_or_else(|| GenerateError::Missing(job.what.clone()))?;
        timings.emit += emitted;
        timings.format += formatted;
        out[*v].extend(files?);
    }
    Ok(out)
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
///
/// Outside check mode, a vendor whose spec files and generator are exactly those
/// of an earlier run takes that run's output from [`CACHE_DIR`] instead of being
/// emitted and formatted again; the output is then compared with the files on
/// disk as usual, so a hand edit is still restored. `--check` never uses the cache.
pub fn run(opts: &Options<'_>) -> Result<(Report, Timings), Failure> {
    let mut timings = Timings::default();
    let t = Instant::now();
    // Where the cache lives asks cargo (about 40 ms): found while the specs load.
    let cache_dir = (!opts.check).then(|| {
        std::thread::scope(|s| {
            let dir = s.spawn(|| cache_dir(opts.root));
            let loaded = load_warned(opts);
            (loaded, dir.join().unwrap_or_else(|_| opts.root.join(CACHE_DIR)))
        })
    });
    let ((apis, warnings), cache_dir) = match cache_dir {
        Some((loaded, dir)) => (loaded?, Some(dir)),
        None => (load_warned(opts)?, None),
    };
    timings.parse_validate = t.elapsed();
    let Outputs {
        mut files,
        units,
        generated,
        remember,
    } = generate_or_recall(opts.root, &apis, cache_dir.as_deref(), &mut timings)?;
    files.insert(PathBuf::from("specs/spec.schema.json"), schema_file());
    files.extend(
        emit::surface_snapshots(&apis)
            .into_iter()
            .map(|(p, t)| (PathBuf::from(p), t)),
    );
    let t = Instant::now();
    let mut report =
        write::apply(opts.root, &files, &owned(opts, &apis), opts.check).map_err(|e| Failure::Other(e.to_string()))?;
    report.warnings = warnings;
    if let Some(dir) = &cache_dir {
        // Only now that the tree holds this output: remember it (best effort; a miss only costs time).
        for (unit, outputs) in units.iter().zip(&generated) {
            if let Some(u) = unit {
                u.store(dir, outputs);
            }
        }
        remember.store();
    }
    report.cache_dir = cache_dir;
    timings.write = t.elapsed();
    if opts.check && !report.stale.is_empty() {
        return Err(Failure::Stale(Box::new(report)));
    }
    Ok((report, timings))
}

/// What [`generate_or_recall`] returns.
struct Outputs {
    /// Every vendor's files, keyed by path relative to the root.
    files: BTreeMap<PathBuf, String>,
    /// For each vendor generated afresh: its cache unit (None when not cached) and its files.
    units: Vec<Option<cache::Unit>>,
    generated: Vec<Files>,
    /// rustfmt's results for the memo, stored once the output is written.
    remember: emit::rust::fmt::MemoRecords,
}

/// Every vendor's output: from the cache in `cache_dir` where its record
/// matches, else generated afresh. Also returns, for each generated vendor,
/// its cache unit (to store once written) and its files.
fn generate_or_recall(
    root: &Path,
    apis: &[ir::Api],
    cache_dir: Option<&Path>,
    timings: &mut Timings,
) -> Result<Outputs, Failure> {
    let generator = cache_dir.and_then(|_| cache::generator_id());
    let mut units = Vec::new();
    let mut files = BTreeMap::new();
    let mut todo: Vec<&ir::Api> = Vec::new();
    for api in apis {
        let unit = generator.as_ref().and_then(|g| cache::Unit::read(root, api, g));
        match unit.as_ref().zip(cache_dir).and_then(|(u, dir)| u.lookup(dir)) {
            Some(outputs) => {
                timings.cached += 1;
                files.extend(outputs);
            }
            None => {
                todo.push(api);
                units.push(unit);
            }
        }
    }
    timings.units = apis.len();
    // rustfmt's results are remembered beside the vendor records (never in check mode: no cache dir).
    let memo = cache_dir.map(|d| d.join("rustfmt"));
    let (generated, remember) =
        generate_each(&todo, memo.as_deref(), timings).map_err(|e| Failure::Other(e.to_string()))?;
    for files_of in &generated {
        files.extend(files_of.iter().cloned());
    }
    Ok(Outputs {
        files,
        units,
        generated,
        remember,
    })
}

/// What a run owns on disk: with `--vendor`, that vendor's crate; else every
/// folder of generated crates and specs, and the API surface snapshots
/// (`xtask/tests/snapshots/regen__surface_*.snap`), so a vendor's removal
/// removes, or in check mode reports, every file generated from it.
fn owned(opts: &Options<'_>, apis: &[ir::Api]) -> write::Owned {
    match opts.vendor {
        Some(_) => write::Owned {
            dirs: apis.iter().map(|a| PathBuf::from(&a.vendor.crate_dir)).collect(),
            named: Vec::new(),
        },
        None => write::Owned {
            dirs: opts
                .spec_roots
                .iter()
                .flat_map(|r| [r.crates.clone(), r.specs.clone()])
                .collect(),
            named: vec![(
                PathBuf::from(emit::SURFACE_SNAPSHOT_DIR),
                emit::SURFACE_SNAPSHOT_PREFIX.to_owned(),
            )],
        },
    }
}

/// Where `run` keeps the regen cache: `regen-cache` in the cargo target dir
/// in use for the workspace at `root` (`CARGO_TARGET_DIR`, `build.target-dir`,
/// or `<root>/target`, as cargo resolves it). A folder that is not a cargo
/// workspace (a scratch tree) keeps it in its own [`CACHE_DIR`].
pub fn cache_dir(root: &Path) -> PathBuf {
    if root.join("Cargo.toml").is_file() {
        crate::external::target_dir(root).join("regen-cache")
    } else {
        root.join(CACHE_DIR)
    }
}

/// The environment variable that names the vendor documents folder (for CI);
/// `--docs DIR` wins over it.
pub const DOCS_ENV: &str = "SNAPSDK_DOCS";

/// `shared/vendor-docs` beside the checkout (or inside it), when present.
pub fn default_docs(root: &Path) -> Option<PathBuf> {
    [root.join("../shared/vendor-docs"), root.join("shared/vendor-docs")]
        .into_iter()
        .find(|p| p.is_dir())
}

/// A documents folder named by `--docs` or [`DOCS_ENV`] that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("{} {}: not a readable folder of vendor documents ({source}); name the folder that holds the vendor documents", from, path.display())]
pub struct DocsError {
    /// `--docs` or `SNAPSDK_DOCS`.
    pub from: &'static str,
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// The vendor documents a command reads: `--docs DIR` (`flag`), else the
/// [`DOCS_ENV`] variable (`env`, when set and not empty), else
/// [`default_docs`] (None when absent). A folder named by the flag or the
/// variable must be readable.
pub fn docs_folder(
    root: &Path,
    flag: Option<&Path>,
    env: Option<std::ffi::OsString>,
) -> Result<Option<PathBuf>, DocsError> {
    let named = match (flag, env.filter(|v| !v.is_empty())) {
        (Some(f), _) => Some(("--docs", f.to_path_buf())),
        (None, Some(v)) => Some((DOCS_ENV, PathBuf::from(v))),
        (None, None) => None,
    };
    let Some((from, path)) = named else {
        return Ok(default_docs(root));
    };
    match std::fs::read_dir(&path) {
        Ok(_) => Ok(Some(path)),
        Err(source) => Err(DocsError { from, path, source }),
    }
}

/// Why `cargo xtask` will not act on the current directory.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error("no workspace with an `xtask` member above {}\nhint: run `cargo xtask` from inside the snapsdk checkout", cwd.display())]
    NotFound { cwd: PathBuf },
    #[error(
        "this xtask binary was built from {} but the current directory is in the workspace {}; \
         refusing to run, as it would read or write the other checkout\n\
         hint: a shared CARGO_TARGET_DIR (sccache, a CI cache, several clones) let cargo reuse a stale binary; \
         run `cargo build -p xtask` here (or `touch xtask/src/main.rs`), or use a separate target dir per checkout",
        compiled.display(),
        found.display()
    )]
    OtherCheckout { compiled: PathBuf, found: PathBuf },
}

/// The workspace this run acts on, found as cargo finds it: the nearest
/// `Cargo.toml` above `cwd` with a `[workspace]` whose `members` include
/// `xtask`. `compiled` is the workspace the binary was built from
/// (`CARGO_MANIFEST_DIR/..`); when the two differ the binary is stale from
/// another checkout (a shared `CARGO_TARGET_DIR` lets cargo reuse it), and
/// acting on either tree would be wrong, so this refuses.
pub fn find_workspace(cwd: &Path, compiled: &Path) -> Result<PathBuf, WorkspaceError> {
    let found = cwd
        .ancestors()
        .find(|dir| {
            let Ok(text) = std::fs::read_to_string(dir.join("Cargo.toml")) else {
                return false;
            };
            let Ok(doc) = text.parse::<toml_edit::DocumentMut>() else {
                return false;
            };
            let members = doc
                .get("workspace")
                .and_then(|w| w.get("members"))
                .and_then(|m| m.as_array());
            members.is_some_and(|m| {
                m.iter()
                    .any(|v| v.as_str().is_some_and(|s| s.trim_end_matches('/') == "xtask"))
            })
        })
        .ok_or_else(|| WorkspaceError::NotFound { cwd: cwd.to_path_buf() })?;
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same(found, compiled) {
        return Err(WorkspaceError::OtherCheckout {
            compiled: compiled.to_path_buf(),
            found: found.to_path_buf(),
        });
    }
    Ok(found.to_path_buf())
}

/// Where `run` keeps each vendor's last output in a tree that is not a cargo
/// workspace, relative to it (see [`cache_dir`]). Under `target/`: never
/// committed, removed by `cargo clean`, safe to delete.
pub const CACHE_DIR: &str = "target/regen-cache";

pub use cache::generator_id;

/// The regen cache: one file per vendor, `<CACHE_DIR>/<crate dir>.unit`, holding
/// the generator's identity, the exact bytes of every spec file of the vendor,
/// and the exact bytes of every file generated from them.
///
/// A record is used only if the generator and every input match byte for byte
/// (no hashes, so no collisions); its output then goes through the normal
/// compare-and-write, so it can restore a hand edit but never skip one.
mod cache {
    use std::path::{Path, PathBuf};

    use crate::ir;

    const MAGIC: &str = "snapsdk regen cache 1";

    /// The running generator: this executable's path, size and modification
    /// time, and the xtask version. Any rebuild changes the time. None when
    /// unknown, and then nothing is cached.
    pub fn generator_id() -> Option<String> {
        let exe = std::env::current_exe().ok()?;
        let meta = std::fs::metadata(&exe).ok()?;
        let mtime = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?;
        Some(format!(
            "xtask {} {} {} bytes modified {}.{:09}",
            env!("CARGO_PKG_VERSION"),
            exe.display(),
            meta.len(),
            mtime.as_secs(),
            mtime.subsec_nanos()
        ))
    }

    /// One vendor's identity and inputs, as read now.
    pub struct Unit {
        /// The record's text up to the outputs: header and every input.
        head: Vec<u8>,
        file: PathBuf,
    }

    fn entry(out: &mut Vec<u8>, tag: &str, path: &str, bytes: &[u8]) {
        out.extend_from_slice(format!("{tag} {} {path}\n", bytes.len()).as_bytes());
        out.extend_from_slice(bytes);
        out.push(b'\n');
    }

    fn files_under(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        for e in std::fs::read_dir(dir)? {
            let p = e?.path();
            if p.is_dir() {
                files_under(&p, out)?;
            } else {
                out.push(p);
            }
        }
        Ok(())
    }

    impl Unit {
        /// Every file of the vendor's spec folder; None if any cannot be read.
        pub fn read(root: &Path, api: &ir::Api, generator: &str) -> Option<Unit> {
            let v = &api.vendor;
            let mut head = format!(
                "{MAGIC}\ngenerator {generator}\nunit {} from {}\n",
                v.crate_dir, v.spec_dir
            )
            .into_bytes();
            let mut paths = Vec::new();
            files_under(&root.join(&v.spec_dir), &mut paths).ok()?;
            paths.sort();
            for p in paths {
                let rel = p.strip_prefix(root).ok()?.to_str()?.to_owned();
                entry(&mut head, "in", &rel, &std::fs::read(&p).ok()?);
            }
            head.extend_from_slice(b"outputs\n");
            Some(Unit {
                head,
                file: PathBuf::from(format!("{}.unit", v.crate_dir)),
            })
        }

        /// The recorded output, if the record's generator and inputs are exactly these.
        pub fn lookup(&self, dir: &Path) -> Option<Vec<(PathBuf, String)>> {
            let record = std::fs::read(dir.join(&self.file)).ok()?;
            let mut rest = record.strip_prefix(self.head.as_slice())?;
            let mut out = Vec::new();
            while !rest.is_empty() {
                let nl = rest.iter().position(|&b| b == b'\n')?;
                let line = std::str::from_utf8(&rest[..nl]).ok()?;
                let (len, path) = line.strip_prefix("out ")?.split_once(' ')?;
                let len: usize = len.parse().ok()?;
                let body = rest.get(nl + 1..nl + 1 + len)?;
                if rest.get(nl + 1 + len) != Some(&b'\n') {
                    return None;
                }
                out.push((PathBuf::from(path), String::from_utf8(body.to_vec()).ok()?));
                rest = &rest[nl + 2 + len..];
            }
            (!out.is_empty()).then_some(out)
        }

        /// Record `outputs` as what these inputs generate (written whole or not at all).
        pub fn store(&self, dir: &Path, outputs: &[(PathBuf, String)]) {
            let mut record = self.head.clone();
            for (path, text) in outputs {
                let Some(p) = path.to_str() else { return };
                entry(&mut record, "out", p, text.as_bytes());
            }
            let file = dir.join(&self.file);
            let tmp = file.with_extension("unit-tmp");
            let ok = file.parent().is_some_and(|d| std::fs::create_dir_all(d).is_ok())
                && std::fs::write(&tmp, &record).is_ok()
                && std::fs::rename(&tmp, &file).is_ok();
            if !ok {
                let _ = std::fs::remove_file(&tmp);
                let _ = std::fs::remove_file(&file);
            }
        }
    }
}
