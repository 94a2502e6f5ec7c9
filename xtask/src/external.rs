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
//! Each install is skipped when the lock file (or pin, and for the release
//! tools their build profile) it came from is unchanged.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Why an external tool step did not pass (the messages are the ones the test command prints).
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// The tool ran and reported a failure (a finding, a failed install).
    #[error("{what} failed ({status})")]
    Failed {
        what: String,
        status: std::process::ExitStatus,
    },
    /// The tool could not be started: `missing` says what to install.
    #[error("{what}: could not run `{program}` ({error}); {missing}")]
    NotRun {
        what: String,
        program: String,
        error: std::io::Error,
        missing: String,
    },
    /// Anything else (files, no input), as its message.
    #[error("{0}")]
    Other(String),
}

impl From<String> for ToolError {
    fn from(message: String) -> Self {
        ToolError::Other(message)
    }
}

impl From<ToolError> for String {
    fn from(e: ToolError) -> Self {
        e.to_string()
    }
}

/// Run a command, echoing it; the error names the step and what to install.
fn run(what: &str, cmd: &mut Command, missing: &str) -> Result<(), ToolError> {
    let shown = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    eprintln!("==> {what}: {shown}");
    match cmd.status() {
        Ok(s) if s.success() => Ok(()),
        Ok(status) => Err(ToolError::Failed {
            what: what.to_owned(),
            status,
        }),
        Err(error) => Err(ToolError::NotRun {
            what: what.to_owned(),
            program: cmd.get_program().to_string_lossy().into_owned(),
            error,
            missing: missing.to_owned(),
        }),
    }
}

/// Whether `stamp` holds exactly the bytes of `lock` (the last successful install used it).
fn up_to_date(lock: &Path, stamp: &Path) -> bool {
    matches!((std::fs::read(lock), std::fs::read(stamp)), (Ok(a), Ok(b)) if a == b)
}

