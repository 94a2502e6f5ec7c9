//! One case per entry of the README's semver impact table ("Reviewing an
//! API change"): each pair is the `removed_operation/old` fixture before and
//! after one edit (written to a scratch folder), and must be reported with
//! the table's impact on the expected item, with the report's impact and the
//! version it asks for following from it.

use std::path::{Path, PathBuf};

use xtask::apidiff::{self, Impact, Verdict};

fn base() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/apidiff/removed_operation/old/demo")
}

/// An edit of one fixture file: replace `from` (which must occur) with `to`.
type Edit = (&'static str, &'static str, &'static str);

fn write_side(dir: &Path, edits: &[Edit]) {
    std::fs::create_dir_all(dir).unwrap();
    for file in ["api.yaml", "vendor.yaml"] {
        let mut text = std::fs::read_to_string(base().join(file)).unwrap();
        for (f, from, to) in edits.iter().filter(|e| e.0 == file) {
            assert!(text.contains(from), "{f}: {from:?} not in the base fixture");
            text = text.replacen(from, to, 1);
        }
        std::fs::write(dir.join(file), text).unwrap();
    }
}

/// The report for the base fixture with `old` edits against it with `new` edits.
fn diff(case: &str, old: &[Edit], new: &[Edit]) -> apidiff::CrateReport {
    let dir = std::env::temp_dir().join(format!("xtask-apidiff-table-{}-{case}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    write_side(&dir.join("old/demo"), old);
    write_side(&dir.join("new/demo"), new);
    let o = apidiff::load_specs(&dir, "old").unwrap_or_else(|e| panic!("{case}/old: {e}"));
    let n = apidiff::load_specs(&dir, "new").unwrap_or_else(|e| panic!("{case}/new: {e}"));
    let mut reports = apidiff::compare(&o, &n);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(reports.len(), 1);
    reports.remove(0)
}

/// `item` changed with `impact` (the highest reported for it), and so did the crate.
fn expect(case: &str, r: &apidiff::CrateReport, item: &str, reason: &str, impact: Impact) {
    let found: Vec<_> = r.changes.iter().filter(|c| c.item == item).collect();
    assert!(!found.is_empty(), "{case}: {item} not reported: {:#?}", r.changes);
    let worst = found.iter().map(|c| c.impact).max().unwrap();
    assert_eq!(worst, impact, "{case}: {:#?}", found);
    assert!(
        found.iter().any(|c| c.reason.contains(reason)),
        "{case}: no reason with {reason:?}: {found:#?}"
    );
    assert_eq!(r.impact(), Some(impact), "{case}: {:#?}", r.changes);
    // 0.1.0 kept: a breaking change needs 0.2.0, anything else 0.1.1 (cargo's rules below 1.0).
    let need = if impact == Impact::Breaking { "0.2.0" } else { "0.1.1" };
    assert_eq!(
        r.verdict(),
        Verdict::TooSmall {
            need: semver::Version::parse(need).unwrap()
        },
        "{case}"
    );
}

const COLOR_BLOCK: &str =
    "  - name: Color\n    description: A colour.\n    enum:\n      - { value: red }\n      - { value: green }\n";

#[test]
fn breaking_rows() {
    // A model removed (its uses become plain strings).
    let r = diff(
        "model_removed",
        &[],
        &[
            (
                "api.yaml",
                "      - { name: color, type: Color, description: Colour. }\n    responses",
                "      - { name: color, type: string, description: Colour. }\n    responses",
            ),
            (
                "api.yaml",
                "      - { name: color, type: Color, description: Colour. }\n      - { name: pinned",
                "      - { name: color, type: string, description: Colour. }\n      - { name: pinned",
            ),
            ("api.yaml", COLOR_BLOCK, ""),
        ],
    );
    expect("model_removed", &r, "model Color", "removed", Impact::Breaking);

    let r = diff(
        "enum_value_removed",
        &[],
        &[("api.yaml", "      - { value: green }\n", "")],
    );
    expect(
        "enum_value_removed",
        &r,
        "model Color value Green",
        "removed",
        Impact::Breaking,
    );

    let bearer: Edit = (
        "vendor.yaml",
        "    default: [api_key]",
        "      - { id: bearer, type: bearer, description: Token. }\n    default: [api_key]",
    );
    let r = diff("auth_scheme_removed", &[bearer], &[]);
    expect(
        "auth_scheme_removed",
        &r,
        "auth scheme bearer",
        "removed",
        Impact::Breaking,
    );

    // Required ↔ optional, both ways, for an argument and for a field.
    let text_required = "        - { name: text, type: string, required: true, description: Body text. }";
    let r = diff(
        "argument_now_optional",
        &[],
        &[(
            "api.yaml",
            text_required,
            "        - { name: text, type: string, description: Body text. }",
        )],
    );
    expect(
        "argument_now_optional",
        &r,
        "operation notes.create_note parameter text",
        "no longer required",
        Impact::Breaking,
    );
    let limit = "      - { name: limit, in: query, type: integer, description: Page size. }";
    let r = diff(
        "argument_now_required",
        &[],
        &[(
            "api.yaml",
            limit,
            "      - { name: limit, in: query, type: integer, required: true, description: Page size. }",
        )],
    );
    expect(
        "argument_now_required",
        &r,
        "operation notes.list_notes parameter limit",
        "now required",
        Impact::Breaking,
    );
    let id_field = "      - { name: id, type: integer, required: true, description: Id. }";
    let r = diff(
        "field_now_optional",
        &[],
        &[(
            "api.yaml",
            id_field,
            "      - { name: id, type: integer, description: Id. }",
        )],
    );
    expect(
        "field_now_optional",
        &r,
        "model Note field id",
        "now optional",
        Impact::Breaking,
    );
    let text_field = "      - { name: text, type: string, description: Body text. }\n      - { name: color";
    let r = diff(
        "field_now_required",
        &[],
        &[(
            "api.yaml",
            text_field,
            "      - { name: text, type: string, required: true, description: Body text. }\n      - { name: color",
        )],
    );
    expect(
        "field_now_required",
        &r,
        "model Note field text",
        "now required",
        Impact::Breaking,
    );

    let r = diff(
        "response_type",
        &[],
        &[(
            "api.yaml",
            "type: Note, description: The note. }",
            "type: \"list<Note>\", description: The note. }",
        )],
    );
    expect(
        "response_type",
        &r,
        "operation notes.get_note",
        "response type Note → list<Note>",
        Impact::Breaking,
    );

    // Two required arguments swap places.
    let two = |first: &'static str, second: &'static str| -> Vec<Edit> {
        let text: &'static str = Box::leak(format!("{limit}\n      - {{ name: {first}, in: query, type: string, required: true, description: A. }}\n      - {{ name: {second}, in: query, type: string, required: true, description: A. }}").into_boxed_str());
        vec![("api.yaml", limit, text)]
    };
    let r = diff("argument_order", &two("from", "to"), &two("to", "from"));
    expect(
        "argument_order",
        &r,
        "operation notes.list_notes",
        "argument order (from, to) → (to, from)",
        Impact::Breaking,
    );
}

/// A row: name, old edits, new edits, the item, a word of its reason.
type Case = (&'static str, Vec<Edit>, Vec<Edit>, &'static str, &'static str);

#[test]
fn patch_rows() {
    let limit = "      - { name: limit, in: query, type: integer, description: Page size. }";
    let cases: Vec<Case> = vec![
        ("request_path", vec![], vec![("api.yaml", "    path: /notes/{note_id}\n    params:\n      - { name: note_id, in: path, type: integer, required: true, description: Note id. }\n    responses:\n      - { status: 200", "    path: /note/{note_id}\n    params:\n      - { name: note_id, in: path, type: integer, required: true, description: Note id. }\n    responses:\n      - { status: 200")], "operation notes.get_note", "request line `GET /notes/{note_id}` → `GET /note/{note_id}`"),
        ("request_method", vec![], vec![("api.yaml", "    method: DELETE", "    method: POST")], "operation notes.delete_note", "request line `DELETE"),
        ("wire_name_of_a_field", vec![], vec![("api.yaml", "      - { name: pinned, type: boolean", "      - { name: Pinned, type: boolean")], "model Note field pinned", "wire name `pinned` → `Pinned`"),
        ("wire_name_of_a_parameter", vec![], vec![("api.yaml", limit, "      - { name: Limit, in: query, type: integer, description: Page size. }")], "operation notes.list_notes parameter limit", "`limit`"),
        ("loose_decoding", vec![], vec![("api.yaml", "      - { name: pinned, type: boolean", "      - { name: pinned, type: loose_bool")], "model Note field pinned", "same Rust type"),
        ("operation_auth", vec![], vec![("api.yaml", "    summary: List notes.\n", "    summary: List notes.\n    auth: none\n")], "operation notes.list_notes", "auth api_key → public"),
        ("scheme_sends_differently", vec![], vec![("vendor.yaml", "header: x-api-key", "header: x-key")], "auth scheme api_key", "sends credentials differently"),
        ("base_url", vec![], vec![("vendor.yaml", "base_url: https://api.example.com/v1", "base_url: https://api.example.com/v2")], "base URL", "v1 → https://api.example.com/v2"),
        ("rate_limit", vec![], vec![("vendor.yaml", "  auth:\n", "  rate_limit: { requests: 10, per_seconds: 1, source: { doc: doc, section: Notes } }\n  auth:\n")], "rate limit", "none → 10/1 s"),
        ("docs", vec![], vec![("api.yaml", "    summary: Read one note.", "    summary: Read a single note.")], "operation notes.get_note", "summary, description"),
        ("spec_notes", vec![], vec![("api.yaml", "    summary: Read one note.\n", "    summary: Read one note.\n    notes: [The document shows no example.]\n")], "operation notes.get_note", "spec notes"),
        ("model_docs", vec![], vec![("api.yaml", "    description: A note.", "    description: A short note.")], "model Note", "description"),
        ("enum_wire_value", vec![], vec![("api.yaml", "      - { value: red }", "      - { value: RED, name: Red }")], "model Color value Red", "wire value `red` → `RED`"),
    ];
    for (case, old, new, item, reason) in cases {
        let r = diff(case, &old, &new);
        expect(case, &r, item, reason, Impact::Patch);
    }
}

/// The rows are told apart: the same edit reported with another impact fails `expect`.
#[test]
#[should_panic(expected = "enum_value_removed")]
fn a_row_with_the_wrong_impact_fails() {
    let r = diff(
        "enum_value_removed_guard",
        &[],
        &[("api.yaml", "      - { value: green }\n", "")],
    );
    expect(
        "enum_value_removed",
        &r,
        "model Color value Green",
        "removed",
        Impact::Minor,
    );
}
