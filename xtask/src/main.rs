//! `cargo xtask <command>`: see `usage()`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use xtask::regen::{self, Failure, Options};
use xtask::testrun::{self, Outcome, Tally};

mod bench;

fn usage() -> &'static str {
    "usage: cargo xtask regen [--check [--base REV]] [--vendor NAME]\n\
     \x20      cargo xtask diff REV\n\
     \x20      cargo xtask sources [--docs DIR] [--vendor NAME] [--accept]\n\
     \x20      cargo xtask test\n\
     \x20      cargo xtask bench [--only LIST] [--runs N] [--requests N] [--stream-mib N] [--compile-runs N] [--no-progenitor]\n\
     \n\
     regen     read specs/, validate them, and write each vendor's crate, API.md and openapi.json\n\
     --check   write nothing; fail if any generated file is stale or hand-edited\n\
     --base    with --check: the revision whose specs the semver check compares with\n\
     \x20         (default: each crate's newest release tag `<crate>-v<version>`)\n\
     --vendor  limit the run to one vendor folder of specs/\n\
     diff      markdown report of the API changes in specs/ since REV, with each crate's semver impact\n\
     sources   markdown report of what changed in the vendor documents since specs/<vendor>/sources.lock:\n\
     \x20         changed, vanished and new sections and endpoint lines, and the operations that cite them\n\
     \x20         (exit 0 no drift, 1 drift, 2 could not run); --docs: the documents (default shared/vendor-docs);\n\
     \x20         --accept: rewrite the lock files once the specs are updated (refuses while specs have errors)\n\
     test      the whole suite: OpenAPI validation, clippy -D warnings, rustdoc -D warnings, every test\n\
     \x20         (wiremock and Prism mock servers included; installs the pinned validator and Prism first),\n\
     \x20         then `cargo publish --workspace --dry-run`; every step runs to its end, then each step's\n\
     \x20         outcome and, last, `N passed, N failed[, N skipped]` over every test binary and doctest"
}

/// Run one cargo step to its end, echoing it; test results in its output are added to `tally`.
fn step(root: &Path, what: &str, args: &[&str], env: &[(&str, &str)], tally: &mut Tally) -> Outcome {
    let outcome = testrun::cargo(root, what, args, env, tally);
    if !outcome.ok {
        eprintln!("error: {what} failed ({}); the remaining steps still run", outcome.note);
    }
    outcome
}

