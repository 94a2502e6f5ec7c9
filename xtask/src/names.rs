//! The naming layer: wire names become Rust identifiers here and only here.

use heck::{ToSnakeCase, ToUpperCamelCase};

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false", "fn",
    "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self",
    "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while", "abstract",
    "become", "box", "do", "final", "macro", "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// Type names a model or request builder may not take: the crate root's own
/// items and runtime re-exports, and the prelude names the generated code
/// spells unqualified (`Option`, `Some`, `Ok`, `AsRef`, ...). `From` and `Into`
/// are free: generated code writes them as `::std::convert::From`.
pub const RESERVED_TYPES: &[&str] = &[
    // Imported by name into the generated files (`use snapsdk_runtime::...`, `use serde::...`).
    "OperationInfo",
    "AuthRequirement",
    "Request",
    "Body",
    "Multipart",
    "Method",
    "HeaderName",
    "Credentials",
    "VendorInfo",
    "Duration",
    "BTreeMap",
    "Serialize",
    "Deserialize",
    "Client",
    "ClientBuilder",
    "Error",
    "Result",
    "Option",
    "Vec",
    "String",
    "Box",
    "Some",
    "None",
    "Ok",
    "Err",
    "Send",
    "Sync",
    "Sized",
    "AsRef",
    "ToString",
    "ToOwned",
    "Clone",
    "Default",
    "Iterator",
    "IntoIterator",
    "Alternatives",
    "ApiError",
    "ByteStream",
    "DecodeError",
    "FilePart",
    "RateLimit",
    "RequestOptions",
    "Response",
    "RetryConfig",
    "Timestamp",
    "Timeouts",
    "NaiveDate",
    "VENDOR",
    "Paginator",
    "StatusCode",
    "Attempts",
    "StopReason",
    "Interceptor",
];

/// Methods of the generated `Client`; a group accessor may not take their names.
pub const CLIENT_METHODS: &[&str] = &["builder", "base_url", "clear_hold_off"];

/// Whether the generated `ClientBuilder` has a method `name` of its own (an
/// option it forwards, or `build`); an auth scheme's method may not take it.
/// The list is the one table in [`crate::emit::rust::builder`].
pub fn is_client_builder_method(name: &str) -> bool {
    crate::emit::rust::builder::method_names().any(|m| m == name)
}

/// An operation id (already snake_case) as a Rust identifier: `type` → `type_`.
/// Test functions and anything else that must be unique across groups use this.
pub fn op_ident(id: &str) -> String {
    if KEYWORDS.contains(&id) {
        format!("{id}_")
    } else {
        id.to_owned()
    }
}

/// An operation's method on its group, without what the group already says:
/// `faqs` + `create_faq` → `create`, `company_streams` + `list_company_stream_events`
/// → `list_events`, `accounts` + `list_staff` → `list_staff`.
///
/// The rule, in full: split the id and the group into `_` words, compare words
/// in their singular form (`faqs` = `faq`, `categories` = `category`), and drop
/// the first longest run of id words that matches a run of group words ending
/// with the group's last word (`company_streams` drops `company_stream` or
/// `stream`, never `company` alone). The id is kept whole when nothing matches,
/// or when what is left would be empty, start with a digit or be a keyword
/// (`move_item` stays `move_item`, not `move_`). Two operations of one group
/// that end up with the same method are refused by validation.
pub fn method(group: &str, id: &str) -> String {
    op_ident(&strip_group(group, id).unwrap_or_else(|| id.to_owned()))
}

/// The id without its group's words, if the rule in [`method`] drops any.
fn strip_group(group: &str, id: &str) -> Option<String> {
    let g: Vec<String> = snake(group)
        .trim_end_matches('_')
        .split('_')
        .filter(|w| !w.is_empty())
        .map(singular)
        .collect();
    let words: Vec<&str> = id.split('_').collect();
    // Longest run first: a run of k group words is g[len-k..].
    for k in (1..=g.len()).rev() {
        let run = &g[g.len() - k..];
        let at = (0..=words.len().saturating_sub(k))
            .find(|&i| words.len() >= k && words[i..i + k].iter().zip(run).all(|(w, r)| singular(w) == *r));
        if let Some(i) = at {
            let rest: Vec<&str> = words[..i].iter().chain(&words[i + k..]).copied().collect();
            let rest = rest.join("_");
            let usable = !rest.is_empty()
                && !rest.starts_with(|c: char| c.is_ascii_digit() || c == '_')
                && !KEYWORDS.contains(&rest.as_str());
            return usable.then_some(rest);
        }
    }
    None
}

