//! The promises of the command line around regen: which documents a command
//! reads (`--docs`, `SNAPSDK_DOCS`, the default), what a skipped check means
//! in CI, where the regen cache lives, what a run owns (a removed vendor's
//! files, `--vendor`), and that `--check` writes nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

use xtask::gates::{self, Skip, SkipPolicy};
use xtask::regen::{self, Failure, Options, SpecRoot};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xtask-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        if e.path().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// A scratch tree with SnapEngage and the `auth` fixture as two vendors of `specs/`.
fn two_vendors(name: &str) -> PathBuf {
    let dir = scratch(name);
    copy_dir(&root().join("specs/snapengage"), &dir.join("specs/snapengage"));
    copy_dir(&root().join("xtask/tests/fixtures/auth"), &dir.join("specs/auth"));
    dir
}

fn opts<'a>(dir: &'a Path, vendor: Option<&'a str>, check: bool) -> Options<'a> {
    Options {
        root: dir,
        spec_roots: vec![SpecRoot {
            specs: "specs".into(),
            crates: "crates".into(),
            check_sources: false,
        }],
        docs: None,
        vendor,
        check,
    }
}

/// The xtask binary, run in this workspace with a clean environment for the settings under test.
fn xtask(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.args(args)
        .current_dir(root())
        .env_remove(regen::DOCS_ENV)
        .env_remove("CI");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_documents_folder_that_cannot_be_read_stops_every_command_that_reads_documents() {
    let missing = "/nonexistent/snapsdk-docs-flag";
    for args in [
        &["regen", "--docs", missing][..],
        &["regen", "--check", "--docs", missing],
        &["diff", "--docs", missing, "HEAD"],
        &["sources", "--docs", missing],
    ] {
        let (code, err) = xtask(args, &[]);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains(&format!("--docs {missing}: not a readable folder of vendor documents")),
            "{args:?}: {err}"
        );
    }
    // The variable sets it for every command, named in the error as the variable.
    let from_env = "/nonexistent/snapsdk-docs-env";
    for args in [&["regen"][..], &["regen", "--check"], &["diff", "HEAD"], &["sources"]] {
        let (code, err) = xtask(args, &[(regen::DOCS_ENV, from_env)]);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains(&format!("SNAPSDK_DOCS {from_env}: not a readable folder")),
            "{args:?}: {err}"
        );
    }
    // The flag wins over the variable: only the flag's folder is named.
    let (code, err) = xtask(&["regen", "--check", "--docs", missing], &[(regen::DOCS_ENV, from_env)]);
    assert_eq!(code, 2);
    assert!(err.contains(missing) && !err.contains(from_env), "{err}");
}

#[test]
fn docs_precedence_is_flag_then_variable_then_default() {
    let root = root();
    let (flag, env) = (scratch("docs-flag"), scratch("docs-env"));
    let pick =
        |f: Option<&Path>, e: Option<&Path>| regen::docs_folder(&root, f, e.map(|p| p.as_os_str().to_owned())).unwrap();
    assert_eq!(pick(Some(&flag), Some(&env)), Some(flag.clone()));
    assert_eq!(pick(None, Some(&env)), Some(env.clone()));
    assert_eq!(pick(None, None), regen::default_docs(&root));
    // An empty variable is unset.
    assert_eq!(
        regen::docs_folder(&root, None, Some("".into())).unwrap(),
        regen::default_docs(&root)
    );
    let e = regen::docs_folder(&root, None, Some(flag.join("gone").into_os_string())).unwrap_err();
    assert_eq!((e.from, e.path.clone()), ("SNAPSDK_DOCS", flag.join("gone")));
}

