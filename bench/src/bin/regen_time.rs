//! Times `cargo xtask regen` in-process, stage by stage, on a scratch copy of
//! the spec folders (so it never writes into the working tree).
//!
//! `cargo run --release -p bench --bin regen_time -- [--runs N] [--out DIR]`
//!
//! Runs, each repeated N times (medians reported):
//! - full: every output folder and the regen cache removed first, so every
//!   vendor is emitted and formatted and every file written;
//! - full with rustfmt's results remembered (as after a rebuild of the
//!   generator): every output folder and every vendor record removed, the
//!   cache's rustfmt memo kept, so every vendor is emitted again and every
//!   file written, but rustfmt runs only on text it has not seen;
//! - no-op: right after a full run, nothing to do (the cache is used); every
//!   file of the scratch tree is fingerprinted (length, mtime, bytes) before
//!   and after all the no-op runs, as proof that none was written;
//! - no-op without the cache (as after a rebuild of the generator): the cache
//!   removed first, outputs kept;
//! - per vendor, full (its output and cache record removed), for the
//!   side-by-side with progenitor.
//!
//! `regen::run` reports parse and validate as one stage; parse is also timed
//! on its own (read + YAML + serde into the spec types, as the validator does
//! it), and validate is the difference.
//!
//! Prints a human-readable summary, and `BENCH {json}` lines for `cargo xtask bench`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use bench::{cpu_ms, median, BenchLine};
use serde_json::json;
use xtask::regen::{self, Options, Timings};

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &dest)?;
        } else {
            std::fs::copy(entry.path(), dest)?;
        }
    }
    Ok(())
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Every file's length, mtime and bytes.
fn fingerprint(root: &Path) -> BTreeMap<PathBuf, (u64, Option<SystemTime>, Vec<u8>)> {
    let mut files = Vec::new();
    files_under(root, &mut files);
    files
        .into_iter()
        .map(|p| {
            let meta = std::fs::metadata(&p).ok();
            let bytes = std::fs::read(&p).unwrap_or_default();
            (
                p,
                (
                    meta.as_ref().map_or(0, |m| m.len()),
                    meta.and_then(|m| m.modified().ok()),
                    bytes,
                ),
            )
        })
        .collect()
}

/// The parse stage alone: read every spec file, build the position index,
/// parse the YAML and deserialize it into the spec types.
fn parse_only(spec_dirs: &[PathBuf], vendor: Option<&str>) -> Duration {
    let t = Instant::now();
    for dir in spec_dirs {
        let Ok(rd) = std::fs::read_dir(dir) else { continue };
        for vdir in rd.flatten().map(|e| e.path()).filter(|p| p.is_dir()) {
            if vendor.is_some_and(|v| vdir.file_name().is_some_and(|n| n != v)) {
                continue;
            }
            let mut files = Vec::new();
            files_under(&vdir, &mut files);
            for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == "yaml")) {
                let text = std::fs::read_to_string(f).unwrap_or_default();
                let _ = std::hint::black_box(xtask::loc::LocIndex::build(&text).is_ok());
                let value: serde_yaml::Value = serde_yaml::from_str(&text).unwrap_or(serde_yaml::Value::Null);
                let ok = if f.file_name().is_some_and(|n| n == "vendor.yaml") {
                    serde_path_to_error::deserialize::<_, xtask::spec::VendorFile>(value).is_ok()
                } else {
                    serde_path_to_error::deserialize::<_, xtask::spec::ApiFile>(value).is_ok()
                };
                std::hint::black_box(ok);
            }
        }
    }
    t.elapsed()
}

struct Sample {
    total: f64,
    /// CPU time of `regen::run` (all threads), less sensitive to other load than the wall time.
    cpu: f64,
    /// CPU time of the processes it ran and waited for (rustfmt).
    children_cpu: f64,
    parse: f64,
    validate: f64,
    emit: f64,
    format: f64,
    generate: f64,
    write: f64,
    written: usize,
    unchanged: usize,
    cached: usize,
    units: usize,
}

