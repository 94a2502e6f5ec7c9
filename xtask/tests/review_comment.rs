//! The commenter of `.github/workflows/spec-review-comment.yml`
//! (`.github/scripts/spec_review_comment.py`) against a fake of the GitHub
//! comments API on loopback (no network): the first run creates the comment,
//! a second run updates that one instead of adding another, other people's
//! comments (even quoting the marker) are left alone, a marker on the second
//! page of comments is found, a hostile artifact is refused before any
//! request, and a run for an outdated head writes nothing.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

const MARKER: &str = "<!-- snapsdk:spec-review -->";

#[derive(Default)]
struct State {
    comments: Vec<Value>,
    next_id: u64,
    head_sha: String,
    /// Every request as `METHOD path`.
    log: Vec<String>,
}

/// A tiny HTTP/1.1 server that answers the four calls the script makes.
fn fake_github(state: Arc<Mutex<State>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let mut parts = line.split_whitespace();
            let (method, target) = (
                parts.next().unwrap_or("").to_owned(),
                parts.next().unwrap_or("").to_owned(),
            );
            let mut length = 0;
            let mut auth = String::new();
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).unwrap();
                if h.trim().is_empty() {
                    break;
                }
                let (k, v) = h.split_once(':').unwrap();
                match k.to_ascii_lowercase().as_str() {
                    "content-length" => length = v.trim().parse().unwrap(),
                    "authorization" => auth = v.trim().to_owned(),
                    _ => {}
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let (status, answer) = handle(&state, &method, &target, &auth, &body);
            let text = answer.to_string();
            let _ = write!(stream, "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}", text.len());
        }
    });
    format!("http://{addr}")
}

