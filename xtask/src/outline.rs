//! The outline of a vendor document: its sections (headings, endpoint
//! lines), each section's fingerprint, and how a citation finds its section.
//!
//! A document is plain text. How it marks headings and endpoint lines is
//! described per source in `vendor.yaml` ([`Headings`]); nothing here knows a
//! vendor. Low level: validation (citations) and the `sources` command
//! (drift against `sources.lock`) both build on it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::spec::{EndpointStyle, Headings};

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

    pub fn endpoint_keys(&self) -> impl Iterator<Item = String> + '_ {
        self.endpoints.iter().map(|e| {
            let (m, p) = e.split_once(' ').unwrap_or((e, ""));
            endpoint_key(m, p)
        })
    }

    pub fn described(&self) -> String {
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
    /// See `LockSource::shaped` (in `sources`).
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
    (METHODS.contains(&method) && rest.starts_with('/') && !rest.contains(char::is_whitespace))
        .then(|| (method.to_owned(), rest.split('?').next().unwrap_or(rest).to_owned()))
}

/// Could this line be a heading (for `parents:`)? Short, starts with a
/// capital letter, and has none of the marks of code or tables.
fn heading_like(line: &str) -> bool {
    let t = line.trim();
    t.chars().next().is_some_and(|c| c.is_uppercase())
        && t.len() <= 60
        && !t.contains(['|', ';', '(', ')', '{', '}', '=', '$', '\'', '"', ':', '.', ','])
}

/// A document's lines, and which of them are not blank.
struct Lines {
    lines: Vec<String>,
    nonblank: Vec<usize>,
    /// Line number -> its place among the non-blank lines.
    pos: HashMap<usize, usize>,
}

/// The headings found: line -> heading text, the endpoint lines that belong
/// to a heading found above them, and the headings so found.
#[derive(Default)]
struct Headed {
    headings: BTreeMap<usize, String>,
    owned: BTreeSet<usize>,
    endpoint_headings: BTreeSet<usize>,
}

/// Split a document into sections as `h` describes.
pub fn parse(text: &str, h: &Headings) -> Outline {
    let lines: Vec<String> = text.lines().map(|l| l.trim_end().to_owned()).collect();
    let nonblank: Vec<usize> = (0..lines.len()).filter(|&i| !lines[i].trim().is_empty()).collect();
    let pos: HashMap<usize, usize> = nonblank.iter().enumerate().map(|(p, &i)| (i, p)).collect();
    let doc = Lines { lines, nonblank, pos };
    let endpoints = h.endpoints.map(|style| endpoint_lines(&doc, style)).unwrap_or_default();
    let headed = heading_lines(&doc, &endpoints, h);
    let parents = h
        .parents
        .map(|words| parent_lines(&doc, &endpoints, &headed, words))
        .unwrap_or_default();
    let (sections, ranges) = sections(&doc.lines, &endpoints, &headed, &parents);
    let shaped = shaped_lines(&doc, h);
    Outline {
        hash: fingerprint(text),
        lines: doc.lines,
        sections,
        ranges,
        shaped,
    }
}

/// Where headings are only listed by name (no endpoint lines, no table of
/// contents mark them), a renamed or new heading would not be one: keep
/// every heading-shaped line, a short capitalised line standing alone.
fn shaped_lines(doc: &Lines, h: &Headings) -> Vec<String> {
    if h.endpoints.is_some() || h.toc.is_some() || h.lines.is_empty() {
        return Vec::new();
    }
    let blank = |i: Option<usize>| i.and_then(|i| doc.lines.get(i)).is_none_or(|l| l.trim().is_empty());
    doc.nonblank
        .iter()
        .filter(|&&i| blank(i.checked_sub(1)) && blank(Some(i + 1)) && heading_like(&doc.lines[i]))
        .map(|&i| normalise(&doc.lines[i]))
        .collect()
}

