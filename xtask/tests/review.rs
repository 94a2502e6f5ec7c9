//! `cargo xtask review` through the spec-review job's own shell step
//! (`.github/scripts/spec-review.sh`), against scratch git repositories: a
//! base commit (a vendor spec, its `sources.lock` and its generated crate) and
//! a pull-request commit on top. The comment bodies are snapshots; the exit
//! status, the files the commenter reads and the JSON form are checked too.
//!
//! The vendor is the invented `parcels` of `tests/sources/plain/`.

mod common;
use common::git;

use std::path::{Path, PathBuf};
use std::process::Command;

use xtask::diag::Diags;
use xtask::regen::{self, Options};
use xtask::sources::{self, Lock};
use xtask::validate;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A scratch repository whose `base` branch holds the parcels vendor, its
/// lock (from `docs`) and its generated crate; and the documents folder.
struct Scratch {
    dir: PathBuf,
    repo: PathBuf,
    docs: PathBuf,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

fn regen(s: &Scratch) {
    let (_, _) = regen::run(&Options::workspace(&s.repo, Some(s.docs.clone())))
        .unwrap_or_else(|e| panic!("regen in the scratch repository: {e:?}"));
}

fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("snapsdk-review-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (repo, docs) = (dir.join("repo"), dir.join("docs"));
    let case = workspace().join("xtask/tests/sources/plain");
    copy_dir(&case.join("specs/parcels"), &repo.join("specs/parcels"));
    copy_dir(&case.join("old"), &docs);
    std::fs::write(
        repo.join("Cargo.toml"),
        "[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n",
    )
    .unwrap();
    let s = Scratch { dir, repo, docs };
    // The lock, as `cargo xtask sources --accept` writes it.
    let mut diags = Diags::default();
    let apis = validate::check_all(&s.repo.join("specs"), &s.repo, Some(&s.docs), None, &mut diags).unwrap();
    assert!(diags.is_empty(), "{:?}", diags.items);
    let lock = Lock::build(&apis[0], &sources::read_docs(&apis[0], &s.docs).unwrap());
    std::fs::write(s.repo.join("specs/parcels/sources.lock"), lock.render()).unwrap();
    regen(&s);
    git(&s.repo, &["init", "-q"]);
    git(&s.repo, &["add", "-A"]);
    git(&s.repo, &["commit", "-q", "-m", "base"]);
    git(&s.repo, &["branch", "base"]);
    s
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has no `{from}`", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

fn commit(s: &Scratch, msg: &str) {
    git(&s.repo, &["add", "-A"]);
    git(&s.repo, &["commit", "-q", "-m", msg]);
}

/// The job's step, as the workflow runs it; returns (exit status, comment, files left for the commenter).
fn review_step(s: &Scratch, base: &str) -> (i32, String) {
    let out = s.dir.join("out");
    let _ = std::fs::remove_dir_all(&out);
    let status = Command::new("bash")
        .arg(workspace().join(".github/scripts/spec-review.sh"))
        .env("XTASK", env!("CARGO_BIN_EXE_xtask"))
        .env("REVIEW_REPO", &s.repo)
        .env("REVIEW_DOCS", &s.docs)
        .env("BASE_SHA", base)
        .env("PR_NUMBER", "17")
        .env("OUT", &out)
        .current_dir(workspace())
        .status()
        .unwrap();
    let code = status.code().unwrap();
    let read = |f: &str| std::fs::read_to_string(out.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    assert_eq!(read("pr-number"), "17\n");
    assert_eq!(read("status").trim(), code.to_string());
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["comment.md", "pr-number", "status"], "what the artifact holds");
    (code, normalise(&read("comment.md")))
}

/// Line counts of generated code follow the generator, not the case: shown as N.
fn normalise(body: &str) -> String {
    body.lines()
        .map(|l| {
            if l.starts_with("| `parcels` | ") && l.contains(" −") {
                let cells: Vec<&str> = l.split(" | ").collect();
                let lines = cells[2]
                    .chars()
                    .map(|c| if c.is_ascii_digit() { 'N' } else { c })
                    .collect::<String>()
                    .replace("NN", "N")
                    .replace("NN", "N")
                    .replace("NN", "N");
                format!("{} | {} | {} | {}", cells[0], cells[1], lines, cells[3..].join(" | "))
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn review_json(s: &Scratch, base: &str) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["review", "--base", base, "--format", "json", "--repo"])
        .arg(&s.repo)
        .arg("--docs")
        .arg(&s.docs)
        .current_dir(workspace())
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr))),
    )
}

/// A new required argument on `track_parcel`: breaking, so 0.1.0 needs 0.2.0.
fn breaking_change(s: &Scratch) {
    edit(
        &s.repo.join("specs/parcels/api.yaml"),
        "      - { name: lang, in: query, type: string, description: Language. }",
        "      - { name: lang, in: query, type: string, required: true, description: Language. }",
    );
}

