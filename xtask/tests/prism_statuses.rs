//! Every status an emitted `openapi.json` declares besides success (a
//! documented rate limit's 429, the 401s and other errors a document names)
//! can be rehearsed against Prism: for every operation of every crate's and
//! generator fixture's document that declares one, Prism (`prism mock
//! --errors`, installed by `cargo xtask test`) is sent a valid request with
//! `Prefer: code=<status>` and must answer exactly that status, with no body
//! where the document declares none, and with `Retry-After` where a 429
//! declares it.
//!
//! The requests are built from the document alone (sample values from each
//! schema, the first security requirement's credentials), so this checks the
//! document against an independent validator without the generated clients.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A Prism mock server on a free loopback port, killed on drop.
struct Prism {
    child: Child,
    addr: String,
    log: PathBuf,
}

impl Prism {
    fn start(doc: &Path, name: &str) -> Prism {
        let cli = root().join("tools/prism/node_modules/@stoplight/prism-cli/dist/index.js");
        assert!(cli.is_file(), "Prism is not installed ({} is missing): run `cargo xtask test`, which installs it, or `npm ci --prefix tools/prism`", cli.display());
        let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("prism-statuses-{name}.log"));
        let mut last = String::new();
        // The port is free when picked, but another process may take it first: retry.
        for _ in 0..3 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free loopback port")
                .port();
            let out = std::fs::File::create(&log).expect("Prism log file");
            let err = out.try_clone().expect("Prism log file");
            let child = Command::new("node")
                .arg(&cli)
                .args(["mock", "--errors", "--host", "127.0.0.1", "--port", &port.to_string()])
                .arg(doc)
                .env("NO_COLOR", "1")
                .env("FORCE_COLOR", "0")
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .unwrap_or_else(|e| panic!("could not run `node` ({e}): Prism needs Node.js (20) on PATH"));
            let mut prism = Prism {
                child,
                addr: format!("127.0.0.1:{port}"),
                log: log.clone(),
            };
            let ready = format!("Prism is listening on http://{}", prism.addr);
            let deadline = Instant::now() + Duration::from_secs(90);
            loop {
                if prism.log().contains(&ready) {
                    return prism;
                }
                if let Ok(Some(status)) = prism.child.try_wait() {
                    last = format!("Prism exited ({status}) before listening; its log:\n{}", prism.log());
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "Prism did not listen on {} within 90 s; its log:\n{}",
                    prism.addr,
                    prism.log()
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("{last}");
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Send one HTTP/1.1 request; the status, the headers (names lowercased) and the body.
    fn send(&self, req: &Request, prefer: u16) -> Answer {
        let mut stream = std::net::TcpStream::connect(&self.addr).expect("connect to Prism");
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut head = format!("{} {} HTTP/1.1\r\nHost: {}\r\nAccept: */*\r\nConnection: close\r\nPrefer: code={prefer}\r\nContent-Length: {}\r\n", req.method, req.target, self.addr, req.body.len());
        for (name, value) in &req.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&req.body);
        stream.write_all(&bytes).expect("send to Prism");
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        let text = String::from_utf8_lossy(&answer).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        Answer {
            status,
            headers,
            body: body.to_owned(),
        }
    }
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// A request the document accepts for one operation.
struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Follow a local `$ref`.
fn resolve<'a>(doc: &'a Value, s: &'a Value) -> &'a Value {
    match s.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(
            doc,
            doc.pointer(r.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("dangling $ref {r}")),
        ),
        None => s,
    }
}

/// A value the schema accepts: the first branch of an `anyOf`, the first
/// enum value, the required properties of an object.
fn sample(doc: &Value, s: &Value) -> Value {
    let s = resolve(doc, s);
    if let Some(first) = s.get("anyOf").and_then(|b| b.get(0)) {
        return sample(doc, first);
    }
    if let Some(first) = s.get("enum").and_then(|e| e.get(0)) {
        return first.clone();
    }
    let ty = match &s["type"] {
        Value::String(t) => t.as_str(),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ => return json!({}),
    };
    match ty {
        "string" if s["format"] == "date" => json!("2024-01-02"),
        "string" if s["contentMediaType"] == "application/json" => json!("[]"),
        "string" => json!("x"),
        "integer" | "number" => {
            let (lo, hi) = (
                s["minimum"].as_i64().unwrap_or(i64::MIN),
                s["maximum"].as_i64().unwrap_or(i64::MAX),
            );
            json!(1_i64.clamp(lo, hi))
        }
        "boolean" => json!(true),
        "array" => json!([sample(doc, &s["items"])]),
        "object" => {
            let mut o = serde_json::Map::new();
            for name in s["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                o.insert(name.into(), sample(doc, &s["properties"][name]));
            }
            Value::Object(o)
        }
        _ => Value::Null,
    }
}

/// A sample as the text of a path, query, header or form value.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The pairs a value sends as a query or form field (a list: one pair per item).
fn pairs(name: &str, v: &Value) -> Vec<(String, String)> {
    match v {
        Value::Array(items) => items.iter().map(|i| (name.to_owned(), text(i))).collect(),
        other => vec![(name.to_owned(), text(other))],
    }
}

fn request(doc: &Value, path: &str, method: &str, op: &Value) -> Request {
    let mut target = path.to_owned();
    let mut query = Vec::new();
    let mut headers = Vec::new();
    for p in op["parameters"].as_array().into_iter().flatten() {
        let p = resolve(doc, p);
        let name = p["name"].as_str().unwrap();
        if p["in"] != "path" && p["required"] != true {
            continue;
        }
        let v = sample(doc, &p["schema"]);
        match p["in"].as_str().unwrap() {
            "path" => target = target.replace(&format!("{{{name}}}"), &enc(&text(&v))),
            "query" => query.extend(pairs(name, &v)),
            "header" => headers.push((name.to_owned(), text(&v))),
            other => panic!("{method} {path}: parameter in {other}"),
        }
    }
    if !query.is_empty() {
        target.push('?');
        target.push_str(
            &query
                .iter()
                .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
                .collect::<Vec<_>>()
                .join("&"),
        );
    }
    if let Some(ct) = op["x-query-body-content-type"].as_str() {
        headers.push(("Content-Type".into(), ct.into()));
    }
    // The first security requirement: the operation's own, else the document's.
    let security = op.get("security").unwrap_or(&doc["security"]);
    if let Some(requirement) = security.as_array().and_then(|r| r.first()).and_then(Value::as_object) {
        for scheme in requirement.keys() {
            let s = &doc["components"]["securitySchemes"][scheme];
            match (s["type"].as_str(), s["scheme"].as_str()) {
                (Some("http"), Some("basic")) => headers.push(("Authorization".into(), "Basic a2V5Ong=".into())),
                (Some("http"), Some("bearer")) => headers.push(("Authorization".into(), "Bearer key".into())),
                (Some("apiKey"), _) if s["in"] == "header" => {
                    headers.push((s["name"].as_str().unwrap().into(), "key".into()))
                }
                other => panic!("{method} {path}: security scheme {scheme} {other:?} not handled by this test"),
            }
        }
    }
    let mut body = Vec::new();
    if let Some(content) = op["requestBody"]["content"].as_object() {
        let (media, m) = content.iter().next().unwrap();
        let schema = resolve(doc, &m["schema"]);
        let value = sample(doc, schema);
        match media.as_str() {
            "application/json" => body = serde_json::to_vec(&value).unwrap(),
            "application/x-www-form-urlencoded" => {
                let fields: Vec<(String, String)> = value
                    .as_object()
                    .unwrap()
                    .iter()
                    .flat_map(|(k, v)| pairs(k, v))
                    .collect();
                body = fields
                    .iter()
                    .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
                    .collect::<Vec<_>>()
                    .join("&")
                    .into_bytes();
            }
            "multipart/form-data" => {
                let boundary = "snapsdk-prism-statuses";
                for (k, v) in value.as_object().unwrap() {
                    let file = resolve(doc, &schema["properties"][k])["contentMediaType"] == "application/octet-stream";
                    let disposition = if file {
                        format!("form-data; name=\"{k}\"; filename=\"a.txt\"\r\nContent-Type: application/octet-stream")
                    } else {
                        format!("form-data; name=\"{k}\"")
                    };
                    body.extend(
                        format!(
                            "--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n{}\r\n",
                            text(v)
                        )
                        .into_bytes(),
                    );
                }
                body.extend(format!("--{boundary}--\r\n").into_bytes());
                headers.push((
                    "Content-Type".into(),
                    format!("multipart/form-data; boundary={boundary}"),
                ));
            }
            other => panic!("{method} {path}: request body {other} not handled by this test"),
        }
        if media != "multipart/form-data" {
            headers.push(("Content-Type".into(), media.clone()));
        }
    }
    Request {
        method: method.to_ascii_uppercase(),
        target,
        headers,
        body,
    }
}

/// Every emitted document: the crates' and the generator fixtures'.
fn documents() -> Vec<(String, Value)> {
    let root = root();
    let mut docs = Vec::new();
    for dir in ["crates", "tests/fixtures"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap().flatten() {
            let p = e.path().join("openapi.json");
            if p.is_file() {
                let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
                docs.push((p.strip_prefix(&root).unwrap().display().to_string(), v));
            }
        }
    }
    docs.sort_by(|a, b| a.0.cmp(&b.0));
    docs
}

/// Each operation's declared statuses other than success: `(path, method, statuses)`.
fn non_success(doc: &Value) -> Vec<(String, String, Vec<u16>)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let statuses: Vec<u16> = op["responses"]
                .as_object()
                .unwrap()
                .keys()
                .filter_map(|k| k.parse().ok())
                .filter(|s| !(200..300).contains(s))
                .collect();
            if !statuses.is_empty() {
                out.push((path.clone(), method.clone(), statuses));
            }
        }
    }
    out
}

