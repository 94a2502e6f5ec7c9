//! The corpus of broken specs: each case under `tests/broken/<case>/` must
//! fail with exactly the snapshotted `file:line:col: message` lines.

use std::path::Path;

use xtask::diag::Diags;
use xtask::validate;

fn diagnose(case: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/broken").join(case);
    let mut diags = Diags::default();
    let apis = validate::check_all(&root, &root, None, None, &mut diags).unwrap();
    assert!(!diags.is_empty() || !diags.warnings.is_empty(), "case `{case}` produced no diagnostics");
    assert!(diags.is_empty() || apis.is_empty(), "case `{case}`: a vendor with errors must not be lowered");
    let warnings = diags.sorted_warnings();
    diags.sorted().iter().chain(&warnings).map(|d| d.to_string()).collect::<Vec<_>>().join("\n")
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
case!(crate_names_cargo_rejects);
case!(names_collide_in_emitted_forms);
case!(path_template_characters);
case!(yaml_error_does_not_cascade);
case!(truncated_file);
case!(prose_cut_by_a_comment);
case!(broken_vendor_file_still_checks_the_rest);

#[test]
fn every_case_directory_has_a_test() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/broken");
    let src = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/broken.rs")).unwrap();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry.path().is_dir() {
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(src.contains(&format!("case!({name});")), "tests/broken/{name} has no case!() line");
        }
    }
}
