//! The secret never shows: not in `Debug`, error `Display`/`Debug`, nor
//! tracing output (the runtime's spans and events, and reqwest's `log`
//! records, captured at TRACE level) — even when the server echoes it back.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use common::*;
use snapsdk_runtime::{__private::http::Method, AuthRequirement};
use snapsdk_runtime::{ClientBuilder, Credentials, Error, OperationInfo, Request, RetryConfig};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

static BASIC_OP: OperationInfo = OperationInfo {
    id: "get_basic",
    method: Method::GET,
    path_template: "/basic/{id}",
    auth: AuthRequirement::Schemes(&["login"]),
    retryable: true,
};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn b64_of_key() -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:x"))
}

/// Every form of the secret a leak could take.
fn assert_clean(what: &str, text: &str) {
    for secret in [KEY.to_owned(), b64_of_key()] {
        assert!(!text.contains(&secret), "{what} leaks the secret: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_appear_in_debug_errors_or_traces() {
    let logs = Buffer::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .try_init()
        .expect("the only global subscriber in this test binary");

    let server = MockServer::start().await;
    // What a careless server might send back: the key (header scheme), and
    // the key plus its Basic form (Basic scheme).
    let echo = format!("invalid key {KEY}; key={KEY}");
    let echo_basic = format!("invalid key {KEY} (Authorization: Basic {})", b64_of_key());
    Mock::given(path("/things/401"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_string(&echo)
                .insert_header("www-authenticate", echo.as_str()),
        )
        .mount(&server)
        .await;
    Mock::given(path("/things/200"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": KEY})))
        .mount(&server)
        .await;
    Mock::given(path("/things/429"))
        .respond_with(
            ResponseTemplate::new(429)
                .set_body_string(&echo)
                .insert_header("retry-after", "999"),
        )
        .mount(&server)
        .await;
    Mock::given(path("/basic/1"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_string(&echo_basic)
                .insert_header("x-debug", echo_basic.as_str()),
        )
        .mount(&server)
        .await;

    let header_client = builder(&server.uri()).build().unwrap();
    let basic_client = ClientBuilder::new(&VENDOR)
        .base_url(server.uri())
        .credentials(Credentials::basic("login", KEY, "x"))
        .retry(RetryConfig::default().with_backoff(Duration::from_millis(1), Duration::from_millis(2)))
        .build()
        .unwrap();
    let mut texts: Vec<(String, String)> = Vec::new();
    let mut record = |what: &str, err: &Error| {
        texts.push((format!("{what} Display"), err.to_string()));
        texts.push((format!("{what} Debug"), format!("{err:?}")));
        texts.push((format!("{what} alternate Debug"), format!("{err:#?}")));
    };

    // A 401 that echoes the key in its body and a header.
    let err = header_client.execute(get("401")).await.unwrap_err();
    let Error::Api(api) = &err else { panic!("{err:?}") };
    assert_eq!(api.status.as_u16(), 401);
    assert!(
        api.body_text().contains("invalid key <redacted>"),
        "{}",
        api.body_text()
    );
    record("401", &err);

    // A success whose body has the key where a number belongs: serde quotes it.
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Thing {
        id: i64,
    }
    let resp = header_client.execute(get("200")).await.unwrap();
    let err = resp.json::<Thing>().await.unwrap_err();
    assert!(matches!(err, Error::Decode(_)), "{err:?}");
    record("decode", &err);

    // A 429 over the cap echoing the key.
    let err = header_client.execute(get("429")).await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    record("429", &err);

    // HTTP Basic: the base64 form, over three retried attempts.
    let req = Request::new(&BASIC_OP, "/basic/1".to_owned());
    let err = basic_client.execute(req).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(
        err.as_api().unwrap().body_text(),
        "invalid key <redacted> (Authorization: <redacted>)"
    );
    record("basic 500", &err);

    // The secret really was on the wire, so the checks above mean something.
    let seen = server.received_requests().await.unwrap();
    assert!(seen
        .iter()
        .any(|r| r.headers.get("x-api-key").is_some_and(|v| v == KEY)));
    assert!(seen.iter().any(|r| r
        .headers
        .get("authorization")
        .is_some_and(|v| v.to_str().unwrap().contains(&b64_of_key()))));
    assert_eq!(seen.len(), 1 + 1 + 1 + 3);

    // A refused connection and a timeout.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let err = builder(&dead)
        .retry(RetryConfig::disabled())
        .build()
        .unwrap()
        .execute(get("1"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Connection { .. }), "{err:?}");
    record("connection", &err);

    // Build-time refusals never echo the key.
    for bad in [format!("{KEY}\n"), format!(" {KEY}"), format!("{KEY}\r\nx-evil: 1")] {
        let err = ClientBuilder::new(&VENDOR)
            .credentials(Credentials::header("api_key", "x-api-key", &bad))
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err:?}");
        record("config", &err);
        let err = Credentials::basic("login", &bad, "x").unwrap_err();
        record("basic config", &err);
    }
    let err = ClientBuilder::new(&VENDOR)
        .base_url(format!("https://user:{KEY}@h.example"))
        .build()
        .unwrap_err();
    record("userinfo", &err);

    // Debug of everything holding the key.
    texts.push((
        "credentials".into(),
        format!("{:?}", Credentials::basic("login", KEY, "x").unwrap()),
    ));
    texts.push(("builder".into(), format!("{:?}", builder(&server.uri()))));
    texts.push(("client".into(), format!("{header_client:?} {basic_client:#?}")));

    for (what, text) in &texts {
        assert_clean(what, text);
    }
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert_clean("tracing output", &logs);
    // And the span carries what it should.
    for needle in [
        "snapsdk.request",
        "operation=\"get_thing\"",
        "method=GET",
        "path=\"/things/{id}\"",
        "attempt=1",
        "status=401",
        "elapsed_ms=",
        "retrying",
        "attempt=3",
    ] {
        assert!(logs.contains(needle), "tracing output lacks {needle:?}:\n{logs}");
    }
}

#[test]
fn plain_http_to_a_remote_host_is_refused_with_credentials() {
    let err = builder("http://api.example.com").build().unwrap_err();
    assert!(matches!(&err, Error::Config(m) if m.contains("unencrypted")), "{err:?}");
    builder("http://api.example.com")
        .allow_insecure_http(true)
        .build()
        .unwrap();
    for ok in [
        "http://127.0.0.1:9",
        "http://localhost:9",
        "http://[::1]:9",
        "https://api.example.com",
    ] {
        builder(ok).build().unwrap();
    }
    // Without credentials there is nothing to leak.
    ClientBuilder::new(&VENDOR)
        .base_url("http://api.example.com")
        .build()
        .unwrap();
    assert!(VENDOR.base_url.starts_with("https://"));
}
