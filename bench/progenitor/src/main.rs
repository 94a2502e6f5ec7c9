//! Times progenitor generating a client from each vendor's emitted `openapi.json`.
//!
//! `progenitor-bench --runs N --out DIR NAME=PATH...` (run by `cargo xtask bench`).
//!
//! For each document:
//! 1. try it exactly as emitted, and keep the exact error if progenitor (or the
//!    `openapiv3` crate it reads with) refuses it;
//! 2. if the document is OpenAPI 3.1, rewrite it mechanically to 3.0 (each
//!    rewrite is listed in the output);
//! 3. generate each operation alone, and drop the operations progenitor cannot
//!    generate (each listed with its error);
//! 4. time `runs` repetitions of read the prepared document + deserialize +
//!    generate + format (prettyplease) + write `DIR/NAME/src/lib.rs`.
//!
//! One `BENCH {json}` line per document goes to stdout; `cargo xtask bench`
//! reads those lines.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{json, Value};

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

fn settings() -> progenitor::GenerationSettings {
    let mut s = progenitor::GenerationSettings::default();
    // Builder style: optional parameters as setters, like the snapsdk clients.
    s.with_interface(progenitor::InterfaceStyle::Builder).with_tag(progenitor::TagStyle::Merged);
    s
}

/// Deserialize with `openapiv3` and generate; the formatted source or the exact error.
/// A panic inside progenitor (it has `unreachable!()` arms, for instance for
/// an optional request body with an object schema) is reported as that
/// document's or operation's error, like any other refusal.
fn generate(doc: &str) -> Result<String, String> {
    let spec: openapiv3::OpenAPI = serde_json::from_str(doc).map_err(|e| format!("openapiv3 cannot deserialize the document: {e}"))?;
    let tokens = std::panic::catch_unwind(|| progenitor::Generator::new(&settings()).generate_tokens(&spec))
        .map_err(|p| {
            let what = p.downcast_ref::<&str>().map(|s| (*s).to_owned()).or_else(|| p.downcast_ref::<String>().cloned()).unwrap_or_default();
            format!("progenitor panicked: {what}")
        })?
        .map_err(|e| format!("progenitor: {e}"))?;
    let file: syn::File = syn::parse2(tokens).map_err(|e| format!("progenitor produced invalid Rust: {e}"))?;
    Ok(prettyplease::unparse(&file))
}

/// Rewrites from OpenAPI 3.1 (JSON Schema 2020-12) to 3.0, counted by kind.
#[derive(Default)]
struct Downgrade {
    done: BTreeMap<&'static str, usize>,
    lossy: Vec<String>,
}

impl Downgrade {
    fn note(&mut self, what: &'static str) {
        *self.done.entry(what).or_default() += 1;
    }

    fn document(&mut self, doc: &mut Value) {
        let Some(top) = doc.as_object_mut() else { return };
        if top.get("openapi").and_then(Value::as_str).is_some_and(|v| v.starts_with("3.1")) {
            top.insert("openapi".into(), json!("3.0.3"));
            self.note("`openapi: 3.1.x` -> `3.0.3`");
        }
        for key in ["webhooks", "jsonSchemaDialect"] {
            if top.remove(key).is_some() {
                self.note("dropped top-level key absent from 3.0 (webhooks, jsonSchemaDialect)");
            }
        }
        if let Some(info) = top.get_mut("info").and_then(Value::as_object_mut) {
            if info.remove("summary").is_some() {
                self.note("dropped `info.summary` (3.1 only)");
            }
            if let Some(l) = info.get_mut("license").and_then(Value::as_object_mut) {
                if l.remove("identifier").is_some() {
                    self.note("dropped `info.license.identifier` (3.1 only)");
                }
            }
        }
        if let Some(c) = top.get_mut("components").and_then(Value::as_object_mut) {
            if c.remove("pathItems").is_some() {
                self.note("dropped `components.pathItems` (3.1 only)");
            }
            if let Some(schemas) = c.get_mut("schemas").and_then(Value::as_object_mut) {
                for s in schemas.values_mut() {
                    self.schema(s);
                }
            }
        }
        for (k, v) in top.iter_mut() {
            if k != "components" || !v.is_object() {
                self.walk(v);
            } else if let Some(c) = v.as_object_mut() {
                for (ck, cv) in c.iter_mut() {
                    if ck != "schemas" {
                        self.walk(cv);
                    }
                }
            }
        }
    }