/// Operations of a document with a documented rate limit (`x-rate-limit`) that declare no 429.
fn missing_429(doc: &Value) -> Vec<String> {
    if doc.get("x-rate-limit").is_none() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if op["responses"].get("429").is_none() {
                out.push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    out
}

#[test]
fn a_documented_rate_limit_is_declared_on_every_operation() {
    let docs = documents();
    let besnappy = &docs
        .iter()
        .find(|(p, _)| p == "crates/besnappy/openapi.json")
        .expect("crates/besnappy/openapi.json")
        .1;
    assert!(
        besnappy.get("x-rate-limit").is_some(),
        "Snappy documents 200 requests a minute"
    );
    for (path, doc) in &docs {
        let missing = missing_429(doc);
        assert!(
            missing.is_empty(),
            "{path} has x-rate-limit but these operations declare no 429: {missing:?}"
        );
    }
    // The guard fires: the same document without its 429s.
    let mut stripped = besnappy.clone();
    for item in stripped["paths"].as_object_mut().unwrap().values_mut() {
        for op in item.as_object_mut().unwrap().values_mut() {
            op["responses"].as_object_mut().unwrap().remove("429");
        }
    }
    assert_eq!(
        missing_429(&stripped).len(),
        besnappy["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|i| i.as_object().unwrap().len())
            .sum::<usize>()
    );
}

#[test]
fn prism_answers_every_declared_error_status() {
    let docs = documents();
    let (mut calls, mut by_status) = (0, std::collections::BTreeMap::<u16, usize>::new());
    let mut failures = Vec::new();
    for (file, doc) in &docs {
        let declared = non_success(doc);
        if declared.is_empty() {
            continue;
        }
        let name = file.replace('/', "-");
        let prism = Prism::start(&root().join(file), &name);
        for (path, method, statuses) in &declared {
            let op = &doc["paths"][path][method];
            let req = request(doc, path, method, op);
            for &status in statuses {
                let answer = prism.send(&req, status);
                calls += 1;
                *by_status.entry(status).or_default() += 1;
                let what = format!("{file}: {} {} with Prefer: code={status}", req.method, req.target);
                let response = &op["responses"][status.to_string()];
                if answer.status != status {
                    failures.push(format!("{what}: answered {} {}", answer.status, answer.body));
                    continue;
                }
                // No invented body: a response without content is answered empty.
                if response.get("content").is_none() && !answer.body.is_empty() {
                    failures.push(format!("{what}: declares no body but Prism sent {:?}", answer.body));
                }
                if let Some(h) = response["headers"].as_object() {
                    for name in h.keys() {
                        match answer.header(&name.to_ascii_lowercase()) {
                            Some(v) if name == "Retry-After" && v.parse::<u64>().is_err() => {
                                failures.push(format!("{what}: Retry-After {v:?} is not delay-seconds"))
                            }
                            Some(_) => {}
                            None => failures.push(format!("{what}: the declared {name} header is missing")),
                        }
                    }
                }
            }
        }
        // The check can fail: a status the document does not declare is not answered.
        if let Some((path, method, _)) = declared.first() {
            let req = request(doc, path, method, &doc["paths"][path][method]);
            let answer = prism.send(&req, 418);
            assert_ne!(
                answer.status, 418,
                "{file}: Prism answered an undeclared Prefer: code=418; the check above proves nothing"
            );
        }
        if !failures.is_empty() {
            eprintln!("{file}: Prism's log:\n{}", prism.log());
        }
    }
    eprintln!("prism statuses: {calls} calls, by status {by_status:?}");
    assert!(
        failures.is_empty(),
        "{} of {calls} calls were not answered as declared:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Snappy's rate limit on its 42 operations and SnapEngage's documented 401 on its 4.
    assert!(by_status.get(&429).copied().unwrap_or(0) >= 42, "{by_status:?}");
    assert!(by_status.get(&401).copied().unwrap_or(0) >= 4, "{by_status:?}");
}
