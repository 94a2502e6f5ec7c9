//! `cargo xtask bench`: every benchmark in one run, printed as one markdown table.
//!
//! The measuring is done by release builds, never by this (debug) binary:
//! - `bench/src/bin/regen_time.rs` times the regen pipeline in-process on a
//!   scratch copy of the specs (stage by stage, full and no-op);
//! - `bench/progenitor/` (its own workspace, excluded from ours so CI never
//!   compiles progenitor) times progenitor on the same emitted `openapi.json`;
//! - `bench/src/bin/overhead.rs` times generated against hand-written calls;
//! - `bench/src/bin/stream_memory.rs` measures peak RSS of a 1 GiB transfer;
//! - the real `cargo xtask regen` (dev profile, warm) is run and timed here;
//! - compile times are `cargo build` runs timed here, each in its own target
//!   folder under `target/bench/`, so other builds never hold the lock;
//! - the application build: a new binary crate using one client and tokio,
//!   built from nothing (its own empty target folder) by `cargo build`, debug
//!   and release, against the same app on progenitor's client.
//!
//! Benchmarks are never part of the pass/fail tests.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use serde_json::Value;

pub const USAGE: &str = "bench     run every benchmark (release builds) and print one markdown table:\n\
     \x20         regen (and progenitor on the same openapi.json), request overhead, streaming memory, compile time,\n\
     \x20         and what an application pays to build\n\
     --only LIST         comma-separated sections: regen,overhead,stream,compile,app (default: all)\n\
     --runs N            regen and progenitor repetitions, median reported (default 11)\n\
     --requests N        requests per client in the overhead benchmark (default 10000)\n\
     --stream-mib N      body size of the streaming benchmark (default 1024)\n\
     --compile-runs N    clean builds per crate and profile, median reported (default 1)\n\
     --no-progenitor     skip progenitor (no build of bench/progenitor)";

const SECTIONS: [&str; 5] = ["regen", "overhead", "stream", "compile", "app"];

struct Args {
    only: Vec<String>,
    runs: usize,
    requests: usize,
    stream_mib: u64,
    compile_runs: usize,
    progenitor: bool,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut a = Args {
        only: SECTIONS.iter().map(|s| s.to_string()).collect(),
        runs: 11,
        requests: 10_000,
        stream_mib: 1024,
        compile_runs: 1,
        progenitor: true,
    };
    let mut it = args.iter();
    let num = |v: Option<&String>, flag: &str| -> Result<u64, String> {
        v.and_then(|v| v.parse().ok())
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{flag} needs a positive number"))
    };
    while let Some(x) = it.next() {
        match x.as_str() {
            "--only" => {
                let list = it.next().ok_or("--only needs a list, e.g. --only overhead,stream")?;
                a.only = list
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
                if let Some(bad) = a.only.iter().find(|s| !SECTIONS.contains(&s.as_str())) {
                    return Err(format!("unknown section `{bad}`; sections: {}", SECTIONS.join(", ")));
                }
            }
            "--runs" => a.runs = num(it.next(), "--runs")? as usize,
            "--requests" => a.requests = num(it.next(), "--requests")? as usize,
            "--stream-mib" => a.stream_mib = num(it.next(), "--stream-mib")?,
            "--compile-runs" => a.compile_runs = num(it.next(), "--compile-runs")? as usize,
            "--no-progenitor" => a.progenitor = false,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(a)
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { root.join(p) })
        .unwrap_or_else(|| root.join("target"))
}

/// Run a command, stderr shown, stdout captured; its `BENCH {json}` lines.
fn run_bench(what: &str, cmd: &mut Command) -> Result<Vec<Value>, String> {
    eprintln!("==> {what}");
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("{what}: cannot start: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    for line in stdout.lines().filter(|l| !l.starts_with("BENCH ")) {
        eprintln!("    {line}");
    }
    if !out.status.success() {
        return Err(format!("{what} failed ({})", out.status));
    }
    Ok(stdout
        .lines()
        .filter_map(|l| l.strip_prefix("BENCH "))
        .filter_map(|j| serde_json::from_str(j).ok())
        .collect())
}

/// Run cargo with the output shown; its wall time in seconds.
fn cargo_timed(root: &Path, args: &[&str], target: &Path, manifest_dir: Option<&Path>) -> Result<f64, String> {
    eprintln!("==> cargo {} (CARGO_TARGET_DIR={})", args.join(" "), target.display());
    let started = Instant::now();
    let status = Command::new(cargo())
        .args(args)
        .env("CARGO_TARGET_DIR", target)
        .current_dir(manifest_dir.unwrap_or(root))
        .stdout(Stdio::inherit())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let secs = started.elapsed().as_secs_f64();
    if status.success() {
        Ok(secs)
    } else {
        Err(format!("`cargo {}` failed ({status})", args.join(" ")))
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(f64::NAN)
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn first_line(path: &str, prefix: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .map(|v| v.trim().trim_start_matches(':').trim().to_owned())
}

fn machine_facts() -> Vec<(String, String)> {
    let cpu = first_line("/proc/cpuinfo", "model name").unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get().to_string())
        .unwrap_or_else(|_| "?".into());
    let mem = first_line("/proc/meminfo", "MemTotal:")
        .and_then(|v| v.trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kib| format!("{:.1} GiB", kib / 1024.0 / 1024.0))
        .unwrap_or_else(|| "?".into());
    let rustc = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("-V")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "?".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| std::env::consts::OS.into());
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    vec![
        ("cpu".into(), format!("{cpu}, {cores} cores")),
        ("memory".into(), mem),
        ("rustc".into(), rustc),
        ("kernel".into(), format!("{} {kernel}", std::env::consts::OS)),
        ("load average at start (1/5/15 min)".into(), load),
    ]
}

/// One row of the summary table.
struct Row {
    area: &'static str,
    case: String,
    ours: String,
    theirs: String,
    ratio: String,
    goal: String,
}

fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0} ms")
    } else {
        format!("{v:.1} ms")
    }
}

/// "`text` (met)" or "`text` (missed)".
fn goal(v: f64, limit: f64, text: &str) -> String {
    format!("{text} ({})", if v <= limit { "met" } else { "missed" })
}

fn secs(v: f64) -> String {
    format!("{v:.2} s")
}

#[derive(Default)]
struct Report {
    rows: Vec<Row>,
    details: String,
    failures: Vec<String>,
}

impl Report {
    fn row(
        &mut self,
        area: &'static str,
        case: impl Into<String>,
        ours: impl Into<String>,
        theirs: impl Into<String>,
        ratio: impl Into<String>,
        goal: impl Into<String>,
    ) {
        self.rows.push(Row {
            area,
            case: case.into(),
            ours: ours.into(),
            theirs: theirs.into(),
            ratio: ratio.into(),
            goal: goal.into(),
        });
    }
}

