//! The vendor documents as sections: headings, endpoint lines, fingerprints,
//! the per-vendor `sources.lock`, and the drift report of `cargo xtask sources`.
//!
//! A document is plain text. How it marks headings and endpoint lines is
//! described per source in `vendor.yaml` ([`Headings`]); nothing here knows a
//! vendor. The lock keeps hashes of each section's whitespace-normalised text,
//! the headings and the endpoint lines, and never the prose itself.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ir;
use crate::spec::{EndpointStyle, Headings, ParamTable};

/// Name of the per-vendor lock file inside `specs/<vendor>/`.
pub const LOCK_FILE: &str = "sources.lock";
const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
const PREAMBLE: &str = "(text before the first heading)";

/// Lowercase with whitespace runs collapsed: how headings are compared.
pub fn key(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Whitespace runs collapsed to one space: what a fingerprint hashes, so that
/// reflowed or re-indented text keeps its fingerprint.
pub fn normalise(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first 16 hex digits of the SHA-256 of the normalised text.
pub fn fingerprint(text: &str) -> String {
    let digest = Sha256::digest(normalise(text).as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// `METHOD /path` with every `{placeholder}` written `{}`, the query string
/// and a trailing slash dropped: how an operation finds its endpoint line.
pub fn endpoint_key(method: &str, path: &str) -> String {
    let path = path.split('?').next().unwrap_or_default();
    let mut out = String::new();
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '{' => {
                depth += 1;
                if depth == 1 {
                    out.push_str("{}");
                }
            }
            '}' => depth = (depth - 1).max(0),
            _ if depth > 0 => {}
            _ => out.push(c),
        }
    }
    while out.len() > 1 && out.ends_with('/') {
        out.pop();
    }
    format!("{} {out}", method.to_uppercase())
}

/// One section as recorded in the lock: heading (and parent) or, for an
/// endpoint printed under no heading, only its endpoint lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heading: Option<String>,
    /// Endpoint lines printed in the section, as `METHOD /path`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<String>,
    pub hash: String,
}

impl Section {
    /// How a reviewer reads it: `Parent > Heading`, or the endpoint line.
    pub fn title(&self) -> String {
        match (&self.parent, &self.heading) {
            (Some(p), Some(h)) => format!("{p} > {h}"),
            (None, Some(h)) => h.clone(),
            _ => self.endpoints.first().cloned().unwrap_or_else(|| PREAMBLE.to_owned()),
        }
    }

    fn endpoint_keys(&self) -> impl Iterator<Item = String> + '_ {
        self.endpoints.iter().map(|e| {
            let (m, p) = e.split_once(' ').unwrap_or((e, ""));
            endpoint_key(m, p)
        })
    }

    fn described(&self) -> String {
        if self.heading.is_some() && !self.endpoints.is_empty() {
            format!("\"{}\" ({})", self.title(), self.endpoints.join(", "))
        } else {
            format!("\"{}\"", self.title())
        }
    }
}

/// A document split into sections, with each section's line range.
#[derive(Debug, Clone)]
pub struct Outline {
    pub lines: Vec<String>,
    pub sections: Vec<Section>,
    /// Per section: the lines of its text (after the heading line).
    pub ranges: Vec<(usize, usize)>,
    pub hash: String,
    /// See [`LockSource::shaped`].
    pub shaped: Vec<String>,
}

impl Outline {
    pub fn text(&self, i: usize) -> String {
        let (a, b) = self.ranges[i];
        self.lines[a..b].join("\n")
    }
}

fn parse_endpoint(line: &str, style: EndpointStyle) -> Option<(String, String)> {
    let t = line.trim();
    let (method, rest) = match style {
        EndpointStyle::Bracketed => {
            let (m, rest) = t.strip_prefix('[')?.split_once(']')?;
            (m, rest.trim())
        }
        EndpointStyle::Plain => t.split_once(' ').map(|(m, r)| (m, r.trim()))?,
        EndpointStyle::PathThenMethod => return None,
    };
    (METHODS.contains(&method) && rest.starts_with('/') && !rest.contains(char::is_whitespace)).then(|| (method.to_owned(), rest.split('?').next().unwrap_or(rest).to_owned()))
}

/// Could this line be a heading (for `parents:`)? Short, starts with a
/// capital letter, and has none of the marks of code or tables.
fn heading_like(line: &str) -> bool {
    let t = line.trim();
    t.chars().next().is_some_and(|c| c.is_uppercase()) && t.len() <= 60 && !t.contains(['|', ';', '(', ')', '{', '}', '=', '$', '\'', '"', ':', '.', ','])
}

