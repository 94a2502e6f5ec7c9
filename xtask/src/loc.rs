//! Maps YAML node paths (`operations[2].params[0].name`) to line and column.
//!
//! serde_yaml gives no spans for values, so semantic errors found after
//! parsing look their place up here. The path syntax matches what
//! `serde_path_to_error` prints.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

#[derive(Debug, Default)]
pub struct LocIndex {
    /// Where each node's value starts.
    values: HashMap<String, (usize, usize)>,
    /// Where each mapping key starts (`path.key`).
    keys: HashMap<String, (usize, usize)>,
}

enum Frame {
    Map { path: String, key: Option<String> },
    Seq { path: String, next: usize },
}

struct Builder {
    index: LocIndex,
    stack: Vec<Frame>,
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

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let pos = (mark.line(), mark.col() + 1);
        match ev {
            Event::Scalar(value, ..) => {
                if let Some(p) = self.next_path(Some(&value), pos) {
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
        let mut b = Builder { index: LocIndex::default(), stack: Vec::new() };
        let mut parser = Parser::new_from_str(source);
        parser.load(&mut b, false).map_err(|e| SyntaxError {
            line: e.marker().line(),
            col: e.marker().col() + 1,
            message: e.info().to_owned(),
        })?;
        Ok(b.index)
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
}
