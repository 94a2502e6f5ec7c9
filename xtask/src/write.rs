//! Formatting, headers, write-if-changed, stale-file removal and check mode.
//! The only module that touches the file system for output.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use crate::generated::MARKER;
use crate::generated::{Content, COMMAND};

/// Why output could not be rendered or brought in line with the tree.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The emitter's tokens are not a Rust file.
    #[error("{path}: the generator produced invalid Rust ({source}); this is a generator bug")]
    InvalidRust { path: String, source: syn::Error },
    /// The emitter's Rust could not be laid out.
    #[error("{path}: {message}")]
    Format { path: String, message: String },
    #[error("writing {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("removing {}: {source}", path.display())]
    Remove { path: PathBuf, source: std::io::Error },
    /// Generated paths hold files regen did not write; nothing was written.
    #[error(
        "refusing to replace {} file(s) that regen did not generate (no `{MARKER}` header); nothing was written:\n  {}\n\
         hint: a spec's `crate.name` names a folder of hand-written files; pick another crate name (or move those files away)",
        files.len(),
        files.join("\n  ")
    )]
    Foreign { files: Vec<String> },
}

/// Format generated content into final bytes.
pub fn render(path: &str, content: Content, header: &str) -> Result<String, WriteError> {
    match content {
        Content::Text(t) => Ok(t),
        Content::Rust(tokens) => {
            let file: syn::File = syn::parse2(tokens).map_err(|source| WriteError::InvalidRust {
                path: path.to_owned(),
                source,
            })?;
            let text = crate::emit::rust::fmt::format_file(&file).map_err(|message| WriteError::Format {
                path: path.to_owned(),
                message,
            })?;
            Ok(format!("// {header}\n\n{text}"))
        }
    }
}

/// What a run owns on disk, for stale removal: every generated file under
/// `dirs`, and under each `(dir, prefix)` the generated files whose name
/// starts with `prefix` (a folder shared with files regen does not own).
#[derive(Debug, Default, Clone)]
pub struct Owned {
    pub dirs: Vec<PathBuf>,
    pub named: Vec<(PathBuf, String)>,
}

#[derive(Debug, Default)]
pub struct Report {
    pub written: Vec<PathBuf>,
    pub unchanged: usize,
    pub removed: Vec<PathBuf>,
    /// Check mode: files that differ, are missing, or should not exist.
    pub stale: Vec<(PathBuf, &'static str)>,
    /// Spec warnings (`file:line:col: warning: ...`) of a run that succeeded.
    pub warnings: Vec<crate::diag::Diag>,
    /// Where the run's output was remembered (None in check mode: the cache is not used).
    pub cache_dir: Option<PathBuf>,
}

/// Generated files found on disk that the run owns.
fn existing_generated(root: &Path, owned: &Owned) -> Vec<PathBuf> {
    let mut out = generated_under(root, &owned.dirs);
    for (dir, prefix) in &owned.named {
        let Ok(rd) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in rd.flatten() {
            let named = entry
                .file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(prefix.as_str()));
            if named && entry.file_type().is_ok_and(|t| t.is_file()) && is_generated(&entry.path()) {
                out.push(dir.join(entry.file_name()));
            }
        }
    }
    out
}

/// Whether a file carries the [`MARKER`] (files over 8 MiB are never ours).
fn is_generated(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|b| b.len() < 8 << 20 && contains(&b, MARKER.as_bytes()))
}

/// Generated files found on disk under the given folders (recursively).
fn generated_under(root: &Path, dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = dirs.iter().map(|d| root.join(d)).collect();
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else { continue };
        for entry in rd.flatten() {
            let p = entry.path();
            // `file_type` does not follow links: a linked folder is not walked (nor emptied).
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                if p.file_name().is_some_and(|n| n != "target") {
                    stack.push(p);
                }
            } else if entry.file_type().is_ok_and(|t| t.is_file()) && is_generated(&p) {
                out.push(p.strip_prefix(root).unwrap_or(&p).to_path_buf());
            }
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    // memchr's SIMD search: the walk reads every file under the owned folders, on every run.
    memchr::memmem::find(hay, needle).is_some()
}

