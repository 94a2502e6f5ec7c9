//! `cargo xtask <command>`: see `usage()`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use xtask::gates::{self, Skip, SkipPolicy};
use xtask::regen::{self, Failure, Options};
use xtask::testrun;

mod bench;

fn usage() -> &'static str {
    "usage: cargo xtask regen [--check [--base REV] [--allow-skip sources,semver]] [--vendor NAME] [--docs DIR]\n\
     \x20      cargo xtask diff [--docs DIR] REV\n\
     \x20      cargo xtask sources [--docs DIR] [--vendor NAME] [--accept]\n\
     \x20      cargo xtask review --base REV [--docs DIR] [--format markdown|json]\n\
     \x20      cargo xtask test\n\
     \x20      cargo xtask release [--registry NAME] [--dry-run] [--crate NAME]... [--no-verify] [--index-timeout SECS]\n\
     \x20      cargo xtask bench [--only LIST] [--runs N] [--requests N] [--stream-mib N] [--compile-runs N] [--no-progenitor]\n\
     \n\
     regen     read specs/, validate them, and write each vendor's crate, API.md and openapi.json\n\
     --check   write nothing; fail if any generated file is stale or hand-edited\n\
     --base    with --check: the revision whose specs the semver check compares with\n\
     \x20         (default: each crate's newest release tag `<crate>-v<version>`)\n\
     --vendor  limit the run to one vendor folder of specs/\n\
     --docs    the vendor documents (default: $SNAPSDK_DOCS, else shared/vendor-docs beside the checkout)\n\
     --allow-skip  with --check: let these checks skip when their inputs are missing (the documents folder,\n\
     \x20         release tags); under CI=true a skipped check fails without it\n\
     diff      markdown report of the API changes in specs/ since REV, with each crate's semver impact,\n\
     \x20         and the drift of the vendor documents (when found) against specs/*/sources.lock\n\
     sources   markdown report of what changed in the vendor documents since specs/<vendor>/sources.lock:\n\
     \x20         changed, vanished and new sections and endpoint lines, and the operations that cite them\n\
     \x20         (exit 0 no drift, 1 drift, 2 could not run); --docs: the documents (as for regen);\n\
     \x20         --accept: rewrite the lock files once the specs are updated (refuses while specs have errors)\n\
     review    one pull-request body: verdict, version table, unaccepted source drift, API changes, generated\n\
     \x20         code per crate, the full diff report (exit 0 mergeable, 1 not, 2 could not run)\n\
     test      the whole suite: OpenAPI validation, clippy -D warnings, rustdoc -D warnings, every test\n\
     \x20         (wiremock and Prism mock servers included; installs the pinned validator and Prism first),\n\
     \x20         a dependency-tree check (no aws-lc-sys, no cmake), then `cargo publish --workspace --dry-run`\n\
     \x20         and a check of the files and metadata in each .crate it built, then the release command end to end\n\
     \x20         against a registry server on loopback (installs it and cargo-semver-checks, pinned in tools/registry/);\n\
     \x20         every step runs to its end, then each step's\n\
     \x20         outcome and, last, `N passed, N failed[, N skipped]` over every test binary and doctest\n\
     release   publish each crate whose version has no `<crate>-v<version>` tag, runtime first, to the registry\n\
     \x20         cargo knows as NAME (crates.io without --registry), waiting for its index between crates; then tag\n\
     \x20         each, add its CHANGELOG.md entry, and write a summary; refuses a dirty tree, a failing `regen --check`\n\
     \x20         and a runtime API break its version does not allow (cargo-semver-checks); resumes after a failure.\n\
     \x20         --dry-run: everything but the upload, the changelog commit and the tags"
}

/// The test command (`xtask::testrun`): every step runs even when an earlier
/// one failed, then one report ending in `N passed, N failed`.
fn test_cmd(args: &[String]) -> ExitCode {
    if let Some(a) = args.first() {
        eprintln!("error: unknown argument `{a}`\n\n{}", usage());
        return ExitCode::from(2);
    }
    testrun::command(&root())
}

