//! The independent checkers `cargo xtask test` installs from pinned
//! registry packages before the cargo steps:
//!
//! - `openapi-spec-validator` (PyPI, `tools/openapi-validator/requirements.txt`,
//!   hash-pinned) in a venv under `<target dir>/openapi-validator/` (the
//!   cargo target dir in use: `CARGO_TARGET_DIR` or `build.target-dir` when set), run on every
//!   emitted `openapi.json`;
//! - Prism (npm, `tools/prism/package-lock.json`) into `tools/prism/node_modules`,
//!   which each crate's generated `tests/prism.rs` starts on a loopback port.
//!
//! - the release test's registry server and cargo-semver-checks (crates.io,
//!   `tools/registry/pins.toml`) under `<target dir>/release-tools/`.
//!
//! Each install is skipped when the lock file (or pin) it came from is unchanged.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Run a command, echoing it; the error names the step and what to install.
fn run(what: &str, cmd: &mut Command, missing: &str) -> Result<(), String> {
    let shown = std::iter::once(cmd.get_program()).chain(cmd.get_args()).map(|a| a.to_string_lossy().into_owned()).collect::<Vec<_>>().join(" ");
    eprintln!("==> {what}: {shown}");
    match cmd.status() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("{what} failed ({s})")),
        Err(e) => Err(format!("{what}: could not run `{}` ({e}); {missing}", cmd.get_program().to_string_lossy())),
    }
}

/// Whether `stamp` holds exactly the bytes of `lock` (the last successful install used it).
fn up_to_date(lock: &Path, stamp: &Path) -> bool {
    matches!((std::fs::read(lock), std::fs::read(stamp)), (Ok(a), Ok(b)) if a == b)
}

fn stamp(lock: &Path, stamp: &Path) -> Result<(), String> {
    std::fs::copy(lock, stamp).map(|_| ()).map_err(|e| format!("writing {}: {e}", stamp.display()))
}

/// Every emitted OpenAPI document: the vendors' and the generator fixtures'.
pub fn openapi_documents(root: &Path) -> Vec<PathBuf> {
    let mut docs: Vec<PathBuf> = ["crates", "tests/fixtures"]
        .iter()
        .filter_map(|d| std::fs::read_dir(root.join(d)).ok())
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("openapi.json"))
        .filter(|p| p.is_file())
        .collect();
    docs.sort();
    docs
}

/// The cargo target dir in use, as cargo itself resolves it (`CARGO_TARGET_DIR`,
/// `build.target-dir` in a config file, or `<root>/target`).
pub fn target_dir(root: &Path) -> PathBuf {
    target_dir_with(root, std::env::var_os("CARGO_TARGET_DIR"))
}

/// [`target_dir`] with `CARGO_TARGET_DIR` given (`None`: unset).
fn target_dir_with(root: &Path, env: Option<std::ffi::OsString>) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    match &env {
        Some(d) => cmd.env("CARGO_TARGET_DIR", d),
        None => cmd.env_remove("CARGO_TARGET_DIR"),
    };
    let from_cargo = cmd
        .args(["metadata", "--no-deps", "--format-version", "1", "--offline"])
        .current_dir(root)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| serde_json::from_slice::<serde_json::Value>(&o.stdout).ok())
        .and_then(|v| v["target_directory"].as_str().map(PathBuf::from));
    from_cargo.unwrap_or_else(|| match env {
        Some(d) => root.join(d),
        None => root.join("target"),
    })
}

/// Install the pinned validator (if its requirements changed) and validate every document as OpenAPI 3.1.
pub fn validate_openapi(root: &Path, target: &Path) -> Result<(), String> {
    let requirements = root.join("tools/openapi-validator/requirements.txt");
    let dir = target.join("openapi-validator");
    let venv = dir.join("venv");
    let bin = venv.join("bin");
    // Inside the venv, so a deleted venv is reinstalled.
    let installed = venv.join("installed-requirements.txt");
    if !up_to_date(&requirements, &installed) {
        let _ = std::fs::remove_dir_all(&venv);
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        run("openapi validator venv", Command::new("python3").args(["-m", "venv"]).arg(&venv), "the OpenAPI check needs Python 3 (with venv) on PATH")?;
        run(
            "openapi validator install",
            Command::new(bin.join("python"))
                .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input", "--require-hashes", "-r"])
                .arg(&requirements),
            "the venv has no pip",
        )?;
        stamp(&requirements, &installed)?;
    } else {
        eprintln!("==> openapi validator install: {} matches requirements.txt", venv.display());
    }
    let docs = openapi_documents(root);
    if docs.is_empty() {
        return Err("no openapi.json found under crates/ or tests/fixtures/; run `cargo xtask regen`".into());
    }
    let rel: Vec<PathBuf> = docs.iter().map(|d| d.strip_prefix(root).unwrap_or(d).to_path_buf()).collect();
    run(
        "openapi-spec-validator",
        Command::new(bin.join("openapi-spec-validator")).args(["--schema", "3.1", "--validation-errors", "all"]).args(&rel).current_dir(root),
        &format!("delete {} and rerun `cargo xtask test` to reinstall it", dir.display()),
    )
}

