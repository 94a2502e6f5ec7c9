//! The validated model the emitters read. Built only from a spec set that
//! passed every check, so emitters never report errors.

pub use crate::spec::{AuthKind, BodyEncoding, ContentKind, HttpMethod, ParamLocation};

/// Why a type expression does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TyError {
    #[error("empty type")]
    Empty,
    #[error(
        "unknown type `{0}`; use string, integer, number, boolean, loose_bool, loose_int, \
         date, timestamp, alternatives, json, binary, list<T>, json_list<T>, map<T> or a PascalCase model name"
    )]
    Unknown(String),
}

/// A parsed type expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    String,
    Integer,
    Number,
    Boolean,
    LooseBool,
    LooseInt,
    Date,
    Timestamp,
    Alternatives,
    Json,
    Binary,
    List(Box<Ty>),
    Map(Box<Ty>),
    /// `json_list<T>`: a list the caller passes as a `Vec`, sent as one form
    /// field, multipart field or query parameter whose value is its JSON text
    /// (`["a","b"]`).
    JsonList(Box<Ty>),
    Model(String),
}

impl Ty {
    /// Parse `list<map<Foo>>`-style expressions. Model names are checked later.
    pub fn parse(s: &str) -> Result<Ty, TyError> {
        let s = s.trim();
        if let Some(inner) = strip_generic(s, "list") {
            return Ok(Ty::List(Box::new(Ty::parse(inner)?)));
        }
        if let Some(inner) = strip_generic(s, "json_list") {
            return Ok(Ty::JsonList(Box::new(Ty::parse(inner)?)));
        }
        if let Some(inner) = strip_generic(s, "map") {
            return Ok(Ty::Map(Box::new(Ty::parse(inner)?)));
        }
        Ok(match s {
            "string" => Ty::String,
            "integer" => Ty::Integer,
            "number" => Ty::Number,
            "boolean" => Ty::Boolean,
            "loose_bool" => Ty::LooseBool,
            "loose_int" => Ty::LooseInt,
            "date" => Ty::Date,
            "timestamp" => Ty::Timestamp,
            "alternatives" => Ty::Alternatives,
            "json" => Ty::Json,
            "binary" => Ty::Binary,
            "" => return Err(TyError::Empty),
            other
                if other.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                    && other.chars().all(|c| c.is_ascii_alphanumeric()) =>
            {
                Ty::Model(other.to_owned())
            }
            other => return Err(TyError::Unknown(other.to_owned())),
        })
    }

    /// Models named anywhere in this type.
    pub fn models(&self) -> Vec<&str> {
        match self {
            Ty::Model(m) => vec![m.as_str()],
            Ty::List(t) | Ty::Map(t) | Ty::JsonList(t) => t.models(),
            _ => Vec::new(),
        }
    }
}

/// The type as the spec writes it: `list<Ticket>`, `json_list<integer>`.
impl std::fmt::Display for Ty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scalar = match self {
            Ty::String => "string",
            Ty::Integer => "integer",
            Ty::Number => "number",
            Ty::Boolean => "boolean",
            Ty::LooseBool => "loose_bool",
            Ty::LooseInt => "loose_int",
            Ty::Date => "date",
            Ty::Timestamp => "timestamp",
            Ty::Alternatives => "alternatives",
            Ty::Json => "json",
            Ty::Binary => "binary",
            Ty::List(t) => return write!(f, "list<{t}>"),
            Ty::Map(t) => return write!(f, "map<{t}>"),
            Ty::JsonList(t) => return write!(f, "json_list<{t}>"),
            Ty::Model(m) => m,
        };
        f.write_str(scalar)
    }
}

fn strip_generic<'a>(s: &'a str, name: &str) -> Option<&'a str> {
    s.strip_prefix(name)?.trim_start().strip_prefix('<')?.strip_suffix('>')
}