/// `cargo xtask diff [--docs DIR] REV`: the pull-request report.
fn diff_cmd(args: &[String]) -> ExitCode {
    let (docs_flag, rest) = match take_docs(args) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let [rev] = rest.as_slice() else {
        eprintln!(
            "error: diff takes one git revision (e.g. `cargo xtask diff origin/main`)\n\n{}",
            usage()
        );
        return ExitCode::from(2);
    };
    let root = root();
    let Some(docs) = docs_or_exit(&root, docs_flag.as_deref()) else {
        return ExitCode::from(2);
    };
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
    if let Some(docs) = docs {
        print!("{}", document_drift(&root, &docs));
    }
    ExitCode::SUCCESS
}

/// The `diff` report's last part: the vendor documents against the locks.
fn document_drift(root: &Path, docs: &Path) -> String {
    match xtask::sources::drift(root, docs, None) {
        Ok(items) if items.is_empty() => format!(
            "\n## Vendor documents\n\nThe documents in `{}` match every `specs/*/sources.lock`.\n",
            docs.display()
        ),
        Ok(items) => {
            let list: String = items.iter().map(|i| format!("- {i}\n")).collect();
            format!("\n## Vendor documents\n\nThe documents in `{}` differ from the locks (`cargo xtask sources` shows how):\n\n{list}", docs.display())
        }
        Err(e) => format!("\n## Vendor documents\n\nNot compared: {e}\n"),
    }
}

/// Split `--docs DIR` off the arguments.
fn take_docs(args: &[String]) -> Result<(Option<PathBuf>, Vec<String>), ExitCode> {
    let mut docs = None;
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a != "--docs" {
            rest.push(a.clone());
            continue;
        }
        match it.next() {
            Some(v) => docs = Some(PathBuf::from(v)),
            None => {
                eprintln!("error: --docs needs a folder\n\n{}", usage());
                return Err(ExitCode::from(2));
            }
        }
    }
    Ok((docs, rest))
}

/// The vendor documents to read (`--docs`, else `SNAPSDK_DOCS`, else the
/// default folder when present); None after printing the error when a named
/// folder cannot be read.
fn docs_or_exit(root: &Path, flag: Option<&Path>) -> Option<Option<PathBuf>> {
    match regen::docs_folder(root, flag, std::env::var_os(regen::DOCS_ENV)) {
        Ok(d) => Some(d),
        Err(e) => {
            eprintln!("error: {e}");
            None
        }
    }
}

/// The workspace to act on: found from the current directory, as cargo does,
/// and refused when it is not the tree this binary was built from (see
/// [`regen::find_workspace`]).
fn root() -> PathBuf {
    let compiled = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let found = std::env::current_dir()
        .map_err(|e| format!("cannot read the current directory: {e}"))
        .and_then(|cwd| regen::find_workspace(&cwd, &compiled).map_err(|e| e.to_string()));
    match found {
        Ok(root) => root,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1)
        }
    }
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
    // `cargo xtask CMD --help` (or `-h`): that command's usage, and nothing run.
    if xtask::help::asked(&args[1..]) {
        if let Some(text) = xtask::help::section(&format!("{}\n{}", usage(), bench::USAGE), cmd) {
            println!("{text}");
            return ExitCode::SUCCESS;
        }
    }
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
        "review" => ExitCode::from(xtask::review::command(&root(), &args[1..])),
        "release" => release_cmd(&args[1..]),
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