/// `npm ci` in tools/prism when its lock file changed since the last install.
pub fn install_prism(root: &Path) -> Result<(), String> {
    let dir = root.join("tools/prism");
    let lock = dir.join("package-lock.json");
    let installed = dir.join("node_modules/.snapsdk-installed-lock.json");
    let cli = dir.join("node_modules/@stoplight/prism-cli/dist/index.js");
    if up_to_date(&lock, &installed) && cli.is_file() {
        eprintln!("==> prism install: tools/prism/node_modules matches package-lock.json");
        return Ok(());
    }
    run(
        "prism install",
        Command::new("npm").args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]).current_dir(&dir),
        "the Prism contract tests need Node.js 20 and npm on PATH",
    )?;
    stamp(&lock, &installed)
}

/// Where [`install_release_tools`] puts the binary of a pinned tool.
pub fn release_tool(target: &Path, name: &str) -> PathBuf {
    target.join("release-tools").join(name).join("bin").join(name)
}

/// The release test's tools (`tools/registry/pins.toml`: the registry server
/// and cargo-semver-checks), each `cargo install --locked`ed into
/// `<target>/release-tools/<name>/` unless that folder holds the pinned version.
pub fn install_release_tools(target: &Path) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    for (name, version) in crate::release::pins() {
        let dir = target.join("release-tools").join(&name);
        let stamp = dir.join("installed-version");
        if std::fs::read_to_string(&stamp).is_ok_and(|v| v == version) && release_tool(target, &name).is_file() {
            eprintln!("==> {name} install: {} holds {version}", dir.display());
            continue;
        }
        let _ = std::fs::remove_dir_all(&dir);
        let started = Instant::now();
        // Without the tools' own `lto = true, codegen-units = 1`: a
        // single-threaded link of everything, most of a cold install's time
        // on two cores (see README, Releasing, for the figures).
        run(
            &format!("{name} install"),
            Command::new(&cargo)
                .args(["install", "--locked", "--quiet", "--version", &version, "--root"])
                .arg(&dir)
                .arg(&name)
                .env("CARGO_PROFILE_RELEASE_LTO", "false")
                .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16"),
            "cargo must be on PATH",
        )?;
        std::fs::write(&stamp, &version).map_err(|e| format!("writing {}: {e}", stamp.display()))?;
        eprintln!("==> {name} {version} installed in {:.0} s", started.elapsed().as_secs_f64());
    }
    Ok(())
}

/// Both, timed, each to its end; the outcomes go into the test command's report.
pub fn prepare(root: &Path, target: &Path) -> Vec<crate::testrun::Outcome> {
    type Prep<'a> = &'a dyn Fn() -> Result<(), String>;
    let steps: [(&str, Prep<'_>); 2] = [("OpenAPI validation", &|| validate_openapi(root, target)), ("Prism install", &|| install_prism(root))];
    let mut out = Vec::new();
    for (what, f) in steps {
        let t = Instant::now();
        let r = f();
        let took = t.elapsed();
        match &r {
            Ok(()) => eprintln!("==> {what}: ok in {:.1} s", took.as_secs_f64()),
            Err(e) => eprintln!("error: {e}"),
        }
        out.push(crate::testrun::Outcome { what: what.into(), ok: r.is_ok(), took, note: r.err().unwrap_or_default() });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_validator_goes_under_the_target_dir_cargo_uses() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let elsewhere = std::env::temp_dir().join("snapsdk-other-target");
        assert_eq!(target_dir_with(root, Some(elsewhere.clone().into_os_string())), elsewhere);
        // Relative to the workspace, as cargo reads it.
        assert_eq!(target_dir_with(root, Some("rel-target".into())), root.join("rel-target"));
        assert_eq!(target_dir_with(root, None), root.join("target"));
    }
}
