//! The README's doc-change steps ("When a vendor changes its documentation"),
//! followed literally on a scratch copy of this checkout: a new Snappy
//! endpoint in a copy of the vendor documents (`--docs DIR`), the operation
//! added to the spec, `sources`, `regen`, the hand-written test the coverage
//! guard asks for (pasted from its message), `sources --accept`,
//! `regen --check`, and then the part of the test command these steps can
//! break: the coverage guard and the new operation's generated wire test.
//!
//! The xtask steps run in-process on the scratch root (an xtask binary built
//! from another checkout refuses to run); the cargo steps build the scratch
//! into this workspace's target dir, so only the scratch's own crates compile.
//! Without the vendor documents (a hosted CI runner), the documents steps are
//! skipped, saying so; the spec, regen and test steps still run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use xtask::gates::SkipPolicy;
use xtask::regen::{self, Options};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// This checkout's files as a fresh clone of them would hold them (tracked and
/// new files, uncommitted edits included; nothing git ignores).
fn copy_checkout(from: &Path, to: &Path) {
    let out = Command::new("git")
        .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        .current_dir(from)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git ls-files: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for rel in out.stdout.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let rel = Path::new(std::str::from_utf8(rel).unwrap());
        let src = from.join(rel);
        if !src.is_file() {
            continue; // deleted in the working tree
        }
        let dst = to.join(rel);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(&src, &dst).unwrap();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        if e.path().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// Replace the one occurrence of `old` in the file at `path`.
fn edit(path: &Path, old: &str, new: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert_eq!(text.matches(old).count(), 1, "{}: `{old}` once", path.display());
    std::fs::write(path, text.replacen(old, new, 1)).unwrap();
}

/// The new operation, as a maintainer adds it to specs/snappy/wall.yaml (step 3).
const NEW_OPERATION: &str = r#"  - id: archive_wall_post
    group: wall
    summary: Archive a team wall post.
    source: { doc: api, section: Archiving Wall Posts }
    method: POST
    path: /account/{account_id}/wall/{post_id}/archive
    params:
      - { name: account_id, in: path, type: integer, required: true, description: "Numeric id of the account." }
      - { name: post_id, in: path, type: integer, required: true, description: "Numeric id of the wall post." }
    notes:
      - The request has no body and no answer is shown; the response is declared empty.
    responses:
      - { status: 200, content: empty, description: "The post is archived." }

"#;

/// `cargo test --offline ARGS` in the scratch, into this workspace's target
/// dir (its dependencies are built already); (success, stdout + stderr).
/// It prints the crates it compiled: the scratch's own, when the workspace's
/// dependencies were built by the test command.
fn cargo_test(scratch: &Path, args: &[&str]) -> (bool, String) {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().to_path_buf();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .arg("test")
        .args(["--offline", "--locked", "--no-fail-fast"])
        .args(args)
        .env("CARGO_TARGET_DIR", &target)
        .env("RUST_BACKTRACE", "0")
        .env_remove("RUSTFLAGS")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CLIPPY_ARGS")
        .current_dir(scratch)
        .output()
        .expect("cargo runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let compiled: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Compiling "))
        .collect();
    eprintln!(
        "doc-change: cargo test compiled {} crate(s): {}",
        compiled.len(),
        compiled.join(", ")
    );
    (
        out.status.success(),
        format!("{}{stderr}", String::from_utf8_lossy(&out.stdout)),
    )
}

/// The test the guard's message offers for `heading`'s operation: from the
/// line after "// under `// heading`:" to the function's closing brace.
fn offered_test<'a>(message: &'a str, heading: &str) -> &'a str {
    let marker = format!("// under `// {heading}`:\n");
    let start = message
        .find(&marker)
        .unwrap_or_else(|| panic!("the guard's message offers no test under `// {heading}`:\n{message}"))
        + marker.len();
    let len = message[start..].find("\n}\n").expect("the offered test ends") + 3;
    &message[start..start + len]
}

/// The guard, its self-test, the new operation's hand-written test (once
/// pasted) and its generated wire test. `--workspace`, as the test command
/// builds: features unify over the packages a command selects, so `-p` would
/// build reqwest and its dependents again with other features.
const TESTS: [&str; 9] = [
    "--workspace",
    "--test",
    "besnappy",
    "--test",
    "wire",
    "--",
    "every_operation",
    "coverage_guard",
    "archive_wall_post",
];

