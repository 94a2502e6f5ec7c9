//! The checks `regen --check` runs besides comparing the generated files:
//! the semver gate, and the vendor documents against `specs/*/sources.lock`.
//! Either can be skipped for want of its inputs (no release tag, no
//! documents folder); under `CI=true` a skipped check fails the run unless
//! `--allow-skip` names it, so a skip never looks like a pass in CI.

use std::path::Path;

/// A check of `regen --check` that can be skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// Citations and fingerprints against the vendor documents.
    Sources,
    /// Version bumps against the newest release tags.
    Semver,
}

impl Skip {
    pub fn name(self) -> &'static str {
        match self {
            Skip::Sources => "sources",
            Skip::Semver => "semver",
        }
    }

    /// `sources,semver` (the argument of `--allow-skip`).
    pub fn parse_list(list: &str) -> Result<Vec<Skip>, UnknownSkip> {
        list.split(',')
            .map(str::trim)
            .map(|w| match w {
                "sources" => Ok(Skip::Sources),
                "semver" => Ok(Skip::Semver),
                other => Err(UnknownSkip(other.to_owned())),
            })
            .collect()
    }
}

/// An `--allow-skip` word that names no check.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("--allow-skip: unknown check `{0}`; the checks that can be skipped are `sources` and `semver` (e.g. `--allow-skip sources,semver`)")]
pub struct UnknownSkip(pub String);

/// How a skipped check ends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SkipPolicy {
    /// Running in CI (`CI` set to anything but empty, `false` or `0`).
    pub ci: bool,
    /// The checks `--allow-skip` lets skip.
    pub allowed: Vec<Skip>,
}

impl SkipPolicy {
    /// The policy for this process: `ci` is the value of the `CI` variable.
    pub fn new(ci: Option<&str>, allowed: Vec<Skip>) -> SkipPolicy {
        let ci = ci.is_some_and(|v| !matches!(v.trim(), "" | "false" | "0"));
        SkipPolicy { ci, allowed }
    }

    pub fn from_env(allowed: Vec<Skip>) -> SkipPolicy {
        SkipPolicy::new(std::env::var("CI").ok().as_deref(), allowed)
    }

    /// The one line to print for a skipped check (`why` says what was not
    /// checked), and whether it fails the run.
    pub fn skipped(&self, skip: Skip, why: &str) -> Outcome {
        let name = skip.name();
        if self.allowed.contains(&skip) {
            Outcome::note(format!("note: {why} (allowed by --allow-skip {name})"))
        } else if self.ci {
            Outcome::error(format!("error: {why}; under CI a skipped check fails: provide what it needs, or pass `--allow-skip {name}` to skip it visibly"))
        } else {
            Outcome::note(format!("note: {why}"))
        }
    }
}

/// What a check has to say: lines for stdout, lines for stderr, and whether the run fails.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub notes: Vec<String>,
    pub errors: Vec<String>,
    pub failed: bool,
}

impl Outcome {
    fn note(line: String) -> Outcome {
        Outcome {
            notes: vec![line],
            ..Outcome::default()
        }
    }

    fn error(line: String) -> Outcome {
        Outcome {
            errors: vec![line],
            failed: true,
            ..Outcome::default()
        }
    }

    fn and(mut self, other: Outcome) -> Outcome {
        self.notes.extend(other.notes);
        self.errors.extend(other.errors);
        self.failed |= other.failed;
        self
    }

    /// Print each line once: notes on stdout, errors on stderr.
    pub fn print(&self) {
        self.notes.iter().for_each(|n| println!("{n}"));
        self.errors.iter().for_each(|e| eprintln!("{e}"));
    }
}

/// The semver gate: a breaking change needs a major bump (minor below 1.0).
/// `base` compares every crate with one revision, else each with its newest release tag.
pub fn semver(root: &Path, base: Option<&str>, policy: &SkipPolicy) -> Outcome {
    let g = match crate::apidiff::gate(root, base) {
        Ok(g) => g,
        Err(e) => return Outcome::error(format!("error: semver check: {e}")),
    };
    let mut out = if g.failures.is_empty() {
        Outcome {
            notes: g.notes,
            ..Outcome::default()
        }
    } else {
        let mut errors = g.notes;
        errors.extend(g.failures.iter().map(|f| format!("error: {f}")));
        errors.push(format!(
            "error: version bumps do not cover the API changes; `cargo xtask diff {}` lists them",
            base.unwrap_or("<release tag>")
        ));
        Outcome {
            errors,
            failed: true,
            ..Outcome::default()
        }
    };
    if !g.skipped.is_empty() {
        let why = format!(
            "the semver check did not compare {} (no release tag)",
            g.skipped.join(", ")
        );
        // The gate's own note (above) already says it was skipped: only what the skip means is added.
        let verdict = policy.skipped(Skip::Semver, &why);
        if verdict.failed || policy.allowed.contains(&Skip::Semver) {
            out = out.and(verdict);
        }
    }
    out
}

/// The vendor documents against the locks. `docs` None: the documents
/// folder was not found, so citations and fingerprints go unchecked.
/// Outside check mode only that note is given; the drift itself is checked in check mode.
pub fn sources(root: &Path, docs: Option<&Path>, vendor: Option<&str>, check: bool, policy: &SkipPolicy) -> Outcome {
    let Some(docs) = docs else {
        let why = "shared/vendor-docs not found beside the checkout (pass --docs DIR or set SNAPSDK_DOCS); cited sections and the fingerprints in specs/*/sources.lock are not checked";
        return if check {
            policy.skipped(Skip::Sources, why)
        } else {
            Outcome::note(format!("note: {why}"))
        };
    };
    if !check {
        return Outcome::default();
    }
    match crate::sources::drift(root, docs, vendor) {
        Ok(items) if items.is_empty() => Outcome::default(),
        Ok(items) => {
            let mut errors: Vec<String> = items
                .iter()
                .map(|i| format!("error: vendor document drift: {i}"))
                .collect();
            errors.push("error: the vendor documents differ from specs/*/sources.lock; `cargo xtask sources` reports what changed and who cites it, `cargo xtask sources --accept` records it once the specs are updated".into());
            Outcome {
                errors,
                failed: true,
                ..Outcome::default()
            }
        }
        Err(e) => Outcome::error(format!("error: vendor documents: {e}")),
    }
}
