//! The corpus of broken specs: each case under `tests/broken/<case>/` must
//! fail with exactly the snapshotted `file:line:col: message` lines.

use std::path::Path;

use xtask::diag::Diags;
use xtask::validate;

fn diagnose(case: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/broken").join(case);
    let mut diags = Diags::default();
    // A case that checks citations brings its documents in `demo/docs/`.
    let docs = root.join("demo/docs");
    let apis = validate::check_all(&root, &root, docs.is_dir().then_some(docs.as_path()), None, &mut diags).unwrap();
    assert!(
        !diags.is_empty() || !diags.warnings.is_empty(),
        "case `{case}` produced no diagnostics"
    );
    assert!(
        diags.is_empty() || apis.is_empty(),
        "case `{case}`: a vendor with errors must not be lowered"
    );
    let warnings = diags.sorted_warnings();
    diags
        .sorted()
        .iter()
        .chain(&warnings)
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

macro_rules! case {
    ($name:ident) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(stringify!($name), diagnose(stringify!($name)));
        }
    };
}

case!(yaml_syntax);
case!(unknown_key);
case!(unknown_key_in_vendor);
case!(wrong_type);
case!(duplicate_operation_id);
case!(path_variable_without_parameter);
case!(path_parameter_not_in_template);
case!(names_collide_after_case_conversion);
case!(unknown_model);
case!(body_on_get);
case!(malformed_base_url);
case!(unknown_auth_scheme);
case!(every_problem_is_reported);
case!(misplaced_defaults_and_secrets);
case!(citation_substring);
case!(citation_unknown_heading);
case!(citation_ambiguous);
case!(source_without_headings);
case!(citation_wrong_endpoint);
case!(crate_names_cargo_rejects);
case!(names_collide_in_emitted_forms);
case!(path_template_characters);
case!(yaml_error_does_not_cascade);
case!(truncated_file);
case!(prose_cut_by_a_comment);
case!(json_list_misplaced);
case!(quick_start_unknown);
case!(broken_vendor_file_still_checks_the_rest);
case!(bidi_control_characters);
case!(vendor_name_differs_from_folder);
case!(evidence_misused);
case!(publish_registries_cargo_rejects);

/// Case directories under `dir` that `src` has no `case!(<name>);` line for.
fn cases_without_a_test(dir: &Path, src: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no case directories under {}", dir.display());
    names
        .into_iter()
        .filter(|name| !src.contains(&format!("case!({name});")))
        .collect()
}

#[test]
fn every_case_directory_has_a_test() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/broken");
    let missing = cases_without_a_test(&dir, include_str!("broken.rs"));
    assert!(
        missing.is_empty(),
        "tests/broken/ cases without a case!() line: {missing:?}"
    );
}

#[test]
fn the_case_guard_names_a_directory_without_a_test() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/broken");
    // Built, so this test's own text does not count as the line.
    let line = format!("case!({});", "unknown_model");
    let src = include_str!("broken.rs").replace(&line, "");
    assert_eq!(cases_without_a_test(&dir, &src), ["unknown_model"]);
}
