//! The generator's promises about the tree it writes into: it never replaces
//! or deletes a file it did not generate, it tidies the folders a renamed crate
//! leaves, and it acts only on the checkout it was built from.

use std::path::{Path, PathBuf};
use std::process::Command;

use xtask::regen::{self, Failure, Options, SpecRoot};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A scratch workspace holding a copy of the snapengage spec.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xtask-safety-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let spec = dir.join("specs/snapengage");
    std::fs::create_dir_all(&spec).unwrap();
    for f in ["vendor.yaml", "chat.yaml"] {
        std::fs::copy(root().join("specs/snapengage").join(f), spec.join(f)).unwrap();
    }
    dir
}

fn opts(dir: &Path) -> Options<'_> {
    Options {
        root: dir,
        spec_roots: vec![SpecRoot {
            specs: "specs".into(),
            crates: "crates".into(),
            check_sources: false,
        }],
        docs: None,
        vendor: None,
        check: false,
    }
}

/// Every file under `dir` with its bytes, to prove a failed run changed nothing.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn hand_written_files_at_generated_paths_are_never_replaced() {
    let dir = scratch("foreign");
    // A hand-written crate where the spec's crate would go (as the runtime is).
    let krate = dir.join("crates/snapengage");
    std::fs::create_dir_all(krate.join("src")).unwrap();
    std::fs::write(krate.join("Cargo.toml"), "[package]\nname = \"snapengage\"\n").unwrap();
    std::fs::write(krate.join("src/lib.rs"), "// hand-written\n").unwrap();
    std::fs::write(krate.join("LICENSE-MIT"), "hand-written license\n").unwrap();
    let before = snapshot(&dir);
    for check in [false, true] {
        let Err(Failure::Other(e)) = regen::run(&Options { check, ..opts(&dir) }) else {
            panic!("regen must refuse to replace hand-written files (check={check})")
        };
        assert!(e.contains("refusing to replace 3 file(s)"), "{e}");
        for f in [
            "crates/snapengage/Cargo.toml",
            "crates/snapengage/src/lib.rs",
            "crates/snapengage/LICENSE-MIT",
        ] {
            assert!(e.contains(f), "{f} not named in: {e}");
        }
        assert!(e.contains("crate.name"), "the hint names the fix: {e}");
        assert_eq!(snapshot(&dir), before, "a refused run must not touch any file");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_generated_license_copy_is_recognised_and_a_stripped_one_is_not() {
    let dir = scratch("license");
    regen::run(&opts(&dir)).unwrap();
    let lic = dir.join("crates/snapengage/LICENSE-MIT");
    let text = std::fs::read_to_string(&lic).unwrap();
    assert!(
        text.contains(xtask::write::MARKER),
        "generated license copies carry the marker"
    );
    // Regenerating over our own copy is fine...
    std::fs::write(&lic, "stale\n").unwrap();
    let Err(Failure::Other(e)) = regen::run(&opts(&dir)) else {
        panic!("a copy without the marker is someone else's file")
    };
    assert!(e.contains("crates/snapengage/LICENSE-MIT"), "{e}");
    std::fs::write(&lic, format!("{text}\nedited")).unwrap();
    let (report, _) = regen::run(&opts(&dir)).unwrap();
    assert_eq!(report.written, vec![PathBuf::from("crates/snapengage/LICENSE-MIT")]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_renamed_crate_leaves_no_folders_behind() {
    let dir = scratch("rename");
    regen::run(&opts(&dir)).unwrap();
    assert!(dir.join("crates/snapengage/src/lib.rs").is_file());
    let vendor = dir.join("specs/snapengage/vendor.yaml");
    let text = std::fs::read_to_string(&vendor).unwrap();
    assert!(text.contains("  crate:\n    name: snapengage\n"), "{text}");
    std::fs::write(
        &vendor,
        text.replace(
            "  crate:\n    name: snapengage\n",
            "  crate:\n    name: snapengage-client\n",
        ),
    )
    .unwrap();
    let (report, _) = regen::run(&opts(&dir)).unwrap();
    assert!(!report.removed.is_empty());
    assert!(dir.join("crates/snapengage-client/src/lib.rs").is_file());
    assert!(
        !dir.join("crates/snapengage").exists(),
        "the old crate folder must be gone: {:?}",
        std::fs::read_dir(dir.join("crates/snapengage")).map(|r| r.flatten().map(|e| e.path()).collect::<Vec<_>>())
    );
    // A hand-written file keeps its folder.
    regen::run(&opts(&dir)).unwrap();
    std::fs::write(dir.join("crates/snapengage-client/src/notes.txt"), "mine\n").unwrap();
    std::fs::write(
        &vendor,
        std::fs::read_to_string(&vendor)
            .unwrap()
            .replace("snapengage-client", "snapengage"),
    )
    .unwrap();
    regen::run(&opts(&dir)).unwrap();
    assert!(dir.join("crates/snapengage-client/src/notes.txt").is_file());
    assert!(!dir.join("crates/snapengage-client/tests").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_workspace_is_found_from_the_current_directory() {
    let root = root();
    assert_eq!(regen::find_workspace(&root.join("xtask/src"), &root).unwrap(), root);
    assert_eq!(
        regen::find_workspace(&root.join("crates/snapsdk-runtime"), &root).unwrap(),
        root
    );
    // Another checkout: a tree of its own, with its own workspace.
    let other = std::env::temp_dir().join(format!("xtask-other-checkout-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&other);
    std::fs::create_dir_all(other.join("crates/x")).unwrap();
    std::fs::write(
        other.join("Cargo.toml"),
        "[workspace]\nmembers = [\"xtask\", \"crates/*\"]\n",
    )
    .unwrap();
    std::fs::write(other.join("crates/x/Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
    let e = regen::find_workspace(&other.join("crates/x"), &root)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("built from") && e.contains(&other.display().to_string()) && e.contains("CARGO_TARGET_DIR"),
        "{e}"
    );
    // ... and a directory in no workspace at all.
    let lone = std::env::temp_dir().join(format!("xtask-no-workspace-{}", std::process::id()));
    std::fs::create_dir_all(&lone).unwrap();
    if !lone.ancestors().any(|d| d.join("Cargo.toml").is_file()) {
        let e = regen::find_workspace(&lone, &root).unwrap_err().to_string();
        assert!(e.contains("no workspace with an `xtask` member"), "{e}");
    }
    let _ = std::fs::remove_dir_all(&other);
    let _ = std::fs::remove_dir_all(&lone);
}

#[test]
fn the_binary_refuses_to_act_on_another_checkout() {
    let bin = env!("CARGO_BIN_EXE_xtask");
    let other = std::env::temp_dir().join(format!("xtask-bin-other-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&other);
    std::fs::create_dir_all(other.join("specs")).unwrap();
    std::fs::write(other.join("Cargo.toml"), "[workspace]\nmembers = [\"xtask\"]\n").unwrap();
    let out = Command::new(bin)
        .args(["regen"])
        .current_dir(other.join("specs"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("this xtask binary was built from") && err.contains("refusing to run"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(other.join("specs")).unwrap().count(),
        0,
        "nothing written"
    );
    assert!(!other.join("crates").exists());
    // In its own tree it runs (here it stops at the missing argument: exit 2, usage).
    let out = Command::new(bin)
        .args(["diff"])
        .current_dir(root().join("xtask/src"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("diff takes one git revision"), "{err}");
    let _ = std::fs::remove_dir_all(&other);
}

#[test]
fn a_crate_name_taken_in_the_workspace_is_a_spec_error_and_nothing_is_touched() {
    let dir = scratch("taken");
    std::fs::write(
        dir.join("Cargo.toml"),
        "[workspace]\nmembers = [\"xtask\", \"crates/*\"]\n",
    )
    .unwrap();
    // A hand-written member whose name is not on any fixed list: found at run time.
    let mine = dir.join("crates/acme-core");
    std::fs::create_dir_all(mine.join("src")).unwrap();
    std::fs::write(
        mine.join("Cargo.toml"),
        "[package]\nname = \"acme-core\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    std::fs::write(mine.join("src/lib.rs"), "// hand-written\n").unwrap();
    regen::run(&opts(&dir)).unwrap();
    let vendor = dir.join("specs/snapengage/vendor.yaml");
    let text = std::fs::read_to_string(&vendor).unwrap();
    for (name, expect) in [
        (
            "acme_core",
            "taken by the workspace package `acme-core` (crates/acme-core/Cargo.toml)",
        ),
        ("snapsdk-runtime", "taken by `snapsdk-runtime`"),
    ] {
        std::fs::write(
            &vendor,
            text.replace(
                "  crate:\n    name: snapengage\n",
                &format!("  crate:\n    name: {name}\n"),
            ),
        )
        .unwrap();
        let before = snapshot(&dir);
        let Err(Failure::Spec(diags)) = regen::run(&opts(&dir)) else {
            panic!("crate name `{name}` must be refused")
        };
        let d = diags.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n");
        assert_eq!(diags.len(), 1, "{d}");
        assert!(
            d.starts_with("specs/snapengage/vendor.yaml:6:11: crate name") && d.contains(expect),
            "{d}"
        );
        assert_eq!(snapshot(&dir), before, "a refused run must not touch any file");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn links_are_neither_followed_nor_removed() {
    let dir = scratch("links");
    regen::run(&opts(&dir)).unwrap();
    // Outside the tree: a folder of files that carry the marker, as another checkout's would.
    let outside = std::env::temp_dir().join(format!("xtask-safety-outside-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&outside);
    std::fs::create_dir_all(&outside).unwrap();
    let theirs = outside.join("lib.rs");
    std::fs::write(&theirs, format!("// {}\n", xtask::write::MARKER)).unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("crates/snapengage/linked")).unwrap();
    std::os::unix::fs::symlink(&theirs, dir.join("crates/snapengage/src/linked.rs")).unwrap();
    let (report, _) = regen::run(&opts(&dir)).unwrap();
    assert!(report.removed.is_empty(), "{:?}", report.removed);
    assert!(theirs.is_file() && dir.join("crates/snapengage/src/linked.rs").exists());
    // A link where a generated file goes is not written through.
    let lib = dir.join("crates/snapengage/src/lib.rs");
    std::fs::remove_file(&lib).unwrap();
    std::os::unix::fs::symlink(&theirs, &lib).unwrap();
    let Err(Failure::Other(e)) = regen::run(&opts(&dir)) else {
        panic!("a link at a generated path must be refused")
    };
    assert!(e.contains("crates/snapengage/src/lib.rs"), "{e}");
    assert_eq!(
        std::fs::read_to_string(&theirs).unwrap(),
        format!("// {}\n", xtask::write::MARKER)
    );
    let _ = std::fs::remove_dir_all(&outside);
    let _ = std::fs::remove_dir_all(&dir);
}
