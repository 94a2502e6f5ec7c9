//! Diagnostics: `file:line:col: message` plus a hint at the fix.

use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diag {
    pub file: PathBuf,
    pub line: usize,
    pub col: usize,
    pub message: String,
    pub hint: Option<String>,
}

impl fmt::Display for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.col,
            self.message
        )?;
        if let Some(h) = &self.hint {
            write!(f, "\n    hint: {h}")?;
        }
        Ok(())
    }
}

/// Collects every problem of a run; nothing is written while it holds any.
/// Warnings (`file:line:col: warning: ...`) are shown but do not stop a run.
#[derive(Debug, Default)]
pub struct Diags {
    pub items: Vec<Diag>,
    pub warnings: Vec<Diag>,
}

impl Diags {
    pub fn push(&mut self, d: Diag) {
        self.items.push(d);
    }
    pub fn warn(&mut self, mut d: Diag) {
        d.message = format!("warning: {}", d.message);
        self.warnings.push(d);
    }
    /// The warnings, sorted and without repeats.
    pub fn sorted_warnings(&self) -> Vec<Diag> {
        let mut w = self.warnings.clone();
        w.sort();
        w.dedup();
        w
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    pub fn sorted(mut self) -> Vec<Diag> {
        self.items.sort();
        self.items.dedup();
        self.items
    }
}