/// The endpoint lines (`METHOD /path`), by line number.
fn endpoint_lines(doc: &Lines, style: EndpointStyle) -> BTreeMap<usize, String> {
    let (lines, nonblank) = (&doc.lines, &doc.nonblank);
    let mut endpoints = BTreeMap::new();
    for (p, &i) in nonblank.iter().enumerate() {
        if style == EndpointStyle::PathThenMethod {
            let t = lines[i].trim();
            let next_method = nonblank
                .get(p + 1)
                .and_then(|&n| lines[n].split_whitespace().next())
                .filter(|m| METHODS.contains(m));
            if let (true, Some(m)) = (t.starts_with('/') && !t.contains(char::is_whitespace), next_method) {
                endpoints.insert(i, format!("{m} {}", t.split('?').next().unwrap_or(t)));
            }
        } else if let Some((m, path)) = parse_endpoint(&lines[i], style) {
            endpoints.insert(i, format!("{m} {path}"));
        }
    }
    endpoints
}

/// The heading lines: a fixed distance above each endpoint line, listed
/// lines, and the items of a table of contents.
fn heading_lines(doc: &Lines, endpoints: &BTreeMap<usize, String>, h: &Headings) -> Headed {
    let (lines, nonblank) = (&doc.lines, &doc.nonblank);
    let mut out = Headed::default();
    // The units `above_endpoint` counts: non-blank lines, or the first line of each paragraph.
    let units: Vec<usize> = if h.paragraphs {
        nonblank
            .iter()
            .copied()
            .filter(|&i| i == 0 || lines[i - 1].trim().is_empty())
            .collect()
    } else {
        nonblank.clone()
    };
    if let Some(n) = h.above_endpoint.filter(|n| *n > 0) {
        for &e in endpoints.keys() {
            let p = units.partition_point(|&u| u <= e) - 1;
            if p >= n {
                let hl = units[p - n];
                if !endpoints.contains_key(&hl) {
                    out.headings.insert(hl, lines[hl].trim().to_owned());
                    out.endpoint_headings.insert(hl);
                    out.owned.insert(e);
                }
            }
        }
    }
    let listed: BTreeSet<String> = h.lines.iter().map(|l| normalise(l)).collect();
    for &i in nonblank {
        if listed.contains(&normalise(&lines[i])) {
            out.headings.insert(i, lines[i].trim().to_owned());
        }
    }
    if let Some(toc) = &h.toc {
        if let Some(&start) = nonblank.iter().find(|&&i| key(&lines[i]) == key(toc)) {
            for &i in nonblank.iter().skip(doc.pos[&start] + 1) {
                match lines[i].trim().strip_prefix("- ") {
                    Some(item) => out.headings.insert(i, item.trim().to_owned()),
                    None => break,
                };
            }
        }
    }
    out
}

/// Parent headings (`parents: N`): the heading-like line of at most `words`
/// words right above a heading found from its endpoint line.
fn parent_lines(doc: &Lines, endpoints: &BTreeMap<usize, String>, headed: &Headed, words: usize) -> BTreeSet<usize> {
    let mut parents = BTreeSet::new();
    for &hl in &headed.endpoint_headings {
        let p = doc.pos[&hl];
        if p >= 1 {
            let cand = doc.nonblank[p - 1];
            let line = &doc.lines[cand];
            if !headed.headings.contains_key(&cand)
                && !endpoints.contains_key(&cand)
                && heading_like(line)
                && line.split_whitespace().count() <= words
            {
                parents.insert(cand);
            }
        }
    }
    parents
}

