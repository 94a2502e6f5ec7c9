//! Load a vendor folder, check it as a whole, and lower it to the IR.
//!
//! Every check reports into [`Diags`] and carries on, so one run shows every
//! problem. Positions come from [`LocIndex`].

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::diag::{Diag, Diags};
use crate::ir::{self, Ty};
use crate::loc::LocIndex;
use crate::names;
use crate::outline;
use crate::spec::{self, HttpMethod, ParamLocation};

/// One parsed YAML file and the means to point into it.
struct SourceFile {
    /// As shown in messages (relative to the workspace root).
    shown: PathBuf,
    loc: LocIndex,
}

/// Where a node lives: file and YAML path.
#[derive(Clone, Copy)]
struct At<'a> {
    file: &'a SourceFile,
    path: &'a str,
}

struct Ctx<'d> {
    diags: &'d mut Diags,
}

impl Ctx<'_> {
    fn err(&mut self, at: At<'_>, sub: &str, message: impl Into<String>, hint: impl Into<String>) {
        let path = if sub.is_empty() {
            at.path.to_owned()
        } else if sub.starts_with('[') {
            format!("{}{sub}", at.path)
        } else {
            format!("{}.{sub}", at.path)
        };
        let (line, col) = at.file.loc.value(&path);
        let hint = hint.into();
        self.diags.push(Diag {
            file: at.file.shown.clone(),
            line,
            col,
            message: message.into(),
            hint: (!hint.is_empty()).then_some(hint),
        });
    }
}

/// When section `i` prints endpoint lines but not the citing operation's
/// `(method, path)`: the message, and a hint naming the section that does.
fn endpoint_elsewhere(
    outline: &outline::Outline,
    i: usize,
    cited: &str,
    endpoint: Option<(&str, &str)>,
) -> Option<(String, String)> {
    let (m, p) = endpoint?;
    let ep = outline::endpoint_key(m, p);
    let key_of = |e: &String| e.split_once(' ').map(|(m, p)| outline::endpoint_key(m, p));
    let sec = &outline.sections[i];
    let printed: Vec<String> = sec.endpoints.iter().map(|e| key_of(e).unwrap_or_default()).collect();
    if printed.is_empty() || printed.contains(&ep) {
        return None;
    }
    let elsewhere = (0..outline.sections.len()).find(|&j| {
        outline.sections[j].heading.is_some()
            && outline.sections[j]
                .endpoints
                .iter()
                .any(|e| key_of(e).as_ref() == Some(&ep))
    });
    let hint = match elsewhere {
        Some(j) => format!(
            "cite the section that prints it: \"{}\"",
            outline::cite_form(&outline.sections, j)
        ),
        None => "check the method and path against the document, or cite the section they come from".to_owned(),
    };
    let message = format!(
        "section \"{cited}\" prints {}, not this operation's {m} {p}",
        sec.endpoints.join(", ")
    );
    Some((message, hint))
}

/// Deserialize `value` as `T`, reporting a failure at its place.
fn parse_item<T: DeserializeOwned>(
    value: serde_yaml::Value,
    file: &SourceFile,
    prefix: &str,
    diags: &mut Diags,
) -> Option<T> {
    match serde_path_to_error::deserialize::<_, T>(value) {
        Ok(v) => Some(v),
        Err(e) => {
            let mut path = prefix.to_owned();
            for seg in e.path().iter() {
                match seg {
                    serde_path_to_error::Segment::Seq { index } => path.push_str(&format!("[{index}]")),
                    serde_path_to_error::Segment::Map { key } => {
                        if !path.is_empty() {
                            path.push('.');
                        }
                        path.push_str(key);
                    }
                    _ => {}
                }
            }
            let inner = e.inner().to_string();
            let (pos, hint) =
                if let Some(name) = inner.strip_prefix("unknown field `").and_then(|r| r.split('`').next()) {
                    // serde_path_to_error may or may not have pushed the unknown key already.
                    let key = if path == name || path.ends_with(&format!(".{name}")) {
                        path.clone()
                    } else if path.is_empty() {
                        name.to_owned()
                    } else {
                        format!("{path}.{name}")
                    };
                    (
                    file.loc.key(&key),
                    "remove the key or fix its spelling; the format is in specs/README.md and specs/spec.schema.json"
                        .to_owned(),
                )
                } else if inner.contains("untagged enum OpAuth") {
                    (
                        file.loc.value(&path),
                        "write `auth: none` or a list of scheme ids such as `auth: [bearer]`".to_owned(),
                    )
                } else if let Some(field) = inner.strip_prefix("missing field `").and_then(|r| r.split('`').next()) {
                    (file.loc.value(&path), format!("add `{field}:` here"))
                } else {
                    (
                        file.loc.value(&path),
                        "see specs/README.md for the expected shape".to_owned(),
                    )
                };
            let message = match inner.split_once(" at line ") {
                Some((m, _)) => m.to_owned(),
                None => inner,
            };
            diags.push(Diag {
                file: file.shown.clone(),
                line: pos.0,
                col: pos.1,
                message,
                hint: Some(hint),
            });
            None
        }
    }
}

/// Read, parse and check one file's syntax and location index.
fn read_yaml(path: &Path, shown: PathBuf, diags: &mut Diags) -> Option<(SourceFile, serde_yaml::Value)> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            diags.push(Diag {
                file: shown,
                line: 1,
                col: 1,
                message: format!("cannot read the file: {e}"),
                hint: None,
            });
            return None;
        }
    };
    let loc = match LocIndex::build(&text) {
        Ok(l) => l,
        Err(e) => {
            diags.push(Diag {
                file: shown,
                line: e.line,
                col: e.col,
                message: format!("YAML syntax error: {}", e.message),
                hint: Some("check the indentation and quoting around this position".into()),
            });
            return None;
        }
    };
    refuse_bidi_in_text(&text, &shown, diags);
    // A plain scalar stops at ` #`: prose cut there is lost without a word.
    for (path, line, col) in &loc.cut {
        let key = path.rsplit('.').next().unwrap_or(path);
        let prose =
            ["description", "summary", "title", "section", "inferred"].contains(&key) || key.starts_with("notes[");
        if prose {
            diags.warn(Diag {
                file: shown.clone(),
                line: *line,
                col: *col,
                message: format!("`{path}` ends before this `#`: YAML reads the rest of the line as a comment"),
                hint: Some(
                    "quote the text (\"...\"), or use a block scalar (`|`), to keep the `#` and what follows".into(),
                ),
            });
        }
    }
    let value: serde_yaml::Value = match serde_yaml::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            let (line, col) = e
                .location()
                .map(|l| crate::loc::clamp(&text, l.line(), l.column()))
                .unwrap_or((1, 1));
            diags.push(Diag {
                file: shown,
                line,
                col,
                message: format!("YAML error: {e}"),
                hint: None,
            });
            return None;
        }
    };
    let file = SourceFile { shown, loc };
    if !text.chars().any(|c| bidi_name(c).is_some()) {
        // Written as escapes (`"\u202E"`): found in the parsed strings.
        refuse_bidi_in_value(&value, "", &file, diags);
    }
    Some((file, value))
}

/// The Unicode name of a bidirectional control character, None for any other.
/// Text that reaches generated code or docs never carries one: they can make
/// text display in another order than it reads ("Trojan Source",
/// CVE-2021-42574), and rustc refuses them in the generated doc comments.
pub fn bidi_name(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{202A}' => "LEFT-TO-RIGHT EMBEDDING",
        '\u{202B}' => "RIGHT-TO-LEFT EMBEDDING",
        '\u{202C}' => "POP DIRECTIONAL FORMATTING",
        '\u{202D}' => "LEFT-TO-RIGHT OVERRIDE",
        '\u{202E}' => "RIGHT-TO-LEFT OVERRIDE",
        '\u{2066}' => "LEFT-TO-RIGHT ISOLATE",
        '\u{2067}' => "RIGHT-TO-LEFT ISOLATE",
        '\u{2068}' => "FIRST STRONG ISOLATE",
        '\u{2069}' => "POP DIRECTIONAL ISOLATE",
        '\u{200E}' => "LEFT-TO-RIGHT MARK",
        '\u{200F}' => "RIGHT-TO-LEFT MARK",
        '\u{061C}' => "ARABIC LETTER MARK",
        _ => return None,
    })
}

const BIDI_HINT: &str =
    "delete it: a bidirectional control can make text display in another order than it reads (\"Trojan Source\"), \
                         and rustc refuses it in the generated docs; right-to-left text needs no control characters";

fn bidi_message(c: char, name: &str) -> String {
    format!(
        "bidirectional control character U+{:04X} ({name}) in a spec file",
        c as u32
    )
}

/// Every bidirectional control written as itself, at its line and column.
fn refuse_bidi_in_text(text: &str, shown: &Path, diags: &mut Diags) {
    for (l, line) in text.lines().enumerate() {
        for (col, c) in line.chars().enumerate() {
            if let Some(name) = bidi_name(c) {
                diags.push(Diag {
                    file: shown.to_path_buf(),
                    line: l + 1,
                    col: col + 1,
                    message: bidi_message(c, name),
                    hint: Some(BIDI_HINT.into()),
                });
            }
        }
    }
}

/// Every string (key or value) holding a bidirectional control written as an escape, at its node.
fn refuse_bidi_in_value(value: &serde_yaml::Value, path: &str, file: &SourceFile, diags: &mut Diags) {
    let report = |s: &str, diags: &mut Diags| {
        if let Some((c, name)) = s.chars().find_map(|c| bidi_name(c).map(|n| (c, n))) {
            let (line, col) = file.loc.value(path);
            let message = format!("{} (written as an escape in `{path}`)", bidi_message(c, name));
            diags.push(Diag {
                file: file.shown.clone(),
                line,
                col,
                message,
                hint: Some(BIDI_HINT.into()),
            });
        }
    };
    match value {
        serde_yaml::Value::String(s) => report(s, diags),
        serde_yaml::Value::Sequence(items) => {
            for (i, v) in items.iter().enumerate() {
                refuse_bidi_in_value(v, &format!("{path}[{i}]"), file, diags);
            }
        }
        serde_yaml::Value::Mapping(m) => {
            for (k, v) in m {
                let key = k.as_str().unwrap_or_default();
                report(key, diags);
                let child = if path.is_empty() {
                    key.to_owned()
                } else {
                    format!("{path}.{key}")
                };
                refuse_bidi_in_value(v, &child, file, diags);
            }
        }
        serde_yaml::Value::Tagged(t) => refuse_bidi_in_value(&t.value, path, file, diags),
        _ => {}
    }
}

