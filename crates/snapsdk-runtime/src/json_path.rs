//! The field path of a JSON decode error, found from where serde_json
//! stopped rather than by decoding a second time.
//!
//! A path-tracking decoder (such as `serde_path_to_error`) wraps the
//! deserializer, so every response type is compiled twice: once for the
//! plain decode and once for the wrapped one that explains a failure. Each
//! client paid that for every model. serde_json already says where it
//! stopped (line and column), so the path is read off the body up to that
//! point by one scanner that is compiled once, here.
//!
//! Where serde_json stops: a wrong value is reported just after the value
//! (or at its first byte, for an object or array it did not enter); a
//! missing field is reported after the object's closing brace. Scanning the
//! body up to that byte and keeping, at each open level, the key or index
//! being read gives the same path a path-tracking decoder prints:
//! `data[0].id`, or `.` for the document itself.

/// One open level of the document while scanning.
enum Level {
    /// An object; `key` is the member being read (set by its key, cleared by
    /// the comma after its value), `want_key` is true until the colon.
    Object { key: Option<String>, want_key: bool },
    /// An array; `index` is the element being read (cleared by the comma
    /// after it), `next` the one after it.
    Array { index: Option<usize>, next: usize },
}

/// The byte offset serde_json's `line` and `column` stand for: the start of
/// that (1-based) line plus the column, clamped to the body. `None` when the
/// error carries no position (line 0).
pub(crate) fn offset_of(body: &[u8], line: usize, column: usize) -> Option<usize> {
    if line == 0 {
        return None;
    }
    let mut start = 0;
    for _ in 1..line {
        match body[start..].iter().position(|&b| b == b'\n') {
            Some(i) => start += i + 1,
            None => return Some(body.len()),
        }
    }
    Some((start + column).min(body.len()))
}

/// How many bytes of `body` serde_json had read when it failed with `error`.
/// A wrong value is reported at the byte after it; a syntax error at the
/// byte after the one it looked at and refused, which was not read.
pub(crate) fn stop_of(body: &[u8], error: &serde_json::Error) -> usize {
    let at = offset_of(body, error.line(), error.column()).unwrap_or(0);
    match error.classify() {
        serde_json::error::Category::Syntax => at.saturating_sub(1),
        _ => at,
    }
}

/// The path of the value being read when `end` bytes of `body` had been
/// read, in `serde_path_to_error`'s form: `.` for the document,
/// `items[2].name` below it.
pub(crate) fn path_at(body: &[u8], end: usize) -> String {
    let body = &body[..end.min(body.len())];
    let mut levels: Vec<Level> = Vec::new();
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        match b {
            b'{' | b'[' => {
                start_value(&mut levels);
                levels.push(if b == b'{' {
                    Level::Object {
                        key: None,
                        want_key: true,
                    }
                } else {
                    Level::Array { index: None, next: 0 }
                });
                i += 1;
            }
            b'}' | b']' => {
                levels.pop();
                i += 1;
            }
            b',' => {
                match levels.last_mut() {
                    Some(Level::Object { key, want_key }) => {
                        *key = None;
                        *want_key = true;
                    }
                    Some(Level::Array { index, .. }) => *index = None,
                    None => {}
                }
                i += 1;
            }
            b':' => {
                if let Some(Level::Object { want_key, .. }) = levels.last_mut() {
                    *want_key = false;
                }
                i += 1;
            }
            b'"' => {
                let close = string_end(body, i);
                if let Some(Level::Object { key, want_key: true }) = levels.last_mut() {
                    *key = Some(unescape(&body[i..close]));
                } else {
                    start_value(&mut levels);
                }
                i = close;
            }
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            _ => {
                // A number or a literal: it runs to the next delimiter.
                start_value(&mut levels);
                i += body[i..]
                    .iter()
                    .position(|b| matches!(b, b',' | b']' | b'}' | b':' | b'"' | b' ' | b'\t' | b'\n' | b'\r'))
                    .unwrap_or(body.len() - i)
                    .max(1);
            }
        }
    }
    render(&levels)
}

