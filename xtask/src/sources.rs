//! The vendor documents as sections: headings, endpoint lines, fingerprints,
//! the per-vendor `sources.lock`, and the drift report of `cargo xtask sources`.
//!
//! A document is plain text. How it marks headings and endpoint lines is
//! described per source in `vendor.yaml` ([`Headings`](crate::spec::Headings)); nothing here knows a
//! vendor. The lock keeps hashes of each section's whitespace-normalised text,
//! the headings and the endpoint lines, and never the prose itself.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::ir;
use crate::outline::section_keys;
pub use crate::outline::{
    cite_form, endpoint_key, fingerprint, key, normalise, parse, resolve, CiteError, Outline, Section,
};
use crate::spec::ParamTable;

/// Name of the per-vendor lock file inside `specs/<vendor>/`.
pub const LOCK_FILE: &str = "sources.lock";
/// A `sources.lock` that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("not a sources.lock written by `cargo xtask sources --accept` ({0}); restore it from git or rewrite it with `--accept`")]
pub struct LockError(serde_json::Error);

/// Why the documents cannot be held against the locks.
#[derive(Debug, thiserror::Error)]
pub enum SourcesError {
    #[error("{spec_dir}vendor.yaml: source `{id}` has no `headings:`; describe how {file} marks its headings (specs/README.md)")]
    NoHeadings { spec_dir: String, id: String, file: String },
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}: {source}", path.display())]
    Lock { path: PathBuf, source: LockError },
    /// The specs do not load: the diagnostics, one per line, and the count.
    #[error("{0}")]
    Specs(String),
}

/// `specs/<vendor>/sources.lock`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lock {
    pub generated: String,
    pub sources: Vec<LockSource>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockSource {
    pub id: String,
    pub file: String,
    /// Fingerprint of the whole document.
    pub hash: String,
    pub sections: Vec<Section>,
    /// For a document whose headings are listed by name only: its
    /// heading-shaped lines in order, so a renamed, removed or new heading is
    /// drift there too. Headings, never prose.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shaped: Vec<String>,
}

const GENERATED: &str = "by `cargo xtask sources --accept`; do not edit. Fingerprints are the first 16 hex digits of SHA-256 over each section's whitespace-normalised text; only headings and endpoint lines are kept, no vendor prose.";

impl Lock {
    pub fn build(api: &ir::Api, outlines: &BTreeMap<String, Outline>) -> Lock {
        let sources = api
            .vendor
            .sources
            .iter()
            .filter_map(|s| {
                outlines.get(&s.file).map(|o| LockSource {
                    id: s.id.clone(),
                    file: s.file.clone(),
                    hash: o.hash.clone(),
                    sections: o.sections.clone(),
                    shaped: o.shaped.clone(),
                })
            })
            .collect();
        Lock {
            generated: GENERATED.to_owned(),
            sources,
        }
    }

    /// One section per line, so that a change reads well in a pull request.
    pub fn render(&self) -> String {
        let mut out = format!(
            "{{\n  \"generated\": {},\n  \"sources\": [\n",
            serde_json::to_string(&self.generated).unwrap_or_default()
        );
        for (i, s) in self.sources.iter().enumerate() {
            let _ = writeln!(
                out,
                "    {{\n      \"id\": {},\n      \"file\": {},\n      \"hash\": {},\n      \"sections\": [",
                json(&s.id),
                json(&s.file),
                json(&s.hash)
            );
            for (j, sec) in s.sections.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "        {}{}",
                    serde_json::to_string(sec).unwrap_or_default(),
                    if j + 1 < s.sections.len() { "," } else { "" }
                );
            }
            let shaped = if s.shaped.is_empty() {
                String::new()
            } else {
                format!(
                    ",\n      \"shaped\": {}",
                    serde_json::to_string(&s.shaped).unwrap_or_default()
                )
            };
            let _ = writeln!(
                out,
                "      ]{shaped}\n    }}{}",
                if i + 1 < self.sources.len() { "," } else { "" }
            );
        }
        out.push_str("  ]\n}\n");
        out
    }

    pub fn parse(text: &str) -> Result<Lock, LockError> {
        serde_json::from_str(text).map_err(LockError)
    }
}

