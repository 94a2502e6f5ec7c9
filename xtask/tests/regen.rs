//! The generator end to end: freshness of the committed output, API-surface
//! and fixture snapshots, determinism, and check mode on a scratch tree.

use std::path::{Path, PathBuf};

use xtask::emit;
use xtask::regen::{self, Failure, Options, SpecRoot};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn docs(root: &Path) -> Option<PathBuf> {
    Some(root.join("../shared/vendor-docs")).filter(|p| p.is_dir())
}

/// The same check as `cargo xtask regen --check`, so the test command catches stale code.
#[test]
fn generated_files_are_fresh() {
    let root = root();
    let opts = Options {
        check: true,
        ..Options::workspace(&root, docs(&root))
    };
    match regen::run(&opts) {
        Ok(_) => {}
        Err(Failure::Stale(report)) => panic!("{}", report.stale_message()),
        Err(Failure::Spec(diags)) => panic!("{}", diags.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n")),
        Err(Failure::Other(e)) => panic!("{e}"),
    }
}

#[test]
fn api_surface_per_vendor() {
    let root = root();
    let opts = Options::workspace(&root, None);
    let apis = regen::load(&opts).unwrap_or_else(|e| panic!("{e:?}"));
    let vendors: Vec<_> = apis
        .iter()
        .filter(|a| a.vendor.crate_dir.starts_with("crates/"))
        .collect();
    assert!(!vendors.is_empty());
    for api in vendors {
        insta::assert_snapshot!(format!("surface_{}", api.vendor.name), emit::surface(api));
    }
}

#[test]
fn fixture_output_per_feature() {
    let root = root();
    let opts = Options::workspace(&root, None);
    let apis = regen::load(&opts).unwrap_or_else(|e| panic!("{e:?}"));
    let mut timings = regen::Timings::default();
    let files = regen::generate(&apis, &mut timings).unwrap();
    let mut seen = 0;
    for api in apis
        .iter()
        .filter(|a| a.vendor.crate_dir.starts_with("tests/fixtures/"))
    {
        seen += 1;
        let dir = &api.vendor.crate_dir;
        let rust: String = ["src/lib.rs", "src/models.rs", "src/operations.rs"]
            .iter()
            .map(|f| format!("==> {f}\n{}", files[&PathBuf::from(format!("{dir}/{f}"))]))
            .collect();
        insta::assert_snapshot!(format!("fixture_{}_rust", api.vendor.name), rust);
        insta::assert_snapshot!(
            format!("fixture_{}_openapi", api.vendor.name),
            files[&PathBuf::from(format!("{dir}/openapi.json"))]
        );
    }
    // One fixture per spec folder under xtask/tests/fixtures, each with its snapshots (insta fails on a missing one).
    let folders = std::fs::read_dir(root.join("xtask/tests/fixtures"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .count();
    assert!(
        folders > 0 && seen == folders,
        "{seen} fixture crates generated from {folders} fixture spec folders"
    );
}

#[test]
fn output_is_deterministic() {
    let root = root();
    let opts = Options::workspace(&root, None);
    let a = regen::generate(
        &regen::load(&opts).unwrap_or_else(|e| panic!("{e:?}")),
        &mut Default::default(),
    )
    .unwrap();
    let b = regen::generate(
        &regen::load(&opts).unwrap_or_else(|e| panic!("{e:?}")),
        &mut Default::default(),
    )
    .unwrap();
    assert_eq!(a, b);
    for (path, text) in &a {
        assert!(
            text.contains(xtask::write::MARKER),
            "{} has no @generated header",
            path.display()
        );
    }
}

/// A scratch workspace holding one vendor spec, for check-mode and no-write tests.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xtask-scratch-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let spec = dir.join("specs/snapengage");
    std::fs::create_dir_all(&spec).unwrap();
    for f in ["vendor.yaml", "chat.yaml"] {
        std::fs::copy(root().join("specs/snapengage").join(f), spec.join(f)).unwrap();
    }
    dir
}

fn opts(dir: &Path, check: bool) -> Options<'_> {
    Options {
        root: dir,
        spec_roots: vec![SpecRoot {
            specs: "specs".into(),
            crates: "crates".into(),
            check_sources: false,
        }],
        docs: None,
        vendor: None,
        check,
    }
}

#[test]
fn check_mode_catches_hand_edits_stale_specs_and_orphans() {
    let dir = scratch("check");
    let (report, _) = regen::run(&opts(&dir, false)).unwrap();
    assert!(report.written.len() >= 7);
    // A second run writes nothing.
    let (again, _) = regen::run(&opts(&dir, false)).unwrap();
    assert!(again.written.is_empty() && again.removed.is_empty());
    regen::run(&opts(&dir, true)).unwrap();

    // A hand edit to a generated file.
    let models = dir.join("crates/snapengage/src/models.rs");
    let text = std::fs::read_to_string(&models).unwrap();
    std::fs::write(&models, text.replace("pub struct ChatStarted", "pub struct ChatBegun")).unwrap();
    let Err(Failure::Stale(r)) = regen::run(&opts(&dir, true)) else {
        panic!("a hand edit must fail --check")
    };
    assert_eq!(r.stale.len(), 1);
    assert!(
        r.stale_message().contains("crates/snapengage/src/models.rs")
            && r.stale_message().contains("cargo xtask regen")
    );
    regen::run(&opts(&dir, false)).unwrap();

    // A spec edited without a regen.
    let chat = dir.join("specs/snapengage/chat.yaml");
    let spec = std::fs::read_to_string(&chat).unwrap();
    std::fs::write(
        &chat,
        spec.replace(
            "summary: Start a new chat session on a widget.",
            "summary: Open a chat.",
        ),
    )
    .unwrap();
    let Err(Failure::Stale(r)) = regen::run(&opts(&dir, true)) else {
        panic!("a spec edit must fail --check")
    };
    assert!(r.stale.iter().any(|(p, _)| p.ends_with("src/lib.rs")), "{:?}", r.stale);

    // A generated file no spec produces any more is removed.
    let orphan = dir.join("crates/snapengage/src/old.rs");
    std::fs::write(&orphan, format!("// {} from specs/x/.\n", xtask::write::MARKER)).unwrap();
    let Err(Failure::Stale(r)) = regen::run(&opts(&dir, true)) else {
        panic!("an orphan must fail --check")
    };
    assert!(r.stale.iter().any(|(p, _)| p.ends_with("old.rs")));
    let (report, _) = regen::run(&opts(&dir, false)).unwrap();
    assert!(!orphan.exists() && report.removed.len() == 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_mode_catches_a_stale_api_surface_snapshot() {
    let dir = scratch("surface");
    regen::run(&opts(&dir, false)).unwrap();
    let snap = dir.join("xtask/tests/snapshots/regen__surface_snapengage.snap");
    let text = std::fs::read_to_string(&snap).unwrap();
    assert!(text.contains("client.chat().start(widget_id)"), "{text}");
    // A spec change that forgets the surface snapshot, shown here by the old snapshot left in place.
    std::fs::write(&snap, text.replace("chat().start(", "chat().begin(")).unwrap();
    let Err(Failure::Stale(r)) = regen::run(&opts(&dir, true)) else {
        panic!("a stale surface snapshot must fail --check")
    };
    assert_eq!(
        r.stale.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>(),
        [PathBuf::from("xtask/tests/snapshots/regen__surface_snapengage.snap")]
    );
    regen::run(&opts(&dir, false)).unwrap();
    assert_eq!(std::fs::read_to_string(&snap).unwrap(), text);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_surface_writes_nested_types_whole() {
    let root = root();
    let apis = regen::load(&Options::workspace(&root, None)).unwrap_or_else(|e| panic!("{e:?}"));
    let snappy = apis.iter().find(|a| a.vendor.name == "snappy").unwrap();
    let surface = emit::surface(snappy);
    assert!(surface.contains("=> list<Contact>\n"), "{surface}");
    for line in surface.lines() {
        let plain = line.replace("->", "").replace("=>", "");
        assert_eq!(
            plain.matches('<').count(),
            plain.matches('>').count(),
            "unbalanced type in {line}"
        );
    }
}

#[test]
fn an_operation_the_wire_test_cannot_call_is_a_failing_test() {
    let dir = std::env::temp_dir().join(format!("xtask-scratch-uncallable-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let spec = dir.join("specs/bodies");
    std::fs::create_dir_all(&spec).unwrap();
    std::fs::copy(
        root().join("xtask/tests/fixtures/bodies/vendor.yaml"),
        spec.join("vendor.yaml"),
    )
    .unwrap();
    let api = std::fs::read_to_string(root().join("xtask/tests/fixtures/bodies/api.yaml")).unwrap();
    let object_field = "{ name: owner, type: Owner, description: A nested object. }";
    assert!(api.contains(object_field));
    // A required object-typed body field: the wire test has no generic sample for it.
    std::fs::write(
        spec.join("api.yaml"),
        api.replace(
            object_field,
            "{ name: owner, type: Owner, required: true, description: A nested object. }",
        ),
    )
    .unwrap();
    let apis = regen::load(&opts(&dir, false)).unwrap_or_else(|e| panic!("{e:?}"));
    let files = regen::generate(&apis, &mut Default::default()).unwrap();
    let wire = &files[&PathBuf::from("crates/fixture-bodies/tests/wire.rs")];
    assert!(
        wire.contains("fn every_operation_has_a_wire_test()")
            && wire.contains("operations without a wire test")
            && wire.contains(": create_json\""),
        "{wire}"
    );
    // The committed fixture has no such gap, so no such test.
    let committed = std::fs::read_to_string(root().join("tests/fixtures/fixture-bodies/tests/wire.rs")).unwrap();
    assert!(!committed.contains("every_operation_has_a_wire_test"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_broken_spec_touches_no_file() {
    let dir = scratch("broken");
    regen::run(&opts(&dir, false)).unwrap();
    let lib = dir.join("crates/snapengage/src/lib.rs");
    let before = std::fs::read(&lib).unwrap();
    let mtime = std::fs::metadata(&lib).unwrap().modified().unwrap();
    let chat = dir.join("specs/snapengage/chat.yaml");
    let spec = std::fs::read_to_string(&chat).unwrap();
    // A real change plus an unknown key: the change must not be written either.
    let broken = spec.replace(
        "summary: Start a new chat session on a widget.",
        "summary: Changed.\n    colour: blue",
    );
    std::fs::write(&chat, broken).unwrap();
    let Err(Failure::Spec(diags)) = regen::run(&opts(&dir, false)) else {
        panic!("expected spec errors")
    };
    assert_eq!(diags.len(), 1);
    let d = diags[0].to_string();
    assert!(
        d.starts_with("specs/snapengage/chat.yaml:") && d.contains("unknown field `colour`"),
        "{d}"
    );
    let line: usize = d.split(':').nth(1).unwrap().parse().unwrap();
    assert_eq!(
        std::fs::read_to_string(&chat)
            .unwrap()
            .lines()
            .nth(line - 1)
            .unwrap()
            .trim(),
        "colour: blue"
    );
    assert_eq!(std::fs::read(&lib).unwrap(), before);
    assert_eq!(std::fs::metadata(&lib).unwrap().modified().unwrap(), mtime);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unknown_vendor_lists_the_known_ones() {
    let root = root();
    let opts = Options {
        vendor: Some("nope"),
        ..Options::workspace(&root, None)
    };
    let Err(Failure::Other(e)) = regen::load(&opts) else {
        panic!("expected an error")
    };
    assert!(e.contains("unknown vendor `nope`") && e.contains("snapengage"), "{e}");
}

/// What an application compiles follows from the spec: the runtime's
/// `multipart` feature (and the `FilePart` re-export) only for a crate with a
/// multipart operation, and the `rate-limit` feature on by default only for a
/// vendor that documents a limit. Each case occurs among the specs, so no
/// branch of this check goes unexercised.
#[test]
fn runtime_features_follow_the_spec() {
    let root = root();
    let apis = regen::load(&Options::workspace(&root, None)).unwrap_or_else(|e| panic!("{e:?}"));
    let files = regen::generate(&apis, &mut regen::Timings::default()).unwrap();
    let mut seen = [[false; 2]; 2];
    for api in &apis {
        let dir = &api.vendor.crate_dir;
        let manifest = &files[&PathBuf::from(format!("{dir}/Cargo.toml"))];
        let lib = &files[&PathBuf::from(format!("{dir}/src/lib.rs"))];
        let multipart = api.operations.iter().any(|o| {
            o.body
                .as_ref()
                .is_some_and(|b| b.encoding == xtask::ir::BodyEncoding::Multipart)
        });
        let limited = api.vendor.rate_limit.is_some();
        seen[0][multipart as usize] = true;
        seen[1][limited as usize] = true;
        let runtime = manifest
            .lines()
            .find(|l| l.starts_with("snapsdk-runtime = "))
            .unwrap_or_else(|| panic!("{dir}: no runtime dependency"));
        assert_eq!(
            runtime.contains(r#"features = ["multipart"]"#),
            multipart,
            "{dir}: {runtime}"
        );
        assert_eq!(
            lib.contains("pub use snapsdk_runtime::FilePart;"),
            multipart,
            "{dir}: FilePart re-export"
        );
        let default = manifest
            .lines()
            .find(|l| l.starts_with("default = "))
            .unwrap_or_else(|| panic!("{dir}: no default features"));
        assert_eq!(default == r#"default = ["rate-limit"]"#, limited, "{dir}: {default}");
        assert!(
            manifest.contains("\nrate-limit = [\"snapsdk-runtime/rate-limit\"]\n"),
            "{dir}: no rate-limit feature"
        );
        let lines: Vec<&str> = lib.lines().collect();
        let method = lines
            .iter()
            .position(|l| l.trim_start().starts_with("pub fn rate_limit("))
            .unwrap_or_else(|| panic!("{dir}: no rate_limit()"));
        assert!(
            lines[method.saturating_sub(3)..method]
                .iter()
                .any(|l| l.trim() == "#[cfg(feature = \"rate-limit\")]"),
            "{dir}: rate_limit() not gated by the feature"
        );
    }
    assert_eq!(
        seen, [[true; 2]; 2],
        "the specs no longer cover every case (multipart or not, limited or not)"
    );
}
