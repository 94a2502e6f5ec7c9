//! The generated-API comparison behind `cargo xtask diff` and the semver gate
//! of `regen --check`: a change the generator makes (a method renamed by a
//! naming rule) is breaking even when no spec changed.

mod common;
use common::git;

use std::path::{Path, PathBuf};

use xtask::apidiff::{self, diff_surface, Change, Impact};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/surface").join(name)).unwrap()
}

fn body(snap: &str) -> &str {
    snap.splitn(3, "---\n").nth(2).unwrap()
}

fn find<'a>(changes: &'a [Change], item: &str, impact: Impact) -> Vec<&'a str> {
    changes
        .iter()
        .filter(|c| c.item == format!("surface {item}") && c.impact == impact)
        .map(|c| c.reason.as_str())
        .collect()
}

#[test]
fn every_kind_of_surface_change_has_its_impact() {
    let changes = diff_surface(body(&fixture("before.snap")), body(&fixture("after.snap")));
    // A rename: the old call is gone (breaking), named with its successor, and the new name is new API.
    let renamed = find(&changes, "client.accounts().list_accounts", Impact::Breaking);
    assert_eq!(renamed.len(), 1, "{changes:#?}");
    assert!(
        renamed[0].contains("renamed by the generator to `client.accounts().list()`"),
        "{}",
        renamed[0]
    );
    assert_eq!(
        find(&changes, "client.accounts().list", Impact::Minor),
        ["added to the generated API"]
    );
    // Setters: a new one is minor, a removed one breaking.
    assert_eq!(
        find(&changes, "client.documents().upload_document", Impact::Minor),
        ["new setter `.folder(..)`"]
    );
    let tickets = find(&changes, "client.tickets().list_tickets", Impact::Breaking);
    assert!(
        tickets.contains(&"setter `.status(..)` is gone") && tickets.contains(&"paging helper `into_stream` is gone"),
        "{tickets:?}"
    );
    // Argument order and the answer's type.
    let get = find(&changes, "client.tickets().get_ticket", Impact::Breaking);
    assert!(
        get.iter()
            .any(|r| r.starts_with("arguments (account_id, ticket_id) → (ticket_id, account_id)")),
        "{get:?}"
    );
    assert!(get.iter().any(|r| r.contains("TicketDetail")), "{get:?}");
    // Only the request line changed: patch.
    assert_eq!(
        find(&changes, "client.tickets().close", Impact::Patch).len(),
        1,
        "{changes:#?}"
    );
    assert!(find(&changes, "client.tickets().close", Impact::Breaking).is_empty());
    assert_eq!(
        find(&changes, "client.widgets().info", Impact::Patch).len(),
        1,
        "{changes:#?}"
    );
    // A new call is minor; an unchanged one is not mentioned.
    assert_eq!(
        find(&changes, "client.widgets().list", Impact::Minor),
        ["added to the generated API"]
    );
    assert!(!changes.iter().any(|c| c.item.contains("get_contact")), "{changes:#?}");
    assert!(diff_surface(body(&fixture("before.snap")), body(&fixture("before.snap"))).is_empty());
}

/// A generator change with the specs untouched: the gate fails without a bump and passes with one.
#[test]
fn the_gate_sees_a_generator_rename_without_a_spec_change() {
    let root = std::env::temp_dir().join(format!("snapsdk-surface-gate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let specs = root.join("specs/demo");
    std::fs::create_dir_all(&specs).unwrap();
    let case: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/apidiff/unchanged/old/demo");
    for e in std::fs::read_dir(&case).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), specs.join(e.file_name())).unwrap();
    }
    let apis = apidiff::load_specs(&root, "specs").unwrap();
    let today = xtask::emit::surface(&apis[0]);
    // The surface as an older generator wrote it: the first method under another name.
    let first = today.lines().next().unwrap();
    let call = first.split('(').take(2).collect::<Vec<_>>().join("(");
    let older = today.replacen(&call, &format!("{call}_old"), 1);
    let snap = root.join(xtask::emit::surface_snapshot_path(&apis[0]));
    std::fs::create_dir_all(snap.parent().unwrap()).unwrap();
    std::fs::write(&snap, format!("---\nsource: x\n---\n{older}")).unwrap();
    git(&root, &["init", "-q"]);
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-q", "-m", "base"]);

    let g = apidiff::gate(&root, Some("HEAD")).unwrap();
    assert_eq!(g.failures.len(), 1, "{:?}", g.failures);
    assert!(
        g.failures[0].contains("breaking")
            && g.failures[0].contains("_old")
            && g.failures[0].contains("renamed by the generator"),
        "{}",
        g.failures[0]
    );

    // The same base with the surface as today's generator writes it: nothing to report.
    std::fs::write(&snap, format!("---\nsource: x\n---\n{today}")).unwrap();
    git(&root, &["commit", "-q", "-am", "fresh"]);
    assert!(apidiff::gate(&root, Some("HEAD")).unwrap().failures.is_empty());

    // The rename again, now with the version bumped: enough.
    std::fs::write(&snap, format!("---\nsource: x\n---\n{older}")).unwrap();
    git(&root, &["commit", "-q", "-am", "older"]);
    let vendor = specs.join("vendor.yaml");
    let text = std::fs::read_to_string(&vendor).unwrap();
    let version = apis[0].vendor.version.clone();
    let v = semver::Version::parse(&version).unwrap();
    let bumped = if v.major == 0 {
        format!("0.{}.0", v.minor + 1)
    } else {
        format!("{}.0.0", v.major + 1)
    };
    assert!(text.contains(&version), "{text}");
    std::fs::write(&vendor, text.replacen(&version, &bumped, 1)).unwrap();
    assert!(apidiff::gate(&root, Some("HEAD")).unwrap().failures.is_empty());
    let _ = std::fs::remove_dir_all(&root);
}
