//! Generated Rust as `rustfmt` leaves it: prettyplease prints the tokens,
//! blank lines go between items, and `rustfmt` (with the workspace's
//! `rustfmt.toml`, built into this binary so a change regenerates), run once
//! over all files of a run, makes the rest of the layout its own. `cargo fmt
//! --check` then has nothing to say about a generated file, with or without
//! `format_generated_files`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The workspace's rustfmt settings, as `key=value` pairs for `--config`.
const RUSTFMT_TOML: &str = include_str!("../../../../rustfmt.toml");

/// A generated Rust file as prettyplease prints it, with blank lines between
/// items. `rustfmt` runs afterwards over every file of the run at once
/// ([`rustfmt_all`]): one process instead of one per file.
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

/// Format every `.rs` file of a run with one `rustfmt` process (edition 2021,
/// the workspace's settings): the files are written under a scratch folder in
/// the target directory, at their paths relative to the workspace (so `mod`
/// declarations find their files), formatted in place, and read back. The
/// result depends only on the text, not on the scheduling; the scratch folder
/// is removed whatever happens.
pub fn rustfmt_all(files: &mut [Vec<(PathBuf, String)>]) -> Result<(), String> {
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
    if rust.is_empty() {
        return Ok(());
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let scratch = target.join(format!(
        "regen-fmt-{}-{}",
        std::process::id(),
        RUN.fetch_add(1, Ordering::Relaxed)
    ));
    let program = std::env::var_os("RUSTFMT").unwrap_or_else(|| "rustfmt".into());
    let result = format_in(&program, &scratch, files, &rust);
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

fn format_in(
    program: &std::ffi::OsStr,
    scratch: &Path,
    files: &mut [Vec<(PathBuf, String)>],
    rust: &[(usize, usize)],
) -> Result<(), String> {
    let io = |what: &Path, e: std::io::Error| {
        format!(
            "{}: {e} (rustfmt's scratch copy of the generated files)",
            what.display()
        )
    };
    // The workspace's settings, also for rustfmt's own search for a config beside the files.
    std::fs::create_dir_all(scratch).map_err(|e| io(scratch, e))?;
    std::fs::write(scratch.join("rustfmt.toml"), RUSTFMT_TOML).map_err(|e| io(scratch, e))?;
    let mut paths = Vec::with_capacity(rust.len());
    for &(v, k) in rust {
        let (rel, text) = &files[v][k];
        let path = scratch.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        }
        std::fs::write(&path, text).map_err(|e| io(&path, e))?;
        paths.push(path);
    }
    let out = Command::new(program)
        .args(["--edition", "2021", "--quiet", "--config", &config()])
        .args(&paths)
        .output()
        .map_err(|e| {
            format!(
                "cannot run {} ({e}); install it with `rustup component add rustfmt`",
                program.to_string_lossy()
            )
        })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stderr.contains("not installed") || stderr.contains("rustup component add") {
            return Err(format!(
                "rustfmt is not installed for this toolchain; install it with `rustup component add rustfmt` ({})",
                stderr.trim()
            ));
        }
        return Err(format!(
            "rustfmt refused generated code (a generator bug): {}",
            stderr.replace(&*scratch.to_string_lossy(), "")
        ));
    }
    for (&(v, k), path) in rust.iter().zip(&paths) {
        files[v][k].1 = std::fs::read_to_string(path).map_err(|e| io(path, e))?;
    }
    Ok(())
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
        let r = format_in(std::ffi::OsStr::new(program), &scratch, &mut files, &rust);
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
}