    /// Outside schemas: find every `schema` (parameters, media types, headers).
    fn walk(&mut self, v: &mut Value) {
        match v {
            Value::Object(o) => {
                for (k, v) in o.iter_mut() {
                    match k.as_str() {
                        "schema" => self.schema(v),
                        "example" | "examples" => {}
                        _ => self.walk(v),
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|v| self.walk(v)),
            _ => {}
        }
    }

    fn schema(&mut self, v: &mut Value) {
        let Some(o) = v.as_object_mut() else { return };
        if o.contains_key("$ref") && o.len() > 1 {
            // 3.0 ignores siblings of `$ref`; keep the reference.
            o.retain(|k, _| k == "$ref");
            self.note("removed siblings of `$ref` (description etc.; 3.0 ignores them)");
            return;
        }
        if let Some(Value::Array(types)) = o.get("type").cloned() {
            let non_null: Vec<Value> = types.iter().filter(|t| t.as_str() != Some("null")).cloned().collect();
            let nullable = non_null.len() < types.len();
            match non_null.as_slice() {
                [one] => {
                    o.insert("type".into(), one.clone());
                    self.note("`type: [T, \"null\"]` -> `type: T, nullable: true`");
                }
                [] => {
                    o.remove("type");
                    self.note("`type: [\"null\"]` -> untyped, nullable");
                }
                _ => {
                    o.remove("type");
                    self.lossy.push(format!("`type: {types:?}` (several types) -> untyped"));
                }
            }
            if nullable {
                o.insert("nullable".into(), json!(true));
            }
        }
        if o.get("type").and_then(Value::as_str) == Some("null") {
            o.remove("type");
            o.insert("nullable".into(), json!(true));
            self.note("`type: null` -> `nullable: true`");
        }
        if let Some(c) = o.remove("const") {
            o.insert("enum".into(), json!([c]));
            self.note("`const: v` -> `enum: [v]`");
        }
        if let Some(Value::Array(ex)) = o.remove("examples") {
            if let Some(first) = ex.into_iter().next() {
                o.insert("example".into(), first);
            }
            self.note("schema `examples: [..]` -> `example` (the first)");
        }
        for (key, bound) in [("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")] {
            if let Some(n) = o.get(key).filter(|n| n.is_number()).cloned() {
                o.insert(bound.into(), n);
                o.insert(key.into(), json!(true));
                self.note("numeric `exclusiveMinimum/Maximum: n` -> `minimum/maximum: n` + `true`");
            }
        }
        if o.remove("contentMediaType").is_some() | o.remove("contentEncoding").is_some() {
            o.insert("format".into(), json!("binary"));
            self.note("`contentMediaType`/`contentEncoding` -> `format: binary`");
        }
        for key in ["prefixItems", "$defs", "$schema", "$id", "unevaluatedProperties", "dependentRequired", "dependentSchemas", "propertyNames"] {
            if o.remove(key).is_some() {
                self.lossy.push(format!("dropped schema keyword `{key}` (no 3.0 equivalent)"));
            }
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(items)) = o.get_mut(key) {
                let before = items.len();
                items.retain(|s| s.get("type").and_then(Value::as_str) != Some("null") || s.as_object().is_some_and(|m| m.len() > 1));
                if items.len() < before {
                    self.note("`anyOf/oneOf: [.., {type: null}]` -> without it, `nullable: true`");
                    if items.len() == 1 {
                        let only = items.remove(0);
                        o.remove(key);
                        o.insert("allOf".into(), json!([only]));
                    }
                    o.insert("nullable".into(), json!(true));
                }
            }
        }
        for (k, v) in o.iter_mut() {
            match k.as_str() {
                "properties" | "patternProperties" => {
                    if let Some(p) = v.as_object_mut() {
                        p.values_mut().for_each(|s| self.schema(s));
                    }
                }
                "items" | "additionalProperties" | "not" => self.schema(v),
                "allOf" | "anyOf" | "oneOf" => {
                    if let Some(a) = v.as_array_mut() {
                        a.iter_mut().for_each(|s| self.schema(s));
                    }
                }
                _ => {}
            }
        }
    }
}

/// The document with only `keep(path, method)` operations left.
fn filtered(doc: &Value, keep: impl Fn(&str, &str) -> bool) -> Value {
    let mut out = doc.clone();
    if let Some(paths) = out.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            if let Some(item) = item.as_object_mut() {
                item.retain(|k, _| !METHODS.contains(&k.as_str()) || keep(path, k));
            }
        }
        paths.retain(|_, item| item.as_object().is_some_and(|i| i.keys().any(|k| METHODS.contains(&k.as_str()))));
    }
    out
}

fn operations(doc: &Value) -> Vec<(String, String, String)> {
    let mut ops = Vec::new();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            for (method, op) in item.as_object().into_iter().flatten() {
                if METHODS.contains(&method.as_str()) {
                    let id = op.get("operationId").and_then(Value::as_str).unwrap_or("").to_owned();
                    ops.push((path.clone(), method.clone(), id));
                }
            }
        }
    }
    ops
}

