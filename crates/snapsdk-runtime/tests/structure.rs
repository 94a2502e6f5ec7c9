//! The runtime's shape (issue 27): no function in `src/` longer than
//! [`MAX_FN_LINES`] lines (unit tests excluded), and no two modules that
//! import each other, directly or through others.
//!
//! Both checks read the source text: rustfmt's layout puts a function's
//! closing brace alone on a line at the indentation of its `fn`, and every
//! use of another module names it as `crate::module` (or `crate::Item` for
//! an item the crate root re-exports, resolved through `lib.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const MAX_FN_LINES: usize = 80;

/// Every source file: (module name, text). `lib.rs` is the crate root.
fn sources() -> Vec<(String, String)> {
    // This package is `tests/` inside the runtime's folder.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../src");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            out.push((name, std::fs::read_to_string(&path).unwrap()));
        }
    }
    assert!(
        out.iter().any(|(n, _)| n == "lib"),
        "no src/lib.rs under {}",
        dir.display()
    );
    out.sort();
    out
}

/// The text before a top-level `#[cfg(test)]` item (unit tests are excluded).
fn without_tests(text: &str) -> &str {
    match text.find("\n#[cfg(test)]\nmod ") {
        Some(i) => &text[..i],
        None => text,
    }
}

/// Every function as (name, first line, lines from `fn` to its closing brace).
fn functions(text: &str) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = without_tests(text).lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") {
            continue;
        }
        let Some(at) = find_fn(trimmed) else { continue };
        let name: String = trimmed[at + 3..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if name.is_empty() {
            continue;
        }
        let indent = line.len() - trimmed.len();
        // A declaration without a body, or a body on one line.
        if trimmed.ends_with(';') || (trimmed.ends_with('}') && trimmed.contains('{')) {
            out.push((name, i + 1, 1));
            continue;
        }
        let close = format!("{}}}", " ".repeat(indent));
        let end = lines[i + 1..]
            .iter()
            .position(|l| l.trim_end() == close || l.trim_end().starts_with(&format!("{close})")))
            .unwrap_or_else(|| {
                panic!(
                    "the fn `{name}` at line {} has no closing brace at its indentation",
                    i + 1
                )
            });
        out.push((name, i + 1, end + 2));
    }
    out
}

/// Where `fn ` starts in a line that declares a function (after its qualifiers).
fn find_fn(trimmed: &str) -> Option<usize> {
    let mut rest = trimmed;
    let mut at = 0;
    for prefix in [
        "pub(crate) ",
        "pub(super) ",
        "pub ",
        "const ",
        "async ",
        "unsafe ",
        "extern \"C\" ",
    ] {
        if let Some(r) = rest.strip_prefix(prefix) {
            at += prefix.len();
            rest = r;
        }
    }
    rest.starts_with("fn ").then_some(at)
}

