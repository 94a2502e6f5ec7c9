//! Generated Rust as `rustfmt` leaves it: prettyplease prints the tokens,
//! blank lines go between items, and `rustfmt` (with the workspace's
//! `rustfmt.toml`, built into this binary so a change regenerates) makes the
//! rest of the layout its own. `cargo fmt --check` then has nothing to say
//! about a generated file, with or without `format_generated_files`.
//!
//! rustfmt is most of a full regen's time, so [`rustfmt_all`] formats the
//! files of a run in one process per core (files shared out by size), and,
//! given a memo folder, remembers each file's formatted text: a file whose
//! unformatted text, rustfmt version and settings are byte for byte those of
//! an earlier run takes that run's result without running rustfmt.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use sha2::{Digest, Sha256};

/// The workspace's rustfmt settings, as `key=value` pairs for `--config`.
const RUSTFMT_TOML: &str = include_str!("../../../../rustfmt.toml");

/// The edition rustfmt formats the generated code as.
const EDITION: &str = "2021";

/// A generated Rust file as prettyplease prints it, with blank lines between
/// items. `rustfmt` runs afterwards over every file of the run at once
/// ([`rustfmt_all`]).
pub fn format_file(file: &syn::File) -> Result<String, String> {
    Ok(blank_lines(&prettyplease::unparse(file)))
}

fn config() -> String {
    let mut pairs: Vec<String> = RUSTFMT_TOML
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| format!("{}={}", k.trim(), v.trim().trim_matches('"')))
        .collect();
    pairs.push("format_generated_files=true".into());
    pairs.join(",")
}

/// Scratch folders of concurrent runs in one process (tests) must not meet.
static RUN: AtomicUsize = AtomicUsize::new(0);

/// The rustfmt program: `RUSTFMT` when set, else `rustfmt` on the `PATH`.
fn program() -> std::ffi::OsString {
    std::env::var_os("RUSTFMT").unwrap_or_else(|| "rustfmt".into())
}

/// The error for a rustfmt that cannot be started.
fn cannot_run(program: &std::ffi::OsStr, e: &std::io::Error) -> String {
    format!(
        "cannot run {} ({e}); install it with `rustup component add rustfmt`",
        program.to_string_lossy()
    )
}