/// Split a document into sections as `h` describes.
pub fn parse(text: &str, h: &Headings) -> Outline {
    let lines: Vec<String> = text.lines().map(|l| l.trim_end().to_owned()).collect();
    let nonblank: Vec<usize> = (0..lines.len()).filter(|&i| !lines[i].trim().is_empty()).collect();
    let pos: HashMap<usize, usize> = nonblank.iter().enumerate().map(|(p, &i)| (i, p)).collect();

    let mut endpoints: BTreeMap<usize, String> = BTreeMap::new();
    if let Some(style) = h.endpoints {
        for (p, &i) in nonblank.iter().enumerate() {
            if style == EndpointStyle::PathThenMethod {
                let t = lines[i].trim();
                let next_method = nonblank.get(p + 1).and_then(|&n| lines[n].split_whitespace().next()).filter(|m| METHODS.contains(m));
                if let (true, Some(m)) = (t.starts_with('/') && !t.contains(char::is_whitespace), next_method) {
                    endpoints.insert(i, format!("{m} {}", t.split('?').next().unwrap_or(t)));
                }
            } else if let Some((m, path)) = parse_endpoint(&lines[i], style) {
                endpoints.insert(i, format!("{m} {path}"));
            }
        }
    }

    let mut headings: BTreeMap<usize, String> = BTreeMap::new();
    let mut owned = BTreeSet::new();
    let mut endpoint_headings = BTreeSet::new();
    // The units `above_endpoint` counts: non-blank lines, or the first line of each paragraph.
    let units: Vec<usize> = if h.paragraphs { nonblank.iter().copied().filter(|&i| i == 0 || lines[i - 1].trim().is_empty()).collect() } else { nonblank.clone() };
    if let Some(n) = h.above_endpoint.filter(|n| *n > 0) {
        for &e in endpoints.keys() {
            let p = units.partition_point(|&u| u <= e) - 1;
            if p >= n {
                let hl = units[p - n];
                if !endpoints.contains_key(&hl) {
                    headings.insert(hl, lines[hl].trim().to_owned());
                    endpoint_headings.insert(hl);
                    owned.insert(e);
                }
            }
        }
    }
    let listed: BTreeSet<String> = h.lines.iter().map(|l| normalise(l)).collect();
    for &i in &nonblank {
        if listed.contains(&normalise(&lines[i])) {
            headings.insert(i, lines[i].trim().to_owned());
        }
    }
    if let Some(toc) = &h.toc {
        if let Some(&start) = nonblank.iter().find(|&&i| key(&lines[i]) == key(toc)) {
            for &i in nonblank.iter().skip(pos[&start] + 1) {
                match lines[i].trim().strip_prefix("- ") {
                    Some(item) => headings.insert(i, item.trim().to_owned()),
                    None => break,
                };
            }
        }
    }
    let mut parents = BTreeSet::new();
    if let Some(words) = h.parents {
        for &hl in &endpoint_headings {
            let p = pos[&hl];
            if p >= 1 {
                let cand = nonblank[p - 1];
                if !headings.contains_key(&cand) && !endpoints.contains_key(&cand) && heading_like(&lines[cand]) && lines[cand].split_whitespace().count() <= words {
                    parents.insert(cand);
                }
            }
        }
    }

    let mut breaks: BTreeSet<usize> = headings.keys().copied().collect();
    breaks.extend(parents.iter().copied());
    breaks.extend(endpoints.keys().filter(|e| !owned.contains(*e)).copied());
    let mut sections = Vec::new();
    let mut ranges = Vec::new();
    let first = breaks.iter().next().copied().unwrap_or(lines.len());
    if lines[..first].iter().any(|l| !l.trim().is_empty()) {
        sections.push(Section { parent: None, heading: None, endpoints: Vec::new(), hash: fingerprint(&lines[..first].join("\n")) });
        ranges.push((0, first));
    }
    let starts: Vec<usize> = breaks.iter().copied().collect();
    let mut parent: Option<String> = None;
    for (k, &b) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(lines.len());
        let eps: Vec<String> = endpoints.range(b..end).map(|(_, e)| e.clone()).collect();
        let (section, body) = if parents.contains(&b) {
            let name = lines[b].trim().to_owned();
            parent = Some(name.clone());
            (Section { parent: None, heading: Some(name), endpoints: eps, hash: String::new() }, b + 1)
        } else if let Some(name) = headings.get(&b) {
            let p = if endpoint_headings.contains(&b) { parent.clone() } else { None };
            (Section { parent: p, heading: Some(name.clone()), endpoints: eps, hash: String::new() }, b + 1)
        } else {
            (Section { parent: None, heading: None, endpoints: eps, hash: String::new() }, b)
        };
        let hash = fingerprint(&lines[body..end].join("\n"));
        sections.push(Section { hash, ..section });
        ranges.push((body, end));
    }
    // Where headings are only listed by name (no endpoint lines, no table of
    // contents mark them), a renamed or new heading would not be one: keep
    // every heading-shaped line, a short capitalised line standing alone.
    let shaped = if h.endpoints.is_none() && h.toc.is_none() && !h.lines.is_empty() {
        let blank = |i: Option<usize>| i.and_then(|i| lines.get(i)).is_none_or(|l| l.trim().is_empty());
        nonblank.iter().filter(|&&i| blank(i.checked_sub(1)) && blank(Some(i + 1)) && heading_like(&lines[i])).map(|&i| normalise(&lines[i])).collect()
    } else {
        Vec::new()
    };
    Outline { hash: fingerprint(text), lines, sections, ranges, shaped }
}

