//! `cargo xtask release [--registry NAME] [--dry-run] [--crate NAME]... [--no-verify]`
//!
//! Publishes the workspace's crates whose version has no `<crate>-v<version>`
//! tag yet, in dependency order, to the registry cargo knows as `NAME`
//! (crates.io when omitted), then tags each one.
//!
//! Before anything is uploaded it refuses, naming the fix, when the working
//! tree has uncommitted changes, when `regen --check` would fail (stale or
//! hand-edited generated files, a spec version bump that does not cover the
//! API change since the crate's last release tag, the runtime's version and
//! the clients' requirement disagreeing, vendor documents that drifted from
//! `sources.lock`), or when cargo-semver-checks finds a break in a
//! hand-written crate's public API since its last release tag that its new
//! version does not allow.
//!
//! Publishing happens from a scratch clone of `HEAD` under
//! `<target>/release/`, never from the working tree: there, with
//! `--registry NAME`, every `[workspace.dependencies]` entry that points at a
//! member by `path` gets `registry = "NAME"`, so each published client
//! requires its runtime from the registry it is released to (without it,
//! cargo looks the runtime up on crates.io). No manifest of the repository is
//! edited.
//!
//! The run is resumable: for each crate it first asks the registry (through
//! cargo itself, by resolving a one-dependency probe project, so any index
//! protocol and any credential cargo is configured with work) whether it
//! already has that version and with which checksum. The same checksum as the
//! local package: not uploaded again, only tagged. Another checksum: an
//! error naming the crate and both checksums. After each upload it waits
//! (bounded) until the index serves the version before it goes on to the
//! crates that depend on it.
//!
//! Each released client gets a `CHANGELOG.md` entry (Keep a Changelog) with
//! the API-change report since its last release tag; the entries are
//! committed before publishing so the tags point at what was published.
//! The run ends with a markdown summary, also written to
//! `<target>/release/release-summary.md`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::apidiff::{self, Change, Impact};

/// The name of the scratch package that asks a registry what it has.
const PROBE: &str = "snapsdk-release-probe";

/// What to release, and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// The repository (its working tree must be clean).
    pub root: PathBuf,
    /// A registry configured for cargo (`[registries.NAME]`); `None`: crates.io.
    pub registry: Option<String>,
    /// Everything but the upload, the changelog commit and the tags.
    pub dry_run: bool,
    /// Only these crates (empty: every publishable member).
    pub crates: Vec<String>,
    /// Pass `--no-verify` to cargo (the crates were verify-built already).
    pub no_verify: bool,
    /// How long to wait for the registry's index to serve an uploaded version.
    pub index_timeout: Duration,
    /// Scratch folder: the clone, the probe, the summary (`<target>/release`).
    pub work: PathBuf,
    /// The vendor documents (`shared/vendor-docs`) for the drift check.
    pub docs: Option<PathBuf>,
    /// The `cargo-semver-checks` binary; `None`: found on `PATH`.
    pub semver_checks: Option<PathBuf>,
}

impl Options {
    pub fn new(root: &Path) -> Options {
        let target = crate::external::target_dir(root);
        Options {
            root: root.to_path_buf(),
            registry: None,
            dry_run: false,
            crates: Vec::new(),
            no_verify: false,
            index_timeout: Duration::from_secs(300),
            work: target.join("release"),
            docs: None,
            semver_checks: None,
        }
    }

    fn registry_label(&self) -> String {
        match &self.registry {
            Some(r) => format!("registry `{r}`"),
            None => "crates.io".into(),
        }
    }
}

/// What happened to one crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Its version was tagged before this run: nothing to do.
    UpToDate { tag: String },
    /// Uploaded by this run.
    Published,
    /// The registry already had this version with the same content (an
    /// earlier run uploaded it and stopped before tagging): tagged only.
    AlreadyInRegistry,
    /// `--dry-run`: would be uploaded.
    WouldPublish,
    /// `--dry-run`: the registry already has it with the same content.
    WouldTagOnly,
}

impl Outcome {
    fn text(&self) -> String {
        match self {
            Outcome::UpToDate { tag } => format!("up to date (tag `{tag}`)"),
            Outcome::Published => "published".into(),
            Outcome::AlreadyInRegistry => "already in the registry with the same checksum: not uploaded again".into(),
            Outcome::WouldPublish => "would publish (dry run)".into(),
            Outcome::WouldTagOnly => "already in the registry with the same checksum (dry run)".into(),
        }
    }
}