#[derive(Debug, Clone)]
pub struct Api {
    pub vendor: Vendor,
    /// Sorted by group, then id.
    pub operations: Vec<Operation>,
    /// Sorted by name.
    pub models: Vec<Model>,
}

#[derive(Debug, Clone)]
pub struct Vendor {
    pub name: String,
    pub title: String,
    pub crate_name: String,
    pub version: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub categories: Vec<String>,
    pub publish: bool,
    /// The only registries it may be published to (`publish = [...]`);
    /// empty: any (or none when `publish` is false).
    pub registries: Vec<String>,
    /// Folder (relative to the workspace root) the crate is generated into.
    pub crate_dir: String,
    /// The spec folder, as shown in headers (`specs/snapengage/`).
    pub spec_dir: String,
    pub base_url: String,
    pub schemes: Vec<Scheme>,
    pub default_auth: Vec<String>,
    pub rate_limit: Option<RateLimit>,
    pub sources: Vec<Source>,
    /// Wire names redacted from `Debug` wherever they occur.
    pub sensitive_fields: Vec<String>,
    pub notes: Vec<String>,
    /// Operation ids the quick start calls, in order (validated to exist).
    pub quick_start: Vec<String>,
    /// The operation the polling example calls (validated to exist).
    pub poll_example: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Scheme {
    pub id: String,
    pub kind: AuthKind,
    pub header: Option<String>,
    pub password: Option<String>,
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct RateLimit {
    pub requests: u32,
    pub per_seconds: u32,
    pub source: SourceRef,
}

#[derive(Debug, Clone)]
pub struct Source {
    pub id: String,
    pub file: String,
    pub title: String,
    /// How the document marks its headings (`vendor.sources[].headings`).
    pub headings: Option<crate::spec::Headings>,
}

#[derive(Debug, Clone)]
pub struct SourceRef {
    pub file: String,
    pub section: String,
    pub inferred: Option<String>,
}

impl SourceRef {
    pub fn cite(&self) -> String {
        format!("{} § \"{}\"", self.file, self.section)
    }
}

#[derive(Debug, Clone)]
pub enum Auth {
    None,
    Schemes(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub id: String,
    pub group: String,
    pub summary: String,
    pub description: Option<String>,
    pub source: SourceRef,
    pub method: HttpMethod,
    pub path: String,
    pub auth: Auth,
    pub params: Vec<Param>,
    pub body: Option<Body>,
    pub success: Response,
    pub responses: Vec<Response>,
    pub pagination: Option<Pagination>,
    pub retryable: bool,
    pub notes: Vec<String>,
}

impl Operation {
    pub fn params_in(&self, loc: ParamLocation) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(move |p| p.location == loc)
    }

    /// Path literals and parameter names in order: `/a/{b}/c` → [Lit("/a/"), Param("b"), Lit("/c")].
    pub fn path_parts(&self) -> Vec<PathPart<'_>> {
        let mut out = Vec::new();
        let mut rest = self.path.as_str();
        while let Some(start) = rest.find('{') {
            let end = rest[start..].find('}').map(|e| start + e).unwrap_or(rest.len());
            if start > 0 {
                out.push(PathPart::Lit(&rest[..start]));
            }
            out.push(PathPart::Param(&rest[start + 1..end]));
            rest = rest.get(end + 1..).unwrap_or("");
        }
        if !rest.is_empty() {
            out.push(PathPart::Lit(rest));
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathPart<'a> {
    Lit(&'a str),
    Param(&'a str),
}

/// A path, query or header parameter, or a body field: both become arguments or setters.
#[derive(Debug, Clone)]
pub struct Param {
    pub wire: String,
    /// snake_case Rust identifier (keywords escaped).
    pub rust: String,
    pub location: ParamLocation,
    pub ty: Ty,
    pub required: bool,
    pub default: Option<serde_json::Value>,
    /// Sent when the caller sets no value.
    pub client_default: Option<serde_json::Value>,
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct Body {
    pub encoding: BodyEncoding,
    pub content_type: Option<String>,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub wire: String,
    pub rust: String,
    pub ty: Ty,
    pub required: bool,
    pub default: Option<serde_json::Value>,
    /// Sent when the caller sets no value (request bodies only).
    pub client_default: Option<serde_json::Value>,
    pub description: String,
    /// A secret: `Debug` prints `<redacted>` (explicit, or named in the vendor's list).
    pub sensitive: bool,
    /// What the field's type rests on (model fields; `Documented` for request inputs).
    pub evidence: Evidence,
}

/// What a model field's type rests on (see `spec::Evidence`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    Documented,
    Seen,
    Inferred,
}

impl Evidence {
    /// The spec's spelling, also used in docs and as OpenAPI `x-evidence`.
    pub fn as_str(self) -> &'static str {
        match self {
            Evidence::Documented => "documented",
            Evidence::Seen => "seen",
            Evidence::Inferred => "inferred",
        }
    }

    /// A value that does not fit reads as absent instead of failing the answer.
    pub fn lenient(self) -> bool {
        self != Evidence::Documented
    }

    /// One sentence for a field's docs.
    pub fn doc(self) -> &'static str {
        match self {
            Evidence::Documented => "Evidence: documented (the vendor's document states the type).",
            Evidence::Seen => "Evidence: seen (recorded traffic or the vendor's SDK shows it, the document does not); a value that does not fit reads as `None` and stays in the model's `extra` map.",
            Evidence::Inferred => "Evidence: inferred (the type is taken from the field's name); a value that does not fit reads as `None` and stays in the model's `extra` map.",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub content: ContentKind,
    pub ty: Option<Ty>,
    pub media_type: Option<String>,
    pub description: String,
}

#[derive(Debug, Clone)]
pub enum Pagination {
    Page {
        param: String,
        items: String,
        total: String,
        item_ty: Ty,
    },
    Cursor {
        param: String,
        cursor_field: String,
        item_ty: Ty,
        cursor_rust: String,
        cursor_ty: Ty,
    },
}

#[derive(Debug, Clone)]
pub struct Model {
    pub name: String,
    pub description: String,
    pub source: Option<SourceRef>,
    pub kind: ModelKind,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone)]
pub enum ModelKind {
    Object { fields: Vec<Field>, keep_unknown: bool },
    Enum { values: Vec<EnumValue>, integer: bool },
    OneOf { variants: Vec<(String, Ty)> },
    Newtype { ty: Ty },
}

#[derive(Debug, Clone)]
pub struct EnumValue {
    pub wire: String,
    pub rust: String,
    pub description: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_expressions_parse() {
        assert_eq!(
            Ty::parse("list<map<Foo>>").unwrap(),
            Ty::List(Box::new(Ty::Map(Box::new(Ty::Model("Foo".into())))))
        );
        assert_eq!(Ty::parse(" loose_bool ").unwrap(), Ty::LooseBool);
        assert!(Ty::parse("strin")
            .unwrap_err()
            .to_string()
            .contains("unknown type `strin`"));
        assert!(Ty::parse("list<").is_err());
        assert_eq!(
            Ty::parse("json_list<string>").unwrap(),
            Ty::JsonList(Box::new(Ty::String))
        );
    }

    #[test]
    fn display_writes_what_parse_reads() {
        for expr in [
            "string",
            "integer",
            "number",
            "boolean",
            "loose_bool",
            "loose_int",
            "date",
            "timestamp",
            "alternatives",
            "json",
            "binary",
            "Ticket",
            "list<map<Foo>>",
            "json_list<integer>",
            "map<list<string>>",
        ] {
            let ty = Ty::parse(expr).unwrap();
            assert_eq!(ty.to_string(), expr);
            assert_eq!(Ty::parse(&ty.to_string()).unwrap(), ty);
        }
    }
}