fn one(name: &str, path: &Path, runs: usize, out: &Path) -> Value {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return json!({ "name": name, "fatal": format!("cannot read {}: {e}", path.display()) }),
    };
    let mut doc: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => return json!({ "name": name, "fatal": format!("not JSON: {e}") }),
    };
    let version = doc.get("openapi").and_then(Value::as_str).unwrap_or("?").to_owned();
    let as_emitted = generate(&text).err();

    let mut down = Downgrade::default();
    if as_emitted.is_some() {
        down.document(&mut doc);
    }
    // The same document with only the version string left at 3.1: what progenitor itself says.
    let version_gate = if version.starts_with("3.1") {
        let mut only_version = doc.clone();
        only_version["openapi"] = json!(version);
        generate(&only_version.to_string()).err()
    } else {
        None
    };
    let all_ops = operations(&doc);
    let mut dropped = Vec::new();
    let mut fatal = None;
    if as_emitted.is_some() {
        let none = filtered(&doc, |_, _| false);
        if let Err(e) = generate(&none.to_string()) {
            fatal = Some(format!("even with no operations (schemas only): {e}"));
        } else {
            for (p, m, id) in &all_ops {
                let alone = filtered(&doc, |pp, mm| pp == p && mm == m);
                if let Err(e) = generate(&alone.to_string()) {
                    dropped.push(json!({ "operation": id, "method": m.to_uppercase(), "path": p, "error": e }));
                }
            }
        }
    }
    let is_dropped = |p: &str, m: &str| dropped.iter().any(|d| d["path"] == p && d["method"] == m.to_uppercase());
    let prepared = filtered(&doc, |p, m| !is_dropped(p, m));
    let dir = out.join(name);
    let prepared_path = dir.join("openapi-prepared.json");
    let src = dir.join("src");
    if let Err(e) = std::fs::create_dir_all(&src).and_then(|_| std::fs::write(&prepared_path, serde_json::to_string_pretty(&prepared).unwrap_or_default())) {
        return json!({ "name": name, "fatal": format!("cannot write under {}: {e}", dir.display()) });
    }
    let whole_error = if fatal.is_none() { generate(&prepared.to_string()).err() } else { None };
    let fatal = fatal.or(whole_error.map(|e| format!("after dropping the operations above: {e}")));

    let mut times = Vec::new();
    let mut lines = 0;
    if fatal.is_none() {
        for _ in 0..runs {
            let t = Instant::now();
            let code = std::fs::read_to_string(&prepared_path).map_err(|e| e.to_string()).and_then(|t| generate(&t));
            match code.and_then(|c| std::fs::write(src.join("lib.rs"), &c).map(|_| c).map_err(|e| e.to_string())) {
                Ok(c) => lines = c.lines().count(),
                Err(e) => return json!({ "name": name, "fatal": e }),
            }
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    times.sort_by(f64::total_cmp);
    json!({
        "name": name,
        "version": version,
        "as_emitted_error": as_emitted,
        "version_gate_error": version_gate,
        "downgrade": down.done.iter().map(|(k, n)| json!({ "rewrite": k, "count": n })).collect::<Vec<_>>(),
        "lossy": down.lossy,
        "operations": all_ops.len(),
        "dropped": dropped,
        "fatal": fatal,
        "runs": times.len(),
        "median_ms": times.get(times.len() / 2),
        "min_ms": times.first(),
        "max_ms": times.last(),
        "lines": lines,
        "lib_rs": src.join("lib.rs"),
    })
}

// The allocator `cargo xtask regen` runs with, so the side-by-side compares generators, not allocators.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // Panics inside progenitor are caught and reported per document or
    // operation (see `generate`); keep their default report off stderr.
    std::panic::set_hook(Box::new(|_| {}));
    let mut runs = 11;
    let mut out = PathBuf::from("progenitor-out");
    let mut docs = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().and_then(|n| n.parse().ok()).unwrap_or(runs),
            "--out" => out = args.next().map(PathBuf::from).unwrap_or(out),
            doc => match doc.split_once('=') {
                Some((name, path)) => docs.push((name.to_owned(), PathBuf::from(path))),
                None => {
                    eprintln!("usage: progenitor-bench [--runs N] [--out DIR] NAME=openapi.json...");
                    std::process::exit(2);
                }
            },
        }
    }
    for (name, path) in docs {
        let mut r = one(&name, &path, runs.max(1), &out);
        if let Some(o) = r.as_object_mut() {
            o.entry("name").or_insert(json!(name));
        }
        println!("BENCH {r}");
    }
}