/// The test command: every step runs even when an earlier one failed, then
/// one report: each step's outcome, and as the last line the tests counted
/// over every test binary and doctest run.
fn test_cmd(args: &[String]) -> ExitCode {
    if let Some(a) = args.first() {
        eprintln!("error: unknown argument `{a}`\n\n{}", usage());
        return ExitCode::from(2);
    }
    let root = root();
    let target = xtask::external::target_dir(&root);
    let lint = match xtask::testrun::clippy_env() {
        Ok(env) => env,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut outcomes: Vec<Outcome> = Vec::new();
    // The independent checkers (the OpenAPI validator runs at once, Prism
    // serves the `tests/prism.rs` of each crate) install and run while cargo
    // builds: they mostly wait on the network, cargo on the CPU.
    let prepare = {
        let (root, target) = (root.clone(), target.clone());
        std::thread::spawn(move || xtask::external::prepare(&root, &target))
    };
    let mut tally = Tally::default();
    let mut none = Tally::default();
    // Clippy lints the workspace while the test binaries are built, so the
    // dependencies compile once (for clippy, the tests and the doctests)
    // instead of once in check mode and again in full: `cargo clippy` is
    // `cargo check` with clippy-driver as the workspace's rustc wrapper;
    // here the wrapper is given to `cargo test` with the same arguments.
    let lint: Vec<(&str, &str)> = lint.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // The targets `cargo test` builds (libs, bins and tests in test mode, libs
    // and examples as they ship), so the tests step below rebuilds nothing.
    // That is what `cargo clippy --all-targets` lints, benches aside (the
    // workspace has none); `--all-targets` here would build the examples in
    // test mode and the tests step would build them again.
    let clippy = step(&root, "clippy + test build", &["test", "--workspace", "--locked", "--no-run"], &lint, &mut none);
    let clippy_ok = clippy.ok;
    outcomes.push(clippy);
    outcomes.push(step(&root, "rustdoc", &["doc", "--workspace", "--no-deps", "--locked"], &[("RUSTDOCFLAGS", "-D warnings")], &mut none));
    // Prism must be in place before the tests start.
    let prepared = prepare.join().unwrap_or_else(|_| {
        vec![Outcome { what: "OpenAPI validation, Prism install".into(), ok: false, took: Default::default(), note: "the install thread panicked".into() }]
    });
    outcomes.splice(0..0, prepared);
    // Every test binary and the doctests, to the end even when one fails. With
    // the same wrapper nothing is rebuilt; after a lint failure the tests run
    // without it (rebuilding the workspace crates only), so a lint never hides a test result.
    let test_env: &[(&str, &str)] = if clippy_ok { &lint } else { &[] };
    let mut o = step(&root, "tests", &["test", "--workspace", "--locked", "--no-fail-fast"], test_env, &mut tally);
    tally.finish();
    if !o.ok && tally.failed == 0 {
        // Nothing ran or a binary did not build: still a failure in the count.
        tally.failed += 1;
        o.note = format!("{}; no test failed, so a test binary did not build or cargo stopped early", o.note);
    } else {
        o.note = format!("{} test binaries and doctest runs{}", tally.binaries, if tally.no_result > 0 { format!(", {} ended without a result", tally.no_result) } else { String::new() });
    }
    outcomes.push(o);
    // Packages the runtime and the three clients in dependency order and
    // builds each from its .crate file, as crates.io would receive it: alone,
    // with only the features its own manifest asks for (the workspace build
    // unifies features across members, so this is the one check that a crate
    // does not lean on another member's features or on a file outside it).
    // `--allow-dirty` lets it run on uncommitted work; CI's clone is clean.
    let cleared = xtask::testrun::clear_dry_run_sources(&root);
    if cleared > 0 {
        println!("==> publish dry run: removed {cleared} unpacked copies of this workspace's crates left by an earlier dry run");
    }
    outcomes.push(step(
        &root,
        "publish dry run",
        &["publish", "--workspace", "--dry-run", "--locked", "--allow-dirty"],
        &[("CARGO_PROFILE_DEV_DEBUG", "false")],
        &mut none,
    ));
    println!("==> cargo xtask test: every step");
    for o in &outcomes {
        println!("{}", o.line());
    }
    println!("{}", tally.summary());
    if outcomes.iter().all(|o| o.ok) && tally.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `cargo xtask diff REV`: the pull-request report.
fn diff_cmd(args: &[String]) -> ExitCode {
    let [rev] = args else {
        eprintln!("error: diff takes one git revision (e.g. `cargo xtask diff origin/main`)\n\n{}", usage());
        return ExitCode::from(2);
    };
    let root = root();
    let old = match xtask::apidiff::load_specs_at(&root, rev) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let new = match xtask::apidiff::load_specs(&root, "specs") {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}\nerror: the working tree's specs do not validate; fix them first (`cargo xtask regen` reports the same problems)");
            return ExitCode::FAILURE;
        }
    };
    let mut reports = xtask::apidiff::compare(&old, &new);
    if let Err(e) = xtask::apidiff::add_surface_changes(&root, rev, &old, &mut reports) {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    print!("{}", xtask::apidiff::markdown(rev, &reports));
    match xtask::apidiff::source_changes(&root, rev) {
        Ok(s) => print!("{s}"),
        Err(e) => eprintln!("warning: source fingerprints not compared: {e}"),
    }
    ExitCode::SUCCESS
}

/// The workspace to act on: found from the current directory, as cargo does,
/// and refused when it is not the tree this binary was built from (see
/// [`regen::find_workspace`]).
fn root() -> PathBuf {
    let compiled = Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
    let found = std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}")).and_then(|cwd| regen::find_workspace(&cwd, &compiled));
    match found {
        Ok(root) => root,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1)
        }
    }
}

/// `shared/vendor-docs` beside the checkout, used to check cited sections.
pub fn docs_dir(root: &Path) -> Option<PathBuf> {
    [root.join("../shared/vendor-docs"), root.join("shared/vendor-docs")].into_iter().find(|p| p.is_dir())
}

// Regen builds and drops millions of small syntax-tree nodes on two or more
// threads; mimalloc takes a full regen from about 100 to 67 ms (release, two
// cores) against glibc's allocator. See README, Benchmarks.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first() else {
        eprintln!("{}", usage());
        return ExitCode::from(2);
    };
    if !matches!(cmd.as_str(), "-h" | "--help" | "help") {
        // Before any argument is read: a binary from another checkout must not act at all.
        root();
    }
    match cmd.as_str() {
        "regen" => regen_cmd(&args[1..]),
        "test" => test_cmd(&args[1..]),
        "bench" => bench::run(&root(), &args[1..]),
        "diff" => diff_cmd(&args[1..]),
        "sources" => sources_cmd(&args[1..]),
        "-h" | "--help" | "help" => {
            println!("{}\n{}", usage(), bench::USAGE);
            ExitCode::SUCCESS
        }
        other => {
            eprintln!("error: unknown command `{other}`\n\n{}", usage());
            ExitCode::from(2)
        }
    }
}

