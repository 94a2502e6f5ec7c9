//! The `rust-version` the published crates declare holds for the dependency
//! tree they are tested with: no crate they build on (normal and build
//! dependencies, as this workspace's `Cargo.lock` resolves them) declares a
//! newer one. A user's cargo that does not resolve by Rust version (the
//! default for these edition-2021 crates) picks versions at least as new as
//! these, so a declared version below this floor would fail their build.
//!
//! This is a floor, not proof: only the toolchain the workspace pins is
//! installed here, so nothing compiles the crates with the declared version.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The crates the release publishes.
const PUBLISHED: &[&str] = &["snapsdk-runtime", "snapcall", "besnappy", "snapengage"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// `1.88` or `1.88.0` as comparable numbers.
fn version(text: &str) -> Vec<u64> {
    let mut parts: Vec<u64> = text.split('.').map(|p| p.parse().unwrap_or(0)).collect();
    parts.resize(3, 0);
    parts
}

/// The highest `rust_version` among the crates `root` builds on (itself
/// excluded) in `cargo metadata` output, with the crate that declares it.
fn floor(metadata: &Value, root: &str) -> Option<(Vec<u64>, String)> {
    let packages: BTreeMap<&str, &Value> = metadata["packages"]
        .as_array()?
        .iter()
        .filter_map(|p| Some((p["id"].as_str()?, p)))
        .collect();
    let nodes: BTreeMap<&str, &Value> = metadata["resolve"]["nodes"]
        .as_array()?
        .iter()
        .filter_map(|n| Some((n["id"].as_str()?, n)))
        .collect();
    let start = packages.values().find(|p| p["name"] == root)?["id"].as_str()?;
    let (mut seen, mut todo) = (BTreeSet::new(), vec![start]);
    let mut best: Option<(Vec<u64>, String)> = None;
    while let Some(id) = todo.pop() {
        if !seen.insert(id) {
            continue;
        }
        if id != start {
            let p = packages[id];
            if let Some(rv) = p["rust_version"].as_str() {
                let v = version(rv);
                if best.as_ref().is_none_or(|(b, _)| v > *b) {
                    best = Some((
                        v,
                        format!("{} {} (rust-version {rv})", p["name"].as_str()?, p["version"].as_str()?),
                    ));
                }
            }
        }
        for dep in nodes[id]["deps"].as_array().into_iter().flatten() {
            // Dev-dependencies are not built by a user of the crate.
            let used = dep["dep_kinds"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|k| k["kind"].is_null() || k["kind"] == "build");
            if used {
                todo.extend(dep["pkg"].as_str());
            }
        }
    }
    best
}

/// The workspace's declared `rust-version`.
fn declared() -> String {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let doc: toml_edit::DocumentMut = manifest.parse().unwrap();
    doc["workspace"]["package"]["rust-version"]
        .as_str()
        .expect("the workspace declares rust-version")
        .to_owned()
}

#[test]
fn the_declared_rust_version_is_no_older_than_any_dependency_needs() {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let metadata: Value = serde_json::from_slice(&out.stdout).unwrap();
    let declared = declared();
    for name in PUBLISHED {
        let (needed, by) = floor(&metadata, name).expect("the crate has dependencies with a rust-version");
        assert!(
            needed <= version(&declared),
            "{name} declares rust-version {declared}, but it builds on {by}; raise `rust-version` in the \
             workspace Cargo.toml (or pin that dependency lower)"
        );
    }
}

/// The check fires on a dependency two levels down that needs a newer
/// compiler, and ignores one reached only as a dev-dependency.
#[test]
fn a_deep_dependency_needing_a_newer_compiler_is_found() {
    let pkg =
        |id: &str, rv: Option<&str>| serde_json::json!({"id": id, "name": id, "version": "1.0.0", "rust_version": rv});
    let dep = |pkg: &str, kind: Option<&str>| serde_json::json!({"pkg": pkg, "dep_kinds": [{"kind": kind}]});
    let metadata = serde_json::json!({
        "packages": [pkg("app", Some("1.82")), pkg("a", Some("1.70")), pkg("b", Some("1.90")), pkg("t", Some("1.99"))],
        "resolve": {"nodes": [
            {"id": "app", "deps": [dep("a", None), dep("t", Some("dev"))]},
            {"id": "a", "deps": [dep("b", Some("build"))]},
            {"id": "b", "deps": []},
            {"id": "t", "deps": []},
        ]},
    });
    let (needed, by) = floor(&metadata, "app").unwrap();
    assert_eq!(needed, version("1.90"));
    assert_eq!(by, "b 1.0.0 (rust-version 1.90)");
    assert!(needed > version("1.82"), "a declared 1.82 is refused");
}