#[test]
fn spec_change_without_its_version_bump_is_not_mergeable() {
    let s = scratch("no-bump");
    breaking_change(&s);
    regen(&s);
    commit(&s, "lang is required");
    let (code, body) = review_step(&s, "base");
    assert_eq!(code, 1, "{body}");
    assert!(
        body.starts_with("### ❌ Spec review: not mergeable: version bump missing (parcels)"),
        "{body}"
    );
    insta::assert_snapshot!("review_bump_missing", body);
    let (code, j) = review_json(&s, "base");
    assert_eq!(code, 1);
    assert_eq!(j["mergeable"], false);
    assert_eq!(j["reasons"], serde_json::json!(["version bump missing (parcels)"]));
    assert_eq!(j["crates"][0]["needs"], "0.2.0");
    assert_eq!(j["crates"][0]["enough"], false);
    assert_eq!(j["crates"][0]["changes"][0]["impact"], "breaking");
}

#[test]
fn spec_change_with_its_version_bump_is_mergeable() {
    let s = scratch("bump");
    breaking_change(&s);
    edit(
        &s.repo.join("specs/parcels/vendor.yaml"),
        "version: 0.1.0",
        "version: 0.2.0",
    );
    regen(&s);
    commit(&s, "lang is required; 0.2.0");
    let (code, body) = review_step(&s, "base");
    assert_eq!(code, 0, "{body}");
    assert!(
        body.starts_with("### ✅ Spec review: mergeable as far as the specs go"),
        "{body}"
    );
    insta::assert_snapshot!("review_bump_given", body);
    let (code, j) = review_json(&s, "base");
    assert_eq!(
        (code, &j["mergeable"], &j["crates"][0]["version_now"]),
        (0, &serde_json::json!(true), &serde_json::json!("0.2.0"))
    );
    assert_eq!(j["generated"][0]["crate"], "parcels");
    assert!(j["generated"][0]["lines_added"].as_u64().unwrap() > 0);
}

#[test]
fn changed_vendor_document_not_accepted_is_not_mergeable() {
    let s = scratch("docs");
    // Nothing in the repository changed; the document did (a sentence of a cited section).
    edit(
        &s.docs.join("parcels.txt"),
        "Stop a parcel before it leaves the depot.",
        "Stop a parcel before it leaves the depot. A fee applies after noon.",
    );
    let (code, body) = review_step(&s, "base");
    assert_eq!(code, 1, "{body}");
    assert!(body.contains("source drift not accepted (1 item in parcels)"), "{body}");
    assert!(
        body.contains("`cancel_parcel`"),
        "the operation the drift touches: {body}"
    );
    insta::assert_snapshot!("review_source_drift", body);
    // Accepting the edition (a new lock) makes it mergeable again.
    let mut diags = Diags::default();
    let apis = validate::check_all(&s.repo.join("specs"), &s.repo, Some(&s.docs), None, &mut diags).unwrap();
    std::fs::write(
        s.repo.join("specs/parcels/sources.lock"),
        Lock::build(&apis[0], &sources::read_docs(&apis[0], &s.docs).unwrap()).render(),
    )
    .unwrap();
    commit(&s, "accept the new edition");
    let (code, body) = review_step(&s, "base");
    assert_eq!(code, 0, "{body}");
    assert!(body.contains("re-read"), "the details list the re-read section: {body}");
}

#[test]
fn stale_generated_files_and_spec_errors_are_reasons() {
    let s = scratch("stale");
    // A spec change without `cargo xtask regen`: the crate is stale.
    edit(
        &s.repo.join("specs/parcels/api.yaml"),
        "summary: Where a parcel is.",
        "summary: Where a parcel is now.",
    );
    commit(&s, "summary");
    let (code, body) = review_step(&s, "base");
    assert_eq!(code, 1, "{body}");
    assert!(body.starts_with("### ❌ Spec review: not mergeable: "), "{body}");
    assert!(body.contains("stale generated file"), "{body}");
    insta::assert_snapshot!("review_stale", body);
    // A spec that does not validate: the errors, located, are the reason.
    edit(
        &s.repo.join("specs/parcels/api.yaml"),
        "type: integer, required: true, description: Id.",
        "type: intger, required: true, description: Id.",
    );
    let (code, body) = review_step(&s, "base");
    assert_eq!(code, 1, "{body}");
    assert!(body.contains("spec error"), "{body}");
    assert!(body.contains("specs/parcels/api.yaml:"), "located: {body}");
}

#[test]
fn a_review_that_cannot_run_says_so_and_exits_2() {
    let s = scratch("cannot");
    let (code, body) = review_step(&s, "no-such-revision");
    assert_eq!(code, 2, "{body}");
    assert!(body.starts_with("### ⚠️ Spec review could not run (exit 2)"), "{body}");
    assert!(body.contains("`no-such-revision` is not a git revision"), "{body}");
}

#[test]
fn the_step_refuses_a_pull_request_number_that_is_not_one() {
    let out = Command::new("bash")
        .arg(workspace().join(".github/scripts/spec-review.sh"))
        .env("XTASK", "false")
        .env("BASE_SHA", "base")
        .env("PR_NUMBER", "1; echo hi")
        .env(
            "OUT",
            std::env::temp_dir().join(format!("snapsdk-review-{}-refused", std::process::id())),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("PR_NUMBER must be a number"));
}