/// One operations/models file: its source, and each item with its index in the file.
type ApiItems = (SourceFile, Numbered<spec::Operation>, Numbered<spec::Model>);

/// Items of a file, each with its index in its list.
type Numbered<T> = Vec<(usize, T)>;

struct Loaded {
    vendor: (SourceFile, spec::Vendor),
    /// False when vendor.yaml is missing or did not parse (`vendor` is a stand-in).
    vendor_known: bool,
    files: Vec<ApiItems>,
    /// Model names of files or items that did not parse: other files' uses
    /// of them are not reported as unknown, as the parse error is the cause.
    unparsed_models: BTreeSet<String>,
}

/// PascalCase names after `name:` in a file that did not parse: a best guess at the models it defines.
fn guess_model_names(text: &str) -> BTreeSet<String> {
    text.split("name:")
        .skip(1)
        .filter_map(|rest| {
            let word: String = rest
                .trim_start()
                .trim_start_matches(['"', '\''])
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            word.starts_with(|c: char| c.is_ascii_uppercase()).then_some(word)
        })
        .collect()
}

/// Load every YAML file of one vendor folder.
fn load(dir: &Path, root: &Path, diags: &mut Diags) -> Option<Loaded> {
    let shown = |p: &Path| p.strip_prefix(root).unwrap_or(p).to_path_buf();
    let vendor_path = dir.join("vendor.yaml");
    let mut names: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok()).map(|e| e.path()).collect(),
        Err(e) => {
            diags.push(Diag {
                file: shown(dir),
                line: 1,
                col: 1,
                message: format!("cannot list the folder: {e}"),
                hint: None,
            });
            return None;
        }
    };
    names.sort();
    let mut vendor = None;
    if vendor_path.exists() {
        if let Some((file, value)) = read_yaml(&vendor_path, shown(&vendor_path), diags) {
            if let Some(v) = parse_item::<spec::VendorFile>(value, &file, "", diags) {
                vendor = Some((file, v.vendor));
            }
        }
    } else {
        diags.push(Diag {
            file: shown(&vendor_path),
            line: 1,
            col: 1,
            message: "the vendor folder has no vendor.yaml".into(),
            hint: Some("create it with the crate, base URL, auth and sources (see specs/README.md)".into()),
        });
    }
    let mut files = Vec::new();
    let mut unparsed_models = BTreeSet::new();
    for path in names {
        let is_yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
        if path == vendor_path || !is_yaml {
            if path.extension().is_some_and(|e| e == "yml") {
                diags.push(Diag {
                    file: shown(&path),
                    line: 1,
                    col: 1,
                    message: "spec files use the .yaml extension".into(),
                    hint: Some("rename the file to .yaml".into()),
                });
            }
            continue;
        }
        let Some((file, value)) = read_yaml(&path, shown(&path), diags) else {
            unparsed_models.extend(guess_model_names(&std::fs::read_to_string(&path).unwrap_or_default()));
            continue;
        };
        let (ops, models) = api_items(value, &file, diags, &mut unparsed_models);
        files.push((file, ops, models));
    }
    // Without a usable vendor.yaml the other files are still checked (their
    // problems belong in the same run), against a stand-in vendor whose
    // checks are not reported.
    let vendor_known = vendor.is_some();
    let vendor = vendor.or_else(|| {
        let stand_in = "name: ''\ntitle: ''\ncrate: { name: '', version: '', description: '' }\nbase_url: ''\nauth: { schemes: [], default: [] }\nsources: []\n";
        let v = serde_yaml::from_str::<spec::Vendor>(stand_in).ok()?;
        Some((SourceFile { shown: shown(&vendor_path), loc: LocIndex::default() }, v))
    })?;
    Some(Loaded {
        vendor,
        vendor_known,
        files,
        unparsed_models,
    })
}

/// The operations and models of one parsed file, each with its index; the
/// names of models that did not parse go to `unparsed_models`.
fn api_items(
    value: serde_yaml::Value,
    file: &SourceFile,
    diags: &mut Diags,
    unparsed_models: &mut BTreeSet<String>,
) -> (Numbered<spec::Operation>, Numbered<spec::Model>) {
    let mut ops = Vec::new();
    let mut models = Vec::new();
    match value {
        serde_yaml::Value::Mapping(map) => {
            for (k, v) in map {
                let key = k.as_str().unwrap_or("?").to_owned();
                let serde_yaml::Value::Sequence(items) = v else {
                    if key == "operations" || key == "models" {
                        let (line, col) = file.loc.value(&key);
                        diags.push(Diag {
                            file: file.shown.clone(),
                            line,
                            col,
                            message: format!("`{key}` must be a list"),
                            hint: Some(format!("write `{key}:` followed by `- ...` items")),
                        });
                    } else {
                        let (line, col) = file.loc.key(&key);
                        diags.push(Diag {
                            file: file.shown.clone(),
                            line,
                            col,
                            message: format!("unknown field `{key}`, expected `operations` or `models`"),
                            hint: Some("remove the key or fix its spelling".into()),
                        });
                    }
                    continue;
                };
                for (i, item) in items.into_iter().enumerate() {
                    let prefix = format!("{key}[{i}]");
                    match key.as_str() {
                        "operations" => {
                            ops.extend(parse_item::<spec::Operation>(item, file, &prefix, diags).map(|o| (i, o)))
                        }
                        "models" => {
                            let name = item.get("name").and_then(|n| n.as_str()).map(str::to_owned);
                            match parse_item::<spec::Model>(item, file, &prefix, diags) {
                                Some(m) => models.push((i, m)),
                                None => unparsed_models.extend(name),
                            }
                        }
                        _ => {
                            let (line, col) = file.loc.key(&key);
                            diags.push(Diag {
                                file: file.shown.clone(),
                                line,
                                col,
                                message: format!("unknown field `{key}`, expected `operations` or `models`"),
                                hint: Some("remove the key or fix its spelling".into()),
                            });
                            break;
                        }
                    }
                }
            }
        }
        serde_yaml::Value::Null => {}
        _ => diags.push(Diag {
            file: file.shown.clone(),
            line: 1,
            col: 1,
            message: "a spec file must be a mapping with `operations` and/or `models`".into(),
            hint: None,
        }),
    }
    (ops, models)
}

/// What is wrong with a base URL (the message names the URL).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
enum BaseUrlError {
    #[error("must start with https://")]
    NotHttps,
    #[error("must not end with `/` (operation paths start with one)")]
    TrailingSlash,
    #[error("must not contain a query, a fragment or spaces")]
    QueryFragmentOrSpace,
    #[error("host `{0}` is not a valid host name")]
    Host(String),
    #[error("port `{0}` is not a number")]
    Port(String),
}

fn valid_base_url(url: &str) -> Result<(), BaseUrlError> {
    let Some(rest) = url.strip_prefix("https://") else {
        return Err(BaseUrlError::NotHttps);
    };
    if url.ends_with('/') {
        return Err(BaseUrlError::TrailingSlash);
    }
    if url.contains(['?', '#', ' ']) {
        return Err(BaseUrlError::QueryFragmentOrSpace);
    }
    let host = rest.split('/').next().unwrap_or("");
    let host_only = host.split(':').next().unwrap_or("");
    if host_only.is_empty()
        || !host_only
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        || host_only.starts_with('.')
        || host_only.ends_with('.')
    {
        return Err(BaseUrlError::Host(host.to_owned()));
    }
    if let Some(port) = host.split(':').nth(1) {
        if port.parse::<u16>().is_err() {
            return Err(BaseUrlError::Port(port.to_owned()));
        }
    }
    Ok(())
}

fn yaml_to_json(v: &serde_yaml::Value) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// Whether a default value fits the type.
fn default_fits(ty: &Ty, v: &serde_json::Value, models: &HashMap<String, &spec::Model>) -> bool {
    use serde_json::Value as J;
    match (ty, v) {
        (Ty::String | Ty::Alternatives | Ty::Date | Ty::Timestamp, J::String(_)) => true,
        (Ty::Integer | Ty::LooseInt, J::Number(n)) => n.is_i64(),
        (Ty::Number | Ty::Alternatives, J::Number(_)) => true,
        (Ty::Boolean | Ty::LooseBool, J::Bool(_)) => true,
        (Ty::Json, _) => true,
        (Ty::Model(m), v) => models
            .get(m)
            .is_some_and(|m| m.enum_values.is_some() && (v.is_string() || v.is_number())),
        _ => false,
    }
}

/// What is wrong with the `json_list<T>` in `ty`, if any: it must be the
/// whole type, where JSON text can be sent, of scalar items.
fn json_list_problem(ty: &Ty, allowed_here: bool, models: &HashMap<String, &spec::Model>) -> Option<String> {
    fn nested(ty: &Ty) -> bool {
        match ty {
            Ty::JsonList(_) => true,
            Ty::List(t) | Ty::Map(t) => nested(t),
            _ => false,
        }
    }
    match ty {
        Ty::JsonList(inner) if !allowed_here => Some(format!(
            "`json_list<{}>` is the JSON text of a list in one form field or query value; it cannot be used here",
            inner
        )),
        Ty::JsonList(inner) if nested(inner) || !is_scalar(inner, models) => {
            Some(format!("`json_list<{}>` needs scalar items", inner))
        }
        Ty::JsonList(_) => None,
        Ty::List(t) | Ty::Map(t) if nested(t) => Some("`json_list<T>` cannot be nested in another type".into()),
        _ => None,
    }
}

/// Is this type a scalar that fits in a query string, form field or path segment?
fn is_scalar(ty: &Ty, models: &HashMap<String, &spec::Model>) -> bool {
    match ty {
        Ty::List(_) | Ty::Map(_) | Ty::Json | Ty::Binary => false,
        // One value on the wire: the list's JSON text.
        Ty::JsonList(t) => is_scalar(t, models),
        Ty::Model(name) => match models.get(name) {
            Some(m) => {
                m.enum_values.is_some()
                    || m.newtype.is_some()
                    || m.one_of
                        .as_ref()
                        .is_some_and(|vs| vs.iter().all(|v| Ty::parse(&v.ty).is_ok_and(|t| is_scalar(&t, models))))
            }
            None => true, // reported as an unknown model elsewhere
        },
        _ => true,
    }
}