/// Why a citation does not name exactly one section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CiteError {
    /// Only occurs inside these headings.
    Substring(Vec<String>),
    /// Not a heading; these are close.
    Unknown(Vec<String>),
    /// Names more than one section; these are the ways to say which.
    Ambiguous(Vec<String>),
}

impl CiteError {
    /// `(message, hint)` for a diagnostic about citing `cited` in `file`.
    pub fn explain(&self, cited: &str, file: &str) -> (String, String) {
        let quote = |v: &[String]| v.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(", ");
        match self {
            CiteError::Substring(within) => (
                format!("section \"{cited}\" is not a heading of {file}; it only occurs inside {}", quote(within)),
                format!("cite the whole heading: did you mean {}?", quote(within)),
            ),
            CiteError::Unknown(close) if close.is_empty() => (format!("section \"{cited}\" is not a heading of {file}"), "copy the heading exactly as the document prints it (`cargo xtask sources` lists the changes)".to_owned()),
            CiteError::Unknown(close) => (format!("section \"{cited}\" is not a heading of {file}"), format!("did you mean {}?", quote(close))),
            CiteError::Ambiguous(c) => (
                format!("section \"{cited}\" names {} sections of {file}", c.len()),
                format!("say which one with its parent heading (`Parent > Heading`) or cite it from the operation whose endpoint it prints: {}", c.join("; ")),
            ),
        }
    }
}

/// Find the one section a citation names. `cited` is a heading, or
/// `Parent > Heading`; `endpoint` (an [`endpoint_key`]) picks among
/// repeated headings the one whose section prints the citing operation's
/// endpoint line.
pub fn resolve(sections: &[Section], cited: &str, endpoint: Option<&str>) -> Result<usize, CiteError> {
    let (parent, name) = match cited.rsplit_once(" > ") {
        Some((p, n)) => (Some(key(p)), key(n)),
        None => (None, key(cited)),
    };
    let same_name: Vec<usize> = (0..sections.len()).filter(|&i| sections[i].heading.as_deref().map(key).as_deref() == Some(name.as_str())).collect();
    let cands: Vec<usize> = same_name.iter().copied().filter(|&i| parent.is_none() || sections[i].parent.as_deref().map(key) == parent).collect();
    match cands.len() {
        1 => return Ok(cands[0]),
        0 => {}
        _ => {
            if let Some(ep) = endpoint {
                let hit: Vec<usize> = cands.iter().copied().filter(|&i| sections[i].endpoint_keys().any(|k| k == ep)).collect();
                if hit.len() == 1 {
                    return Ok(hit[0]);
                }
            }
            return Err(CiteError::Ambiguous(cands.iter().map(|&i| sections[i].described()).collect()));
        }
    }
    if !same_name.is_empty() {
        return Err(CiteError::Unknown(same_name.iter().map(|&i| sections[i].title()).collect()));
    }
    let headed: Vec<usize> = (0..sections.len()).filter(|&i| sections[i].heading.is_some()).collect();
    let within: Vec<String> = headed.iter().filter(|&&i| sections[i].heading.as_deref().map(key).is_some_and(|h| h.contains(&name))).map(|&i| cite_form(sections, i)).collect();
    if !within.is_empty() {
        return Err(CiteError::Substring(within));
    }
    // Close in spelling, else sharing a word: what the citation probably meant.
    let lowered: Vec<String> = headed.iter().map(|&i| sections[i].heading.as_deref().map(key).unwrap_or_default()).collect();
    let pool: Vec<&str> = lowered.iter().map(String::as_str).collect();
    let mut close: Vec<String> = similar::get_close_matches(name.as_str(), &pool, 5, 0.5).iter().flat_map(|c| headed.iter().zip(&lowered).filter(move |(_, l)| l == c).map(|(&i, _)| cite_form(sections, i))).collect();
    if close.is_empty() {
        let words: BTreeSet<&str> = name.split(|c: char| !c.is_alphanumeric()).filter(|w| w.len() > 2).collect();
        close = headed.iter().zip(&lowered).filter(|(_, l)| l.split(|c: char| !c.is_alphanumeric()).any(|w| words.contains(w))).map(|(&i, _)| cite_form(sections, i)).collect();
    }
    let mut seen = BTreeSet::new();
    close.retain(|c| seen.insert(c.clone()));
    close.truncate(5);
    Err(CiteError::Unknown(close))
}