/// Which modules each module uses: `crate::m` for a module `m`, or
/// `crate::Item` for an item `lib.rs` re-exports from `m`.
fn module_graph(files: &[(String, String)]) -> BTreeMap<String, BTreeSet<String>> {
    let modules: BTreeSet<&str> = files.iter().map(|(n, _)| n.as_str()).filter(|n| *n != "lib").collect();
    let lib = &files.iter().find(|(n, _)| n == "lib").unwrap().1;
    let mut reexports: BTreeMap<String, String> = BTreeMap::new();
    for line in lib.lines() {
        let Some(rest) = line.trim().strip_prefix("pub use ") else {
            continue;
        };
        let Some((module, items)) = rest.split_once("::") else {
            continue;
        };
        if !modules.contains(module) {
            continue;
        }
        for item in items.trim_matches(|c| matches!(c, '{' | '}' | ';')).split(',') {
            let item = item.trim().rsplit("::").next().unwrap().trim();
            if !item.is_empty() {
                reexports.insert(item.to_owned(), module.to_owned());
            }
        }
    }
    let mut graph = BTreeMap::new();
    for (name, text) in files {
        if name == "lib" {
            continue;
        }
        let mut uses = BTreeSet::new();
        let code: String = without_tests(text)
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        // `crate::{a::X, B}` groups: each member as if written `crate::member`.
        let expanded = expand_groups(&code);
        for (i, _) in expanded.match_indices("crate::") {
            let word: String = expanded[i + 7..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let target = if modules.contains(word.as_str()) {
                Some(word.clone())
            } else {
                reexports.get(&word).cloned()
            };
            if let Some(t) = target.filter(|t| t != name) {
                uses.insert(t);
            }
        }
        graph.insert(name.clone(), uses);
    }
    graph
}

fn expand_groups(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 8..];
        let end = after.find('}').unwrap_or(after.len());
        for member in after[..end].split(',') {
            out.push_str(&format!(" crate::{} ", member.trim()));
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// A cycle in `graph`, as the modules along it, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_function_is_longer_than_80_lines() {
    let mut all = Vec::new();
    for (module, text) in sources() {
        for (name, line, len) in functions(&text) {
            all.push((len, format!("src/{module}.rs:{line} fn {name}")));
        }
    }
    all.sort();
    let longest = all.last().unwrap();
    println!("longest: {} lines, {}", longest.0, longest.1);
    let over: Vec<_> = all.iter().filter(|(len, _)| *len > MAX_FN_LINES).collect();
    assert!(
        over.is_empty(),
        "functions longer than {MAX_FN_LINES} lines (split them): {over:#?}"
    );
}

#[test]
fn no_two_modules_import_each_other() {
    let graph = module_graph(&sources());
    for (module, uses) in &graph {
        println!("{module} -> {}", uses.iter().cloned().collect::<Vec<_>>().join(", "));
    }
    assert!(
        graph.values().any(|u| !u.is_empty()),
        "no module uses another: the scan is broken"
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!("modules import each other: {}", cycle.join(" -> "));
    }
}

/// The checks fire on what they guard against.
#[test]
fn the_checks_fire() {
    let long = format!(
        "pub(crate) async fn long(x: u8) -> u8 {{\n{}    x\n}}\n\nfn short() {{ }}\n",
        "    let _ = 1;\n".repeat(80)
    );
    let fns = functions(&long);
    assert_eq!(fns, vec![("long".to_owned(), 1, 83), ("short".to_owned(), 85, 1)]);
    let tests_only = format!(
        "fn a() {{\n}}\n\n#[cfg(test)]\nmod tests {{\n    fn b() {{\n{}    }}\n}}\n",
        "x\n".repeat(100)
    );
    assert_eq!(functions(&tests_only).len(), 1);

    let files = vec![
        ("lib".to_owned(), "pub mod a;\npub use b::{Thing, Other};\n".to_owned()),
        ("a".to_owned(), "use crate::{c::X, d};\n".to_owned()),
        (
            "b".to_owned(),
            "// crate::a in a comment\nfn f() -> crate::c::Y {}\n".to_owned(),
        ),
        ("c".to_owned(), "fn g(_: crate::Thing) {}\n".to_owned()),
        ("d".to_owned(), "use crate::Other;\n".to_owned()),
    ];
    let graph = module_graph(&files);
    assert_eq!(graph["a"], BTreeSet::from(["c".to_owned(), "d".to_owned()]));
    assert_eq!(graph["b"], BTreeSet::from(["c".to_owned()]));
    let cycle = find_cycle(&graph).expect("b -> c -> b is a cycle");
    assert_eq!(cycle.first(), cycle.last());
    assert!(
        cycle.contains(&"b".to_owned()) && cycle.contains(&"c".to_owned()),
        "{cycle:?}"
    );
    let mut acyclic = graph.clone();
    acyclic.get_mut("c").unwrap().clear();
    assert_eq!(find_cycle(&acyclic), None);
}

/// The `.rs` files in `dir` (this package's folder) that no `[[test]]` of
/// `manifest` (its Cargo.toml) names as its `path`. Folders (`common/`) are
/// modules the tests share, not tests.
fn unlisted_test_files(manifest: &str, files: &[String]) -> Vec<String> {
    let listed: BTreeSet<&str> = manifest
        .lines()
        .filter_map(|l| l.trim().strip_prefix("path = \""))
        .filter_map(|rest| rest.strip_suffix('"'))
        .collect();
    files
        .iter()
        .filter(|f| f.ends_with(".rs") && !listed.contains(f.as_str()))
        .cloned()
        .collect()
}

/// The package declares each test file as a target (`autotests` cannot find
/// them: this package's own `tests/` would be one folder further down), so a
/// file added without its `[[test]]` entry would never run.
#[test]
fn every_test_file_is_a_test_target() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    let files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        files.iter().any(|f| f == "structure.rs"),
        "the scan is broken: {files:?}"
    );
    let unlisted = unlisted_test_files(&manifest, &files);
    assert!(
        unlisted.is_empty(),
        "test files that no [[test]] of {} names (they never run): {unlisted:?}; add `[[test]] name = \"…\" path = \"….rs\"` for each",
        dir.join("Cargo.toml").display()
    );
    // The check fires on a file the manifest does not name.
    let more = [files.clone(), vec!["new_test.rs".to_owned()]].concat();
    assert_eq!(unlisted_test_files(&manifest, &more), ["new_test.rs"]);
    assert_eq!(
        unlisted_test_files("", &["a.rs".to_owned(), "common".to_owned()]),
        ["a.rs"]
    );
}
