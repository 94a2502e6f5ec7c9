//! `cargo xtask <command>`: see `usage()`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use xtask::regen::{self, Failure, Options};

mod bench;

fn usage() -> &'static str {
    "usage: cargo xtask regen [--check [--base REV]] [--vendor NAME]\n\
     \x20      cargo xtask diff REV\n\
     \x20      cargo xtask test\n\
     \x20      cargo xtask bench [--only LIST] [--runs N] [--requests N] [--stream-mib N] [--compile-runs N] [--no-progenitor]\n\
     \n\
     regen     read specs/, validate them, and write each vendor's crate, API.md and openapi.json\n\
     --check   write nothing; fail if any generated file is stale or hand-edited\n\
     --base    with --check: the revision whose specs the semver check compares with\n\
     \x20         (default: each crate's newest release tag `<crate>-v<version>`)\n\
     --vendor  limit the run to one vendor folder of specs/\n\
     diff      markdown report of the API changes in specs/ since REV, with each crate's semver impact\n\
     test      the whole suite: OpenAPI validation, clippy -D warnings, rustdoc -D warnings, every test\n\
     \x20         (wiremock and Prism mock servers included; installs the pinned validator and Prism first),\n\
     \x20         then `cargo publish --workspace --dry-run`"
}

/// Run one command, echoing it; false if it failed.
fn step(root: &Path, what: &str, args: &[&str], env: &[(&str, &str)]) -> bool {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("==> {what}: cargo {}", args.join(" "));
    let status = std::process::Command::new(cargo).args(args).envs(env.iter().copied()).current_dir(root).status();
    match status {
        Ok(s) if s.success() => true,
        Ok(s) => {
            eprintln!("error: {what} failed ({s})");
            false
        }
        Err(e) => {
            eprintln!("error: could not run cargo for {what}: {e}");
            false
        }
    }
}

/// The test command: lints first (they share check-mode artifacts), then every test.
fn test_cmd(args: &[String]) -> ExitCode {
    if let Some(a) = args.first() {
        eprintln!("error: unknown argument `{a}`\n\n{}", usage());
        return ExitCode::from(2);
    }
    let root = root();
    type Step<'a> = (&'a str, &'a [&'a str], &'a [(&'a str, &'a str)]);
    let steps: [Step<'_>; 4] = [
        ("clippy", &["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"], &[]),
        ("rustdoc", &["doc", "--workspace", "--no-deps", "--locked"], &[("RUSTDOCFLAGS", "-D warnings")]),
        ("tests", &["test", "--workspace", "--locked"], &[]),
        // Packages the runtime and the three clients in dependency order and
        // builds each from its .crate file, as crates.io would receive it.
        // `--allow-dirty` lets it run on uncommitted work; CI's clone is clean.
        ("publish dry run", &["publish", "--workspace", "--dry-run", "--locked", "--allow-dirty"], &[("CARGO_PROFILE_DEV_DEBUG", "false")]),
    ];
    // The independent checkers: the OpenAPI validator runs now, Prism serves the `tests/prism.rs` of each crate.
    if !xtask::external::prepare(&root) {
        return ExitCode::FAILURE;
    }
    for (what, args, env) in steps {
        if !step(&root, what, args, env) {
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
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
    let reports = xtask::apidiff::compare(&old, &new);
    print!("{}", xtask::apidiff::markdown(rev, &reports));
    ExitCode::SUCCESS
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
}

/// `shared/vendor-docs` beside the checkout, used to check cited sections.
pub fn docs_dir(root: &Path) -> Option<PathBuf> {
    [root.join("../shared/vendor-docs"), root.join("shared/vendor-docs")].into_iter().find(|p| p.is_dir())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first() else {
        eprintln!("{}", usage());
        return ExitCode::from(2);
    };
    match cmd.as_str() {
        "regen" => regen_cmd(&args[1..]),
        "test" => test_cmd(&args[1..]),
        "bench" => bench::run(&root(), &args[1..]),
        "diff" => diff_cmd(&args[1..]),
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
    if opts.docs.is_none() {
        eprintln!("note: shared/vendor-docs not found beside the checkout; cited sections are not checked against the documents");
    }
    let started = std::time::Instant::now();
    match regen::run(&opts) {
        Ok((report, t)) => {
            let total = started.elapsed();
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