/// An English word's singular, as far as API nouns need it: `faqs` → `faq`,
/// `categories` → `category`, `statuses` → `status`, `status` → `status`.
fn singular(w: &str) -> String {
    if let Some(stem) = w.strip_suffix("ies").filter(|s| !s.is_empty()) {
        format!("{stem}y")
    } else if let Some(stem) = w
        .strip_suffix("sses")
        .or_else(|| w.strip_suffix("uses"))
        .or_else(|| w.strip_suffix("xes"))
    {
        format!("{stem}{}", &w[stem.len()..w.len() - 2])
    } else if w.ends_with("ss") || w.ends_with("us") || w.len() < 3 {
        w.to_owned()
    } else {
        w.strip_suffix('s').unwrap_or(w).to_owned()
    }
}

/// A group's type in the crate root: `chat` → `ChatApi`, `self` → `SelfApi`.
pub fn group_type(group: &str) -> String {
    format!("{}Api", pascal(group).trim_end_matches('_'))
}

/// Whether `s` is a Rust keyword (strict, reserved or weak), which cannot name an item as written.
pub fn is_keyword(s: &str) -> bool {
    KEYWORDS.contains(&s)
}

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
const BUILDER_MEMBERS: &[&str] = &[
    "options",
    "send",
    "send_raw",
    "send_as",
    "into_stream",
    "request",
    "new",
    "rt_client",
    "rt_call",
];

/// `widgetId` → `widget_id`, `id-or-email` → `id_or_email`, `type` → `type_`.
pub fn snake(wire: &str) -> String {
    let cleaned: String = wire
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
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
    let cleaned: String = wire
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
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

/// Package names a generated crate may not take: the workspace's hand-written
/// members and folders, and the crates every generated crate depends on.
/// `regen` also refuses the package names it finds in the workspace at run time.
pub const TAKEN_CRATE_NAMES: &[&str] = &[
    "snapsdk-runtime",
    "xtask",
    "bench",
    "tests",
    "integration-tests",
    "specs",
    "tools",
    "serde",
    "serde_json",
    "tokio",
    "wiremock",
    "serde_urlencoded",
    "reqwest",
];

/// Names cargo refuses for a package (its lib target would shadow a sysroot
/// crate, or the name is one of its own output folders).
const CARGO_RESERVED: &[&str] = &[
    "test",
    "std",
    "core",
    "alloc",
    "proc_macro",
    "proc-macro",
    "deps",
    "examples",
    "build",
    "incremental",
];

/// Crate names that are the same package to cargo and crates.io (`-` and `_` are one).
pub fn crate_key(name: &str) -> String {
    name.replace('-', "_")
}

/// Whether cargo accepts `name` as a registry name (`[registries.NAME]`,
/// `publish = [...]`, `--registry NAME`): non-empty, ASCII letters, digits, `-` and `_`.
pub fn registry_name_ok(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Why cargo (or this generator) cannot use `name` as a generated crate's name, if it cannot.
pub fn crate_name_problem(name: &str) -> Option<String> {
    let lib = crate_key(name);
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Some("must start with a lowercase letter".into());
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        return Some("may contain only lowercase letters, digits, `-` and `_`".into());
    }
    if name.ends_with(['-', '_'])
        || name.contains("--")
        || name.contains("__")
        || name.contains("-_")
        || name.contains("_-")
    {
        return Some("ends with `-` or `_`, or has two in a row (they must separate words)".into());
    }
    if name.len() > 64 {
        return Some("is longer than 64 characters (crates.io's limit)".into());
    }
    if KEYWORDS.contains(&lib.as_str()) || CARGO_RESERVED.contains(&name) || CARGO_RESERVED.contains(&lib.as_str()) {
        return Some("is reserved by Rust or cargo".into());
    }
    // The library name the emitters use in `use <crate>::Client` must be cargo's.
    if snake(name) != lib {
        return Some(format!(
            "its library name `{lib}` does not survive case conversion (it becomes `{}`)",
            snake(name)
        ));
    }
    None
}

/// The candidate closest to `name` (case-insensitive edit distance), if it is close enough to be a typo.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let a: Vec<char> = name.to_lowercase().chars().collect();
    let distance = |b: &str| {
        let b: Vec<char> = b.to_lowercase().chars().collect();
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.iter().enumerate() {
            let mut prev = row[0];
            row[0] = i + 1;
            for (j, cb) in b.iter().enumerate() {
                let cur = row[j + 1];
                row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
                prev = cur;
            }
        }
        row[b.len()]
    };
    candidates
        .into_iter()
        .map(|c| (distance(c), c))
        .filter(|(d, c)| *d <= (name.len().max(c.len()) / 3).max(2))
        .min()
        .map(|(_, c)| c)
}

