//! The regen cache (`target/regen-cache`): it skips the emit and format of a
//! vendor whose spec files and generator are unchanged, and it can never hide
//! a change: hand edits, deleted files, spec edits, a different generator and
//! a damaged record all end with exactly what a run without the cache writes,
//! and `--check` never reads it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use xtask::regen::{self, Failure, Options, SpecRoot, CACHE_DIR};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A scratch workspace with one vendor (SnapEngage) and one generator fixture.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xtask-cache-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (from, to) in [
        ("specs/snapengage", "specs/snapengage"),
        ("xtask/tests/fixtures/auth", "fixtures/auth"),
    ] {
        std::fs::create_dir_all(dir.join(to)).unwrap();
        for e in std::fs::read_dir(root().join(from)).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), dir.join(to).join(e.file_name())).unwrap();
        }
    }
    dir
}

fn opts(dir: &Path, check: bool) -> Options<'_> {
    Options {
        root: dir,
        spec_roots: vec![
            SpecRoot {
                specs: "specs".into(),
                crates: "crates".into(),
                check_sources: false,
            },
            SpecRoot {
                specs: "fixtures".into(),
                crates: "out".into(),
                check_sources: false,
            },
        ],
        docs: None,
        vendor: None,
        check,
    }
}

fn run(dir: &Path) -> (xtask::write::Report, regen::Timings) {
    regen::run(&opts(dir, false)).unwrap_or_else(|e| panic!("{e:?}"))
}

/// What the generator produces for the scratch tree, computed without any cache.
fn expected(dir: &Path) -> BTreeMap<PathBuf, String> {
    let apis = regen::load(&opts(dir, false)).unwrap_or_else(|e| panic!("{e:?}"));
    regen::generate(&apis, &mut Default::default()).unwrap()
}

/// Every generated file on disk equals the uncached output.
fn assert_tree_is(dir: &Path, want: &BTreeMap<PathBuf, String>) {
    for (rel, text) in want {
        let on_disk = std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{}: {e}", rel.display()));
        assert!(
            on_disk == *text,
            "{} differs from the generator's output",
            rel.display()
        );
    }
}

fn record(dir: &Path, crate_dir: &str) -> PathBuf {
    dir.join(CACHE_DIR).join(format!("{crate_dir}.unit"))
}

