//! Maps YAML node paths (`operations[2].params[0].name`) to line and column.
//!
//! serde_yaml gives no spans for values, so semantic errors found after
//! parsing look their place up here. The path syntax matches what
//! `serde_path_to_error` prints.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

#[derive(Debug, Default)]
pub struct LocIndex {
    /// Where each node's value starts.
    values: HashMap<String, (usize, usize)>,
    /// Where each mapping key starts (`path.key`).
    keys: HashMap<String, (usize, usize)>,
    /// Plain (unquoted) one-line scalars followed by ` #` on their line: YAML
    /// reads the rest as a comment. `(path, line, col of the '#')`.
    pub cut: Vec<(String, usize, usize)>,
}

enum Frame {
    Map { path: String, key: Option<String> },
    Seq { path: String, next: usize },
}

struct Builder {
    index: LocIndex,
    stack: Vec<Frame>,
    lines: Vec<Vec<char>>,
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

impl Builder {
    /// The path of the node that starts now, or None if it is a mapping key.
    fn next_path(&mut self, scalar: Option<&str>, pos: (usize, usize)) -> Option<String> {
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Seq { path, next }) => {
                let p = format!("{path}[{next}]");
                *next += 1;
                Some(p)
            }
            Some(Frame::Map { path, key }) => match key.take() {
                Some(k) => Some(join(path, &k)),
                None => {
                    let k = scalar.unwrap_or("?").to_owned();
                    // A block mapping "starts" at its first key, which is where a reader looks.
                    self.index.values.entry(path.clone()).or_insert(pos);
                    self.index.keys.insert(join(path, &k), pos);
                    *key = Some(k);
                    None
                }
            },
        }
    }
}

impl Builder {
    /// Column of a `#` comment right after the one-line plain scalar `value` at `pos`.
    fn comment_after(&self, value: &str, pos: (usize, usize)) -> Option<usize> {
        let line = self.lines.get(pos.0.checked_sub(1)?)?;
        let start = pos.1 - 1;
        let written: Vec<char> = value.chars().collect();
        if line.get(start..start + written.len())? != written.as_slice() {
            return None; // spans lines, or escapes differ: not a one-line scalar
        }
        let rest = &line[start + written.len()..];
        let ws = rest.iter().take_while(|c| **c == ' ' || **c == '\t').count();
        (ws > 0 && rest.get(ws) == Some(&'#')).then_some(start + written.len() + ws + 1)
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let pos = (mark.line(), mark.col() + 1);
        match ev {
            Event::Scalar(value, style, ..) => {
                if let Some(p) = self.next_path(Some(&value), pos) {
                    if style == TScalarStyle::Plain && !value.is_empty() {
                        if let Some(col) = self.comment_after(&value, pos) {
                            self.index.cut.push((p.clone(), pos.0, col));
                        }
                    }
                    self.index.values.entry(p).or_insert(pos);
                }
            }
            Event::Alias(_) => {
                if let Some(p) = self.next_path(Some("*alias"), pos) {
                    self.index.values.entry(p).or_insert(pos);
                }
            }
            Event::MappingStart(..) => {
                let path = self.next_path(None, pos).unwrap_or_default();
                self.stack.push(Frame::Map { path, key: None });
            }
            Event::SequenceStart(..) => {
                let path = self.next_path(None, pos).unwrap_or_default();
                self.index.values.entry(path.clone()).or_insert(pos);
                self.stack.push(Frame::Seq { path, next: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

/// A YAML syntax error with its position.
#[derive(Debug)]
pub struct SyntaxError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl LocIndex {
    pub fn build(source: &str) -> Result<LocIndex, SyntaxError> {
        let mut b = Builder {
            index: LocIndex::default(),
            stack: Vec::new(),
            lines: source.lines().map(|l| l.chars().collect()).collect(),
        };
        let mut parser = Parser::new_from_str(source);
        parser.load(&mut b, false).map_err(|e| {
            let (line, col) = clamp(source, e.marker().line(), e.marker().col() + 1);
            SyntaxError {
                line,
                col,
                message: e.info().to_owned(),
            }
        })?;
        // An empty value at the end of the file is marked past its last line.
        // (The file's shape is read once: clamping each of thousands of
        // positions by re-splitting the file made loading quadratic.)
        let mut index = b.index;
        let shape = Shape::of(source);
        for pos in index.values.values_mut().chain(index.keys.values_mut()) {
            *pos = shape.clamp(pos.0, pos.1);
        }
        Ok(index)
    }

    /// Position of the value at `path`, or of its nearest ancestor.
    pub fn value(&self, path: &str) -> (usize, usize) {
        let mut p = path.to_owned();
        loop {
            if let Some(pos) = self.values.get(&p) {
                return *pos;
            }
            match p.rfind(['.', '[']) {
                Some(i) => p.truncate(i),
                None => return self.values.get("").copied().unwrap_or((1, 1)),
            }
        }
    }

    /// Position of the key `path` (e.g. `vendor.crate.nmae`), or of the value if there is no such key.
    pub fn key(&self, path: &str) -> (usize, usize) {
        self.keys.get(path).copied().unwrap_or_else(|| self.value(path))
    }
}

/// A position inside `source`: an error "at the end of the file" is reported
/// after the last character of the last line, not on a line the file does not have.
pub fn clamp(source: &str, line: usize, col: usize) -> (usize, usize) {
    Shape::of(source).clamp(line, col)
}

/// What [`clamp`] needs to know of a file: its number of lines and the
/// length in characters of the last one.
struct Shape {
    lines: usize,
    last_len: usize,
}

impl Shape {
    fn of(source: &str) -> Shape {
        let mut shape = Shape { lines: 0, last_len: 0 };
        for l in source.lines() {
            shape.lines += 1;
            shape.last_len = l.chars().count();
        }
        shape
    }

    fn clamp(&self, line: usize, col: usize) -> (usize, usize) {
        match self.lines {
            0 => (1, 1),
            n if line > n => (n, self.last_len + 1),
            _ => (line.max(1), col.max(1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_to_positions() {
        let src = "vendor:\n  name: x\nops:\n  - id: a\n    params:\n      - name: p\n";
        let idx = LocIndex::build(src).unwrap();
        assert_eq!(idx.value("vendor.name"), (2, 9));
        assert_eq!(idx.key("vendor.name"), (2, 3));
        assert_eq!(idx.value("ops[0].params[0].name"), (6, 15));
        assert_eq!(idx.key("ops[0].params[0].name"), (6, 9));
        // Unknown paths fall back to the closest ancestor.
        assert_eq!(idx.value("ops[0].params[0].nope"), (6, 9));
    }

    #[test]
    fn a_plain_scalar_cut_by_a_comment_is_noticed() {
        let src = "a: Use C #1 first.\nb: 'quoted # kept'\nc: plain#kept\nd: |\n  block # kept\ne: [x #y\n  ]\nf: ok\n";
        let idx = LocIndex::build(src).unwrap();
        assert_eq!(idx.cut, vec![("a".to_owned(), 1, 10), ("e[0]".to_owned(), 6, 7)]);
    }

    #[test]
    fn a_truncated_file_is_reported_on_its_last_line() {
        let src = "a:\n  - b: [1, 2\n";
        let e = LocIndex::build(src).unwrap_err();
        assert_eq!((e.line, e.col), (2, 13), "{}", e.message);
        assert_eq!(clamp("x\nyz", 9, 1), (2, 3));
        // A key with no value on the last line: its (empty) value is on that line.
        let idx = LocIndex::build("a:\n  b:\n").unwrap();
        assert_eq!(idx.value("a.b"), (2, 5));
    }
}