fn json(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// Something in the specs that cites a section.
#[derive(Debug, Clone)]
pub struct Citer {
    /// `operation create_button`, `model Stream`, `rate limit`.
    pub what: String,
    pub op_id: Option<String>,
    pub file: String,
    pub section: String,
    pub endpoint: Option<String>,
    /// Wire names of its parameters and body fields.
    pub params: BTreeSet<String>,
}

pub fn citers(api: &ir::Api) -> Vec<Citer> {
    let mut out = Vec::new();
    if let Some(r) = &api.vendor.rate_limit {
        out.push(Citer {
            what: "rate limit".into(),
            op_id: None,
            file: r.source.file.clone(),
            section: r.source.section.clone(),
            endpoint: None,
            params: BTreeSet::new(),
        });
    }
    for o in &api.operations {
        let mut params: BTreeSet<String> = o.params.iter().map(|p| p.wire.clone()).collect();
        if let Some(b) = &o.body {
            params.extend(b.fields.iter().map(|f| f.wire.clone()));
        }
        out.push(Citer {
            what: format!("operation `{}` ({} {})", o.id, o.method.as_str(), o.path),
            op_id: Some(o.id.clone()),
            file: o.source.file.clone(),
            section: o.source.section.clone(),
            endpoint: Some(endpoint_key(o.method.as_str(), &o.path)),
            params,
        });
    }
    for m in &api.models {
        if let Some(s) = &m.source {
            let params = match &m.kind {
                ir::ModelKind::Object { fields, .. } => fields.iter().map(|f| f.wire.clone()).collect(),
                _ => BTreeSet::new(),
            };
            out.push(Citer {
                what: format!("model `{}`", m.name),
                op_id: None,
                file: s.file.clone(),
                section: s.section.clone(),
                endpoint: None,
                params,
            });
        }
    }
    out
}

/// Parameter names in a section's tables.
pub fn table_names(text: &str, style: ParamTable, after: Option<&str>) -> BTreeSet<String> {
    let ident = |s: &str| {
        !s.is_empty()
            && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || "_-.[]".contains(c))
    };
    let mut out = BTreeSet::new();
    match style {
        ParamTable::Pipes => {
            for line in text.lines() {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                if cells.iter().filter(|c| !c.is_empty()).count() >= 3
                    && ident(cells[0])
                    && !cells[0].eq_ignore_ascii_case("parameter")
                {
                    out.insert(cells[0].to_owned());
                }
            }
        }
        ParamTable::Words => {
            let mut on = false;
            let after = key(after.unwrap_or("Data Type Description"));
            for line in text.lines() {
                if key(line) == after {
                    on = true;
                } else if line.trim().is_empty() {
                    on = false;
                } else if on {
                    if let Some(w) = line.split_whitespace().next() {
                        let w = w.trim_start_matches('↳');
                        if ident(w) {
                            out.insert(w.to_owned());
                        }
                    }
                }
            }
        }
    }
    out
}

/// Everything that differs between the lock and one document.
#[derive(Debug, Default)]
pub struct SourceDrift {
    pub id: String,
    pub file: String,
    /// `(old, new)` sections with the same name and a different fingerprint.
    pub changed: Vec<(usize, usize)>,
    /// Sections of the lock gone from the document.
    pub vanished: Vec<usize>,
    /// `(old, new)`: a heading gone and a new one with the same text.
    pub renamed: Vec<(usize, usize)>,
    /// Sections of the document the lock does not know.
    pub added: Vec<usize>,
    pub vanished_endpoints: Vec<String>,
    pub new_endpoints: Vec<String>,
    /// Heading-shaped lines (see [`LockSource::shaped`]) gone, and new.
    pub shaped_gone: Vec<String>,
    pub shaped_new: Vec<String>,
}

impl SourceDrift {
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty()
            && self.vanished.is_empty()
            && self.renamed.is_empty()
            && self.added.is_empty()
            && self.vanished_endpoints.is_empty()
            && self.new_endpoints.is_empty()
            && self.shaped_gone.is_empty()
            && self.shaped_new.is_empty()
    }
}