/// One crate of the release.
#[derive(Debug, Clone)]
pub struct Released {
    pub name: String,
    pub version: String,
    pub outcome: Outcome,
    /// The changelog entry (clients) or the semver-checks verdict (hand-written crates).
    pub changes: String,
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct Summary {
    pub crates: Vec<Released>,
    pub markdown: String,
    /// Where the markdown was written.
    pub path: PathBuf,
}

impl Summary {
    /// Names of the crates this run uploaded, in upload order.
    pub fn published(&self) -> Vec<&str> {
        self.crates
            .iter()
            .filter(|c| c.outcome == Outcome::Published)
            .map(|c| c.name.as_str())
            .collect()
    }
}

/// A publishable workspace member.
#[derive(Debug, Clone)]
struct Member {
    name: String,
    version: String,
    /// Folder relative to the root.
    dir: PathBuf,
    /// Workspace members it depends on (normal and build dependencies).
    deps: Vec<String>,
    /// Generated from a spec (its manifest carries the `@generated` marker).
    generated: bool,
    /// The only registries its manifest allows (`publish = [...]`); `None`: any.
    registries: Option<Vec<String>>,
}

fn say(s: impl AsRef<str>) {
    eprintln!("release: {}", s.as_ref());
}

fn shown(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn output(cmd: &mut Command) -> Result<Output, String> {
    cmd.output().map_err(|e| format!("could not run `{}`: {e}", shown(cmd)))
}

fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let o = output(Command::new("git").args(args).current_dir(dir))?;
    if !o.status.success() {
        return Err(format!(
            "`git {}` in {} failed: {}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&o.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&o.stdout).trim_end().to_owned())
}

fn cargo_bin() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Run cargo, its output passed through; error names the step and the exit status.
fn cargo_step(what: &str, dir: &Path, target: &Path, args: &[&str]) -> Result<(), String> {
    let mut cmd = Command::new(cargo_bin());
    cmd.args(args).current_dir(dir).env("CARGO_TARGET_DIR", target);
    say(format!("{what}: cargo {}", args.join(" ")));
    let status = cmd.status().map_err(|e| format!("{what}: could not run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what}: `cargo {}` failed ({status})", args.join(" ")))
    }
}

/// The tag of a crate's release.
pub fn tag_name(krate: &str, version: &str) -> String {
    format!("{krate}-v{version}")
}

/// The scratch folders of a run, under [`Options::work`].
struct Scratch {
    /// The clone of the commit that is published.
    ws: PathBuf,
    /// The clone's cargo target folder.
    target: PathBuf,
    /// The project that asks the registry what it has (see [`query`]).
    probe: PathBuf,
}

/// Release: check, publish what has no tag yet, tag, summarise.
pub fn run(opts: &Options) -> Result<Summary, String> {
    let root = opts.root.as_path();
    let started = Instant::now();
    check_registry_name(opts)?;
    // 1. The tree is exactly a commit.
    let head = clean_head(root)?;
    // 2. What regen --check checks.
    check_generated(root, opts.docs.as_deref())?;
    say("checks passed: clean tree, regen --check (versions, spec semver gate against the release tags, vendor document drift, generated files)");
    // 3. The members, in dependency order, and which need a release.
    let members = members(root)?;
    let (mut report, todo) = plan(opts, &members)?;
    if todo.is_empty() {
        say(format!(
            "nothing to release: every selected crate's version is tagged ({}); nothing was published",
            report
                .iter()
                .map(|r| format!("{} {}", r.name, r.version))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        return finish(opts, report, &head, started);
    }
    say(format!(
        "to release, in this order: {}",
        todo.iter()
            .map(|m| format!("{} {}", m.name, m.version))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    // 4. Hand-written crates: their API against their last release, by cargo-semver-checks.
    std::fs::create_dir_all(&opts.work).map_err(|e| format!("creating {}: {e}", opts.work.display()))?;
    let scratch = Scratch {
        ws: opts.work.join("ws"),
        target: opts.work.join("target"),
        probe: opts.work.join("probe"),
    };
    clone_at(root, &head, &scratch.ws)?;
    let last_tags: BTreeMap<String, String> = apidiff::release_tags(root)
        .into_iter()
        .map(|(name, (_, tag))| (name, tag))
        .collect();
    let mut changes: BTreeMap<String, String> = BTreeMap::new();
    for m in todo.iter().filter(|m| !m.generated) {
        let last = last_tags.get(&m.name).map(String::as_str);
        changes.insert(
            m.name.clone(),
            semver_check(opts, &scratch.ws, &scratch.target, m, last)?,
        );
    }
    // 5. Changelogs of the generated clients: new entries, committed before publishing.
    let changelogs = new_changelog_entries(root, &todo, &last_tags, &mut changes)?;
    let head = commit_changelogs(opts, &scratch.ws, &todo, &changelogs, head)?;
    // 6. The scratch manifests point at the registry.
    if let Some(r) = &opts.registry {
        point_at_registry(&scratch.ws, r)?;
    }
    // 7. Publish in order, each after the registry serves what it depends on.
    let ours: BTreeSet<&str> = members.iter().map(|m| m.name.as_str()).collect();
    report.extend(publish(opts, &scratch, &todo, &ours, &head, &changes)?);
    finish(opts, report, &head, started)
}

/// `--registry NAME` is a name cargo could have a `[registries.NAME]` table for.
fn check_registry_name(opts: &Options) -> Result<(), String> {
    if let Some(r) = &opts.registry {
        if !crate::names::registry_name_ok(r) {
            return Err(format!(
                "--registry {r:?}: a registry name is letters, digits, `-` and `_`, as in cargo's `[registries.NAME]`"
            ));
        }
    }
    Ok(())
}

/// The commit checked out, once the working tree is known to be exactly that commit.
fn clean_head(root: &Path) -> Result<String, String> {
    let dirty = git(root, &["status", "--porcelain", "--untracked-files=normal"])?;
    if !dirty.is_empty() {
        let first: Vec<&str> = dirty.lines().take(5).collect();
        return Err(format!(
            "the working tree has uncommitted changes ({}{}); commit or stash them first: a release publishes and tags exactly a commit",
            first.join(", "),
            if dirty.lines().count() > 5 { ", ..." } else { "" }
        ));
    }
    git(root, &["rev-parse", "HEAD"])
}

/// The selected members (`--crate`, or every one), in dependency order, split
/// into the report rows of those whose version is tagged already and the
/// members to release.
fn plan<'a>(opts: &Options, members: &'a [Member]) -> Result<(Vec<Released>, Vec<&'a Member>), String> {
    let order = dependency_order(members)?;
    let by_name: BTreeMap<&str, &Member> = members.iter().map(|m| (m.name.as_str(), m)).collect();
    for c in &opts.crates {
        if !by_name.contains_key(c.as_str()) {
            return Err(format!(
                "--crate {c}: not a publishable member of this workspace (they are: {})",
                order.join(", ")
            ));
        }
    }
    let tags: BTreeSet<String> = git(&opts.root, &["tag", "--list", "*-v*"])?
        .lines()
        .map(str::to_owned)
        .collect();
    let untagged = |m: &Member| !tags.contains(&tag_name(&m.name, &m.version));
    let selected: Vec<&Member> = order
        .iter()
        .map(|n| by_name[n.as_str()])
        .filter(|m| opts.crates.is_empty() || opts.crates.contains(&m.name))
        .collect();
    let todo: Vec<&Member> = selected.iter().copied().filter(|m| untagged(m)).collect();
    check_dependencies_selected(&todo, &by_name, &untagged)?;
    check_registry_allowed(opts, &todo)?;
    let report: Vec<Released> = selected
        .iter()
        .filter(|m| !untagged(m))
        .map(|m| Released {
            name: m.name.clone(),
            version: m.version.clone(),
            outcome: Outcome::UpToDate {
                tag: tag_name(&m.name, &m.version),
            },
            changes: String::new(),
        })
        .collect();
    Ok((report, todo))
}

/// A crate whose manifest has `publish = [...]` goes only to a registry it lists.
fn check_registry_allowed(opts: &Options, todo: &[&Member]) -> Result<(), String> {
    // cargo's name for the public registry in `publish = [...]`.
    let target = opts.registry.as_deref().unwrap_or("crates-io");
    for m in todo {
        let Some(list) = &m.registries else { continue };
        if list.iter().any(|r| r == target) {
            continue;
        }
        let manifest = m.dir.join("Cargo.toml");
        let setting = if m.generated {
            "`crate.publish` in the vendor's specs/<vendor>/vendor.yaml (then `cargo xtask regen`)".to_owned()
        } else {
            format!("`publish` in {}", manifest.display())
        };
        return Err(format!(
            "{} {} may only be published to {} (`publish = [{}]` in {}), not to {}; nothing was published. \
             Release to one of those (`--registry NAME`), leave the crate out (`--crate` the others), or add `{target}` to {setting}",
            m.name,
            m.version,
            list.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", "),
            list.iter().map(|r| format!("{r:?}")).collect::<Vec<_>>().join(", "),
            manifest.display(),
            opts.registry_label(),
        ));
    }
    Ok(())
}

/// A selected crate cannot go out before an unreleased member it depends on.
fn check_dependencies_selected(
    todo: &[&Member],
    by_name: &BTreeMap<&str, &Member>,
    untagged: &impl Fn(&Member) -> bool,
) -> Result<(), String> {
    for m in todo {
        for d in &m.deps {
            let dep = by_name[d.as_str()];
            if untagged(dep) && !todo.iter().any(|t| t.name == dep.name) {
                return Err(format!(
                    "{} {} depends on {} {}, which has no release tag `{}` yet; add `--crate {}` (it is released first) or drop `--crate`",
                    m.name,
                    m.version,
                    dep.name,
                    dep.version,
                    tag_name(&dep.name, &dep.version),
                    dep.name
                ));
            }
        }
    }
    Ok(())
}

/// The changelogs of the generated clients of `todo` that get a new entry, as
/// `(path relative to the root, new text)`; every entry is also put in `changes`.
fn new_changelog_entries(
    root: &Path,
    todo: &[&Member],
    last_tags: &BTreeMap<String, String>,
    changes: &mut BTreeMap<String, String>,
) -> Result<Vec<(PathBuf, String)>, String> {
    let date = git(root, &["log", "-1", "--format=%cs", "HEAD"])?;
    let mut changelogs = Vec::new();
    for m in todo.iter().filter(|m| m.generated) {
        let entry = changelog_entry(root, m, last_tags.get(&m.name).map(String::as_str), &date)?;
        changes.insert(m.name.clone(), entry.clone());
        let path = m.dir.join("CHANGELOG.md");
        let old = std::fs::read_to_string(root.join(&path)).ok();
        if let Some(new) = add_entry(old.as_deref(), &m.name, &m.version, &entry) {
            changelogs.push((path, new));
        }
    }
    Ok(changelogs)
}

/// Write the new changelogs: on a dry run into the scratch copy `ws` only;
/// otherwise into the repository, committed, and `ws` cloned again from that
/// commit. Returns the commit to publish and tag (`head` when nothing is committed).
fn commit_changelogs(
    opts: &Options,
    ws: &Path,
    todo: &[&Member],
    changelogs: &[(PathBuf, String)],
    head: String,
) -> Result<String, String> {
    let root = opts.root.as_path();
    if changelogs.is_empty() {
        return Ok(head);
    }
    if opts.dry_run {
        for (path, text) in changelogs {
            write(&ws.join(path), text)?;
            say(format!(
                "dry run: {} gets a new entry (written in the scratch copy only)",
                path.display()
            ));
        }
        return Ok(head);
    }
    for (path, text) in changelogs {
        write(&root.join(path), text)?;
    }
    let paths: Vec<String> = changelogs
        .iter()
        .map(|(p, _)| p.to_string_lossy().into_owned())
        .collect();
    let mut args = vec!["add", "--"];
    args.extend(paths.iter().map(String::as_str));
    git(root, &args)?;
    let names: Vec<String> = todo
        .iter()
        .filter(|m| m.generated)
        .map(|m| format!("{} {}", m.name, m.version))
        .collect();
    let message = format!(
        "Changelogs for the release of {}\n\nWritten by `cargo xtask release`.",
        names.join(", ")
    );
    git(root, &["commit", "--quiet", "--no-verify", "-m", &message])
        .map_err(|e| format!("{e}\nhint: the changelog commit needs a git identity (`git config user.name` and `user.email`); the changelogs are left in the working tree, `git checkout -- crates` drops them"))?;
    let head = git(root, &["rev-parse", "HEAD"])?;
    say(format!(
        "committed the changelog entries ({}) as {}",
        paths.join(", "),
        &head[..12]
    ));
    clone_at(root, &head, ws)?;
    Ok(head)
}

/// Step 7: each member of `todo` in order is uploaded unless the registry has
/// it already, then tagged at `head`; a dry run packages them all, uploads and
/// tags nothing. The report rows of `todo`.
fn publish(
    opts: &Options,
    scratch: &Scratch,
    todo: &[&Member],
    ours: &BTreeSet<&str>,
    head: &str,
    changes: &BTreeMap<String, String>,
) -> Result<Vec<Released>, String> {
    let registry_args: Vec<&str> = opts
        .registry
        .as_deref()
        .map(|r| vec!["--registry", r])
        .unwrap_or_default();
    if opts.dry_run {
        // Nothing is uploaded, so the clients are packaged against the runtime
        // being released through cargo's local overlay (`--workspace`).
        let mut args = vec!["publish", "--dry-run", "--locked", "--allow-dirty"];
        args.extend(&registry_args);
        for m in todo {
            args.extend(["-p", m.name.as_str()]);
        }
        if opts.no_verify {
            args.push("--no-verify");
        }
        cargo_step("dry run: package and verify", &scratch.ws, &scratch.target, &args)?;
    }
    let mut report = Vec::new();
    for m in todo {
        let have = query(opts, &scratch.probe, m, ours)?;
        let outcome = if opts.dry_run {
            dry_run_outcome(opts, scratch, m, have, &registry_args)?
        } else {
            let outcome = upload(opts, scratch, m, ours, have, &registry_args)?;
            let tag = tag_name(&m.name, &m.version);
            git(&opts.root, &["tag", &tag, head])?;
            say(format!("tagged {tag} at {}", &head[..12]));
            outcome
        };
        report.push(Released {
            name: m.name.clone(),
            version: m.version.clone(),
            outcome,
            changes: changes.get(&m.name).cloned().unwrap_or_default(),
        });
    }
    Ok(report)
}

/// `--dry-run`: what would happen to `m`, given the checksum the registry has
/// for its version (`have`).
fn dry_run_outcome(
    opts: &Options,
    scratch: &Scratch,
    m: &Member,
    have: Option<String>,
    registry_args: &[&str],
) -> Result<Outcome, String> {
    match have {
        None => Ok(Outcome::WouldPublish),
        Some(sum) => {
            let mine = package_sum(&scratch.ws, &scratch.target, m, registry_args)?;
            same_or_error(opts, m, &sum, &mine)?;
            Ok(Outcome::WouldTagOnly)
        }
    }
}

/// Package `m` and upload it, unless the registry has its version already
/// (`have`: the registry's checksum) with the same content; after an upload,
/// wait until the registry's index serves it.
fn upload(
    opts: &Options,
    scratch: &Scratch,
    m: &Member,
    ours: &BTreeSet<&str>,
    have: Option<String>,
    registry_args: &[&str],
) -> Result<Outcome, String> {
    let mine = package_sum(&scratch.ws, &scratch.target, m, registry_args)?;
    match have {
        Some(sum) => {
            same_or_error(opts, m, &sum, &mine)?;
            say(format!(
                "{} {} is already in {} with the same checksum: not uploading it again",
                m.name,
                m.version,
                opts.registry_label()
            ));
            Ok(Outcome::AlreadyInRegistry)
        }
        None => {
            let mut args = vec!["publish", "-p", m.name.as_str(), "--locked", "--allow-dirty"];
            args.extend(registry_args);
            if opts.no_verify {
                args.push("--no-verify");
            }
            cargo_step(&format!("publish {} {}", m.name, m.version), &scratch.ws, &scratch.target, &args).map_err(|e| {
                format!("{e}\nnothing after {} was published; rerun `cargo xtask release` once the cause is fixed: it asks {} what it already has and continues", m.name, opts.registry_label())
            })?;
            wait_for_index(opts, &scratch.probe, m, ours, &mine)?;
            Ok(Outcome::Published)
        }
    }
}

fn finish(opts: &Options, mut report: Vec<Released>, head: &str, started: Instant) -> Result<Summary, String> {
    let order: Vec<String> = report.iter().map(|r| r.name.clone()).collect();
    report.sort_by_key(|r| order.iter().position(|n| *n == r.name));
    let markdown = summary_markdown(opts, &report, head);
    std::fs::create_dir_all(&opts.work).map_err(|e| format!("creating {}: {e}", opts.work.display()))?;
    let path = opts.work.join("release-summary.md");
    write(&path, &markdown)?;
    let published = report.iter().filter(|r| r.outcome == Outcome::Published).count();
    say(format!(
        "{}: {published} published, summary in {} ({:.1} s){}",
        if opts.dry_run { "dry run done" } else { "done" },
        path.display(),
        started.elapsed().as_secs_f64(),
        if !opts.dry_run
            && report
                .iter()
                .any(|r| matches!(r.outcome, Outcome::Published | Outcome::AlreadyInRegistry))
        {
            "; push the commit and the new tags: `git push && git push --tags`"
        } else {
            ""
        }
    ));
    Ok(Summary {
        crates: report,
        markdown,
        path,
    })
}

fn summary_markdown(opts: &Options, report: &[Released], head: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Release{} to {}\n",
        if opts.dry_run { " (dry run)" } else { "" },
        opts.registry_label()
    );
    let _ = writeln!(s, "Commit `{}`.\n", &head[..12.min(head.len())]);
    let _ = writeln!(s, "| crate | version | outcome |\n|---|---|---|");
    for r in report {
        let _ = writeln!(s, "| `{}` | {} | {} |", r.name, r.version, r.outcome.text());
    }
    if report.iter().all(|r| matches!(r.outcome, Outcome::UpToDate { .. })) {
        let _ = writeln!(s, "\nNothing to release: every crate's version is already tagged.");
    }
    for r in report.iter().filter(|r| !r.changes.is_empty()) {
        // A changelog entry starts with its own `## [version] - date` line.
        let body = if r.changes.starts_with("## [") {
            r.changes.split_once("\n\n").map_or("", |(_, b)| b)
        } else {
            r.changes.as_str()
        };
        let _ = writeln!(
            s,
            "\n## `{}` {}\n\n{}",
            r.name,
            r.version,
            body.replace("\n### ", "\n#### ").trim_end()
        );
    }
    s
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(|e| format!("creating {}: {e}", d.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}

/// What `regen --check` refuses, each with its fix.
fn check_generated(root: &Path, docs: Option<&Path>) -> Result<(), String> {
    crate::versions::check(root).map_err(|e| e.to_string())?;
    let gate = apidiff::gate(root, None).map_err(|e| format!("semver check of the specs: {e}"))?;
    if !gate.failures.is_empty() {
        return Err(format!(
            "{}\nthe version bumps do not cover the API changes since the last release tags; bump as named, run `cargo xtask regen`, commit, and release again (`cargo xtask diff <tag>` lists the changes)",
            gate.failures.join("\n")
        ));
    }
    match docs {
        Some(docs) => {
            let drift = crate::sources::drift(root, docs, None).map_err(|e| e.to_string())?;
            if !drift.is_empty() {
                return Err(format!(
                    "{}\nthe vendor documents differ from specs/*/sources.lock; `cargo xtask sources` reports what changed and who cites it; update the specs, run `cargo xtask sources --accept` and `cargo xtask regen`, commit, and release again",
                    drift.join("\n")
                ));
            }
        }
        None => say("note: shared/vendor-docs not found beside the checkout; vendor document drift is not checked"),
    }
    let opts = crate::regen::Options {
        check: true,
        ..crate::regen::Options::workspace(root, docs.map(Path::to_path_buf))
    };
    match crate::regen::run(&opts) {
        Ok(_) => Ok(()),
        Err(crate::regen::Failure::Stale(r)) => Err(format!(
            "{}\nrun `cargo xtask regen`, commit, and release again",
            r.stale_message()
        )),
        Err(crate::regen::Failure::Spec(d)) => Err(format!(
            "{}\nthe specs have errors; fix them, run `cargo xtask regen`, commit",
            d.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n")
        )),
        Err(crate::regen::Failure::Other(e)) => Err(e),
    }
}

/// The workspace's publishable members, from `cargo metadata`.
fn members(root: &Path) -> Result<Vec<Member>, String> {
    // Resolved with `--locked`: a Cargo.lock that does not match the manifests
    // (a version bumped without a build) would be rewritten by every publish.
    let o = output(
        Command::new(cargo_bin())
            .args(["metadata", "--format-version", "1", "--locked"])
            .current_dir(root),
    )?;
    if !o.status.success() {
        let err = String::from_utf8_lossy(&o.stderr);
        if err.contains("--locked") {
            return Err(format!("Cargo.lock does not match the manifests ({}); run `cargo update --workspace` (or any cargo build), commit Cargo.lock, and release again", err.trim().lines().next().unwrap_or_default()));
        }
        return Err(format!("cargo metadata failed: {}", err.trim()));
    }
    let meta: serde_json::Value = serde_json::from_slice(&o.stdout).map_err(|e| format!("cargo metadata: {e}"))?;
    let ids: BTreeSet<&str> = meta["workspace_members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
        .collect();
    let packages: Vec<serde_json::Value> = meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["id"].as_str().is_some_and(|id| ids.contains(id)))
        .cloned()
        .collect();
    let names: BTreeSet<String> = packages
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect();
    let mut out = Vec::new();
    for p in &packages {
        // `publish = false` is an empty list in cargo metadata.
        if p["publish"].as_array().is_some_and(|a| a.is_empty()) {
            continue;
        }
        let manifest = PathBuf::from(p["manifest_path"].as_str().unwrap_or_default());
        let dir = manifest
            .parent()
            .and_then(|d| d.strip_prefix(root).ok())
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let generated = std::fs::read_to_string(&manifest).is_ok_and(|t| t.contains(crate::write::MARKER));
        let deps = p["dependencies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["kind"].as_str() != Some("dev"))
            .filter_map(|d| d["name"].as_str())
            .filter(|n| names.contains(*n))
            .map(str::to_owned)
            .collect();
        out.push(Member {
            name: p["name"].as_str().unwrap_or_default().to_owned(),
            version: p["version"].as_str().unwrap_or_default().to_owned(),
            dir,
            deps,
            generated,
            registries: p["publish"]
                .as_array()
                .map(|a| a.iter().filter_map(|r| r.as_str().map(str::to_owned)).collect()),
        });
    }
    Ok(out)
}

/// Members ordered so that each comes after what it depends on (ties by name).
fn dependency_order(members: &[Member]) -> Result<Vec<String>, String> {
    let publishable: BTreeSet<&str> = members.iter().map(|m| m.name.as_str()).collect();
    let mut done: Vec<String> = Vec::new();
    let mut left: Vec<&Member> = members.iter().collect();
    left.sort_by(|a, b| a.name.cmp(&b.name));
    while !left.is_empty() {
        let ready = left.iter().position(|m| {
            m.deps
                .iter()
                .all(|d| done.contains(d) || !publishable.contains(d.as_str()))
        });
        let Some(i) = ready else {
            return Err(format!(
                "the workspace members {} depend on each other in a cycle",
                left.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", ")
            ));
        };
        done.push(left.remove(i).name.clone());
    }
    // A publishable crate depending on an unpublishable member cannot be published.
    for m in members {
        if let Some(d) = m.deps.iter().find(|d| !publishable.contains(d.as_str())) {
            return Err(format!(
                "{} depends on the workspace member {d}, which has `publish = false`",
                m.name
            ));
        }
    }
    Ok(done)
}

/// A fresh clone of `commit` at `dir` (tags included), replacing what was there.
fn clone_at(root: &Path, commit: &str, dir: &Path) -> Result<(), String> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| format!("removing the old scratch copy {}: {e}", dir.display()))?;
    }
    let parent = dir.parent().unwrap_or(dir);
    std::fs::create_dir_all(parent).map_err(|e| format!("creating {}: {e}", parent.display()))?;
    git(
        parent,
        &[
            "clone",
            "--quiet",
            "--shared",
            "--no-checkout",
            &root.to_string_lossy(),
            &dir.to_string_lossy(),
        ],
    )?;
    git(dir, &["checkout", "--quiet", "--detach", commit])?;
    Ok(())
}

/// Give every `[workspace.dependencies]` entry with a `path` the key `registry = NAME`.
pub fn point_at_registry(ws: &Path, registry: &str) -> Result<Vec<String>, String> {
    let path = ws.join("Cargo.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (text, changed) = with_registry(&text, registry)?;
    write(&path, &text)?;
    say(format!(
        "scratch copy: [workspace.dependencies] {} now name{} registry `{registry}`",
        changed.join(", "),
        if changed.len() == 1 { "s" } else { "" }
    ));
    Ok(changed)
}

/// [`point_at_registry`] on the text of a root manifest.
pub fn with_registry(text: &str, registry: &str) -> Result<(String, Vec<String>), String> {
    let mut doc = text
        .parse::<toml_edit::DocumentMut>()
        .map_err(|e| format!("Cargo.toml: {e}"))?;
    let mut changed = Vec::new();
    if let Some(deps) = doc
        .get_mut("workspace")
        .and_then(|w| w.get_mut("dependencies"))
        .and_then(|d| d.as_table_like_mut())
    {
        for (name, dep) in deps.iter_mut() {
            let Some(t) = dep.as_table_like_mut() else { continue };
            if t.contains_key("path") {
                if !t.contains_key("version") {
                    return Err(format!("Cargo.toml: [workspace.dependencies] {name} has a `path` but no `version`; a published crate cannot depend on it"));
                }
                t.insert("registry", toml_edit::value(registry));
                changed.push(name.to_string());
            }
        }
    }
    Ok((doc.to_string(), changed))
}

/// Package one crate in the scratch copy; the sha256 of its `.crate` file.
fn package_sum(ws: &Path, target: &Path, m: &Member, registry_args: &[&str]) -> Result<String, String> {
    let mut args = vec![
        "package",
        "-p",
        m.name.as_str(),
        "--locked",
        "--allow-dirty",
        "--no-verify",
        "--quiet",
    ];
    args.extend(registry_args);
    cargo_step(&format!("package {} {}", m.name, m.version), ws, target, &args)?;
    let file = target.join("package").join(format!("{}-{}.crate", m.name, m.version));
    let bytes = std::fs::read(&file).map_err(|e| format!("reading {}: {e}", file.display()))?;
    Ok(format!("{:x}", Sha256::digest(&bytes)))
}

fn same_or_error(opts: &Options, m: &Member, registry: &str, local: &str) -> Result<(), String> {
    if registry == local {
        return Ok(());
    }
    Err(format!(
        "{} {} is already in {} with other content (checksum {registry}, this commit packages {local}); \
         a published version cannot be replaced: bump the version of {} (and commit), or yank the other upload if it is bad (`cargo yank --version {} {}{}`)",
        m.name,
        m.version,
        opts.registry_label(),
        m.name,
        m.version,
        m.name,
        opts.registry.as_deref().map(|r| format!(" --registry {r}")).unwrap_or_default()
    ))
}

/// Ask the registry whether it has `m`'s version: its checksum, or `None`.
///
/// A scratch project requiring exactly that version is resolved with
/// `cargo generate-lockfile`, which reads the registry's index the way any
/// user's build would; the lock file then carries the version's checksum.
fn query(opts: &Options, probe: &Path, m: &Member, ours: &BTreeSet<&str>) -> Result<Option<String>, String> {
    std::fs::create_dir_all(probe.join("src")).map_err(|e| format!("creating {}: {e}", probe.display()))?;
    let registry = opts
        .registry
        .as_deref()
        .map(|r| format!(", registry = \"{r}\""))
        .unwrap_or_default();
    write(
        &probe.join("Cargo.toml"),
        &format!(
            "# Written by `cargo xtask release` to ask the registry what it has.\n[package]\nname = \"{PROBE}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\n{} = {{ version = \"={}\"{registry} }}\n\n[workspace]\n",
            m.name, m.version
        ),
    )?;
    write(&probe.join("src/lib.rs"), "")?;
    let _ = std::fs::remove_file(probe.join("Cargo.lock"));
    let o = output(
        Command::new(cargo_bin())
            .args(["generate-lockfile", "--quiet"])
            .current_dir(probe),
    )?;
    if o.status.success() {
        let lock = std::fs::read_to_string(probe.join("Cargo.lock"))
            .map_err(|e| format!("reading the probe's Cargo.lock: {e}"))?;
        let doc = lock
            .parse::<toml_edit::DocumentMut>()
            .map_err(|e| format!("the probe's Cargo.lock: {e}"))?;
        let found = doc
            .get("package")
            .and_then(|p| p.as_array_of_tables())
            .into_iter()
            .flatten()
            .find(|p| {
                p.get("name").and_then(|v| v.as_str()) == Some(m.name.as_str())
                    && p.get("version").and_then(|v| v.as_str()) == Some(m.version.as_str())
            });
        return match found.and_then(|p| p.get("checksum")).and_then(|c| c.as_str()) {
            Some(sum) => Ok(Some(sum.to_owned())),
            None => Err(format!(
                "{} resolved {} {} without a checksum; is it a registry?",
                opts.registry_label(),
                m.name,
                m.version
            )),
        };
    }
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    if is_not_there(&err, ours) {
        return Ok(None);
    }
    Err(format!(
        "could not ask {} whether it has {} {}:\n{}\nnothing more was published; rerun `cargo xtask release` once the registry is reachable: it continues where this run stopped",
        opts.registry_label(),
        m.name,
        m.version,
        err.trim()
    ))
}

/// Whether cargo's resolver error says that one of our crates (or the wanted
/// version of it) is not in the registry, as opposed to the registry being
/// unreachable or something else failing.
pub fn is_not_there(stderr: &str, ours: &BTreeSet<&str>) -> bool {
    if stderr.contains("failed to update registry")
        || stderr.contains("failed to fetch")
        || stderr.contains("failed to load source")
    {
        return false;
    }
    ours.iter().any(|name| {
        stderr.contains(&format!("no matching package named `{name}` found"))
            || stderr.contains(&format!("failed to select a version for the requirement `{name} = "))
    })
}

/// Poll the registry until it serves `m` with checksum `sum`, within the timeout.
fn wait_for_index(opts: &Options, probe: &Path, m: &Member, ours: &BTreeSet<&str>, sum: &str) -> Result<(), String> {
    let started = Instant::now();
    let mut delay = Duration::from_millis(500);
    loop {
        match query(opts, probe, m, ours) {
            Ok(Some(have)) if have == sum => {
                say(format!(
                    "{} {} is served by the index of {} ({:.1} s after the upload)",
                    m.name,
                    m.version,
                    opts.registry_label(),
                    started.elapsed().as_secs_f64()
                ));
                return Ok(());
            }
            Ok(Some(other)) => return same_or_error(opts, m, &other, sum),
            Ok(None) => {}
            Err(e) if started.elapsed() >= opts.index_timeout => return Err(e),
            Err(_) => {}
        }
        if started.elapsed() >= opts.index_timeout {
            return Err(format!(
                "{} {} was uploaded but the index of {} did not serve it within {} s; the crates that depend on it were not published. \
                 Rerun `cargo xtask release` later (it finds the upload and continues), or give the index more time with --index-timeout SECS",
                m.name,
                m.version,
                opts.registry_label(),
                opts.index_timeout.as_secs()
            ));
        }
        std::thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

/// A hand-written crate's public API against its last release, by cargo-semver-checks.
fn semver_check(opts: &Options, ws: &Path, target: &Path, m: &Member, last: Option<&str>) -> Result<String, String> {
    let Some(tag) = last else {
        let note = format!(
            "First release of `{}` (no earlier release tag): no API to compare with.",
            m.name
        );
        say(&note);
        return Ok(note);
    };
    let tool = opts
        .semver_checks
        .clone()
        .unwrap_or_else(|| PathBuf::from("cargo-semver-checks"));
    let mut cmd = Command::new(&tool);
    cmd.args(["semver-checks", "check-release", "-p", &m.name, "--baseline-rev", tag])
        .current_dir(ws)
        .env("CARGO_TARGET_DIR", target);
    say(format!(
        "{} {}: public API against {tag}: {}",
        m.name,
        m.version,
        shown(&cmd)
    ));
    let o = cmd.output().map_err(|e| {
        format!(
            "{} is hand-written, so its public API is compared with its last release by cargo-semver-checks, which could not run ({}: {e}); \
             install it with `cargo install cargo-semver-checks --locked --version {}` (the version tools/registry/pins.toml pins)",
            m.name,
            tool.display(),
            semver_checks_pin()
        )
    })?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    if !o.status.success() {
        return Err(format!(
            "{}\ncargo-semver-checks found changes in the public API of {} since {tag} that its version {} does not allow (report above); \
             bump crates/{}/Cargo.toml's version as it says (and the `[workspace.dependencies]` requirement, then every client: see README, Versions), commit, and release again",
            text.trim_end(),
            m.name,
            m.version,
            m.name
        ));
    }
    eprint!("{text}");
    Ok(format!(
        "cargo-semver-checks {}: no semver violation in the public API since `{tag}`.",
        semver_checks_pin()
    ))
}

fn semver_checks_pin() -> String {
    crate::external::pins()
        .into_iter()
        .find(|(k, _)| k == "cargo-semver-checks")
        .map(|(_, v)| v)
        .unwrap_or_default()
}

/// The changelog entry of a generated client: its API changes since `last`.
fn changelog_entry(root: &Path, m: &Member, last: Option<&str>, date: &str) -> Result<String, String> {
    let new: Vec<crate::ir::Api> = apidiff::load_specs(root, "specs")?
        .into_iter()
        .filter(|a| a.vendor.crate_name == m.name)
        .collect();
    let Some(api) = new.first() else {
        return Err(format!("{}: generated, but no spec under specs/ names it", m.name));
    };
    let mut s = format!("## [{}] - {date}\n\n", m.version);
    let Some(tag) = last else {
        let _ = writeln!(s, "Initial release, generated from `specs/{}/`.", api.vendor.name);
        return Ok(s);
    };
    let old: Vec<crate::ir::Api> = apidiff::load_specs_at(root, tag)?
        .into_iter()
        .filter(|a| a.vendor.name == api.vendor.name)
        .collect();
    let reports = apidiff::compare(&old, &new);
    let all: Vec<&Change> = reports.iter().flat_map(|r| r.changes.iter()).collect();
    let impact = all.iter().map(|c| c.impact).max();
    let _ = writeln!(
        s,
        "API changes since `{tag}`, impact: {}.",
        impact.map(Impact::as_str).unwrap_or("none")
    );
    for (impact, heading) in [
        (Impact::Breaking, "Changed (breaking)"),
        (Impact::Minor, "Added"),
        (Impact::Patch, "Changed"),
    ] {
        let items: Vec<&&Change> = all.iter().filter(|c| c.impact == impact).collect();
        if items.is_empty() {
            continue;
        }
        let _ = writeln!(s, "\n### {heading}\n");
        for c in items {
            let _ = writeln!(s, "- `{}`: {}", c.item, c.reason);
        }
    }
    if all.is_empty() {
        let _ = writeln!(s, "\nNo change to the generated API.");
    }
    Ok(s)
}

const CHANGELOG_HEAD: &str = "# Changelog\n\n\
All notable changes to the `{name}` crate. The format follows\n\
[Keep a Changelog](https://keepachangelog.com/en/1.1.0/), and the crate follows\n\
[Semantic Versioning](https://semver.org/spec/v2.0.0.html) as cargo applies it.\n\
Each entry is the API-change report `cargo xtask release` made against the\n\
previous release tag.\n";

/// The changelog with `entry` added for `version`, newest first; `None` when
/// it already has an entry for that version (a resumed release).
pub fn add_entry(old: Option<&str>, name: &str, version: &str, entry: &str) -> Option<String> {
    let head = CHANGELOG_HEAD.replace("{name}", name);
    let old = old.unwrap_or(&head);
    if old.lines().any(|l| l.starts_with(&format!("## [{version}]"))) {
        return None;
    }
    let at = old.find("\n## [").map(|i| i + 1).unwrap_or(old.len());
    let (before, after) = old.split_at(at);
    let sep = if before.ends_with("\n\n") || before.is_empty() {
        ""
    } else if before.ends_with('\n') {
        "\n"
    } else {
        "\n\n"
    };
    let entry = entry.trim_end();
    Some(if after.is_empty() {
        format!("{before}{sep}{entry}\n")
    } else {
        format!("{before}{sep}{entry}\n\n{after}")
    })
}

/// `cargo xtask release` arguments.
pub fn parse_args(root: &Path, args: &[String]) -> Result<Options, String> {
    let mut o = Options::new(root);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |flag: &str| it.next().cloned().ok_or_else(|| format!("{flag} needs a value"));
        match a.as_str() {
            "--registry" => o.registry = Some(value("--registry")?),
            "--crate" => o.crates.push(value("--crate")?),
            "--dry-run" => o.dry_run = true,
            "--no-verify" => o.no_verify = true,
            "--index-timeout" => {
                let v = value("--index-timeout")?;
                o.index_timeout = Duration::from_secs(
                    v.parse()
                        .map_err(|_| format!("--index-timeout {v}: a number of seconds"))?,
                );
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str, deps: &[&str]) -> Member {
        Member {
            name: name.into(),
            version: "0.1.0".into(),
            dir: PathBuf::new(),
            deps: deps.iter().map(|d| d.to_string()).collect(),
            generated: false,
            registries: None,
        }
    }

    /// A workspace of `pinned` (`publish = ["corp"]`), `free` (any registry)
    /// and `fixture` (`publish = false`), with its lock file, in a git repository.
    fn pinned_workspace() -> PathBuf {
        let root = std::env::temp_dir().join(format!("xtask-release-pinned-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let crates = [
            ("pinned", "publish = [\"corp\"]\n"),
            ("free", ""),
            ("fixture", "publish = false\n"),
        ];
        for (name, publish) in crates {
            std::fs::create_dir_all(root.join(name).join("src")).unwrap();
            std::fs::write(root.join(name).join("src/lib.rs"), "").unwrap();
            std::fs::write(
                root.join(name).join("Cargo.toml"),
                format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n{publish}"),
            )
            .unwrap();
        }
        std::fs::write(
            root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"pinned\", \"free\", \"fixture\"]\nresolver = \"2\"\n",
        )
        .unwrap();
        let lock = Command::new(cargo_bin())
            .args(["generate-lockfile", "--offline"])
            .current_dir(&root)
            .env_remove("CARGO_TARGET_DIR")
            .output()
            .unwrap();
        assert!(lock.status.success(), "{}", String::from_utf8_lossy(&lock.stderr));
        git(&root, &["init", "-q"]).unwrap();
        root
    }

    #[test]
    fn a_crate_pinned_to_other_registries_is_refused_while_planning() {
        let root = pinned_workspace();
        let members = members(&root).unwrap();
        let registries = |n: &str| members.iter().find(|m| m.name == n).map(|m| m.registries.clone());
        assert_eq!(registries("pinned"), Some(Some(vec!["corp".to_owned()])));
        assert_eq!(registries("free"), Some(None));
        assert_eq!(
            registries("fixture"),
            None,
            "`publish = false` is not a member to release"
        );

        let mut opts = Options::new(&root);
        for (registry, shown) in [(None, "crates.io"), (Some("other"), "registry `other`")] {
            opts.registry = registry.map(str::to_owned);
            let err = plan(&opts, &members).map(|_| ()).unwrap_err();
            for part in [
                "pinned 0.1.0 may only be published to `corp`",
                "`publish = [\"corp\"]` in pinned/Cargo.toml",
                &format!("not to {shown}"),
                "nothing was published",
                "`--registry NAME`",
                &format!(
                    "add `{}` to `publish` in pinned/Cargo.toml",
                    registry.unwrap_or("crates-io")
                ),
            ] {
                assert!(err.contains(part), "{part:?} missing from: {err}");
            }
        }
        // A generated client points at its vendor.yaml instead.
        let mut generated = members.clone();
        generated.iter_mut().for_each(|m| m.generated = true);
        opts.registry = None;
        let err = plan(&opts, &generated).map(|_| ()).unwrap_err();
        assert!(
            err.contains("`crate.publish` in the vendor's specs/<vendor>/vendor.yaml"),
            "{err}"
        );

        // The listed registry, or leaving the crate out, plans both / the other.
        opts.registry = Some("corp".into());
        let (_, todo) = plan(&opts, &members).unwrap();
        assert_eq!(
            todo.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(),
            ["free", "pinned"]
        );
        opts.registry = None;
        opts.crates = vec!["free".into()];
        let (_, todo) = plan(&opts, &members).unwrap();
        assert_eq!(todo.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), ["free"]);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn the_runtime_goes_first() {
        let ms = [
            member("snapcall", &["snapsdk-runtime"]),
            member("besnappy", &["snapsdk-runtime"]),
            member("snapsdk-runtime", &[]),
        ];
        assert_eq!(
            dependency_order(&ms).unwrap(),
            ["snapsdk-runtime", "besnappy", "snapcall"]
        );
        let cycle = [member("a", &["b"]), member("b", &["a"])];
        assert!(dependency_order(&cycle).unwrap_err().contains("cycle"));
    }

    #[test]
    fn path_dependencies_get_the_registry_and_nothing_else_changes() {
        let text = "[workspace]\nmembers = [\"crates/*\"]\n\n[workspace.dependencies]\n# kept\nsnapsdk-runtime = { path = \"crates/snapsdk-runtime\", version = \"0.2.0\", default-features = false }\nserde = { version = \"1\" }\n";
        let (out, changed) = with_registry(text, "corp").unwrap();
        assert_eq!(changed, ["snapsdk-runtime"]);
        assert_eq!(
            out,
            text.replace(
                "default-features = false }",
                "default-features = false , registry = \"corp\" }"
            )
        );
        assert!(
            with_registry("[workspace.dependencies]\nx = { path = \"x\" }\n", "corp")
                .unwrap_err()
                .contains("no `version`")
        );
    }

    #[test]
    fn a_missing_crate_is_told_apart_from_an_unreachable_registry() {
        let ours: BTreeSet<&str> = ["snapcall", "snapsdk-runtime"].into();
        assert!(is_not_there("error: no matching package named `snapcall` found\nlocation searched: registry `corp`\nrequired by package `snapsdk-release-probe v0.0.0`", &ours));
        assert!(is_not_there("error: failed to select a version for the requirement `snapcall = \"=0.3.0\"`\ncandidate versions found which didn't match: 0.2.0", &ours));
        assert!(!is_not_there(
            "error: failed to update registry `corp`\nCaused by: failed to fetch `http://127.0.0.1:1/git`",
            &ours
        ));
        assert!(!is_not_there("error: no matching package named `serde` found", &ours));
    }

    #[test]
    fn changelog_entries_go_newest_first_once() {
        let first = add_entry(
            None,
            "snapcall",
            "0.2.0",
            "## [0.2.0] - 2026-12-01\n\nInitial release.\n",
        )
        .unwrap();
        assert!(
            first.starts_with("# Changelog\n\nAll notable changes to the `snapcall` crate."),
            "{first}"
        );
        assert!(
            first.ends_with("\n\n## [0.2.0] - 2026-12-01\n\nInitial release.\n"),
            "{first}"
        );
        let second = add_entry(
            Some(&first),
            "snapcall",
            "0.3.0",
            "## [0.3.0] - 2026-12-04\n\n### Added\n\n- x\n",
        )
        .unwrap();
        let (a, b) = (second.find("## [0.3.0]").unwrap(), second.find("## [0.2.0]").unwrap());
        assert!(a < b, "{second}");
        assert!(second.contains("- x\n\n## [0.2.0]"), "{second}");
        assert_eq!(
            add_entry(Some(&second), "snapcall", "0.3.0", "## [0.3.0] - other"),
            None
        );
    }

    #[test]
    fn both_tools_are_pinned() {
        let p = crate::external::pins();
        assert_eq!(
            p.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            ["cargo-http-registry", "cargo-semver-checks"]
        );
        assert!(p.iter().all(|(_, v)| semver::Version::parse(v).is_ok()), "{p:?}");
    }

    #[test]
    fn arguments() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let args: Vec<String> = [
            "--registry",
            "corp",
            "--dry-run",
            "--crate",
            "snapcall",
            "--crate",
            "besnappy",
            "--index-timeout",
            "9",
        ]
        .map(String::from)
        .into();
        let o = parse_args(root, &args).unwrap();
        assert_eq!(
            (
                o.registry.as_deref(),
                o.dry_run,
                o.crates.len(),
                o.index_timeout.as_secs()
            ),
            (Some("corp"), true, 2, 9)
        );
        assert!(parse_args(root, &["--registry".into()])
            .unwrap_err()
            .contains("needs a value"));
        assert!(parse_args(root, &["--frobnicate".into()])
            .unwrap_err()
            .contains("unknown argument"));
    }
}
