//! `cargo xtask review --base REV`: one body for a pull request that says
//! whether the change may be merged as far as the specs go, and why.
//!
//! Nothing here judges anything on its own; every fact comes from the code
//! behind the other commands:
//!
//! - the API changes, the bump each crate needs and whether it has it:
//!   [`apidiff::compare`] and [`apidiff::gate_failures`] (`cargo xtask diff`,
//!   the semver gate of `regen --check`);
//! - source drift not accepted into `sources.lock`: [`sources::drift_reports`]
//!   (`cargo xtask sources`, the drift check of `regen --check`);
//! - stale or hand-edited generated files and spec errors: [`regen::run`] in
//!   check mode (`regen --check`);
//! - the generated code's change per crate: `git diff` of `crates/<crate>/`
//!   between the base and the working tree.
//!
//! Exit status: 0 mergeable, 1 not, 2 could not run.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use semver::Version;
use serde_json::{json, Value};

use crate::apidiff::{self, CrateReport, Impact, Verdict};
use crate::regen::{self, Failure, Options};
use crate::sources;

/// How many items of one list the comment shows before pointing at the details.
const SHOWN: usize = 8;

/// What `cargo xtask review` was asked.
#[derive(Debug, Clone)]
pub struct Args {
    pub base: String,
    pub docs: Option<PathBuf>,
    pub json: bool,
    /// The repository to review (default: the workspace the binary belongs to).
    pub repo: Option<PathBuf>,
}

pub const USAGE: &str = "usage: cargo xtask review --base REV [--docs DIR] [--format markdown|json] [--repo DIR]";

impl Args {
    pub fn parse(args: &[String]) -> Result<Args, String> {
        let (mut base, mut docs, mut json, mut repo) = (None, None, false, None);
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut value = || it.next().cloned().ok_or_else(|| format!("{a} needs a value"));
            match a.as_str() {
                "--base" => base = Some(value()?),
                "--docs" => docs = Some(PathBuf::from(value()?)),
                "--repo" => repo = Some(PathBuf::from(value()?)),
                "--format" => match value()?.as_str() {
                    "markdown" => json = false,
                    "json" => json = true,
                    other => return Err(format!("--format takes `markdown` or `json`, not `{other}`")),
                },
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        let base =
            base.ok_or("--base REV is required: the revision the pull request is merged into (e.g. origin/main)")?;
        Ok(Args { base, docs, json, repo })
    }
}

/// One crate's row of the version table.
#[derive(Debug, Clone)]
pub struct CrateRow {
    pub report: CrateReport,
    /// The smallest version the changes allow, when a bump is needed.
    pub needs: Option<String>,
    pub enough: bool,
    /// Why the version is unusable (went backwards, not semver).
    pub invalid: Option<String>,
}

/// Source drift of one vendor that `sources.lock` has not accepted.
#[derive(Debug, Clone)]
pub struct Drift {
    pub vendor: String,
    pub items: Vec<String>,
    pub operations: Vec<String>,
}

/// The generated code's change in one crate folder.
#[derive(Debug, Clone, Default)]
pub struct Generated {
    pub crate_name: String,
    pub files: usize,
    pub added: usize,
    pub removed: usize,
    /// Public items (`fn name`, `struct Name`, ...) only in the new code, only in the old, in both but changed.
    pub items_added: Vec<String>,
    pub items_removed: Vec<String>,
    pub items_changed: Vec<String>,
}

/// Every fact of one review.
#[derive(Debug, Clone, Default)]
pub struct Review {
    pub base: String,
    pub crates: Vec<CrateRow>,
    pub bump_failures: Vec<String>,
    pub drift: Vec<Drift>,
    /// Set when the vendor documents were not found, so drift was not checked.
    pub docs_missing: bool,
    pub stale: Vec<(String, String)>,
    pub spec_errors: Vec<String>,
    pub generated: Vec<Generated>,
    /// `cargo xtask diff` (with the re-read sources) and the `sources` report, for the details block.
    pub details: String,
}

impl Review {
    /// Why the pull request may not be merged; empty when it may.
    pub fn reasons(&self) -> Vec<String> {
        let mut out = Vec::new();
        let short: Vec<&str> = self
            .crates
            .iter()
            .filter(|c| !c.enough)
            .map(|c| c.report.crate_name.as_str())
            .collect();
        if !short.is_empty() {
            out.push(format!("version bump missing ({})", short.join(", ")));
        }
        let drifted: usize = self.drift.iter().map(|d| d.items.len()).sum();
        if drifted > 0 {
            let vendors: Vec<&str> = self.drift.iter().map(|d| d.vendor.as_str()).collect();
            out.push(format!(
                "source drift not accepted ({drifted} item{} in {})",
                plural(drifted),
                vendors.join(", ")
            ));
        }
        if !self.stale.is_empty() {
            out.push(format!(
                "{} stale generated file{}",
                self.stale.len(),
                plural(self.stale.len())
            ));
        }
        if !self.spec_errors.is_empty() {
            out.push(format!(
                "{} spec error{}",
                self.spec_errors.len(),
                plural(self.spec_errors.len())
            ));
        }
        out
    }