pub fn run(root: &Path, args: &[String]) -> ExitCode {
    let a = match parse_args(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let facts = machine_facts();
    let target = target_dir(root);
    let mut rep = Report::default();
    let want = |s: &str| a.only.iter().any(|o| o == s);
    let started = Instant::now();

    // The release binaries of the bench crate.
    if want("regen") || want("overhead") || want("stream") {
        if let Err(e) = cargo_timed(root, &["build", "--release", "-p", "bench", "--bins"], &target, None) {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    let pg_driver = if a.progenitor && (want("regen") || want("compile") || want("app")) {
        progenitor_driver(root, &target, &mut rep)
    } else {
        None
    };

    let regen_lines = if want("regen") {
        regen_timing(&target, a.runs, &mut rep)
    } else {
        Vec::new()
    };
    let pg_lines = match &pg_driver {
        Some(driver) => progenitor_lines(root, &target, driver, &regen_lines, a.runs, &mut rep),
        None => BTreeMap::new(),
    };
    if want("regen") {
        regen_section(&mut rep, &regen_lines, &pg_lines, a.runs);
        match real_regen(root, a.runs) {
            Ok((wall, cpu)) => real_regen_rows(&mut rep, &wall, &cpu),
            Err(e) => rep.failures.push(e),
        }
    }
    if want("overhead") {
        overhead(&target, a.requests, &mut rep);
    }
    if want("stream") {
        stream(&target, a.stream_mib, &mut rep);
    }
    if want("compile") {
        if let Err(e) = compile_section(&mut rep, root, &target, &pg_lines, a.compile_runs) {
            rep.failures.push(e);
        }
    }
    if want("app") {
        if let Err(e) = app_section(&mut rep, root, &target, &pg_lines, APP_CLIENT) {
            rep.failures.push(e);
        }
    }

    // The report, on stdout.
    print!("{}", render(&rep, &facts, args, started));
    if rep.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The in-process regen timings (one JSON line per run kind; a failure is recorded in `rep`).
fn regen_timing(target: &Path, runs: usize, rep: &mut Report) -> Vec<Value> {
    let mut cmd = Command::new(target.join("release").join("regen_time"));
    cmd.args(["--runs", &runs.to_string(), "--out"])
        .arg(target.join("bench/regen-tree"));
    match run_bench(
        "regen timing (in-process, release build, scratch copy of specs/)",
        &mut cmd,
    ) {
        Ok(lines) => lines,
        Err(e) => {
            rep.failures.push(e);
            Vec::new()
        }
    }
}

/// The request overhead section (timings, then instruction counts).
fn overhead(target: &Path, requests: usize, rep: &mut Report) {
    let bin = target.join("release").join("overhead");
    let mut cmd = Command::new(&bin);
    cmd.args(["--requests", &requests.to_string()]);
    match run_bench("request overhead", &mut cmd) {
        Ok(lines) => {
            overhead_section(rep, lines.first());
            wakeup_rows(rep, lines.first());
        }
        Err(e) => rep.failures.push(e),
    }
    instructions_section(rep, &bin);
    switches_rows(rep, &bin, requests);
    syscalls_section(rep, &bin);
    let mut cmd = Command::new(target.join("release").join("mock_calls"));
    cmd.args(["--requests", &requests.to_string()]);
    match run_bench("test kit: mocked calls", &mut cmd) {
        Ok(lines) => kit_row(rep, lines.first()),
        Err(e) => rep.failures.push(e),
    }
}

/// The streaming memory section.
fn stream(target: &Path, stream_mib: u64, rep: &mut Report) {
    let mut cmd = Command::new(target.join("release").join("stream_memory"));
    cmd.arg(stream_mib.to_string());
    match run_bench("streaming memory", &mut cmd) {
        Ok(lines) => stream_section(rep, &lines, stream_mib),
        Err(e) => rep.failures.push(e),
    }
}

/// Progenitor's driver, built in its own workspace and target folder (a failure is recorded in `rep`).
fn progenitor_driver(root: &Path, target: &Path, rep: &mut Report) -> Option<PathBuf> {
    let pg_target = target.join("bench/progenitor");
    let manifest = root.join("bench/progenitor");
    match cargo_timed(root, &["build", "--release", "--locked"], &pg_target, Some(&manifest)) {
        Ok(_) => Some(pg_target.join("release/progenitor-bench")),
        Err(e) => {
            rep.failures.push(format!("progenitor driver: {e}"));
            None
        }
    }
}

/// Progenitor's results by document name. It reads each vendor's openapi.json as this run's
/// regen emitted it (else the working tree's).
fn progenitor_lines(
    root: &Path,
    target: &Path,
    driver: &Path,
    regen_lines: &[Value],
    runs: usize,
    rep: &mut Report,
) -> BTreeMap<String, Value> {
    let mut pg_lines: BTreeMap<String, Value> = BTreeMap::new();
    let pg_out = target.join("bench/progenitor-out");
    let docs: Vec<String> = vendor_docs(root, regen_lines);
    let mut cmd = Command::new(driver);
    cmd.args(["--runs", &runs.to_string(), "--out"])
        .arg(&pg_out)
        .args(&docs);
    match run_bench("progenitor 0.15.1 on the same openapi.json documents", &mut cmd) {
        Ok(lines) => {
            for l in lines {
                pg_lines.insert(l["name"].as_str().unwrap_or("?").to_owned(), l);
            }
        }
        Err(e) => rep.failures.push(e),
    }
    pg_lines
}

/// The report: machine facts, the command, the table, the details and what was not measured.
fn render(rep: &Report, facts: &[(String, String)], args: &[String], started: Instant) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## cargo xtask bench\n");
    for (k, v) in facts {
        let _ = writeln!(out, "- {k}: {v}");
    }
    let shown: Vec<&str> = std::iter::once("cargo xtask bench")
        .chain(args.iter().map(String::as_str))
        .collect();
    let _ = writeln!(
        out,
        "- command: `{}` ({:.0} s)\n",
        shown.join(" "),
        started.elapsed().as_secs_f64()
    );
    let _ = writeln!(out, "| area | case | snapsdk | compared with | ratio | goal |");
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    for r in &rep.rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            r.area, r.case, r.ours, r.theirs, r.ratio, r.goal
        );
    }
    out.push_str(&rep.details);
    if !rep.failures.is_empty() {
        let _ = writeln!(out, "\n### Not measured\n");
        for f in &rep.failures {
            let _ = writeln!(out, "- {f}");
        }
    }
    out
}

/// `NAME=PATH` for each vendor crate's openapi.json.
fn vendor_docs(root: &Path, regen_lines: &[Value]) -> Vec<String> {
    let from_regen: Vec<String> = regen_lines
        .iter()
        .filter(|l| l["kind"] == "vendor")
        .filter_map(|l| Some(format!("{}={}", l["crate"].as_str()?, l["openapi"].as_str()?)))
        .collect();
    if !from_regen.is_empty() {
        return from_regen;
    }
    let mut docs = Vec::new();
    for krate in ["besnappy", "snapcall", "snapengage"] {
        let p = root.join("crates").join(krate).join("openapi.json");
        if p.is_file() {
            docs.push(format!("{krate}={}", p.display()));
        }
    }
    docs
}

fn regen_section(rep: &mut Report, lines: &[Value], pg: &BTreeMap<String, Value>, runs: usize) {
    let mut d = String::new();
    regen_stages_table(&mut d, lines, runs);
    regen_summary_rows(rep, &mut d, lines, runs);
    regen_vendor_rows(rep, lines, pg);
    if !pg.is_empty() {
        progenitor_notes(&mut d, pg);
    }
    rep.details.push_str(&d);
}

/// The per-run stage timings, as a Markdown table.
fn regen_stages_table(d: &mut String, lines: &[Value], runs: usize) {
    let _ = writeln!(d, "\n### Regen stages (median of {runs} runs, ms)\n");
    let _ = writeln!(d, "In-process, release build (`bench/src/bin/regen_time.rs` calls `xtask::regen::run` on a scratch copy of the spec folders under `target/bench/regen-tree`). Parse is timed on its own (read + YAML + serde into the spec types); validate is the parse+validate stage minus parse. Vendors are emitted and formatted in parallel: emit and format are summed over the threads, \"emit+format\" is the stage's wall time. \"from cache\": spec folders whose output came from `target/regen-cache`.\n");
    let _ = writeln!(
        d,
        "| run | files written | from cache | total | CPU | rustfmt CPU | parse | validate | emit | format | emit+format | write |"
    );
    let _ = writeln!(d, "|---|---|---|---|---|---|---|---|---|---|---|---|");
    for l in lines {
        let name = match l["kind"].as_str() {
            Some("full") => "full (all vendors and fixtures; outputs and cache removed first)".to_owned(),
            Some("full-formatting-remembered") => {
                "full, rustfmt's results remembered (outputs and vendor records removed first, as after a generator rebuild)"
                    .to_owned()
            }
            Some("noop") => "no-op (nothing changed)".to_owned(),
            Some("noop-uncached") => "no-op, cache removed first (as after a rebuild of the generator)".to_owned(),
            Some("vendor") => format!("one vendor, full: {}", l["vendor"].as_str().unwrap_or("?")),
            _ => continue,
        };
        let _ = writeln!(
            d,
            "| {name} | {} | {} of {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
            l["written"],
            l["cached"],
            l["units"],
            f(&l["total_ms"]),
            f(&l["cpu_ms"]),
            f(&l["children_cpu_ms"]),
            f(&l["parse_ms"]),
            f(&l["validate_ms"]),
            f(&l["emit_ms"]),
            f(&l["format_ms"]),
            f(&l["generate_ms"]),
            f(&l["write_ms"])
        );
    }
}

/// The full, no-op and uncached no-op rows (and the no-op proof).
fn regen_summary_rows(rep: &mut Report, d: &mut String, lines: &[Value], runs: usize) {
    let kind = |k: &str| lines.iter().find(|l| l["kind"] == k);
    if let Some(l) = kind("full") {
        let t = f(&l["total_ms"]);
        rep.row(
            "regen",
            format!(
                "full, in-process, release ({} files written, nothing cached), median of {runs}",
                l["written"]
            ),
            format!(
                "{} ({} CPU, {} rustfmt CPU)",
                ms(t),
                ms(f(&l["cpu_ms"])),
                ms(f(&l["children_cpu_ms"]))
            ),
            "",
            "",
            goal(t, 100.0, "≤ 100 ms"),
        );
    }
    if let Some(l) = kind("full-formatting-remembered") {
        let t = f(&l["total_ms"]);
        rep.row(
            "regen",
            format!(
                "full, in-process, release ({} files written), every vendor emitted again but rustfmt's results remembered (as after a generator rebuild), median of {runs}",
                l["written"]
            ),
            format!(
                "{} ({} CPU, {} rustfmt CPU)",
                ms(t),
                ms(f(&l["cpu_ms"])),
                ms(f(&l["children_cpu_ms"]))
            ),
            "",
            "",
            goal(t, 100.0, "≤ 100 ms"),
        );
    }
    if let Some(l) = kind("noop") {
        let changed = l["files_changed"].as_array().map_or(0, Vec::len);
        let proof = format!(
            "{} written by {} runs; {changed} of {} files in the tree changed (bytes and mtime compared)",
            l["written_total"], l["runs"], l["files_in_tree"]
        );
        let t = f(&l["total_ms"]);
        let met = if l["written_total"] == 0 && changed == 0 && t <= 50.0 {
            "met"
        } else {
            "missed"
        };
        rep.row(
            "regen",
            format!("no-op, in-process, release: {} files written, {changed} of {} changed, {} of {} spec folders from the cache", l["written_total"], l["files_in_tree"], l["cached"], l["units"]),
            format!("{} ({} CPU)", ms(t), ms(f(&l["cpu_ms"]))),
            "",
            "",
            format!("≤ 50 ms, writes nothing ({met})"),
        );
        let _ = writeln!(d, "\nNo-op proof: {proof}.");
    }
    if let Some(l) = kind("noop-uncached") {
        rep.row(
            "regen",
            "no-op without the cache (first run after a generator rebuild)",
            format!("{} ({} CPU)", ms(f(&l["total_ms"])), ms(f(&l["cpu_ms"]))),
            "",
            "",
            "",
        );
    }
}

/// One row per vendor: its regen alone against progenitor's on the same document.
fn regen_vendor_rows(rep: &mut Report, lines: &[Value], pg: &BTreeMap<String, Value>) {
    for l in lines.iter().filter(|l| l["kind"] == "vendor") {
        let krate = l["crate"].as_str().unwrap_or("?");
        let ours = f(&l["total_ms"]);
        let case = format!("`{krate}` alone vs progenitor on its openapi.json");
        match pg.get(krate) {
            Some(p) if p["median_ms"].is_number() => {
                let theirs = f(&p["median_ms"]);
                let ops = p["operations"].as_u64().unwrap_or(0);
                let dropped = p["dropped"].as_array().map_or(0, Vec::len);
                let note = if dropped > 0 {
                    format!(" ({} of {ops} operations)", ops - dropped as u64)
                } else {
                    String::new()
                };
                rep.row(
                    "regen",
                    case,
                    ms(ours),
                    format!("{}{note}", ms(theirs)),
                    format!("{:.2}", ours / theirs),
                    goal(ours / theirs, 0.5, "≤ 0.5"),
                );
            }
            Some(p) => rep.row(
                "regen",
                case,
                ms(ours),
                format!("fails: {}", p["fatal"].as_str().unwrap_or("?")),
                "",
                "",
            ),
            None => rep.row("regen", case, ms(ours), "not run", "", ""),
        }
    }
}

/// What progenitor made of each document.
fn progenitor_notes(d: &mut String, pg: &BTreeMap<String, Value>) {
    let _ = writeln!(d, "\n### What progenitor 0.15.1 could read\n");
    let _ = writeln!(d, "Progenitor (builder interface, merged tags) generates from each crate's `openapi.json` as emitted in this run; timed: read the prepared document, deserialize (`openapiv3`), generate, format (prettyplease), write `lib.rs`. Our side: the whole regen of that vendor (crate, API.md, openapi.json, tests).\n");
    for (name, p) in pg {
        let _ = writeln!(
            d,
            "- `{name}` (OpenAPI {}, {} operations):",
            p["version"].as_str().unwrap_or("?"),
            p["operations"]
        );
        match p["as_emitted_error"].as_str() {
            Some(e) => {
                let _ = writeln!(d, "  - as emitted: refused: `{e}`");
            }
            None => {
                let _ = writeln!(d, "  - as emitted: read and generated without changes");
            }
        }
        if let Some(e) = p["version_gate_error"].as_str() {
            let _ = writeln!(
                d,
                "  - with every 3.1 construct rewritten but the version left at 3.1: `{e}`"
            );
        }
        let rewrites = p["downgrade"].as_array().cloned().unwrap_or_default();
        if !rewrites.is_empty() {
            let list: Vec<String> = rewrites
                .iter()
                .map(|r| format!("{} ×{}", r["rewrite"].as_str().unwrap_or("?"), r["count"]))
                .collect();
            let _ = writeln!(d, "  - mechanical 3.1 → 3.0 rewrite: {}", list.join("; "));
        }
        for l in p["lossy"].as_array().into_iter().flatten() {
            let _ = writeln!(d, "  - lossy: {}", l.as_str().unwrap_or("?"));
        }
        for x in p["dropped"].as_array().into_iter().flatten() {
            let _ = writeln!(
                d,
                "  - dropped `{}` ({} {}): `{}`",
                x["operation"].as_str().unwrap_or("?"),
                x["method"].as_str().unwrap_or("?"),
                x["path"].as_str().unwrap_or("?"),
                x["error"].as_str().unwrap_or("?")
            );
        }
        if let Some(e) = p["fatal"].as_str() {
            let _ = writeln!(d, "  - could not generate: `{e}`");
        } else {
            let _ = writeln!(
                d,
                "  - generated {} lines; median {:.1} ms (min {:.1}, max {:.1}, {} runs)",
                p["lines"],
                f(&p["median_ms"]),
                f(&p["min_ms"]),
                f(&p["max_ms"]),
                p["runs"]
            );
        }
    }
}

/// Calls answered in process by the test kit, beside the same client's calls to a loopback server.
fn kit_row(rep: &mut Report, line: Option<&Value>) {
    let Some(l) = line else {
        rep.failures.push("mock_calls: no result line".into());
        return;
    };
    let (k, n) = (f(&l["kit_us_median"]), f(&l["loopback_us_median"]));
    rep.row(
        "test kit",
        format!(
            "median per call, {} calls answered by `MockServer` (bench/src/bin/mock_calls.rs)",
            l["requests"]
        ),
        format!("{k:.1} µs"),
        format!("{n:.1} µs same client, loopback server"),
        format!("{:.3}", k / n),
        "",
    );
    let (t, w) = (f(&l["typed_kit_us_median"]), f(&l["wiremock_us_median"]));
    rep.row(
        "test kit",
        format!(
            "median per call, {} calls of the generated `snapengage` client answered by its typed kit (`mock::Mock`)",
            l["requests"]
        ),
        format!("{t:.1} µs"),
        format!("{w:.1} µs same call, `wiremock` server"),
        format!("{:.3}", t / w),
        "",
    );
}

fn overhead_section(rep: &mut Report, line: Option<&Value>) {
    let Some(l) = line else {
        rep.failures.push("overhead: no result line".into());
        return;
    };
    let (g, h, m) = (
        f(&l["generated"]["median_us"]),
        f(&l["hand"]["median_us"]),
        f(&l["hand-model"]["median_us"]),
    );
    let met = if g / h <= 1.05 { "met" } else { "missed" };
    rep.row(
        "request overhead",
        format!("median per request, {} each, interleaved", l["requests"]),
        format!("{g:.1} µs"),
        format!("{h:.1} µs hand-written reqwest"),
        format!("{:.3}", g / h),
        format!("≤ 1.05 ({met})"),
    );
    let mut d = String::new();
    let _ = writeln!(d, "\n### Request overhead\n");
    let _ = writeln!(d, "SnapEngage `check_widget_availability` (GET, `x-api-key`, JSON answer) against a raw-tokio loopback server on the same single-threaded runtime (`bench/src/bin/overhead.rs`); the four clients take turns request by request, each on its own keep-alive connection.\n");
    let _ = writeln!(d, "| client | median | p10 | p90 | mean |");
    let _ = writeln!(d, "|---|---|---|---|---|");
    for (k, what) in [
        ("generated", "generated client"),
        ("hand", "hand-written reqwest, own struct"),
        ("hand-model", "hand-written reqwest, generated model type"),
        ("hand-timeout", "hand-written reqwest with a 30 s request timeout"),
    ] {
        let v = &l[k];
        let _ = writeln!(
            d,
            "| {what} | {:.1} µs | {:.1} µs | {:.1} µs | {:.1} µs |",
            f(&v["median_us"]),
            f(&v["p10_us"]),
            f(&v["p90_us"]),
            f(&v["mean_us"])
        );
    }
    let t = f(&l["hand-timeout"]["median_us"]);
    let _ = writeln!(d, "\nRatio against the hand-written call decoding into the generated model: {:.3}; against the hand-written call with reqwest's timeout (the generated client always arms a per-attempt timeout): {:.3}.", g / m, g / t);
    rep.row(
        "request overhead",
        "same, hand-written with reqwest's 30 s timeout",
        format!("{g:.1} µs"),
        format!("{t:.1} µs"),
        format!("{:.3}", g / t),
        "",
    );
    rep.details.push_str(&d);
}

/// callgrind's totals (with the cache simulated) for `overhead --only
/// client --requests n`, in order: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw.
fn callgrind_totals(overhead: &Path, client: &str, n: u64) -> Result<Vec<u64>, String> {
    eprintln!("==> callgrind: overhead --only {client} --requests {n}");
    let out = Command::new("valgrind")
        .args(["--tool=callgrind", "--cache-sim=yes", "--callgrind-out-file=/dev/null"])
        .arg(overhead)
        .args(["--only", client, "--requests", &n.to_string()])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run valgrind: {e}"))?;
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!(
            "valgrind on overhead --only {client} failed ({}): {err}",
            out.status
        ));
    }
    err.lines()
        .find_map(|l| l.split_once("Collected :"))
        .map(|(_, n)| {
            n.split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect::<Vec<u64>>()
        })
        .filter(|v| v.len() >= 6)
        .ok_or_else(|| format!("callgrind printed no totals for {client}"))
}

