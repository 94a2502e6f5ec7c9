//! What the published crates hold, read from the `.crate` files the test
//! command's `cargo publish --workspace --dry-run` built (README, Versions
//! and publishing): each carries its README, both license texts, its
//! sources and, for a generated client, `API.md` and `openapi.json`; none
//! carries tests or build output; and its manifest has complete metadata.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// Manifest keys every published crate sets (`[package]`, after cargo
/// resolved the workspace inheritance).
pub const METADATA: [&str; 8] = [
    "description",
    "keywords",
    "categories",
    "repository",
    "documentation",
    "rust-version",
    "license",
    "readme",
];

/// The workspace's publishable packages: `(name, version, folder)`, from `cargo metadata`.
pub fn published(root: &Path) -> Result<Vec<(String, String, PathBuf)>, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(&cargo)
        .args(["metadata", "--no-deps", "--format-version", "1", "--locked"])
        .current_dir(root)
        .output()
        .map_err(|e| format!("could not run {cargo} metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| format!("cargo metadata: {e}"))?;
    let mut crates = Vec::new();
    for p in meta["packages"].as_array().into_iter().flatten() {
        // `publish: []` is `publish = false`; null is any registry.
        if p["publish"].as_array().is_some_and(|r| r.is_empty()) {
            continue;
        }
        let dir = Path::new(p["manifest_path"].as_str().unwrap_or_default())
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        crates.push((
            p["name"].as_str().unwrap_or_default().to_owned(),
            p["version"].as_str().unwrap_or_default().to_owned(),
            dir,
        ));
    }
    crates.sort();
    Ok(crates)
}

/// The problems with one `.crate` file of the package in `dir` (empty: none).
pub fn check_crate(file: &Path, name: &str, version: &str, dir: &Path) -> Result<Vec<String>, String> {
    let prefix = format!("{name}-{version}/");
    let list = tar(&["-tzf"], file, None)?;
    let files: Vec<&str> = list.lines().map(|l| l.strip_prefix(&prefix).unwrap_or(l)).collect();
    let mut problems = Vec::new();
    let mut required = vec!["Cargo.toml", "README.md", "LICENSE-MIT", "LICENSE-APACHE", "src/lib.rs"];
    // A generated client's reference documents ship with it.
    for doc in ["API.md", "openapi.json"] {
        if dir.join(doc).is_file() {
            required.push(doc);
        }
    }
    for r in &required {
        if !files.contains(r) {
            problems.push(format!("{name}: {r} is missing from the package"));
        }
    }
    for f in &files {
        if f.starts_with("tests/") || f.starts_with("target/") || f.contains("/target/") {
            problems.push(format!("{name}: the package holds {f}"));
        }
    }
    let manifest = tar(&["-xzOf"], file, Some(&format!("{prefix}Cargo.toml")))?;
    let doc: toml_edit::DocumentMut = manifest
        .parse()
        .map_err(|e| format!("{name}: the packaged Cargo.toml does not parse: {e}"))?;
    let package = doc
        .get("package")
        .and_then(|p| p.as_table())
        .ok_or_else(|| format!("{name}: the packaged Cargo.toml has no [package]"))?;
    for key in METADATA {
        let present = match package.get(key) {
            Some(v) if v.is_array() => v.as_array().is_some_and(|a| !a.is_empty()),
            Some(v) => v.as_str().is_some_and(|s| !s.trim().is_empty()),
            None => false,
        };
        if !present {
            problems.push(format!("{name}: the packaged Cargo.toml has no `{key}`"));
        }
    }
    if let Some(l) = package.get("license").and_then(|v| v.as_str()) {
        if l != "MIT OR Apache-2.0" {
            problems.push(format!("{name}: license is {l:?}, not \"MIT OR Apache-2.0\""));
        }
    }
    if doc.get("test").is_some() {
        problems.push(format!(
            "{name}: the packaged Cargo.toml declares test targets the package does not hold"
        ));
    }
    Ok(problems)
}

fn tar(flags: &[&str], file: &Path, member: Option<&str>) -> Result<String, String> {
    let mut cmd = Command::new("tar");
    cmd.args(flags).arg(file);
    if let Some(m) = member {
        cmd.arg(m);
    }
    let out = cmd.output().map_err(|e| format!("could not run tar: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "tar {} {}: {}",
            flags.join(" "),
            file.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Where the dry run left a crate's `.crate` file: `package/tmp-crate/`
/// (`publish --workspace --dry-run`) or `package/` (`cargo package`).
fn crate_file(target: &Path, name: &str, version: &str) -> Option<PathBuf> {
    let file = format!("{name}-{version}.crate");
    [
        target.join("package/tmp-crate").join(&file),
        target.join("package").join(&file),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

/// Every publishable crate's `.crate`, written at or after `since` (by this
/// run's dry run, not an older one), checked.
pub fn check_workspace(root: &Path, since: SystemTime) -> Result<String, String> {
    let target = crate::external::target_dir(root);
    let crates = published(root)?;
    let mut problems = Vec::new();
    for (name, version, dir) in &crates {
        let Some(file) = crate_file(&target, name, version) else {
            problems.push(format!(
                "{name}: no {name}-{version}.crate under {}; did the publish dry run package it?",
                target.join("package").display()
            ));
            continue;
        };
        let fresh = std::fs::metadata(&file)
            .and_then(|m| m.modified())
            .is_ok_and(|t| t >= since);
        if !fresh {
            problems.push(format!(
                "{name}: {} is older than this run; the publish dry run did not package it",
                file.display()
            ));
            continue;
        }
        problems.extend(check_crate(&file, name, version, dir)?);
    }
    if problems.is_empty() {
        Ok(format!("{} packages: files and metadata complete", crates.len()))
    } else {
        Err(problems.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD_MANIFEST: &str = "[package]\nname = \"demo\"\nversion = \"0.1.0\"\ndescription = \"d\"\nkeywords = [\"a\"]\ncategories = [\"api-bindings\"]\nrepository = \"https://example.com/r\"\ndocumentation = \"https://docs.rs/demo\"\nrust-version = \"1.82\"\nlicense = \"MIT OR Apache-2.0\"\nreadme = \"README.md\"\n";

    /// A `.crate` (a gzipped tar under `demo-0.1.0/`) holding `files`, with `manifest` as its Cargo.toml.
    fn pack(tmp: &Path, files: &[&str], manifest: &str) -> PathBuf {
        let _ = std::fs::remove_dir_all(tmp);
        let top = tmp.join("demo-0.1.0");
        for f in files {
            let p = top.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, "x").unwrap();
        }
        std::fs::write(top.join("Cargo.toml"), manifest).unwrap();
        let file = tmp.join("demo-0.1.0.crate");
        let ok = Command::new("tar")
            .args(["-czf"])
            .arg(&file)
            .arg("-C")
            .arg(tmp)
            .arg("demo-0.1.0")
            .status()
            .unwrap()
            .success();
        assert!(ok);
        file
    }

    #[test]
    fn a_complete_package_passes_and_each_gap_is_named() {
        let tmp = std::env::temp_dir().join(format!("xtask-package-{}", std::process::id()));
        let dir = tmp.join("src-dir");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("openapi.json"), "{}").unwrap();
        std::fs::write(dir.join("API.md"), "").unwrap();
        let all = [
            "README.md",
            "LICENSE-MIT",
            "LICENSE-APACHE",
            "src/lib.rs",
            "API.md",
            "openapi.json",
        ];
        let build = tmp.join("build");
        let good = pack(&build, &all, GOOD_MANIFEST);
        assert_eq!(check_crate(&good, "demo", "0.1.0", &dir).unwrap(), Vec::<String>::new());

        // The guard fires: a missing file, shipped tests and build output, missing metadata.
        let bad = pack(
            &build,
            &[
                "README.md",
                "LICENSE-MIT",
                "src/lib.rs",
                "API.md",
                "tests/wire.rs",
                "target/debug/x",
            ],
            &GOOD_MANIFEST
                .replace("keywords = [\"a\"]\n", "keywords = []\n")
                .replace("rust-version = \"1.82\"\n", ""),
        );
        let problems = check_crate(&bad, "demo", "0.1.0", &dir).unwrap().join("\n");
        for expected in [
            "LICENSE-APACHE is missing",
            "openapi.json is missing",
            "holds tests/wire.rs",
            "holds target/debug/x",
            "no `keywords`",
            "no `rust-version`",
        ] {
            assert!(problems.contains(expected), "{expected:?} not in:\n{problems}");
        }
        let wrong = pack(&build, &all, &GOOD_MANIFEST.replace("MIT OR Apache-2.0", "MIT"));
        assert!(check_crate(&wrong, "demo", "0.1.0", &dir)
            .unwrap()
            .iter()
            .any(|p| p.contains("license is \"MIT\"")));
        // A runtime-like package without the client documents needs none.
        let plain = tmp.join("plain");
        std::fs::create_dir_all(&plain).unwrap();
        let lib = pack(
            &build,
            &["README.md", "LICENSE-MIT", "LICENSE-APACHE", "src/lib.rs"],
            GOOD_MANIFEST,
        );
        assert_eq!(
            check_crate(&lib, "demo", "0.1.0", &plain).unwrap(),
            Vec::<String>::new()
        );
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn the_workspace_publishes_the_runtime_and_the_three_clients() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let names: Vec<String> = published(root).unwrap().into_iter().map(|(n, _, _)| n).collect();
        assert_eq!(names, ["besnappy", "snapcall", "snapengage", "snapsdk-runtime"]);
    }
}