#[test]
fn an_unchanged_vendor_is_taken_from_the_cache() {
    let dir = scratch("hit");
    let (first, t) = run(&dir);
    assert_eq!((t.units, t.cached), (2, 0));
    assert!(first.written.len() >= 14, "{:?}", first.written);
    assert!(record(&dir, "crates/snapengage").is_file() && record(&dir, "out/fixture-auth").is_file());
    let (again, t) = run(&dir);
    assert_eq!(
        (t.units, t.cached),
        (2, 2),
        "nothing changed: both vendors come from the cache"
    );
    assert!(again.written.is_empty() && again.removed.is_empty());
    assert_eq!(again.unchanged, first.written.len());
    assert_tree_is(&dir, &expected(&dir));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_hand_edit_or_a_deleted_file_is_restored_on_a_cache_hit() {
    let dir = scratch("edit");
    run(&dir);
    let lib = dir.join("crates/snapengage/src/lib.rs");
    let before = std::fs::read(&lib).unwrap();
    // A hand edit keeps the @generated header (a file without it is refused, not restored).
    let mut text = std::fs::read_to_string(&lib).unwrap();
    text.push_str("// edited by hand\n");
    std::fs::write(&lib, text).unwrap();
    std::fs::remove_file(dir.join("out/fixture-auth/openapi.json")).unwrap();
    let (r, t) = run(&dir);
    assert_eq!(t.cached, 2, "the specs did not change");
    let mut written = r.written.clone();
    written.sort();
    assert_eq!(
        written,
        [
            PathBuf::from("crates/snapengage/src/lib.rs"),
            PathBuf::from("out/fixture-auth/openapi.json")
        ]
    );
    assert_eq!(std::fs::read(&lib).unwrap(), before);
    assert_tree_is(&dir, &expected(&dir));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_spec_edit_regenerates_that_vendor_and_reverting_it_restores_the_output() {
    let dir = scratch("spec");
    run(&dir);
    let original = expected(&dir);
    let chat = dir.join("specs/snapengage/chat.yaml");
    let spec = std::fs::read_to_string(&chat).unwrap();
    let edited = spec.replace(
        "summary: Start a new chat session on a widget.",
        "summary: Open a chat.",
    );
    assert_ne!(edited, spec);
    std::fs::write(&chat, &edited).unwrap();
    let (r, t) = run(&dir);
    assert_eq!(t.cached, 1, "only the fixture is unchanged");
    assert!(
        r.written
            .iter()
            .any(|p| p.ends_with("src/operations.rs") || p.ends_with("src/lib.rs")),
        "{:?}",
        r.written
    );
    let now = expected(&dir);
    assert_ne!(now, original);
    assert_tree_is(&dir, &now);
    // Back to the old spec: the record now holds the edited output, so it must not be used.
    std::fs::write(&chat, &spec).unwrap();
    let (_, t) = run(&dir);
    assert_eq!(t.cached, 1);
    assert_tree_is(&dir, &original);
    // A new file in the spec folder is an input too.
    std::fs::write(dir.join("specs/snapengage/notes.txt"), "not yaml\n").unwrap();
    let (_, t) = run(&dir);
    assert_eq!(t.cached, 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn another_generator_or_a_damaged_record_is_not_used() {
    let dir = scratch("damaged");
    run(&dir);
    let want = expected(&dir);
    let rec = record(&dir, "crates/snapengage");
    let bytes = std::fs::read(&rec).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    // The generator is this executable as built: path, size and modification time.
    let id = regen::generator_id().expect("the running executable is known");
    let exe = std::env::current_exe().unwrap();
    let mtime = std::fs::metadata(&exe)
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    assert!(
        id.contains(&exe.display().to_string())
            && id.contains(&format!("{}.{:09}", mtime.as_secs(), mtime.subsec_nanos())),
        "{id}"
    );
    assert!(
        text.contains(&format!("\ngenerator {id}\n")),
        "the record names the generator"
    );

    // Written by another build of the generator.
    std::fs::write(&rec, text.replacen("\ngenerator xtask ", "\ngenerator xtask-older ", 1)).unwrap();
    let (r, t) = run(&dir);
    assert_eq!(t.cached, 1);
    assert!(r.written.is_empty());
    assert_eq!(
        std::fs::read(&rec).unwrap(),
        bytes,
        "the record is rewritten by this generator"
    );

    // Cut short, or with an output whose length does not match.
    std::fs::write(&rec, &bytes[..bytes.len() - 10]).unwrap();
    assert_eq!(run(&dir).1.cached, 1);
    let lied = text.replacen("\nout ", "\nout 1", 1);
    std::fs::write(&rec, lied).unwrap();
    assert_eq!(run(&dir).1.cached, 1);
    assert_tree_is(&dir, &want);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_mode_never_reads_or_writes_the_cache() {
    let dir = scratch("check");
    run(&dir);
    // A poisoned record claiming a hand-edited file is the generator's output.
    let lib = dir.join("crates/snapengage/src/lib.rs");
    let good = std::fs::read_to_string(&lib).unwrap();
    let bad = good.replacen("pub struct Client", "pub struct Klient", 1);
    assert_ne!(good, bad);
    std::fs::write(&lib, &bad).unwrap();
    let rec = record(&dir, "crates/snapengage");
    let text = std::fs::read_to_string(&rec).unwrap();
    let poisoned = text.replacen(&good, &bad, 1);
    assert_ne!(poisoned, text);
    std::fs::write(&rec, poisoned).unwrap();
    let Err(Failure::Stale(r)) = regen::run(&opts(&dir, true)) else {
        panic!("--check must compare against a fresh generation")
    };
    assert_eq!(r.stale.len(), 1, "{:?}", r.stale);
    assert!(r.stale[0].0.ends_with("crates/snapengage/src/lib.rs"));

    // And it leaves no record behind.
    std::fs::remove_dir_all(dir.join(CACHE_DIR)).unwrap();
    std::fs::write(&lib, &good).unwrap();
    let (_, t) = regen::run(&opts(&dir, true)).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(t.cached, 0);
    assert!(!dir.join(CACHE_DIR).exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn parallel_generation_matches_one_vendor_at_a_time() {
    let root = root();
    let opts = Options::workspace(&root, None);
    let apis = regen::load(&opts).unwrap_or_else(|e| panic!("{e:?}"));
    let all = regen::generate(&apis, &mut Default::default()).unwrap();
    let mut one_by_one = BTreeMap::new();
    for api in &apis {
        one_by_one.extend(regen::generate(std::slice::from_ref(api), &mut Default::default()).unwrap());
    }
    assert_eq!(all, one_by_one);
}
