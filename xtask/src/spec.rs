//! The serde mirror of the hand-written YAML under `specs/`.
//!
//! Every struct refuses unknown keys, so a typo is an error with a location
//! rather than a silently ignored line. The same types derive `JsonSchema`,
//! and `regen` writes `specs/spec.schema.json` from them so editors can check
//! YAML as it is typed.

use schemars::JsonSchema;
use serde::Deserialize;

/// `specs/<vendor>/vendor.yaml`: one per vendor folder.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VendorFile {
    pub vendor: Vendor,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Vendor {
    /// Short name; must equal the folder name. Used by `--vendor`.
    pub name: String,
    /// Human title of the API, used in docs.
    pub title: String,
    #[serde(rename = "crate")]
    pub krate: CrateInfo,
    /// Default base URL (must be https). Operation paths are appended to it.
    pub base_url: String,
    pub auth: AuthConfig,
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// The vendor documents this spec is transcribed from.
    pub sources: Vec<SourceDoc>,
    /// Wire names of fields that carry secrets. A model's `Debug` prints
    /// `<redacted>` for a declared field of this name and for any key of
    /// this name in its `extra` map or in free JSON, at any depth.
    /// `Serialize` and field access are unchanged.
    #[serde(default)]
    pub sensitive_fields: Vec<String>,
    /// Vendor-wide decisions where the documents are silent or wrong.
    #[serde(default)]
    pub notes: Vec<String>,
    /// Operation ids the crate README's quick start and the generated
    /// quick-start example call, in order; the README shows the first. Pick
    /// representative calls a new user makes first. Unset: the reads with
    /// the fewest arguments.
    #[serde(default)]
    pub quick_start: Vec<String>,
    /// An operation the generated polling example calls in a loop until a
    /// deadline (for APIs a client polls, such as a chat). Unset: no such example.
    #[serde(default)]
    pub poll_example: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CrateInfo {
    pub name: String,
    pub version: String,
    pub description: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub categories: Vec<String>,
    /// Where the crate may be published: `true` (the default) any registry,
    /// `false` none (test fixtures), or a list of cargo registry names
    /// (`[corp]`; `crates-io` is the public one), emitted as `publish = [...]`.
    #[serde(default)]
    pub publish: Publish,
}

/// `crate.publish`: a yes/no, or the registries the crate may go to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(
    untagged,
    expecting = "`publish` is `true`, `false` or a list of registry names such as `[corp]`"
)]
pub enum Publish {
    /// `true`: any registry; `false`: none.
    Allowed(bool),
    /// Only these registries (names as in cargo's `[registries.NAME]`).
    Only(Vec<String>),
}