fn stamp(lock: &Path, stamp: &Path) -> Result<(), ToolError> {
    std::fs::copy(lock, stamp)
        .map(|_| ())
        .map_err(|e| ToolError::Other(format!("writing {}: {e}", stamp.display())))
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
pub fn validate_openapi(root: &Path, target: &Path) -> Result<(), ToolError> {
    let dir = target.join("openapi-validator");
    let bin = install_validator(
        &root.join("tools/openapi-validator/requirements.txt"),
        &dir,
        &mut |what, cmd, missing| run(what, cmd, missing),
    )?;
    let docs = openapi_documents(root);
    if docs.is_empty() {
        return Err(ToolError::Other(
            "no openapi.json found under crates/ or tests/fixtures/; run `cargo xtask regen`".into(),
        ));
    }
    let rel: Vec<PathBuf> = docs
        .iter()
        .map(|d| d.strip_prefix(root).unwrap_or(d).to_path_buf())
        .collect();
    run(
        "openapi-spec-validator",
        Command::new(bin.join("openapi-spec-validator"))
            .args(["--schema", "3.1", "--validation-errors", "all"])
            .args(&rel)
            .current_dir(root),
        &format!("delete {} and rerun `cargo xtask test` to reinstall it", dir.display()),
    )
}

/// How an installer command is run: `(step name, command, what to install when it cannot start)`.
pub type Installer<'a> = dyn FnMut(&str, &mut Command, &str) -> Result<(), ToolError> + 'a;

/// The venv under `dir` with the requirements installed, through `installer`,
/// unless the last successful install used the same `requirements`; its `bin` folder.
pub fn install_validator(requirements: &Path, dir: &Path, installer: &mut Installer<'_>) -> Result<PathBuf, ToolError> {
    install_venv(requirements, &dir.join("venv"), "openapi validator", &[], installer)
}

/// A venv at `venv` holding exactly the hash-pinned `requirements` (pip run
/// with `pip_args` too), installed through `installer` again only when that
/// file changed since the last install (the copy kept inside the venv, so a
/// deleted venv is reinstalled). Returns its `bin/`.
///
/// Safe when several threads or processes ask at once (tests of a cold target
/// dir do): the check and the install hold an exclusive lock on `<venv>.lock`
/// beside the venv, so one installs and the others wait, then find it done.
pub fn install_venv(
    requirements: &Path,
    venv: &Path,
    what: &str,
    pip_args: &[&str],
    installer: &mut Installer<'_>,
) -> Result<PathBuf, ToolError> {
    let bin = venv.join("bin");
    let installed = venv.join("installed-requirements.txt");
    if let Some(dir) = venv.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    }
    let lock_path = venv.with_extension("lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| format!("opening {}: {e}", lock_path.display()))?;
    lock.lock()
        .map_err(|e| format!("locking {}: {e}", lock_path.display()))?;
    // Released when `lock` is dropped, on every return below.
    if up_to_date(requirements, &installed) {
        eprintln!(
            "==> {what} install: {} matches {}",
            venv.display(),
            requirements.display()
        );
        return Ok(bin);
    }
    let _ = std::fs::remove_dir_all(venv);
    installer(
        &format!("{what} venv"),
        Command::new("python3").args(["-m", "venv"]).arg(venv),
        &format!("{what} needs Python 3 (with venv) on PATH"),
    )?;
    installer(
        &format!("{what} install"),
        Command::new(bin.join("python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-input",
                "--require-hashes",
            ])
            .args(pip_args)
            .arg("-r")
            .arg(requirements),
        "the venv has no pip",
    )?;
    std::fs::create_dir_all(venv).map_err(|e| format!("creating {}: {e}", venv.display()))?;
    stamp(requirements, &installed)?;
    Ok(bin)
}

/// `npm ci` in tools/prism when its lock file changed since the last install.
pub fn install_prism(root: &Path) -> Result<(), ToolError> {
    install_prism_in(&root.join("tools/prism"), &mut |what, cmd, missing| {
        run(what, cmd, missing)
    })
}

/// [`install_prism`] for the npm project in `dir`, through `installer`.
pub fn install_prism_in(dir: &Path, installer: &mut Installer<'_>) -> Result<(), ToolError> {
    let lock = dir.join("package-lock.json");
    let installed = dir.join("node_modules/.snapsdk-installed-lock.json");
    let cli = dir.join("node_modules/@stoplight/prism-cli/dist/index.js");
    if up_to_date(&lock, &installed) && cli.is_file() {
        eprintln!(
            "==> prism install: {} matches package-lock.json",
            dir.join("node_modules").display()
        );
        return Ok(());
    }
    installer(
        "prism install",
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(dir),
        "the Prism contract tests need Node.js 20 and npm on PATH",
    )?;
    stamp(&lock, &installed)
}

/// The tool versions `tools/registry/pins.toml` pins, as `(name, version)`.
pub fn pins() -> Vec<(String, String)> {
    PINS.lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| !k.trim_start().starts_with('#'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().trim_matches('"').to_owned()))
        .collect()
}

const PINS: &str = include_str!("../../tools/registry/pins.toml");

/// Where [`install_release_tools`] puts the binary of a pinned tool.
pub fn release_tool(target: &Path, name: &str) -> PathBuf {
    target.join("release-tools").join(name).join("bin").join(name)
}

/// How the release tools are built: for a cheap compile, not a fast binary.
/// They run for seconds in the release test, but a cold install compiles a few
/// hundred crates. cargo-semver-checks cost 625 s user CPU with its own
/// profile (fat LTO, one codegen unit), 475 s at opt-level 1, 197 s at
/// opt-level 0 (no debug info, no LTO, 16 codegen units each).
/// README, "Releasing", has the figures.
pub const RELEASE_TOOLS_PROFILE: [(&str, &str); 4] = [
    ("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0"),
    ("CARGO_PROFILE_RELEASE_DEBUG", "false"),
    ("CARGO_PROFILE_RELEASE_LTO", "false"),
    ("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16"),
];

/// What `installed` holds after a successful install: the version, then the
/// build profile, so a change to either installs again.
pub fn release_tool_stamp(version: &str) -> String {
    let mut stamp = format!("{version}\n");
    for (k, v) in RELEASE_TOOLS_PROFILE {
        stamp.push_str(&format!("{k}={v}\n"));
    }
    stamp
}

/// The release test's tools (`tools/registry/pins.toml`: the registry server
/// and cargo-semver-checks), each `cargo install --locked`ed into
/// `<target>/release-tools/<name>/` with [`RELEASE_TOOLS_PROFILE`] unless that
/// folder holds the pinned version built with that profile.
pub fn install_release_tools(target: &Path) -> Result<(), String> {
    install_release_tools_with(target, &pins(), &mut |what, cmd, missing| run(what, cmd, missing))
}