pub fn compare(old: &LockSource, new: &Outline) -> SourceDrift {
    let ok = section_keys(&old.sections);
    let nk = section_keys(&new.sections);
    let new_by: HashMap<&str, usize> = nk.iter().enumerate().map(|(i, k)| (k.as_str(), i)).collect();
    let old_by: HashMap<&str, usize> = ok.iter().enumerate().map(|(i, k)| (k.as_str(), i)).collect();
    let mut d = SourceDrift {
        id: old.id.clone(),
        file: old.file.clone(),
        ..Default::default()
    };
    for (i, k) in ok.iter().enumerate() {
        match new_by.get(k.as_str()) {
            Some(&j) if new.sections[j].hash != old.sections[i].hash => d.changed.push((i, j)),
            Some(_) => {}
            None => d.vanished.push(i),
        }
    }
    for (j, k) in nk.iter().enumerate() {
        if !old_by.contains_key(k.as_str()) {
            d.added.push(j);
        }
    }
    // A heading that vanished while a new one appeared with the same text is a rename.
    // Sections with no text (a table of contents entry, a resource heading) cannot be told apart so.
    let mut renamed = Vec::new();
    let empty = fingerprint("");
    d.vanished.retain(|&i| {
        let hit = d.added.iter().position(|&j| {
            old.sections[i].heading.is_some()
                && new.sections[j].heading.is_some()
                && new.sections[j].hash == old.sections[i].hash
                && old.sections[i].hash != empty
        });
        match hit {
            Some(p) => {
                renamed.push((i, d.added.remove(p)));
                false
            }
            None => true,
        }
    });
    d.renamed = renamed;
    let old_eps: BTreeMap<String, String> = old
        .sections
        .iter()
        .flat_map(|s| s.endpoints.iter().cloned().zip(s.endpoint_keys()).map(|(e, k)| (k, e)))
        .collect();
    let new_eps: BTreeMap<String, String> = new
        .sections
        .iter()
        .flat_map(|s| s.endpoints.iter().cloned().zip(s.endpoint_keys()).map(|(e, k)| (k, e)))
        .collect();
    d.vanished_endpoints = old_eps
        .iter()
        .filter(|(k, _)| !new_eps.contains_key(*k))
        .map(|(_, e)| e.clone())
        .collect();
    d.new_endpoints = new_eps
        .iter()
        .filter(|(k, _)| !old_eps.contains_key(*k))
        .map(|(_, e)| e.clone())
        .collect();
    compare_shaped(old, new, &mut d);
    d
}

/// Heading-shaped lines, as multisets: a repeated line ("Responses") counts
/// each time. A lock written before the lines were kept has none: nothing to compare.
fn compare_shaped(old: &LockSource, new: &Outline, d: &mut SourceDrift) {
    if old.shaped.is_empty() {
        return;
    }
    fn count(v: &[String]) -> BTreeMap<&str, usize> {
        v.iter().fold(BTreeMap::new(), |mut m, l| {
            *m.entry(l.as_str()).or_default() += 1;
            m
        })
    }
    let (was, now) = (count(&old.shaped), count(&new.shaped));
    let gone_heads: BTreeSet<String> = d
        .vanished
        .iter()
        .filter_map(|&i| old.sections[i].heading.as_deref().map(normalise))
        .collect();
    for (l, n) in &was {
        if now.get(l).copied().unwrap_or(0) < *n && !gone_heads.contains(*l) {
            d.shaped_gone.push((*l).to_owned());
        }
    }
    for (l, n) in &now {
        if was.get(l).copied().unwrap_or(0) < *n {
            d.shaped_new.push((*l).to_owned());
        }
    }
}

/// The documents of one run: the new edition, and (when it is the edition
/// the lock was written from) the old one, for the text of the diffs.
pub struct Docs {
    pub new: BTreeMap<String, Outline>,
    pub old: BTreeMap<String, Outline>,
}

/// Read and split each source document of `api` in `dir`.
pub fn read_docs(api: &ir::Api, dir: &Path) -> Result<BTreeMap<String, Outline>, SourcesError> {
    let mut out = BTreeMap::new();
    for s in &api.vendor.sources {
        let Some(h) = &s.headings else {
            return Err(SourcesError::NoHeadings {
                spec_dir: api.vendor.spec_dir.clone(),
                id: s.id.clone(),
                file: s.file.clone(),
            });
        };
        let path = dir.join(&s.file);
        let text = std::fs::read_to_string(&path).map_err(|source| SourcesError::Read {
            path: path.clone(),
            source,
        })?;
        out.insert(s.file.clone(), parse(&text, h));
    }
    Ok(out)
}

/// The drift of one vendor, ready to print.
pub struct VendorReport {
    pub vendor: String,
    pub markdown: String,
    pub counts: Counts,
    /// One line per drifted item, for `regen --check`.
    pub items: Vec<String>,
    pub affected: BTreeSet<String>,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub changed: usize,
    pub vanished: usize,
    pub renamed: usize,
    pub new_headings: usize,
    pub vanished_endpoints: usize,
    pub new_endpoints: usize,
}

impl Counts {
    pub fn total(&self) -> usize {
        self.changed + self.vanished + self.renamed + self.new_headings + self.vanished_endpoints + self.new_endpoints
    }
    fn add(&mut self, o: Counts) {
        self.changed += o.changed;
        self.vanished += o.vanished;
        self.renamed += o.renamed;
        self.new_headings += o.new_headings;
        self.vanished_endpoints += o.vanished_endpoints;
        self.new_endpoints += o.new_endpoints;
    }
}

fn unified(old: &str, new: &str, a: &str, b: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(2)
        .header(a, b)
        .to_string()
}

