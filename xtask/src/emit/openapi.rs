//! IR → OpenAPI 3.1 document. Pure.
//!
//! Schemas are JSON Schema 2020-12 (the 3.1 dialect): a value a server may
//! send as null has `"null"` in its `type` array (or an `anyOf` branch), a
//! `$ref` carries its own `description`, and file parts and downloads are
//! `contentMediaType` strings rather than `format: binary`.

use serde_json::{json, Map, Value};

use crate::ir::{self, Api, AuthKind, BodyEncoding, ContentKind, ModelKind, ParamLocation, Ty};

/// Schema for a type.
pub fn schema(ty: &Ty) -> Value {
    match ty {
        Ty::String => json!({"type": "string"}),
        Ty::Integer => json!({"type": "integer", "format": "int64"}),
        Ty::Number => json!({"type": "number"}),
        Ty::Boolean => json!({"type": "boolean"}),
        Ty::LooseBool => {
            json!({"anyOf": [{"type": "boolean"}, {"type": "string", "enum": ["true", "false", "1", "0"]}, {"type": "integer", "enum": [0, 1]}]})
        }
        Ty::LooseInt => {
            json!({"anyOf": [{"type": "integer", "format": "int64"}, {"type": "string", "pattern": "^-?[0-9]+$"}]})
        }
        Ty::Date => json!({"type": "string", "format": "date"}),
        // Unix seconds over the years the string form can write (0000-9999), which the client decodes.
        Ty::Timestamp => json!({"anyOf": [
            {"type": "integer", "format": "int64", "minimum": -62_167_219_200_i64, "maximum": 253_402_300_799_i64, "description": "Unix seconds"},
            {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"}
        ]}),
        Ty::Alternatives => json!({"anyOf": [{"type": "number"}, {"type": "string"}]}),
        Ty::Json => json!({}),
        Ty::Binary => binary(),
        Ty::List(t) => json!({"type": "array", "items": schema(t)}),
        Ty::Map(t) => json!({"type": "object", "additionalProperties": schema(t)}),
        // The JSON text of a list, in one string (a form field or query value).
        Ty::JsonList(t) => {
            json!({"type": "string", "contentMediaType": "application/json", "contentSchema": {"type": "array", "items": schema(t)}})
        }
        Ty::Model(m) => json!({"$ref": format!("#/components/schemas/{m}")}),
    }
}

/// Raw bytes: a file part or a download.
fn binary() -> Value {
    json!({"type": "string", "contentMediaType": "application/octet-stream"})
}

fn with_description(mut s: Value, d: &str) -> Value {
    if let (false, Value::Object(m)) = (d.is_empty(), &mut s) {
        m.insert("description".into(), Value::String(d.to_owned()));
    }
    s
}

/// The schema, also accepting `null`: `"null"` joins a plain `type`; an
/// `anyOf` gains a null branch; anything else (a `$ref`, an enum) is wrapped.
/// The non-null branch stays first, so schema-derived samples are values.
fn nullable(s: Value) -> Value {
    let Value::Object(mut m) = s else { return s };
    if m.is_empty() {
        return Value::Object(m);
    }
    let null_branch = json!({"type": "null"});
    if let (Some(Value::String(t)), false) = (m.get("type").cloned(), m.contains_key("enum")) {
        m.insert("type".into(), json!([t, "null"]));
    } else if let Some(Value::Array(branches)) = m.get_mut("anyOf") {
        branches.push(null_branch);
    } else {
        let description = m.remove("description");
        let mut wrapped = json!({"anyOf": [Value::Object(m), null_branch]});
        if let Some(d) = description {
            wrapped["description"] = d;
        }
        return wrapped;
    }
    Value::Object(m)
}

fn model_schema(m: &ir::Model) -> Value {
    let mut s = match &m.kind {
        ModelKind::Object { fields, keep_unknown } => {
            let mut props = Map::new();
            for f in fields {
                let mut fs = with_description(schema(&f.ty), &f.description);
                if f.sensitive {
                    fs["x-sensitive"] = json!(true);
                }
                let mut fs = if f.required { fs } else { nullable(fs) };
                // What the type rests on: `documented`, `seen` or `inferred` (specs/README.md).
                fs["x-evidence"] = json!(f.evidence.as_str());
                props.insert(f.wire.clone(), fs);
            }
            let required: Vec<&str> = fields.iter().filter(|f| f.required).map(|f| f.wire.as_str()).collect();
            let mut o = json!({"type": "object", "properties": props, "additionalProperties": keep_unknown});
            if !required.is_empty() {
                o["required"] = json!(required);
            }
            o
        }
        // Open enums: the client decodes values it does not know, so the
        // schema lists the known ones first and then admits any other value
        // of the wire type; `x-open-enum` says so to tools that read it.
        ModelKind::Enum { values, integer } => {
            let strings: Vec<&str> = values.iter().map(|v| v.wire.as_str()).collect();
            if *integer {
                let ints: Vec<i64> = values.iter().filter_map(|v| v.wire.parse().ok()).collect();
                json!({"anyOf": [{"type": "integer", "enum": ints}, {"type": "string", "enum": strings}, {"type": "integer"}, {"type": "string"}], "x-open-enum": true})
            } else {
                json!({"anyOf": [{"type": "string", "enum": strings}, {"type": "string"}], "x-open-enum": true})
            }
        }
        ModelKind::OneOf { variants } => json!({"anyOf": variants.iter().map(|(_, t)| schema(t)).collect::<Vec<_>>()}),
        ModelKind::Newtype { ty } => schema(ty),
    };
    if let Value::Object(o) = &mut s {
        o.insert("description".into(), Value::String(m.description.clone()));
        if let Some(src) = &m.source {
            o.insert("x-source".into(), json!({"document": src.file, "section": src.section}));
        }
        if !m.notes.is_empty() {
            o.insert(
                "x-spec-decisions".into(),
                json!(m.notes.iter().map(|n| n.trim()).collect::<Vec<_>>()),
            );
        }
    }
    s
}

/// A default the document states (`default`) or one the client sends when
/// the caller sets none (`x-client-default`), on an input's schema.
fn with_defaults(mut s: Value, default: Option<&Value>, client_default: Option<&Value>) -> Value {
    if let Value::Object(m) = &mut s {
        if let Some(d) = default {
            m.insert("default".into(), d.clone());
        }
        if let Some(d) = client_default {
            m.insert("x-client-default".into(), d.clone());
        }
    }
    s
}

fn media_type(r: &ir::Response) -> Option<String> {
    r.media_type.clone().or_else(|| match r.content {
        ContentKind::Json => Some("application/json".into()),
        ContentKind::Text => Some("text/plain".into()),
        ContentKind::Binary => Some("application/octet-stream".into()),
        ContentKind::Empty | ContentKind::Undocumented => None,
    })
}

fn parameter(
    name: &str,
    location: &str,
    ty: &Ty,
    required: bool,
    description: &str,
    default: Option<&Value>,
    client_default: Option<&Value>,
) -> Value {
    let s = with_defaults(schema(ty), default, client_default);
    let mut p = json!({"name": name, "in": location, "required": required, "schema": s});
    if !description.is_empty() {
        p["description"] = json!(description);
    }
    if matches!(ty, Ty::List(_)) {
        p["style"] = json!("form");
        p["explode"] = json!(true);
    }
    p
}

/// The answer to a request over a documented rate limit, declared on every
/// operation of a vendor that documents one, so a mock (Prism's `Prefer:
/// code=429`) can rehearse it. Only what is known is declared: the status
/// (RFC 6585), the limit and its source; no body, since no vendor document
/// shows one (`x-body: undocumented`, as for other errors without a
/// documented body); and `Retry-After` as an optional header, since RFC 6585
/// lets a 429 carry it, the client honours it, and no document says whether
/// the vendor sends it.
fn too_many_requests(limit: &ir::RateLimit) -> Value {
    json!({
        "description": format!(
            "Too Many Requests: over the documented limit of {} requests per {} s ({}). The body is not documented.",
            limit.requests,
            limit.per_seconds,
            limit.source.cite()
        ),
        "headers": {
            "Retry-After": {
                "description": "How long to wait before the next request: delay-seconds or an HTTP-date (RFC 9110). The vendor does not document whether it is sent; the client waits for it when it is.",
                "required": false,
                "schema": {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string"}]}
            }
        },
        "x-body": "undocumented"
    })
}

fn security_schemes(v: &ir::Vendor) -> Map<String, Value> {
    let mut schemes = Map::new();
    for s in &v.schemes {
        let def = match s.kind {
            AuthKind::BasicKey | AuthKind::BasicLogin => {
                json!({"type": "http", "scheme": "basic", "description": s.description})
            }
            AuthKind::Bearer => json!({"type": "http", "scheme": "bearer", "description": s.description}),
            AuthKind::Header => {
                json!({"type": "apiKey", "in": "header", "name": s.header, "description": s.description})
            }
        };
        schemes.insert(s.id.clone(), def);
    }
    schemes
}

fn security(ids: &[String]) -> Value {
    Value::Array(ids.iter().map(|id| json!({ id.clone(): [] })).collect())
}

/// The operation's description, followed by its spec decisions (if any).
fn description(op: &ir::Operation) -> String {
    let mut description = op.description.clone().unwrap_or_default();
    if !op.notes.is_empty() {
        if !description.is_empty() {
            description.push_str("\n\n");
        }
        description.push_str("Spec decisions:\n");
        for n in &op.notes {
            description.push_str(&format!("\n- {}", n.trim()));
        }
    }
    description
}

/// The request body: a `requestBody` on `o`, or (query encoding) query parameters added to `params`.
fn body(o: &mut Value, params: &mut Vec<Value>, b: &ir::Body) {
    let mut props = Map::new();
    for f in &b.fields {
        props.insert(
            f.wire.clone(),
            with_defaults(
                with_description(schema(&f.ty), &f.description),
                f.default.as_ref(),
                f.client_default.as_ref(),
            ),
        );
    }
    let required: Vec<&str> = b
        .fields
        .iter()
        .filter(|f| f.required)
        .map(|f| f.wire.as_str())
        .collect();
    let mut body_schema = json!({"type": "object", "properties": props});
    if !required.is_empty() {
        body_schema["required"] = json!(required);
    }
    let media = match b.encoding {
        BodyEncoding::Json => Some("application/json"),
        BodyEncoding::Form => Some("application/x-www-form-urlencoded"),
        BodyEncoding::Multipart => Some("multipart/form-data"),
        BodyEncoding::Query => None,
    };
    match media {
        Some(m) => {
            // An all-optional body may be sent empty.
            o["requestBody"] = json!({"required": !required.is_empty(), "content": { m: {"schema": body_schema}}});
        }
        None => {
            for f in &b.fields {
                params.push(parameter(
                    &f.wire,
                    "query",
                    &f.ty,
                    f.required,
                    &f.description,
                    f.default.as_ref(),
                    f.client_default.as_ref(),
                ));
            }
            o["x-query-body-content-type"] = json!(b
                .content_type
                .clone()
                .unwrap_or_else(|| "application/x-www-form-urlencoded".into()));
        }
    }
}

fn responses(op: &ir::Operation, v: &ir::Vendor) -> Map<String, Value> {
    let mut responses = Map::new();
    for r in &op.responses {
        let mut rv = json!({"description": r.description});
        if r.content == ContentKind::Undocumented {
            rv["x-body"] = json!("undocumented");
        }
        if let Some(m) = media_type(r) {
            let s = match (&r.ty, r.content) {
                (Some(t), _) => schema(t),
                (None, ContentKind::Json) => json!({}),
                (None, ContentKind::Binary) => binary(),
                (None, _) => json!({"type": "string"}),
            };
            rv["content"] = json!({ m: {"schema": s} });
        }
        responses.insert(r.status.to_string(), rv);
    }
    if let Some(limit) = &v.rate_limit {
        // A spec's own 429 (with what it documents) wins over the derived one.
        responses.entry("429").or_insert_with(|| too_many_requests(limit));
    }
    responses
}

/// One operation object (its keys in a fixed order).
fn operation(op: &ir::Operation, v: &ir::Vendor) -> Value {
    let mut params: Vec<Value> = op
        .params
        .iter()
        .map(|p| {
            let loc = match p.location {
                ParamLocation::Path => "path",
                ParamLocation::Query => "query",
                ParamLocation::Header => "header",
            };
            parameter(
                &p.wire,
                loc,
                &p.ty,
                p.required,
                &p.description,
                p.default.as_ref(),
                p.client_default.as_ref(),
            )
        })
        .collect();
    let mut o = json!({
        "operationId": op.id,
        "summary": op.summary,
        "tags": [op.group],
    });
    let description = description(op);
    if !description.is_empty() {
        o["description"] = json!(description);
    }
    if !op.notes.is_empty() {
        o["x-spec-decisions"] = json!(op.notes.iter().map(|n| n.trim()).collect::<Vec<_>>());
    }
    // Whether the client retries this operation after a failure once the request was sent.
    o["x-retryable"] = json!(op.retryable);
    let mut src = json!({"document": op.source.file, "section": op.source.section});
    if let Some(why) = &op.source.inferred {
        src["inferred"] = json!(why);
    }
    o["x-source"] = src;
    if let Some(b) = &op.body {
        body(&mut o, &mut params, b);
    }
    if !params.is_empty() {
        o["parameters"] = Value::Array(params);
    }
    o["responses"] = Value::Object(responses(op, v));
    match &op.auth {
        ir::Auth::None => o["security"] = json!([]),
        ir::Auth::Schemes(ids) if ids != &v.default_auth => o["security"] = security(ids),
        _ => {}
    }
    if let Some(p) = &op.pagination {
        o["x-pagination"] = match p {
            ir::Pagination::Page {
                param, items, total, ..
            } => json!({"kind": "page", "param": param, "items": items, "total": total}),
            ir::Pagination::Cursor {
                param, cursor_field, ..
            } => json!({"kind": "cursor", "param": param, "cursor_field": cursor_field}),
        };
    }
    o
}

pub fn emit(api: &Api) -> Value {
    let v = &api.vendor;
    let mut paths = Map::new();
    for op in &api.operations {
        let entry = paths.entry(op.path.clone()).or_insert_with(|| json!({}));
        entry[op.method.as_str().to_lowercase()] = operation(op, v);
    }
    let mut schemas = Map::new();
    for m in &api.models {
        schemas.insert(m.name.clone(), model_schema(m));
    }
    let mut info = json!({"title": v.title, "version": v.version, "description": v.description});
    if !v.notes.is_empty() {
        info["x-spec-decisions"] = json!(v.notes);
    }
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": info,
        "servers": [{"url": v.base_url}],
        "security": security(&v.default_auth),
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": security_schemes(v)},
    });
    if let Some(r) = &v.rate_limit {
        doc["x-rate-limit"] = json!({"requests": r.requests, "per_seconds": r.per_seconds});
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nullable_uses_json_schema_2020_12() {
        assert_eq!(
            nullable(json!({"type": "string", "description": "d"})),
            json!({"type": ["string", "null"], "description": "d"})
        );
        assert_eq!(
            nullable(json!({"$ref": "#/components/schemas/M", "description": "d"})),
            json!({"anyOf": [{"$ref": "#/components/schemas/M"}, {"type": "null"}], "description": "d"})
        );
        assert_eq!(
            nullable(json!({"anyOf": [{"type": "integer"}]})),
            json!({"anyOf": [{"type": "integer"}, {"type": "null"}]})
        );
        // An enum must list null to allow it; a null branch says the same more plainly.
        assert_eq!(
            nullable(json!({"type": "string", "enum": ["a"]})),
            json!({"anyOf": [{"type": "string", "enum": ["a"]}, {"type": "null"}]})
        );
        // `{}` already allows null.
        assert_eq!(nullable(json!({})), json!({}));
    }

    #[test]
    fn a_documented_rate_limit_gives_every_operation_a_bodiless_429() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let apis = crate::apidiff::load_specs(root, "specs").unwrap();
        let mut limited = 0;
        for api in &apis {
            let doc = emit(api);
            for (path, item) in doc["paths"].as_object().unwrap() {
                for (method, op) in item.as_object().unwrap() {
                    let declared = &op["responses"]["429"];
                    match &api.vendor.rate_limit {
                        Some(r) => {
                            limited += 1;
                            let d = declared["description"].as_str().unwrap_or_default();
                            assert!(
                                d.contains(&format!("{} requests per {} s", r.requests, r.per_seconds))
                                    && d.contains(&r.source.cite()),
                                "{method} {path}: {declared}"
                            );
                            // No invented body; Retry-After declared, not promised.
                            assert!(declared.get("content").is_none(), "{method} {path}: {declared}");
                            assert_eq!(declared["x-body"], "undocumented");
                            assert_eq!(declared["headers"]["Retry-After"]["required"], false);
                        }
                        None => assert!(
                            declared.is_null(),
                            "{}: {method} {path} declares a 429 without a documented limit",
                            api.vendor.name
                        ),
                    }
                }
            }
        }
        let snappy = apis.iter().find(|a| a.vendor.name == "snappy").unwrap();
        assert_eq!(limited, snappy.operations.len(), "only Snappy documents a rate limit");
    }

    #[test]
    fn every_model_field_carries_its_evidence_level() {
        let field = |wire: &str, ty: Ty, required: bool, evidence: ir::Evidence| ir::Field {
            wire: wire.into(),
            rust: wire.into(),
            ty,
            required,
            default: None,
            client_default: None,
            description: String::new(),
            sensitive: false,
            evidence,
        };
        let fields = vec![
            field("id", Ty::Integer, true, ir::Evidence::Documented),
            field("seen_at", Ty::Timestamp, false, ir::Evidence::Seen),
            field("blob", Ty::Json, false, ir::Evidence::Inferred),
        ];
        let m = ir::Model {
            name: "M".into(),
            description: "d".into(),
            source: None,
            kind: ModelKind::Object {
                fields,
                keep_unknown: true,
            },
            notes: vec![],
        };
        let s = model_schema(&m);
        assert_eq!(s["properties"]["id"]["x-evidence"], "documented");
        assert_eq!(s["properties"]["seen_at"]["x-evidence"], "seen");
        // On the outside of a nullable schema, and `{}` (any JSON) stays unwrapped.
        assert_eq!(s["properties"]["blob"], json!({"x-evidence": "inferred"}));
    }

    #[test]
    fn no_openapi_3_0_keywords() {
        for ty in [Ty::Binary, Ty::Timestamp, Ty::List(Box::new(Ty::Model("M".into())))] {
            let s = nullable(with_description(schema(&ty), "d")).to_string();
            assert!(
                !s.contains("nullable") && !s.contains("\"binary\"") && !s.contains("allOf"),
                "{s}"
            );
        }
    }
}
