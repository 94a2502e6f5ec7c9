//! `cargo xtask test`'s bookkeeping: run each step to the end, count the
//! results of every test binary (doctests included) from libtest's own
//! summary lines, and print one report whose last line is
//! `N passed, N failed[, N skipped]`.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Tests counted over every test binary of a run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub passed: u64,
    pub failed: u64,
    pub skipped: u64,
    /// Test binaries (and doctest runs) cargo started.
    pub binaries: u64,
    /// Of those, the ones that ended without libtest's `test result:` line
    /// (a crash, an abort, a timeout kill); each counts as one failure.
    pub no_result: u64,
    /// `test result:` lines seen.
    results: u64,
}

impl Tally {
    /// Read one line of `cargo test` output (stdout or stderr).
    pub fn line(&mut self, line: &str) {
        let l = line.trim();
        if l.starts_with("Running ") || l.starts_with("Doc-tests ") {
            self.binaries += 1;
        } else if let Some(rest) = l.strip_prefix("test result: ") {
            // `ok. 9 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.1s`
            let count = |what: &str| {
                rest.split(';').find_map(|part| {
                    part.trim()
                        .trim_start_matches("ok.")
                        .trim_start_matches("FAILED.")
                        .trim()
                        .strip_suffix(what)?
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
            };
            self.passed += count(" passed").unwrap_or(0);
            self.failed += count(" failed").unwrap_or(0);
            self.skipped += count(" ignored").unwrap_or(0);
            self.results += 1;
        }
    }

    /// Close the run: binaries without a result line become failures.
    pub fn finish(&mut self) {
        self.no_result = self.binaries.saturating_sub(self.results);
        self.failed += self.no_result;
    }

    /// Add another run's counts (each already [`finish`](Self::finish)ed).
    pub fn add(&mut self, other: &Tally) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped += other.skipped;
        self.binaries += other.binaries;
        self.no_result += other.no_result;
        self.results += other.results;
    }

    /// `N passed, N failed` with `, N skipped` when some were.
    pub fn summary(&self) -> String {
        let mut s = format!("{} passed, {} failed", self.passed, self.failed);
        if self.skipped > 0 {
            s.push_str(&format!(", {} skipped", self.skipped));
        }
        s
    }
}

/// One step's outcome, for the closing report.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub what: String,
    pub ok: bool,
    pub took: Duration,
    pub note: String,
}

impl Outcome {
    pub fn line(&self) -> String {
        let secs = self.took.as_secs_f64();
        let took = if secs >= 60.0 {
            format!("{}m{:02}s", (secs / 60.0) as u64, (secs % 60.0) as u64)
        } else {
            format!("{secs:.1}s")
        };
        let note = if self.note.is_empty() {
            String::new()
        } else {
            format!(": {}", self.note)
        };
        format!(
            "  {:<7} {:<22} {took:>7}{note}",
            if self.ok { "ok" } else { "FAILED" },
            self.what
        )
    }
}

/// Run `cargo <args>` in `root`, echoing its output, and count test results in it.
pub fn cargo(root: &Path, what: &str, args: &[&str], env: &[(&str, &str)], tally: &mut Tally) -> Outcome {
    let started = Instant::now();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let ran = run_cargo(root, what, &args, &env);
    for l in &ran.lines {
        tally.line(l);
    }
    Outcome {
        what: what.into(),
        ok: ran.ok,
        took: started.elapsed(),
        note: ran.note,
    }
}

/// What one cargo run gave: whether it succeeded, why not, and its output lines.
#[derive(Debug, Clone, Default)]
pub struct Ran {
    pub ok: bool,
    pub note: String,
    pub lines: Vec<String>,
}

/// Run `cargo <args>` in `root` with `env` added, echoing both streams as they come.
fn run_cargo(root: &Path, what: &str, args: &[String], env: &[(String, String)]) -> Ran {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("==> {what}: cargo {}", args.join(" "));
    let child = Command::new(&cargo)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(root)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            return Ran {
                ok: false,
                note: format!("could not run {cargo}: {e}"),
                lines: Vec::new(),
            }
        }
    };
    // Both streams are echoed as they come (libtest's results arrive on stdout,
    // cargo's `Running` lines on stderr) and counted once each ends.
    let out = child.stdout.take().map(|s| std::thread::spawn(move || echo(s, false)));
    let err = child.stderr.take().map(|s| std::thread::spawn(move || echo(s, true)));
    let mut lines = Vec::new();
    for h in [out, err].into_iter().flatten() {
        lines.extend(h.join().unwrap_or_default());
    }
    match child.wait() {
        Ok(s) if s.success() => Ran {
            ok: true,
            note: String::new(),
            lines,
        },
        Ok(s) => Ran {
            ok: false,
            note: format!("cargo exited with {s}"),
            lines,
        },
        Err(e) => Ran {
            ok: false,
            note: format!("waiting for cargo: {e}"),
            lines,
        },
    }
}

