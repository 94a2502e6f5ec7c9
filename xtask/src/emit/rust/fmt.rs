//! Generated Rust as `rustfmt` leaves it: prettyplease prints the tokens,
//! blank lines go between items, and `rustfmt` (with the workspace's
//! `rustfmt.toml`, built into this binary so a change regenerates) makes the
//! rest of the layout its own. `cargo fmt --check` then has nothing to say
//! about a generated file, with or without `format_generated_files`.

use std::io::Write;
use std::process::{Command, Stdio};

/// The workspace's rustfmt settings, as `key=value` pairs for `--config`.
const RUSTFMT_TOML: &str = include_str!("../../../../rustfmt.toml");

/// The final text of a generated Rust file (without its header comment).
pub fn format_file(file: &syn::File) -> Result<String, String> {
    rustfmt(&blank_lines(&prettyplease::unparse(file)))
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

/// Run `rustfmt` on `text` (edition 2021, the workspace's settings).
pub fn rustfmt(text: &str) -> Result<String, String> {
    let mut child = Command::new(std::env::var_os("RUSTFMT").unwrap_or_else(|| "rustfmt".into()))
        .args(["--edition", "2021", "--emit", "stdout", "--quiet", "--config", &config()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run rustfmt ({e}); install it with `rustup component add rustfmt`"))?;
    let mut stdin = child.stdin.take().ok_or("rustfmt's input is closed")?;
    let input = text.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().map_err(|e| format!("rustfmt failed: {e}"))?;
    writer.join().map_err(|_| "rustfmt input thread panicked".to_owned())?.map_err(|e| format!("rustfmt input: {e}"))?;
    if !out.status.success() {
        return Err(format!("rustfmt refused generated code (a generator bug): {}", String::from_utf8_lossy(&out.stderr)));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("rustfmt output is not UTF-8: {e}"))
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
    ["///", "//!", "#[", "pub ", "pub(", "fn ", "impl ", "impl<", "struct ", "enum ", "static ", "const ", "type ", "async ", "mod ", "use ", "snapsdk_runtime::request_builder!"]
        .iter()
        .any(|p| t.starts_with(p))
        && !t.starts_with("#![")
}

fn ends_item(prev: &str, next: &str) -> bool {
    let p = prev.trim_start();
    if indent(prev) != indent(next) {
        return false;
    }
    let is_use = |t: &str| t.starts_with("use ") || t.starts_with("pub use ") || t.starts_with("pub mod ") || t.starts_with("mod ");
    let n = next.trim_start();
    if p.starts_with("//!") {
        return !n.starts_with("//!");
    }
    if is_use(p) && p.ends_with(';') {
        // A run of imports stays together; `pub use` and `use`, `mod` and `use` are separate runs.
        let kind = |t: &str| t.split(' ').take(2).collect::<Vec<_>>().join(" ").replace(|c: char| !c.is_alphabetic() && c != ' ', "");
        return !is_use(n) || kind(p).split(' ').next() != kind(n).split(' ').next() || p.starts_with("pub mod") != n.starts_with("pub mod");
    }
    (p.ends_with(';') && starts_item(prev) && !p.starts_with("#[")) || p == "}" || p == "};" || p == ");" || (p.ends_with(");") && p.starts_with("snapsdk_runtime::")) || (p.ends_with('}') && starts_item(prev) && !p.starts_with("#["))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_spaced_and_bodies_are_not() {
        let text = "use a::b;\nuse c::d;\npub mod x;\nstruct A;\nimpl A {\n    fn f() {\n        if x {\n        }\n        let y = 1;\n    }\n    fn g() {}\n    /// Doc.\n    fn h() {}\n}\nstatic S: u8 = 1;\n";
        assert_eq!(
            blank_lines(text),
            "use a::b;\nuse c::d;\n\npub mod x;\n\nstruct A;\n\nimpl A {\n    fn f() {\n        if x {\n        }\n        let y = 1;\n    }\n\n    fn g() {}\n\n    /// Doc.\n    fn h() {}\n}\n\nstatic S: u8 = 1;\n"
        );
    }
}