/// Instructions per request, counted by `valgrind --tool=callgrind`: stable
/// on a loaded machine, where wall times move by tens of percent. Each client
/// runs alone at two request counts; the difference divided by the extra
/// requests (warm-up included) leaves out start-up (TLS roots, runtime).
fn instructions_section(rep: &mut Report, overhead: &Path) {
    let have_valgrind = Command::new("valgrind")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !have_valgrind {
        rep.failures.push("overhead: valgrind is not installed, so instructions per request were not counted (apt-get install valgrind)".into());
        return;
    }
    // `--requests N` also runs N/10 warm-up requests (at least 100).
    let (small, large) = (2000u64, 4000u64);
    let calls = |n: u64| n + (n / 10).clamp(100, 2000);
    let count = |client: &str, n: u64| callgrind_totals(overhead, client, n);
    let per_call = |client: &str| -> Result<Vec<f64>, String> {
        let (a, b) = (count(client, small)?, count(client, large)?);
        let extra = (calls(large) - calls(small)) as f64;
        Ok(a.iter().zip(&b).map(|(&x, &y)| (y as f64 - x as f64) / extra).collect())
    };
    match (per_call("generated"), per_call("hand"), per_call("hand-timeout")) {
        (Ok(g), Ok(h), Ok(t)) => {
            // Issue 25's goal for instructions is tighter than for wall time.
            let met = if g[0] / h[0] <= 1.03 { "met" } else { "missed" };
            rep.row(
                "request overhead",
                "instructions per request (callgrind)",
                format!("{:.0}", g[0]),
                format!("{:.0} hand-written reqwest", h[0]),
                format!("{:.3}", g[0] / h[0]),
                format!("≤ 1.03 ({met})"),
            );
            rep.row(
                "request overhead",
                "instructions per request, against reqwest with its timeout",
                format!("{:.0}", g[0]),
                format!("{:.0}", t[0]),
                format!("{:.3}", g[0] / t[0]),
                "",
            );
            // What instructions do not show: code and data that do not fit the
            // first-level caches (simulated, so the same on any machine).
            for (k, what) in [
                (
                    3,
                    "level-1 instruction cache misses per request (callgrind --cache-sim)",
                ),
                (4, "level-1 data cache read misses per request (callgrind --cache-sim)"),
                (5, "level-1 data cache write misses per request (callgrind --cache-sim)"),
                (2, "memory writes per request (callgrind)"),
            ] {
                count_row(rep, what, g[k], h[k], "hand-written reqwest", 0);
            }
        }
        (g, h, t) => rep.failures.extend([g.err(), h.err(), t.err()].into_iter().flatten()),
    }
}

