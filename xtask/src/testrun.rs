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
                rest.split(';').find_map(|part| part.trim().trim_start_matches("ok.").trim_start_matches("FAILED.").trim().strip_suffix(what)?.trim().parse::<u64>().ok())
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
        let took = if secs >= 60.0 { format!("{}m{:02}s", (secs / 60.0) as u64, (secs % 60.0) as u64) } else { format!("{secs:.1}s") };
        let note = if self.note.is_empty() { String::new() } else { format!(": {}", self.note) };
        format!("  {:<7} {:<22} {took:>7}{note}", if self.ok { "ok" } else { "FAILED" }, self.what)
    }
}

/// Run `cargo <args>` in `root`, echoing its output, and count test results in it.
pub fn cargo(root: &Path, what: &str, args: &[&str], env: &[(&str, &str)], tally: &mut Tally) -> Outcome {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("==> {what}: cargo {}", args.join(" "));
    let started = Instant::now();
    let child = Command::new(&cargo).args(args).envs(env.iter().copied()).current_dir(root).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return Outcome { what: what.into(), ok: false, took: started.elapsed(), note: format!("could not run {cargo}: {e}") },
    };
    // Both streams are echoed as they come (libtest's results arrive on stdout,
    // cargo's `Running` lines on stderr) and counted once each ends.
    let out = child.stdout.take().map(|s| std::thread::spawn(move || echo(s, false)));
    let err = child.stderr.take().map(|s| std::thread::spawn(move || echo(s, true)));
    let mut lines = Vec::new();
    for h in [out, err].into_iter().flatten() {
        lines.extend(h.join().unwrap_or_default());
    }
    let status = child.wait();
    for l in &lines {
        tally.line(l);
    }
    let took = started.elapsed();
    match status {
        Ok(s) if s.success() => Outcome { what: what.into(), ok: true, took, note: String::new() },
        Ok(s) => Outcome { what: what.into(), ok: false, took, note: format!("cargo exited with {s}") },
        Err(e) => Outcome { what: what.into(), ok: false, took, note: format!("waiting for cargo: {e}") },
    }
}

/// The environment that makes cargo compile the workspace's own crates with
/// clippy-driver and `-D warnings`, exactly as `cargo clippy -- -D warnings`
/// does (it passes the lint arguments in `CLIPPY_ARGS`, separated by
/// `__CLIPPY_HACKERY__`). Dependencies are still compiled by plain rustc.
pub fn clippy_env() -> Result<Vec<(&'static str, String)>, String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(&rustc).args(["--print", "sysroot"]).output().map_err(|e| format!("running `{rustc} --print sysroot`: {e}"))?;
    let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_owned();
    let driver = Path::new(&sysroot).join("bin").join(if cfg!(windows) { "clippy-driver.exe" } else { "clippy-driver" });
    if !driver.is_file() {
        return Err(format!("clippy-driver not found at {}; install clippy with `rustup component add clippy`", driver.display()));
    }
    Ok(vec![("RUSTC_WORKSPACE_WRAPPER", driver.to_string_lossy().into_owned()), ("CLIPPY_ARGS", "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__".into())])
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
        assert_eq!((t.passed, t.failed, t.skipped, t.binaries, t.no_result), (52, 2, 3, 3, 0));
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
    let home = std::env::var_os("CARGO_HOME").map(PathBuf::from).or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    home.map_or(0, |h| clear_dry_run_sources_in(&h.join("registry/src"), root))
}

/// [`clear_dry_run_sources`] for the registry sources folder `src`.
pub fn clear_dry_run_sources_in(src: &Path, root: &Path) -> usize {
    let ours: Vec<String> = std::fs::read_dir(root.join("crates"))
        .map(|d| d.flatten().filter_map(|e| e.file_name().to_str().map(|n| format!("{n}-"))).collect())
        .unwrap_or_default();
    let mut removed = 0;
    for overlay in std::fs::read_dir(src).into_iter().flatten().flatten() {
        if !overlay.file_name().to_string_lossy().starts_with('-') {
            continue;
        }
        for unpacked in std::fs::read_dir(overlay.path()).into_iter().flatten().flatten() {
            let name = unpacked.file_name().to_string_lossy().into_owned();
            let is_ours = ours.iter().any(|p| name.strip_prefix(p.as_str()).is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit())));
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
