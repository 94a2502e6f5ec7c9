//! The naming layer: wire names become Rust identifiers here and only here.

use heck::{ToSnakeCase, ToUpperCamelCase};

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false", "fn",
    "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self",
    "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while", "abstract",
    "become", "box", "do", "final", "macro", "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// Names generated code already uses at the crate root or in method scope.
/// (Includes the runtime items each crate re-exports at its root.)
pub const RESERVED_TYPES: &[&str] = &[
    "Client", "ClientBuilder", "Error", "Result", "Option", "Vec", "String", "Box", "Alternatives", "ApiError", "ByteStream",
    "DecodeError", "FilePart", "NaiveDate", "Paginator", "RateLimit", "RequestOptions", "Response", "RetryConfig", "StatusCode",
    "Timestamp", "Timeouts",
];

fn escape(mut s: String) -> String {
    if s.is_empty() {
        s.push_str("value");
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, 'n');
    }
    if KEYWORDS.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// Methods and fields every request builder has; a parameter may not take their names.
const BUILDER_MEMBERS: &[&str] = &["options", "send", "send_raw", "send_as", "into_stream", "request", "new", "rt_client", "rt_options"];

/// `widgetId` → `widget_id`, `id-or-email` → `id_or_email`, `type` → `type_`.
pub fn snake(wire: &str) -> String {
    let cleaned: String = wire.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    escape(cleaned.to_snake_case())
}

/// A parameter's Rust name: [`snake`], also stepping around the builder's own members.
pub fn param(wire: &str) -> String {
    let mut s = snake(wire);
    if BUILDER_MEMBERS.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// `chat_started` → `ChatStarted`, `1` → `N1`, `self` → `Self_`.
pub fn pascal(wire: &str) -> String {
    let cleaned: String = wire.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    let mut s = cleaned.to_upper_camel_case();
    if s.is_empty() {
        s.push_str("Value");
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, 'N');
    }
    if KEYWORDS.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

pub fn is_snake_ident(s: &str) -> bool {
    !s.is_empty()
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

pub fn is_pascal_ident(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase()) && s.chars().all(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_become_identifiers() {
        assert_eq!(snake("widgetId"), "widget_id");
        assert_eq!(snake("id-or-email"), "id_or_email");
        assert_eq!(snake("type"), "type_");
        assert_eq!(snake("self"), "self_");
        assert_eq!(snake("2fa"), "n2fa");
        assert_eq!(snake("short_url"), "short_url");
        assert_eq!(param("options"), "options_");
        assert_eq!(param("client"), "client");
        assert_eq!(pascal("agent"), "Agent");
        assert_eq!(pascal("1"), "N1");
        assert_eq!(pascal("in-progress"), "InProgress");
        assert_eq!(pascal("self"), "Self_");
    }
}