/// The clients compared beside the generated one in the counts below.
const COUNTED: [(&str, &str); 2] = [
    ("hand", "hand-written reqwest"),
    ("hand-timeout", "reqwest with its timeout"),
];

/// A "generated against X" row for a per-request count.
fn count_row(rep: &mut Report, case: &str, g: f64, h: f64, against: &str, digits: usize) {
    let ratio = if h > 0.0 {
        format!("{:.3}", g / h)
    } else {
        String::new()
    };
    rep.row(
        "request overhead",
        case.to_owned(),
        format!("{g:.digits$}"),
        format!("{h:.digits$} {against}"),
        ratio,
        "",
    );
}

/// Wake-ups, from the interleaved run: polls of the calling task (the first
/// poll and one per wake-up) and runtime parks (trips to the OS to wait), per request.
fn wakeup_rows(rep: &mut Report, line: Option<&Value>) {
    let Some(l) = line else { return };
    for (key, what) in [
        (
            "polls_per_request",
            "polls of the calling task per request (1 + wake-ups)",
        ),
        ("parks_per_request", "runtime parks per request (waits in the OS)"),
    ] {
        let g = f(&l["generated"][key]);
        for (client, against) in COUNTED {
            count_row(rep, what, g, f(&l[client][key]), against, 2);
        }
    }
}