#[test]
fn the_readme_doc_change_steps_leave_the_guard_and_the_wire_test_green() {
    let started = Instant::now();
    let root = workspace();
    // The steps this test follows are the ones the README tells.
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let steps = &readme[readme
        .find("## When a vendor changes its documentation")
        .expect("the README section")..];
    let steps = &steps[..steps[3..].find("\n## ").map_or(steps.len(), |e| e + 3)];
    let steps = steps.split_whitespace().collect::<Vec<_>>().join(" ");
    for step in [
        "--docs DIR",
        "cargo xtask sources",
        "add operations for the new endpoints",
        "`cargo xtask regen`",
        "tests/besnappy.rs",
        "cargo test -p integration-tests --test besnappy every_operation",
        "cargo xtask sources --accept",
    ] {
        assert!(
            steps.contains(step),
            "the README's doc-change steps no longer say `{step}`; update this test with them"
        );
    }

    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("doc-change");
    let _ = std::fs::remove_dir_all(&scratch);
    let repo = scratch.join("repo");
    copy_checkout(&root, &repo);

    // Step 1: the new edition in a copy of the documents folder, passed as --docs.
    let accepted = regen::default_docs(&root);
    let docs = accepted.as_ref().map(|accepted| {
        let docs = scratch.join("docs");
        copy_dir(accepted, &docs);
        let api = docs.join("snappy-api-v1.txt");
        edit(
            &api,
            "- Unliking Wall Posts\n",
            "- Unliking Wall Posts\n- Archiving Wall Posts\n",
        );
        let mut text = std::fs::read_to_string(&api).unwrap();
        text.push_str("\n/account/{id}/wall/{post_id}/archive\nPOST Archive a given wall post.\n");
        std::fs::write(&api, text).unwrap();
        docs
    });
    // Step 2: `cargo xtask sources --docs DIR` reports the drift (exit 1).
    let sources = |accept| {
        xtask::sources::command(&xtask::sources::Command {
            root: &repo,
            docs: docs.as_deref().unwrap(),
            accepted_docs: accepted.as_deref(),
            vendor: None,
            accept,
        })
    };
    match &docs {
        Some(_) => assert_eq!(sources(false), 1, "the new endpoint is drift"),
        None => eprintln!("note: shared/vendor-docs not found beside the checkout; the documents steps (sources, --accept, the citation and lock checks) are skipped"),
    }
    // Step 3: the operation in the spec.
    edit(
        &repo.join("specs/snappy/wall.yaml"),
        "\nmodels:\n",
        &format!("\n{NEW_OPERATION}models:\n"),
    );
    // Step 4: `cargo xtask regen` (which checks the citation against the new edition).
    if let Err(e) = regen::run(&Options::workspace(&repo, docs.clone())) {
        panic!("regen in the scratch: {e:?}");
    }
    let wire = std::fs::read_to_string(repo.join("crates/besnappy/tests/wire.rs")).unwrap();
    assert!(
        wire.contains("async fn archive_wall_post()"),
        "the generated wire test covers the new operation"
    );

    // Step 5: the guard is one failure, naming the file and offering a test.
    // (The wire test is built and run here too, so the second build only
    // recompiles tests/besnappy.rs.)
    let (ok, out) = cargo_test(&repo, &TESTS);
    assert!(!ok, "the guard passes an operation without a hand-written test:\n{out}");
    assert!(
        out.contains("test result: FAILED. 1 passed; 1 failed"),
        "one missing test is one failure (the guard's self-test passes):\n{out}"
    );
    assert!(
        out.contains("test result: ok. 1 passed"),
        "the generated wire test of the new operation passes:\n{out}"
    );
    eprintln!(
        "doc-change: first build and run {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        out.contains(
            "tests/besnappy.rs has no hand-written test for 1 operation(s) of specs/snappy: `archive_wall_post`"
        ),
        "{out}"
    );
    let offered = offered_test(&out, "wall").to_owned();
    let besnappy = repo.join("tests/besnappy.rs");
    let heading = "// wall\n// ---------------------------------------------------------------------------\n";
    edit(&besnappy, heading, &format!("{heading}\n{offered}"));

    // Step 7: `cargo xtask sources --accept`, then `cargo xtask regen --check` passes.
    if docs.is_some() {
        assert_eq!(sources(true), 0, "--accept rewrites the lock");
        let strict = SkipPolicy::new(Some("true"), Vec::new());
        let gate = xtask::gates::sources(&repo, docs.as_deref(), None, true, &strict);
        assert!(
            !gate.failed,
            "the documents match the lock after --accept: {:?}",
            gate.errors
        );
    }
    if let Err(e) = regen::run(&Options {
        check: true,
        ..Options::workspace(&repo, docs.clone())
    }) {
        panic!("regen --check in the scratch: {e:?}");
    }

    // The test command's steps the doc change can break: the guard, its
    // self-test, the pasted test and the generated wire test, compiled and run.
    let (ok, out) = cargo_test(&repo, &TESTS);
    assert!(ok, "after the README's steps:\n{out}");
    assert!(
        out.contains("test result: ok. 3 passed") && out.contains("test result: ok. 1 passed"),
        "the guard, its self-test, the pasted test and the wire test ran:\n{out}"
    );
    let _ = std::fs::remove_dir_all(&scratch);
    eprintln!(
        "doc-change steps on a scratch copy: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
