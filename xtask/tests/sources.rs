//! `cargo xtask sources`: pairs of invented documents (old, new) in each of
//! the three heading conventions, the drift report between them, and the
//! command's exit codes and lock handling.
//!
//! Each case under `tests/sources/<format>/` holds a small vendor spec
//! (`specs/`), the edition the lock is written from (`old/`), an edition with
//! every kind of change (`new/`: a parameter row added and one removed, a
//! required flag flipped, a new endpoint, a removed endpoint, a renamed
//! heading, repeated headings) and an edition that only reflows text (`reflow/`).

use std::path::{Path, PathBuf};

use xtask::diag::Diags;
use xtask::ir;
use xtask::sources::{self, Docs, Lock};
use xtask::validate;

fn case_dir(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sources").join(case)
}

fn load(root: &Path) -> ir::Api {
    let mut diags = Diags::default();
    let mut apis = validate::check_all(&root.join("specs"), root, Some(&root.join("old")), None, &mut diags).unwrap();
    assert!(diags.is_empty(), "{:?}", diags.items);
    assert_eq!(apis.len(), 1);
    apis.remove(0)
}

/// The report of `edition` against a lock written from `old/`, and its summary line.
fn report(case: &str, edition: &str) -> (String, sources::Counts) {
    let root = case_dir(case);
    let api = load(&root);
    let old = sources::read_docs(&api, &root.join("old")).unwrap();
    // Through the lock's text form, as the command reads it from the repository.
    let lock = Lock::parse(&Lock::build(&api, &old).render()).unwrap();
    let new = sources::read_docs(&api, &root.join(edition)).unwrap();
    let r = sources::report(&api, Some(&lock), &Docs { new, old }, edition);
    let text = format!("{}{}\n", r.markdown, sources::summary(std::slice::from_ref(&r), 1));
    (text, r.counts)
}

fn reflow_is_not_drift(case: &str) {
    let root = case_dir(case);
    let file = std::fs::read_dir(root.join("old"))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .file_name();
    let (a, b) = (
        std::fs::read(root.join("old").join(&file)).unwrap(),
        std::fs::read(root.join("reflow").join(&file)).unwrap(),
    );
    assert_ne!(a, b, "the reflowed edition must differ from the old one in bytes");
    let (text, counts) = report(case, "reflow");
    assert_eq!(counts.total(), 0, "{text}");
    assert!(text.contains("No drift"), "{text}");
}

#[test]
fn bracketed_report() {
    let (text, counts) = report("bracketed", "new");
    assert!(counts.total() > 0);
    insta::assert_snapshot!("bracketed_report", text);
}

#[test]
fn plain_report() {
    let (text, counts) = report("plain", "new");
    assert!(counts.total() > 0);
    insta::assert_snapshot!("plain_report", text);
}

#[test]
fn toc_report() {
    let (text, counts) = report("toc", "new");
    assert!(counts.total() > 0);
    insta::assert_snapshot!("toc_report", text);
}

#[test]
fn bracketed_reflow_is_not_drift() {
    reflow_is_not_drift("bracketed");
}

#[test]
fn plain_reflow_is_not_drift() {
    reflow_is_not_drift("plain");
}

#[test]
fn toc_reflow_is_not_drift() {
    reflow_is_not_drift("toc");
}

#[test]
fn the_lock_holds_no_prose() {
    let root = case_dir("plain");
    let api = load(&root);
    let lock = Lock::build(&api, &sources::read_docs(&api, &root.join("old")).unwrap()).render();
    for words in [
        "Look up where a parcel",
        "The tracking code on the label",
        "Some last words",
    ] {
        assert!(!lock.contains(words), "the lock copies prose: {words}");
    }
    assert!(lock.contains("\"heading\":\"Track a parcel\""), "{lock}");
    assert!(lock.contains("GET /v2/parcels/{code}"), "{lock}");
}

#[test]
fn repeated_headings_resolve_by_parent_or_endpoint() {
    let text = std::fs::read_to_string(case_dir("bracketed").join("old/widgets.txt")).unwrap();
    let h = xtask::spec::Headings {
        endpoints: Some(xtask::spec::EndpointStyle::Bracketed),
        above_endpoint: Some(1),
        parents: Some(1),
        ..Default::default()
    };
    let o = sources::parse(&text, &h);
    let read =
        |cite: &str, ep: Option<&str>| sources::resolve(&o.sections, cite, ep).map(|i| o.sections[i].endpoints.clone());
    assert_eq!(read("Gadgets > Read", None).unwrap(), ["GET /v1/gadgets/{gid}"]);
    assert_eq!(read("widgets  >  READ", None).unwrap(), ["GET /v1/widgets/{wid}"]);
    assert_eq!(
        read("Read", Some(&sources::endpoint_key("GET", "/v1/gadgets/{gadget_id}"))).unwrap(),
        ["GET /v1/gadgets/{gid}"]
    );
    assert!(matches!(read("Read", None), Err(sources::CiteError::Ambiguous(c)) if c.len() == 2));
    assert!(matches!(
        read("Read", Some("GET /v1/other")),
        Err(sources::CiteError::Ambiguous(_))
    ));
    assert!(matches!(read("Gadget > Read", None), Err(sources::CiteError::Unknown(c)) if c.len() == 2));
}