/// Context switches per request (`getrusage` over the timed requests), each
/// client alone in its own process so the counts are its own.
fn switches_rows(rep: &mut Report, overhead: &Path, requests: usize) {
    let mut per = BTreeMap::new();
    for client in ["generated", "hand", "hand-timeout"] {
        let mut cmd = Command::new(overhead);
        cmd.args(["--only", client, "--requests", &requests.to_string()]);
        match run_bench(&format!("context switches: overhead --only {client}"), &mut cmd) {
            Ok(lines) => match lines.first() {
                Some(l) => {
                    let v = f(&l["voluntary_switches_per_request"]);
                    let i = f(&l["involuntary_switches_per_request"]);
                    per.insert(client, (v, i));
                }
                None => rep.failures.push(format!("overhead --only {client}: no result line")),
            },
            Err(e) => rep.failures.push(e),
        }
    }
    let Some(&(gv, gi)) = per.get("generated") else { return };
    for (client, against) in COUNTED {
        if let Some(&(v, i)) = per.get(client) {
            let case = "context switches per request, voluntary / involuntary (getrusage, each client alone)";
            rep.row(
                "request overhead",
                case,
                format!("{gv:.4} / {gi:.4}"),
                format!("{v:.4} / {i:.4} {against}"),
                "",
                "",
            );
        }
    }
}

/// The counts of one `strace -c -f` table: calls by system call, and the total.
fn strace_counts(table: &str) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for l in table.lines() {
        let cols: Vec<&str> = l.split_whitespace().collect();
        // "% time  seconds  usecs/call  calls  [errors]  syscall"
        if cols.len() < 5 || cols[0].parse::<f64>().is_err() {
            continue;
        }
        if let (Ok(calls), Some(name)) = (cols[3].parse::<u64>(), cols.last()) {
            out.insert((*name).to_owned(), calls);
        }
    }
    out
}