/// The sections between the breaks (headings, parents, and endpoint lines
/// no heading owns), each with its text's line range and fingerprint.
fn sections(
    lines: &[String],
    endpoints: &BTreeMap<usize, String>,
    headed: &Headed,
    parents: &BTreeSet<usize>,
) -> (Vec<Section>, Vec<(usize, usize)>) {
    let mut breaks: BTreeSet<usize> = headed.headings.keys().copied().collect();
    breaks.extend(parents.iter().copied());
    breaks.extend(endpoints.keys().filter(|e| !headed.owned.contains(*e)).copied());
    let mut sections = Vec::new();
    let mut ranges = Vec::new();
    let first = breaks.iter().next().copied().unwrap_or(lines.len());
    if lines[..first].iter().any(|l| !l.trim().is_empty()) {
        sections.push(Section {
            parent: None,
            heading: None,
            endpoints: Vec::new(),
            hash: fingerprint(&lines[..first].join("\n")),
        });
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
            (
                Section {
                    parent: None,
                    heading: Some(name),
                    endpoints: eps,
                    hash: String::new(),
                },
                b + 1,
            )
        } else if let Some(name) = headed.headings.get(&b) {
            let p = if headed.endpoint_headings.contains(&b) {
                parent.clone()
            } else {
                None
            };
            (
                Section {
                    parent: p,
                    heading: Some(name.clone()),
                    endpoints: eps,
                    hash: String::new(),
                },
                b + 1,
            )
        } else {
            (
                Section {
                    parent: None,
                    heading: None,
                    endpoints: eps,
                    hash: String::new(),
                },
                b,
            )
        };
        let hash = fingerprint(&lines[body..end].join("\n"));
        sections.push(Section { hash, ..section });
        ranges.push((body, end));
    }
    (sections, ranges)
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
    let same_name: Vec<usize> = (0..sections.len())
        .filter(|&i| sections[i].heading.as_deref().map(key).as_deref() == Some(name.as_str()))
        .collect();
    let cands: Vec<usize> = same_name
        .iter()
        .copied()
        .filter(|&i| parent.is_none() || sections[i].parent.as_deref().map(key) == parent)
        .collect();
    match cands.len() {
        1 => return Ok(cands[0]),
        0 => {}
        _ => {
            if let Some(ep) = endpoint {
                let hit: Vec<usize> = cands
                    .iter()
                    .copied()
                    .filter(|&i| sections[i].endpoint_keys().any(|k| k == ep))
                    .collect();
                if hit.len() == 1 {
                    return Ok(hit[0]);
                }
            }
            return Err(CiteError::Ambiguous(
                cands.iter().map(|&i| sections[i].described()).collect(),
            ));
        }
    }
    if !same_name.is_empty() {
        return Err(CiteError::Unknown(
            same_name.iter().map(|&i| sections[i].title()).collect(),
        ));
    }
    let headed: Vec<usize> = (0..sections.len()).filter(|&i| sections[i].heading.is_some()).collect();
    let within: Vec<String> = headed
        .iter()
        .filter(|&&i| {
            sections[i]
                .heading
                .as_deref()
                .map(key)
                .is_some_and(|h| h.contains(&name))
        })
        .map(|&i| cite_form(sections, i))
        .collect();
    if !within.is_empty() {
        return Err(CiteError::Substring(within));
    }
    Err(CiteError::Unknown(close_headings(sections, &headed, &name)))
}

/// The headings a citation `name` (lowercased) probably meant: close in
/// spelling, else sharing a word; at most five, each in its citation form.
fn close_headings(sections: &[Section], headed: &[usize], name: &str) -> Vec<String> {
    // Close in spelling, else sharing a word: what the citation probably meant.
    let lowered: Vec<String> = headed
        .iter()
        .map(|&i| sections[i].heading.as_deref().map(key).unwrap_or_default())
        .collect();
    let pool: Vec<&str> = lowered.iter().map(String::as_str).collect();
    let mut close: Vec<String> = similar::get_close_matches(name, &pool, 5, 0.5)
        .iter()
        .flat_map(|c| {
            headed
                .iter()
                .zip(&lowered)
                .filter(move |(_, l)| l == c)
                .map(|(&i, _)| cite_form(sections, i))
        })
        .collect();
    if close.is_empty() {
        let words: BTreeSet<&str> = name
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() > 2)
            .collect();
        close = headed
            .iter()
            .zip(&lowered)
            .filter(|(_, l)| l.split(|c: char| !c.is_alphanumeric()).any(|w| words.contains(w)))
            .map(|(&i, _)| cite_form(sections, i))
            .collect();
    }
    let mut seen = BTreeSet::new();
    close.retain(|c| seen.insert(c.clone()));
    close.truncate(5);
    close
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
pub fn section_keys(sections: &[Section]) -> Vec<String> {
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
