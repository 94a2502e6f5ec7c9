//! `cargo xtask sources` exits 2 when it cannot run (README, "When a vendor
//! changes its documentation"): an unreadable document (missing, a folder,
//! not UTF-8), and specs with errors. The first through the command itself
//! on a scratch copy of the documents; the second on a scratch copy of a
//! generator fixture, since the binary only acts on its own workspace.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
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

/// `cargo xtask sources --docs DIR --vendor snapengage`: exit code and stderr.
fn sources(docs: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["sources", "--vendor", "snapengage", "--docs"])
        .arg(docs)
        .current_dir(root())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A documents folder holding SnapEngage's document as `doc` leaves it.
fn docs_with(name: &str, doc: impl Fn(&Path)) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xtask-sources-exit-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    doc(&dir.join("snapengage-chat-api-v1.txt"));
    dir
}

/// The document the snapengage spec cites, as the lock recorded it: from the
/// shared folder when present, else a stand-in (any text reads; only drift differs).
fn document_text() -> Vec<u8> {
    let shared = root().join("../shared/vendor-docs/snapengage-chat-api-v1.txt");
    std::fs::read(shared).unwrap_or_else(|_| b"Check widget availability\nGET /api/v1/chat/{widgetId}\n".to_vec())
}

/// Leaves the document file in some state.
type MakeDoc = Box<dyn Fn(&Path)>;

#[test]
fn an_unreadable_document_exits_2_naming_it() {
    // Readable: 0 or 1 (drift), never 2; the control that the cases below fail for their reason.
    let fine = docs_with("fine", |p| std::fs::write(p, document_text()).unwrap());
    let (code, err) = sources(&fine);
    assert!(code == 0 || code == 1, "a readable document: exit {code}\n{err}");
    let cases: [(&str, MakeDoc); 3] = [
        ("missing", Box::new(|_: &Path| {})),
        ("folder", Box::new(|p: &Path| std::fs::create_dir_all(p).unwrap())),
        (
            "not-utf8",
            Box::new(|p: &Path| {
                let mut bytes = document_text();
                bytes.extend_from_slice(&[0xff, 0xfe, 0x00, 0xc3]);
                std::fs::write(p, bytes).unwrap()
            }),
        ),
    ];
    for (name, make) in cases {
        let dir = docs_with(name, make);
        let (code, err) = sources(&dir);
        assert_eq!(code, 2, "{name}: exit {code}\n{err}");
        assert!(
            err.contains("snapengage-chat-api-v1.txt"),
            "{name}: the error names the document:\n{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::remove_dir_all(&fine).unwrap();
    // No such folder at all.
    let (code, _) = sources(&std::env::temp_dir().join("xtask-sources-exit-no-such-folder"));
    assert_eq!(code, 2);
}

#[test]
fn spec_errors_exit_2_and_write_no_lock() {
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sources/bracketed");
    let dir = std::env::temp_dir().join(format!("xtask-sources-exit-specs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy(&case, &dir);
    let run = |accept: bool| {
        let (docs, old) = (dir.join("old"), dir.join("old"));
        xtask::sources::command(&xtask::sources::Command {
            root: &dir,
            docs: &docs,
            accepted_docs: Some(&old),
            vendor: None,
            accept,
        })
    };
    // The control: the valid fixture runs (drift, since it has no lock yet).
    assert_eq!(run(false), 1);
    let api = std::fs::read_dir(dir.join("specs/widgets"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().is_some_and(|n| n != "vendor.yaml") && p.extension().is_some_and(|x| x == "yaml"))
        .unwrap();
    let text = std::fs::read_to_string(&api).unwrap();
    std::fs::write(
        &api,
        text.replacen("operations:\n", "operations:\n  - id: broken\n    unknown_key: 1\n", 1),
    )
    .unwrap();
    assert_eq!(run(false), 2);
    assert_eq!(run(true), 2);
    assert!(
        !dir.join("specs/widgets/sources.lock").exists(),
        "--accept wrote a lock for specs with errors"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