/// A value starts: in an array, it is the next element.
fn start_value(levels: &mut [Level]) {
    if let Some(Level::Array { index, next }) = levels.last_mut() {
        *index = Some(*next);
        *next += 1;
    }
}

/// The index just past the string that opens at `open` (or the end of what
/// was read, for a string cut short).
fn string_end(body: &[u8], open: usize) -> usize {
    let mut i = open + 1;
    while i < body.len() {
        match body[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    body.len()
}

/// A key as text: its JSON escapes decoded where they are whole, else the
/// bytes between the quotes as they are.
fn unescape(quoted: &[u8]) -> String {
    match serde_json::from_slice::<String>(quoted) {
        Ok(key) => key,
        Err(_) => {
            let inner = quoted.strip_prefix(b"\"").unwrap_or(quoted);
            let inner = inner.strip_suffix(b"\"").unwrap_or(inner);
            String::from_utf8_lossy(inner).into_owned()
        }
    }
}

fn render(levels: &[Level]) -> String {
    let mut path = String::new();
    for level in levels {
        match level {
            // A key read but its colon not yet: the error is about the key
            // itself (an unknown enum variant written as `{"name": ...}`),
            // so the path is the object's.
            Level::Object {
                key: Some(key),
                want_key: false,
            } => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            // Between elements, the decoder is already reading the next one
            // (a value it refuses at its first byte is reported there).
            Level::Array { index, next } => {
                path.push('[');
                path.push_str(&index.unwrap_or(*next).to_string());
                path.push(']');
            }
            // A level with no member open yet ends the path: nothing below
            // it has started.
            _ => break,
        }
    }
    if path.is_empty() {
        path.push('.');
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(body: &str, marker: &str) -> String {
        let end = body.find(marker).unwrap();
        path_at(body.as_bytes(), end)
    }

    #[test]
    fn paths_follow_objects_arrays_and_commas() {
        let body = r#"{"a": [1, {"b": "x", "c d": 2}], "e\"f": {"g": [[3]]}}"#;
        assert_eq!(path_at(body.as_bytes(), 0), ".");
        assert_eq!(at(body, ", {"), "a[0]");
        assert_eq!(at(body, ", \"c d\""), "a[1].b");
        assert_eq!(at(body, "}], "), "a[1].c d");
        assert_eq!(at(body, "]]}}"), "e\"f.g[0][0]");
        // After the comma, no member is open: the path is the container's.
        assert_eq!(at(body, " \"e"), ".");
        assert_eq!(path_at(body.as_bytes(), body.len()), ".");
        // Stopped on a key, before its colon: the object's path.
        assert_eq!(at(body, ": {\"g\""), ".");
        assert_eq!(at(body, ": [1"), ".");
        assert_eq!(at(body, ": \"x\""), "a[1]");
        // Stopped at the first byte of an element: that element's path.
        assert_eq!(at(body, "1, {"), "a[0]");
        assert_eq!(at(body, "{\"b\""), "a[1]");
    }

    #[test]
    fn a_string_value_with_delimiters_inside_is_one_value() {
        let body = r#"[" ,]}{[\" ", 7]"#;
        assert_eq!(at(body, ", 7"), "[0]");
        assert_eq!(at(body, "]"), "[0]");
        assert_eq!(path_at(body.as_bytes(), body.len() - 1), "[1]");
    }

    #[test]
    fn offsets_count_lines_and_columns_as_serde_json_does() {
        let body = b"{\n  \"a\": 1,\n  \"b\": x\n}";
        let err = serde_json::from_slice::<serde_json::Value>(body).unwrap_err();
        let end = offset_of(body, err.line(), err.column()).unwrap();
        assert_eq!(path_at(body, end), "b");
        assert_eq!(offset_of(body, 0, 0), None);
        assert_eq!(offset_of(body, 99, 0), Some(body.len()));
    }

    #[test]
    fn cut_and_broken_bodies_do_not_panic() {
        for body in ["", "\"", "{\"a", "[\"\\", "{\"a\":", "]]]}}}", "{,:,}", "\"\\u12"] {
            for end in 0..=body.len() + 2 {
                let _ = path_at(body.as_bytes(), end);
            }
        }
    }
}