/// How a cargo step relates to the lint wrapper (`clippy_env`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lint {
    /// Built without the wrapper.
    No,
    /// This step lints: the workspace's crates are compiled by clippy-driver.
    Lints,
    /// Reuses what the lint step built (same wrapper, nothing rebuilt) while
    /// every `Lints` step passed; after a lint failure it runs without the
    /// wrapper, so a lint never hides a test result.
    Reuse,
}

/// What a step does.
pub enum Run {
    /// `cargo <args>` with `env` added; with `tests`, libtest's results in its
    /// output are counted, and a failure without a failed test counts as one.
    Cargo {
        args: Vec<String>,
        env: Vec<(String, String)>,
        lint: Lint,
        tests: bool,
        /// Output lines containing any of these fail the step (a warning the
        /// step exists to keep away), each line named in the note.
        forbid: Vec<String>,
    },
    /// Work done in this process (a check, waiting for the installs); the
    /// outcomes it gives join the report where it ran.
    Work(Box<dyn FnOnce() -> Vec<Outcome> + Send>),
}

/// One step of the test command.
pub struct Step {
    pub what: String,
    pub run: Run,
}

impl Step {
    pub fn cargo(what: &str, args: &[&str], env: &[(&str, &str)], lint: Lint, tests: bool) -> Step {
        Step {
            what: what.into(),
            run: Run::Cargo {
                args: args.iter().map(|a| a.to_string()).collect(),
                env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                lint,
                tests,
                forbid: Vec::new(),
            },
        }
    }

    /// This cargo step fails when a line of its output contains one of `patterns`.
    pub fn forbidding(mut self, patterns: &[&str]) -> Step {
        if let Run::Cargo { forbid, .. } = &mut self.run {
            forbid.extend(patterns.iter().map(|p| p.to_string()));
        }
        self
    }

    /// A check: `Ok(note)` passes, `Err(why)` fails the step.
    pub fn check(what: &str, f: impl FnOnce() -> Result<String, String> + Send + 'static) -> Step {
        let name = what.to_owned();
        Step {
            what: what.into(),
            run: Run::Work(Box::new(move || {
                eprintln!("==> {name}");
                let started = Instant::now();
                let r = f();
                if let Err(e) = &r {
                    eprintln!("error: {name}: {e}");
                }
                let ok = r.is_ok();
                vec![Outcome {
                    what: name,
                    ok,
                    took: started.elapsed(),
                    note: r.unwrap_or_else(|e| e),
                }]
            })),
        }
    }
}

/// Runs cargo for the steps; the test command's is [`CargoRunner`], tests use a fake.
pub trait Runner {
    fn cargo(&mut self, what: &str, args: &[String], env: &[(String, String)]) -> Ran;
}

/// Runs cargo in the workspace, echoing its output.
pub struct CargoRunner<'a> {
    pub root: &'a Path,
}

impl Runner for CargoRunner<'_> {
    fn cargo(&mut self, what: &str, args: &[String], env: &[(String, String)]) -> Ran {
        run_cargo(self.root, what, args, env)
    }
}

/// The whole run: each step's outcome, and the tests counted.
#[derive(Debug, Default)]
pub struct Report {
    pub outcomes: Vec<Outcome>,
    pub tally: Tally,
}

impl Report {
    /// Whether the command succeeds: every step passed and no test failed.
    pub fn ok(&self) -> bool {
        self.outcomes.iter().all(|o| o.ok) && self.tally.failed == 0
    }

    /// The closing report; its last line is the tests' `N passed, N failed`.
    pub fn text(&self) -> String {
        let mut s = String::from("==> cargo xtask test: every step\n");
        for o in &self.outcomes {
            s.push_str(&o.line());
            s.push('\n');
        }
        s.push_str(&self.tally.summary());
        s
    }
}