struct Checker<'a, 'd> {
    cx: Ctx<'d>,
    models: HashMap<String, &'a spec::Model>,
    unparsed_models: &'a BTreeSet<String>,
    /// Whether vendor.yaml parsed: if not, sources and auth schemes are unknown, not wrong.
    vendor_known: bool,
    sources: HashMap<String, (String, Option<spec::Headings>)>,
    docs_dir: Option<PathBuf>,
    doc_text: HashMap<String, Option<outline::Outline>>,
    /// The vendor's `sensitive_fields`.
    sensitive_names: HashSet<String>,
    /// The model being checked: its default evidence level and `keep_unknown`.
    model_evidence: (Option<spec::Evidence>, bool),
    /// Whether the type being checked may be `json_list<T>`: only query
    /// parameters and form, query or multipart body fields carry JSON text.
    json_list_ok: bool,
}

impl<'a> Checker<'a, '_> {
    fn ty(&mut self, at: At<'_>, sub: &str, expr: &str) -> Option<Ty> {
        match Ty::parse(expr) {
            Ok(t) => {
                let mut ok = true;
                for m in t.models() {
                    if self.unparsed_models.contains(m) {
                        ok = false; // its definition did not parse; that error is reported
                    } else if !self.models.contains_key(m) {
                        let known: Vec<_> = self
                            .models
                            .keys()
                            .cloned()
                            .collect::<BTreeSet<_>>()
                            .into_iter()
                            .collect();
                        let hint = match names::closest(m, known.iter().chain(self.unparsed_models).map(String::as_str))
                        {
                            Some(c) => format!(
                                "did you mean `{c}`? Models are defined under `models:` in this vendor's folder"
                            ),
                            None => format!(
                                "define it under `models:` in this vendor's folder, or use one of: {}",
                                if known.is_empty() {
                                    "(no models yet)".into()
                                } else {
                                    known.join(", ")
                                }
                            ),
                        };
                        self.cx.err(at, sub, format!("unknown model `{m}`"), hint);
                        ok = false;
                    }
                }
                if let Some(problem) = json_list_problem(&t, self.json_list_ok, &self.models) {
                    self.cx.err(at, sub, problem, "use `json_list<T>` (T a scalar such as string) only for a query parameter or a form, query or multipart body field; elsewhere use `list<T>`");
                    ok = false;
                }
                ok.then_some(t)
            }
            Err(e) => {
                self.cx.err(at, sub, e.to_string(), "");
                None
            }
        }
    }

    /// Check a citation: the document id is known and, with the documents at
    /// hand, the section names exactly one heading. `endpoint` (`METHOD /path`
    /// of the citing operation) tells repeated headings apart.
    fn source(&mut self, at: At<'_>, sub: &str, s: &spec::SourceRef, endpoint: Option<(&str, &str)>) -> ir::SourceRef {
        let (file, headings) = match self.sources.get(&s.doc) {
            Some((f, h)) => (f.clone(), h.clone()),
            None if !self.vendor_known => (String::new(), None),
            None => {
                let known: Vec<_> = self
                    .sources
                    .keys()
                    .cloned()
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                self.cx.err(
                    at,
                    &format!("{sub}.doc"),
                    format!("unknown source document `{}`", s.doc),
                    format!("use one of the ids under vendor.sources: {}", known.join(", ")),
                );
                (String::new(), None)
            }
        };
        if s.section.trim().is_empty() {
            self.cx.err(
                at,
                &format!("{sub}.section"),
                "the section heading is empty",
                "cite the heading of the section this is transcribed from",
            );
        } else if let (Some(dir), false, Some(h)) = (&self.docs_dir, file.is_empty(), headings) {
            let outline = self.doc_text.entry(file.clone()).or_insert_with(|| {
                std::fs::read_to_string(dir.join(&file))
                    .ok()
                    .map(|t| outline::parse(&t, &h))
            });
            if let Some(outline) = outline {
                let ep = endpoint.map(|(m, p)| outline::endpoint_key(m, p));
                match outline::resolve(&outline.sections, &s.section, ep.as_deref()) {
                    Err(e) => {
                        let (message, hint) = e.explain(&s.section, &file);
                        self.cx.err(at, &format!("{sub}.section"), message, hint);
                    }
                    // A section that prints endpoints must print this operation's.
                    Ok(i) => {
                        if let Some((message, hint)) = endpoint_elsewhere(outline, i, &s.section, endpoint) {
                            self.cx.err(at, &format!("{sub}.section"), message, hint);
                        }
                    }
                }
            }
        }
        ir::SourceRef {
            file,
            section: s.section.clone(),
            inferred: s.inferred.clone(),
        }
    }

    /// Check a parameter's or field's default against its type, and pick its Rust name.
    #[allow(clippy::too_many_arguments)]
    fn default_and_name(
        &mut self,
        at: At<'_>,
        sub: &str,
        ty: &Ty,
        ty_expr: &str,
        default: Option<&serde_yaml::Value>,
        rust_name: Option<&str>,
        wire: &str,
    ) -> (Option<serde_json::Value>, String) {
        let default = default.map(yaml_to_json);
        if let Some(d) = &default {
            if !default_fits(ty, d, &self.models) {
                self.cx.err(
                    at,
                    &format!("{sub}.default"),
                    format!("default {d} does not fit type `{ty_expr}`"),
                    "give a value of the declared type",
                );
            }
        }
        let rust = self.rust_name(at, sub, rust_name, wire);
        (default, rust)
    }

    /// Check a request input's client-side default: it fits the type, the
    /// input is optional, and no server default is claimed beside it.
    /// `ty` is the parsed type and its expression as written.
    fn client_default(
        &mut self,
        at: At<'_>,
        sub: &str,
        (ty, ty_expr): (&Ty, &str),
        required: bool,
        has_default: bool,
        value: Option<&serde_yaml::Value>,
    ) -> Option<serde_json::Value> {
        let v = value.map(yaml_to_json)?;
        let key = format!("{sub}.client_default");
        if !default_fits(ty, &v, &self.models) || matches!(ty, Ty::Json | Ty::Date | Ty::Timestamp | Ty::Alternatives) {
            self.cx.err(
                at,
                &key,
                format!("client_default {v} does not fit type `{ty_expr}`"),
                "give a string, integer, number, boolean or enum value of the declared type",
            );
        }
        if required {
            self.cx.err(
                at,
                &key,
                "a required input cannot have a client_default",
                "remove `required: true`, or the client_default",
            );
        }
        if has_default {
            self.cx.err(at, &key, "both `default` (the server's) and `client_default` (sent by the client) are set", "keep one: `client_default` when the client sends the value, `default` when the document states the server's");
        }
        Some(v)
    }

    fn rust_name(&mut self, at: At<'_>, sub: &str, rust_name: Option<&str>, wire: &str) -> String {
        let rust = match rust_name {
            Some(r) if !names::is_snake_ident(r) => {
                self.cx.err(
                    at,
                    &format!("{sub}.rust_name"),
                    format!("rust_name `{r}` is not a snake_case identifier"),
                    "use lowercase letters, digits and underscores",
                );
                r.to_owned()
            }
            Some(r) => names::param(r),
            None => names::param(wire),
        };
        rust
    }

    fn field(&mut self, at: At<'_>, sub: &str, f: &spec::Field, in_model: bool) -> Option<ir::Field> {
        let ty = self.ty(at, &format!("{sub}.type"), &f.ty)?;
        let (default, rust) =
            self.default_and_name(at, sub, &ty, &f.ty, f.default.as_ref(), f.rust_name.as_deref(), &f.name);
        if f.name.is_empty() {
            self.cx.err(at, &format!("{sub}.name"), "the wire name is empty", "");
        }
        let client_default = if in_model {
            if f.client_default.is_some() {
                self.cx.err(
                    at,
                    &format!("{sub}.client_default"),
                    "`client_default` only applies to request inputs",
                    "remove it; a model field is decoded, not sent by the client",
                );
            }
            None
        } else {
            self.client_default(
                at,
                sub,
                (&ty, &f.ty),
                f.required,
                default.is_some(),
                f.client_default.as_ref(),
            )
        };
        if f.sensitive && !in_model {
            self.cx.err(
                at,
                &format!("{sub}.sensitive"),
                "`sensitive` only applies to model fields",
                "remove it; request inputs are the caller's own values",
            );
        }
        let sensitive = in_model && (f.sensitive || self.sensitive_names.contains(&f.name));
        let evidence = self.evidence(at, sub, f, in_model);
        Some(ir::Field {
            wire: f.name.clone(),
            rust,
            ty,
            required: f.required,
            default,
            client_default,
            description: f.description.clone().unwrap_or_default(),
            sensitive,
            evidence,
        })
    }

    /// A field's evidence level: its own, else its model's, else `documented`.
    /// Only a documented field may be required, and only a model that keeps
    /// unknown fields may hold a lenient one (its `extra` map keeps a value
    /// that does not fit).
    fn evidence(&mut self, at: At<'_>, sub: &str, f: &spec::Field, in_model: bool) -> ir::Evidence {
        let key = format!("{sub}.evidence");
        if !in_model {
            if f.evidence.is_some() {
                self.cx.err(
                    at,
                    &key,
                    "`evidence` only applies to model fields",
                    "remove it; a request input is the caller's own value",
                );
            }
            return ir::Evidence::Documented;
        }
        let level = match f.evidence.or(self.model_evidence.0) {
            None | Some(spec::Evidence::Documented) => ir::Evidence::Documented,
            Some(spec::Evidence::Seen) => ir::Evidence::Seen,
            Some(spec::Evidence::Inferred) => ir::Evidence::Inferred,
        };
        if level.lenient() && f.required {
            self.cx.err(
                at,
                &format!("{sub}.required"),
                format!("field `{}` is `{}`, so it cannot be required", f.name, level.as_str()),
                "remove `required: true`: a field the document does not state reads as absent when its value does not fit",
            );
        }
        if level.lenient() && !self.model_evidence.1 {
            self.cx.err(
                at,
                &key,
                format!("field `{}` is `{}` in a model with `keep_unknown: false`", f.name, level.as_str()),
                "keep unknown fields (a value that does not fit stays readable in `extra`), or cite a document and mark the field `documented`",
            );
        }
        level
    }

    fn fields(&mut self, at: At<'_>, sub: &str, fields: &[spec::Field], in_model: bool) -> Vec<ir::Field> {
        let mut out = Vec::new();
        let mut seen_wire = HashMap::new();
        let mut seen_rust: HashMap<String, String> = HashMap::new();
        for (i, f) in fields.iter().enumerate() {
            let fsub = format!("{sub}[{i}]");
            if seen_wire.insert(f.name.clone(), i).is_some() {
                self.cx.err(
                    at,
                    &format!("{fsub}.name"),
                    format!("field `{}` is listed twice", f.name),
                    "remove one of them",
                );
                continue;
            }
            if let Some(field) = self.field(at, &fsub, f, in_model) {
                if let Some(other) = seen_rust.insert(field.rust.clone(), f.name.clone()) {
                    self.cx.err(
                        at,
                        &format!("{fsub}.name"),
                        format!("`{}` and `{other}` both become the Rust name `{}`", f.name, field.rust),
                        "set `rust_name:` on one of them",
                    );
                }
                out.push(field);
            }
        }
        out
    }
}