/// CPU time (user + system) of the child processes waited for so far (rustfmt), in milliseconds.
fn children_cpu_ms() -> f64 {
    let mut u = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; RUSAGE_CHILDREN is always valid.
    let u = unsafe {
        if libc::getrusage(libc::RUSAGE_CHILDREN, u.as_mut_ptr()) != 0 {
            return f64::NAN;
        }
        u.assume_init()
    };
    let tv = |t: libc::timeval| t.tv_sec as f64 * 1e3 + t.tv_usec as f64 / 1e3;
    tv(u.ru_utime) + tv(u.ru_stime)
}

/// The vendor records (`*.unit`) under the cache folder, relative to the scratch tree.
fn unit_records(cache: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    files_under(cache, &mut all);
    let tree = cache.ancestors().nth(2).unwrap_or(cache);
    all.into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "unit"))
        .filter_map(|p| p.strip_prefix(tree).ok().map(Path::to_path_buf))
        .collect()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn one_run(scratch: &Path, docs: Option<PathBuf>, vendor: Option<&str>, clean: &[PathBuf]) -> Result<Sample, String> {
    for d in clean {
        let p = scratch.join(d);
        let _ = if p.is_dir() {
            std::fs::remove_dir_all(&p)
        } else {
            std::fs::remove_file(&p)
        };
    }
    let opts = Options {
        vendor,
        ..Options::workspace(scratch, docs)
    };
    let spec_dirs: Vec<PathBuf> = opts.spec_roots.iter().map(|r| scratch.join(&r.specs)).collect();
    let cpu0 = cpu_ms();
    let children0 = children_cpu_ms();
    let t = Instant::now();
    let (report, t_stages): (_, Timings) = regen::run(&opts).map_err(|e| format!("regen failed: {e:?}"))?;
    let total = t.elapsed();
    let cpu = cpu_ms() - cpu0;
    let children_cpu = children_cpu_ms() - children0;
    let parse = parse_only(&spec_dirs, vendor);
    Ok(Sample {
        total: ms(total),
        cpu,
        children_cpu,
        parse: ms(parse),
        validate: (ms(t_stages.parse_validate) - ms(parse)).max(0.0),
        emit: ms(t_stages.emit),
        format: ms(t_stages.format),
        generate: ms(t_stages.generate),
        write: ms(t_stages.write),
        written: report.written.len(),
        unchanged: report.unchanged,
        cached: t_stages.cached,
        units: t_stages.units,
    })
}

fn summarize(kind: &str, vendor: Option<&str>, samples: &[Sample]) -> serde_json::Value {
    let col = |f: fn(&Sample) -> f64| median(samples.iter().map(f).collect());
    json!({
        "kind": kind,
        "vendor": vendor,
        "runs": samples.len(),
        "total_ms": col(|s| s.total),
        "cpu_ms": col(|s| s.cpu),
        "children_cpu_ms": col(|s| s.children_cpu),
        "parse_ms": col(|s| s.parse),
        "validate_ms": col(|s| s.validate),
        "parse_validate_ms": col(|s| s.parse + s.validate),
        "emit_ms": col(|s| s.emit),
        "format_ms": col(|s| s.format),
        "generate_ms": col(|s| s.generate),
        "write_ms": col(|s| s.write),
        "min_total_ms": samples.iter().map(|s| s.total).fold(f64::INFINITY, f64::min),
        "max_total_ms": samples.iter().map(|s| s.total).fold(0.0, f64::max),
        "written": samples.last().map_or(0, |s| s.written),
        "unchanged": samples.last().map_or(0, |s| s.unchanged),
        "cached": samples.last().map_or(0, |s| s.cached),
        "units": samples.last().map_or(0, |s| s.units),
    })
}

