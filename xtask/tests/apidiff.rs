//! API-change review on fixture spec pairs (`tests/apidiff/<case>/{old,new}/demo/`):
//! the semver impact of each change, the version-bump verdict, the markdown
//! report, and the `regen --check` gate on a scratch git repository.

mod common;
use common::git;

use std::path::{Path, PathBuf};

use xtask::apidiff::{self, CrateReport, Impact, Verdict};

fn case_dir(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/apidiff").join(case)
}

fn report(case: &str) -> CrateReport {
    let dir = case_dir(case);
    let old = apidiff::load_specs(&dir, "old").unwrap_or_else(|e| panic!("{case}/old: {e}"));
    let new = apidiff::load_specs(&dir, "new").unwrap_or_else(|e| panic!("{case}/new: {e}"));
    let mut reports = apidiff::compare(&old, &new);
    assert_eq!(reports.len(), 1, "{case}: one vendor expected");
    reports.remove(0)
}

fn need(v: &str) -> Verdict {
    Verdict::TooSmall {
        need: semver::Version::parse(v).unwrap(),
    }
}

#[test]
fn removed_operation_is_breaking_and_needs_a_minor_bump_below_1_0() {
    let r = report("removed_operation");
    assert_eq!(r.impact(), Some(Impact::Breaking));
    let c = r
        .changes
        .iter()
        .find(|c| c.item == "operation notes.delete_note")
        .expect("the removal is listed");
    assert_eq!(c.impact, Impact::Breaking);
    assert!(c.reason.contains("removed"), "{c:?}");
    assert_eq!(r.verdict(), need("0.2.0"));
    let failures = apidiff::gate_failures(std::slice::from_ref(&r));
    assert_eq!(failures.len(), 1);
    assert!(failures[0].contains("set `crate.version` to 0.2.0"), "{}", failures[0]);

    let bumped = report("removed_operation_minor_bump");
    assert_eq!(bumped.impact(), Some(Impact::Breaking));
    assert_eq!(bumped.verdict(), Verdict::Enough);
    assert!(apidiff::gate_failures(&[bumped]).is_empty());
}

#[test]
fn added_optional_parameter_is_minor() {
    let r = report("added_optional_parameter");
    assert_eq!(r.changes.len(), 1, "{:#?}", r.changes);
    let c = &r.changes[0];
    assert_eq!(
        (c.impact, c.item.as_str()),
        (Impact::Minor, "operation notes.list_notes parameter since")
    );
    assert!(c.reason.contains("new optional setter `.since(..)`"), "{c:?}");
    // Same version: a release needs at least a patch bump (below 1.0, cargo's rules).
    assert_eq!(r.verdict(), need("0.1.1"));
    assert_eq!(report("added_optional_parameter_patch_bump").verdict(), Verdict::Enough);
    // From 1.0 on, a minor change needs a minor bump: 1.2.3 → 1.2.4 is not enough.
    assert_eq!(report("added_optional_parameter_after_1_0").verdict(), need("1.3.0"));
}

#[test]
fn unchanged_specs_need_no_bump() {
    let r = report("unchanged");
    assert!(r.changes.is_empty(), "{:#?}", r.changes);
    assert_eq!(r.verdict(), Verdict::Enough);
}

#[test]
fn assorted_changes_report() {
    let r = report("assorted");
    let md = apidiff::markdown("old", std::slice::from_ref(&r));
    insta::assert_snapshot!("assorted_report", md);
    let impact_of = |item: &str| r.changes.iter().filter(|c| c.item == item).map(|c| c.impact).max();
    assert_eq!(
        impact_of("operation notes.get_note parameter x_tenant"),
        Some(Impact::Breaking)
    );
    assert_eq!(
        impact_of("operation notes.list_notes parameter limit"),
        Some(Impact::Breaking)
    );
    assert_eq!(
        impact_of("model Note field pinned"),
        Some(Impact::Patch),
        "bool → loose_bool keeps the Rust type"
    );
    assert_eq!(impact_of("model Note field tags"), Some(Impact::Minor));
    assert_eq!(impact_of("model Note field text"), Some(Impact::Breaking));
    assert_eq!(impact_of("model Color value Blue"), Some(Impact::Minor));
    assert_eq!(impact_of("operation notes.archive_note"), Some(Impact::Minor));
    assert_eq!(impact_of("auth scheme bearer"), Some(Impact::Minor));
    assert_eq!(r.verdict(), Verdict::Enough, "0.1.0 → 0.2.0 covers a breaking change");
}

fn copy_specs(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// The gate `regen --check` runs: against the newest release tag, or `--base`.
#[test]
fn check_gate_uses_release_tags_and_base() {
    let root = std::env::temp_dir().join(format!("snapsdk-gate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    git(&root, &["init", "-q"]);
    let specs = root.join("specs/demo");
    copy_specs(&case_dir("removed_operation").join("old/demo"), &specs);

    // No tag yet: nothing released, nothing to compare.
    let g = apidiff::gate(&root, None).unwrap();
    assert!(g.failures.is_empty());
    assert!(
        g.notes.iter().any(|n| n.contains("skipped for demo-notes")),
        "{:?}",
        g.notes
    );

    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-q", "-m", "release"]);
    git(&root, &["tag", "demo-notes-v0.1.0"]);

    // Remove an operation without a bump: the gate fails against the tag and against --base HEAD.
    copy_specs(&case_dir("removed_operation").join("new/demo"), &specs);
    let g = apidiff::gate(&root, None).unwrap();
    assert!(
        g.notes.iter().any(|n| n.contains("release tag demo-notes-v0.1.0")),
        "{:?}",
        g.notes
    );
    assert_eq!(g.failures.len(), 1, "{:?}", g.failures);
    assert!(
        g.failures[0].contains("demo-notes") && g.failures[0].contains("0.2.0"),
        "{}",
        g.failures[0]
    );
    assert_eq!(apidiff::gate(&root, Some("HEAD")).unwrap().failures.len(), 1);

    // With the minor bump it passes.
    copy_specs(&case_dir("removed_operation_minor_bump").join("new/demo"), &specs);
    assert!(apidiff::gate(&root, None).unwrap().failures.is_empty());

    let err = apidiff::gate(&root, Some("no-such-rev")).unwrap_err();
    assert!(
        matches!(&err, apidiff::SpecsError::NotARevision(rev) if rev == "no-such-rev"),
        "{err:?}"
    );
    assert!(err.to_string().contains("not a git revision"), "{err}");
    let _ = std::fs::remove_dir_all(&root);
}