/// Check one vendor folder and lower it. `docs_dir` is `shared/vendor-docs` when present.
pub fn check_vendor(dir: &Path, root: &Path, docs_dir: Option<&Path>, diags: &mut Diags) -> Option<ir::Api> {
    let before = diags.items.len();
    let loaded = load(dir, root, diags)?;
    let (vfile, v) = &loaded.vendor;
    let vat = At {
        file: vfile,
        path: "vendor",
    };
    let all_models = models_by_name(&loaded, diags);
    let sources: HashMap<String, (String, Option<spec::Headings>)> = v
        .sources
        .iter()
        .map(|s| (s.id.clone(), (s.file.clone(), s.headings.clone())))
        .collect();
    let sensitive_names = v.sensitive_fields.iter().cloned().collect();
    let mut ck = Checker {
        cx: Ctx { diags },
        models: all_models,
        unparsed_models: &loaded.unparsed_models,
        sources,
        docs_dir: docs_dir.map(Path::to_path_buf),
        doc_text: HashMap::new(),
        sensitive_names,
        json_list_ok: false,
        vendor_known: loaded.vendor_known,
        model_evidence: (None, true),
    };

    let vendor_checks = ck.cx.diags.items.len();
    check_identity(&mut ck, vat, v, dir);
    let (scheme_ids, schemes) = check_auth(&mut ck, vat, v);
    check_sensitive_fields(&mut ck, vat, v);
    check_sources(&mut ck, vat, v, docs_dir);
    let rate_limit = v.rate_limit.as_ref().map(|r| {
        if r.requests == 0 || r.per_seconds == 0 {
            ck.cx.err(
                vat,
                "rate_limit",
                "a rate limit needs positive `requests` and `per_seconds`",
                "",
            );
        }
        ir::RateLimit {
            requests: r.requests,
            per_seconds: r.per_seconds,
            source: ck.source(vat, "rate_limit.source", &r.source, None),
        }
    });
    if !loaded.vendor_known {
        // The stand-in vendor's checks say nothing about the spec.
        ck.cx.diags.items.truncate(vendor_checks);
    }

    let mut models = check_models(&mut ck, &loaded);
    let mut operations = check_operations(&mut ck, &loaded, &scheme_ids, v);
    if diags_added(&ck.cx, before) {
        return None;
    }
    check_examples(&mut ck, vat, v, &operations);
    if diags_added(&ck.cx, before) {
        return None;
    }
    operations.sort_by(|a, b| (&a.group, &a.id).cmp(&(&b.group, &b.id)));
    models.sort_by(|a, b| a.name.cmp(&b.name));
    let spec_dir = format!("{}/", dir.strip_prefix(root).unwrap_or(dir).display());
    Some(ir::Api {
        vendor: lower_vendor(v, spec_dir, schemes, rate_limit),
        operations,
        models,
    })
}

/// Every model of the vendor by name; a name defined twice is reported.
fn models_by_name<'a>(loaded: &'a Loaded, diags: &mut Diags) -> HashMap<String, &'a spec::Model> {
    let mut all_models: HashMap<String, &spec::Model> = HashMap::new();
    for (file, _, models) in &loaded.files {
        for (i, m) in models {
            if all_models.insert(m.name.clone(), m).is_some() {
                let p = format!("models[{i}]");
                Ctx { diags }.err(
                    At { file, path: &p },
                    "name",
                    format!("model `{}` is defined twice", m.name),
                    "rename or remove one of them",
                );
            }
        }
    }
    all_models
}

/// `crate.publish` as a list: non-empty, each a registry name cargo accepts, no repeats.
fn check_publish(ck: &mut Checker<'_, '_>, vat: At<'_>, publish: &spec::Publish) {
    let spec::Publish::Only(list) = publish else { return };
    if list.is_empty() {
        ck.cx.err(
            vat,
            "crate.publish",
            "`publish: []` allows no registry",
            "write `publish: false` to keep the crate off every registry, or list the registries it may go to, such as `publish: [corp]`",
        );
    }
    for (i, r) in list.iter().enumerate() {
        let at = format!("crate.publish[{i}]");
        if r.is_empty() {
            ck.cx.err(
                vat,
                &at,
                "empty registry name",
                "remove the `\"\"` or write a registry's name, such as `corp`",
            );
        } else if !names::registry_name_ok(r) {
            ck.cx.err(
                vat,
                &at,
                format!("registry name `{r}` cannot be used: cargo's registry names are letters, digits, `-` and `_`"),
                "write the name of a `[registries.NAME]` table of your cargo config (`crates-io` for the public registry), such as `corp`",
            );
        } else if list[..i].contains(r) {
            ck.cx.err(
                vat,
                &at,
                format!("registry `{r}` is listed twice"),
                "list each registry once",
            );
        }
    }
}

/// The vendor's name (its folder), crate name and version, and base URL.
fn check_identity(ck: &mut Checker<'_, '_>, vat: At<'_>, v: &spec::Vendor, dir: &Path) {
    let folder = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if v.name != folder {
        ck.cx.err(
            vat,
            "name",
            format!("vendor name `{}` differs from its folder `{folder}`", v.name),
            format!("set `name: {folder}` or rename the folder"),
        );
    }
    if let Some(why) = names::crate_name_problem(&v.krate.name) {
        ck.cx.err(
            vat,
            "crate.name",
            format!("crate name `{}` cannot be used: it {why}", v.krate.name),
            "use lowercase words of letters and digits joined by `-`, such as `acme-chat`",
        );
    } else if let Some(t) = names::TAKEN_CRATE_NAMES
        .iter()
        .find(|t| names::crate_key(t) == names::crate_key(&v.krate.name))
    {
        ck.cx.err(
            vat,
            "crate.name",
            format!(
                "crate name `{}` is taken by `{t}` (a workspace member or a dependency of every generated crate)",
                v.krate.name
            ),
            "pick a name of its own, such as the vendor's name",
        );
    }
    check_publish(ck, vat, &v.krate.publish);
    let semver_ok = v.krate.version.split('.').count() == 3
        && v.krate
            .version
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if !semver_ok {
        ck.cx.err(
            vat,
            "crate.version",
            format!("version `{}` is not MAJOR.MINOR.PATCH", v.krate.version),
            "write e.g. 0.1.0",
        );
    }
    if let Err(e) = valid_base_url(&v.base_url) {
        ck.cx.err(
            vat,
            "base_url",
            format!("malformed base URL `{}`: {e}", v.base_url),
            "write it as https://host[/prefix], without a trailing slash",
        );
    }
}