/// Bring the tree in line with `files` (or, with `check`, only report what differs).
/// `owned` is what this run owns on disk, for stale removal.
pub fn apply(root: &Path, files: &BTreeMap<PathBuf, String>, owned: &Owned, check: bool) -> Result<Report, WriteError> {
    refuse_foreign(root, files)?;
    let mut report = Report::default();
    for (rel, content) in files {
        let path = root.join(rel);
        match std::fs::read(&path) {
            Ok(old) if old == content.as_bytes() => report.unchanged += 1,
            old => {
                if check {
                    report.stale.push((
                        rel.clone(),
                        if old.is_ok() {
                            "differs from what the spec generates (stale, or edited by hand)"
                        } else {
                            "is missing"
                        },
                    ));
                } else {
                    write_atomic(&path, content.as_bytes()).map_err(|source| WriteError::Write {
                        path: rel.clone(),
                        source,
                    })?;
                    report.written.push(rel.clone());
                }
            }
        }
    }
    for rel in existing_generated(root, owned) {
        if files.contains_key(&rel) {
            continue;
        }
        if check {
            report
                .stale
                .push((rel, "is generated but no spec produces it any more"));
        } else {
            std::fs::remove_file(root.join(&rel)).map_err(|source| WriteError::Remove {
                path: rel.clone(),
                source,
            })?;
            report.removed.push(rel);
        }
    }
    remove_emptied_dirs(root, &report.removed, &owned.dirs);
    Ok(report)
}

/// Files this run would replace that regen did not write: anything on disk at
/// a generated path without the [`MARKER`] (a hand-written crate, a folder).
/// Checked before anything is written, in check mode too, so a spec whose
/// crate name lands on hand-written files changes nothing.
fn refuse_foreign(root: &Path, files: &BTreeMap<PathBuf, String>) -> Result<(), WriteError> {
    let mut foreign = Vec::new();
    for rel in files.keys() {
        let path = root.join(rel);
        // `symlink_metadata`: a link is never followed out of the tree.
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let ours = meta.is_file() && std::fs::read(&path).is_ok_and(|b| contains(&b, MARKER.as_bytes()));
        if !ours {
            foreign.push(rel.display().to_string());
        }
    }
    if foreign.is_empty() {
        return Ok(());
    }
    Err(WriteError::Foreign { files: foreign })
}

/// After stale files are removed, remove the folders they leave empty (up to,
/// not including, the owned folder), so a renamed crate leaves no
/// `crates/<old>/src` behind for cargo's `crates/*` glob to trip over.
fn remove_emptied_dirs(root: &Path, removed: &[PathBuf], owned_dirs: &[PathBuf]) {
    for rel in removed {
        let mut dir = rel.parent();
        while let Some(d) = dir {
            if d.as_os_str().is_empty()
                || owned_dirs.iter().any(|o| o == d)
                || !owned_dirs.iter().any(|o| d.starts_with(o))
            {
                break;
            }
            // `remove_dir` only removes an empty folder; a hand-written file keeps it.
            if std::fs::remove_dir(root.join(d)).is_err() {
                break;
            }
            dir = d.parent();
        }
    }
}

/// Write through a temporary file and rename, so a file is never half-written.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // A name no one else uses, so no file but ours is ever overwritten on the way.
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.regen-tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

impl Report {
    pub fn stale_message(&self) -> String {
        let mut s = String::from("generated files are out of date:\n");
        for (p, why) in &self.stale {
            s.push_str(&format!("  {}: {why}\n", p.display()));
        }
        s.push_str(&format!("run `{COMMAND}` and commit the result"));
        s
    }
}