/// `cargo xtask release`: see `xtask::release`.
fn release_cmd(args: &[String]) -> ExitCode {
    let root = root();
    let mut opts = match xtask::release::parse_args(&root, args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}\n\n{}", usage());
            return ExitCode::from(2);
        }
    };
    opts.docs = regen::default_docs(&root);
    match xtask::release::run(&opts) {
        Ok(summary) => {
            print!("{}", summary.markdown);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
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
    let accepted = regen::default_docs(&root);
    let Some(docs) = docs_or_exit(&root, docs.as_deref()) else {
        return ExitCode::from(2);
    };
    let Some(docs) = docs else {
        eprintln!(
            "error: shared/vendor-docs not found beside the checkout; pass --docs DIR or set {}",
            regen::DOCS_ENV
        );
        return ExitCode::from(2);
    };
    ExitCode::from(xtask::sources::command(&xtask::sources::Command {
        root: &root,
        docs: &docs,
        accepted_docs: accepted.as_deref(),
        vendor: vendor.as_deref(),
        accept,
    }))
}

/// The arguments of `cargo xtask regen`.
#[derive(Default)]
struct RegenArgs {
    check: bool,
    vendor: Option<String>,
    base: Option<String>,
    docs: Option<PathBuf>,
    allow_skip: Option<Vec<Skip>>,
}

impl RegenArgs {
    fn parse(args: &[String]) -> Result<RegenArgs, String> {
        let mut a = RegenArgs::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut value = |what: &str| it.next().cloned().ok_or_else(|| format!("{arg} needs {what}"));
            match arg.as_str() {
                "--check" => a.check = true,
                "--base" => a.base = Some(value("a git revision")?),
                "--vendor" => a.vendor = Some(value("a vendor name")?),
                "--docs" => a.docs = Some(PathBuf::from(value("a folder")?)),
                "--allow-skip" => {
                    a.allow_skip =
                        Some(Skip::parse_list(&value("a list of checks: sources,semver")?).map_err(|e| e.to_string())?)
                }
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        if a.base.is_some() && !a.check {
            return Err("--base only applies with --check".into());
        }
        if a.allow_skip.is_some() && !a.check {
            return Err("--allow-skip only applies with --check".into());
        }
        Ok(a)
    }
}

fn regen_cmd(args: &[String]) -> ExitCode {
    let a = match RegenArgs::parse(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}\n\n{}", usage());
            return ExitCode::from(2);
        }
    };
    let root = root();
    let Some(docs) = docs_or_exit(&root, a.docs.as_deref()) else {
        return ExitCode::from(2);
    };
    if let Err(e) = xtask::versions::check(&root) {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    let policy = SkipPolicy::from_env(a.allow_skip.clone().unwrap_or_default());
    let mut checks = gates::sources(&root, docs.as_deref(), a.vendor.as_deref(), a.check, &policy);
    if a.check {
        let semver = gates::semver(&root, a.base.as_deref(), &policy);
        checks = gates::Outcome {
            notes: [semver.notes, checks.notes].concat(),
            errors: [semver.errors, checks.errors].concat(),
            failed: semver.failed || checks.failed,
        };
    }
    checks.print();
    if checks.failed {
        return ExitCode::FAILURE;
    }
    let opts = Options {
        vendor: a.vendor.as_deref(),
        check: a.check,
        ..Options::workspace(&root, docs)
    };
    run_regen(&opts)
}

/// Run regen and report what it did (or what stops it).
fn run_regen(opts: &Options<'_>) -> ExitCode {
    let started = std::time::Instant::now();
    match regen::run(opts) {
        Ok((report, t)) => {
            for w in &report.warnings {
                eprintln!("{w}");
            }
            for p in &report.written {
                println!("wrote {}", p.display());
            }
            for p in &report.removed {
                println!("removed {}", p.display());
            }
            let cache = match &report.cache_dir {
                None => format!(
                    "all {} spec folders generated afresh (--check never uses the cache)",
                    t.units
                ),
                Some(dir) => format!(
                    "{} of {} spec folders unchanged since the last regen, taken from {}",
                    t.cached,
                    t.units,
                    dir.display()
                ),
            };
            println!(
                "regen{}: {} written, {} unchanged, {} removed in {:.1} ms; {cache} (parse+validate {:.1} ms, emit+format {:.1} ms, write {:.1} ms)",
                if opts.check { " --check" } else { "" },
                report.written.len(),
                report.unchanged,
                report.removed.len(),
                started.elapsed().as_secs_f64() * 1e3,
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