/// System calls per request of one client alone, by call and in total:
/// `strace -c -f` at two request counts, the difference divided by the
/// extra requests (start-up left out).
fn strace_per_request(overhead: &Path, client: &str) -> Result<BTreeMap<String, f64>, String> {
    let (small, large) = (2000u64, 4000u64);
    let calls = |n: u64| n + (n / 10).clamp(100, 2000);
    let count = |client: &str, n: u64| -> Result<BTreeMap<String, u64>, String> {
        eprintln!("==> strace -c -f: overhead --only {client} --requests {n}");
        let table = std::env::temp_dir().join(format!("snapsdk-bench-strace-{}-{client}-{n}", std::process::id()));
        let out = Command::new("strace")
            .args(["-c", "-f", "-o"])
            .arg(&table)
            .arg(overhead)
            .args(["--only", client, "--requests", &n.to_string()])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run strace: {e}"))?;
        let text = std::fs::read_to_string(&table).unwrap_or_default();
        let _ = std::fs::remove_file(&table);
        if !out.status.success() {
            return Err(format!(
                "strace on overhead --only {client} failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let counts = strace_counts(&text);
        if counts.contains_key("total") {
            Ok(counts)
        } else {
            Err(format!("strace printed no call total for {client}"))
        }
    };
    let per_call = |client: &str| -> Result<BTreeMap<String, f64>, String> {
        let (a, b) = (count(client, small)?, count(client, large)?);
        let extra = (calls(large) - calls(small)) as f64;
        Ok(b.iter()
            .map(|(k, &n)| (k.clone(), (n as f64 - a.get(k).copied().unwrap_or(0) as f64) / extra))
            .filter(|(_, d)| d.abs() >= 0.005)
            .collect())
    };
    per_call(client)
}

/// System calls per request, counted by `strace -c -f` (ptrace: no root
/// needed): each client alone at two request counts, the difference divided
/// by the extra requests, so start-up is left out. Without strace, says so.
fn syscalls_section(rep: &mut Report, overhead: &Path) {
    let have = Command::new("strace")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        rep.row(
            "request overhead",
            "system calls per request (strace -c -f)",
            "not counted: strace is not installed (apt-get install strace)",
            "",
            "",
            "",
        );
        return;
    }
    let per_call = |client: &str| strace_per_request(overhead, client);
    let g = match per_call("generated") {
        Ok(g) => g,
        Err(e) => return rep.failures.push(e),
    };
    let total = |m: &BTreeMap<String, f64>| m.get("total").copied().unwrap_or(0.0);
    let mut d = String::from("\n### System calls per request (strace -c -f, each client alone)\n\n");
    let _ = writeln!(d, "| client | total | by call |");
    let _ = writeln!(d, "|---|---|---|");
    let by_call = |m: &BTreeMap<String, f64>| {
        m.iter()
            .filter(|(k, _)| *k != "total")
            .map(|(k, v)| format!("{k} {v:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(d, "| generated client | {:.2} | {} |", total(&g), by_call(&g));
    for (client, against) in COUNTED {
        match per_call(client) {
            Ok(h) => {
                count_row(
                    rep,
                    "system calls per request (strace -c -f)",
                    total(&g),
                    total(&h),
                    against,
                    2,
                );
                let _ = writeln!(d, "| {against} | {:.2} | {} |", total(&h), by_call(&h));
            }
            Err(e) => rep.failures.push(e),
        }
    }
    rep.details.push_str(&d);
}

fn stream_section(rep: &mut Report, lines: &[Value], mib: u64) {
    for l in lines {
        let step = l["step"].as_str().unwrap_or("?");
        let peak = f(&l["peak_rss_mib"]);
        let met = if peak < 64.0 { "met" } else { "missed" };
        rep.row(
            "streaming memory",
            format!("{mib} MiB {step}"),
            format!("{peak:.1} MiB peak RSS, {}", secs(f(&l["seconds"]))),
            "",
            "",
            format!("< 64 MiB ({met})"),
        );
    }
    if lines.is_empty() {
        rep.failures.push("stream: no result lines".into());
    }
}

fn compile_section(
    rep: &mut Report,
    root: &Path,
    target: &Path,
    pg: &BTreeMap<String, Value>,
    runs: usize,
) -> Result<(), String> {
    let crates = ["snapengage", "besnappy", "snapcall"];
    let ours_target = target.join("bench/compile");
    // Progenitor's clients: a scratch workspace of one crate per vendor, with the pinned lock file.
    let pg_ws = target.join("bench/progenitor-clients");
    let pg_target = target.join("bench/progenitor-clients-target");
    let pg_crates = pg_clients(root, &pg_ws, pg, &crates)?;
    let mut d = String::new();
    let _ = writeln!(d, "\n### Compile time (CPU and wall, median of {runs})\n");
    let _ = writeln!(
        d,
        "Each client crate alone, its dependencies already built: `cargo clean -p <crate>` then `cargo build -p <crate>`, in separate target folders (`target/bench/compile`, `target/bench/progenitor-clients-target`) with the same dev profile settings. Progenitor's clients are its generated `lib.rs` in a scratch crate under `target/bench/progenitor-clients`, with the dependencies pinned by `bench/progenitor/Cargo.lock`. CPU is user + system seconds of cargo and the compilers it waited for; it is what the ratio compares, because wall time on a shared machine moves with the other load (given in the last column).\n"
    );
    let _ = writeln!(
        d,
        "| crate | profile | snapsdk CPU | progenitor CPU | snapsdk wall | progenitor wall | snapsdk lines | progenitor lines | 1-min load after |"
    );
    let _ = writeln!(d, "|---|---|---|---|---|---|---|---|---|");
    for (profile, flag) in [("debug", None), ("release", Some("--release"))] {
        if !pg_crates.is_empty() {
            let mut pre: Vec<String> = vec!["build".into()];
            pre.extend(flag.map(str::to_owned));
            cargo_timed(
                root,
                &pre.iter().map(String::as_str).collect::<Vec<_>>(),
                &pg_target,
                Some(&pg_ws),
            )?;
        }
        for k in crates {
            // Each client alone: its runtime dependency is built with that
            // client's features (a build of all three would unify them, and
            // the first client timed alone would then rebuild the runtime).
            let mut prebuild = vec!["build", "-p", k];
            prebuild.extend(flag);
            cargo_timed(root, &prebuild, &ours_target, None)?;
            let ours = time_clean_build(root, &ours_target, None, k, flag, runs)?;
            let pg_name = format!("pg-{k}");
            let theirs = if pg_crates.iter().any(|(c, _)| *c == k) {
                Some(time_clean_build(root, &pg_target, Some(&pg_ws), &pg_name, flag, runs)?)
            } else {
                None
            };
            let ours_lines = rust_lines(&root.join("crates").join(k).join("src"));
            let pg_lines = pg.get(k).and_then(|p| p["lines"].as_u64());
            let (theirs_cpu, theirs_wall, ratio) = match theirs {
                Some(t) => (secs(t.cpu), secs(t.wall), format!("{:.2}", ours.cpu / t.cpu)),
                None => ("not built".into(), "not built".into(), String::new()),
            };
            let limit = if profile == "debug" { 0.8 } else { 1.0 };
            rep.row(
                "compile time",
                format!("`{k}`, {profile}, deps prebuilt: CPU (user + sys)"),
                secs(ours.cpu),
                format!("{theirs_cpu} progenitor"),
                ratio,
                theirs.map_or(String::new(), |t| {
                    goal(ours.cpu / t.cpu, limit, &format!("≤ {limit:.1}"))
                }),
            );
            let _ = writeln!(
                d,
                "| {k} | {profile} | {} | {theirs_cpu} | {} | {theirs_wall} | {ours_lines} | {} | {} |",
                secs(ours.cpu),
                secs(ours.wall),
                pg_lines.map_or("".into(), |n| n.to_string()),
                load_average(),
            );
        }
    }
    rep.details.push_str(&d);
    Ok(())
}

/// The crates among `crates` progenitor generated a client for, written as a workspace in `pg_ws` (if any).
fn pg_clients<'a>(
    root: &Path,
    pg_ws: &Path,
    pg: &BTreeMap<String, Value>,
    crates: &[&'a str],
) -> Result<Vec<(&'a str, PathBuf)>, String> {
    let mut pg_crates = Vec::new();
    for &k in crates {
        if let Some(lib) = pg
            .get(k)
            .filter(|p| p["fatal"].is_null())
            .and_then(|p| p["lib_rs"].as_str())
        {
            pg_crates.push((k, PathBuf::from(lib)));
        }
    }
    if !pg_crates.is_empty() {
        write_pg_workspace(root, pg_ws, &pg_crates)?;
    }
    Ok(pg_crates)
}

/// A clean build's median wall seconds and median CPU seconds (user + system, cargo and its children).
#[derive(Clone, Copy)]
struct BuildTime {
    wall: f64,
    cpu: f64,
}

fn time_clean_build(
    root: &Path,
    target: &Path,
    dir: Option<&Path>,
    krate: &str,
    flag: Option<&str>,
    runs: usize,
) -> Result<BuildTime, String> {
    let (mut walls, mut cpus) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let mut clean = vec!["clean", "-p", krate];
        clean.extend(flag);
        cargo_timed(root, &clean, target, dir)?;
        let mut build = vec!["build", "-p", krate];
        build.extend(flag);
        let cpu0 = children_cpu().ok_or("cannot read /proc/self/stat for CPU time")?;
        walls.push(cargo_timed(root, &build, target, dir)?);
        let cpu1 = children_cpu().ok_or("cannot read /proc/self/stat for CPU time")?;
        cpus.push(cpu1 - cpu0);
    }
    Ok(BuildTime {
        wall: median(walls),
        cpu: median(cpus),
    })
}

/// The 1-minute load average, as `/proc/loadavg` gives it.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

fn rust_lines(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "rs"))
                .map(|p| std::fs::read_to_string(p).map(|t| t.lines().count()).unwrap_or(0))
                .sum()
        })
        .unwrap_or(0)
}