/// A scratch copy of a case, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(case: &str, name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("xtask-sources-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        copy(&case_dir(case), &dir);
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        if e.path().is_dir() {
            copy(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn run(root: &Path, docs: &str, accept: bool) -> u8 {
    let docs = root.join(docs);
    let old = root.join("old");
    sources::command(&sources::Command {
        root,
        docs: &docs,
        accepted_docs: Some(&old),
        vendor: None,
        accept,
    })
}

#[test]
fn command_exit_codes_and_accept() {
    let s = Scratch::new("bracketed", "cmd");
    let root = &s.0;
    let lock = root.join("specs/widgets/sources.lock");
    // No lock yet: that is drift, and `regen --check` says so.
    assert_eq!(run(root, "old", false), 1);
    assert_eq!(
        sources::drift(root, &root.join("old"), None).unwrap(),
        ["widgets: specs/widgets/sources.lock is missing"]
    );
    assert_eq!(run(root, "old", true), 0);
    let accepted = std::fs::read_to_string(&lock).unwrap();
    assert_eq!(run(root, "old", false), 0);
    assert_eq!(run(root, "reflow", false), 0);
    assert_eq!(run(root, "new", false), 1);
    assert_eq!(run(root, "missing-folder", false), 2);
    // The new edition drops a cited heading: --accept refuses and leaves the lock alone.
    assert_eq!(run(root, "new", true), 2);
    assert_eq!(std::fs::read_to_string(&lock).unwrap(), accepted);
    // What `regen --check` prints for it names each drifted section.
    let drift = sources::drift(root, &root.join("new"), None).unwrap();
    assert!(
        drift.iter().any(|d| d.contains("\"Gadgets > Delete\" vanished")),
        "{drift:?}"
    );
    assert!(
        drift.iter().any(|d| d.contains("\"Widgets > Create\" changed")),
        "{drift:?}"
    );
    assert!(sources::drift(root, &root.join("reflow"), None).unwrap().is_empty());
    // An edition that keeps every cited heading: drift until accepted, then none.
    let text = std::fs::read_to_string(root.join("old/widgets.txt")).unwrap().replace(
        "colour | string | false |\n",
        "colour | string | false |\nshape | string | false |\n",
    );
    std::fs::create_dir_all(root.join("next")).unwrap();
    std::fs::write(root.join("next/widgets.txt"), text).unwrap();
    assert_eq!(
        sources::drift(root, &root.join("next"), None).unwrap(),
        ["widgets: widgets.txt § \"Widgets > Create\" changed"]
    );
    assert_eq!(run(root, "next", true), 0);
    assert!(sources::drift(root, &root.join("next"), None).unwrap().is_empty());
    assert_eq!(run(root, "next", false), 0);
}

#[test]
fn a_corrupt_lock_stops_the_command() {
    let s = Scratch::new("toc", "corrupt");
    std::fs::write(s.0.join("specs/notes/sources.lock"), "{ not a lock").unwrap();
    assert_eq!(run(&s.0, "old", false), 2);
    assert!(sources::drift(&s.0, &s.0.join("old"), None)
        .unwrap_err()
        .to_string()
        .contains("sources.lock"));
}

#[test]
fn lock_changes_name_the_re_read_sections() {
    let root = case_dir("bracketed");
    let api = load(&root);
    let old = Lock::build(&api, &sources::read_docs(&api, &root.join("old")).unwrap());
    let new = Lock::build(&api, &sources::read_docs(&api, &root.join("new")).unwrap());
    let reflow = Lock::build(&api, &sources::read_docs(&api, &root.join("reflow")).unwrap());
    insta::assert_snapshot!("lock_changes", sources::lock_changes(Some(&old), Some(&new)).join("\n"));
    assert!(sources::lock_changes(Some(&old), Some(&reflow)).is_empty());
    assert_eq!(
        sources::lock_changes(None, Some(&old)),
        ["`widgets.txt`: newly recorded (8 sections)"]
    );
}

#[test]
fn line_endings_and_trailing_blanks_keep_fingerprints() {
    let text = std::fs::read_to_string(case_dir("plain").join("old/parcels.txt")).unwrap();
    let h = xtask::spec::Headings {
        endpoints: Some(xtask::spec::EndpointStyle::Plain),
        above_endpoint: Some(2),
        paragraphs: true,
        ..Default::default()
    };
    let a = sources::parse(&text, &h);
    let b = sources::parse(&format!("{}\r\n\r\n\r\n", text.replace('\n', " \r\n")), &h);
    assert_eq!(a.sections, b.sections);
    assert_eq!(a.hash, b.hash);
    // A changed word is not whitespace.
    let c = sources::parse(&text.replace("at this moment", "right now"), &h);
    assert_ne!(a.sections, c.sections);
}

#[test]
fn documents_without_structure_do_not_panic() {
    let h = xtask::spec::Headings {
        endpoints: Some(xtask::spec::EndpointStyle::Plain),
        above_endpoint: Some(3),
        paragraphs: true,
        parents: Some(1),
        toc: Some("Contents".into()),
        ..Default::default()
    };
    for text in [
        "",
        "\n\n",
        "GET /first\n",
        "Contents\n",
        "Contents\n- A\n- B",
        "x\nGET /a\nGET /b\n[GET] /c",
        "/p\nGET",
    ] {
        let o = sources::parse(text, &h);
        assert_eq!(o.sections.len(), o.ranges.len());
        for i in 0..o.sections.len() {
            let _ = o.text(i);
        }
    }
}

/// The SnapCall streams reference marks no heading (its headings are listed
/// by name): a new, renamed or removed heading there is drift, named as such.
#[test]
fn streams_reference_headings_are_fingerprinted() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let Some(docs) = [root.join("../shared/vendor-docs"), root.join("shared/vendor-docs")]
        .into_iter()
        .find(|p| p.is_dir())
    else {
        eprintln!("shared/vendor-docs not found beside the checkout; skipped");
        return;
    };
    let opts = xtask::regen::Options {
        vendor: Some("snapcall"),
        ..xtask::regen::Options::workspace(root, None)
    };
    let api = xtask::regen::load(&opts).unwrap().remove(0);
    let file = "snapcall-streams-reference.txt";
    let text = std::fs::read_to_string(docs.join(file)).unwrap();
    let lock = Lock::parse(&std::fs::read_to_string(root.join("specs/snapcall/sources.lock")).unwrap()).unwrap();
    let streams = lock.sources.iter().find(|s| s.file == file).unwrap();
    assert!(
        streams.shaped.iter().any(|l| l == "Retrieve a stream"),
        "the lock keeps the heading-shaped lines: {:?}",
        streams.shaped
    );
    let items = |edited: &str| -> Vec<String> {
        let dir = std::env::temp_dir().join(format!("snapsdk-streams-{}-{}", std::process::id(), edited.len()));
        std::fs::create_dir_all(&dir).unwrap();
        for s in &api.vendor.sources {
            std::fs::copy(docs.join(&s.file), dir.join(&s.file)).unwrap();
        }
        std::fs::write(dir.join(file), edited).unwrap();
        let new = sources::read_docs(&api, &dir).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let r = sources::report(
            &api,
            Some(&lock),
            &Docs {
                new,
                old: Default::default(),
            },
            "edited",
        );
        r.items.into_iter().filter(|i| i.contains(file)).collect()
    };
    assert_eq!(items(&text), Vec::<String>::new(), "the accepted edition has no drift");
    // A new heading, with a paragraph under it, at the end.
    let added = items(&format!(
        "{}\n\nDelete a stream\n\nRemoves a stream.\n",
        text.trim_end()
    ));
    assert!(
        added
            .iter()
            .any(|i| i.ends_with("has a new heading-shaped line \"Delete a stream\"")),
        "{added:?}"
    );
    // A renamed heading: the old one vanished, the new name is named.
    let renamed = items(&text.replacen("\nRetrieve a stream\n", "\nGet a stream\n", 1));
    assert!(
        renamed.iter().any(|i| i.contains("\"Retrieve a stream\" vanished")),
        "{renamed:?}"
    );
    assert!(
        renamed
            .iter()
            .any(|i| i.ends_with("new heading-shaped line \"Get a stream\"")),
        "{renamed:?}"
    );
    // A removed heading-shaped line that no setting lists.
    let removed = items(&text.replacen("\nLanguage Box\n", "\n", 1));
    assert!(
        removed
            .iter()
            .any(|i| i.contains("\"Language Box\" (heading-shaped line) vanished")),
        "{removed:?}"
    );
}
