//! The test kit (feature `test-util`): answers go through the production
//! pipeline (retries, limits, errors, auth), calls are recorded as sent with
//! the credentials redacted, misses are loud.

mod common;

use std::time::Duration;

use common::*;
use serde::{Deserialize, Serialize};
use snapsdk_runtime::mock::{Answer, MockServer, Part, RecordedBody};
use snapsdk_runtime::{Error, Extras, Request, StopReason};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Thing {
    id: u32,
    name: String,
}

fn client(mock: &MockServer) -> snapsdk_runtime::Client {
    builder("https://api.testvendor.example").mock(mock).build().unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_typed_answer_decodes_as_the_output_type() {
    let mock = MockServer::new();
    let thing = Thing { id: 7, name: "seven".into() };
    mock.on("get_thing").answer_json(&thing);
    let got: Thing = client(&mock).execute(get("7")).await.unwrap().json().await.unwrap();
    assert_eq!(got, thing);
}

#[tokio::test(start_paused = true)]
async fn a_sequence_503_503_200_is_retried_without_sleeping() {
    let mock = MockServer::new();
    let rule = mock.on("get_thing").answer_sequence([Answer::status(503), Answer::status(503).with_header("retry-after", "30"), Answer::json(Thing { id: 1, name: "a".into() })]);
    let wall = std::time::Instant::now();
    let started = tokio::time::Instant::now();
    let client = builder("https://api.testvendor.example").mock(&mock).retry(snapsdk_runtime::RetryConfig::default()).build().unwrap();
    let thing: Thing = client.execute(get("1")).await.unwrap().json().await.unwrap();
    assert_eq!(thing.id, 1);
    assert_eq!(rule.used(), 3);
    assert_eq!(mock.calls_to("get_thing").iter().map(|c| c.attempt).collect::<Vec<_>>(), [1, 2, 3]);
    // The second 503's Retry-After was honoured on the paused clock...
    assert!(started.elapsed() >= Duration::from_secs(30), "{:?}", started.elapsed());
    // ...and took no real time.
    assert!(wall.elapsed() < Duration::from_secs(5), "{:?}", wall.elapsed());
    mock.verify();
}

#[tokio::test(start_paused = true)]
async fn an_error_rule_yields_the_matching_error() {
    let mock = MockServer::new();
    mock.on("get_thing").once().answer(Answer::error(404, serde_json::json!({"error": "no such thing"})).with_header("x-request-id", "req-1"));
    let err = client(&mock).execute(get("1")).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(err.request_id(), Some("req-1"));
    assert_eq!(err.as_api().unwrap().body_text(), r#"{"error":"no such thing"}"#);
    assert_eq!(err.attempts().unwrap().stopped_by, StopReason::NotRetryable);

    // A 429 asking for longer than the client waits: RateLimited, with the wait.
    mock.on("get_thing").answer(Answer::rate_limited(Duration::from_secs(3600)));
    let err = client(&mock).execute(get("1")).await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3600)));
}

#[tokio::test(start_paused = true)]
async fn faults_take_the_production_paths() {
    let mock = MockServer::new();
    // A timeout: the attempt limit ends each attempt; GET retries up to max_attempts.
    mock.on("get_thing").answer(Answer::timeout());
    let client = builder("https://api.testvendor.example").mock(&mock).timeout(Duration::from_secs(2)).build().unwrap();
    let err = client.execute(get("1")).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { limit: "attempt", .. }), "{err}");
    assert_eq!(err.attempts().unwrap().stopped_by, StopReason::MaxAttempts(3));

    // A reset after a POST went out is not resent; a refused connection is.
    mock.on("create_thing").once().answer(Answer::connection_reset());
    let err = client.execute(create()).await.unwrap_err();
    assert!(matches!(err, Error::Connection { .. }), "{err}");
    assert_eq!(err.attempts().unwrap().stopped_by, StopReason::NotIdempotent);
    mock.on("create_thing").answer_sequence([Answer::connection_refused(), Answer::status(201)]);
    assert_eq!(client.execute(create()).await.unwrap().status(), 201);

    // A body that stalls: the idle limit; one that breaks off: a connection error.
    let reads = [(Answer::status(200).with_body("[1,").then_stall(), "idle"), (Answer::status(200).with_body("[1,").then_break(), "connection")];
    for (answer, want) in reads {
        let mock = MockServer::new();
        mock.on("get_thing").answer(answer);
        let client = builder("https://api.testvendor.example").mock(&mock).retry(snapsdk_runtime::RetryConfig::disabled()).build().unwrap();
        let err = client.execute(get("1")).await.unwrap_err();
        match want {
            "idle" => assert!(matches!(err, Error::Timeout { limit: "idle", .. }), "{err}"),
            _ => assert!(matches!(err, Error::Connection { .. }), "{err}"),
        }
    }
}