fn handle(state: &Mutex<State>, method: &str, target: &str, auth: &str, body: &[u8]) -> (u16, Value) {
    let mut s = state.lock().unwrap();
    s.log.push(format!("{method} {target}"));
    if auth != "Bearer test-token" {
        return (401, json!({"message": "Bad credentials"}));
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let page: usize = query
        .split('&')
        .find_map(|q| q.strip_prefix("page="))
        .and_then(|p| p.parse().ok())
        .unwrap_or(1);
    let per: usize = query
        .split('&')
        .find_map(|q| q.strip_prefix("per_page="))
        .and_then(|p| p.parse().ok())
        .unwrap_or(30);
    let sent: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    match (method, path) {
        ("GET", "/repos/o/r/pulls/17") => (200, json!({"number": 17, "head": {"sha": s.head_sha}})),
        ("GET", "/repos/o/r/issues/17/comments") => (
            200,
            Value::Array(s.comments.iter().skip((page - 1) * per).take(per).cloned().collect()),
        ),
        ("POST", "/repos/o/r/issues/17/comments") => {
            s.next_id += 1;
            let c = json!({"id": s.next_id, "user": {"login": "github-actions[bot]"}, "body": sent["body"]});
            s.comments.push(c.clone());
            (201, c)
        }
        ("PATCH", p) if p.starts_with("/repos/o/r/issues/comments/") => {
            let id: u64 = p.rsplit('/').next().unwrap().parse().unwrap();
            match s.comments.iter_mut().find(|c| c["id"] == id) {
                Some(c) => {
                    c["body"] = sent["body"].clone();
                    (200, c.clone())
                }
                None => (404, json!({"message": "Not Found"})),
            }
        }
        _ => (404, json!({"message": "Not Found"})),
    }
}

fn artifact(name: &str, pr: &str, body: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("snapsdk-comment-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("pr-number"), pr).unwrap();
    std::fs::write(dir.join("comment.md"), body).unwrap();
    dir
}

fn run(api: &str, art: &Path, head: Option<&str>) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.github/scripts/spec_review_comment.py");
    let mut cmd = Command::new("python3");
    cmd.arg(script)
        .env("GITHUB_API_URL", api)
        .env("GITHUB_REPOSITORY", "o/r")
        .env("GITHUB_TOKEN", "test-token")
        .env("ARTIFACT", art)
        .env_remove("HEAD_SHA")
        .env_remove("COMMENTER");
    if let Some(h) = head {
        cmd.env("HEAD_SHA", h);
    }
    cmd.output().unwrap()
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn setup(head: &str, existing: Vec<Value>) -> (Arc<Mutex<State>>, String) {
    let next_id = existing.iter().filter_map(|c| c["id"].as_u64()).max().unwrap_or(0);
    let state = Arc::new(Mutex::new(State {
        comments: existing,
        next_id,
        head_sha: head.into(),
        log: Vec::new(),
    }));
    let api = fake_github(state.clone());
    (state, api)
}

#[test]
fn second_run_updates_the_first_comment() {
    // Someone else's comment quoting the marker is not ours to update.
    let (state, api) = setup(
        "abc",
        vec![json!({"id": 5, "user": {"login": "alice"}, "body": format!("{MARKER}\nquoted")})],
    );
    let first = ok(&run(
        &api,
        &artifact("first", "17\n", "### ❌ not mergeable\n"),
        Some("abc"),
    ));
    assert!(first.contains("created comment 6 on #17"), "{first}");
    let second = ok(&run(&api, &artifact("second", "17", "### ✅ mergeable\n"), Some("abc")));
    assert!(second.contains("updated comment 6 on #17"), "{second}");
    let s = state.lock().unwrap();
    assert_eq!(s.comments.len(), 2, "one comment of ours, alice's untouched");
    assert_eq!(s.comments[0]["body"], format!("{MARKER}\nquoted"));
    assert_eq!(s.comments[1]["body"], format!("{MARKER}\n### ✅ mergeable\n"));
    assert_eq!(s.log.iter().filter(|l| l.starts_with("POST")).count(), 1);
    assert_eq!(
        s.log
            .iter()
            .filter(|l| l.starts_with("PATCH /repos/o/r/issues/comments/6"))
            .count(),
        1
    );
}

#[test]
fn the_marker_is_found_past_the_first_page() {
    let mut existing: Vec<Value> = (1..=150)
        .map(|i| json!({"id": i, "user": {"login": "bob"}, "body": "lgtm"}))
        .collect();
    existing.push(json!({"id": 151, "user": {"login": "github-actions[bot]"}, "body": format!("{MARKER}\nold")}));
    let (state, api) = setup("abc", existing);
    let out = ok(&run(&api, &artifact("paged", "17", "new body"), None));
    assert!(out.contains("updated comment 151"), "{out}");
    let s = state.lock().unwrap();
    assert_eq!(s.comments.len(), 151);
    assert_eq!(s.comments[150]["body"], format!("{MARKER}\nnew body"));
    // The script's own marker only: one smuggled into the body is dropped.
    drop(s);
    ok(&run(&api, &artifact("smuggled", "17", &format!("a {MARKER} b")), None));
    assert_eq!(state.lock().unwrap().comments[150]["body"], format!("{MARKER}\na  b"));
}

#[test]
fn a_hostile_artifact_is_refused_before_any_request() {
    let (state, api) = setup("abc", vec![]);
    for pr in ["17/../../pulls", "1; rm -rf /", "", "0", "-3", "17 18", "１７"] {
        let o = run(&api, &artifact("hostile", pr, "body"), Some("abc"));
        assert_eq!(o.status.code(), Some(1), "{pr:?} accepted");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("not a pull request number"),
            "{pr:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let missing = std::env::temp_dir().join(format!("snapsdk-comment-{}-missing", std::process::id()));
    let o = run(&api, &missing, None);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("artifact is incomplete"));
    assert!(
        state.lock().unwrap().log.is_empty(),
        "no request for a refused artifact"
    );
}

#[test]
fn a_run_for_an_outdated_head_writes_nothing() {
    let (state, api) = setup("newer", vec![]);
    let out = ok(&run(&api, &artifact("outdated", "17", "body"), Some("older")));
    assert!(out.contains("has moved on"), "{out}");
    let s = state.lock().unwrap();
    assert!(s.comments.is_empty());
    assert_eq!(s.log, ["GET /repos/o/r/pulls/17"]);
}

#[test]
fn an_api_error_fails_the_run() {
    let (_state, api) = setup("abc", vec![]);
    let art = artifact("denied", "17", "body");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.github/scripts/spec_review_comment.py");
    let o = Command::new("python3")
        .arg(script)
        .env("GITHUB_API_URL", &api)
        .env("GITHUB_REPOSITORY", "o/r")
        .env("GITHUB_TOKEN", "wrong")
        .env("ARTIFACT", &art)
        .env_remove("HEAD_SHA")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("HTTP 401"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn a_long_body_is_cut_with_its_details_closed() {
    let (state, api) = setup("abc", vec![]);
    let long = format!(
        "### verdict\n\n<details><summary>Full report</summary>\n\n```diff\n{}",
        "+ line\n".repeat(20_000)
    );
    ok(&run(&api, &artifact("long", "17", &long), None));
    let s = state.lock().unwrap();
    let body = s.comments[0]["body"].as_str().unwrap();
    assert!(body.chars().count() < 65_536, "{}", body.len());
    assert!(body.starts_with(MARKER));
    assert!(body.contains("```\n</details>"), "closed fence and details");
    assert!(body.ends_with("run `cargo xtask review` for the whole report)\n"));
}
