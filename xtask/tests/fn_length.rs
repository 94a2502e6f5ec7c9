//! No function in `xtask/src` is longer than 80 lines (from its `fn` line to
//! its closing brace), tests (`#[cfg(test)] mod`) excluded. Comments and
//! string literals are blanked before braces are matched.

use std::path::Path;

const MAX: usize = 80;

/// Files whose functions have not been split yet (their owners are at it):
/// remove a file from the list once it holds no function over [`MAX`] lines.
const NOT_YET: &[&str] = &[
    "emit/rust.rs",
    "emit/prism.rs",
    "emit/wiretest.rs",
    // `cargo xtask release`, merged after the long functions were split.
    "release.rs",
];

/// The source with comments, strings and character literals replaced by
/// spaces (newlines kept), so only code braces remain.
fn blank(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out: Vec<char> = c.clone();
    let mut i = 0;
    let clear = |out: &mut Vec<char>, a: usize, b: usize| {
        for ch in out.iter_mut().take(b.min(c.len())).skip(a) {
            if *ch != '\n' {
                *ch = ' ';
            }
        }
    };
    let ident = |k: usize| k > 0 && (c[k - 1].is_alphanumeric() || c[k - 1] == '_');
    while i < c.len() {
        let end = if c[i] == '/' && c.get(i + 1) == Some(&'/') {
            (i..c.len()).find(|&k| c[k] == '\n').unwrap_or(c.len())
        } else if c[i] == '/' && c.get(i + 1) == Some(&'*') {
            (i + 2..c.len())
                .find(|&k| c[k] == '*' && c.get(k + 1) == Some(&'/'))
                .map_or(c.len(), |k| k + 2)
        } else if c[i] == 'r' && !ident(i) && matches!(c.get(i + 1), Some('"' | '#')) {
            let hashes = c[i + 1..].iter().take_while(|&&h| h == '#').count();
            if c.get(i + 1 + hashes) != Some(&'"') {
                i += 1;
                continue;
            }
            let close: String = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
            let from = i + 2 + hashes;
            let rest: String = c[from..].iter().collect();
            rest.find(&close)
                .map_or(c.len(), |k| from + rest[..k].chars().count() + close.chars().count())
        } else if c[i] == '"' {
            let mut k = i + 1;
            while k < c.len() && c[k] != '"' {
                k += if c[k] == '\\' { 2 } else { 1 };
            }
            k + 1
        } else if c[i] == '\'' {
            // A character literal ('a', '\n', '\u{1F}'), not a lifetime ('a).
            match (c.get(i + 1), c.get(i + 2)) {
                (Some('\\'), _) => (i + 2..c.len()).find(|&k| c[k] == '\'').map_or(c.len(), |k| k + 1),
                (Some(_), Some('\'')) => i + 3,
                _ => {
                    i += 1;
                    continue;
                }
            }
        } else {
            i += 1;
            continue;
        };
        clear(&mut out, i, end);
        i = end;
    }
    out.into_iter().collect()
}

/// `(name, first line, lines)` of every function with a body, outside `#[cfg(test)]` modules.
fn functions(src: &str) -> Vec<(String, usize, usize)> {
    let code = blank(src);
    let b: Vec<char> = code.chars().collect();
    let line_of = |k: usize| b[..k].iter().filter(|&&ch| ch == '\n').count() + 1;
    let matching = |open: usize| {
        let mut depth = 0;
        (open..b.len()).find(|&k| {
            match b[k] {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            depth == 0
        })
    };
    let text: String = b.iter().collect();
    let mut skip: Vec<(usize, usize)> = Vec::new();
    for (at, _) in text.match_indices("#[cfg(test)]") {
        let chars = text[..at].chars().count();
        let rest = &b[chars..];
        let Some(open) = rest.iter().position(|&ch| ch == '{' || ch == ';') else {
            continue;
        };
        let head: String = rest[..open].iter().collect();
        if rest[open] == '{' && head.split_whitespace().any(|w| w == "mod") {
            if let Some(close) = matching(chars + open) {
                skip.push((chars, close));
            }
        }
    }
    let mut out = Vec::new();
    let mut k = 0;
    while k + 3 < b.len() {
        let is_fn = b[k..k + 3] == ['f', 'n', ' '] && (k == 0 || !(b[k - 1].is_alphanumeric() || b[k - 1] == '_'));
        if !is_fn || skip.iter().any(|&(a, z)| k >= a && k <= z) {
            k += 1;
            continue;
        }
        let name: String = b[k + 3..]
            .iter()
            .skip_while(|ch| ch.is_whitespace())
            .take_while(|ch| ch.is_alphanumeric() || **ch == '_')
            .collect();
        let Some(open) = (k..b.len()).find(|&j| b[j] == '{' || b[j] == ';') else {
            break;
        };
        if b[open] == '{' {
            if let Some(close) = matching(open) {
                out.push((name, line_of(k), line_of(close) - line_of(k) + 1));
            }
        }
        k += 3;
    }
    out
}

fn too_long(src: &str) -> Vec<(String, usize, usize)> {
    functions(src).into_iter().filter(|f| f.2 > MAX).collect()
}

#[test]
fn no_function_in_xtask_src_is_longer_than_80_lines() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    let mut checked = 0;
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            let rel = p.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
            if p.is_dir() {
                stack.push(p);
            } else if rel.ends_with(".rs") && !NOT_YET.contains(&rel.as_str()) {
                checked += 1;
                let text = std::fs::read_to_string(&p).unwrap();
                found.extend(
                    too_long(&text)
                        .into_iter()
                        .map(|(f, line, n)| format!("xtask/src/{rel}:{line}: fn {f} is {n} lines")),
                );
            }
        }
    }
    assert!(checked >= 15, "only {checked} files checked");
    assert!(
        found.is_empty(),
        "functions longer than {MAX} lines (split them into named steps):\n  {}",
        found.join("\n  ")
    );
}

#[test]
fn the_measure_counts_code_lines_only_and_skips_tests() {
    let body = |n: usize| (0..n - 2).map(|i| format!("    let _x{i} = 1;\n")).collect::<String>();
    let src = format!(
        "fn ok() {{\n{}}}\n\nfn long() {{\n{}}}\n\n// fn commented() {{ \n\
         fn strings() {{ let s = \"}}}}{{\"; let r = r#\"{{\"#; let c = '}}'; let l: &'static str = s; }}\n\
         #[cfg(test)]\nmod tests {{\n    fn huge() {{\n{}    }}\n}}\n",
        body(MAX),
        body(MAX + 1),
        body(200)
    );
    let all = functions(&src);
    let names: Vec<&str> = all.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(names, ["ok", "long", "strings"], "{all:?}");
    assert_eq!((all[0].2, all[1].2, all[2].2), (MAX, MAX + 1, 1));
    assert_eq!(too_long(&src), [("long".to_owned(), MAX + 2, MAX + 1)]);
}