/// `rustfmt --version`, for the memo's key (about 20 ms: worth starting
/// early, on a thread, while the files are emitted).
pub fn rustfmt_version() -> Result<String, String> {
    let program = program();
    let out = Command::new(&program)
        .arg("--version")
        .output()
        .map_err(|e| cannot_run(&program, &e))?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() || version.is_empty() {
        return Err(format!(
            "rustfmt is not usable for this toolchain; install it with `rustup component add rustfmt` ({})",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(version)
}

/// Where formatted files are remembered, and the rustfmt they were formatted by.
pub struct Memo<'a> {
    /// A folder of records, one per unformatted text (inside the regen cache).
    pub dir: &'a Path,
    /// `rustfmt --version` ([`rustfmt_version`]).
    pub version: &'a str,
}

/// Records kept in a memo folder; past this many, the least recently used go.
const MEMO_KEEP: usize = 1024;

impl Memo<'_> {
    /// A record's text before the formatted output: everything the output
    /// depends on, byte for byte (the file name is only a hash of it).
    fn head(&self, input: &str) -> Vec<u8> {
        let mut head = format!(
            "snapsdk rustfmt memo 1\n{}\nedition {EDITION}\nconfig {}\ninput {}\n",
            self.version,
            config(),
            input.len()
        )
        .into_bytes();
        head.extend_from_slice(input.as_bytes());
        head.extend_from_slice(b"\noutput\n");
        head
    }

    fn file(&self, head: &[u8]) -> PathBuf {
        let hash = Sha256::digest(head);
        let name: String = hash[..16].iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{name}.rs-memo"))
    }

    /// The formatted text remembered for `input`, if its record matches exactly.
    fn lookup(&self, input: &str) -> Option<String> {
        let head = self.head(input);
        let file = self.file(&head);
        let record = std::fs::read(&file).ok()?;
        let out = String::from_utf8(record.strip_prefix(head.as_slice())?.to_vec()).ok()?;
        // Recently used: kept when the folder is trimmed.
        if let Ok(f) = std::fs::File::options().append(true).open(&file) {
            let _ = f.set_modified(std::time::SystemTime::now());
        }
        Some(out)
    }

    /// The record remembering `output` as the formatting of `input`, and its file.
    fn record(&self, input: &str, output: &str) -> (PathBuf, Vec<u8>) {
        let mut record = self.head(input);
        let file = self.file(&record);
        record.extend_from_slice(output.as_bytes());
        (file, record)
    }
}

/// Formatting results not yet in the memo: [`rustfmt_all`] hands them back,
/// and the caller stores them once the run's output is written, so a run
/// that fails or is refused leaves no file behind.
#[derive(Default)]
pub struct MemoRecords {
    dir: Option<PathBuf>,
    records: Vec<(PathBuf, Vec<u8>)>,
}

impl MemoRecords {
    /// Write every record (each whole or not at all; best effort: a record
    /// that cannot be written only costs a rustfmt run later), then keep the
    /// folder to `MEMO_KEEP` (1,024) records, the most recently used.
    pub fn store(self) {
        let Some(dir) = self.dir else { return };
        if self.records.is_empty() || std::fs::create_dir_all(&dir).is_err() {
            return;
        }
        for (file, record) in &self.records {
            let tmp = file.with_extension(format!(
                "tmp-{}-{}",
                std::process::id(),
                RUN.fetch_add(1, Ordering::Relaxed)
            ));
            if std::fs::write(&tmp, record).is_err() || std::fs::rename(&tmp, file).is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
        }
        trim(&dir);
    }
}

/// Keep a memo folder to [`MEMO_KEEP`] records, the most recently used.
fn trim(dir: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut records: Vec<(std::time::SystemTime, PathBuf)> = rd
        .flatten()
        .filter_map(|e| {
            let modified = e.metadata().ok()?.modified().ok()?;
            Some((modified, e.path()))
        })
        .filter(|(_, p)| p.extension().is_some_and(|e| e == "rs-memo"))
        .collect();
    if records.len() <= MEMO_KEEP {
        return;
    }
    records.sort();
    for (_, p) in &records[..records.len() - MEMO_KEEP] {
        let _ = std::fs::remove_file(p);
    }
}

/// Format every `.rs` file of a run (edition 2021, the workspace's
/// settings). With `memo`, a file formatted before (same text, same rustfmt,
/// same settings) takes the remembered result; the others are formatted by
/// one `rustfmt` process per core, then remembered. Each process works in its
/// own scratch folder in the target directory, where every Rust file of the
/// run sits at its path relative to the workspace (so `mod` declarations find
/// their files): the files it formats with their text, the others empty
/// (rustfmt also formats the modules a file declares; the result of a file
/// depends on its own text only). The result depends only on the text, not on
/// the scheduling or the memo; the scratch folders are removed whatever happens.
/// Returns what the memo should remember, to [`MemoRecords::store`] once the
/// output is written.
pub fn rustfmt_all(files: &mut [Vec<(PathBuf, String)>], memo: Option<&Memo<'_>>) -> Result<MemoRecords, String> {
    let rust: Vec<(usize, usize)> = files
        .iter()
        .enumerate()
        .flat_map(|(v, fs)| {
            fs.iter()
                .enumerate()
                .filter(|(_, (p, _))| p.extension().is_some_and(|e| e == "rs"))
                .map(move |(k, _)| (v, k))
        })
        .collect();
    let mut todo = Vec::with_capacity(rust.len());
    for &(v, k) in &rust {
        match memo.and_then(|m| m.lookup(&files[v][k].1)) {
            Some(formatted) => files[v][k].1 = formatted,
            None => todo.push((v, k)),
        }
    }
    if todo.is_empty() {
        return Ok(MemoRecords::default());
    }
    let inputs: Vec<String> = match memo {
        Some(_) => todo.iter().map(|&(v, k)| files[v][k].1.clone()).collect(),
        None => Vec::new(),
    };
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let scratch = target.join(format!(
        "regen-fmt-{}-{}",
        std::process::id(),
        RUN.fetch_add(1, Ordering::Relaxed)
    ));
    let result = format_in(&program(), &scratch, files, &rust, &todo);
    let _ = std::fs::remove_dir_all(&scratch);
    result?;
    let mut remember = MemoRecords::default();
    if let Some(m) = memo {
        remember.dir = Some(m.dir.to_path_buf());
        for (&(v, k), input) in todo.iter().zip(&inputs) {
            remember.records.push(m.record(input, &files[v][k].1));
        }
    }
    Ok(remember)
}

/// Share `todo` out into at most `n` groups of about the same size in bytes
/// (largest first, each to the lightest group).
fn share_out(files: &[Vec<(PathBuf, String)>], todo: &[(usize, usize)], n: usize) -> Vec<Vec<(usize, usize)>> {
    let mut by_size = todo.to_vec();
    by_size.sort_by_key(|&(v, k)| std::cmp::Reverse(files[v][k].1.len()));
    let mut groups: Vec<(usize, Vec<(usize, usize)>)> = (0..n.max(1)).map(|_| (0, Vec::new())).collect();
    for f in by_size {
        if let Some(g) = groups.iter_mut().min_by_key(|(bytes, _)| *bytes) {
            g.0 += files[f.0][f.1].1.len();
            g.1.push(f);
        }
    }
    groups.into_iter().map(|(_, g)| g).filter(|g| !g.is_empty()).collect()
}

/// Format the files `todo` (indices into `files`; `rust` are all the Rust
/// files of the run) in place, one rustfmt process per core, under `scratch`.
fn format_in(
    program: &std::ffi::OsStr,
    scratch: &Path,
    files: &mut [Vec<(PathBuf, String)>],
    rust: &[(usize, usize)],
    todo: &[(usize, usize)],
) -> Result<(), String> {
    let io = |what: &Path, e: std::io::Error| {
        format!(
            "{}: {e} (rustfmt's scratch copy of the generated files)",
            what.display()
        )
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let groups = share_out(files, todo, cores);
    // Each group's folder: its files with their text, every other Rust file empty.
    let mut jobs = Vec::with_capacity(groups.len());
    for (g, group) in groups.iter().enumerate() {
        let dir = scratch.join(g.to_string());
        // The workspace's settings, also for rustfmt's own search for a config beside the files.
        std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        std::fs::write(dir.join("rustfmt.toml"), RUSTFMT_TOML).map_err(|e| io(&dir, e))?;
        for &(v, k) in rust {
            let (rel, text) = &files[v][k];
            let path = dir.join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
            }
            let text = if group.contains(&(v, k)) { text.as_str() } else { "" };
            std::fs::write(&path, text).map_err(|e| io(&path, e))?;
        }
        let paths: Vec<PathBuf> = group.iter().map(|&(v, k)| dir.join(&files[v][k].0)).collect();
        jobs.push((dir, paths));
    }
    let config = config();
    let results: Vec<Result<(), String>> = std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|(dir, paths)| s.spawn(|| run_rustfmt(program, &config, dir, paths)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a rustfmt thread panicked; this is a generator bug".into()))
            })
            .collect()
    });
    // The first failure in group order, so the message does not depend on the scheduling.
    results.into_iter().collect::<Result<Vec<()>, String>>()?;
    for (group, (_, paths)) in groups.iter().zip(&jobs) {
        for (&(v, k), path) in group.iter().zip(paths) {
            files[v][k].1 = std::fs::read_to_string(path).map_err(|e| io(path, e))?;
        }
    }
    Ok(())
}

