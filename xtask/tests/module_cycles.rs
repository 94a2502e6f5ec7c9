//! No two modules of `xtask/src` import each other, directly or through
//! others. The graph has an edge `a -> b` when a file of module `a` names a
//! path `crate::b::...` (in a `use` tree or anywhere in code, `super::` paths
//! resolved); comments and string literals do not count. A file `x.rs` or
//! `x/mod.rs` is module `x`; inline `mod` blocks belong to their file.
//! The binary's own files (`main.rs`, `bench.rs`) are another crate and not
//! part of the library's graph.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::str::FromStr;

use proc_macro2::{Delimiter, TokenStream, TokenTree};

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The module a file under `src/` is: `emit/docs.rs` -> `emit::docs`, `emit/mod.rs` -> `emit`.
/// Only the top `lib.rs` is the crate root; `emit/rust/lib.rs` is `emit::rust::lib`.
fn module_of(rel: &Path) -> String {
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap_or_default();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && !(stem == "lib" && parts.is_empty()) {
        parts.push(stem.to_owned());
    }
    parts.join("::")
}

/// Every path the tokens name, as segments, with `use` trees expanded.
fn paths(tokens: TokenStream, out: &mut Vec<Vec<String>>) {
    let tts: Vec<TokenTree> = tokens.into_iter().collect();
    let mut i = 0;
    while i < tts.len() {
        match &tts[i] {
            TokenTree::Ident(id) if (id == "crate" || id == "super") && !preceded_by_colons(&tts, i) => {
                i = path_from(&tts, i, Vec::new(), out);
            }
            TokenTree::Group(g) => {
                paths(g.stream(), out);
                i += 1;
            }
            _ => i += 1,
        }
    }
}

fn preceded_by_colons(tts: &[TokenTree], i: usize) -> bool {
    i >= 1 && matches!(&tts[i - 1], TokenTree::Punct(p) if p.as_char() == ':')
}

fn is_colons(tts: &[TokenTree], i: usize) -> bool {
    matches!((tts.get(i), tts.get(i + 1)), (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b))) if a.as_char() == ':' && b.as_char() == ':')
}

/// Read the path starting at `tts[i]` (after `prefix`), pushing each full path; returns the index after it.
fn path_from(tts: &[TokenTree], mut i: usize, mut prefix: Vec<String>, out: &mut Vec<Vec<String>>) -> usize {
    loop {
        match tts.get(i) {
            Some(TokenTree::Ident(id)) => {
                prefix.push(id.to_string());
                i += 1;
                if is_colons(tts, i) {
                    i += 2;
                    continue;
                }
                out.push(prefix);
                return i;
            }
            // `crate::{a, b::c}`: each item of the group continues the prefix.
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => {
                let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                let mut k = 0;
                while k < inner.len() {
                    match &inner[k] {
                        TokenTree::Ident(_) => k = path_from(&inner, k, prefix.clone(), out),
                        TokenTree::Group(_) => k = path_from(&inner, k, prefix.clone(), out),
                        _ => k += 1,
                    }
                }
                return i + 1;
            }
            _ => {
                out.push(prefix);
                return i;
            }
        }
    }
}

/// The module a path names: its longest prefix that is a module (`crate::` and `super::` resolved from `from`).
fn target(from: &str, path: &[String], modules: &BTreeSet<String>) -> Option<String> {
    let mut segs: Vec<String> = Vec::new();
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => rest = &rest[1..],
        Some("super") => {
            segs = from.split("::").filter(|s| !s.is_empty()).map(str::to_owned).collect();
            while rest.first().map(String::as_str) == Some("super") {
                segs.pop();
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    let mut best = None;
    for s in rest {
        segs.push(s.clone());
        let m = segs.join("::");
        if modules.contains(&m) {
            best = Some(m);
        }
    }
    best
}

/// The import graph of a set of `(module, source)` files.
fn graph(files: &[(String, String)]) -> Graph {
    let modules: BTreeSet<String> = files.iter().map(|(m, _)| m.clone()).collect();
    let mut g = Graph::new();
    for (m, src) in files {
        let tokens = TokenStream::from_str(src).unwrap_or_else(|e| panic!("module {m} does not tokenize: {e:?}"));
        let mut found = Vec::new();
        paths(tokens, &mut found);
        let edges = g.entry(m.clone()).or_default();
        for p in found {
            if let Some(t) = target(m, &p, &modules).filter(|t| t != m && !m.is_empty()) {
                edges.insert(t);
            }
        }
    }
    g
}

/// Every cycle, each as the modules on it (`a -> b -> a`), found from the
/// strongly connected components (Tarjan), one cycle per component.
fn cycles(g: &Graph) -> Vec<String> {
    struct T<'g> {
        g: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on: BTreeSet<&'g str>,
        comps: Vec<Vec<&'g str>>,
    }
    fn visit<'g>(t: &mut T<'g>, v: &'g str) {
        let n = t.index.len();
        t.index.insert(v, n);
        t.low.insert(v, n);
        t.stack.push(v);
        t.on.insert(v);
        for w in t.g.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                comp.push(w);
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                t.comps.push(comp);
            }
        }
    }
    let mut t = T {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        comps: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.comps.iter().map(|comp| describe_cycle(g, comp)).collect()
}

