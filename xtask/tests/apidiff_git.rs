//! The git side of API review on scratch repositories: the semver gate of
//! `regen --check` compares with each crate's newest release tag when there
//! are several, and `cargo xtask diff` lists the vendor-document
//! fingerprints (`specs/<vendor>/sources.lock`) that changed since a revision.

mod common;
use common::git;

use std::path::{Path, PathBuf};

use xtask::apidiff;
use xtask::diag::Diags;
use xtask::sources::{self, Lock};

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        if e.path().is_dir() {
            copy(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// A scratch git repository, removed on drop.
struct Repo(PathBuf);

impl Repo {
    fn new(name: &str) -> Repo {
        let dir = std::env::temp_dir().join(format!("xtask-apidiff-git-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        git(&dir, &["init", "-q"]);
        Repo(dir)
    }

    fn commit(&self, msg: &str) {
        git(&self.0, &["add", "-A"]);
        git(&self.0, &["commit", "-q", "-m", msg]);
    }
}

impl Drop for Repo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn set_specs(repo: &Repo, case: &str, edit: Option<(&str, &str)>) {
    let specs = repo.0.join("specs/demo");
    let _ = std::fs::remove_dir_all(&specs);
    copy(&manifest().join("tests/apidiff").join(case).join("demo"), &specs);
    if let Some((from, to)) = edit {
        let api = specs.join("api.yaml");
        let text = std::fs::read_to_string(&api).unwrap();
        assert!(text.contains(from));
        std::fs::write(&api, text.replacen(from, to, 1)).unwrap();
    }
}

#[test]
fn the_gate_compares_with_the_newest_release_tag() {
    let repo = Repo::new("tags");
    // demo-notes 0.1.0, tagged v0.9.0; then the removal with its bump to 0.2.0, tagged v0.10.0
    // (newer by semver, older by string order).
    set_specs(&repo, "removed_operation/old", None);
    repo.commit("first release");
    git(&repo.0, &["tag", "demo-notes-v0.9.0"]);
    set_specs(&repo, "removed_operation_minor_bump/new", None);
    repo.commit("second release");
    git(&repo.0, &["tag", "demo-notes-v0.10.0"]);
    // Another crate's tags and a tag that is no version are ignored.
    git(&repo.0, &["tag", "other-crate-v9.0.0"]);
    git(&repo.0, &["tag", "demo-notes-vnext"]);
    let tags = apidiff::release_tags(&repo.0);
    assert_eq!(
        tags.get("demo-notes").map(|(_, t)| t.as_str()),
        Some("demo-notes-v0.10.0")
    );

    // Unchanged since the newest release: nothing to bump.
    let g = apidiff::gate(&repo.0, None).unwrap();
    assert!(g.failures.is_empty(), "{:?}", g.failures);
    assert!(
        g.notes
            .iter()
            .any(|n| n.contains("against release tag demo-notes-v0.10.0")),
        "{:?}",
        g.notes
    );

    // A new optional parameter at the same 0.2.0: against v0.10.0 that needs 0.2.1
    // (against the older v0.9.0 the 0.2.0 bump would have looked enough).
    let limit = "      - { name: limit, in: query, type: integer, description: Page size. }";
    set_specs(
        &repo,
        "removed_operation_minor_bump/new",
        Some((
            limit,
            &format!("{limit}\n      - {{ name: since, in: query, type: date, description: Since. }}"),
        )),
    );
    let g = apidiff::gate(&repo.0, None).unwrap();
    assert_eq!(g.failures.len(), 1, "{:?}", g.failures);
    assert!(
        g.failures[0].contains("set `crate.version` to 0.2.1"),
        "{}",
        g.failures[0]
    );
    // The same working tree against the older tag passes: the tag choice is what decides.
    assert!(apidiff::gate(&repo.0, Some("demo-notes-v0.9.0"))
        .unwrap()
        .failures
        .is_empty());
}

fn widgets_lock(case_root: &Path, edition: &str) -> String {
    let mut diags = Diags::default();
    let apis = xtask::validate::check_all(
        &case_root.join("specs"),
        case_root,
        Some(&case_root.join("old")),
        None,
        &mut diags,
    )
    .unwrap();
    assert!(diags.is_empty(), "{:?}", diags.items);
    let docs = sources::read_docs(&apis[0], &case_root.join(edition)).unwrap();
    Lock::build(&apis[0], &docs).render()
}

#[test]
fn diff_lists_the_fingerprints_that_changed_since_a_revision() {
    let case = manifest().join("tests/sources/bracketed");
    let repo = Repo::new("fingerprints");
    copy(&case.join("specs"), &repo.0.join("specs"));
    let lock = repo.0.join("specs/widgets/sources.lock");
    std::fs::write(&lock, widgets_lock(&case, "old")).unwrap();
    repo.commit("accepted the old edition");

    let unchanged = apidiff::source_changes(&repo.0, "HEAD").unwrap();
    assert!(unchanged.contains("No source fingerprints changed."), "{unchanged}");

    // The lock rewritten from the new edition, uncommitted: the report names the
    // vendor, the document and each re-read section.
    std::fs::write(&lock, widgets_lock(&case, "new")).unwrap();
    let changed = apidiff::source_changes(&repo.0, "HEAD").unwrap();
    assert!(
        changed.contains("## Vendor documents re-read since `HEAD`"),
        "{changed}"
    );
    assert!(!changed.contains("No source fingerprints changed."), "{changed}");
    let lines: Vec<&str> = changed.lines().filter(|l| l.starts_with("- specs/widgets: ")).collect();
    assert!(!lines.is_empty(), "{changed}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("widgets.txt") && l.contains("Widgets > Create")),
        "{changed}"
    );

    // A lock that is new since the revision is listed as newly recorded.
    std::fs::remove_file(&lock).unwrap();
    repo.commit("no lock");
    std::fs::write(&lock, widgets_lock(&case, "old")).unwrap();
    let recorded = apidiff::source_changes(&repo.0, "HEAD").unwrap();
    assert!(recorded.contains("newly recorded"), "{recorded}");

    assert!(apidiff::source_changes(&repo.0, "no-such-rev").is_err());
}