/// The auth schemes and the default: returns the scheme ids and the lowered schemes.
fn check_auth(ck: &mut Checker<'_, '_>, vat: At<'_>, v: &spec::Vendor) -> (BTreeSet<String>, Vec<ir::Scheme>) {
    let mut scheme_ids = BTreeSet::new();
    let mut schemes = Vec::new();
    for (i, s) in v.auth.schemes.iter().enumerate() {
        let sub = format!("auth.schemes[{i}]");
        check_scheme_id(ck, vat, &sub, &v.auth.schemes[..i], s);
        if !scheme_ids.insert(s.id.clone()) {
            ck.cx.err(
                vat,
                &format!("{sub}.id"),
                format!("scheme `{}` is defined twice", s.id),
                "",
            );
        }
        check_scheme_shape(ck, vat, &sub, s);
        schemes.push(ir::Scheme {
            id: s.id.clone(),
            kind: s.kind,
            header: s.header.clone(),
            password: s.password.clone(),
            description: s.description.clone(),
        });
    }
    if v.auth.default.is_empty() {
        ck.cx.err(
            vat,
            "auth.default",
            "no default auth scheme",
            "list the scheme ids operations accept by default",
        );
    }
    for (i, d) in v.auth.default.iter().enumerate() {
        if !scheme_ids.contains(d) {
            ck.cx.err(
                vat,
                &format!("auth.default[{i}]"),
                format!("unknown auth scheme `{d}`"),
                format!(
                    "define it under auth.schemes, or use one of: {}",
                    scheme_ids.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
            );
        }
    }
    (scheme_ids, schemes)
}

/// A scheme id becomes a builder method: snake_case, not the builder's own, not another's.
fn check_scheme_id(
    ck: &mut Checker<'_, '_>,
    vat: At<'_>,
    sub: &str,
    earlier: &[spec::AuthScheme],
    s: &spec::AuthScheme,
) {
    if !names::is_snake_ident(&s.id) {
        ck.cx.err(
            vat,
            &format!("{sub}.id"),
            format!("scheme id `{}` is not snake_case", s.id),
            "it becomes a builder method name",
        );
    } else if names::is_client_builder_method(&names::snake(&s.id)) {
        ck.cx.err(
            vat,
            &format!("{sub}.id"),
            format!(
                "scheme id `{}` becomes `ClientBuilder::{}`, which the builder already has",
                s.id,
                names::snake(&s.id)
            ),
            format!("name the credential, e.g. `{}_key`", s.id),
        );
    } else if let Some(other) = earlier
        .iter()
        .find(|o| o.id != s.id && names::snake(&o.id) == names::snake(&s.id))
    {
        ck.cx.err(
            vat,
            &format!("{sub}.id"),
            format!(
                "scheme ids `{}` and `{}` both become the builder method `{}`",
                s.id,
                other.id,
                names::snake(&s.id)
            ),
            "rename one of them",
        );
    }
}

/// `header:` only (and always) for header schemes, `password:` only for `basic_key`.
fn check_scheme_shape(ck: &mut Checker<'_, '_>, vat: At<'_>, sub: &str, s: &spec::AuthScheme) {
    match s.kind {
        spec::AuthKind::Header => match &s.header {
            Some(h)
                if !h.is_empty()
                    && h.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') => {}
            Some(h) => ck.cx.err(
                vat,
                &format!("{sub}.header"),
                format!("header name `{h}` must be lowercase letters, digits and `-`"),
                "HTTP header names are case-insensitive; write it in lowercase",
            ),
            None => ck.cx.err(
                vat,
                sub,
                "a `header` scheme needs `header:`",
                "name the header that carries the key, e.g. `header: x-api-key`",
            ),
        },
        _ if s.header.is_some() => ck.cx.err(
            vat,
            &format!("{sub}.header"),
            "only `type: header` schemes take `header:`",
            "remove it",
        ),
        _ => {}
    }
    if s.password.is_some() && s.kind != spec::AuthKind::BasicKey {
        ck.cx.err(
            vat,
            &format!("{sub}.password"),
            "only `type: basic_key` schemes take a fixed `password:`",
            "remove it",
        );
    }
}

fn check_sensitive_fields(ck: &mut Checker<'_, '_>, vat: At<'_>, v: &spec::Vendor) {
    let mut seen_sensitive = HashSet::new();
    for (i, name) in v.sensitive_fields.iter().enumerate() {
        if name.trim().is_empty() {
            ck.cx.err(
                vat,
                &format!("sensitive_fields[{i}]"),
                "an empty field name",
                "name the wire field whose value is a secret",
            );
        } else if !seen_sensitive.insert(name.to_ascii_lowercase()) {
            ck.cx.err(
                vat,
                &format!("sensitive_fields[{i}]"),
                format!("`{name}` is listed twice (names are compared without regard to ASCII case)"),
                "remove one of them",
            );
        }
    }
}

/// Source ids are unique; with the documents at hand, each file is there and says how its headings are marked.
fn check_sources(ck: &mut Checker<'_, '_>, vat: At<'_>, v: &spec::Vendor, docs_dir: Option<&Path>) {
    let mut source_ids = BTreeSet::new();
    for (i, s) in v.sources.iter().enumerate() {
        if !source_ids.insert(s.id.clone()) {
            ck.cx.err(
                vat,
                &format!("sources[{i}].id"),
                format!("source `{}` is listed twice", s.id),
                "",
            );
        }
        if let Some(dir) = docs_dir {
            if !dir.join(&s.file).is_file() {
                ck.cx.err(
                    vat,
                    &format!("sources[{i}].file"),
                    format!("`{}` is not in {}", s.file, dir.display()),
                    "name a file of shared/vendor-docs/",
                );
            }
            if s.headings.is_none() {
                ck.cx.err(vat, &format!("sources[{i}]"), format!("source `{}` does not say how its headings are marked", s.id), "add `headings:` (endpoint style, heading position, parents, listed lines or a table of contents; see specs/README.md)");
            }
        }
    }
}

/// Every model of every file, checked and lowered (a model with errors is left out).
fn check_models(ck: &mut Checker<'_, '_>, loaded: &Loaded) -> Vec<ir::Model> {
    let mut models = Vec::new();
    let mut model_rust: HashMap<String, String> = HashMap::new();
    for (file, _, file_models) in &loaded.files {
        for (i, m) in file_models {
            let p = format!("models[{i}]");
            models.extend(check_model(ck, At { file, path: &p }, m, &mut model_rust));
        }
    }
    models
}

/// One model: its name (unique without regard to case, in `model_rust`), source and kind.
fn check_model(
    ck: &mut Checker<'_, '_>,
    at: At<'_>,
    m: &spec::Model,
    model_rust: &mut HashMap<String, String>,
) -> Option<ir::Model> {
    check_model_name(ck, at, m, model_rust);
    let source = m.source.as_ref().map(|s| ck.source(at, "source", s, None));
    let kinds = [
        m.fields.is_some(),
        m.enum_values.is_some(),
        m.one_of.is_some(),
        m.newtype.is_some(),
    ]
    .iter()
    .filter(|k| **k)
    .count();
    if kinds != 1 {
        ck.cx.err(
            at,
            "",
            format!(
                "model `{}` must have exactly one of `fields`, `enum`, `one_of`, `newtype` (it has {kinds})",
                m.name
            ),
            "",
        );
        return None;
    }
    if m.evidence.is_some() && m.fields.is_none() {
        ck.cx.err(
            at,
            "evidence",
            format!("model `{}` has no fields for `evidence` to apply to", m.name),
            "remove it; evidence levels belong to object fields",
        );
    }
    let kind = if let Some(fields) = &m.fields {
        ck.model_evidence = (m.evidence, m.keep_unknown);
        let fields = ck.fields(at, "fields", fields, true);
        ck.model_evidence = (None, true);
        ir::ModelKind::Object {
            fields,
            keep_unknown: m.keep_unknown,
        }
    } else if let Some(values) = &m.enum_values {
        enum_kind(ck, at, values)
    } else if let Some(variants) = &m.one_of {
        one_of_kind(ck, at, variants)
    } else {
        newtype_kind(ck, at, m.newtype.as_deref().unwrap_or_default())?
    };
    Some(ir::Model {
        name: m.name.clone(),
        description: m.description.clone(),
        source,
        kind,
        notes: m.notes.clone(),
    })
}

/// A model's name: PascalCase, not a keyword or a name the generated code takes, unique without regard to case.
fn check_model_name(ck: &mut Checker<'_, '_>, at: At<'_>, m: &spec::Model, model_rust: &mut HashMap<String, String>) {
    if !names::is_pascal_ident(&m.name) {
        ck.cx.err(
            at,
            "name",
            format!("model name `{}` is not PascalCase", m.name),
            "start with an uppercase letter; letters and digits only",
        );
    }
    if names::is_keyword(&m.name) {
        ck.cx.err(
            at,
            "name",
            format!("model name `{}` is a Rust keyword", m.name),
            "pick another name",
        );
    } else if names::RESERVED_TYPES.contains(&m.name.as_str()) || m.name.ends_with("Api") {
        ck.cx.err(at, "name", format!("model name `{}` clashes with a name the generated code uses", m.name), "pick another name (names ending in `Api`, Client/ClientBuilder/Error/Result and the runtime items each crate re-exports, such as StatusCode or Paginator, are taken)");
    }
    if let Some(other) = model_rust.insert(m.name.to_lowercase(), m.name.clone()) {
        if other != m.name {
            ck.cx.err(
                at,
                "name",
                format!("models `{}` and `{other}` differ only in case", m.name),
                "rename one of them",
            );
        }
    }
}

/// An enum: string or integer values, each a usable and distinct variant name.
fn enum_kind(ck: &mut Checker<'_, '_>, at: At<'_>, values: &[spec::EnumValue]) -> ir::ModelKind {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    let integer = !values.is_empty() && values.iter().all(|v| v.value.is_i64());
    for (j, ev) in values.iter().enumerate() {
        let wire = match &ev.value {
            serde_yaml::Value::String(s) => s.clone(),
            serde_yaml::Value::Number(n) if n.is_i64() => n.to_string(),
            _ => {
                ck.cx.err(
                    at,
                    &format!("enum[{j}].value"),
                    "an enum value must be a string or an integer",
                    "",
                );
                continue;
            }
        };
        let rust = ev.name.clone().unwrap_or_else(|| names::pascal(&wire));
        // A derived name may carry the naming layer's keyword suffix (`self` → `Self_`).
        let usable = if ev.name.is_some() {
            names::is_pascal_ident(&rust)
        } else {
            names::is_pascal_ident(rust.trim_end_matches('_'))
        };
        if !usable || rust == "Unknown" || names::is_keyword(&rust) {
            let sub = if ev.name.is_some() {
                format!("enum[{j}].name")
            } else {
                format!("enum[{j}]")
            };
            ck.cx.err(
                at,
                &sub,
                format!("variant name `{rust}` is not usable"),
                "set `name:` to a PascalCase name other than Unknown and Self",
            );
        }
        if !seen.insert(rust.clone()) {
            ck.cx.err(
                at,
                &format!("enum[{j}].value"),
                format!("two values become the variant `{rust}`"),
                "set `name:` on one of them",
            );
        }
        out.push(ir::EnumValue {
            wire,
            rust,
            description: ev.description.clone(),
        });
    }
    if out.is_empty() {
        ck.cx.err(at, "enum", "an enum needs at least one value", "");
    }
    ir::ModelKind::Enum { values: out, integer }
}

/// A `one_of`: two or more distinct PascalCase variants, each of a known type.
fn one_of_kind(ck: &mut Checker<'_, '_>, at: At<'_>, variants: &[spec::Variant]) -> ir::ModelKind {
    let mut out = Vec::new();
    for (j, var) in variants.iter().enumerate() {
        if !names::is_pascal_ident(&var.name) || names::is_keyword(&var.name) {
            ck.cx.err(
                at,
                &format!("one_of[{j}].name"),
                format!("variant name `{}` is not PascalCase", var.name),
                if names::is_keyword(&var.name) {
                    "`Self` is a Rust keyword; pick another name"
                } else {
                    ""
                },
            );
        } else if variants[..j].iter().any(|o| o.name == var.name) {
            ck.cx.err(
                at,
                &format!("one_of[{j}].name"),
                format!("variant `{}` is listed twice", var.name),
                "give each variant its own name",
            );
        }
        if let Some(t) = ck.ty(at, &format!("one_of[{j}].type"), &var.ty) {
            out.push((var.name.clone(), t));
        }
    }
    if out.len() < 2 {
        ck.cx.err(at, "one_of", "`one_of` needs at least two variants", "");
    }
    ir::ModelKind::OneOf { variants: out }
}

/// A newtype wraps a string or a number.
fn newtype_kind(ck: &mut Checker<'_, '_>, at: At<'_>, expr: &str) -> Option<ir::ModelKind> {
    match ck.ty(at, "newtype", expr) {
        Some(t @ (Ty::String | Ty::Integer | Ty::Number)) => Some(ir::ModelKind::Newtype { ty: t }),
        Some(_) => {
            ck.cx
                .err(at, "newtype", "a newtype wraps `string`, `integer` or `number`", "");
            None
        }
        None => None,
    }
}

/// Every name an operation or group is emitted as, with the spec name that took it.
#[derive(Default)]
struct EmittedNames {
    op_ids: HashMap<String, String>,
    builders: HashMap<String, String>,
    methods: HashMap<String, String>,
    accessors: HashMap<String, String>,
    group_structs: HashMap<String, String>,
    routes: HashMap<(HttpMethod, String), String>,
}

impl EmittedNames {
    /// Take `op`'s id, route, builder, method, accessor and group type; a form another operation or group took is reported.
    fn claim(&mut self, ck: &mut Checker<'_, '_>, at: At<'_>, op: &ir::Operation) {
        let twice = self.op_ids.insert(names::snake(&op.id), op.id.clone());
        if let Some(other) = &twice {
            let also = if other == &op.id {
                String::new()
            } else {
                format!(" (as `{other}`)")
            };
            ck.cx.err(
                at,
                "id",
                format!("operation id `{}` is used twice{also}", op.id),
                "operation ids must be unique per vendor; make the name say what differs",
            );
        }
        let route = op
            .path
            .split('{')
            .enumerate()
            .map(|(k, s)| {
                if k == 0 {
                    s.to_owned()
                } else {
                    format!("{{}}{}", s.split_once('}').map(|x| x.1).unwrap_or(""))
                }
            })
            .collect::<String>();
        if let Some(other) = self.routes.insert((op.method, route), op.id.clone()) {
            ck.cx.err(
                at,
                "path",
                format!(
                    "{} {} has the same route as operation `{other}`",
                    op.method.as_str(),
                    op.path
                ),
                "two operations cannot share a method and path",
            );
        }
        let builder = names::pascal(&op.id);
        if names::RESERVED_TYPES.contains(&builder.as_str()) {
            ck.cx.err(
                at,
                "id",
                format!(
                    "operation id `{}` becomes the request builder `{builder}`, a name the generated code uses",
                    op.id
                ),
                "pick another id (say what it does, e.g. `get_string_value`)",
            );
        } else if let Some(other) = self
            .builders
            .insert(builder.clone(), op.id.clone())
            .filter(|o| o != &op.id && twice.is_none())
        {
            ck.cx.err(
                at,
                "id",
                format!(
                    "operations `{}` and `{other}` both become the request builder `{builder}`",
                    op.id
                ),
                "rename one so they differ in more than underscores",
            );
        }
        self.claim_method(ck, at, op, twice.is_none());
        self.claim_group(ck, at, &op.group);
    }

    /// The method `op` becomes on its group's type; `first`: its id was not taken before.
    fn claim_method(&mut self, ck: &mut Checker<'_, '_>, at: At<'_>, op: &ir::Operation, first: bool) {
        // Per group, in the form emitted: the group's words dropped (`names::method`).
        let method = names::method(&op.group, &op.id);
        let group = names::group_type(&op.group);
        if let Some(other) = self
            .methods
            .insert(format!("{group}::{method}"), op.id.clone())
            .filter(|o| o != &op.id && first)
        {
            ck.cx.err(
                at,
                "id",
                format!(
                    "operations `{}` and `{other}` both become the method `{group}::{method}`",
                    op.id
                ),
                "rename one so they differ in more than the group's own words",
            );
        }
    }

    fn claim_group(&mut self, ck: &mut Checker<'_, '_>, at: At<'_>, group: &str) {
        let accessor = names::snake(group);
        if names::CLIENT_METHODS.contains(&accessor.as_str()) {
            ck.cx.err(
                at,
                "group",
                format!("group `{group}` becomes `Client::{accessor}`, which the client already has"),
                format!("pick another group name; taken: {}", names::CLIENT_METHODS.join(", ")),
            );
        } else if let Some(other) = self
            .accessors
            .insert(accessor.clone(), group.to_owned())
            .filter(|o| o != group)
        {
            ck.cx.err(
                at,
                "group",
                format!("groups `{group}` and `{other}` both become the accessor `Client::{accessor}`"),
                "use one spelling of the group",
            );
        }
        let gs = names::group_type(group);
        if let Some(other) = self
            .group_structs
            .insert(gs.clone(), group.to_owned())
            .filter(|o| o != group)
        {
            ck.cx.err(
                at,
                "group",
                format!("groups `{group}` and `{other}` both become the type `{gs}`"),
                "use one spelling of the group, or names that differ in more than underscores",
            );
        }
    }
}

/// Every operation of every file, checked and lowered, with the names they are emitted as kept apart.
fn check_operations(
    ck: &mut Checker<'_, '_>,
    loaded: &Loaded,
    scheme_ids: &BTreeSet<String>,
    v: &spec::Vendor,
) -> Vec<ir::Operation> {
    let mut operations = Vec::new();
    let mut taken = EmittedNames::default();
    for (file, ops, _) in &loaded.files {
        for (i, o) in ops {
            let p = format!("operations[{i}]");
            let at = At { file, path: &p };
            if let Some(op) = check_operation(ck, at, o, scheme_ids, v) {
                taken.claim(ck, at, &op);
                operations.push(op);
            }
        }
    }
    operations
}

/// The operations the README and the examples show exist and answer with something to print.
fn check_examples(ck: &mut Checker<'_, '_>, vat: At<'_>, v: &spec::Vendor, operations: &[ir::Operation]) {
    let chosen = v
        .quick_start
        .iter()
        .enumerate()
        .map(|(i, id)| (format!("quick_start[{i}]"), id))
        .chain(v.poll_example.iter().map(|id| ("poll_example".to_owned(), id)));
    for (sub, id) in chosen {
        match operations.iter().find(|o| &o.id == id) {
            None => ck.cx.err(
                vat,
                &sub,
                format!("unknown operation `{id}`"),
                "name an operation id of this vendor",
            ),
            Some(op) if op.success.content == spec::ContentKind::Binary => ck.cx.err(
                vat,
                &sub,
                format!("`{id}` answers with a download"),
                "pick an operation that answers with JSON, text or nothing",
            ),
            Some(_) => {}
        }
    }
}

fn lower_vendor(
    v: &spec::Vendor,
    spec_dir: String,
    schemes: Vec<ir::Scheme>,
    rate_limit: Option<ir::RateLimit>,
) -> ir::Vendor {
    ir::Vendor {
        name: v.name.clone(),
        title: v.title.clone(),
        crate_name: v.krate.name.clone(),
        version: v.krate.version.clone(),
        description: v.krate.description.clone(),
        keywords: v.krate.keywords.clone(),
        categories: v.krate.categories.clone(),
        publish: v.krate.publish != spec::Publish::Allowed(false),
        registries: match &v.krate.publish {
            spec::Publish::Only(list) => list.clone(),
            spec::Publish::Allowed(_) => Vec::new(),
        },
        crate_dir: String::new(),
        spec_dir,
        base_url: v.base_url.clone(),
        schemes,
        default_auth: v.auth.default.clone(),
        rate_limit,
        sources: v
            .sources
            .iter()
            .map(|s| ir::Source {
                id: s.id.clone(),
                file: s.file.clone(),
                title: s.title.clone(),
                headings: s.headings.clone(),
            })
            .collect(),
        sensitive_fields: v.sensitive_fields.clone(),
        notes: v.notes.clone(),
        quick_start: v.quick_start.clone(),
        poll_example: v.poll_example.clone(),
    }
}

fn diags_added(cx: &Ctx<'_>, before: usize) -> bool {
    cx.diags.items.len() > before
}

fn check_operation(
    ck: &mut Checker<'_, '_>,
    at: At<'_>,
    o: &spec::Operation,
    schemes: &BTreeSet<String>,
    v: &spec::Vendor,
) -> Option<ir::Operation> {
    let start = ck.cx.diags.items.len();
    if !names::is_snake_ident(&o.id) {
        ck.cx.err(
            at,
            "id",
            format!("operation id `{}` is not snake_case", o.id),
            format!("write it as `{}`", names::snake(&o.id)),
        );
    }
    if !names::is_snake_ident(&o.group) {
        ck.cx.err(
            at,
            "group",
            format!("group `{}` is not snake_case", o.group),
            format!("write it as `{}`", names::snake(&o.group)),
        );
    }
    let source = ck.source(at, "source", &o.source, Some((o.method.as_str(), &o.path)));

    let vars = path_variables(ck, at, o);
    let mut rust_names: HashMap<String, String> = HashMap::new();
    let params = check_params(ck, at, o, &vars, &mut rust_names);
    let body = o.body.as_ref().map(|b| check_body(ck, at, o, b, &mut rust_names));
    let auth = op_auth(ck, at, o, schemes, v);
    let responses = check_responses(ck, at, o);
    let Some(success) = responses.iter().find(|r| (200..300).contains(&r.status)).cloned() else {
        ck.cx.err(
            at,
            "responses",
            "no 2xx response",
            "add the success response, e.g. `- { status: 200, content: json, description: ... }`",
        );
        return None;
    };
    if success.content == spec::ContentKind::Undocumented {
        ck.cx.err(
            at,
            "responses",
            format!("the success response ({}) is `undocumented`", success.status),
            "give the success response a content kind the client can decode: json, text, binary or empty",
        );
    }

    let pagination = o
        .pagination
        .as_ref()
        .and_then(|pg| check_pagination(ck, at, pg, &params, &success));
    let retryable = o.retryable.unwrap_or(matches!(
        o.method,
        HttpMethod::GET | HttpMethod::HEAD | HttpMethod::PUT | HttpMethod::DELETE
    ));
    if ck.cx.diags.items.len() > start {
        return None;
    }
    Some(ir::Operation {
        id: o.id.clone(),
        group: o.group.clone(),
        summary: o.summary.clone(),
        description: o.description.clone(),
        source,
        method: o.method,
        path: o.path.clone(),
        auth,
        params,
        body,
        success,
        responses,
        pagination,
        retryable,
        notes: o.notes.clone(),
    })
}

/// The path: starts with `/`, holds only what a URL path can, and its
/// `{variables}` (returned) are balanced, named and distinct.
fn path_variables(ck: &mut Checker<'_, '_>, at: At<'_>, o: &spec::Operation) -> Vec<String> {
    let mut vars = Vec::new();
    if !o.path.starts_with('/') {
        ck.cx.err(
            at,
            "path",
            format!("path `{}` must start with `/`", o.path),
            "paths are relative to the vendor's base_url",
        );
    }
    let mut rest = o.path.as_str();
    loop {
        match (rest.find('{'), rest.find('}')) {
            (None, None) => break,
            (Some(a), Some(b)) if a < b => {
                let name = &rest[a + 1..b];
                if name.is_empty() || name.contains('{') {
                    ck.cx.err(
                        at,
                        "path",
                        format!("path `{}` has an empty or nested `{{}}`", o.path),
                        "",
                    );
                    break;
                }
                if vars.contains(&name.to_owned()) {
                    ck.cx.err(
                        at,
                        "path",
                        format!("path variable `{{{name}}}` appears twice in `{}`", o.path),
                        "give each occurrence its own name, e.g. {account_id} and {document_id}",
                    );
                }
                vars.push(name.to_owned());
                rest = &rest[b + 1..];
            }
            _ => {
                ck.cx
                    .err(at, "path", format!("path `{}` has unbalanced braces", o.path), "");
                break;
            }
        }
    }
    if o.path.contains(['?', '#']) {
        ck.cx.err(
            at,
            "path",
            "the path must not contain a query or fragment",
            "declare query parameters under `params:` with `in: query`",
        );
    } else if let Some(c) = o
        .path
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@/%{}".contains(*c)))
    {
        ck.cx.err(
            at,
            "path",
            format!(
                "path `{}` contains {c:?}, which a URL path cannot hold as written",
                o.path.escape_debug()
            ),
            "write the path as the document prints it, percent-encoding anything else (a space is %20)",
        );
    } else if o
        .path
        .split('%')
        .skip(1)
        .any(|r| !(r.len() >= 2 && r.as_bytes()[..2].iter().all(u8::is_ascii_hexdigit)))
    {
        ck.cx.err(
            at,
            "path",
            format!("path `{}` has a `%` that does not start a percent-escape", o.path),
            "write `%25` for a literal `%`",
        );
    }

    vars
}

/// The parameters, each of a type its place can carry, and every path variable declared.
/// `rust_names` collects the Rust names taken (the body's fields share them).
fn check_params(
    ck: &mut Checker<'_, '_>,
    at: At<'_>,
    o: &spec::Operation,
    vars: &[String],
    rust_names: &mut HashMap<String, String>,
) -> Vec<ir::Param> {
    let mut params = Vec::new();
    let mut wire_names: HashSet2 = HashSet2::default();
    for (i, p) in o.params.iter().enumerate() {
        let sub = format!("params[{i}]");
        if !wire_names.insert((p.location, p.name.clone())) {
            ck.cx.err(
                at,
                &format!("{sub}.name"),
                format!("parameter `{}` is declared twice", p.name),
                "remove one of them",
            );
            continue;
        }
        ck.json_list_ok = p.location == ParamLocation::Query;
        let ty = ck.ty(at, &format!("{sub}.type"), &p.ty);
        ck.json_list_ok = false;
        let Some(ty) = ty else { continue };
        check_param_place(ck, at, &sub, o, p, vars, &ty);
        let (default, rust) = ck.default_and_name(
            at,
            &sub,
            &ty,
            &p.ty,
            p.default.as_ref(),
            p.rust_name.as_deref(),
            &p.name,
        );
        let client_default = ck.client_default(
            at,
            &sub,
            (&ty, &p.ty),
            p.required,
            default.is_some(),
            p.client_default.as_ref(),
        );
        if let Some(other) = rust_names.insert(rust.clone(), p.name.clone()) {
            ck.cx.err(
                at,
                &format!("{sub}.name"),
                format!("`{}` and `{other}` both become the Rust name `{rust}`", p.name),
                "set `rust_name:` on one of them",
            );
        }
        params.push(ir::Param {
            wire: p.name.clone(),
            rust,
            location: p.location,
            ty,
            required: p.required,
            default,
            client_default,
            description: p.description.clone(),
        });
    }
    for var in vars {
        if !o
            .params
            .iter()
            .any(|p| p.location == ParamLocation::Path && &p.name == var)
        {
            ck.cx.err(
                at,
                "path",
                format!("path variable `{{{var}}}` has no parameter"),
                format!("declare it under `params:` with `in: path`, `name: {var}` and `required: true`"),
            );
        }
    }

    params
}

/// A parameter fits its place: a path parameter is in the template and
/// required, a header name is valid, and the type can be written there.
fn check_param_place(
    ck: &mut Checker<'_, '_>,
    at: At<'_>,
    sub: &str,
    o: &spec::Operation,
    p: &spec::Param,
    vars: &[String],
    ty: &Ty,
) {
    match p.location {
        ParamLocation::Path => {
            if !vars.contains(&p.name) {
                ck.cx.err(
                    at,
                    &format!("{sub}.name"),
                    format!("path parameter `{}` is not in path `{}`", p.name, o.path),
                    format!("add `{{{}}}` to the path, or change `in:`", p.name),
                );
            }
            if !p.required {
                ck.cx.err(
                    at,
                    sub,
                    format!("path parameter `{}` must be `required: true`", p.name),
                    "a path segment cannot be left out",
                );
            }
        }
        ParamLocation::Header => {
            if !p.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                ck.cx.err(
                    at,
                    &format!("{sub}.name"),
                    format!("`{}` is not a valid header name", p.name),
                    "",
                );
            }
        }
        ParamLocation::Query => {}
    }
    if !is_scalar(ty, &ck.models) && !matches!(ty, Ty::List(t) if is_scalar(t, &ck.models))
        || (p.location == ParamLocation::Path && matches!(ty, Ty::List(_)))
    {
        ck.cx.err(
            at,
            &format!("{sub}.type"),
            format!("`{}` cannot be sent as a {:?} parameter", p.ty, p.location).to_lowercase(),
            "use a scalar type (string, integer, enum, ...)",
        );
    }
}