/// The shortest citation that names section `i`: its heading, or `Parent > Heading` where the heading repeats.
pub fn cite_form(sections: &[Section], i: usize) -> String {
    let h = sections[i].heading.as_deref().map(key);
    if sections.iter().filter(|s| s.heading.as_deref().map(key) == h).count() > 1 {
        sections[i].title()
    } else {
        sections[i].heading.clone().unwrap_or_else(|| sections[i].title())
    }
}

/// Stable names for matching sections across editions: the title and the
/// first endpoint line (so that a repeated heading keeps its name when its
/// twin goes), and an ordinal where both repeat.
fn section_keys(sections: &[Section]) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    sections
        .iter()
        .map(|s| {
            let mut k = key(&s.title());
            if let Some(e) = s.endpoint_keys().next() {
                k = format!("{k} [{e}]");
            }
            let n = seen.entry(k.clone()).or_default();
            *n += 1;
            if *n > 1 {
                k = format!("{k} #{n}");
            }
            k
        })
        .collect()
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
            .filter_map(|s| outlines.get(&s.file).map(|o| LockSource { id: s.id.clone(), file: s.file.clone(), hash: o.hash.clone(), sections: o.sections.clone(), shaped: o.shaped.clone() }))
            .collect();
        Lock { generated: GENERATED.to_owned(), sources }
    }

    /// One section per line, so that a change reads well in a pull request.
    pub fn render(&self) -> String {
        let mut out = format!("{{\n  \"generated\": {},\n  \"sources\": [\n", serde_json::to_string(&self.generated).unwrap_or_default());
        for (i, s) in self.sources.iter().enumerate() {
            let _ = writeln!(out, "    {{\n      \"id\": {},\n      \"file\": {},\n      \"hash\": {},\n      \"sections\": [", json(&s.id), json(&s.file), json(&s.hash));
            for (j, sec) in s.sections.iter().enumerate() {
                let _ = writeln!(out, "        {}{}", serde_json::to_string(sec).unwrap_or_default(), if j + 1 < s.sections.len() { "," } else { "" });
            }
            let shaped = if s.shaped.is_empty() { String::new() } else { format!(",\n      \"shaped\": {}", serde_json::to_string(&s.shaped).unwrap_or_default()) };
            let _ = writeln!(out, "      ]{shaped}\n    }}{}", if i + 1 < self.sources.len() { "," } else { "" });
        }
        out.push_str("  ]\n}\n");
        out
    }

    pub fn parse(text: &str) -> Result<Lock, String> {
        serde_json::from_str(text).map_err(|e| format!("not a sources.lock written by `cargo xtask sources --accept` ({e}); restore it from git or rewrite it with `--accept`"))
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
        out.push(Citer { what: "rate limit".into(), op_id: None, file: r.source.file.clone(), section: r.source.section.clone(), endpoint: None, params: BTreeSet::new() });
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
            out.push(Citer { what: format!("model `{}`", m.name), op_id: None, file: s.file.clone(), section: s.section.clone(), endpoint: None, params });
        }
    }
    out
}

