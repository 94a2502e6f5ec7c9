//! The workflow check of the test command (`external::lint_workflows`:
//! actionlint with ShellCheck, and zizmor `--offline`) fires: each hostile
//! workflow below, alone in a scratch repository, must fail it. (The test
//! command itself runs it on `.github/`, which must pass.) ShellCheck also
//! checks the scripts under `.github/scripts/`.

use std::path::{Path, PathBuf};
use xtask::external::ToolError;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn lint(name: &str, workflow: &str) -> Result<(), ToolError> {
    let root = std::env::temp_dir().join(format!("snapsdk-wflint-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join(".github/workflows")).unwrap();
    std::fs::create_dir_all(root.join("tools/workflow-lint")).unwrap();
    std::fs::copy(
        workspace().join("tools/workflow-lint/requirements.txt"),
        root.join("tools/workflow-lint/requirements.txt"),
    )
    .unwrap();
    std::fs::write(root.join(".github/workflows/w.yml"), workflow).unwrap();
    // The venv the test command installed (or installs now) under this workspace's target dir.
    let r = xtask::external::lint_workflows(&root, &xtask::external::target_dir(&workspace()));
    let _ = std::fs::remove_dir_all(&root);
    r
}

const HEAD: &str = "name: w\non:\n  pull_request:\npermissions: {}\njobs:\n  j:\n    runs-on: ubuntu-24.04\n    permissions:\n      contents: read\n    steps:\n";

#[test]
fn a_clean_workflow_passes() {
    lint("clean", &format!("{HEAD}      - run: echo hello\n")).unwrap();
}

#[test]
fn actionlint_fires_on_an_unknown_key() {
    let e = lint("key", &format!("{HEAD}      - run: echo hello\n        shel: bash\n")).unwrap_err();
    assert!(
        matches!(&e, ToolError::Failed { what, .. } if what == "actionlint"),
        "{e:?}"
    );
    assert!(e.to_string().starts_with("actionlint failed"), "{e}");
}

#[test]
fn shellcheck_fires_on_a_run_script() {
    // SC2086: unquoted expansion.
    let e = lint(
        "shell",
        &format!("{HEAD}      - run: |\n          f=$1\n          rm $f\n"),
    )
    .unwrap_err();
    assert!(
        matches!(&e, ToolError::Failed { what, .. } if what == "actionlint"),
        "{e:?}"
    );
    assert!(e.to_string().starts_with("actionlint failed"), "{e}");
}

#[test]
fn zizmor_fires_on_pull_request_target_checking_out_the_head() {
    let w = "name: w\non:\n  pull_request_target:\npermissions: {}\njobs:\n  j:\n    runs-on: ubuntu-24.04\n    permissions:\n      contents: read\n    steps:\n      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n        with:\n          ref: ${{ github.event.pull_request.head.sha }}\n          persist-credentials: false\n";
    let e = lint("zizmor", w).unwrap_err();
    assert!(e.to_string().contains("zizmor"), "{e}");
}

#[test]
fn shellcheck_fires_on_a_script_the_workflows_call() {
    let root = std::env::temp_dir().join(format!("snapsdk-wflint-{}-script", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join(".github/workflows")).unwrap();
    std::fs::create_dir_all(root.join(".github/scripts")).unwrap();
    std::fs::create_dir_all(root.join("tools/workflow-lint")).unwrap();
    std::fs::copy(
        workspace().join("tools/workflow-lint/requirements.txt"),
        root.join("tools/workflow-lint/requirements.txt"),
    )
    .unwrap();
    std::fs::write(
        root.join(".github/workflows/w.yml"),
        format!("{HEAD}      - run: bash .github/scripts/s.sh\n"),
    )
    .unwrap();
    std::fs::write(root.join(".github/scripts/s.sh"), "#!/usr/bin/env bash\nf=$1\nrm $f\n").unwrap();
    let r = xtask::external::lint_workflows(&root, &xtask::external::target_dir(&workspace()));
    let _ = std::fs::remove_dir_all(&root);
    let e = r.unwrap_err();
    assert!(
        matches!(&e, ToolError::Failed { what, .. } if what == "shellcheck"),
        "{e:?}"
    );
    assert!(e.to_string().starts_with("shellcheck failed"), "{e}");
}