/// [`install_release_tools`] of the `(name, version)` pins, through `installer`.
pub fn install_release_tools_with(
    target: &Path,
    pins: &[(String, String)],
    installer: &mut Installer<'_>,
) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    for (name, version) in pins {
        let dir = target.join("release-tools").join(name);
        let stamp = dir.join("installed-version");
        let wanted = release_tool_stamp(version);
        if std::fs::read_to_string(&stamp).is_ok_and(|v| v == wanted) && release_tool(target, name).is_file() {
            eprintln!("==> {name} install: {} holds {version}", dir.display());
            continue;
        }
        let _ = std::fs::remove_dir_all(&dir);
        let started = Instant::now();
        installer(
            &format!("{name} install"),
            Command::new(&cargo)
                .args(["install", "--locked", "--quiet", "--version", version, "--root"])
                .arg(&dir)
                .arg(name)
                .envs(RELEASE_TOOLS_PROFILE),
            "cargo must be on PATH",
        )?;
        std::fs::write(&stamp, &wanted).map_err(|e| format!("writing {}: {e}", stamp.display()))?;
        eprintln!(
            "==> {name} {version} installed in {:.0} s",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// [`install_venv`] of wheels only (`--only-binary=:all:`), running pip for real.
pub fn pinned_venv(requirements: &Path, venv: &Path, what: &str) -> Result<PathBuf, ToolError> {
    install_venv(
        requirements,
        venv,
        what,
        &["--only-binary=:all:"],
        &mut |what, cmd, missing| run(what, cmd, missing),
    )
}

/// The workflow files `lint_workflows` checks: `.github/workflows/*.yml|yaml`.
pub fn workflow_files(root: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(".github/workflows"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    files.sort();
    files
}

/// actionlint (with ShellCheck on every `run:` script) and zizmor `--offline`
/// on the workflows, and ShellCheck on `.github/scripts/*.sh`, from `tools/workflow-lint/requirements.txt` (hash-pinned
/// wheels that ship their binaries) in a venv under the target dir; both must
/// report nothing.
pub fn lint_workflows(root: &Path, target: &Path) -> Result<(), ToolError> {
    let bin = pinned_venv(
        &root.join("tools/workflow-lint/requirements.txt"),
        &target.join("workflow-lint/venv"),
        "workflow linters",
    )?;
    let files = workflow_files(root);
    if files.is_empty() {
        return Err(ToolError::Other("no workflow under .github/workflows/".into()));
    }
    let rel: Vec<PathBuf> = files
        .iter()
        .map(|d| d.strip_prefix(root).unwrap_or(d).to_path_buf())
        .collect();
    let path = std::env::join_paths(
        std::iter::once(bin.clone()).chain(std::env::var_os("PATH").iter().flat_map(std::env::split_paths)),
    )
    .map_err(|e| format!("PATH: {e}"))?;
    let reinstall = format!(
        "delete {} and rerun `cargo xtask test` to reinstall it",
        target.join("workflow-lint").display()
    );
    // `-shellcheck` names the pinned ShellCheck, so a different one on PATH is never used.
    let actionlint = run(
        "actionlint",
        Command::new(bin.join("actionlint"))
            .arg("-shellcheck")
            .arg(bin.join("shellcheck"))
            .args(&rel)
            .current_dir(root)
            .env("PATH", &path),
        &reinstall,
    );
    let zizmor = run(
        "zizmor",
        Command::new(bin.join("zizmor"))
            .args(["--offline", "--no-progress", ".github"])
            .current_dir(root)
            .env("PATH", &path),
        &reinstall,
    );
    // The scripts the workflows call (`run: bash .github/scripts/x.sh`) are not inline: ShellCheck them too.
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(root.join(".github/scripts"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "sh"))
        .collect();
    scripts.sort();
    let shellcheck = if scripts.is_empty() {
        Ok(())
    } else {
        let rel: Vec<PathBuf> = scripts
            .iter()
            .map(|d| d.strip_prefix(root).unwrap_or(d).to_path_buf())
            .collect();
        run(
            "shellcheck",
            Command::new(bin.join("shellcheck")).args(&rel).current_dir(root),
            &reinstall,
        )
    };
    actionlint.and(zizmor).and(shellcheck)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An installer that records each command's step name and does what npm
    /// or pip would leave behind; `fail` makes the install fail.
    fn fake<'a>(
        calls: &'a mut Vec<String>,
        fail: bool,
    ) -> impl FnMut(&str, &mut Command, &str) -> Result<(), ToolError> + 'a {
        move |what, cmd, _| {
            calls.push(what.to_owned());
            if fail {
                return Err(ToolError::Other(format!("{what} failed")));
            }
            if what == "prism install" {
                let cli = cmd
                    .get_current_dir()
                    .unwrap()
                    .join("node_modules/@stoplight/prism-cli/dist/index.js");
                std::fs::create_dir_all(cli.parent().unwrap()).unwrap();
                std::fs::write(cli, "").unwrap();
            }
            Ok(())
        }
    }

    #[test]
    fn prism_installs_only_when_its_lock_file_changed() {
        let dir = std::env::temp_dir().join(format!("xtask-prism-install-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("package-lock.json"), "{\"v\": 1}").unwrap();
        let mut calls = Vec::new();
        install_prism_in(&dir, &mut fake(&mut calls, false)).unwrap();
        assert_eq!(calls, ["prism install"], "a first install runs npm ci");
        install_prism_in(&dir, &mut fake(&mut calls, false)).unwrap();
        assert_eq!(calls.len(), 1, "an unchanged lock file runs no installer");
        std::fs::write(dir.join("package-lock.json"), "{\"v\": 2}").unwrap();
        install_prism_in(&dir, &mut fake(&mut calls, false)).unwrap();
        assert_eq!(calls.len(), 2, "a changed lock file installs again");
        // A failed install leaves no stamp, so the next run tries again.
        std::fs::write(dir.join("package-lock.json"), "{\"v\": 3}").unwrap();
        assert!(install_prism_in(&dir, &mut fake(&mut calls, true)).is_err());
        install_prism_in(&dir, &mut fake(&mut calls, false)).unwrap();
        assert_eq!(calls.len(), 4);
        // A deleted Prism is installed again under the same lock file.
        std::fs::remove_dir_all(dir.join("node_modules/@stoplight")).unwrap();
        install_prism_in(&dir, &mut fake(&mut calls, false)).unwrap();
        assert_eq!(calls.len(), 5);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_validator_installs_only_when_its_requirements_changed() {
        let dir = std::env::temp_dir().join(format!("xtask-validator-install-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let req = dir.join("requirements.txt");
        std::fs::write(&req, "openapi-spec-validator==1 --hash=sha256:aa\n").unwrap();
        let target = dir.join("target/openapi-validator");
        let mut calls = Vec::new();
        let bin = install_validator(&req, &target, &mut fake(&mut calls, false)).unwrap();
        assert_eq!(bin, target.join("venv/bin"));
        assert_eq!(calls, ["openapi validator venv", "openapi validator install"]);
        install_validator(&req, &target, &mut fake(&mut calls, false)).unwrap();
        assert_eq!(calls.len(), 2, "unchanged requirements run no installer");
        std::fs::write(&req, "openapi-spec-validator==2 --hash=sha256:bb\n").unwrap();
        install_validator(&req, &target, &mut fake(&mut calls, false)).unwrap();
        assert_eq!(calls.len(), 4, "changed requirements install again");
        // A deleted venv is reinstalled.
        std::fs::remove_dir_all(target.join("venv")).unwrap();
        install_validator(&req, &target, &mut fake(&mut calls, false)).unwrap();
        assert_eq!(calls.len(), 6);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_venv_installed_by_several_threads_at_once_is_installed_once() {
        let dir = std::env::temp_dir().join(format!("xtask-venv-race-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let req = dir.join("requirements.txt");
        std::fs::write(&req, "tool==1 --hash=sha256:aa\n").unwrap();
        let venv = dir.join("cold-target/workflow-lint/venv");
        let calls = std::sync::Mutex::new(Vec::new());
        // What python -m venv and pip leave behind, slowly, so the threads overlap.
        let installer = |what: &str, cmd: &mut Command, _: &str| -> Result<(), ToolError> {
            calls.lock().unwrap().push(what.to_owned());
            if what.ends_with(" venv") {
                let venv = Path::new(cmd.get_args().last().unwrap());
                std::fs::create_dir(venv).map_err(|e| format!("venv: {e}"))?;
                std::thread::sleep(std::time::Duration::from_millis(50));
                std::fs::create_dir(venv.join("bin")).map_err(|e| format!("bin: {e}"))?;
            } else {
                std::thread::sleep(std::time::Duration::from_millis(50));
                let bin = Path::new(cmd.get_program()).parent().unwrap();
                std::fs::write(bin.join("tool"), "#!").map_err(|e| format!("pip: {e}"))?;
            }
            Ok(())
        };
        let results: Vec<Result<PathBuf, String>> = std::thread::scope(|s| {
            let threads: Vec<_> = (0..6)
                .map(|_| s.spawn(|| install_venv(&req, &venv, "lint", &[], &mut { installer }).map_err(String::from)))
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        for r in &results {
            assert_eq!(
                r.as_ref(),
                Ok(&venv.join("bin")),
                "every caller gets the venv: {results:?}"
            );
        }
        assert_eq!(
            *calls.lock().unwrap(),
            ["lint venv", "lint install"],
            "one install, the others waited"
        );
        assert!(venv.join("bin/tool").is_file() && up_to_date(&req, &venv.join("installed-requirements.txt")));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_release_tool_installs_again_when_its_pin_or_build_profile_changes() {
        let target = std::env::temp_dir().join(format!("xtask-release-tools-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&target);
        let calls = std::cell::RefCell::new(Vec::<Vec<(String, String)>>::new());
        // What `cargo install --root DIR NAME` leaves: DIR/bin/NAME.
        let mut installer = |_: &str, cmd: &mut Command, _: &str| -> Result<(), ToolError> {
            let args: Vec<String> = cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
            let root = Path::new(&args[args.len() - 2]);
            std::fs::create_dir_all(root.join("bin")).unwrap();
            std::fs::write(root.join("bin").join(&args[args.len() - 1]), "").unwrap();
            calls.borrow_mut().push(
                cmd.get_envs()
                    .map(|(k, v)| {
                        (
                            k.to_string_lossy().into_owned(),
                            v.unwrap().to_string_lossy().into_owned(),
                        )
                    })
                    .collect(),
            );
            Ok(())
        };
        let pins = |v: &str| vec![("tool".to_owned(), v.to_owned())];
        install_release_tools_with(&target, &pins("1.0.0"), &mut installer).unwrap();
        assert_eq!(calls.borrow().len(), 1);
        // Built with the cheap profile.
        for (k, v) in RELEASE_TOOLS_PROFILE {
            assert!(calls.borrow()[0].contains(&(k.to_owned(), v.to_owned())), "{k}");
        }
        install_release_tools_with(&target, &pins("1.0.0"), &mut installer).unwrap();
        assert_eq!(calls.borrow().len(), 1, "same pin and profile: no install");
        install_release_tools_with(&target, &pins("1.0.1"), &mut installer).unwrap();
        assert_eq!(calls.borrow().len(), 2, "a new pin installs again");
        // An install from before the profile was recorded (its stamp holds the version alone).
        let stamp = target.join("release-tools/tool/installed-version");
        std::fs::write(&stamp, "1.0.1").unwrap();
        install_release_tools_with(&target, &pins("1.0.1"), &mut installer).unwrap();
        assert_eq!(calls.borrow().len(), 3, "another build profile installs again");
        assert_eq!(std::fs::read_to_string(&stamp).unwrap(), release_tool_stamp("1.0.1"));
        std::fs::remove_dir_all(&target).unwrap();
    }

    #[test]
    fn the_validator_goes_under_the_target_dir_cargo_uses() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let elsewhere = std::env::temp_dir().join("snapsdk-other-target");
        assert_eq!(
            target_dir_with(root, Some(elsewhere.clone().into_os_string())),
            elsewhere
        );
        // Relative to the workspace, as cargo reads it.
        assert_eq!(
            target_dir_with(root, Some("rel-target".into())),
            root.join("rel-target")
        );
        assert_eq!(target_dir_with(root, None), root.join("target"));
    }
}