#[test]
fn allow_skip_is_checked_and_only_taken_with_check() {
    let (code, err) = xtask(&["regen", "--check", "--allow-skip", "sources,bogus"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown check `bogus`"), "{err}");
    let (code, err) = xtask(&["regen", "--allow-skip", "semver"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("--allow-skip only applies with --check"), "{err}");
    assert_eq!(
        Skip::parse_list("sources, semver"),
        Ok(vec![Skip::Sources, Skip::Semver])
    );
}

#[test]
fn ci_is_read_from_the_variable() {
    for (v, ci) in [
        (Some("true"), true),
        (Some("1"), true),
        (Some("yes"), true),
        (Some("false"), false),
        (Some("0"), false),
        (Some(""), false),
        (None, false),
    ] {
        assert_eq!(SkipPolicy::new(v, Vec::new()).ci, ci, "CI={v:?}");
    }
}

fn lines(o: &gates::Outcome) -> Vec<&String> {
    o.notes.iter().chain(&o.errors).collect()
}

#[test]
fn a_skipped_source_check_fails_in_ci_unless_allowed_and_is_a_single_note_outside() {
    let dir = scratch("skip-sources");
    let local = SkipPolicy::new(None, Vec::new());
    let o = gates::sources(&dir, None, None, true, &local);
    assert!(!o.failed && o.errors.is_empty());
    assert_eq!(lines(&o).len(), 1, "printed once: {o:?}");
    assert!(
        o.notes[0].starts_with("note: ") && o.notes[0].contains("not checked"),
        "{o:?}"
    );

    let ci = SkipPolicy::new(Some("true"), Vec::new());
    let o = gates::sources(&dir, None, None, true, &ci);
    assert!(o.failed, "{o:?}");
    assert_eq!(lines(&o).len(), 1, "{o:?}");
    assert!(
        o.errors[0].contains("--allow-skip sources"),
        "the error names the switch: {o:?}"
    );

    let allowed = SkipPolicy::new(Some("true"), vec![Skip::Sources]);
    let o = gates::sources(&dir, None, None, true, &allowed);
    assert!(
        !o.failed && o.notes[0].contains("allowed by --allow-skip sources"),
        "{o:?}"
    );
    // A plain regen (no --check) only notes it, in CI too.
    assert!(!gates::sources(&dir, None, None, false, &ci).failed);
}

#[test]
fn a_skipped_semver_gate_fails_in_ci_unless_allowed_and_is_said_once_outside() {
    // Not a git repository: no release tags, so every crate is skipped.
    let dir = two_vendors("skip-semver");
    let local = gates::semver(&dir, None, &SkipPolicy::new(None, Vec::new()));
    assert!(!local.failed, "{local:?}");
    let said = lines(&local)
        .into_iter()
        .filter(|l| l.contains("skipped") || l.contains("did not compare"))
        .count();
    assert_eq!(said, 1, "printed once: {local:?}");

    let ci = gates::semver(&dir, None, &SkipPolicy::new(Some("true"), Vec::new()));
    assert!(ci.failed, "{ci:?}");
    assert!(
        ci.errors
            .iter()
            .any(|e| e.contains("--allow-skip semver") && e.contains("snapengage")),
        "{ci:?}"
    );

    let allowed = gates::semver(
        &dir,
        None,
        &SkipPolicy::new(Some("true"), vec![Skip::Semver, Skip::Sources]),
    );
    assert!(
        !allowed.failed
            && allowed
                .notes
                .iter()
                .any(|n| n.contains("allowed by --allow-skip semver")),
        "{allowed:?}"
    );
}

#[test]
fn the_regen_cache_lives_in_the_cargo_target_dir_in_use() {
    // A folder that is no cargo workspace keeps it in its own target/.
    let bare = two_vendors("cache-bare");
    assert_eq!(regen::cache_dir(&bare), bare.join(regen::CACHE_DIR));
    // A workspace whose target dir is moved by its cargo config (or by CARGO_TARGET_DIR, which wins).
    let ws = two_vendors("cache-ws");
    std::fs::write(ws.join("Cargo.toml"), "[workspace]\nmembers = []\n").unwrap();
    std::fs::create_dir_all(ws.join(".cargo")).unwrap();
    std::fs::write(ws.join(".cargo/config.toml"), "[build]\ntarget-dir = \"elsewhere\"\n").unwrap();
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => ws.join(d),
        None => ws.join("elsewhere"),
    };
    assert_eq!(regen::cache_dir(&ws), target.join("regen-cache"));
    let (report, t) = regen::run(&opts(&ws, None, false)).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(report.cache_dir.as_deref(), Some(target.join("regen-cache").as_path()));
    assert!(target.join("regen-cache/crates/snapengage.unit").is_file());
    assert!(!ws.join("target").exists(), "nothing is written under <root>/target");
    assert_eq!(t.cached, 0);
    let (_, t) = regen::run(&opts(&ws, None, false)).unwrap();
    assert_eq!(t.cached, 2, "the second run reads the moved cache");
    let _ = std::fs::remove_dir_all(&ws);
    let _ = std::fs::remove_dir_all(&bare);
}

#[test]
fn a_removed_vendor_takes_its_surface_snapshot_with_it() {
    let dir = two_vendors("removed");
    regen::run(&opts(&dir, None, false)).unwrap();
    let snap = PathBuf::from("xtask/tests/snapshots/regen__surface_snapengage.snap");
    assert!(dir.join(&snap).is_file());
    // Files beside it that regen does not own: another test's snapshot (even one quoting the marker) stays.
    let foreign = dir.join("xtask/tests/snapshots/regen__fixture_x.snap");
    std::fs::write(&foreign, format!("---\n{}\n", xtask::write::MARKER)).unwrap();
    std::fs::remove_dir_all(dir.join("specs/snapengage")).unwrap();
    let Err(Failure::Stale(r)) = regen::run(&opts(&dir, None, true)) else {
        panic!("--check must report what the removed vendor leaves")
    };
    assert!(r.stale.iter().any(|(p, _)| *p == snap), "{:?}", r.stale);
    assert!(
        r.stale.iter().any(|(p, _)| p.starts_with("crates/snapengage")),
        "{:?}",
        r.stale
    );
    assert!(dir.join(&snap).is_file(), "--check removes nothing");
    let (report, _) = regen::run(&opts(&dir, None, false)).unwrap();
    assert!(report.removed.contains(&snap), "{:?}", report.removed);
    assert!(!dir.join(&snap).exists() && !dir.join("crates/snapengage").exists());
    assert!(foreign.is_file(), "a snapshot regen does not own stays");
    regen::run(&opts(&dir, None, true)).unwrap_or_else(|e| panic!("{e:?}"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn vendor_limits_a_run_to_that_vendors_outputs() {
    let dir = two_vendors("vendor");
    regen::run(&opts(&dir, None, false)).unwrap();
    let other = dir.join("crates/fixture-auth/README.md");
    let edited = format!("{}\nhand edit\n", std::fs::read_to_string(&other).unwrap());
    std::fs::write(&other, &edited).unwrap();
    let orphan = dir.join("crates/fixture-auth/src/old.rs");
    std::fs::write(&orphan, format!("// {}\n", xtask::write::MARKER)).unwrap();
    let mine = dir.join("crates/snapengage/README.md");
    std::fs::remove_file(&mine).unwrap();
    // Check mode names only the chosen vendor's files.
    let Err(Failure::Stale(r)) = regen::run(&opts(&dir, Some("snapengage"), true)) else {
        panic!("the deleted README must be reported")
    };
    assert!(
        r.stale.iter().all(|(p, _)| p.starts_with("crates/snapengage")),
        "{:?}",
        r.stale
    );
    let (report, _) = regen::run(&opts(&dir, Some("snapengage"), false)).unwrap();
    assert!(mine.is_file(), "the chosen vendor's file is restored");
    assert!(
        report
            .written
            .iter()
            .chain(&report.removed)
            .all(|p| p.starts_with("crates/snapengage")),
        "{report:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&other).unwrap(),
        edited,
        "another vendor's file is untouched"
    );
    assert!(orphan.is_file(), "another vendor's stale file is not removed");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_writes_nothing_and_names_the_hand_edited_file() {
    let dir = two_vendors("check");
    regen::run(&opts(&dir, None, false)).unwrap();
    let lib = dir.join("crates/snapengage/src/lib.rs");
    let edited = format!("{}\n// hand edit\n", std::fs::read_to_string(&lib).unwrap());
    std::fs::write(&lib, &edited).unwrap();
    let gone = dir.join("crates/fixture-auth/API.md");
    std::fs::remove_file(&gone).unwrap();
    let Err(Failure::Stale(r)) = regen::run(&opts(&dir, None, true)) else {
        panic!("--check must fail")
    };
    let message = r.stale_message();
    assert!(
        message.contains("crates/snapengage/src/lib.rs: differs")
            && message.contains("crates/fixture-auth/API.md: is missing"),
        "{message}"
    );
    assert_eq!(
        std::fs::read_to_string(&lib).unwrap(),
        edited,
        "the hand edit survives --check"
    );
    assert!(!gone.exists(), "--check does not restore a file");
    assert!(r.written.is_empty() && r.removed.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