/// Run every step to its end, in order, even when an earlier one failed.
/// `lint` is the wrapper environment of [`Lint::Lints`] and [`Lint::Reuse`] steps.
pub fn run_steps(steps: Vec<Step>, runner: &mut dyn Runner, lint: &[(String, String)]) -> Report {
    let mut report = Report::default();
    let mut lint_ok = true;
    for step in steps {
        match step.run {
            Run::Work(f) => report.outcomes.extend(f()),
            Run::Cargo {
                args,
                mut env,
                lint: how,
                tests,
                forbid,
            } => {
                let wrapped = how == Lint::Lints || (how == Lint::Reuse && lint_ok);
                if wrapped {
                    env.extend(lint.iter().cloned());
                }
                let started = Instant::now();
                let ran = runner.cargo(&step.what, &args, &env);
                let mut o = Outcome {
                    what: step.what.clone(),
                    ok: ran.ok,
                    took: started.elapsed(),
                    note: ran.note,
                };
                let forbidden: Vec<&str> = ran
                    .lines
                    .iter()
                    .map(|l| l.trim())
                    .filter(|l| forbid.iter().any(|f| l.contains(f.as_str())))
                    .collect();
                if !forbidden.is_empty() {
                    o.ok = false;
                    let why = format!("its output has {}", forbidden.join("; "));
                    o.note = if o.note.is_empty() {
                        why
                    } else {
                        format!("{}; {why}", o.note)
                    };
                }
                if how == Lint::Lints && !o.ok {
                    lint_ok = false;
                }
                if tests {
                    let mut t = Tally::default();
                    ran.lines.iter().for_each(|l| t.line(l));
                    t.finish();
                    if !o.ok && t.failed == 0 {
                        // Nothing ran or a binary did not build: still a failure in the count.
                        t.failed += 1;
                        o.note = format!(
                            "{}; no test failed, so a test binary did not build or cargo stopped early",
                            o.note
                        );
                    } else {
                        o.note = format!(
                            "{} test binaries and doctest runs{}",
                            t.binaries,
                            if t.no_result > 0 {
                                format!(", {} ended without a result", t.no_result)
                            } else {
                                String::new()
                            }
                        );
                    }
                    if !wrapped && how == Lint::Reuse {
                        o.note
                            .push_str(" (run without the lint wrapper after the lint failure)");
                    }
                    report.tally.add(&t);
                }
                if !o.ok {
                    eprintln!("error: {} failed ({}); the remaining steps still run", o.what, o.note);
                }
                report.outcomes.push(o);
            }
        }
    }
    report
}

/// The test command's steps, in order. `prepared` is the thread installing
/// the independent checkers (started before the build, joined before the
/// tests), `release_tools` the one installing the release test's tools
/// (started with it, joined before that test).
pub fn steps(
    root: &Path,
    prepared: std::thread::JoinHandle<Vec<Outcome>>,
    release_tools: std::thread::JoinHandle<Vec<Outcome>>,
) -> Vec<Step> {
    let root = root.to_path_buf();
    let since = std::time::SystemTime::now();
    let mut steps = build_steps();
    // Prism must be in place before the tests start.
    steps.push(prism_step(prepared));
    steps.push(
        // Every test binary and the doctests, to the end even when one fails.
        Step::cargo(
            "tests",
            &["test", "--workspace", "--locked", "--no-fail-fast"],
            &[],
            Lint::Reuse,
            true,
        ),
    );
    steps.extend(package_steps(&root, since));
    steps.extend(release_steps(release_tools));
    steps
}

/// Formatting, clippy with the test build, and rustdoc.
fn build_steps() -> Vec<Step> {
    vec![
        // Clippy lints the workspace while the test binaries are built, so the
        // dependencies compile once (for clippy, the tests and the doctests)
        // instead of once in check mode and again in full: `cargo clippy` is
        // `cargo check` with clippy-driver as the workspace's rustc wrapper;
        // here the wrapper is given to `cargo test` with the same arguments.
        // The targets `cargo test` builds (libs, bins and tests in test mode, libs
        // and examples as they ship), so the tests step below rebuilds nothing.
        // That is what `cargo clippy --all-targets` lints, benches aside (the
        // workspace has none); `--all-targets` here would build the examples in
        // test mode and the tests step would build them again.
        // Every workspace file as rustfmt leaves it (generated files carry
        // `@generated`, which rustfmt skips; xtask/tests/generated_fmt.rs checks them).
        Step::cargo("rustfmt check", &["fmt", "--all", "--check"], &[], Lint::No, false),
        Step::cargo(
            "clippy + test build",
            &["test", "--workspace", "--locked", "--no-run"],
            &[],
            Lint::Lints,
            false,
        ),
        Step::cargo(
            "rustdoc",
            &["doc", "--workspace", "--no-deps", "--locked"],
            &[("RUSTDOCFLAGS", "-D warnings")],
            Lint::No,
            false,
        ),
    ]
}

/// Waits for the install thread: OpenAPI validation and the Prism install.
fn prism_step(prepared: std::thread::JoinHandle<Vec<Outcome>>) -> Step {
    join_step("OpenAPI validation, Prism install", prepared)
}

/// A step that waits for a thread started with the command and reports its
/// outcomes (a panicked thread is one failed step named `what`).
fn join_step(what: &str, thread: std::thread::JoinHandle<Vec<Outcome>>) -> Step {
    let what = what.to_owned();
    Step {
        what: what.clone(),
        run: Run::Work(Box::new(move || {
            let waited = Instant::now();
            let mut outcomes = thread.join().unwrap_or_else(|_| {
                vec![Outcome {
                    what: what.clone(),
                    ok: false,
                    took: Duration::ZERO,
                    note: "the install thread panicked".into(),
                }]
            });
            let waited = waited.elapsed();
            // A thread of one step says how long the run stood waiting for it.
            if waited >= Duration::from_secs(1) && outcomes.len() == 1 {
                if let Some(last) = outcomes.last_mut() {
                    let note = format!("the run waited {:.0} s for it", waited.as_secs_f64());
                    last.note = if last.note.is_empty() {
                        note
                    } else {
                        format!("{}; {note}", last.note)
                    };
                }
            }
            outcomes
        })),
    }
}