/// One concrete cycle through a strongly connected component: from its
/// first module (in name order), the shortest way back to it.
fn describe_cycle(g: &Graph, comp: &[&str]) -> String {
    let inside: BTreeSet<&str> = comp.iter().copied().collect();
    let start = *inside.iter().next().unwrap();
    let mut prev: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for w in g
            .get(v)
            .into_iter()
            .flatten()
            .map(String::as_str)
            .filter(|w| inside.contains(w))
        {
            if w == start {
                let mut path = vec![v];
                let mut at = v;
                while at != start {
                    at = prev[at];
                    path.push(at);
                }
                path.reverse();
                path.push(start);
                return path.join(" -> ");
            }
            if !prev.contains_key(w) {
                prev.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    comp.join(", ")
}

fn library_files() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(&src).unwrap();
                // The binary crate: `main.rs` and the modules only it declares.
                if rel == Path::new("main.rs") || rel == Path::new("bench.rs") {
                    continue;
                }
                out.push((module_of(rel), std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn no_two_modules_import_each_other() {
    let files = library_files();
    assert!(files.len() > 10, "found only {} modules under xtask/src", files.len());
    let g = graph(&files);
    // The graph is not empty: the walk does see imports.
    assert!(
        g.get("regen").is_some_and(|e| e.contains("validate")),
        "regen -> validate not seen: {g:?}"
    );
    let found = cycles(&g);
    assert!(
        found.is_empty(),
        "modules of xtask/src import each other (move the shared piece to a lower module):\n  {}",
        found.join("\n  ")
    );
}

#[test]
fn files_are_named_as_modules() {
    for (file, module) in [
        ("lib.rs", ""),
        ("regen.rs", "regen"),
        ("emit/mod.rs", "emit"),
        ("emit/docs.rs", "emit::docs"),
        // A file named `lib.rs` below the top is an ordinary module.
        ("emit/rust/lib.rs", "emit::rust::lib"),
    ] {
        assert_eq!(module_of(Path::new(file)), module, "{file}");
    }
}

fn files(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(m, s)| (m.to_string(), s.to_string())).collect()
}

#[test]
fn the_guard_fires_on_a_direct_and_an_indirect_cycle() {
    let direct = files(&[("a", "use crate::b::X; fn f() {}"), ("b", "fn g() { crate::a::f() }")]);
    assert_eq!(cycles(&graph(&direct)), ["a -> b -> a"]);
    // Through a `use` group, a `super::` path and a child module.
    let indirect = files(&[
        ("a", "use crate::{x, b::{self, Y}};"),
        ("b", "use crate::emit::docs::ty_expr;"),
        ("emit", "pub mod docs;"),
        ("emit::docs", "fn h() { super::super::a::f() }"),
        ("x", ""),
    ]);
    assert_eq!(cycles(&graph(&indirect)), ["a -> b -> emit::docs -> a"]);
}

#[test]
fn comments_strings_and_foreign_paths_are_not_imports() {
    let quiet = files(&[
        (
            "a",
            "/// see [`crate::b::X`]\n// crate::b\nfn f() { let s = \"crate::b::X\"; other::crate_b(); }",
        ),
        ("b", "use crate::a::f; fn g() { quote!(crate::models::M) }"),
    ]);
    assert!(cycles(&graph(&quiet)).is_empty());
    // A doc comment in the real sources is a `#[doc]` string too: not an edge.
    let g = graph(&quiet);
    assert_eq!(g["a"], BTreeSet::new());
}