impl Default for Publish {
    fn default() -> Publish {
        Publish::Allowed(true)
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    pub schemes: Vec<AuthScheme>,
    /// Scheme ids an operation accepts unless it says otherwise. The caller
    /// picks one of them when building the client.
    pub default: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthScheme {
    /// Identifier, also the name of the client-builder method (snake_case).
    pub id: String,
    #[serde(rename = "type")]
    pub kind: AuthKind,
    /// `header` schemes: the header that carries the key.
    #[serde(default)]
    pub header: Option<String>,
    /// `basic_key` schemes: the fixed password sent with the key (empty if absent).
    #[serde(default)]
    pub password: Option<String>,
    pub description: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthKind {
    /// HTTP Basic, the API key as the username and a fixed (or empty) password.
    BasicKey,
    /// HTTP Basic with a username and password chosen by the caller.
    BasicLogin,
    /// `Authorization: Bearer <key>`.
    Bearer,
    /// The key in a named header.
    Header,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub requests: u32,
    pub per_seconds: u32,
    pub source: SourceRef,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceDoc {
    /// Short id that operations cite in `source.doc`.
    pub id: String,
    /// File name under `shared/vendor-docs/`.
    pub file: String,
    pub title: String,
    /// How the document marks its headings and endpoint lines (see specs/README.md).
    #[serde(default)]
    pub headings: Option<Headings>,
}

/// How headings, endpoint lines and parameter tables are recognised in one
/// plain-text document. Read by `cargo xtask sources` and the citation check.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Headings {
    /// How endpoint lines are printed, if the document prints any.
    #[serde(default)]
    pub endpoints: Option<EndpointStyle>,
    /// A heading is the n-th non-blank line above each endpoint line (1: the line right above).
    #[serde(default)]
    pub above_endpoint: Option<usize>,
    /// Count `above_endpoint` in paragraphs (blocks between blank lines) rather
    /// than lines, so that a reflowed description does not move the heading.
    #[serde(default)]
    pub paragraphs: bool,
    /// A heading-like line of at most this many words right above such a
    /// heading is its parent (a resource group), cited as `Parent > Heading`.
    #[serde(default)]
    pub parents: Option<usize>,
    /// Lines that are headings wherever they stand alone (for headings with no other mark).
    #[serde(default)]
    pub lines: Vec<String>,
    /// The line that opens a table of contents; each `- Name` item after it is a heading.
    #[serde(default)]
    pub toc: Option<String>,
    /// How parameter tables are printed, for the drift report's parameter check.
    #[serde(default)]
    pub params: Option<ParamTable>,
    /// With `params: words`: the header line above each table (e.g. `Data Type Description`).
    #[serde(default)]
    pub params_after: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EndpointStyle {
    /// `[GET] /v2/buttons`
    Bracketed,
    /// `GET /api/v1/chat`
    Plain,
    /// a `/accounts` line, then a line that starts with the method (`GET Retrieve ...`)
    PathThenMethod,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParamTable {
    /// Rows `name | type | required |`; the first cell is the name.
    Pipes,
    /// Rows `name Type description` after the `params_after` header line, up to a blank line.
    Words,
}

/// Where a fact comes from: a document id and a section heading in it.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceRef {
    pub doc: String,
    pub section: String,
    /// Set when the fact is not in the document but inferred; says from what.
    #[serde(default)]
    pub inferred: Option<String>,
}

/// Any other `specs/<vendor>/*.yaml`: operations and/or models.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiFile {
    #[serde(default)]
    pub operations: Vec<Operation>,
    #[serde(default)]
    pub models: Vec<Model>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    /// Stable snake_case id; becomes the Rust method name.
    pub id: String,
    /// Resource group; becomes `client.<group>()`.
    pub group: String,
    pub summary: String,
    #[serde(default)]
    pub description: Option<String>,
    pub source: SourceRef,
    pub method: HttpMethod,
    /// Path template relative to the base URL, e.g. `/chat/{widgetId}`.
    pub path: String,
    /// `none` for a public operation, or the scheme ids it accepts.
    /// Absent: the vendor default.
    #[serde(default)]
    pub auth: Option<OpAuth>,
    #[serde(default)]
    pub params: Vec<Param>,
    #[serde(default)]
    pub body: Option<Body>,
    pub responses: Vec<Response>,
    #[serde(default)]
    pub pagination: Option<Pagination>,
    /// Opt a non-idempotent method into retries (or a PUT/DELETE out).
    #[serde(default)]
    pub retryable: Option<bool>,
    /// Decisions taken where the documents are silent, contradictory or wrong.
    #[serde(default)]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, JsonSchema)]
pub enum HttpMethod {
    GET,
    POST,
    PUT,
    PATCH,
    DELETE,
    HEAD,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::GET => "GET",
            HttpMethod::POST => "POST",
            HttpMethod::PUT => "PUT",
            HttpMethod::PATCH => "PATCH",
            HttpMethod::DELETE => "DELETE",
            HttpMethod::HEAD => "HEAD",
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum OpAuth {
    /// The literal `none`: the operation sends no credentials.
    None(NoAuth),
    Schemes(Vec<String>),
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoAuth {
    None,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Param {
    /// The name on the wire.
    pub name: String,
    #[serde(rename = "in")]
    pub location: ParamLocation,
    /// A type expression (see specs/README.md).
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(default)]
    pub required: bool,
    /// The server's default, as the document states it (documentation only;
    /// nothing is sent when the caller sets no value).
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub default: Option<serde_yaml::Value>,
    /// A value the client sends when the caller sets none (optional inputs only).
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub client_default: Option<serde_yaml::Value>,
    pub description: String,
    /// Rust name, when the wire name says too little (Snappy's `{id}`).
    #[serde(default)]
    pub rust_name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParamLocation {
    Path,
    Query,
    Header,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Body {
    pub encoding: BodyEncoding,
    /// `query` encoding: the Content-Type header sent with the empty body.
    #[serde(default)]
    pub content_type: Option<String>,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BodyEncoding {
    /// `application/json` object.
    Json,
    /// `application/x-www-form-urlencoded` body.
    Form,
    /// Fields go in the query string; the body is empty.
    Query,
    /// `multipart/form-data`; `binary` fields are file parts.
    Multipart,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(default)]
    pub required: bool,
    /// The server's default, as the document states it (documentation only).
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub default: Option<serde_yaml::Value>,
    /// Request bodies: a value the client sends when the caller sets none.
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub client_default: Option<serde_yaml::Value>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub rust_name: Option<String>,
    /// Model fields: the value is a secret; `Debug` prints `<redacted>`.
    #[serde(default)]
    pub sensitive: bool,
    /// Model fields: what the field's type rests on. Unset: the model's `evidence`.
    #[serde(default)]
    pub evidence: Option<Evidence>,
}

/// What a model field's type rests on. A field that is not `documented`
/// decodes leniently: a value that does not fit reads as absent and stays
/// readable in the model's `extra` map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    /// The vendor's document states the field and its type.
    Documented,
    /// Recorded traffic or a vendor SDK shows it (`shared/vendor-docs/README.md`), not the document.
    Seen,
    /// Taken from the field's name alone.
    Inferred,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    pub content: ContentKind,
    /// Type expression of the decoded body (`json` and `text` only).
    #[serde(rename = "type", default)]
    pub ty: Option<String>,
    /// Wire media type, when it is not the usual one for `content`.
    #[serde(default)]
    pub media_type: Option<String>,
    pub description: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContentKind {
    Json,
    Text,
    Binary,
    Empty,
    /// An error answer whose body the documents do not describe (kept raw,
    /// claimed neither empty nor of any format). Not allowed on the success response.
    Undocumented,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Pagination {
    /// Numbered pages: `param` is the page number; the response holds the
    /// items at `items` and the overall item count at `total`.
    Page {
        param: String,
        items: String,
        total: String,
    },
    /// Cursor paging: the next request sets `param` to `cursor_field` of the
    /// last item received; an empty page ends the stream.
    Cursor { param: String, cursor_field: String },
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Model {
    /// PascalCase type name.
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub source: Option<SourceRef>,
    /// An object with these fields.
    #[serde(default)]
    pub fields: Option<Vec<Field>>,
    /// An enum of these values; unknown values decode to `Unknown(String)`.
    #[serde(rename = "enum", default)]
    pub enum_values: Option<Vec<EnumValue>>,
    /// One of several JSON types, tried in order.
    #[serde(default)]
    pub one_of: Option<Vec<Variant>>,
    /// A named wrapper around a scalar type expression (e.g. a string token).
    #[serde(default)]
    pub newtype: Option<String>,
    /// Objects: keep fields the spec does not list in an `extra` map.
    #[serde(default = "yes")]
    pub keep_unknown: bool,
    /// Objects: the evidence level of every field that sets none (default `documented`).
    #[serde(default)]
    pub evidence: Option<Evidence>,
    #[serde(default)]
    pub notes: Vec<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnumValue {
    /// Wire value; a string or an integer.
    #[schemars(with = "serde_json::Value")]
    pub value: serde_yaml::Value,
    /// Rust variant name; derived from the value if absent.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// Rust variant name.
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
}