// The same allocator as the `xtask` binary (see xtask/src/main.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no workspace root")?
        .to_path_buf();
    let mut runs = 11usize;
    let mut out = root.join("target/bench/regen-tree");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().ok_or("--runs needs a number")?.parse()?,
            "--out" => out = PathBuf::from(args.next().ok_or("--out needs a folder")?),
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    let runs = runs.max(1);
    let docs = [root.join("../shared/vendor-docs"), root.join("shared/vendor-docs")]
        .into_iter()
        .find(|p| p.is_dir());
    let _ = std::fs::remove_dir_all(&out);
    let inputs = Options::workspace(&root, None).spec_roots;
    for r in &inputs {
        copy_dir(&root.join(&r.specs), &out.join(&r.specs))?;
    }
    let cache = PathBuf::from(regen::CACHE_DIR);
    let outputs: Vec<PathBuf> = inputs.iter().map(|r| r.crates.clone()).chain([cache.clone()]).collect();
    println!(
        "scratch tree: {} (inputs copied from the working tree; outputs start empty)",
        out.display()
    );

    // Full regens: every output folder removed before each run.
    let mut full = Vec::new();
    for _ in 0..runs {
        full.push(one_run(&out, docs.clone(), None, &outputs)?);
    }
    let full_line = summarize("full", None, &full);
    println!("full regen (all files written): {full_line}");

    // Full regens as after a rebuild of the generator: every output and
    // every vendor record removed, so everything is emitted again, but
    // rustfmt's results (kept in the cache folder) are there to be used.
    let records = unit_records(&out.join(&cache));
    let mut rebuilt = Vec::new();
    for _ in 0..runs {
        let clean: Vec<PathBuf> = inputs
            .iter()
            .map(|r| r.crates.clone())
            .chain(records.iter().cloned())
            .collect();
        rebuilt.push(one_run(&out, docs.clone(), None, &clean)?);
    }
    let rebuilt_line = summarize("full-formatting-remembered", None, &rebuilt);
    println!("full regen, rustfmt's results remembered: {rebuilt_line}");

    // No-op regens on the tree the last full run left.
    let before = fingerprint(&out);
    let mut noop = Vec::new();
    for _ in 0..runs {
        noop.push(one_run(&out, docs.clone(), None, &[])?);
    }
    let after = fingerprint(&out);
    let changed: Vec<String> = before
        .iter()
        .filter(|(p, v)| after.get(*p) != Some(*v))
        .map(|(p, _)| p.display().to_string())
        .chain(
            after
                .keys()
                .filter(|p| !before.contains_key(*p))
                .map(|p| p.display().to_string()),
        )
        .collect();
    let mut noop_line = summarize("noop", None, &noop);
    noop_line["files_in_tree"] = json!(before.len());
    noop_line["files_changed"] = json!(changed);
    noop_line["written_total"] = json!(noop.iter().map(|s| s.written).sum::<usize>());
    println!("no-op regen: {noop_line}");

    // No-op runs that cannot use the cache (the first run after the generator was rebuilt).
    let mut cold = Vec::new();
    for _ in 0..runs {
        cold.push(one_run(&out, docs.clone(), None, std::slice::from_ref(&cache))?);
    }
    let cold_line = summarize("noop-uncached", None, &cold);
    println!("no-op regen, cache removed first: {cold_line}");

    // One vendor at a time, full, for the comparison with progenitor.
    let mut lines = vec![full_line, rebuilt_line, noop_line, cold_line];
    for r in &inputs[..1] {
        let specs = out.join(&r.specs);
        let mut vendors: Vec<String> = std::fs::read_dir(&specs)?
            .flatten()
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        vendors.sort();
        for v in vendors {
            let api = regen::load(&Options {
                vendor: Some(&v),
                ..Options::workspace(&out, docs.clone())
            })
            .map_err(|e| format!("{e:?}"))?;
            let crate_dir = api
                .first()
                .map(|a| PathBuf::from(&a.vendor.crate_dir))
                .ok_or("vendor produced no crate")?;
            let mut samples = Vec::new();
            for _ in 0..runs {
                let record = cache.join(format!("{}.unit", crate_dir.display()));
                samples.push(one_run(&out, docs.clone(), Some(&v), &[crate_dir.clone(), record])?);
            }
            let mut line = summarize("vendor", Some(&v), &samples);
            line["crate"] = json!(crate_dir.file_name().map(|n| n.to_string_lossy().into_owned()));
            line["openapi"] = json!(out.join(&crate_dir).join("openapi.json"));
            println!("vendor {v}: {line}");
            lines.push(line);
        }
    }
    for l in lines {
        BenchLine::print("regen", l);
    }
    Ok(())
}