/// `cargo xtask sources`: the vendor documents held against `specs/<vendor>/sources.lock`.
fn sources_cmd(args: &[String]) -> ExitCode {
    let (mut docs, mut vendor, mut accept) = (None, None, false);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match (a.as_str(), it.clone().next()) {
            ("--accept", _) => accept = true,
            ("--docs", Some(v)) => (docs, _) = (Some(PathBuf::from(v)), it.next()),
            ("--vendor", Some(v)) => (vendor, _) = (Some(v.clone()), it.next()),
            (other, _) => {
                eprintln!("error: unknown or incomplete argument `{other}`\n\n{}", usage());
                return ExitCode::from(2);
            }
        }
    }
    let root = root();
    let accepted = docs_dir(&root);
    let Some(docs) = docs.or_else(|| accepted.clone()) else {
        eprintln!("error: shared/vendor-docs not found beside the checkout; pass --docs DIR");
        return ExitCode::from(2);
    };
    ExitCode::from(xtask::sources::command(&xtask::sources::Command { root: &root, docs: &docs, accepted_docs: accepted.as_deref(), vendor: vendor.as_deref(), accept }))
}

fn regen_cmd(args: &[String]) -> ExitCode {
    let mut check = false;
    let mut vendor = None;
    let mut base = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--check" => check = true,
            "--base" => match it.next() {
                Some(v) => base = Some(v.clone()),
                None => {
                    eprintln!("error: --base needs a git revision\n\n{}", usage());
                    return ExitCode::from(2);
                }
            },
            "--vendor" => match it.next() {
                Some(v) => vendor = Some(v.clone()),
                None => {
                    eprintln!("error: --vendor needs a vendor name\n\n{}", usage());
                    return ExitCode::from(2);
                }
            },
            other => {
                eprintln!("error: unknown argument `{other}`\n\n{}", usage());
                return ExitCode::from(2);
            }
        }
    }
    if base.is_some() && !check {
        eprintln!("error: --base only applies with --check\n\n{}", usage());
        return ExitCode::from(2);
    }
    let root = root();
    if let Err(e) = xtask::versions::check(&root) {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    if check {
        // The semver gate: a breaking change needs a major bump (minor below 1.0).
        match xtask::apidiff::gate(&root, base.as_deref()) {
            Ok(g) if g.failures.is_empty() => g.notes.iter().for_each(|n| println!("{n}")),
            Ok(g) => {
                g.notes.iter().for_each(|n| eprintln!("{n}"));
                g.failures.iter().for_each(|f| eprintln!("error: {f}"));
                eprintln!("error: version bumps do not cover the API changes; `cargo xtask diff {}` lists them", base.as_deref().unwrap_or("<release tag>"));
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("error: semver check: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let opts = Options { vendor: vendor.as_deref(), check, ..Options::workspace(&root, docs_dir(&root)) };
    match (&opts.docs, check) {
        (None, _) => eprintln!("note: shared/vendor-docs not found beside the checkout; cited sections and the fingerprints in specs/*/sources.lock are not checked"),
        (Some(docs), true) => match xtask::sources::drift(&root, docs, vendor.as_deref()) {
            Ok(items) if items.is_empty() => {}
            Ok(items) => {
                items.iter().for_each(|i| eprintln!("error: vendor document drift: {i}"));
                eprintln!("error: the vendor documents differ from specs/*/sources.lock; `cargo xtask sources` reports what changed and who cites it, `cargo xtask sources --accept` records it once the specs are updated");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("error: vendor documents: {e}");
                return ExitCode::FAILURE;
            }
        },
        (Some(_), false) => {}
    }
    let started = std::time::Instant::now();
    match regen::run(&opts) {
        Ok((report, t)) => {
            let total = started.elapsed();
            for w in &report.warnings {
                eprintln!("{w}");
            }
            for p in &report.written {
                println!("wrote {}", p.display());
            }
            for p in &report.removed {
                println!("removed {}", p.display());
            }
            println!(
                "regen{}: {} written, {} unchanged, {} removed in {:.1} ms; {} (parse+validate {:.1} ms, emit+format {:.1} ms, write {:.1} ms)",
                if check { " --check" } else { "" },
                report.written.len(),
                report.unchanged,
                report.removed.len(),
                total.as_secs_f64() * 1e3,
                if check { format!("all {} spec folders generated afresh (--check never uses the cache)", t.units) } else { format!("{} of {} spec folders unchanged since the last regen, taken from {}", t.cached, t.units, regen::CACHE_DIR) },
                t.parse_validate.as_secs_f64() * 1e3,
                t.generate.as_secs_f64() * 1e3,
                t.write.as_secs_f64() * 1e3,
            );
            ExitCode::SUCCESS
        }
        Err(Failure::Spec(diags)) => {
            for d in &diags {
                eprintln!("{d}");
            }
            eprintln!("error: {} problem(s) in specs/; nothing was written", diags.len());
            ExitCode::FAILURE
        }
        Err(Failure::Stale(report)) => {
            eprintln!("error: {}", report.stale_message());
            ExitCode::FAILURE
        }
        Err(Failure::Other(e)) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