/// The body: allowed by the method, each field of a type its encoding can carry.
fn check_body(
    ck: &mut Checker<'_, '_>,
    at: At<'_>,
    o: &spec::Operation,
    b: &spec::Body,
    rust_names: &mut HashMap<String, String>,
) -> ir::Body {
    if matches!(o.method, HttpMethod::GET | HttpMethod::HEAD) {
        ck.cx.err(
            at,
            "body",
            format!("a {} request cannot have a body", o.method.as_str()),
            "move the fields to `params:` with `in: query`, or change the method",
        );
    }
    if b.content_type.is_some() && b.encoding != spec::BodyEncoding::Query {
        ck.cx.err(
            at,
            "body.content_type",
            "`content_type` only applies to `encoding: query`",
            "remove it; the encoding sets the content type",
        );
    }
    ck.json_list_ok = b.encoding != spec::BodyEncoding::Json;
    let fields = ck.fields(at, "body.fields", &b.fields, false);
    ck.json_list_ok = false;
    for (i, f) in fields.iter().enumerate() {
        let sub = format!("body.fields[{i}].type");
        let binary = f.ty == Ty::Binary;
        match b.encoding {
            spec::BodyEncoding::Multipart if binary || is_scalar(&f.ty, &ck.models) => {}
            spec::BodyEncoding::Json if !binary => {}
            spec::BodyEncoding::Form | spec::BodyEncoding::Query if is_scalar(&f.ty, &ck.models) => {}
            enc => ck.cx.err(
                at,
                &sub,
                format!("a `{}` field cannot be sent in a {enc:?} body", b.fields[i].ty).to_lowercase(),
                if binary {
                    "binary fields need `encoding: multipart`"
                } else {
                    "use a scalar type, or `encoding: json`"
                },
            ),
        }
        if let Some(other) = rust_names.insert(f.rust.clone(), f.wire.clone()) {
            ck.cx.err(
                at,
                &format!("body.fields[{i}].name"),
                format!(
                    "body field `{}` and parameter `{other}` both become the Rust name `{}`",
                    f.wire, f.rust
                ),
                "set `rust_name:` on one of them",
            );
        }
    }
    if b.encoding == spec::BodyEncoding::Query {
        for f in &fields {
            if o.params
                .iter()
                .any(|p| p.location == ParamLocation::Query && p.name == f.wire)
            {
                ck.cx.err(
                    at,
                    "body",
                    format!("`{}` is both a query parameter and a query-encoded body field", f.wire),
                    "declare it once",
                );
            }
        }
    }
    ir::Body {
        encoding: b.encoding,
        content_type: b.content_type.clone(),
        fields,
    }
}