#[tokio::test(start_paused = true)]
async fn the_recorded_call_is_what_was_sent_with_the_credentials_redacted() {
    let mock = MockServer::new();
    mock.on("get_thing").answer(Answer::status(200));
    let mut req = get("a b/c");
    req.query = "tag=x%26y&tag=z".into();
    client(&mock).execute(req).await.unwrap();
    let call = mock.last_call().unwrap();
    assert_eq!((call.operation, call.method.as_str(), call.path.as_str()), ("get_thing", "GET", "/things/a%20b%2Fc"));
    assert_eq!(call.query_params("tag"), ["x&y", "z"]);
    assert_eq!(call.header("x-api-key"), Some("<redacted>"));
    assert!(call.header("user-agent").unwrap().starts_with("testvendor/0.0.0"));
    assert!(!format!("{call:?}").contains(KEY), "the key leaks: {call:?}");
    assert_eq!(call.body, RecordedBody::Empty);

    mock.on("create_thing").answer(Answer::status(201));
    client(&mock).execute(create()).await.unwrap();
    let call = mock.last_call().unwrap();
    assert_eq!(call.json(), Some(&serde_json::json!({"name": "x"})));
    assert_eq!(call.header("content-type"), Some("application/json"));
}

#[tokio::test(start_paused = true)]
async fn form_and_multipart_bodies_are_recorded_by_field() {
    let mock = MockServer::new();
    mock.on("upload_file").answer(Answer::status(201));
    let client = client(&mock);
    let mut req = Request::new(&UPLOAD, "/uploads".into());
    req.body = snapsdk_runtime::Body::form("upload_file", &[("a", "1 2"), ("b", "&=")]).unwrap();
    client.execute(req).await.unwrap();
    assert_eq!(mock.last_call().unwrap().body, RecordedBody::Form(vec![("a".into(), "1 2".into()), ("b".into(), "&=".into())]));
    assert_eq!(mock.last_call().unwrap().form_field("b"), Some("&="));

    let mut req = Request::new(&UPLOAD, "/uploads".into());
    let file = snapsdk_runtime::FilePart::from_bytes(&b"\x00binary\r\n--not-a-boundary"[..]).file_name("a \"b\".txt").mime("text/plain");
    req.body = snapsdk_runtime::Body::Multipart(snapsdk_runtime::Multipart::new().text("title", "hello").file("file", file));
    client.execute(req).await.unwrap();
    let call = mock.last_call().unwrap();
    assert_eq!(call.part("title").map(Part::text).as_deref(), Some("hello"));
    let file = call.part("file").unwrap();
    assert_eq!(file.data.as_ref(), b"\x00binary\r\n--not-a-boundary");
    assert_eq!(file.file_name.as_deref(), Some("a \"b\".txt"));
    assert_eq!(file.content_type.as_deref(), Some("text/plain"));
}

#[tokio::test(start_paused = true)]
async fn rules_match_by_predicate_in_order_and_run_out() {
    let mock = MockServer::new();
    mock.on("get_thing").when(|c| c.path.ends_with("/1")).named("thing one").once().answer_json(Thing { id: 1, name: "one".into() });
    mock.on("get_thing").answer(Answer::error(404, "{}"));
    let client = client(&mock);
    let one: Thing = client.execute(get("1")).await.unwrap().json().await.unwrap();
    assert_eq!(one.id, 1);
    assert!(client.execute(get("2")).await.unwrap_err().is_not_found());
    // The `once` rule is used up: thing 1 now falls through to the 404.
    assert!(client.execute(get("1")).await.unwrap_err().is_not_found());
    mock.assert_called("get_thing", 3);
}