/// The dependency tree, then the crates as they would be published.
fn package_steps(root: &Path, since: std::time::SystemTime) -> Vec<Step> {
    vec![
        Step::check("dependency tree", {
            let root = root.to_path_buf();
            move || no_forbidden_dependencies(&root)
        }),
        // Packages the runtime and the three clients in dependency order and
        // builds each from its .crate file, as crates.io would receive it: alone,
        // with only the features its own manifest asks for (the workspace build
        // unifies features across members, so this is the one check that a crate
        // does not lean on another member's features or on a file outside it).
        // `--allow-dirty` lets it run on uncommitted work; CI's clone is clean.
        Step::check("old dry-run copies", {
            let root = root.to_path_buf();
            move || {
                let cleared = clear_dry_run_sources(&root);
                Ok(if cleared > 0 {
                    format!("removed {cleared} unpacked copies of this workspace's crates left by an earlier dry run")
                } else {
                    String::new()
                })
            }
        }),
        // Each published crate declares only what it ships: its tests are a
        // package of their own (`<crate>/tests`, publish = false), so cargo has
        // no test target to drop, and a warning that it dropped one fails here.
        Step::cargo(
            "publish dry run",
            &["publish", "--workspace", "--dry-run", "--locked", "--allow-dirty"],
            &[("CARGO_PROFILE_DEV_DEBUG", "false")],
            Lint::No,
            false,
        )
        .forbidding(&["warning: ignoring"]),
        Step::check("published contents", {
            let root = root.to_path_buf();
            move || crate::package::check_workspace(&root, since)
        }),
    ]
}

/// The release tools (installing since the command started), then `cargo xtask release` end to end.
fn release_steps(release_tools: std::thread::JoinHandle<Vec<Outcome>>) -> Vec<Step> {
    vec![
        // `cargo xtask release` end to end against a real registry server on
        // loopback (xtask/tests/release_e2e.rs, `test = false`: only this step
        // runs it). Its tools install first, each only when its pin or build
        // profile changed, beside the build (see `command`).
        join_step("release tools install", release_tools),
        // `--workspace --test release_e2e` rather than `-p xtask`: features
        // resolve over the workspace as in the test build, so only the test
        // binary compiles (with `-p xtask` cargo built libc, rustix,
        // getrandom, tempfile, insta and xtask itself again, with other features).
        Step::cargo(
            "release end to end",
            &[
                "test",
                "--workspace",
                "--locked",
                "--test",
                "release_e2e",
                "--",
                "--nocapture",
            ],
            &[],
            Lint::Reuse,
            true,
        ),
    ]
}

/// `cargo xtask test`: every step runs even when an earlier one failed, then
/// one report: each step's outcome, and as the last line the tests counted
/// over every test binary and doctest run. Exit status 0 only when every
/// step passed and no test failed.
pub fn command(root: &Path) -> std::process::ExitCode {
    let target = crate::external::target_dir(root);
    let lint = match clippy_env() {
        Ok(env) => env.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<Vec<_>>(),
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    // The independent checkers (the OpenAPI validator runs at once, Prism
    // serves the `tests/prism.rs` of each crate) install and run while cargo
    // builds: they mostly wait on the network, cargo on the CPU.
    let prepared = {
        let (root, target) = (root.to_path_buf(), target.clone());
        std::thread::spawn(move || prepare_external(&root, &target))
    };
    // The release test's tools (a cold install is minutes of compiling)
    // build beside the workspace: the build has serial stretches (a few big
    // crates, the links, the tests) that leave a core idle.
    let release_tools = {
        let target = target.clone();
        std::thread::spawn(move || vec![install_release_tools_timed(&target)])
    };
    let report = run_steps(steps(root, prepared, release_tools), &mut CargoRunner { root }, &lint);
    println!("{}", report.text());
    if report.ok() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}

/// Crates that must never be built: `aws-lc-sys` (reqwest's default TLS
/// provider, a C build) and `cmake` (its build tool). README, Security.
pub const FORBIDDEN: [&str; 3] = ["aws-lc-sys", "aws-lc-rs", "cmake"];

/// The forbidden crates in `cargo tree --prefix none` output.
pub fn forbidden_in(tree: &str) -> Vec<String> {
    let mut found: Vec<String> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| FORBIDDEN.contains(name))
        .map(str::to_owned)
        .collect();
    found.sort();
    found.dedup();
    found
}