fn list(v: &BTreeSet<String>) -> String {
    v.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
}

/// Compare one vendor's lock with its documents. `lock` is None before the first `--accept`.
pub fn report(api: &ir::Api, lock: Option<&Lock>, docs: &Docs, docs_label: &str) -> VendorReport {
    let vendor = api.vendor.name.clone();
    let mut r = VendorReport {
        markdown: format!("## {vendor}\n\n"),
        vendor,
        counts: Counts::default(),
        items: Vec::new(),
        affected: BTreeSet::new(),
    };
    let all_citers = citers(api);
    let Some(lock) = lock else {
        let _ = writeln!(r.markdown, "No `{}{LOCK_FILE}` yet: nothing to compare with. Run `cargo xtask sources --accept` once the specs match the documents.\n", api.vendor.spec_dir);
        r.items
            .push(format!("{}: {}{LOCK_FILE} is missing", r.vendor, api.vendor.spec_dir));
        r.counts.new_headings += 1;
        return r;
    };
    let mut clean = true;
    for s in &api.vendor.sources {
        let Some(new) = docs.new.get(&s.file) else { continue };
        let Some(old) = lock.sources.iter().find(|l| l.file == s.file) else {
            let _ = writeln!(
                r.markdown,
                "### `{}`\n\nNot in the lock yet; `--accept` records it.\n",
                s.file
            );
            r.items.push(format!("{}: {} is not in {LOCK_FILE}", r.vendor, s.file));
            r.counts.new_headings += 1;
            clean = false;
            continue;
        };
        let d = compare(old, new);
        if d.is_empty() {
            continue;
        }
        clean = false;
        let drifted = Drifted::new(
            s,
            old,
            new,
            d,
            &all_citers,
            docs.old.get(&s.file).filter(|o| o.hash == old.hash),
            docs_label,
        );
        drifted.write(&mut r);
    }
    if clean {
        r.markdown.push_str("No drift: every section matches the lock.\n\n");
    }
    r
}

/// One document that drifted from its lock, with who cites what in it.
struct Drifted<'a> {
    source: &'a ir::Source,
    old: &'a LockSource,
    new: &'a Outline,
    d: SourceDrift,
    all_citers: &'a [Citer],
    /// The citations of this document.
    cites: Vec<&'a Citer>,
    /// Which old and new section each citation names.
    in_old: Vec<Option<usize>>,
    in_new: Vec<Option<usize>>,
    /// The accepted edition's text, when at hand (for the diffs).
    old_text: Option<&'a Outline>,
    docs_label: &'a str,
}