    pub fn mergeable(&self) -> bool {
        self.reasons().is_empty()
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn git(root: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(root)
        .output()
        .map_err(|e| format!("could not run git: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`git {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Gather the review of the working tree at `root` against `base`.
/// `Err` means the review could not run (exit 2); spec errors are a finding, not an error.
pub fn review(root: &Path, base: &str, docs: Option<&Path>) -> Result<Review, String> {
    git(
        root,
        &["rev-parse", "--verify", "--quiet", &format!("{base}^{{commit}}")],
    )
    .map_err(|_| {
        format!(
            "`{base}` is not a git revision of {}; give the commit the pull request is merged into (e.g. origin/main)",
            root.display()
        )
    })?;
    if let Some(d) = docs {
        if !d.is_dir() {
            return Err(format!(
                "{} is not a folder of vendor documents; pass --docs DIR",
                d.display()
            ));
        }
    }
    let mut r = Review {
        base: base.to_owned(),
        docs_missing: docs.is_none(),
        ..Review::default()
    };

    regen_check(&mut r, root, docs)?;
    api_diff(&mut r, root, base)?;
    source_drift(&mut r, root, docs)?;
    generated_crates(&mut r, root, base)?;
    Ok(r)
}

/// regen --check: stale files and spec errors (citations checked against the documents).
fn regen_check(r: &mut Review, root: &Path, docs: Option<&Path>) -> Result<(), String> {
    let opts = Options {
        check: true,
        ..Options::workspace(root, docs.map(Path::to_path_buf))
    };
    match regen::run(&opts) {
        Ok(_) => {}
        Err(Failure::Stale(report)) => {
            r.stale = report
                .stale
                .iter()
                .map(|(p, why)| (p.display().to_string(), (*why).to_owned()))
                .collect()
        }
        Err(Failure::Spec(diags)) => {
            r.spec_errors = diags
                .iter()
                .filter(|d| !d.message.starts_with("warning: "))
                .map(|d| d.to_string())
                .collect()
        }
        Err(Failure::Other(e)) => return Err(e),
    }
    Ok(())
}

/// diff / the semver gate: only when the working tree's specs validate.
fn api_diff(r: &mut Review, root: &Path, base: &str) -> Result<(), String> {
    let old = apidiff::load_specs_at(root, base)?;
    match apidiff::load_specs(root, "specs") {
        Ok(new) => {
            let reports = apidiff::compare(&old, &new);
            r.bump_failures = apidiff::gate_failures(&reports);
            r.crates = reports.iter().cloned().map(row).collect();
            r.details = apidiff::markdown(base, &reports);
            match apidiff::source_changes(root, base) {
                Ok(s) => r.details.push_str(&s),
                Err(e) => return Err(format!("source fingerprints not compared: {e}")),
            }
        }
        Err(e) if r.spec_errors.is_empty() => {
            r.spec_errors = e
                .to_string()
                .lines()
                .filter(|l| !l.trim_start().starts_with("hint:"))
                .map(str::to_owned)
                .collect()
        }
        Err(_) => {}
    }
    Ok(())
}

/// sources: drift not yet accepted into the locks.
fn source_drift(r: &mut Review, root: &Path, docs: Option<&Path>) -> Result<(), String> {
    if let Some(docs) = docs {
        for v in sources::drift_reports(root, docs, None).map_err(|e| e.to_string())? {
            if v.items.is_empty() {
                continue;
            }
            r.details
                .push_str(&format!("\n{}", v.markdown.replacen("## ", "## Source drift: ", 1)));
            r.drift.push(Drift {
                vendor: v.vendor,
                items: v.items,
                operations: v.affected.into_iter().collect(),
            });
        }
    }
    Ok(())
}

/// The generated code, crate by crate (every crate either side knows).
fn generated_crates(r: &mut Review, root: &Path, base: &str) -> Result<(), String> {
    let mut names: BTreeSet<String> = r.crates.iter().map(|c| c.report.crate_name.clone()).collect();
    if names.is_empty() {
        // Specs that do not validate: still show what the generated folders did.
        let listed = git(root, &["diff", "--name-only", base, "--", "crates"])?;
        names.extend(
            listed
                .lines()
                .filter_map(|l| l.strip_prefix("crates/")?.split('/').next().map(str::to_owned)),
        );
        // Only generated crates (their manifest carries the header, now or at the base).
        names.retain(|n| {
            let manifest = format!("crates/{n}/Cargo.toml");
            let now = std::fs::read_to_string(root.join(&manifest)).unwrap_or_default();
            let then = git(root, &["show", &format!("{base}:{manifest}")]).unwrap_or_default();
            now.contains(crate::write::MARKER) || then.contains(crate::write::MARKER)
        });
    }
    for name in names {
        let g = generated(root, base, &name)?;
        if g.files > 0 {
            r.generated.push(g);
        }
    }
    Ok(())
}

fn row(report: CrateReport) -> CrateRow {
    let needs = match (report.old_version.as_deref().map(Version::parse), report.impact()) {
        (Some(Ok(old)), Some(impact)) => Some(apidiff::required_version(&old, impact).to_string()),
        _ => None,
    };
    let (enough, invalid) = match report.verdict() {
        Verdict::Enough | Verdict::NotApplicable => (true, None),
        Verdict::TooSmall { .. } => (false, None),
        Verdict::Invalid(why) => (false, Some(why)),
    };
    CrateRow {
        report,
        needs,
        enough,
        invalid,
    }
}

/// `git diff` of `crates/<name>/` from `base` to the working tree: files, lines, public items.
pub fn generated(root: &Path, base: &str, name: &str) -> Result<Generated, String> {
    let dir = format!("crates/{name}");
    let mut g = Generated {
        crate_name: name.to_owned(),
        ..Generated::default()
    };
    // Files new in the working tree are not in git's diff until added; count them too.
    let untracked = git(root, &["ls-files", "--others", "--exclude-standard", "--", &dir])?;
    for line in git(root, &["diff", "--numstat", base, "--", &dir])?.lines() {
        let mut f = line.split('\t');
        let (a, d) = (f.next().unwrap_or("0"), f.next().unwrap_or("0"));
        g.files += 1;
        g.added += a.parse::<usize>().unwrap_or(0);
        g.removed += d.parse::<usize>().unwrap_or(0);
    }
    // Public items of each changed Rust file, old and new, with their whole
    // declarations (a signature can span lines), compared by name.
    let mut changed_rs: BTreeSet<String> = git(root, &["diff", "--name-only", base, "--", &format!("{dir}/*.rs")])?
        .lines()
        .map(str::to_owned)
        .collect();
    changed_rs.extend(untracked.lines().filter(|p| p.ends_with(".rs")).map(str::to_owned));
    let (mut old, mut new): (BTreeMap<String, Vec<String>>, BTreeMap<String, Vec<String>>) = Default::default();
    for path in &changed_rs {
        let before = Command::new("git")
            .args(["show", &format!("{base}:{path}")])
            .current_dir(root)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        let after = std::fs::read_to_string(root.join(path)).unwrap_or_default();
        for (text, into) in [(&before, &mut old), (&after, &mut new)] {
            for (name, decl) in declarations(text) {
                into.entry(name).or_default().push(decl);
            }
        }
    }
    for (name, decls) in &new {
        match old.get(name) {
            None => g.items_added.push(name.clone()),
            Some(o) => {
                let (mut a, mut b) = (o.clone(), decls.clone());
                a.sort();
                b.sort();
                if a != b {
                    g.items_changed.push(name.clone());
                }
            }
        }
    }
    g.items_removed = old.keys().filter(|k| !new.contains_key(*k)).cloned().collect();
    Ok(g)
}

/// Every public item of a Rust file: its name (`fn send`) and its declaration
/// up to the `{` or `;` that ends it, whitespace collapsed.
fn declarations(text: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let Some(name) = public_item(l) else { continue };
        let mut decl = String::new();
        for l in &lines[i..] {
            decl.push_str(l.trim());
            decl.push(' ');
            let t = l.trim_end();
            if t.ends_with('{') || t.ends_with(';') || t.ends_with('}') {
                break;
            }
        }
        out.push((name, decl.trim_end().trim_end_matches('{').trim_end().to_owned()));
    }
    out
}

/// `fn name`, `struct Name`, ... for a line that declares a public item.
fn public_item(line: &str) -> Option<String> {
    let mut rest = line.trim_start().strip_prefix("pub ")?;
    for q in ["async ", "const fn ", "unsafe "] {
        if let Some(r) = rest.strip_prefix(q) {
            rest = if q == "const fn " { return word("fn", r) } else { r };
        }
    }
    let (kind, r) = rest.split_once(' ')?;
    match kind {
        "fn" | "struct" | "enum" | "trait" | "type" | "mod" | "const" | "static" | "use" => word(kind, r),
        _ => None,
    }
}

fn word(kind: &str, rest: &str) -> Option<String> {
    if kind == "use" {
        return Some(format!("use {}", rest.trim().trim_end_matches(';')));
    }
    let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
    (!name.is_empty()).then(|| format!("{kind} {name}"))
}

/// Up to [`SHOWN`] items, then how many more.
fn some(items: &[String], fmt: impl Fn(&str) -> String) -> String {
    let mut s: Vec<String> = items.iter().take(SHOWN).map(|i| fmt(i)).collect();
    if items.len() > SHOWN {
        s.push(format!("… {} more", items.len() - SHOWN));
    }
    s.join(", ")
}

/// The pull-request comment.
pub fn markdown(r: &Review) -> String {
    let mut s = String::new();
    let reasons = r.reasons();
    if reasons.is_empty() {
        let _ = writeln!(s, "### ✅ Spec review: mergeable as far as the specs go");
    } else {
        let _ = writeln!(s, "### ❌ Spec review: not mergeable: {}", reasons.join("; "));
    }
    let _ = writeln!(
        s,
        "\nAgainst `{}`.{}",
        r.base,
        if r.docs_missing {
            " Vendor documents not found: source drift and citations not checked."
        } else {
            ""
        }
    );

    crates_table(&mut s, r);
    drift_section(&mut s, r);
    changes_section(&mut s, r);
    generated_section(&mut s, r);
    stale_section(&mut s, r);
    spec_errors_section(&mut s, r);
    if !r.details.is_empty() {
        let _ = writeln!(
            s,
            "\n<details><summary>Full report</summary>\n\n{}\n</details>",
            r.details.trim_end()
        );
    }
    s
}

/// The version table: what each crate needs and whether its bump is enough.
fn crates_table(s: &mut String, r: &Review) {
    if !r.crates.is_empty() {
        let _ = writeln!(s, "\n| crate | base | now | needs | enough? |\n|---|---|---|---|---|");
        for c in &r.crates {
            let v = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
            let needs = match (&c.needs, c.report.impact()) {
                (Some(n), Some(i)) => format!("{n} ({})", i.as_str()),
                (None, Some(i)) => i.as_str().to_owned(),
                _ => "-".to_owned(),
            };
            let enough = match (&c.invalid, c.enough) {
                (Some(why), _) => format!("❌ {why}"),
                (None, true) => "✅".to_owned(),
                (None, false) => "❌".to_owned(),
            };
            let _ = writeln!(
                s,
                "| `{}` | {} | {} | {needs} | {enough} |",
                c.report.crate_name,
                v(&c.report.old_version),
                v(&c.report.new_version)
            );
        }
        for f in &r.bump_failures {
            let _ = writeln!(s, "\n- {f}");
        }
    }
}

/// Source drift not yet accepted.
fn drift_section(s: &mut String, r: &Review) {
    if !r.drift.is_empty() {
        let _ = writeln!(s, "\n**Source drift not accepted in `sources.lock`** (`cargo xtask sources`; `--accept` once the specs match)\n");
        for d in &r.drift {
            let _ = writeln!(
                s,
                "- {}: {}",
                d.vendor,
                some(&d.items, |i| i
                    .strip_prefix(&format!("{}: ", d.vendor))
                    .unwrap_or(i)
                    .to_owned())
            );
            if !d.operations.is_empty() {
                let _ = writeln!(
                    s,
                    "  - operations touched: {}",
                    some(&d.operations, |o| format!("`{o}`"))
                );
            }
        }
    }
}

/// The API changes per crate, the most severe first.
fn changes_section(s: &mut String, r: &Review) {
    let changed: Vec<&CrateRow> = r.crates.iter().filter(|c| !c.report.changes.is_empty()).collect();
    if !changed.is_empty() {
        let _ = writeln!(s, "\n**API changes**");
        for c in changed {
            let counts: Vec<String> = [Impact::Breaking, Impact::Minor, Impact::Patch]
                .iter()
                .filter_map(|i| {
                    let n = c.report.changes.iter().filter(|ch| ch.impact == *i).count();
                    (n > 0).then(|| format!("{n} {}", i.as_str()))
                })
                .collect();
            let _ = writeln!(s, "\n`{}`: {}\n", c.report.crate_name, counts.join(", "));
            let mut sorted = c.report.changes.clone();
            sorted.sort_by_key(|c| std::cmp::Reverse(c.impact));
            for ch in sorted.iter().take(SHOWN) {
                let _ = writeln!(s, "- {}: `{}`: {}", ch.impact.as_str(), ch.item, ch.reason);
            }
            if sorted.len() > SHOWN {
                let _ = writeln!(s, "- … {} more in the full report below", sorted.len() - SHOWN);
            }
        }
    }
}

/// What changed in the generated code.
fn generated_section(s: &mut String, r: &Review) {
    if !r.generated.is_empty() {
        let _ = writeln!(
            s,
            "\n**Generated code**\n\n| crate | files | lines | public items |\n|---|---|---|---|"
        );
        for g in &r.generated {
            let mut items = Vec::new();
            if !g.items_added.is_empty() {
                items.push(format!(
                    "+{}: {}",
                    g.items_added.len(),
                    some(&g.items_added, |i| format!("`{i}`"))
                ));
            }
            if !g.items_removed.is_empty() {
                items.push(format!(
                    "−{}: {}",
                    g.items_removed.len(),
                    some(&g.items_removed, |i| format!("`{i}`"))
                ));
            }
            if !g.items_changed.is_empty() {
                items.push(format!(
                    "~{}: {}",
                    g.items_changed.len(),
                    some(&g.items_changed, |i| format!("`{i}`"))
                ));
            }
            let items = if items.is_empty() {
                "unchanged".to_owned()
            } else {
                items.join("; ")
            };
            let _ = writeln!(
                s,
                "| `{}` | {} | +{} −{} | {items} |",
                g.crate_name, g.files, g.added, g.removed
            );
        }
    }
}

/// Stale generated files.
fn stale_section(s: &mut String, r: &Review) {
    if !r.stale.is_empty() {
        let _ = writeln!(
            s,
            "\n**Stale generated files** (run `cargo xtask regen` and commit the result)\n"
        );
        for (p, why) in r.stale.iter().take(SHOWN) {
            let _ = writeln!(s, "- `{p}`: {why}");
        }
        if r.stale.len() > SHOWN {
            let _ = writeln!(s, "- … {} more", r.stale.len() - SHOWN);
        }
    }
}

/// Spec errors.
fn spec_errors_section(s: &mut String, r: &Review) {
    if !r.spec_errors.is_empty() {
        let _ = writeln!(s, "\n**Spec errors** (`cargo xtask regen` reports the same)\n\n```text");
        for e in r.spec_errors.iter().take(SHOWN) {
            let _ = writeln!(s, "{e}");
        }
        if r.spec_errors.len() > SHOWN {
            let _ = writeln!(s, "… {} more", r.spec_errors.len() - SHOWN);
        }
        let _ = writeln!(s, "```");
    }
}

/// The same facts for machines.
pub fn json(r: &Review) -> Value {
    json!({
        "base": r.base,
        "mergeable": r.mergeable(),
        "reasons": r.reasons(),
        "docs_checked": !r.docs_missing,
        "crates": r.crates.iter().map(|c| json!({
            "crate": c.report.crate_name,
            "vendor": c.report.vendor,
            "version_base": c.report.old_version,
            "version_now": c.report.new_version,
            "impact": c.report.impact().map(Impact::as_str),
            "needs": c.needs,
            "enough": c.enough,
            "invalid": c.invalid,
            "changes": c.report.changes.iter().map(|ch| json!({"impact": ch.impact.as_str(), "item": ch.item, "reason": ch.reason})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "bump_failures": r.bump_failures,
        "source_drift": r.drift.iter().map(|d| json!({"vendor": d.vendor, "items": d.items, "operations": d.operations})).collect::<Vec<_>>(),
        "stale": r.stale.iter().map(|(p, why)| json!({"path": p, "why": why})).collect::<Vec<_>>(),
        "spec_errors": r.spec_errors,
        "generated": r.generated.iter().map(|g| json!({
            "crate": g.crate_name,
            "files": g.files,
            "lines_added": g.added,
            "lines_removed": g.removed,
            "public_items_added": g.items_added,
            "public_items_removed": g.items_removed,
            "public_items_changed": g.items_changed,
        })).collect::<Vec<_>>(),
    })
}

/// `cargo xtask review`: prints the body; returns the exit code.
/// `root` is the workspace (the vendor documents are looked for beside it).
pub fn command(root: &Path, args: &[String]) -> u8 {
    let a = match Args::parse(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}\n{USAGE}");
            return 2;
        }
    };
    let repo = a.repo.clone().unwrap_or_else(|| root.to_path_buf());
    // The same lookup as every other command: --docs, else SNAPSDK_DOCS, else beside the checkout.
    let docs = match crate::regen::docs_folder(root, a.docs.as_deref(), std::env::var_os(crate::regen::DOCS_ENV)) {
        Ok(d) => d,
        Err(e) => {
            eprintln!(
                "error: {e}
error: the review could not run"
            );
            return 2;
        }
    };
    match review(&repo, &a.base, docs.as_deref()) {
        Ok(r) => {
            if a.json {
                println!("{}", serde_json::to_string_pretty(&json(&r)).unwrap_or_default());
            } else {
                print!("{}", markdown(&r));
            }
            u8::from(!r.mergeable())
        }
        Err(e) => {
            eprintln!("error: {e}\nerror: the review could not run");
            2
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_items_are_named_by_kind() {
        assert_eq!(
            public_item("    pub fn delete_ticket(&self, id: &str) -> X {").as_deref(),
            Some("fn delete_ticket")
        );
        assert_eq!(public_item("pub async fn send(self)").as_deref(), Some("fn send"));
        assert_eq!(public_item("pub const fn new() -> Self").as_deref(), Some("fn new"));
        assert_eq!(public_item("pub struct Ticket {").as_deref(), Some("struct Ticket"));
        assert_eq!(public_item("pub enum Status {").as_deref(), Some("enum Status"));
        assert_eq!(
            public_item("pub use snapsdk_runtime::FilePart;").as_deref(),
            Some("use snapsdk_runtime::FilePart")
        );
        assert_eq!(public_item("    pub status: Option<String>,"), None);
        assert_eq!(public_item("pub(crate) fn hidden()"), None);
        assert_eq!(public_item("fn private()"), None);
    }

    #[test]
    fn arguments() {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let a = Args::parse(&s(&["--base", "origin/main", "--format", "json", "--docs", "d"])).unwrap();
        assert_eq!(
            (a.base.as_str(), a.json, a.docs.as_deref()),
            ("origin/main", true, Some(Path::new("d")))
        );
        assert!(Args::parse(&s(&["--format", "json"])).unwrap_err().contains("--base"));
        assert!(Args::parse(&s(&["--base"])).unwrap_err().contains("needs a value"));
        assert!(Args::parse(&s(&["--base", "x", "--format", "html"]))
            .unwrap_err()
            .contains("html"));
        assert!(Args::parse(&s(&["--base", "x", "--bogus"]))
            .unwrap_err()
            .contains("--bogus"));
    }
}