/// The schemes an operation accepts: the vendor's default, none, or its own list of known schemes.
fn op_auth(
    ck: &mut Checker<'_, '_>,
    at: At<'_>,
    o: &spec::Operation,
    schemes: &BTreeSet<String>,
    v: &spec::Vendor,
) -> ir::Auth {
    match &o.auth {
        None => ir::Auth::Schemes(v.auth.default.clone()),
        Some(spec::OpAuth::None(_)) => ir::Auth::None,
        Some(spec::OpAuth::Schemes(list)) => {
            for (i, s) in list.iter().enumerate() {
                if !schemes.contains(s) && ck.vendor_known {
                    let hint = match names::closest(s, schemes.iter().map(String::as_str)) {
                        Some(c) => format!("did you mean `{c}`? (or `none`)"),
                        None => format!(
                            "use `none` or one of: {}",
                            schemes.iter().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    };
                    ck.cx
                        .err(at, &format!("auth[{i}]"), format!("unknown auth scheme `{s}`"), hint);
                }
            }
            if list.is_empty() {
                ck.cx.err(
                    at,
                    "auth",
                    "an empty scheme list",
                    "write `auth: none` for a public operation",
                );
            }
            ir::Auth::Schemes(list.clone())
        }
    }
}

/// The responses: real, distinct statuses, each with a type its content kind can carry.
fn check_responses(ck: &mut Checker<'_, '_>, at: At<'_>, o: &spec::Operation) -> Vec<ir::Response> {
    let mut responses = Vec::new();
    let mut statuses = BTreeSet::new();
    for (i, r) in o.responses.iter().enumerate() {
        let sub = format!("responses[{i}]");
        if !(100..=599).contains(&r.status) {
            ck.cx.err(
                at,
                &format!("{sub}.status"),
                format!("{} is not an HTTP status", r.status),
                "",
            );
        }
        if !statuses.insert(r.status) {
            ck.cx.err(
                at,
                &format!("{sub}.status"),
                format!("status {} is listed twice", r.status),
                "",
            );
        }
        let ty = match (&r.ty, r.content) {
            (Some(_), spec::ContentKind::Binary | spec::ContentKind::Empty | spec::ContentKind::Undocumented) => {
                ck.cx.err(
                    at,
                    &format!("{sub}.type"),
                    format!("a `{:?}` response has no type", r.content).to_lowercase(),
                    "remove `type:`",
                );
                None
            }
            (Some(t), spec::ContentKind::Text) => {
                let ty = ck.ty(at, &format!("{sub}.type"), t);
                let is_text = match &ty {
                    Some(Ty::String) | None => true,
                    Some(Ty::Model(m)) => ck.models.get(m).is_some_and(|m| m.newtype.as_deref() == Some("string")),
                    _ => false,
                };
                if !is_text {
                    ck.cx.err(
                        at,
                        &format!("{sub}.type"),
                        "a text response decodes to `string` or a string newtype model",
                        "",
                    );
                }
                ty
            }
            (Some(t), _) => ck.ty(at, &format!("{sub}.type"), t),
            (None, _) => None,
        };
        responses.push(ir::Response {
            status: r.status,
            content: r.content,
            ty,
            media_type: r.media_type.clone(),
            description: r.description.clone(),
        });
    }
    responses
}

/// Paging: its parameter is an optional query parameter, and the success
/// response holds the items (page) or is a list of models with the cursor (cursor).
fn check_pagination(
    ck: &mut Checker<'_, '_>,
    at: At<'_>,
    pg: &spec::Pagination,
    params: &[ir::Param],
    success: &ir::Response,
) -> Option<ir::Pagination> {
    let param = match pg {
        spec::Pagination::Page { param, .. } | spec::Pagination::Cursor { param, .. } => param,
    };
    if !params
        .iter()
        .any(|p| p.location == ParamLocation::Query && p.wire == *param && !p.required)
    {
        ck.cx.err(
            at,
            "pagination.param",
            format!("pagination parameter `{param}` is not an optional query parameter of this operation"),
            format!("declare `{param}` under `params:` with `in: query`"),
        );
    }
    match pg {
        spec::Pagination::Page { param, items, total } => page_pagination(ck, at, success, param, items, total),
        spec::Pagination::Cursor { param, cursor_field } => cursor_pagination(ck, at, success, param, cursor_field),
    }
}

/// The fields of object model `name`, if it is one.
fn object_fields(ck: &Checker<'_, '_>, name: &str) -> Option<Vec<spec::Field>> {
    ck.models.get(name).and_then(|m| m.fields.clone())
}

/// Page paging: `items` (dotted) leads through the response model to a list field.
fn page_pagination(
    ck: &mut Checker<'_, '_>,
    at: At<'_>,
    success: &ir::Response,
    param: &str,
    items: &str,
    total: &str,
) -> Option<ir::Pagination> {
    let Some(Ty::Model(m)) = &success.ty else {
        ck.cx.err(
            at,
            "pagination",
            "page pagination needs a success response typed with an object model",
            "",
        );
        return None;
    };
    // Follow `items` through the response model to a list field.
    let mut cur = m.clone();
    let mut item_ty = None;
    let segs: Vec<&str> = items.split('.').collect();
    for (k, seg) in segs.iter().enumerate() {
        let field = object_fields(ck, &cur).and_then(|fs| fs.into_iter().find(|f| f.name == *seg));
        match (field.and_then(|f| Ty::parse(&f.ty).ok()), k + 1 == segs.len()) {
            (Some(Ty::List(t)), true) => item_ty = Some(*t),
            (Some(Ty::Model(next)), false) => cur = next,
            _ => break,
        }
    }
    let Some(item_ty) = item_ty else {
        ck.cx.err(
            at,
            "pagination.items",
            format!("`{items}` is not a list field of `{m}`"),
            "name the field (dotted for nested objects) that holds the page's items",
        );
        return None;
    };
    Some(ir::Pagination::Page {
        param: param.to_owned(),
        items: format!("/{}", items.replace('.', "/")),
        total: format!("/{}", total.replace('.', "/")),
        item_ty,
    })
}

/// Cursor paging: the response is a list of a model that has the cursor field.
fn cursor_pagination(
    ck: &mut Checker<'_, '_>,
    at: At<'_>,
    success: &ir::Response,
    param: &str,
    cursor_field: &str,
) -> Option<ir::Pagination> {
    let item = match &success.ty {
        Some(Ty::List(item)) if matches!(**item, Ty::Model(_)) => item,
        _ => {
            ck.cx.err(
                at,
                "pagination",
                "cursor pagination needs a success response typed `list<Model>`",
                "",
            );
            return None;
        }
    };
    let Ty::Model(m) = item.as_ref() else { return None };
    let field = object_fields(ck, m).and_then(|fs| fs.into_iter().find(|f| f.name == cursor_field));
    let Some(field) = field else {
        ck.cx.err(
            at,
            "pagination.cursor_field",
            format!("`{cursor_field}` is not a field of `{m}`"),
            "",
        );
        return None;
    };
    let cursor_ty = Ty::parse(&field.ty).ok()?;
    Some(ir::Pagination::Cursor {
        param: param.to_owned(),
        cursor_field: cursor_field.to_owned(),
        item_ty: (**item).clone(),
        cursor_rust: names::snake(field.rust_name.as_deref().unwrap_or(&field.name)),
        cursor_ty,
    })
}

type HashSet2 = std::collections::HashSet<(ParamLocation, String)>;

/// Why the folder of vendor specs cannot be checked at all.
#[derive(Debug, thiserror::Error)]
pub enum SpecsError {
    #[error("cannot list {}: {source}", dir.display())]
    List { dir: PathBuf, source: std::io::Error },
    #[error("unknown vendor `{name}`; known vendors: {}", known.join(", "))]
    UnknownVendor { name: String, known: Vec<String> },
}

fn list_error(dir: &Path) -> impl FnOnce(std::io::Error) -> SpecsError + '_ {
    move |source| SpecsError::List {
        dir: dir.to_path_buf(),
        source,
    }
}