/// A workspace of `pg-<crate>` packages around progenitor's generated `lib.rs` files.
fn write_pg_workspace(root: &Path, ws: &Path, crates: &[(&str, PathBuf)]) -> Result<(), String> {
    let io = |e: std::io::Error| format!("{}: {e}", ws.display());
    let deps_manifest = std::fs::read_to_string(root.join("bench/progenitor/client-deps/Cargo.toml"))
        .map_err(|e| format!("bench/progenitor/client-deps/Cargo.toml: {e}"))?;
    let deps = deps_manifest
        .split_once("[dependencies]")
        .map(|(_, d)| d.trim())
        .ok_or("client-deps/Cargo.toml has no [dependencies]")?;
    std::fs::create_dir_all(ws).map_err(io)?;
    let members: Vec<String> = crates.iter().map(|(k, _)| format!("\"{k}\"")).collect();
    let manifest = format!(
        "# Written by `cargo xtask bench`.\n[workspace]\nresolver = \"2\"\nmembers = [{}]\n\n[profile.dev]\ndebug = \"line-tables-only\"\n\n[profile.dev.package.\"*\"]\ndebug = false\n",
        members.join(", ")
    );
    write_if_changed(&ws.join("Cargo.toml"), &manifest).map_err(io)?;
    std::fs::copy(root.join("bench/progenitor/Cargo.lock"), ws.join("Cargo.lock")).map_err(io)?;
    for (k, lib) in crates {
        let dir = ws.join(k);
        std::fs::create_dir_all(dir.join("src")).map_err(io)?;
        let pkg = format!("[package]\nname = \"pg-{k}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\n{deps}\n");
        write_if_changed(&dir.join("Cargo.toml"), &pkg).map_err(io)?;
        let code = std::fs::read_to_string(lib).map_err(io)?;
        write_if_changed(&dir.join("src/lib.rs"), &format!("#![allow(warnings)]\n{code}")).map_err(io)?;
    }
    Ok(())
}

fn write_if_changed(path: &Path, text: &str) -> std::io::Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|t| t == text) {
        return Ok(());
    }
    std::fs::write(path, text)
}

/// CPU seconds (user + system) of this process's finished children, from `/proc/self/stat`.
fn children_cpu() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // Fields 16 and 17 of proc(5) (cutime, cstime), counted after the command name.
    let ticks: f64 = fields.get(13)?.parse::<f64>().ok()? + fields.get(14)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// The maintainer's command as typed: `cargo xtask regen` in the working tree