pub fn is_snake_ident(s: &str) -> bool {
    !s.is_empty()
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
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
        assert_eq!(op_ident("type"), "type_");
        assert_eq!(group_type("self"), "SelfApi");
    }

    #[test]
    fn methods_drop_what_the_group_says() {
        let cases = [
            ("faqs", "create_faq", "create"),
            ("faqs", "list_faqs", "list"),
            ("faqs", "list_faq_questions", "list_questions"),
            ("faqs", "search_faqs", "search"),
            ("accounts", "list_accounts", "list"),
            ("accounts", "list_staff", "list_staff"),
            ("accounts", "get_contact", "get_contact"),
            ("company_streams", "list_company_streams", "list"),
            ("company_streams", "list_company_stream_events", "list_events"),
            ("company_streams", "create_stream", "create"),
            ("company_teams", "add_company_team_user", "add_user"),
            ("booking_pages", "get_booking_page_public_info", "get_public_info"),
            ("admin", "admin_list_streams", "list_streams"),
            ("tickets", "list_account_inbox_tickets", "list_account_inbox"),
            ("categories", "get_category", "get"),
            ("statuses", "get_status", "get"),
            ("chat", "check_widget_availability", "check_widget_availability"),
            ("chat", "start_chat", "start"),
        ];
        for (group, id, want) in cases {
            assert_eq!(method(group, id), want, "{group} / {id}");
        }
    }

    #[test]
    fn methods_keep_the_id_when_the_strip_leaves_no_usable_name() {
        // Nothing left, a leading digit, a keyword: the id is kept whole.
        assert_eq!(method("chat", "chat"), "chat");
        assert_eq!(method("things", "things_2fa"), "things_2fa");
        assert_eq!(method("items", "move_item"), "move_item");
        assert_eq!(method("types", "type"), "type_");
        // `company` alone is not the group's noun.
        assert_eq!(method("company_streams", "list_company_users"), "list_company_users");
        // Only the first run is dropped.
        assert_eq!(method("faqs", "copy_faq_to_faq"), "copy_to_faq");
    }

    #[test]
    fn stripped_methods_can_collide_and_validation_sees_it() {
        // Two ids of one group that differ only in the group's word: the same method.
        assert_eq!(method("faqs", "list_faqs"), method("faqs", "list_faq"));
        assert_eq!(method("faqs", "get"), method("faqs", "get_faq"));
        // Different groups may share a method: each lives on its own group type.
        assert_eq!(method("faqs", "list_faqs"), method("accounts", "list_accounts"));
    }

    #[test]
    fn typos_find_the_name_meant() {
        let known = ["Contact", "Ticket", "TicketRef"];
        assert_eq!(closest("Contcat", known), Some("Contact"));
        assert_eq!(closest("ticket", known), Some("Ticket"));
        assert_eq!(closest("Tickets", known), Some("Ticket"));
        assert_eq!(closest("Invoice", known), None);
    }

    #[test]
    fn crate_names_follow_cargo() {
        for ok in ["snapengage", "acme-chat", "a1", "x-2"] {
            assert_eq!(crate_name_problem(ok), None, "{ok}");
        }
        for bad in [
            "1abc", "test", "std", "core", "self", "await", "__", "a--b", "a-", "Caps", "deps", "",
        ] {
            assert!(crate_name_problem(bad).is_some(), "{bad}");
        }
    }
}