/// The vendor folder names under `specs_dir`.
pub fn vendor_names(specs_dir: &Path) -> Result<Vec<String>, SpecsError> {
    let mut names: Vec<String> = std::fs::read_dir(specs_dir)
        .map_err(list_error(specs_dir))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(names)
}

/// Check every vendor folder under `specs_dir` (or just `only`).
pub fn check_all(
    specs_dir: &Path,
    root: &Path,
    docs_dir: Option<&Path>,
    only: Option<&str>,
    diags: &mut Diags,
) -> Result<Vec<ir::Api>, SpecsError> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(specs_dir)
        .map_err(list_error(specs_dir))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let known: Vec<String> = dirs
        .iter()
        .filter_map(|d| d.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    if let Some(name) = only {
        if !known.iter().any(|k| k == name) {
            return Err(SpecsError::UnknownVendor {
                name: name.to_owned(),
                known,
            });
        }
    }
    let dirs: Vec<(String, PathBuf)> = dirs
        .into_iter()
        .map(|d| {
            (
                d.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                d,
            )
        })
        .filter(|(name, _)| only.is_none_or(|o| o == name))
        .collect();
    let checked = check_folders(&dirs, root, docs_dir);
    let mut apis = BTreeMap::new();
    for ((name, _), (api, d)) in dirs.into_iter().zip(checked) {
        diags.items.extend(d.items);
        diags.warnings.extend(d.warnings);
        if let Some(api) = api {
            apis.insert(name, api);
        }
    }
    let mut apis: Vec<ir::Api> = apis.into_values().collect();
    let clashing = crate_names(root, &apis, &[], diags);
    apis.retain(|a| !clashing.contains(&a.vendor.name));
    Ok(apis)
}

/// Check each vendor folder, each on a thread of its own; the results in folder order.
fn check_folders(dirs: &[(String, PathBuf)], root: &Path, docs_dir: Option<&Path>) -> Vec<(Option<ir::Api>, Diags)> {
    // Each vendor folder is read and checked on a thread of its own (they
    // share nothing); the results are taken in folder order, so diagnostics
    // and output do not depend on the scheduling.
    std::thread::scope(|s| {
        let handles: Vec<_> = dirs
            .iter()
            .map(|(_, dir)| {
                let work = move || {
                    let mut d = Diags::default();
                    let api = check_vendor(dir, root, docs_dir, &mut d);
                    (api, d)
                };
                // Deeply nested YAML recurses; give the thread the main thread's room.
                std::thread::Builder::new().stack_size(64 << 20).spawn_scoped(s, work)
            })
            .collect();
        handles
            .into_iter()
            .zip(dirs)
            .map(|(h, (_, dir))| match h {
                // A panic is a generator bug: report it as the serial loop did.
                Ok(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
                // No thread to be had: check this folder here instead.
                Err(_) => {
                    let mut d = Diags::default();
                    (check_vendor(dir, root, docs_dir, &mut d), d)
                }
            })
            .collect()
    })
}

/// Where `vendor.crate.name` is written in a vendor's `vendor.yaml`.
fn crate_name_place(root: &Path, api: &ir::Api) -> (PathBuf, usize, usize) {
    let shown = PathBuf::from(format!("{}vendor.yaml", api.vendor.spec_dir));
    let text = std::fs::read_to_string(root.join(&shown)).unwrap_or_default();
    let (line, col) = LocIndex::build(&text)
        .map(|l| l.value("vendor.crate.name"))
        .unwrap_or((1, 1));
    (shown, line, col)
}

/// Crate names are unique across every spec root (`-` and `_` count as one),
/// and none takes the name of a package already in the workspace (`taken`:
/// package name and the manifest that declares it). Returns the vendors in error.
pub fn crate_names(root: &Path, apis: &[ir::Api], taken: &[(String, PathBuf)], diags: &mut Diags) -> Vec<String> {
    let mut bad = Vec::new();
    for api in apis {
        let name = &api.vendor.crate_name;
        let key = names::crate_key(name);
        let other = apis
            .iter()
            .find(|o| !std::ptr::eq(*o, api) && names::crate_key(&o.vendor.crate_name) == key);
        let clash = if let Some(other) = other {
            Some((
                format!(
                    "crate name `{name}` is also used by vendor `{}` ({}vendor.yaml)",
                    other.vendor.name, other.vendor.spec_dir
                ),
                "crate names must be unique across the workspace (`-` and `_` count as the same)".to_owned(),
            ))
        } else {
            taken
                .iter()
                .find(|(t, _)| names::crate_key(t) == key)
                .map(|(t, manifest)| {
                    (
                        format!(
                            "crate name `{name}` is taken by the workspace package `{t}` ({})",
                            manifest.display()
                        ),
                        "pick a name of its own; regen never writes over a crate it did not generate".to_owned(),
                    )
                })
        };
        if let Some((message, hint)) = clash {
            let (file, line, col) = crate_name_place(root, api);
            diags.push(Diag {
                file,
                line,
                col,
                message,
                hint: Some(hint),
            });
            bad.push(api.vendor.name.clone());
        }
    }
    bad
}