impl<'a> Drifted<'a> {
    fn new(
        source: &'a ir::Source,
        old: &'a LockSource,
        new: &'a Outline,
        d: SourceDrift,
        all_citers: &'a [Citer],
        old_text: Option<&'a Outline>,
        docs_label: &'a str,
    ) -> Drifted<'a> {
        let cites: Vec<&Citer> = all_citers.iter().filter(|c| c.file == source.file).collect();
        let in_old = cites
            .iter()
            .map(|c| resolve(&old.sections, &c.section, c.endpoint.as_deref()).ok())
            .collect();
        let in_new = cites
            .iter()
            .map(|c| resolve(&new.sections, &c.section, c.endpoint.as_deref()).ok())
            .collect();
        Drifted {
            source,
            old,
            new,
            d,
            all_citers,
            cites,
            in_old,
            in_new,
            old_text,
            docs_label,
        }
    }

    /// The citations (indices into `cites`) of old section `old_i`, new section `new_i`, or an operation printed as one of `eps`.
    fn citing(&self, old_i: Option<usize>, new_i: Option<usize>, eps: &[String]) -> Vec<usize> {
        (0..self.cites.len())
            .filter(|&k| {
                (old_i.is_some() && self.in_old[k] == old_i)
                    || (new_i.is_some() && self.in_new[k] == new_i)
                    || self.cites[k].endpoint.as_ref().is_some_and(|e| eps.contains(e))
            })
            .collect()
    }

    fn cited_by(&self, r: &mut VendorReport, who: &[usize]) {
        for &k in who {
            let _ = writeln!(r.markdown, "- cited by {}", self.cites[k].what);
            r.affected.extend(self.cites[k].op_id.clone());
        }
    }

    /// The document's part of the report, in the order a reviewer reads it.
    fn write(&self, r: &mut VendorReport) {
        let _ = writeln!(r.markdown, "### `{}` ({})\n", self.source.file, self.source.id);
        let uncited: Vec<String> = self
            .d
            .changed
            .iter()
            .filter_map(|&(i, j)| self.changed(r, i, j))
            .collect();
        self.vanished(r);
        self.renamed(r);
        self.vanished_endpoints(r);
        self.new_in_document(r);
        self.shaped(r);
        if !uncited.is_empty() {
            let _ = writeln!(r.markdown, "#### Changed sections no spec cites\n");
            for u in &uncited {
                let _ = writeln!(r.markdown, "- {u}");
            }
            r.markdown.push('\n');
        }
    }

    /// Heading-shaped lines gone and new, for documents whose headings are listed by name.
    fn shaped(&self, r: &mut VendorReport) {
        let d = &self.d;
        if d.shaped_gone.is_empty() && d.shaped_new.is_empty() {
            return;
        }
        let _ = writeln!(
            r.markdown,
            "#### Heading-shaped lines (this document's headings are listed by name in `headings.lines`)\n"
        );
        let file = &self.source.file;
        for l in &d.shaped_gone {
            r.counts.vanished += 1;
            r.items
                .push(format!("{}: {file} § \"{l}\" (heading-shaped line) vanished", r.vendor));
            let _ = writeln!(r.markdown, "- gone: \"{l}\"");
        }
        let listed = |l: &str| {
            self.source
                .headings
                .as_ref()
                .is_some_and(|h| h.lines.iter().any(|x| normalise(x) == l))
        };
        for l in &d.shaped_new {
            r.counts.new_headings += 1;
            r.items
                .push(format!("{}: {file} has a new heading-shaped line \"{l}\"", r.vendor));
            let note = if listed(l) {
                ""
            } else {
                " (not in `headings.lines`: a new or renamed heading?)"
            };
            let _ = writeln!(r.markdown, "- new: \"{l}\"{note}");
        }
        r.markdown.push('\n');
    }

    /// A changed section: who cites it, what its tables now say, and its diff. Returns it when nobody cites it.
    fn changed(&self, r: &mut VendorReport, i: usize, j: usize) -> Option<String> {
        let (os, ns) = (&self.old.sections[i], &self.new.sections[j]);
        let mut eps: Vec<String> = os.endpoint_keys().collect();
        eps.extend(ns.endpoint_keys());
        let who = self.citing(Some(i), Some(j), &eps);
        r.counts.changed += 1;
        r.items.push(format!(
            "{}: {} § \"{}\" changed",
            r.vendor,
            self.source.file,
            ns.title()
        ));
        if who.is_empty() {
            return Some(ns.described());
        }
        let _ = writeln!(r.markdown, "#### Changed: {}\n", ns.described());
        self.cited_by(r, &who);
        let new_text = self.new.text(j);
        self.table_changes(r, i, &who, &new_text);
        match self.old_text {
            Some(o) => {
                let file = &self.source.file;
                let _ = writeln!(
                    r.markdown,
                    "\n```diff\n{}```\n",
                    unified(
                        &format!("{}\n", o.text(i)),
                        &format!("{new_text}\n"),
                        &format!("accepted/{file}"),
                        &format!("{}/{file}", self.docs_label)
                    )
                );
            }
            None => {
                let _ = writeln!(r.markdown, "\n(The lock keeps fingerprints only; put the accepted edition in the default docs folder to see the text diff.)\n");
            }
        }
        None
    }

    /// Where the document has parameter tables: names new to the section, and the citing operations' names gone from it.
    fn table_changes(&self, r: &mut VendorReport, i: usize, who: &[usize], new_text: &str) {
        let Some((style, after)) = self
            .source
            .headings
            .as_ref()
            .and_then(|h| h.params.map(|p| (p, h.params_after.as_deref())))
        else {
            return;
        };
        let params: BTreeSet<String> = who.iter().flat_map(|&k| self.cites[k].params.iter().cloned()).collect();
        let now = table_names(new_text, style, after);
        let before = self.old_text.map(|o| table_names(&o.text(i), style, after));
        let fresh: BTreeSet<String> = now
            .iter()
            .filter(|n| !params.contains(*n) && before.as_ref().is_none_or(|b| !b.contains(*n)))
            .cloned()
            .collect();
        let words: BTreeSet<&str> = new_text.split(|c: char| !(c.is_alphanumeric() || c == '_')).collect();
        let gone: BTreeSet<String> = match &before {
            Some(b) => params
                .iter()
                .filter(|p| b.contains(*p) && !now.contains(*p))
                .cloned()
                .collect(),
            None => params.iter().filter(|p| !words.contains(p.as_str())).cloned().collect(),
        };
        if !fresh.is_empty() {
            let _ = writeln!(
                r.markdown,
                "- in the section's tables but in no citing operation: {}",
                list(&fresh)
            );
        }
        if !gone.is_empty() {
            let _ = writeln!(
                r.markdown,
                "- params of the citing operations no longer in the section: {}",
                list(&gone)
            );
        }
    }

    fn vanished(&self, r: &mut VendorReport) {
        for &i in &self.d.vanished {
            let os = &self.old.sections[i];
            if os.heading.is_none() && !os.endpoints.is_empty() {
                continue; // listed with the endpoint lines gone
            }
            let who = self.citing(Some(i), None, &os.endpoint_keys().collect::<Vec<_>>());
            r.counts.vanished += 1;
            r.items.push(format!(
                "{}: {} § \"{}\" vanished",
                r.vendor,
                self.source.file,
                os.title()
            ));
            let _ = writeln!(r.markdown, "#### Vanished: {}\n", os.described());
            if who.is_empty() {
                let _ = writeln!(r.markdown, "- cited by nothing\n");
            }
            self.cited_by(r, &who);
            r.markdown.push('\n');
        }
    }

    fn renamed(&self, r: &mut VendorReport) {
        for &(i, j) in &self.d.renamed {
            let (os, ns) = (&self.old.sections[i], &self.new.sections[j]);
            let who = self.citing(Some(i), Some(j), &[]);
            r.counts.renamed += 1;
            r.items.push(format!(
                "{}: {} § \"{}\" renamed \"{}\"",
                r.vendor,
                self.source.file,
                os.title(),
                ns.title()
            ));
            let _ = writeln!(
                r.markdown,
                "#### Renamed: \"{}\" is now \"{}\" (same text)\n",
                os.title(),
                ns.title()
            );
            for &k in &who {
                let _ = writeln!(
                    r.markdown,
                    "- cited by {} (cites \"{}\")",
                    self.cites[k].what, self.cites[k].section
                );
                r.affected.extend(self.cites[k].op_id.clone());
            }
            r.markdown.push('\n');
        }
    }

    fn vanished_endpoints(&self, r: &mut VendorReport) {
        if self.d.vanished_endpoints.is_empty() {
            return;
        }
        let _ = writeln!(r.markdown, "#### Endpoint lines gone from the document\n");
        for e in &self.d.vanished_endpoints {
            let (m, p) = e.split_once(' ').unwrap_or((e, ""));
            let k = endpoint_key(m, p);
            let ops: Vec<&Citer> = self
                .cites
                .iter()
                .copied()
                .filter(|c| c.endpoint.as_deref() == Some(k.as_str()))
                .collect();
            r.counts.vanished_endpoints += 1;
            r.items
                .push(format!("{}: {} no longer prints `{e}`", r.vendor, self.source.file));
            let _ = writeln!(
                r.markdown,
                "- `{e}`: {}",
                if ops.is_empty() {
                    "no operation".to_owned()
                } else {
                    ops.iter().map(|c| c.what.clone()).collect::<Vec<_>>().join(", ")
                }
            );
            r.affected.extend(ops.iter().filter_map(|c| c.op_id.clone()));
        }
        r.markdown.push('\n');
    }

    /// New endpoint lines and headings: candidate operations.
    fn new_in_document(&self, r: &mut VendorReport) {
        let (d, new) = (&self.d, self.new);
        let new_headings: Vec<usize> = d
            .added
            .iter()
            .copied()
            .filter(|&j| new.sections[j].heading.is_some())
            .collect();
        if d.new_endpoints.is_empty() && new_headings.is_empty() {
            return;
        }
        let _ = writeln!(r.markdown, "#### New in the document (candidate operations)\n");
        let op_eps: HashMap<String, &Citer> = self
            .all_citers
            .iter()
            .filter_map(|c| c.endpoint.clone().map(|e| (e, c)))
            .collect();
        for e in &d.new_endpoints {
            let (m, p) = e.split_once(' ').unwrap_or((e, ""));
            let under = new
                .sections
                .iter()
                .find(|sec| sec.endpoints.contains(e))
                .filter(|sec| sec.heading.is_some())
                .map(|sec| format!(" under \"{}\"", sec.title()))
                .unwrap_or_default();
            r.counts.new_endpoints += 1;
            r.items.push(format!(
                "{}: {} prints a new endpoint `{e}`",
                r.vendor, self.source.file
            ));
            let note = match op_eps.get(&endpoint_key(m, p)) {
                Some(c) => format!(" (already in the specs: {})", c.what),
                None => " (no operation yet)".to_owned(),
            };
            let _ = writeln!(r.markdown, "- endpoint `{e}`{under}{note}");
        }
        for &j in &new_headings {
            let ns = &new.sections[j];
            if ns.endpoints.iter().any(|e| d.new_endpoints.contains(e)) {
                continue;
            }
            r.counts.new_headings += 1;
            r.items.push(format!(
                "{}: {} has a new heading \"{}\"",
                r.vendor,
                self.source.file,
                ns.title()
            ));
            let _ = writeln!(r.markdown, "- heading {}", ns.described());
        }
        r.markdown.push('\n');
    }
}