/// Parameter names in a section's tables.
pub fn table_names(text: &str, style: ParamTable, after: Option<&str>) -> BTreeSet<String> {
    let ident = |s: &str| !s.is_empty() && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && s.chars().all(|c| c.is_ascii_alphanumeric() || "_-.[]".contains(c));
    let mut out = BTreeSet::new();
    match style {
        ParamTable::Pipes => {
            for line in text.lines() {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                if cells.iter().filter(|c| !c.is_empty()).count() >= 3 && ident(cells[0]) && !cells[0].eq_ignore_ascii_case("parameter") {
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
        self.changed.is_empty() && self.vanished.is_empty() && self.renamed.is_empty() && self.added.is_empty() && self.vanished_endpoints.is_empty() && self.new_endpoints.is_empty() && self.shaped_gone.is_empty() && self.shaped_new.is_empty()
    }
}

pub fn compare(old: &LockSource, new: &Outline) -> SourceDrift {
    let ok = section_keys(&old.sections);
    let nk = section_keys(&new.sections);
    let new_by: HashMap<&str, usize> = nk.iter().enumerate().map(|(i, k)| (k.as_str(), i)).collect();
    let old_by: HashMap<&str, usize> = ok.iter().enumerate().map(|(i, k)| (k.as_str(), i)).collect();
    let mut d = SourceDrift { id: old.id.clone(), file: old.file.clone(), ..Default::default() };
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
        let hit = d.added.iter().position(|&j| old.sections[i].heading.is_some() && new.sections[j].heading.is_some() && new.sections[j].hash == old.sections[i].hash && old.sections[i].hash != empty);
        match hit {
            Some(p) => {
                renamed.push((i, d.added.remove(p)));
                false
            }
            None => true,
        }
    });
    d.renamed = renamed;
    let old_eps: BTreeMap<String, String> = old.sections.iter().flat_map(|s| s.endpoints.iter().cloned().zip(s.endpoint_keys()).map(|(e, k)| (k, e))).collect();
    let new_eps: BTreeMap<String, String> = new.sections.iter().flat_map(|s| s.endpoints.iter().cloned().zip(s.endpoint_keys()).map(|(e, k)| (k, e))).collect();
    d.vanished_endpoints = old_eps.iter().filter(|(k, _)| !new_eps.contains_key(*k)).map(|(_, e)| e.clone()).collect();
    d.new_endpoints = new_eps.iter().filter(|(k, _)| !old_eps.contains_key(*k)).map(|(_, e)| e.clone()).collect();
    // As multisets: a repeated line ("Responses") counts each time. A lock
    // written before the lines were kept has none: nothing to compare.
    if !old.shaped.is_empty() {
        fn count(v: &[String]) -> BTreeMap<&str, usize> {
            v.iter().fold(BTreeMap::new(), |mut m, l| {
                *m.entry(l.as_str()).or_default() += 1;
                m
            })
        }
        let (was, now) = (count(&old.shaped), count(&new.shaped));
        let gone_heads: BTreeSet<String> = d.vanished.iter().filter_map(|&i| old.sections[i].heading.as_deref().map(normalise)).collect();
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
    d
}

/// The documents of one run: the new edition, and (when it is the edition
/// the lock was written from) the old one, for the text of the diffs.
pub struct Docs {
    pub new: BTreeMap<String, Outline>,
    pub old: BTreeMap<String, Outline>,
}

/// Read and split each source document of `api` in `dir`.
pub fn read_docs(api: &ir::Api, dir: &Path) -> Result<BTreeMap<String, Outline>, String> {
    let mut out = BTreeMap::new();
    for s in &api.vendor.sources {
        let Some(h) = &s.headings else {
            return Err(format!("{}vendor.yaml: source `{}` has no `headings:`; describe how {} marks its headings (specs/README.md)", api.vendor.spec_dir, s.id, s.file));
        };
        let path = dir.join(&s.file);
        let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
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
    similar::TextDiff::from_lines(old, new).unified_diff().context_radius(2).header(a, b).to_string()
}

fn list(v: &BTreeSet<String>) -> String {
    v.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
}

/// Compare one vendor's lock with its documents. `lock` is None before the first `--accept`.
pub fn report(api: &ir::Api, lock: Option<&Lock>, docs: &Docs, docs_label: &str) -> VendorReport {
    let vendor = api.vendor.name.clone();
    let mut md = format!("## {vendor}\n\n");
    let mut counts = Counts::default();
    let mut items = Vec::new();
    let mut affected = BTreeSet::new();
    let all_citers = citers(api);
    let Some(lock) = lock else {
        let _ = writeln!(md, "No `{}{LOCK_FILE}` yet: nothing to compare with. Run `cargo xtask sources --accept` once the specs match the documents.\n", api.vendor.spec_dir);
        items.push(format!("{vendor}: {}{LOCK_FILE} is missing", api.vendor.spec_dir));
        counts.new_headings += 1;
        return VendorReport { vendor, markdown: md, counts, items, affected };
    };
    let mut clean = true;
    for s in &api.vendor.sources {
        let Some(new) = docs.new.get(&s.file) else { continue };
        let Some(old) = lock.sources.iter().find(|l| l.file == s.file) else {
            let _ = writeln!(md, "### `{}`\n\nNot in the lock yet; `--accept` records it.\n", s.file);
            items.push(format!("{vendor}: {} is not in {LOCK_FILE}", s.file));
            counts.new_headings += 1;
            clean = false;
            continue;
        };
        let d = compare(old, new);
        if d.is_empty() {
            continue;
        }
        clean = false;
        let old_text = docs.old.get(&s.file).filter(|o| o.hash == old.hash);
        let cites: Vec<&Citer> = all_citers.iter().filter(|c| c.file == s.file).collect();
        // Which old and new section each citation names.
        let in_old: Vec<Option<usize>> = cites.iter().map(|c| resolve(&old.sections, &c.section, c.endpoint.as_deref()).ok()).collect();
        let in_new: Vec<Option<usize>> = cites.iter().map(|c| resolve(&new.sections, &c.section, c.endpoint.as_deref()).ok()).collect();
        let citing = |old_i: Option<usize>, new_i: Option<usize>, eps: &[String]| -> Vec<usize> {
            (0..cites.len())
                .filter(|&k| (old_i.is_some() && in_old[k] == old_i) || (new_i.is_some() && in_new[k] == new_i) || cites[k].endpoint.as_ref().is_some_and(|e| eps.contains(e)))
                .collect()
        };
        let section_eps = |sec: &Section| sec.endpoint_keys().collect::<Vec<_>>();
        let _ = writeln!(md, "### `{}` ({})\n", s.file, s.id);
        let mut uncited = Vec::new();
        for &(i, j) in &d.changed {
            let (os, ns) = (&old.sections[i], &new.sections[j]);
            let mut eps = section_eps(os);
            eps.extend(section_eps(ns));
            let who = citing(Some(i), Some(j), &eps);
            counts.changed += 1;
            items.push(format!("{vendor}: {} § \"{}\" changed", s.file, ns.title()));
            if who.is_empty() {
                uncited.push(ns.described());
                continue;
            }
            let _ = writeln!(md, "#### Changed: {}\n", ns.described());
            for &k in &who {
                let _ = writeln!(md, "- cited by {}", cites[k].what);
                affected.extend(cites[k].op_id.clone());
            }
            let new_text = new.text(j);
            if let Some((style, after)) = s.headings.as_ref().and_then(|h| h.params.map(|p| (p, h.params_after.as_deref()))) {
                let params: BTreeSet<String> = who.iter().flat_map(|&k| cites[k].params.iter().cloned()).collect();
                let now = table_names(&new_text, style, after);
                let before = old_text.map(|o| table_names(&o.text(i), style, after));
                let fresh: BTreeSet<String> = now.iter().filter(|n| !params.contains(*n) && before.as_ref().is_none_or(|b| !b.contains(*n))).cloned().collect();
                let words: BTreeSet<&str> = new_text.split(|c: char| !(c.is_alphanumeric() || c == '_')).collect();
                let gone: BTreeSet<String> = match &before {
                    Some(b) => params.iter().filter(|p| b.contains(*p) && !now.contains(*p)).cloned().collect(),
                    None => params.iter().filter(|p| !words.contains(p.as_str())).cloned().collect(),
                };
                if !fresh.is_empty() {
                    let _ = writeln!(md, "- in the section's tables but in no citing operation: {}", list(&fresh));
                }
                if !gone.is_empty() {
                    let _ = writeln!(md, "- params of the citing operations no longer in the section: {}", list(&gone));
                }
            }
            match old_text {
                Some(o) => {
                    let _ = writeln!(md, "\n```diff\n{}```\n", unified(&format!("{}\n", o.text(i)), &format!("{new_text}\n"), &format!("accepted/{}", s.file), &format!("{docs_label}/{}", s.file)));
                }
                None => {
                    let _ = writeln!(md, "\n(The lock keeps fingerprints only; put the accepted edition in the default docs folder to see the text diff.)\n");
                }
            }
        }
        for &i in &d.vanished {
            let os = &old.sections[i];
            if os.heading.is_none() && !os.endpoints.is_empty() {
                continue; // listed with the endpoint lines gone
            }
            let who = citing(Some(i), None, &section_eps(os));
            counts.vanished += 1;
            items.push(format!("{vendor}: {} § \"{}\" vanished", s.file, os.title()));
            let _ = writeln!(md, "#### Vanished: {}\n", os.described());
            if who.is_empty() {
                let _ = writeln!(md, "- cited by nothing\n");
            }
            for &k in &who {
                let _ = writeln!(md, "- cited by {}", cites[k].what);
                affected.extend(cites[k].op_id.clone());
            }
            md.push('\n');
        }
        for &(i, j) in &d.renamed {
            let (os, ns) = (&old.sections[i], &new.sections[j]);
            let who = citing(Some(i), Some(j), &[]);
            counts.renamed += 1;
            items.push(format!("{vendor}: {} § \"{}\" renamed \"{}\"", s.file, os.title(), ns.title()));
            let _ = writeln!(md, "#### Renamed: \"{}\" is now \"{}\" (same text)\n", os.title(), ns.title());
            for &k in &who {
                let _ = writeln!(md, "- cited by {} (cites \"{}\")", cites[k].what, cites[k].section);
                affected.extend(cites[k].op_id.clone());
            }
            md.push('\n');
        }
        if !d.vanished_endpoints.is_empty() {
            let _ = writeln!(md, "#### Endpoint lines gone from the document\n");
            for e in &d.vanished_endpoints {
                let (m, p) = e.split_once(' ').unwrap_or((e, ""));
                let k = endpoint_key(m, p);
                let ops: Vec<&Citer> = cites.iter().copied().filter(|c| c.endpoint.as_deref() == Some(k.as_str())).collect();
                counts.vanished_endpoints += 1;
                items.push(format!("{vendor}: {} no longer prints `{e}`", s.file));
                let _ = writeln!(md, "- `{e}`: {}", if ops.is_empty() { "no operation".to_owned() } else { ops.iter().map(|c| c.what.clone()).collect::<Vec<_>>().join(", ") });
                affected.extend(ops.iter().filter_map(|c| c.op_id.clone()));
            }
            md.push('\n');
        }
        let new_headings: Vec<usize> = d.added.iter().copied().filter(|&j| new.sections[j].heading.is_some()).collect();
        if !d.new_endpoints.is_empty() || !new_headings.is_empty() {
            let _ = writeln!(md, "#### New in the document (candidate operations)\n");
            let op_eps: HashMap<String, &Citer> = all_citers.iter().filter_map(|c| c.endpoint.clone().map(|e| (e, c))).collect();
            for e in &d.new_endpoints {
                let (m, p) = e.split_once(' ').unwrap_or((e, ""));
                let under = new.sections.iter().find(|sec| sec.endpoints.contains(e)).filter(|sec| sec.heading.is_some()).map(|sec| format!(" under \"{}\"", sec.title())).unwrap_or_default();
                counts.new_endpoints += 1;
                items.push(format!("{vendor}: {} prints a new endpoint `{e}`", s.file));
                let note = match op_eps.get(&endpoint_key(m, p)) {
                    Some(c) => format!(" (already in the specs: {})", c.what),
                    None => " (no operation yet)".to_owned(),
                };
                let _ = writeln!(md, "- endpoint `{e}`{under}{note}");
            }
            for &j in &new_headings {
                let ns = &new.sections[j];
                if ns.endpoints.iter().any(|e| d.new_endpoints.contains(e)) {
                    continue;
                }
                counts.new_headings += 1;
                items.push(format!("{vendor}: {} has a new heading \"{}\"", s.file, ns.title()));
                let _ = writeln!(md, "- heading {}", ns.described());
            }
            md.push('\n');
        }
        if !d.shaped_gone.is_empty() || !d.shaped_new.is_empty() {
            let _ = writeln!(md, "#### Heading-shaped lines (this document's headings are listed by name in `headings.lines`)\n");
            for l in &d.shaped_gone {
                counts.vanished += 1;
                items.push(format!("{vendor}: {} § \"{l}\" (heading-shaped line) vanished", s.file));
                let _ = writeln!(md, "- gone: \"{l}\"");
            }
            for l in &d.shaped_new {
                counts.new_headings += 1;
                items.push(format!("{vendor}: {} has a new heading-shaped line \"{l}\"", s.file));
                let _ = writeln!(md, "- new: \"{l}\"{}", if s.headings.as_ref().is_some_and(|h| h.lines.iter().any(|x| normalise(x) == *l)) { "" } else { " (not in `headings.lines`: a new or renamed heading?)" });
            }
            md.push('\n');
        }
        if !uncited.is_empty() {
            let _ = writeln!(md, "#### Changed sections no spec cites\n");
            for u in &uncited {
                let _ = writeln!(md, "- {u}");
            }
            md.push('\n');
        }
    }
    if clean {
        md.push_str("No drift: every section matches the lock.\n\n");
    }
    VendorReport { vendor, markdown: md, counts, items, affected }
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
        return format!("sources: no drift in {documents} document(s) of {} vendor(s)", reports.len());
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

pub fn read_lock(path: &Path) -> Result<Option<Lock>, String> {
    match std::fs::read_to_string(path) {
        Ok(t) => Lock::parse(&t).map(Some).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// Fingerprints that differ between two versions of one lock, for `diff REV`.
pub fn lock_changes(old: Option<&Lock>, new: Option<&Lock>) -> Vec<String> {
    let empty = Lock { generated: String::new(), sources: Vec::new() };
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
                out.push(format!("`{}`: {}", n.file, if parts.is_empty() { "text outside the sections changed".to_owned() } else { parts.join(", ") }));
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
fn load_apis(root: &Path, docs: Option<&Path>, vendor: Option<&str>) -> Result<Vec<ir::Api>, String> {
    let opts = crate::regen::Options {
        root,
        spec_roots: vec![crate::regen::SpecRoot { specs: PathBuf::from("specs"), crates: PathBuf::from("crates"), check_sources: true }],
        docs: docs.map(Path::to_path_buf),
        vendor,
        check: true,
    };
    crate::regen::load(&opts).map_err(|f| match f {
        crate::regen::Failure::Spec(diags) => {
            let mut s: String = diags.iter().map(|d| format!("{d}\n")).collect();
            let _ = write!(s, "error: {} problem(s) in specs/", diags.len());
            s
        }
        crate::regen::Failure::Stale(_) => "unexpected stale report".into(),
        crate::regen::Failure::Other(e) => e,
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
        eprintln!("error: {} is not a folder of vendor documents; pass --docs DIR", c.docs.display());
        return 2;
    }
    // Citations are checked against the new documents only when accepting:
    // before that, a vanished heading is drift to report, not an error.
    let apis = match load_apis(c.root, c.accept.then_some(c.docs), c.vendor) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            eprintln!("error: {}", if c.accept { "--accept refuses while the specs have errors: update them to the new documents first" } else { "the specs do not validate; fix them first" });
            return 2;
        }
    };
    let same_folder = c.accepted_docs.is_some_and(|a| a.canonicalize().ok() == c.docs.canonicalize().ok());
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
            let fresh = Lock::build(api, &new);
            let changes = lock_changes(lock.as_ref(), Some(&fresh));
            if lock.as_ref() == Some(&fresh) {
                println!("{}: unchanged", path.strip_prefix(c.root).unwrap_or(&path).display());
                continue;
            }
            if let Err(e) = std::fs::write(&path, fresh.render()) {
                eprintln!("error: cannot write {}: {e}", path.display());
                return 2;
            }
            println!("wrote {} ({} sections in {} document(s))", path.strip_prefix(c.root).unwrap_or(&path).display(), fresh.sources.iter().map(|s| s.sections.len()).sum::<usize>(), fresh.sources.len());
            for ch in changes {
                println!("  {ch}");
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

/// For `regen --check`: one line per drifted item, empty when the documents match the locks.
/// Spec errors are left for regen to report.
pub fn drift(root: &Path, docs: &Path, vendor: Option<&str>) -> Result<Vec<String>, String> {
    Ok(drift_reports(root, docs, vendor)?.into_iter().flat_map(|r| r.items).collect())
}

/// [`drift`] per vendor, with the operations each drift touches (for `cargo xtask review`).
/// Empty when the specs do not validate: spec errors are left for regen to report.
pub fn drift_reports(root: &Path, docs: &Path, vendor: Option<&str>) -> Result<Vec<VendorReport>, String> {
    let Ok(apis) = load_apis(root, None, vendor) else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for api in &apis {
        let new = read_docs(api, docs)?;
        let lock = read_lock(&lock_path(root, api))?;
        out.push(report(api, lock.as_ref(), &Docs { new, old: BTreeMap::new() }, "docs"));
    }
    Ok(out)
}