/// One rustfmt process over `paths`, formatting them in place.
fn run_rustfmt(program: &std::ffi::OsStr, config: &str, dir: &Path, paths: &[PathBuf]) -> Result<(), String> {
    let out = Command::new(program)
        .args(["--edition", EDITION, "--quiet", "--config", config])
        .args(paths)
        .output()
        .map_err(|e| cannot_run(program, &e))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("not installed") || stderr.contains("rustup component add") {
        return Err(format!(
            "rustfmt is not installed for this toolchain; install it with `rustup component add rustfmt` ({})",
            stderr.trim()
        ));
    }
    let mut shown = dir.to_string_lossy().into_owned();
    shown.push('/');
    Err(format!(
        "rustfmt refused generated code (a generator bug): {}",
        stderr.replace(&shown, "").replace(&*dir.to_string_lossy(), "")
    ))
}

/// A blank line before each item that follows the end of another at the same
/// depth (a closing `}` or `};`, or a `use`/`mod` run), as a person spaces a file.
pub fn blank_lines(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    for (i, line) in lines.iter().enumerate() {
        if i > 0 && starts_item(line) && ends_item(lines[i - 1], line) {
            out.push('\n');
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

fn starts_item(line: &str) -> bool {
    let t = line.trim_start();
    [
        "///",
        "//!",
        "#[",
        "pub ",
        "pub(",
        "fn ",
        "impl ",
        "impl<",
        "struct ",
        "enum ",
        "static ",
        "const ",
        "type ",
        "async ",
        "mod ",
        "use ",
        "snapsdk_runtime::request_builder!",
    ]
    .iter()
    .any(|p| t.starts_with(p))
        && !t.starts_with("#![")
}

fn ends_item(prev: &str, next: &str) -> bool {
    let p = prev.trim_start();
    if indent(prev) != indent(next) {
        return false;
    }
    let is_use = |t: &str| {
        t.starts_with("use ") || t.starts_with("pub use ") || t.starts_with("pub mod ") || t.starts_with("mod ")
    };
    let n = next.trim_start();
    if p.starts_with("//!") {
        return !n.starts_with("//!");
    }
    if p.starts_with("//") {
        // A doc or comment line ending in `}` or `;` (code in the docs) ends nothing.
        return false;
    }
    if is_use(p) && p.ends_with(';') {
        // A run of imports stays together; `pub use` and `use`, `mod` and `use` are separate runs.
        let kind = |t: &str| {
            t.split(' ')
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
                .replace(|c: char| !c.is_alphabetic() && c != ' ', "")
        };
        return !is_use(n)
            || kind(p).split(' ').next() != kind(n).split(' ').next()
            || p.starts_with("pub mod") != n.starts_with("pub mod");
    }
    (p.ends_with(';') && starts_item(prev) && !p.starts_with("#["))
        || p == "}"
        || p == "};"
        || p == ");"
        || (p.ends_with(");") && p.starts_with("snapsdk_runtime::"))
        || (p.ends_with('}') && starts_item(prev) && !p.starts_with("#["))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_in_doc_comments_ends_no_item() {
        let text = "/// ```text\n/// { \"id\": 1 }\n/// ```\n/// let x = 1;\n///\n/// done\nfn f() {}\n// a comment;\nfn g() {}\n";
        assert_eq!(blank_lines(text), "/// ```text\n/// { \"id\": 1 }\n/// ```\n/// let x = 1;\n///\n/// done\nfn f() {}\n// a comment;\nfn g() {}\n");
    }

    #[test]
    fn items_are_spaced_and_bodies_are_not() {
        let text = "use a::b;\nuse c::d;\npub mod x;\nstruct A;\nimpl A {\n    fn f() {\n        if x {\n        }\n        let y = 1;\n    }\n    fn g() {}\n    /// Doc.\n    fn h() {}\n}\nstatic S: u8 = 1;\n";
        assert_eq!(
            blank_lines(text),
            "use a::b;\nuse c::d;\n\npub mod x;\n\nstruct A;\n\nimpl A {\n    fn f() {\n        if x {\n        }\n        let y = 1;\n    }\n\n    fn g() {}\n\n    /// Doc.\n    fn h() {}\n}\n\nstatic S: u8 = 1;\n"
        );
    }

    fn run(program: &str, texts: &[(&str, &str)]) -> Result<Vec<String>, String> {
        let scratch = std::env::temp_dir().join(format!(
            "snapsdk-fmt-test-{}-{}",
            std::process::id(),
            RUN.fetch_add(1, Ordering::Relaxed)
        ));
        let mut files = vec![texts
            .iter()
            .map(|(p, t)| (PathBuf::from(p), t.to_string()))
            .collect::<Vec<_>>()];
        let rust: Vec<(usize, usize)> = (0..texts.len())
            .filter(|&k| texts[k].0.ends_with(".rs"))
            .map(|k| (0, k))
            .collect();
        let r = format_in(std::ffi::OsStr::new(program), &scratch, &mut files, &rust, &rust);
        let _ = std::fs::remove_dir_all(&scratch);
        r.map(|()| files.remove(0).into_iter().map(|(_, t)| t).collect())
    }

    #[test]
    fn one_run_formats_every_rust_file_and_nothing_else() {
        let out = run(
            "rustfmt",
            &[
                ("a/src/lib.rs", "pub mod m;\nfn f( x:u8 )->u8{x}\n"),
                ("a/src/m.rs", "pub  struct S ;\n"),
                ("a/README.md", "keep  this\n"),
            ],
        )
        .unwrap();
        assert_eq!(
            out,
            [
                "pub mod m;\nfn f(x: u8) -> u8 {\n    x\n}\n",
                "pub struct S;\n",
                "keep  this\n"
            ]
        );
    }

    #[test]
    fn a_missing_rustfmt_names_the_fix_and_bad_code_the_bug() {
        let err = run("/nonexistent/rustfmt", &[("a.rs", "fn f() {}\n")]).unwrap_err();
        assert!(err.contains("rustup component add rustfmt"), "{err}");
        let err = run("rustfmt", &[("a.rs", "fn f( {\n")]).unwrap_err();
        assert!(
            err.contains("rustfmt refused generated code (a generator bug)"),
            "{err}"
        );
    }

    fn texts() -> Vec<Vec<(PathBuf, String)>> {
        let owned = |fs: &[(&str, &str)]| -> Vec<(PathBuf, String)> {
            fs.iter().map(|(p, t)| (PathBuf::from(p), t.to_string())).collect()
        };
        vec![
            owned(&[
                ("a/src/lib.rs", "pub mod m;\npub mod n;\nfn f( x:u8 )->u8{x}\n"),
                ("a/src/m.rs", "pub  struct S ;\n"),
                ("a/src/n.rs", "pub  fn g( ) { let  y =1 ; }\n"),
                ("a/README.md", "keep  this\n"),
            ]),
            owned(&[("b/tests/t.rs", "#[test]\nfn t(){assert!( true )}\n")]),
        ]
    }

    /// The memo's records in `dir`.
    fn records(dir: &Path) -> Vec<PathBuf> {
        let mut r: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        r.sort();
        r
    }

    /// A remembered result is used only for the same text, rustfmt version
    /// and settings, byte for byte; anything else (another version, a
    /// damaged record, an edited file) is formatted again, and the output is
    /// always what rustfmt gives without the memo.
    #[test]
    fn the_memo_gives_what_rustfmt_gives_and_is_used_only_on_an_exact_match() {
        let mut want = texts();
        assert!(rustfmt_all(&mut want, None).unwrap().records.is_empty());
        assert_eq!(want[0][2].1, "pub fn g() {\n    let y = 1;\n}\n");
        assert_eq!(want[0][3].1, "keep  this\n", "not Rust: left alone");
        let dir = std::env::temp_dir().join(format!("snapsdk-fmt-memo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let memo = Memo {
            dir: &dir,
            version: "rustfmt 1.0.0-test",
        };
        let mut got = texts();
        let remember = rustfmt_all(&mut got, Some(&memo)).unwrap();
        assert_eq!(got, want, "a run that fills the memo");
        assert!(records(&dir).is_empty(), "nothing is stored before the caller says so");
        remember.store();
        assert_eq!(records(&dir).len(), 4, "one record per Rust file");
        let mut got = texts();
        rustfmt_all(&mut got, Some(&memo)).unwrap();
        assert_eq!(got, want, "a run from the memo");

        // The memo is really read: a record whose output was altered (its
        // key intact) is what comes back. (This is what the exact-match key
        // guards against for every other change.)
        let m_input = texts()[0][1].1.clone();
        let forged_file = memo.file(&memo.head(&m_input));
        let mut forged = std::fs::read(&forged_file).unwrap();
        forged.extend_from_slice(b"// from the memo\n");
        std::fs::write(&forged_file, &forged).unwrap();
        let mut got = texts();
        rustfmt_all(&mut got, Some(&memo)).unwrap();
        assert_eq!(got[0][1].1, "pub struct S;\n// from the memo\n");

        // Another rustfmt version: formatted again, whatever the records say.
        let other = Memo {
            dir: &dir,
            version: "rustfmt 1.0.1-test",
        };
        let mut got = texts();
        rustfmt_all(&mut got, Some(&other)).unwrap();
        assert_eq!(got, want, "another rustfmt version");

        // A damaged record (its key cut short): not used, and written anew.
        let full = std::fs::read(&forged_file).unwrap();
        std::fs::write(&forged_file, &full[..20]).unwrap();
        let mut got = texts();
        rustfmt_all(&mut got, Some(&memo)).unwrap().store();
        assert_eq!(got, want, "a damaged record");
        assert!(std::fs::read(&forged_file).unwrap().ends_with(b"pub struct S;\n"));

        // An edited file misses; the others still come from the memo.
        let mut edited = texts();
        edited[0][1].1 = "pub  struct T ;\n".into();
        rustfmt_all(&mut edited, Some(&memo)).unwrap();
        assert_eq!(edited[0][1].1, "pub struct T;\n");
        assert_eq!(edited[0][0].1, want[0][0].1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Every file goes to exactly one group, the largest first to the lightest.
    #[test]
    fn files_are_shared_out_by_size() {
        let files = vec![(1..=7)
            .map(|n| (PathBuf::from(format!("f{n}.rs")), "x".repeat(n * 10)))
            .collect::<Vec<_>>()];
        let todo: Vec<(usize, usize)> = (0..7).map(|k| (0, k)).collect();
        for n in 1..=9 {
            let groups = share_out(&files, &todo, n);
            assert_eq!(groups.len(), n.min(7), "{n} groups");
            let mut seen: Vec<(usize, usize)> = groups.concat();
            seen.sort();
            assert_eq!(seen, todo, "each file once");
        }
        let sizes: Vec<usize> = share_out(&files, &todo, 2)
            .iter()
            .map(|g| g.iter().map(|&(v, k)| files[v][k].1.len()).sum())
            .collect();
        assert_eq!(sizes, [140, 140]);
    }
}