/// The last line of the report.
pub fn summary(reports: &[VendorReport], documents: usize) -> String {
    let mut c = Counts::default();
    let mut affected = BTreeSet::new();
    for r in reports {
        c.add(r.counts);
        affected.extend(r.affected.iter().cloned());
    }
    if c.total() == 0 {
        return format!(
            "sources: no drift in {documents} document(s) of {} vendor(s)",
            reports.len()
        );
    }
    format!(
        "sources: drift: {} changed, {} vanished, {} renamed, {} new heading(s), {} endpoint line(s) gone, {} new endpoint line(s); {} operation(s) affected{}",
        c.changed,
        c.vanished,
        c.renamed,
        c.new_headings,
        c.vanished_endpoints,
        c.new_endpoints,
        affected.len(),
        if affected.is_empty() { String::new() } else { format!(": {}", affected.into_iter().collect::<Vec<_>>().join(", ")) }
    )
}

/// Where a vendor's lock lives.
pub fn lock_path(root: &Path, api: &ir::Api) -> PathBuf {
    root.join(&api.vendor.spec_dir).join(LOCK_FILE)
}

pub fn read_lock(path: &Path) -> Result<Option<Lock>, SourcesError> {
    match std::fs::read_to_string(path) {
        Ok(t) => Lock::parse(&t).map(Some).map_err(|source| SourcesError::Lock {
            path: path.to_path_buf(),
            source,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(SourcesError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Fingerprints that differ between two versions of one lock, for `diff REV`.
pub fn lock_changes(old: Option<&Lock>, new: Option<&Lock>) -> Vec<String> {
    let empty = Lock {
        generated: String::new(),
        sources: Vec::new(),
    };
    let (old, new) = (old.unwrap_or(&empty), new.unwrap_or(&empty));
    let mut out = Vec::new();
    for n in &new.sources {
        match old.sources.iter().find(|o| o.file == n.file) {
            None => out.push(format!("`{}`: newly recorded ({} sections)", n.file, n.sections.len())),
            Some(o) if o.hash != n.hash => {
                let ok = section_keys(&o.sections);
                let nk = section_keys(&n.sections);
                let old_by: HashMap<&str, &Section> = ok.iter().map(String::as_str).zip(&o.sections).collect();
                let new_keys: BTreeSet<&str> = nk.iter().map(String::as_str).collect();
                let mut parts = Vec::new();
                for (k, s) in nk.iter().zip(&n.sections) {
                    match old_by.get(k.as_str()) {
                        Some(old) if old.hash != s.hash => parts.push(format!("\"{}\" re-read", s.title())),
                        None => parts.push(format!("\"{}\" new", s.title())),
                        _ => {}
                    }
                }
                for (k, s) in ok.iter().zip(&o.sections) {
                    if !new_keys.contains(k.as_str()) {
                        parts.push(format!("\"{}\" gone", s.title()));
                    }
                }
                out.push(format!(
                    "`{}`: {}",
                    n.file,
                    if parts.is_empty() {
                        "text outside the sections changed".to_owned()
                    } else {
                        parts.join(", ")
                    }
                ));
            }
            Some(_) => {}
        }
    }
    for o in &old.sources {
        if !new.sources.iter().any(|n| n.file == o.file) {
            out.push(format!("`{}`: no longer recorded", o.file));
        }
    }
    out
}

/// The specs as `sources` needs them: every vendor under `specs/` (or one),
/// with the citations checked against `docs` when given.
fn load_apis(root: &Path, docs: Option<&Path>, vendor: Option<&str>) -> Result<Vec<ir::Api>, SourcesError> {
    let opts = crate::regen::Options {
        root,
        spec_roots: vec![crate::regen::SpecRoot {
            specs: PathBuf::from("specs"),
            crates: PathBuf::from("crates"),
            check_sources: true,
        }],
        docs: docs.map(Path::to_path_buf),
        vendor,
        check: true,
    };
    crate::regen::load(&opts).map_err(|f| {
        SourcesError::Specs(match f {
            crate::regen::Failure::Spec(diags) => {
                let mut s: String = diags.iter().map(|d| format!("{d}\n")).collect();
                let _ = write!(s, "error: {} problem(s) in specs/", diags.len());
                s
            }
            crate::regen::Failure::Stale(_) => "unexpected stale report".into(),
            crate::regen::Failure::Other(e) => e,
        })
    })
}

/// What `cargo xtask sources` was asked to do.
pub struct Command<'a> {
    pub root: &'a Path,
    /// The documents to hold against the lock.
    pub docs: &'a Path,
    /// The default documents folder, used for the old text of the diffs when
    /// it still holds the edition the lock was written from.
    pub accepted_docs: Option<&'a Path>,
    pub vendor: Option<&'a str>,
    pub accept: bool,
}

/// Run `cargo xtask sources`: the report (or the new lock) on stdout,
/// problems on stderr; returns the exit code (0 no drift, 1 drift, 2 could not run).
pub fn command(c: &Command<'_>) -> u8 {
    if !c.docs.is_dir() {
        eprintln!(
            "error: {} is not a folder of vendor documents; pass --docs DIR",
            c.docs.display()
        );
        return 2;
    }
    // Citations are checked against the new documents only when accepting:
    // before that, a vanished heading is drift to report, not an error.
    let apis = match load_apis(c.root, c.accept.then_some(c.docs), c.vendor) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            eprintln!(
                "error: {}",
                if c.accept {
                    "--accept refuses while the specs have errors: update them to the new documents first"
                } else {
                    "the specs do not validate; fix them first"
                }
            );
            return 2;
        }
    };
    let same_folder = c
        .accepted_docs
        .is_some_and(|a| a.canonicalize().ok() == c.docs.canonicalize().ok());
    let label = c.docs.display().to_string();
    let mut reports = Vec::new();
    let mut documents = 0;
    let mut out = format!("# Vendor documents against sources.lock\n\nDocuments: `{label}`\n\n");
    for api in &apis {
        let new = match read_docs(api, c.docs) {
            Ok(n) => n,
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        };
        documents += new.len();
        let path = lock_path(c.root, api);
        let lock = match read_lock(&path) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        };
        if c.accept {
            if !accept(c.root, api, &path, lock.as_ref(), &new) {
                return 2;
            }
            continue;
        }
        let old = match (same_folder, c.accepted_docs) {
            (false, Some(dir)) => read_docs(api, dir).unwrap_or_default(),
            _ => BTreeMap::new(),
        };
        let r = report(api, lock.as_ref(), &Docs { new, old }, &label);
        out.push_str(&r.markdown);
        reports.push(r);
    }
    if c.accept {
        println!("sources --accept: lock files match {documents} document(s)");
        return 0;
    }
    let drift = reports.iter().any(|r| r.counts.total() > 0);
    print!("{out}");
    println!("{}", summary(&reports, documents));
    u8::from(drift)
}

/// `--accept` for one vendor: write its lock from the documents (when it
/// changes) and say what changed. False when the lock cannot be written.
fn accept(root: &Path, api: &ir::Api, path: &Path, lock: Option<&Lock>, new: &BTreeMap<String, Outline>) -> bool {
    let fresh = Lock::build(api, new);
    let shown = path.strip_prefix(root).unwrap_or(path).display();
    if lock == Some(&fresh) {
        println!("{shown}: unchanged");
        return true;
    }
    let changes = lock_changes(lock, Some(&fresh));
    if let Err(e) = std::fs::write(path, fresh.render()) {
        eprintln!("error: cannot write {}: {e}", path.display());
        return false;
    }
    let sections = fresh.sources.iter().map(|s| s.sections.len()).sum::<usize>();
    println!(
        "wrote {shown} ({sections} sections in {} document(s))",
        fresh.sources.len()
    );
    for ch in changes {
        println!("  {ch}");
    }
    true
}

/// For `regen --check`: one line per drifted item, empty when the documents match the locks.
/// Spec errors are left for regen to report.
pub fn drift(root: &Path, docs: &Path, vendor: Option<&str>) -> Result<Vec<String>, SourcesError> {
    Ok(drift_reports(root, docs, vendor)?
        .into_iter()
        .flat_map(|r| r.items)
        .collect())
}

/// [`drift`] per vendor, with the operations each drift touches (for `cargo xtask review`).
/// Empty when the specs do not validate: spec errors are left for regen to report.
pub fn drift_reports(root: &Path, docs: &Path, vendor: Option<&str>) -> Result<Vec<VendorReport>, SourcesError> {
    let Ok(apis) = load_apis(root, None, vendor) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for api in &apis {
        let new = read_docs(api, docs)?;
        let lock = read_lock(&lock_path(root, api))?;
        let docs = Docs {
            new,
            old: BTreeMap::new(),
        };
        out.push(report(api, lock.as_ref(), &docs, "docs"));
    }
    Ok(out)
}