#[tokio::test(start_paused = true)]
async fn a_miss_names_the_operation_and_the_rules_and_is_not_retried() {
    let mut mock = MockServer::new();
    mock.on("get_thing").when(|c| c.path == "/things/1").named("only thing 1").answer(Answer::status(200));
    let err = client(&mock).execute(create()).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    for want in ["create_thing", "POST /things", "mock.on(\"create_thing\")", "`get_thing` \"only thing 1\""] {
        assert!(text.contains(want), "{want:?} missing from: {text}");
    }
    mock.assert_called("create_thing", 1);
    // A GET no rule answers is not retried either (the miss is not a transient failure).
    let err = client(&mock).execute(get("2")).await.unwrap_err();
    assert!(err.to_string().contains("GET /things/2"), "{err}");
    mock.assert_called("get_thing", 1);
    assert_eq!(mock.problems().len(), 2, "the misses are reported at the end too");
    mock.skip_verify();
}

#[test]
fn verify_and_drop_report_an_unused_expected_rule() {
    let mock = MockServer::new();
    mock.on("get_thing").times(2).named("twice").answer(Answer::status(200));
    mock.on("list").answer(Answer::status(200)); // always: no expectation
    let problems = mock.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("\"twice\", 0 of 2 answers used"), "{problems:?}");
    let on_drop = std::panic::catch_unwind(move || drop(mock)).unwrap_err();
    let text = on_drop.downcast_ref::<String>().unwrap();
    assert!(text.contains("twice"), "{text}");
}

#[tokio::test(start_paused = true)]
async fn extras_go_on_the_call() {
    let mock = MockServer::new();
    mock.on("get_thing").answer(Answer::status(200));
    let mut req = get("1");
    req.query = "a=1".into();
    req.extras = Extras::new().header("x-beta-feature", "on").header("Accept-Language", "fr").query("beta", "x y&z");
    client(&mock).execute(req).await.unwrap();
    let call = mock.last_call().unwrap();
    assert_eq!(call.header("x-beta-feature"), Some("on"));
    assert_eq!(call.header("accept-language"), Some("fr"));
    assert_eq!(call.query, [("a".to_owned(), "1".to_owned()), ("beta".to_owned(), "x y&z".to_owned())]);
}

#[tokio::test(start_paused = true)]
async fn hostile_extras_are_refused_before_anything_is_sent() {
    let mock = MockServer::new();
    mock.on("get_thing").answer(Answer::status(200));
    let client = client(&mock);
    let cases: &[(&str, &str, &str)] = &[
        ("x-api-key", "stolen", "credentials"),
        ("X-API-KEY", "stolen", "credentials"),
        ("host", "evil.example", "Host"),
        ("Content-Length", "0", "frames the body"),
        ("transfer-encoding", "chunked", "frames the body"),
        ("connection", "close", "connection"),
        ("x-ok", "a\r\nx-api-key: stolen", "CR, LF"),
        ("x-ok", "a\nb", "CR, LF"),
        ("x-ok\r\nx-api-key", "stolen", "not a header name"),
        ("bad name", "v", "not a header name"),
        ("", "v", "not a header name"),
    ];
    for (name, value, why) in cases {
        let mut req = get("1");
        req.extras = Extras::new().header(*name, *value);
        let err = client.execute(req).await.unwrap_err();
        assert!(matches!(&err, Error::InvalidArgument { name: n, .. } if n == "extra header"), "{name:?}: {err:?}");
        assert!(err.to_string().contains(why), "{name:?}: {err}");
        assert!(!err.to_string().contains("stolen"), "a value is never echoed: {err}");
    }
    let mut req = get("1");
    req.extras = Extras::new().query("", "x");
    assert!(matches!(client.execute(req).await.unwrap_err(), Error::InvalidArgument { .. }));
    assert!(mock.calls().is_empty(), "nothing was sent: {:?}", mock.calls());
}
