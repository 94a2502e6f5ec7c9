//! Path, query and form encoding.

use std::fmt::Display;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Serialize;

use crate::Error;

/// RFC 3986's `pchar` goes out as it is: unreserved (`A-Z a-z 0-9 - . _ ~`),
/// the sub-delims `! $ & ' ( ) * + , ; =`, `:` and `@`. Everything else is
/// escaped, so a value is always exactly one path segment: `/`, `?`, `#`,
/// `%`, spaces, other ASCII and non-ASCII all come out percent-encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@');

/// Which bytes are ASCII `pchar`s (sent unescaped in a path segment): a
/// table, read once per byte of every path parameter of every call.
static PCHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    // The characters `SEGMENT` removes from `NON_ALPHANUMERIC`.
    let others = b"-._~!$&'()*+,;=:@";
    let mut i = 0;
    while i < others.len() {
        table[others[i] as usize] = true;
        i += 1;
    }
    table
};

/// Whether `b` is an ASCII `pchar` (sent unescaped in a path segment).
fn is_pchar(b: u8) -> bool {
    PCHAR[b as usize]
}

/// Encode one path parameter as exactly one segment. RFC 3986's `pchar`
/// goes out as it is (letters, digits, `-._~`, the sub-delims
/// `!$&'()*+,;=`, `:` and `@`, so `a@b.com` stays `a@b.com`); everything
/// else is percent-encoded (`/`, `?`, `#`, `%`, spaces, non-ASCII).
///
/// Empty values and the dot segments `.` and `..` (which URL parsers would
/// resolve away, even percent-encoded) are refused before anything is sent.
pub fn path_segment(operation: &'static str, name: &str, value: &impl Display) -> Result<String, Error> {
    let raw = value.to_string();
    if raw.is_empty() {
        return Err(Error::invalid(
            operation,
            name,
            "must not be empty: it is a path segment",
        ));
    }
    if raw == "." || raw == ".." {
        return Err(Error::invalid(
            operation,
            name,
            "cannot be `.` or `..`: it would change the path",
        ));
    }
    // Most values (ids, slugs, e-mail addresses) need no escaping: hand them back without re-encoding.
    if raw.bytes().all(is_pchar) {
        return Ok(raw);
    }
    Ok(utf8_percent_encode(&raw, SEGMENT).to_string())
}

/// `application/x-www-form-urlencoded` encoding of a flat struct (query strings and forms).
pub fn form<T: Serialize>(operation: &'static str, value: &T) -> Result<String, Error> {
    serde_urlencoded::to_string(value).map_err(|e| Error::invalid(operation, "query", e.to_string()))
}

/// The JSON text of a value, as one form field, multipart field or query
/// value (a spec's `json_list<T>`: `["a","b"]`).
///
/// # Errors
///
/// [`Error::InvalidArgument`] naming the field when the value cannot be
/// written as JSON (a map with non-string keys, a float that is not finite).
pub fn json_text<T: Serialize + ?Sized>(operation: &'static str, name: &str, value: &T) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| Error::invalid(operation, name, format!("cannot be written as JSON: {e}")))
}

/// A header parameter's value.
pub fn header_value(operation: &'static str, name: &str, value: &impl Display) -> Result<http::HeaderValue, Error> {
    http::HeaderValue::from_str(&value.to_string())
        .map_err(|_| Error::invalid(operation, name, "contains characters a header cannot carry"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_single_and_reversible() {
        for raw in ["../etc", "a/b", "q?x", "h#f", "50%", "a b", "ünï", "a+b", "id-1_2.3~"] {
            let enc = path_segment("op", "id", &raw).unwrap();
            assert!(!enc.contains('/') && !enc.contains('?') && !enc.contains('#'), "{enc}");
            let back = percent_encoding::percent_decode_str(&enc).decode_utf8().unwrap();
            assert_eq!(back, raw);
        }
        assert_eq!(path_segment("op", "id", &"a b+c").unwrap(), "a%20b+c");
    }

    /// Every ASCII character: exactly the `pchar` set goes out raw, the rest
    /// as `%XX`; non-ASCII always as its UTF-8 bytes.
    #[test]
    fn segments_escape_everything_but_pchar() {
        let raw_ok = "ABCXYZabcxyz0189-._~!$&'()*+,;=:@";
        for b in 0u8..=127 {
            let c = b as char;
            let value = format!("x{c}");
            let enc = path_segment("op", "id", &value).unwrap();
            let pchar = c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@".contains(c);
            let want = if pchar { value.clone() } else { format!("x%{b:02X}") };
            assert_eq!(enc, want, "{c:?}");
        }
        for c in raw_ok.chars() {
            assert!(is_pchar(c as u8), "{c:?}");
        }
        // No byte of a multi-byte character is sent raw.
        assert!((128..=255u8).all(|b| !is_pchar(b)));
        for c in [
            '/', '?', '#', '%', ' ', '"', '<', '>', '\\', '^', '`', '{', '|', '}', '[', ']', '\x7f', '\n',
        ] {
            assert!(path_segment("op", "id", &c).unwrap().starts_with('%'), "{c:?}");
        }
        assert_eq!(path_segment("op", "id", &"a@b.com").unwrap(), "a@b.com");
        assert_eq!(
            path_segment("op", "id", &"k:v;p=1,q=(2)*!$&'+").unwrap(),
            "k:v;p=1,q=(2)*!$&'+"
        );
        assert_eq!(path_segment("op", "id", &"é").unwrap(), "%C3%A9");
        assert_eq!(
            path_segment("op", "id", &"a\u{2028}€𝄞").unwrap(),
            "a%E2%80%A8%E2%82%AC%F0%9D%84%9E"
        );
        assert_eq!(path_segment("op", "id", &"..a").unwrap(), "..a");
        assert_eq!(path_segment("op", "id", &"../").unwrap(), "..%2F");
        assert_eq!(path_segment("op", "id", &"%2e%2e").unwrap(), "%252e%252e");
    }

    #[test]
    fn json_text_is_the_json_of_the_list_and_fails_with_the_field_name() {
        assert_eq!(
            json_text("op", "tags", &vec!["sync", "a\"b"]).unwrap(),
            r#"["sync","a\"b"]"#
        );
        assert_eq!(json_text("op", "tags", &Vec::<String>::new()).unwrap(), "[]");
        let mut bad = std::collections::HashMap::new();
        bad.insert(vec![1], 2);
        let err = json_text("update_tags", "scores", &bad).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidArgument { name, .. } if name == "scores"),
            "{err}"
        );
    }

    #[test]
    fn empty_and_dot_segments_are_refused() {
        for bad in ["", ".", ".."] {
            let err = path_segment("get_thing", "id", &bad).unwrap_err();
            assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
        }
    }
}