/// `cargo tree -e normal,build` of each published crate with no, default and
/// all features holds none of [`FORBIDDEN`].
pub fn no_forbidden_dependencies(root: &Path) -> Result<String, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let crates = crate::package::published(root)?;
    let mut problems = Vec::new();
    let mut trees = 0;
    for (name, _, _) in &crates {
        for features in [&["--no-default-features"][..], &[], &["--all-features"]] {
            let out = Command::new(&cargo)
                .args(["tree", "--locked", "-e", "normal,build", "--prefix", "none", "-p", name])
                .args(features)
                .current_dir(root)
                .output()
                .map_err(|e| format!("could not run {cargo} tree: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "`cargo tree -p {name} {}` failed: {}",
                    features.join(" "),
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
            trees += 1;
            let found = forbidden_in(&String::from_utf8_lossy(&out.stdout));
            if !found.is_empty() {
                problems.push(format!(
                    "{name} {}: {}",
                    if features.is_empty() {
                        "(default features)"
                    } else {
                        features[0]
                    },
                    found.join(", ")
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(format!(
            "{trees} trees ({} crates x no, default, all features): no {}",
            crates.len(),
            FORBIDDEN.join(", no ")
        ))
    } else {
        Err(format!(
            "forbidden crates in the dependency tree (README, Security: no aws-lc-sys, no cmake): {}",
            problems.join("; ")
        ))
    }
}

/// The environment that makes cargo compile the workspace's own crates with
/// clippy-driver and `-D warnings`, exactly as `cargo clippy -- -D warnings`
/// does (it passes the lint arguments in `CLIPPY_ARGS`, separated by
/// `__CLIPPY_HACKERY__`). Dependencies are still compiled by plain rustc.
pub fn clippy_env() -> Result<Vec<(&'static str, String)>, String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("running `{rustc} --print sysroot`: {e}"))?;
    let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_owned();
    let driver = Path::new(&sysroot).join("bin").join(if cfg!(windows) {
        "clippy-driver.exe"
    } else {
        "clippy-driver"
    });
    if !driver.is_file() {
        return Err(format!(
            "clippy-driver not found at {}; install clippy with `rustup component add clippy`",
            driver.display()
        ));
    }
    Ok(vec![
        ("RUSTC_WORKSPACE_WRAPPER", driver.to_string_lossy().into_owned()),
        ("CLIPPY_ARGS", "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__".into()),
    ])
}

/// Copy a child's stream to ours line by line, keeping the lines.
fn echo(stream: impl Read, to_stderr: bool) -> Vec<String> {
    let mut kept = Vec::new();
    for line in BufReader::new(stream).split(b'\n') {
        let Ok(bytes) = line else { break };
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if to_stderr {
            let _ = writeln!(std::io::stderr().lock(), "{text}");
        } else {
            let _ = writeln!(std::io::stdout().lock(), "{text}");
        }
        kept.push(text);
    }
    kept
}

/// [`crate::external::install_release_tools`], timed, as the step `release tools install`.
fn install_release_tools_timed(target: &Path) -> Outcome {
    let what = "release tools install";
    let t = Instant::now();
    let r = crate::external::install_release_tools(target);
    let took = t.elapsed();
    match &r {
        Ok(()) => eprintln!("==> {what}: ok in {:.1} s", took.as_secs_f64()),
        Err(e) => eprintln!("error: {what}: {e}"),
    }
    Outcome {
        what: what.into(),
        ok: r.is_ok(),
        took,
        note: r.err().unwrap_or_default(),
    }
}

/// Both, timed, each to its end; the outcomes go into the test command's report.
pub fn prepare_external(root: &Path, target: &Path) -> Vec<Outcome> {
    type Prep<'a> = &'a dyn Fn() -> Result<(), crate::external::ToolError>;
    let steps: [(&str, Prep<'_>); 3] = [
        ("OpenAPI validation", &|| {
            crate::external::validate_openapi(root, target)
        }),
        ("Prism install", &|| crate::external::install_prism(root)),
        ("workflow lint", &|| crate::external::lint_workflows(root, target)),
    ];
    let mut out = Vec::new();
    for (what, f) in steps {
        let t = Instant::now();
        let r = f();
        let took = t.elapsed();
        match &r {
            Ok(()) => eprintln!("==> {what}: ok in {:.1} s", took.as_secs_f64()),
            Err(e) => eprintln!("error: {e}"),
        }
        out.push(Outcome {
            what: what.into(),
            ok: r.is_ok(),
            took,
            note: r.err().map(|e| e.to_string()).unwrap_or_default(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(text: &str) -> Tally {
        let mut t = Tally::default();
        text.lines().for_each(|l| t.line(l));
        t.finish();
        t
    }

    #[test]
    fn sums_every_binary_and_doctests() {
        let t = tally(
            "     Running unittests src/lib.rs (target/debug/deps/a-1)\n\
             test result: ok. 9 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.10s\n\
             \x20    Running tests/wire.rs (target/debug/deps/wire-2)\n\
             test result: FAILED. 40 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 1.00s\n\
             \x20  Doc-tests a\n\
             test result: ok. 3 passed; 0 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.50s\n",
        );
        assert_eq!(
            (t.passed, t.failed, t.skipped, t.binaries, t.no_result),
            (52, 2, 3, 3, 0)
        );
        assert_eq!(t.summary(), "52 passed, 2 failed, 3 skipped");
    }

    #[test]
    fn a_binary_that_dies_without_a_result_is_a_failure() {
        let t = tally(
            "     Running tests/a.rs (target/debug/deps/a-1)\n\
             test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.10s\n\
             \x20    Running tests/b.rs (target/debug/deps/b-2)\n\
             error: test failed, to rerun pass `--test b`\n\
             Caused by: process didn't exit successfully (signal: 6, SIGABRT)\n",
        );
        assert_eq!((t.passed, t.failed, t.no_result), (1, 1, 1));
        assert_eq!(t.summary(), "1 passed, 1 failed");
    }

    #[test]
    fn a_test_named_like_a_summary_is_not_counted() {
        // Only libtest's own line starts with `test result: `; a test's name line does not.
        let t = tally("test result_is_ok ... ok\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.1s\n     Running x\n");
        assert_eq!((t.passed, t.failed), (1, 0));
    }
}

/// Remove the unpacked sources an earlier `cargo publish --dry-run` left for
/// this workspace's crates; returns how many went.
///
/// The dry run packs each crate into a local overlay registry and unpacks it
/// under `$CARGO_HOME/registry/src/-<hash>/<name>-<version>/` to build it;
/// cargo does not unpack again when that folder exists, so after a code
/// change under the same version the verify build would compile the old
/// source (seen: a runtime feature split failed against a stale copy). The
/// overlay folders are the ones whose name starts with `-` (crates.io's is
/// `index.crates.io-…`); only folders named after a crate under `crates/` are
/// touched.
pub fn clear_dry_run_sources(root: &Path) -> usize {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    home.map_or(0, |h| clear_dry_run_sources_in(&h.join("registry/src"), root))
}

/// [`clear_dry_run_sources`] for the registry sources folder `src`.
pub fn clear_dry_run_sources_in(src: &Path, root: &Path) -> usize {
    let ours: Vec<String> = std::fs::read_dir(root.join("crates"))
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_str().map(|n| format!("{n}-")))
                .collect()
        })
        .unwrap_or_default();
    let mut removed = 0;
    for overlay in std::fs::read_dir(src).into_iter().flatten().flatten() {
        if !overlay.file_name().to_string_lossy().starts_with('-') {
            continue;
        }
        for unpacked in std::fs::read_dir(overlay.path()).into_iter().flatten().flatten() {
            let name = unpacked.file_name().to_string_lossy().into_owned();
            let is_ours = ours.iter().any(|p| {
                name.strip_prefix(p.as_str())
                    .is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()))
            });
            if is_ours && std::fs::remove_dir_all(unpacked.path()).is_ok() {
                removed += 1;
            }
        }
    }
    removed
}

#[cfg(test)]
mod dry_run_sources {
    use super::clear_dry_run_sources_in;

    #[test]
    fn only_this_workspaces_unpacked_crates_in_overlay_folders_go() {
        let tmp = std::env::temp_dir().join(format!("xtask-dry-run-sources-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        let (root, src) = (tmp.join("ws"), tmp.join("registry/src"));
        for d in ["ws/crates/snapsdk-runtime", "ws/crates/snapcall"] {
            std::fs::create_dir_all(tmp.join(d)).unwrap();
        }
        let dirs = [
            "-14cd1cce6819ff87/snapsdk-runtime-0.2.0",
            "-75e217666c5b783a/snapcall-0.1.0",
            "-75e217666c5b783a/snapcall-extra-1.0.0",
            "-75e217666c5b783a/serde-1.0.0",
            "index.crates.io-1949cf8c6b5b557f/snapcall-0.2.0",
        ];
        for d in dirs {
            std::fs::create_dir_all(src.join(d).join("src")).unwrap();
        }
        assert_eq!(clear_dry_run_sources_in(&src, &root), 2);
        let left: Vec<bool> = dirs.iter().map(|d| src.join(d).exists()).collect();
        assert_eq!(left, [false, false, true, true, true]);
        // Nothing left to clear; a missing folder is not an error.
        assert_eq!(clear_dry_run_sources_in(&src, &root), 0);
        assert_eq!(clear_dry_run_sources_in(&tmp.join("nowhere"), &root), 0);
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}

#[cfg(test)]
mod steps_as_data {
    use super::*;

    /// A cargo that answers each step as told and records what it was asked.
    struct Fake {
        answers: Vec<(&'static str, Ran)>,
        calls: Vec<(String, Vec<(String, String)>)>,
    }

    impl Runner for Fake {
        fn cargo(&mut self, what: &str, _args: &[String], env: &[(String, String)]) -> Ran {
            self.calls.push((what.to_owned(), env.to_vec()));
            self.answers
                .iter()
                .find(|(w, _)| *w == what)
                .map(|(_, r)| r.clone())
                .unwrap_or(Ran {
                    ok: true,
                    note: String::new(),
                    lines: Vec::new(),
                })
        }
    }

    fn ran(ok: bool, output: &str) -> Ran {
        Ran {
            ok,
            note: if ok {
                String::new()
            } else {
                "cargo exited with exit status: 101".into()
            },
            lines: output.lines().map(str::to_owned).collect(),
        }
    }

    const PASSING: &str = "     Running tests/a.rs (target/debug/deps/a-1)\ntest result: ok. 7 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.1s\n";
    const FAILING: &str = "     Running tests/a.rs (target/debug/deps/a-1)\ntest result: FAILED. 5 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.1s\n";

    fn lint() -> Vec<(String, String)> {
        vec![("RUSTC_WORKSPACE_WRAPPER".into(), "clippy-driver".into())]
    }

    /// The test command's shape: lint build, docs, a check, the tests, a dry run, a check.
    fn steps(checked: std::sync::Arc<std::sync::atomic::AtomicUsize>, check_fails: bool) -> Vec<Step> {
        let c2 = checked.clone();
        vec![
            Step::cargo("clippy + test build", &["test", "--no-run"], &[], Lint::Lints, false),
            Step::cargo("rustdoc", &["doc"], &[("RUSTDOCFLAGS", "-D warnings")], Lint::No, false),
            Step::check("install", move || {
                checked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if check_fails {
                    Err("npm ci failed".into())
                } else {
                    Ok(String::new())
                }
            }),
            Step::cargo("tests", &["test", "--no-fail-fast"], &[], Lint::Reuse, true),
            Step::cargo("publish dry run", &["publish", "--dry-run"], &[], Lint::No, false)
                .forbidding(&["warning: ignoring"]),
            Step::check("published contents", move || {
                c2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Ok("4 packages".into())
            }),
        ]
    }

    fn run(answers: Vec<(&'static str, Ran)>, check_fails: bool) -> (Report, Fake, usize) {
        let checked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut fake = Fake {
            answers,
            calls: Vec::new(),
        };
        let report = run_steps(steps(checked.clone(), check_fails), &mut fake, &lint());
        let n = checked.load(std::sync::atomic::Ordering::SeqCst);
        (report, fake, n)
    }

    #[test]
    fn all_green_exits_zero_and_ends_with_the_count() {
        let (report, fake, checks) = run(vec![("tests", ran(true, PASSING))], false);
        assert!(report.ok());
        assert_eq!((fake.calls.len(), checks, report.outcomes.len()), (4, 2, 6));
        assert_eq!(report.text().lines().last(), Some("7 passed, 0 failed"));
        // The tests reuse the lint build: same wrapper, nothing rebuilt.
        let tests_env = &fake.calls.iter().find(|c| c.0 == "tests").unwrap().1;
        assert!(tests_env.contains(&lint()[0]));
        // The docs step is not linted.
        assert!(!fake
            .calls
            .iter()
            .find(|c| c.0 == "rustdoc")
            .unwrap()
            .1
            .contains(&lint()[0]));
    }

    #[test]
    fn every_step_runs_after_an_earlier_failure_and_the_exit_is_non_zero() {
        for failing in ["clippy + test build", "rustdoc", "publish dry run"] {
            let (report, fake, checks) = run(vec![(failing, ran(false, "")), ("tests", ran(true, PASSING))], false);
            assert_eq!(
                fake.calls.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(),
                ["clippy + test build", "rustdoc", "tests", "publish dry run"],
                "{failing}"
            );
            assert_eq!(checks, 2, "{failing}: both checks ran");
            assert!(!report.ok(), "{failing}");
            let failed: Vec<&str> = report
                .outcomes
                .iter()
                .filter(|o| !o.ok)
                .map(|o| o.what.as_str())
                .collect();
            assert_eq!(failed, [failing]);
            assert!(
                report.text().contains(&format!("FAILED  {failing}")),
                "{}",
                report.text()
            );
            assert_eq!(report.text().lines().last(), Some("7 passed, 0 failed"));
        }
        // A failing check fails the run; the steps after it still run.
        let (report, fake, checks) = run(vec![("tests", ran(true, PASSING))], true);
        assert!(!report.ok());
        assert_eq!((fake.calls.len(), checks), (4, 2));
        assert!(
            report.text().contains("FAILED  install") && report.text().contains("npm ci failed"),
            "{}",
            report.text()
        );
    }

    #[test]
    fn failed_tests_make_the_exit_non_zero_and_are_counted() {
        let (report, _, _) = run(vec![("tests", ran(false, FAILING))], false);
        assert!(!report.ok());
        assert_eq!(report.text().lines().last(), Some("5 passed, 2 failed"));
        // A tests step that fails with no failed test (a binary did not build) is one failure.
        let (report, _, _) = run(vec![("tests", ran(false, "error[E0425]: cannot find value"))], false);
        assert!(!report.ok());
        assert_eq!(report.text().lines().last(), Some("0 passed, 1 failed"));
        assert!(report.outcomes.iter().any(|o| o.note.contains("did not build")));
    }

    #[test]
    fn a_background_install_is_reported_where_it_is_joined() {
        let failing = std::thread::spawn(|| {
            std::thread::sleep(Duration::from_millis(1100));
            vec![Outcome {
                what: "release tools install".into(),
                ok: false,
                took: Duration::from_secs(3),
                note: "cargo-semver-checks install failed (exit status: 101)".into(),
            }]
        });
        let panicking = std::thread::spawn(|| -> Vec<Outcome> { panic!("install thread") });
        let mut fake = Fake {
            answers: Vec::new(),
            calls: Vec::new(),
        };
        let steps = vec![
            Step::cargo("tests", &["test"], &[], Lint::No, true),
            join_step("release tools install", failing),
            join_step("other install", panicking),
            Step::cargo("release end to end", &["test"], &[], Lint::No, true),
        ];
        let report = run_steps(steps, &mut fake, &lint());
        assert!(!report.ok());
        // The step after the join still ran.
        assert_eq!(fake.calls.len(), 2);
        let whats: Vec<&str> = report.outcomes.iter().map(|o| o.what.as_str()).collect();
        assert_eq!(
            whats,
            ["tests", "release tools install", "other install", "release end to end"]
        );
        let install = &report.outcomes[1];
        assert!(!install.ok && install.took == Duration::from_secs(3));
        assert!(
            install.note.contains("exit status: 101") && install.note.contains("the run waited"),
            "{}",
            install.note
        );
        assert!(!report.outcomes[2].ok && report.outcomes[2].note.contains("panicked"));
        assert!(
            report.text().contains("FAILED  release tools install"),
            "{}",
            report.text()
        );
    }

    #[test]
    fn a_forbidden_warning_fails_its_step_and_is_named() {
        let dropped = "warning: ignoring test `wire` as `tests/wire.rs` is not included in the published package";
        let (report, _, _) = run(
            vec![
                ("tests", ran(true, PASSING)),
                (
                    "publish dry run",
                    ran(
                        true,
                        &format!("   Packaging besnappy v0.3.0\n{dropped}\nwarning: aborting upload due to dry run\n"),
                    ),
                ),
            ],
            false,
        );
        assert!(!report.ok());
        let step = report.outcomes.iter().find(|o| o.what == "publish dry run").unwrap();
        assert!(!step.ok && step.note.contains(dropped), "{}", step.note);
        // cargo's own closing warning of a dry run is not forbidden.
        let (report, _, _) = run(
            vec![
                ("tests", ran(true, PASSING)),
                (
                    "publish dry run",
                    ran(true, "warning: aborting upload due to dry run\n"),
                ),
            ],
            false,
        );
        assert!(report.ok(), "{}", report.text());
    }

    #[test]
    fn a_lint_failure_does_not_hide_test_results() {
        let (report, fake, _) = run(
            vec![
                ("clippy + test build", ran(false, "error: unused variable")),
                ("tests", ran(false, FAILING)),
            ],
            false,
        );
        // The tests ran, without the wrapper (a lint error would stop their build), and their results are reported.
        let tests_env = &fake.calls.iter().find(|c| c.0 == "tests").expect("the tests ran").1;
        assert!(!tests_env.contains(&lint()[0]), "{tests_env:?}");
        assert_eq!(report.text().lines().last(), Some("5 passed, 2 failed"));
        assert!(report
            .outcomes
            .iter()
            .any(|o| o.what == "tests" && o.note.contains("without the lint wrapper")));
        assert!(!report.ok());
    }

    #[test]
    fn the_forbidden_crates_are_found_in_a_tree() {
        let tree = "besnappy v0.2.0\nreqwest v0.13.0\nrustls v0.23.0\nring v0.17.14\ncc v1.1.0\n";
        assert!(forbidden_in(tree).is_empty());
        // The guard fires on the tree reqwest's default TLS provider gives.
        let bad = format!("{tree}aws-lc-rs v1.13.0\naws-lc-sys v0.29.0\ncmake v0.1.54\naws-lc-sys v0.29.0 (*)\n");
        assert_eq!(forbidden_in(&bad), ["aws-lc-rs", "aws-lc-sys", "cmake"]);
    }
}
