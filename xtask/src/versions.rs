//! Version consistency between the hand-written runtime and the generated
//! crates. Client versions live in the specs (`crate.version`); the runtime's
//! lives in its own manifest, and the generated crates reach it through the
//! workspace's `[workspace.dependencies] snapsdk-runtime` entry, whose version
//! requirement is what ends up in every published client manifest.

use std::path::Path;

/// Why the runtime's version and the clients' requirement cannot be trusted.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum VersionsError {
    #[error("{0}")]
    Read(String),
    #[error("{0}")]
    Missing(String),
    #[error(
        "Cargo.toml: [workspace.dependencies] snapsdk-runtime requires version {req:?} but {RUNTIME} is version {version:?}; \
         set the requirement to \"{version}\" so the published clients depend on the runtime they were built with"
    )]
    Mismatch { req: String, version: String },
    #[error("{RUNTIME}: version {version:?} is not semver: {why}")]
    NotSemver { version: String, why: String },
}

const RUNTIME: &str = "crates/snapsdk-runtime/Cargo.toml";

fn read_toml(root: &Path, rel: &str) -> Result<toml_edit::DocumentMut, VersionsError> {
    let text = std::fs::read_to_string(root.join(rel)).map_err(|e| VersionsError::Read(format!("{rel}: {e}")))?;
    text.parse::<toml_edit::DocumentMut>()
        .map_err(|e| VersionsError::Read(format!("{rel}: not valid TOML: {e}")))
}

/// The runtime's version and the requirement the clients publish must be the same version.
pub fn check(root: &Path) -> Result<(), VersionsError> {
    if !root.join(RUNTIME).is_file() {
        return Ok(());
    }
    let runtime = read_toml(root, RUNTIME)?;
    let version = runtime
        .get("package")
        .and_then(|p| p.get("version"))
        .and_then(|v| v.as_str())
        .ok_or_else(|| VersionsError::Missing(format!("{RUNTIME}: [package] has no version string")))?
        .to_owned();
    let ws = read_toml(root, "Cargo.toml")?;
    let req = ws
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(|d| d.get("snapsdk-runtime"))
        .and_then(|d| d.get("version"))
        .and_then(|v| v.as_str())
        .ok_or_else(|| VersionsError::Missing("Cargo.toml: [workspace.dependencies] snapsdk-runtime has no `version`; the clients could not be published without one".to_owned()))?;
    if req.trim_start_matches(['=', '^']) != version {
        return Err(VersionsError::Mismatch {
            req: req.to_owned(),
            version,
        });
    }
    semver::Version::parse(&version).map_err(|e| VersionsError::NotSemver {
        version: version.clone(),
        why: e.to_string(),
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mismatch_names_both_files_and_the_fix() {
        let dir = std::env::temp_dir().join(format!("snapsdk-versions-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("crates/snapsdk-runtime")).unwrap();
        std::fs::write(
            dir.join("crates/snapsdk-runtime/Cargo.toml"),
            "[package]\nname = \"snapsdk-runtime\"\nversion = \"0.2.0\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("Cargo.toml"),
            "[workspace.dependencies]\nsnapsdk-runtime = { path = \"crates/snapsdk-runtime\", version = \"0.1.0\" }\n",
        )
        .unwrap();
        let err = check(&dir).unwrap_err().to_string();
        assert!(
            err.contains("requires version \"0.1.0\"")
                && err.contains("is version \"0.2.0\"")
                && err.contains("set the requirement to \"0.2.0\""),
            "{err}"
        );
        std::fs::write(
            dir.join("Cargo.toml"),
            "[workspace.dependencies]\nsnapsdk-runtime = { path = \"crates/snapsdk-runtime\", version = \"0.2.0\" }\n",
        )
        .unwrap();
        assert_eq!(check(&dir), Ok(()));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_workspace_is_consistent() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        assert_eq!(check(root), Ok(()));
    }
}