/// (dev profile). One warm-up run (builds xtask if needed, fills the cache),
/// then `runs` timed runs: wall seconds, and CPU seconds of cargo plus xtask.
fn real_regen(root: &Path, runs: usize) -> Result<(Vec<f64>, Vec<f64>), String> {
    eprintln!(
        "==> cargo xtask regen (the real command, dev profile, warm), 1 + {runs} runs in {}",
        root.display()
    );
    let run = || -> Result<(f64, Option<f64>), String> {
        let cpu0 = children_cpu();
        let t = Instant::now();
        let out = Command::new(cargo())
            .args(["xtask", "regen"])
            .current_dir(root)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cargo xtask regen: cannot start: {e}"))?;
        let wall = t.elapsed().as_secs_f64();
        if !out.status.success() {
            return Err(format!(
                "cargo xtask regen failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        if let Some(last) = String::from_utf8_lossy(&out.stdout).lines().last() {
            eprintln!("    {last}");
        }
        Ok((wall, cpu0.zip(children_cpu()).map(|(a, b)| b - a)))
    };
    run()?;
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let (w, c) = run()?;
        wall.push(w);
        cpu.extend(c);
    }
    Ok((wall, cpu))
}

fn real_regen_rows(rep: &mut Report, wall: &[f64], cpu: &[f64]) {
    let w = median(wall.to_vec());
    let min = wall.iter().copied().fold(f64::INFINITY, f64::min);
    let c = if cpu.is_empty() {
        "CPU unknown".to_owned()
    } else {
        format!("{} CPU (cargo + xtask, user + system)", secs(median(cpu.to_vec())))
    };
    rep.row(
        "regen",
        format!(
            "`cargo xtask regen` as typed, dev profile, warm, nothing to do: median wall of {} (min {})",
            wall.len(),
            secs(min)
        ),
        format!("{} wall, {c}", secs(w)),
        "",
        "",
        goal(w, 0.3, "≤ 0.3 s"),
    );
}

/// The client the application section builds on (the README's example client).
const APP_CLIENT: &str = "snapengage";

/// One application: a binary crate of its own (own workspace, default profiles, empty target folder).
struct App {
    name: &'static str,
    what: String,
    deps: String,
    main: String,
    lock: PathBuf,
}

/// The application section: a new binary crate depending on one client and
/// tokio, `cargo build` from nothing, debug and release; the same on
/// progenitor's client (with the dependencies it needs as is, and with
/// reqwest's default features, which add TLS and HTTP/2 as ours has).
fn app_section(
    rep: &mut Report,
    root: &Path,
    target: &Path,
    pg: &BTreeMap<String, Value>,
    client: &str,
) -> Result<(), String> {
    let base = target.join("bench/app");
    let apps = apps(rep, root, target, pg, client)?;
    let mut d = String::new();
    let _ = writeln!(d, "\n### What an application pays to build\n");
    let _ = writeln!(
        d,
        "A new binary crate (`target/bench/app/<name>`, its own workspace, cargo's default profiles) with two dependencies, one client and `tokio` (`rt-multi-thread`, `macros`), whose `main` makes one call; `cargo build` and `cargo build --release`, each from an empty target folder (registry sources already downloaded). Crates compiled: the `Compiling` lines cargo prints. Binary size: the release executable as built (not stripped). Versions pinned by this workspace's `Cargo.lock` (ours) and `bench/progenitor/Cargo.lock` (progenitor's). One build each: these are minutes long on a shared machine. CPU is user + system seconds of cargo and the compilers it waited for; the ratios compare it, as wall time moves with the machine's other load.\n"
    );
    let _ = writeln!(d, "| app | debug build: CPU / wall | crates | release build: CPU / wall | crates | release binary | 1-min load average before debug / release |");
    let _ = writeln!(d, "|---|---|---|---|---|---|---|");
    let mut results = Vec::new();
    for app in &apps {
        let (r, size, loads) = build_app(&base.join(app.name), app)?;
        let _ = writeln!(
            d,
            "| {} | {} / {} | {} | {} / {} | {} | {size:.1} MiB | {} |",
            app.what,
            secs(r[0].1),
            secs(r[0].0),
            r[0].2,
            secs(r[1].1),
            secs(r[1].0),
            r[1].2,
            loads.join(" / ")
        );
        results.push((app, r, size));
    }
    rep.details.push_str(&d);
    app_rows(rep, client, &results);
    Ok(())
}

/// The apps to build: ours, then (when progenitor generated the client) progenitor's, as is and with TLS.
fn apps(
    rep: &mut Report,
    root: &Path,
    target: &Path,
    pg: &BTreeMap<String, Value>,
    client: &str,
) -> Result<Vec<App>, String> {
    let path_of = |p: &Path| format!("{:?}", p.display().to_string());
    let tokio = r#"tokio = { version = "1", features = ["rt-multi-thread", "macros"] }"#;
    let mut apps = vec![App {
        name: "app-snapsdk",
        what: format!("snapsdk `{client}`"),
        deps: format!("{client} = {{ path = {} }}\n{tokio}\n", path_of(&root.join("crates").join(client))),
        main: format!(
            "#[tokio::main]\nasync fn main() {{\n    let base = std::env::args().nth(1).unwrap_or_else(|| \"http://127.0.0.1:4010\".to_owned());\n    let client = {client}::Client::builder().base_url(&base).build().expect(\"client\");\n{}\n}}\n",
            app_call(false)
        ),
        lock: root.join("Cargo.lock"),
    }];
    match pg
        .get(client)
        .filter(|p| p["fatal"].is_null())
        .and_then(|p| p["lib_rs"].as_str())
    {
        Some(lib) => {
            let ws = target.join("bench/progenitor-clients");
            write_pg_workspace(root, &ws, &[(client, PathBuf::from(lib))])?;
            let dep = format!("pg-{client} = {{ path = {} }}\n{tokio}\n", path_of(&ws.join(client)));
            let main = format!(
                "#[tokio::main]\nasync fn main() {{\n    let base = std::env::args().nth(1).unwrap_or_else(|| \"http://127.0.0.1:4010\".to_owned());\n    let client = pg_{client}::Client::new(&base);\n{}\n}}\n",
                app_call(true)
            );
            let lock = root.join("bench/progenitor/Cargo.lock");
            apps.push(App {
                name: "app-progenitor",
                what: format!("progenitor `{client}`, its dependencies as is (reqwest without TLS or HTTP/2)"),
                deps: dep.clone(),
                main: main.clone(),
                lock: lock.clone(),
            });
            // What the app needs to reach the vendor's https URL as ours does: rustls with ring, and HTTP/2.
            apps.push(App {
                name: "app-progenitor-tls",
                what: format!("progenitor `{client}` + TLS (rustls, ring) and HTTP/2, as ours has"),
                deps: format!("{dep}reqwest = {{ version = \"0.13\", default-features = false, features = [\"rustls-no-provider\", \"http2\"] }}\nrustls = {{ version = \"0.23\", default-features = false, features = [\"ring\", \"std\", \"tls12\"] }}\n"),
                main: main.replacen("    let client =", "    let _ = rustls::crypto::ring::default_provider().install_default();\n    let client =", 1),
                lock,
            });
        }
        None => rep.failures.push(format!(
            "app: progenitor's `{client}` client was not generated, so only ours was built"
        )),
    }
    Ok(apps)
}

/// `(wall seconds, CPU seconds, crates compiled)` of an app's debug and release builds.
type Builds = Vec<(f64, f64, usize)>;

/// Writes one app's crate in `dir` and builds it from nothing, debug then release:
/// `(wall seconds, CPU seconds, crates compiled)` per build, the release binary's MiB and the load average before each build.
fn build_app(dir: &Path, app: &App) -> Result<(Builds, f64, Vec<String>), String> {
    let io = |e: std::io::Error| format!("{}: {e}", dir.display());
    std::fs::create_dir_all(dir.join("src")).map_err(io)?;
    let manifest = format!("# Written by `cargo xtask bench`.\n[package]\nname = \"{}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\n{}\n[workspace]\n", app.name, app.deps);
    write_if_changed(&dir.join("Cargo.toml"), &manifest).map_err(io)?;
    write_if_changed(&dir.join("src/main.rs"), &app.main).map_err(io)?;
    std::fs::copy(&app.lock, dir.join("Cargo.lock")).map_err(io)?;
    let mut r = Vec::new();
    let mut loads = Vec::new();
    for release in [false, true] {
        let t = dir.join("target");
        let _ = std::fs::remove_dir_all(&t);
        loads.push(
            std::fs::read_to_string("/proc/loadavg")
                .ok()
                .and_then(|l| l.split_whitespace().next().map(str::to_owned))
                .unwrap_or_else(|| "?".into()),
        );
        r.push(build_counted(dir, &t, release)?);
    }
    let exe = dir.join("target/release").join(app.name);
    let size = std::fs::metadata(&exe)
        .map_err(|e| format!("{}: {e}", exe.display()))?
        .len() as f64
        / (1024.0 * 1024.0);
    Ok((r, size, loads))
}

/// The table rows: each progenitor app's builds and binary against ours (the first).
fn app_rows(rep: &mut Report, client: &str, results: &[(&App, Builds, f64)]) {
    let Some((ours, ours_r, ours_size)) = results.first() else {
        return;
    };
    let _ = ours;
    for (app, r, size) in results.iter().skip(1) {
        let ratio = |a: f64, b: f64| format!("{:.2}", a / b);
        let met = |a: f64, b: f64| if a <= b { "met" } else { "missed" };
        let short = if app.name == "app-progenitor" {
            "progenitor, deps as is (no TLS, no HTTP/2)"
        } else {
            "progenitor + TLS (rustls, ring) and HTTP/2"
        };
        for (i, profile) in ["debug", "release"].iter().enumerate() {
            rep.row(
                "app build",
                format!("new app on `{client}` + tokio, {profile}, from nothing: CPU (user + sys) / crates"),
                format!("{} / {}", secs(ours_r[i].1), ours_r[i].2),
                format!("{} / {} {short}", secs(r[i].1), r[i].2),
                format!(
                    "{} / {}",
                    ratio(ours_r[i].1, r[i].1),
                    ratio(ours_r[i].2 as f64, r[i].2 as f64)
                ),
                format!(
                    "≤ 1 ({} / {})",
                    met(ours_r[i].1, r[i].1),
                    met(ours_r[i].2 as f64, r[i].2 as f64)
                ),
            );
        }
        rep.row(
            "app build",
            "release binary size",
            format!("{ours_size:.1} MiB"),
            format!("{size:.1} MiB {short}"),
            ratio(*ours_size, *size),
            format!("≤ 1 ({})", met(*ours_size, *size)),
        );
    }
}

/// The one call each app makes (SnapEngage's widget availability, a GET with
/// one path parameter), in our builder style or progenitor's.
fn app_call(progenitor: bool) -> String {
    let call = if progenitor {
        "client.check_widget_availability().widget_id(\"widget\").send().await"
    } else {
        "client.chat().check_widget_availability(\"widget\").send().await"
    };
    format!("    let answer = {call};\n    println!(\"{{answer:?}}\");")
}

/// `cargo build [--release]` in `dir` into an empty `target`: wall seconds, CPU seconds
/// (user + system of cargo and its children) and the number of crates compiled.
fn build_counted(dir: &Path, target: &Path, release: bool) -> Result<(f64, f64, usize), String> {
    let mut args = vec!["build"];
    if release {
        args.push("--release");
    }
    eprintln!("==> cargo {} in {} (from nothing)", args.join(" "), dir.display());
    let started = Instant::now();
    let cpu0 = children_cpu().ok_or("cannot read /proc/self/stat for CPU time")?;
    let out = Command::new(cargo())
        .args(&args)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let wall = started.elapsed().as_secs_f64();
    let cpu = children_cpu().ok_or("cannot read /proc/self/stat for CPU time")? - cpu0;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!(
            "`cargo {}` in {} failed ({}):\n{stderr}",
            args.join(" "),
            dir.display(),
            out.status
        ));
    }
    let crates = stderr
        .lines()
        .filter(|l| l.trim_start().starts_with("Compiling "))
        .count();
    eprintln!("    {crates} crates compiled in {} ({} CPU)", secs(wall), secs(cpu));
    Ok((wall, cpu, crates))
}

#[cfg(test)]
mod overhead_tests {
    use super::strace_counts;

    /// A `strace -c -f` table, with and without an errors column, read by call name.
    #[test]
    fn strace_tables_are_read_by_call() {
        let table = "% time     seconds  usecs/call     calls    errors syscall\n\
                     ------ ----------- ----------- --------- --------- ------------------\n \
                     25.65    0.004797           0      6602           epoll_wait\n \
                     17.92    0.003351           0      4401         1 recvfrom\n\
                     ------ ----------- ----------- --------- --------- ------------------\n\
                     100.00    0.018700           1     13004         2 total\n";
        let c = strace_counts(table);
        assert_eq!(c.get("epoll_wait"), Some(&6602));
        assert_eq!(c.get("recvfrom"), Some(&4401));
        assert_eq!(c.get("total"), Some(&13004));
        assert_eq!(c.len(), 3);
    }
}
