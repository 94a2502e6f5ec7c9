//! Round two against hostile loopback servers: stalled and oversized bodies,
//! missing keys, retries that know what was sent, secrets in escaped forms,
//! redirects, hold-offs and connection caps. Each case asserts the outcome
//! and how many requests the server saw. Clock-dependent cases use tokio's
//! paused clock, so a stall costs no wall time; every wait is bounded by a
//! limit under test or by an outer `timeout`.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use futures_util::StreamExt;
use snapsdk_runtime::__private::http::Method;
use snapsdk_runtime::{
    AuthRequirement, Body, ClientBuilder, Error, FilePart, Multipart, OperationInfo, Request, RequestOptions,
    RetryConfig,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Far beyond every limit under test: reaching it means the limit did not fire.
const NEVER: Duration = Duration::from_secs(24 * 3600);

fn stream_get(id: &str) -> Request {
    let mut r = get(id);
    r.buffer = false;
    r
}

/// Headers and `sent` bytes of a `total`-byte body, then silence with the socket held open.
fn stall_after(
    sent: usize,
    total: usize,
) -> impl Fn(usize, TcpStream) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    move |_, mut s| {
        Box::pin(async move {
            let head = format!("HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {total}\r\n\r\n");
            let _ = s.write_all(head.as_bytes()).await;
            let _ = s.write_all(&vec![b' '; sent]).await;
            let _ = s.flush().await;
            let _held = s;
            std::future::pending::<()>().await;
        })
    }
}

// ---- 1. bodies that stop flowing, bodies too large ----

#[tokio::test(start_paused = true)]
async fn a_stalled_stream_fails_after_the_default_idle_limit() {
    let server = RawServer::start(stall_after(1000, 1_000_000)).await;
    let client = builder(&server.url()).build().unwrap();
    let started = Instant::now();
    let outcome = tokio::time::timeout(NEVER, async {
        let resp = client.execute(stream_get("1")).await?;
        resp.into_stream().collect_all().await
    })
    .await
    .expect("the idle limit must end a stalled stream");
    let err = outcome.unwrap_err();
    assert!(matches!(err, Error::Timeout { limit: "idle", .. }), "{err:?}");
    assert_eq!(started.elapsed(), Duration::from_secs(30), "the default idle limit");
    assert!(err.to_string().contains("idle"), "{err}");
    assert_eq!(
        server.hits(),
        1,
        "a stream that broke after its headers is not retried by the client"
    );
}

trait CollectAll {
    async fn collect_all(self) -> Result<usize, Error>;
}

impl CollectAll for snapsdk_runtime::ByteStream {
    async fn collect_all(mut self) -> Result<usize, Error> {
        let mut n = 0;
        while let Some(chunk) = self.next().await {
            n += chunk?.len();
        }
        Ok(n)
    }
}

#[tokio::test(start_paused = true)]
async fn a_stalled_file_download_fails_and_leaves_no_file() {
    let server = RawServer::start(stall_after(4096, 1_000_000)).await;
    let client = builder(&server.url()).build().unwrap();
    let dir = std::env::temp_dir().join(format!("snapsdk-stall-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let target = dir.join("download.bin");
    let outcome = tokio::time::timeout(NEVER, async {
        let resp = client.execute(stream_get("1")).await?;
        resp.into_stream().write_to_file(&target).await
    })
    .await
    .expect("the idle limit must end a stalled download");
    let err = outcome.unwrap_err();
    assert!(matches!(err, Error::Timeout { limit: "idle", .. }), "{err:?}");
    assert!(!target.exists());
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "no partial file left behind"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(server.hits(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_stalled_buffered_body_fails_on_the_idle_limit_not_the_attempt_limit() {
    let server = RawServer::start(stall_after(10, 100)).await;
    let client = builder(&server.url())
        .timeout(Duration::from_secs(3600))
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let started = Instant::now();
    let err = tokio::time::timeout(NEVER, client.execute(get("1")))
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { limit: "idle", .. }), "{err:?}");
    assert_eq!(started.elapsed(), Duration::from_secs(30));
    assert_eq!(server.hits(), 1);
}

/// A server that reads the request head, then never reads again.
async fn deaf_server() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let h = h.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                h.fetch_add(1, Ordering::SeqCst);
                let _held = s;
                std::future::pending::<()>().await;
            });
        }
    });
    (url, hits)
}

#[tokio::test(start_paused = true)]
async fn an_upload_the_server_stops_reading_fails_on_the_idle_limit() {
    let (url, hits) = deaf_server().await;
    let client = builder(&url)
        .timeout(Duration::from_secs(3600))
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let mut req = Request::new(&UPLOAD, "/uploads".to_owned());
    // Far more than the loopback socket buffers hold.
    req.body = Body::Multipart(Multipart::new().file("file", FilePart::from_bytes(vec![7u8; 64 << 20])));
    let started = Instant::now();
    let err = tokio::time::timeout(NEVER, client.execute(req))
        .await
        .expect("the idle limit must end a stalled upload")
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { limit: "idle", .. }), "{err:?}");
    assert_eq!(started.elapsed(), Duration::from_secs(30));
    assert!(err.to_string().contains("stalled"), "{err}");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn a_huge_content_length_is_refused_before_reading() {
    let server = RawServer::start(|_, mut s| async move {
        let head = "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: 1073741824\r\n\r\n{";
        let _ = s.write_all(head.as_bytes()).await;
        let _held = s;
        std::future::pending::<()>().await;
    })
    .await;
    let client = builder(&server.url()).build().unwrap();
    let started = Instant::now();
    let err = client.execute(get("1")).await.unwrap_err();
    assert_eq!(started.elapsed(), Duration::ZERO, "refused at the headers");
    let text = err.to_string();
    assert!(text.contains("1073741824") && text.contains("max_body_size"), "{text}");
    assert!(!err.is_retryable());
    assert_eq!(server.hits(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_huge_chunked_body_is_cut_at_the_cap() {
    let server = RawServer::start(|_, mut s| async move {
        let head = "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
        let _ = s.write_all(head.as_bytes()).await;
        let chunk = vec![b' '; 1 << 20];
        // 48 MiB of whitespace, then a valid document: within no cap of 32 MiB.
        for _ in 0..48 {
            let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
            frame.extend_from_slice(&chunk);
            frame.extend_from_slice(b"\r\n");
            if s.write_all(&frame).await.is_err() {
                return;
            }
        }
        let _ = s.write_all(b"2\r\n{}\r\n0\r\n\r\n").await;
    })
    .await;
    let client = builder(&server.url()).build().unwrap();
    let err = client.execute(get("1")).await.unwrap_err();
    assert!(err.to_string().contains("max_body_size"), "{err}");
    assert_eq!(server.hits(), 1);
}

// ---- 2. missing credentials ----

static PUBLIC_OP: OperationInfo = OperationInfo {
    id: "get_status",
    method: Method::GET,
    path_template: "/status",
    auth: AuthRequirement::None,
    retryable: true,
};

#[tokio::test]
async fn a_call_that_needs_a_key_fails_before_sending_on_a_client_without_one() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .mount(&server)
        .await;
    let client = ClientBuilder::new(&VENDOR).base_url(server.uri()).build().unwrap();
    let err = client.execute(get("1")).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("get_thing") && text.contains(".api_key(..)") && text.contains("builder"),
        "{text}"
    );
    assert!(!err.is_retryable());
    assert_eq!(server.received_requests().await.unwrap().len(), 0);
    // A public operation needs no key.
    let resp = client
        .execute(Request::new(&PUBLIC_OP, "/status".to_owned()))
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let seen = server.received_requests().await.unwrap();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].headers.get("x-api-key").is_none());
}

// ---- 3. retries that know whether the request was sent ----

#[tokio::test(start_paused = true)]
async fn a_refused_connection_is_retried_even_for_a_post() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = builder(&url).build().unwrap();
    let err = client.execute(create()).await.unwrap_err();
    assert!(matches!(err, Error::Connection { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("3 attempts") && text.contains("max_attempts"),
        "nothing was sent, so all 3 attempts run: {text}"
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn is_retryable_says_what_the_client_would_do_for_the_operation() {
    let server = MockServer::start().await;
    Mock::given(path("/things"))
        .respond_with(ResponseTemplate::new(500).set_body_string("boom"))
        .mount(&server)
        .await;
    Mock::given(path("/things/1"))
        .respond_with(ResponseTemplate::new(500).set_body_string("boom"))
        .mount(&server)
        .await;
    let client = builder(&server.uri()).build().unwrap();
    let post = client.execute(create()).await.unwrap_err();
    assert!(!post.is_retryable(), "a 500 on a POST is not retried by the client");
    assert!(post.to_string().contains("not idempotent"), "{post}");
    let mut opted = create();
    opted.options = RequestOptions::new().retry_non_idempotent(true);
    assert!(client.execute(opted).await.unwrap_err().is_retryable());
    let get_err = client.execute(get("1")).await.unwrap_err();
    assert!(get_err.is_retryable());
    assert_eq!(server.received_requests().await.unwrap().len(), 1 + 3 + 3);
}

#[tokio::test(start_paused = true)]
async fn errors_after_retries_say_how_many_attempts_how_long_and_what_stopped_them() {
    let server = RawServer::start(|_, s| async move {
        let _held = s;
        std::future::pending::<()>().await;
    })
    .await;
    let client = builder(&server.url())
        .timeout(Duration::from_secs(2))
        .retry(RetryConfig::default().with_backoff(Duration::ZERO, Duration::ZERO))
        .build()
        .unwrap();
    let err = client.execute(get("1")).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("attempt limit")
            && text.contains("3 attempts")
            && text.contains("6.00 s")
            && text.contains("max_attempts"),
        "{text}"
    );
    assert_eq!(server.hits(), 3);

    let server = RawServer::start(|_, s| reply(s, response("503 Service Unavailable", &[], "down"))).await;
    let client = builder(&server.url()).build().unwrap();
    let text = client.execute(get("1")).await.unwrap_err().to_string();
    assert!(
        text.contains("503") && text.contains("3 attempts") && text.contains("max_attempts"),
        "{text}"
    );
    assert_eq!(server.hits(), 3);
}

// ---- 4. errors stay readable and name what they touched ----

#[tokio::test]
async fn debug_of_an_api_error_shows_a_bounded_body_and_its_length() {
    let page = format!("<html>{}</html>", "x".repeat(3000));
    let server = MockServer::start().await;
    Mock::given(path("/things/1"))
        .respond_with(ResponseTemplate::new(404).set_body_string(page.clone()))
        .mount(&server)
        .await;
    let err = builder(&server.uri())
        .build()
        .unwrap()
        .execute(get("1"))
        .await
        .unwrap_err();
    let debug = format!("{err:?}");
    assert!(debug.len() < 1024 + 600, "{} chars: {debug}", debug.len());
    assert!(debug.contains(&format!("{} bytes", page.len())), "{debug}");
    assert_eq!(
        err.as_api().unwrap().body.len(),
        page.len(),
        "the body itself is kept whole"
    );
}

#[tokio::test]
async fn io_errors_name_the_operation_and_the_file() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("data"))
        .mount(&server)
        .await;
    let client = builder(&server.uri()).build().unwrap();
    let target = std::env::temp_dir().join("snapsdk-no-such-dir/sub/out.bin");
    let err = client
        .execute(stream_get("1"))
        .await
        .unwrap()
        .into_stream()
        .write_to_file(&target)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(text.contains("get_thing") && text.contains("out.bin"), "{text}");

    let missing = std::env::temp_dir().join("snapsdk-no-such-upload.bin");
    let mut req = Request::new(&UPLOAD, "/uploads".to_owned());
    req.body = Body::Multipart(Multipart::new().file("file", FilePart::from_path(&missing)));
    let err = client.execute(req).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("upload_file") && text.contains("snapsdk-no-such-upload.bin"),
        "{text}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

// ---- 5. what the hostile-server probe found ----

#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct Case {
    #[serde(rename = "caseId")]
    case_id: String,
}

#[tokio::test]
async fn trailing_data_after_the_json_value_is_a_decode_error() {
    let server = MockServer::start().await;
    for (p, body) in [
        ("/things/1", "{\"caseId\":\"A\"} <html>oops</html>"),
        ("/things/2", "{\"caseId\":\"A\"}{\"caseId\":\"B\"}"),
        ("/things/3", "{\"caseId\":\"A\"} \r\n\t "),
    ] {
        Mock::given(path(p))
            .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
            .mount(&server)
            .await;
    }
    let client = builder(&server.uri()).build().unwrap();
    for id in ["1", "2"] {
        let err = client.execute(get(id)).await.unwrap().json::<Case>().await.unwrap_err();
        assert!(
            matches!(&err, Error::Decode(d) if d.message.contains("trailing")),
            "{id}: {err:?}"
        );
    }
    // Whitespace after the value is fine.
    assert_eq!(
        client
            .execute(get("3"))
            .await
            .unwrap()
            .json::<Case>()
            .await
            .unwrap()
            .case_id,
        "A"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_request_that_cannot_be_formed_is_an_invalid_argument_never_sent() {
    let server = RawServer::start(|_, s| reply(s, response("200 OK", &[], "{}"))).await;
    let client = builder(&server.url()).build().unwrap();
    let err = client.execute(get(&"a".repeat(100_000))).await.unwrap_err();
    assert!(matches!(&err, Error::InvalidArgument { .. }), "{err:?}");
    assert!(!err.is_retryable());
    assert!(
        err.to_string().len() < 1000,
        "the message does not repeat the value: {err}"
    );
    // So is a long query.
    let mut req = get("1");
    req.query = format!("q={}", "b".repeat(65_600));
    let err = client.execute(req).await.unwrap_err();
    assert!(
        matches!(&err, Error::InvalidArgument { .. }) && !err.is_retryable(),
        "{err:?}"
    );
    assert_eq!(server.hits(), 0);
}

/// C1 controls (U+0080 to U+009F, NEL among them) and the Unicode line and
/// paragraph separators end a line for some parsers: percent-encoded like
/// the ASCII controls, while other non-ASCII letters go out as they are.
#[tokio::test]
async fn multipart_file_names_encode_c1_controls_and_unicode_line_separators() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201))
        .mount(&server)
        .await;
    let client = builder(&server.uri()).build().unwrap();
    let name = "a\u{80}b\u{85}c\u{9F}d\u{2028}e\u{2029}f\u{7F}g\"h\u{A0}é.txt";
    let mut req = Request::new(&UPLOAD, "/uploads".to_owned());
    req.body = Body::Multipart(Multipart::new().file("file", FilePart::from_bytes(&b"hi"[..]).file_name(name)));
    client.execute(req).await.unwrap();
    let seen = server.received_requests().await.unwrap();
    let body = String::from_utf8_lossy(&seen[0].body);
    let disposition = body
        .split("\r\n")
        .find(|l| l.starts_with("Content-Disposition"))
        .unwrap();
    assert!(
        disposition.ends_with("filename=\"a%C2%80b%C2%85c%C2%9Fd%E2%80%A8e%E2%80%A9f%7Fg%22h\u{A0}é.txt\""),
        "{disposition:?}"
    );
    for c in (0x80..=0x9F)
        .chain([0x2028, 0x2029])
        .map(|c| char::from_u32(c).unwrap())
    {
        assert!(!body.contains(c), "{c:?} went out raw: {body:?}");
    }
}

#[tokio::test]
async fn multipart_file_names_cannot_inject_headers() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201))
        .mount(&server)
        .await;
    let client = builder(&server.uri()).build().unwrap();
    let evil = "a.txt\r\nContent-Type: text/html\r\n\r\n<script>";
    let mut req = Request::new(&UPLOAD, "/uploads".to_owned());
    req.body = Body::Multipart(Multipart::new().file("file", FilePart::from_bytes(&b"hi"[..]).file_name(evil)));
    client.execute(req).await.unwrap();

    // The same through a file whose name holds a newline (legal on Unix).
    let dir = std::env::temp_dir().join(format!("snapsdk-names-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("b.txt\r\nX-Injected: 1");
    std::fs::write(&file, "hi").unwrap();
    let mut req = Request::new(&UPLOAD, "/uploads".to_owned());
    req.body = Body::Multipart(Multipart::new().file("file", FilePart::from_path(&file)));
    client.execute(req).await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();

    let seen = server.received_requests().await.unwrap();
    assert_eq!(seen.len(), 2);
    for r in &seen {
        let body = String::from_utf8_lossy(&r.body);
        let disposition = body.lines().find(|l| l.starts_with("Content-Disposition")).unwrap();
        assert!(disposition.contains("filename="), "{body}");
        assert!(
            !body
                .lines()
                .any(|l| l.starts_with("Content-Type: text/html") || l.starts_with("X-Injected")),
            "an injected header line: {body:?}"
        );
        assert!(
            disposition.contains("%0D%0A") || disposition.contains("%0A"),
            "{disposition}"
        );
    }
}

/// A server that records whether it ever saw the key.
async fn key_catcher() -> (MockServer, Arc<Mutex<Vec<String>>>) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .mount(&server)
        .await;
    (server, Arc::new(Mutex::new(Vec::new())))
}

#[tokio::test]
async fn a_callers_reqwest_client_never_carries_the_key_to_another_origin() {
    let (other, _) = key_catcher().await;
    let origin = MockServer::start().await;
    Mock::given(path("/things/1"))
        .respond_with(ResponseTemplate::new(307).insert_header("location", format!("{}/stolen", other.uri()).as_str()))
        .mount(&origin)
        .await;
    let own = snapsdk_runtime::http_client_builder().unwrap().build().unwrap();
    match builder(&origin.uri()).http_client(own).build() {
        // Refused: the runtime cannot stop this client following redirects.
        Err(err) => assert!(
            matches!(&err, Error::Config(m) if m.contains("http_client_builder")),
            "{err:?}"
        ),
        Ok(client) => {
            let _ = client.execute(get("1")).await;
        }
    }
    let leaked = other
        .received_requests()
        .await
        .unwrap()
        .iter()
        .any(|r| r.headers.get("x-api-key").is_some());
    assert!(!leaked, "the key reached another origin");
}

#[tokio::test(start_paused = true)]
async fn a_waiting_call_honours_a_later_longer_retry_after() {
    // Request 1 (slow): 429 "wait 5 s" after 350 ms. Request 2: 429 "wait 1 s" at once. Then 200s.
    let server = RawServer::start(|n, s| async move {
        match n {
            1 => {
                tokio::time::sleep(Duration::from_millis(350)).await;
                reply(s, response("429 Too Many Requests", &[("retry-after", "5")], "")).await
            }
            2 => reply(s, response("429 Too Many Requests", &[("retry-after", "1")], "")).await,
            _ => reply(s, response("200 OK", &[], "{}")).await,
        }
    })
    .await;
    let client = builder(&server.url()).build().unwrap();
    let start = Instant::now();
    let once = |id: &str| {
        let mut r = get(id);
        r.options = RequestOptions::new().max_attempts(1);
        r
    };
    let slow = tokio::spawn({
        let c = client.clone();
        let r = once("slow");
        async move { c.execute(r).await.map(|_| ()) }
    });
    while server.hits() < 1 {
        tokio::task::yield_now().await;
    }
    client.execute(once("fast")).await.unwrap_err();
    // This call waits out the 1 s hold-off; at 0.35 s the slow answer says 5 s.
    let waiting = tokio::spawn({
        let c = client.clone();
        async move { c.execute(get("w")).await.map(|r| r.status().as_u16()) }
    });
    assert!(matches!(slow.await.unwrap(), Err(Error::RateLimited { .. })));
    assert_eq!(waiting.await.unwrap().unwrap(), 200);
    let arrivals = server.arrivals();
    assert_eq!(arrivals.len(), 3);
    assert!(
        arrivals[2] - start >= Duration::from_millis(5350),
        "sent {:?} after the start",
        arrivals[2] - start
    );
}

#[tokio::test(start_paused = true)]
async fn an_absurd_retry_after_does_not_lock_the_client_for_decades() {
    let server = RawServer::start(|n, s| {
        let bytes = if n == 1 {
            response("429 Too Many Requests", &[("retry-after", "999999999")], "")
        } else {
            response("200 OK", &[], "{}")
        };
        reply(s, bytes)
    })
    .await;
    let client = builder(&server.url()).build().unwrap();
    let err = client.execute(get("1")).await.unwrap_err();
    assert_eq!(
        err.retry_after(),
        Some(Duration::from_secs(999_999_999)),
        "the server's figure is reported as sent"
    );
    tokio::time::advance(Duration::from_secs(3601)).await;
    client
        .clone()
        .execute(get("1"))
        .await
        .expect("the shared hold-off has a ceiling of at most an hour");
    assert_eq!(server.hits(), 2);
}

#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn tracing_events_carry_neither_the_filled_in_path_nor_the_body() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let server = RawServer::start(|_, s| reply(s, response("503 Service Unavailable", &[], "body-secret-xyz"))).await;
    let client = builder(&server.url()).build().unwrap();
    let err = client.execute(get("person-4711-secret")).await.unwrap_err();
    assert!(
        err.to_string().contains("person-4711-secret"),
        "the error itself keeps the evidence: {err}"
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    builder(&dead)
        .build()
        .unwrap()
        .execute(get("person-4711-secret"))
        .await
        .unwrap_err();
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let ours: Vec<&str> = text.lines().filter(|l| l.contains("snapsdk_runtime")).collect();
    assert!(ours.iter().any(|l| l.contains("retrying")), "{text}");
    for line in &ours {
        assert!(!line.contains("person-4711") && !line.contains("body-secret"), "{line}");
    }
    assert_eq!(server.hits(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_thousand_concurrent_calls_share_a_bounded_number_of_connections() {
    let open = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (o, p) = (open.clone(), peak.clone());
    let server = RawServer::start(move |_, s| {
        let (o, p) = (o.clone(), p.clone());
        async move {
            let now = o.fetch_add(1, Ordering::SeqCst) + 1;
            p.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(100)).await;
            o.fetch_sub(1, Ordering::SeqCst);
            reply(s, response("200 OK", &[], "{}")).await;
        }
    })
    .await;
    let client = builder(&server.url())
        .operation_timeout(Duration::from_secs(3600))
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..1000)
        .map(|i| {
            let c = client.clone();
            tokio::spawn(async move { c.execute(get(&i.to_string())).await.map(|r| r.status().as_u16()) })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), 200);
    }
    assert_eq!(server.hits(), 1000);
    let peak = peak.load(Ordering::SeqCst);
    assert!(peak <= 32, "{peak} connections at once");
}

// ---- scenarios that held, now tests of our own ----

#[tokio::test]
async fn a_redirect_loop_ends_after_five_hops() {
    let server = MockServer::start().await;
    Mock::given(path("/things/1"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "/things/1"))
        .mount(&server)
        .await;
    let err = builder(&server.uri())
        .build()
        .unwrap()
        .execute(get("1"))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(302), "{err:?}");
    assert!(!err.is_retryable());
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        6,
        "the request and five redirects"
    );
}

#[tokio::test]
async fn a_303_after_a_post_is_followed_with_a_get_without_the_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/things"))
        .respond_with(ResponseTemplate::new(303).insert_header("location", "/things/9"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/things/9"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"caseId\":\"9\"}"))
        .mount(&server)
        .await;
    let client = builder(&server.uri()).build().unwrap();
    let case: Case = client.execute(create()).await.unwrap().json().await.unwrap();
    assert_eq!(case.case_id, "9");
    let seen = server.received_requests().await.unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].method.as_str(), "GET");
    assert!(seen[1].body.is_empty());
    assert!(seen[1].headers.get("content-type").is_none());
    assert_eq!(
        seen[1].headers.get("x-api-key").unwrap(),
        KEY,
        "same origin: the key goes along"
    );
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_call_leaves_no_ghost_retry() {
    let server = RawServer::start(|_, s| reply(s, response("503 Service Unavailable", &[], ""))).await;
    let client = builder(&server.url())
        .retry(RetryConfig::default().with_backoff(Duration::from_secs(10), Duration::from_secs(10)))
        .build()
        .unwrap();
    // Cancel during the backoff after the first attempt. Paused time jumps
    // ahead whenever the runtime idles, even while a socket is still busy,
    // so a timer cannot say when the first answer is in (a 50 ms timeout
    // here once fired before the request reached the server). Instead the
    // test spins without idling until the server has the request, gives
    // the client a few thousand turns to read the 503 and start its
    // backoff, then drops the call.
    let call = tokio::spawn({
        let client = client.clone();
        async move { client.execute(get("1")).await }
    });
    while server.hits() == 0 {
        tokio::task::yield_now().await;
    }
    for _ in 0..5000 {
        tokio::task::yield_now().await;
    }
    assert!(!call.is_finished(), "still waiting to retry");
    call.abort();
    assert!(call.await.unwrap_err().is_cancelled());
    assert_eq!(server.hits(), 1);
    tokio::time::sleep(Duration::from_secs(120)).await;
    assert_eq!(server.hits(), 1, "nothing was sent after the call was dropped");
}

// ---- the new settings, each shown to change the outcome ----

#[tokio::test(start_paused = true)]
async fn the_idle_limit_is_set_on_the_client_and_per_request() {
    let server = RawServer::start(stall_after(10, 1000)).await;
    let client = builder(&server.url())
        .idle_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client
        .execute(stream_get("1"))
        .await
        .unwrap()
        .into_stream()
        .collect_all()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { limit: "idle", .. }), "{err:?}");
    assert_eq!(started.elapsed(), Duration::from_secs(5));

    let mut req = stream_get("1");
    req.options = RequestOptions::new().idle_timeout(Duration::from_secs(2));
    let started = Instant::now();
    let err = client.execute(req).await.unwrap().bytes().await.unwrap_err();
    assert!(matches!(err, Error::Timeout { limit: "idle", .. }), "{err:?}");
    assert_eq!(started.elapsed(), Duration::from_secs(2));
    assert_eq!(server.hits(), 2);
    assert!(builder(&server.url()).idle_timeout(Duration::ZERO).build().is_err());
}

#[tokio::test]
async fn the_body_cap_is_configurable_and_streams_are_not_capped() {
    let server = MockServer::start().await;
    let body = format!("{{\"caseId\":\"{}\"}}", "z".repeat(5000));
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string(body.clone()))
        .mount(&server)
        .await;
    let small = builder(&server.uri()).max_body_size(1000).build().unwrap();
    let err = small.execute(get("1")).await.unwrap_err();
    assert!(
        matches!(err, Error::BodyTooLarge { limit: 1000, length: Some(n), .. } if n == body.len() as u64),
        "{err:?}"
    );
    // The same answer streamed is not capped.
    let streamed = small
        .execute(stream_get("1"))
        .await
        .unwrap()
        .into_stream()
        .collect()
        .await
        .unwrap();
    assert_eq!(streamed.len(), body.len());
    let case: Case = builder(&server.uri())
        .build()
        .unwrap()
        .execute(get("1"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(case.case_id.len(), 5000);
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_hold_off_has_a_configurable_ceiling_and_can_be_cleared() {
    let server = RawServer::start(|n, s| {
        let bytes = if n == 1 {
            response("429 Too Many Requests", &[("retry-after", "999999999")], "")
        } else {
            response("200 OK", &[], "{}")
        };
        reply(s, bytes)
    })
    .await;
    let client = builder(&server.url())
        .max_hold_off(Duration::from_secs(120))
        .build()
        .unwrap();
    client.execute(get("1")).await.unwrap_err();
    let err = client.execute(get("1")).await.unwrap_err();
    assert_eq!(
        err.retry_after(),
        Some(Duration::from_secs(120)),
        "held back for the ceiling only"
    );
    assert_eq!(server.hits(), 1);
    client.clear_hold_off();
    client.execute(get("1")).await.unwrap();
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn with_a_callers_client_builder_redirects_stay_in_the_origin() {
    let other = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .mount(&other)
        .await;
    let origin = MockServer::start().await;
    Mock::given(path("/things/1"))
        .respond_with(ResponseTemplate::new(307).insert_header("location", format!("{}/stolen", other.uri()).as_str()))
        .mount(&origin)
        .await;
    let own = snapsdk_runtime::http_client_builder().unwrap().user_agent("caller");
    let client = builder(&origin.uri()).http_client_builder(own).build().unwrap();
    let err = client.execute(get("1")).await.unwrap_err();
    assert_eq!(
        err.status().map(|s| s.as_u16()),
        Some(307),
        "the cross-origin redirect comes back as the answer"
    );
    assert_eq!(other.received_requests().await.unwrap().len(), 0);
    assert_eq!(origin.received_requests().await.unwrap().len(), 1);
    // An `Authorization` credential (which reqwest drops across hosts) may use a caller's client.
    let basic = ClientBuilder::new(&VENDOR)
        .base_url(origin.uri())
        .credentials(snapsdk_runtime::Credentials::bearer("api_key", "tok_abcdef123"))
        .http_client(snapsdk_runtime::http_client_builder().unwrap().build().unwrap())
        .build();
    assert!(basic.is_ok(), "{basic:?}");
}

#[tokio::test(start_paused = true)]
async fn the_connection_cap_is_configurable_and_a_cancelled_call_returns_its_slot() {
    let open = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (o, p) = (open.clone(), peak.clone());
    let server = RawServer::start(move |n, s| {
        let (o, p) = (o.clone(), p.clone());
        async move {
            if n == 1 {
                // The first call never gets an answer: it is cancelled.
                let _held = s;
                return std::future::pending().await;
            }
            let now = o.fetch_add(1, Ordering::SeqCst) + 1;
            p.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(100)).await;
            o.fetch_sub(1, Ordering::SeqCst);
            reply(s, response("200 OK", &[], "{}")).await;
        }
    })
    .await;
    let client = builder(&server.url()).max_connections_per_host(2).build().unwrap();
    assert!(
        tokio::time::timeout(Duration::from_secs(1), client.execute(get("hang")))
            .await
            .is_err()
    );
    assert_eq!(server.hits(), 1);
    // Had the cancelled call kept its slot, only one would be left.
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let c = client.clone();
            tokio::spawn(async move { c.execute(get(&i.to_string())).await.map(|r| r.status().as_u16()) })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), 200);
    }
    assert_eq!(server.hits(), 21);
    assert_eq!(peak.load(Ordering::SeqCst), 2);
    assert!(builder(&server.url()).max_connections_per_host(0).build().is_err());
}

/// A key with the characters servers escape.
const SLASHY: &str = "ab/cd+ef=gh_1234";

fn slashy(base: &str) -> snapsdk_runtime::Client {
    ClientBuilder::new(&VENDOR)
        .base_url(base)
        .credentials(snapsdk_runtime::Credentials::header("api_key", "x-api-key", SLASHY))
        .retry(RetryConfig::disabled())
        .build()
        .unwrap()
}

#[tokio::test]
async fn echoed_keys_are_redacted_in_escaped_forms_and_before_any_cut() {
    let server = MockServer::start().await;
    let echoes = [
        ("/things/json", "{\"error\":\"bad key ab\\/cd+ef=gh_1234\"}".to_owned()),
        (
            "/things/unicode",
            "{\"error\":\"bad key ab\\u002fcd\\u002bef\\u003dgh_1234\"}".to_owned(),
        ),
        ("/things/percent", "bad key ab%2Fcd%2Bef%3Dgh_1234".to_owned()),
        // The key straddles the 64 KiB cap on error bodies.
        ("/things/cap", format!("{}{SLASHY} tail", "x".repeat(64 * 1024 - 8))),
    ];
    for (p, body) in &echoes {
        Mock::given(path(*p))
            .respond_with(ResponseTemplate::new(401).set_body_string(body.clone()))
            .mount(&server)
            .await;
    }
    // A success body whose decode snippet (120 characters) would cut the key
    // after its first 8 characters.
    let decode_body = format!("{{\"caseId\": 7, \"x\": \"{}{SLASHY}\"}}", "y".repeat(92));
    Mock::given(path("/things/decode"))
        .respond_with(ResponseTemplate::new(200).set_body_string(decode_body))
        .mount(&server)
        .await;
    let client = slashy(&server.uri());
    let mut texts = Vec::new();
    for (p, _) in &echoes {
        let id = p.trim_start_matches("/things/");
        let err = client.execute(get(id)).await.unwrap_err();
        let body = err.as_api().unwrap().body_text();
        let tail = &body[body.len().saturating_sub(80)..];
        assert!(body.contains("<redact"), "{p}: …{tail}");
        texts.push(body);
        texts.push(format!("{err} {err:?}"));
    }
    let err = client
        .execute(get("decode"))
        .await
        .unwrap()
        .json::<Case>()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode(_)), "{err:?}");
    texts.push(format!("{err} {err:?}"));
    for text in &texts {
        for leak in ["ab/cd+ef", "ab\\/cd", "ab\\u002fcd", "ab%2Fcd", "cd+ef=gh"] {
            let at = text.find(leak).unwrap_or(0);
            assert!(
                !text.contains(leak),
                "{leak:?} shows in …{}",
                &text[at.saturating_sub(60)..(at + 60).min(text.len())]
            );
        }
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 5);
}

#[tokio::test(start_paused = true)]
async fn a_slow_answer_after_a_whole_upload_is_not_an_idle_stall() {
    // The server takes the whole body, then thinks for longer than the idle limit.
    let server = RawServer::start(|_, s| async move {
        tokio::time::sleep(Duration::from_secs(45)).await;
        reply(s, response("201 Created", &[], "{}")).await
    })
    .await;
    let client = builder(&server.url())
        .timeout(Duration::from_secs(3600))
        .operation_timeout(Duration::from_secs(3600))
        .build()
        .unwrap();
    for file in [
        FilePart::from_bytes(vec![1u8; 300_000]),
        FilePart::from_reader(std::io::Cursor::new(vec![2u8; 300_000]), None),
    ] {
        let mut req = Request::new(&UPLOAD, "/uploads".to_owned());
        req.body = Body::Multipart(Multipart::new().file("file", file).text("after", "x"));
        let started = Instant::now();
        let resp = client.execute(req).await.unwrap();
        assert_eq!(resp.status().as_u16(), 201);
        assert_eq!(started.elapsed(), Duration::from_secs(45));
    }
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn deeply_nested_json_is_a_decode_error_not_a_stack_overflow() {
    let server = MockServer::start().await;
    let body = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
        .mount(&server)
        .await;
    let client = builder(&server.uri()).build().unwrap();
    let err = client
        .execute(get("1"))
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Decode(d) if d.message.contains("recursion limit")),
        "{err}"
    );
    assert!(!err.is_retryable());
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_wait_for_a_connection_slot_loses_no_wake_up() {
    let server = RawServer::start(|_, s| async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        reply(s, response("200 OK", &[], "{}")).await
    })
    .await;
    let client = builder(&server.url()).max_connections_per_host(1).build().unwrap();
    let first = tokio::spawn({
        let c = client.clone();
        async move { c.execute(get("1")).await.map(|r| r.status().as_u16()) }
    });
    while server.hits() < 1 {
        tokio::task::yield_now().await;
    }
    // Two calls queue for the one slot; the first of them gives up.
    let quitter = tokio::spawn({
        let c = client.clone();
        async move {
            tokio::time::timeout(Duration::from_millis(500), c.execute(get("2")))
                .await
                .is_err()
        }
    });
    let patient = tokio::spawn({
        let c = client.clone();
        async move { c.execute(get("3")).await.map(|r| r.status().as_u16()) }
    });
    assert!(quitter.await.unwrap(), "the quitter was still waiting at 0.5 s");
    assert_eq!(first.await.unwrap().unwrap(), 200);
    let started = Instant::now();
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(60), patient)
            .await
            .expect("the patient call got the slot")
            .unwrap()
            .unwrap(),
        200
    );
    assert!(started.elapsed() <= Duration::from_secs(1));
    assert_eq!(server.hits(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_call_cancelled_while_waiting_for_the_rate_limit_burns_no_permit() {
    let server = RawServer::start(|_, s| reply(s, response("200 OK", &[], "{}"))).await;
    // 2 per second, bursts of 2: a permit every 500 ms once the burst is spent.
    let client = ClientBuilder::new(&LIMITED_VENDOR)
        .base_url(server.url())
        .credentials(snapsdk_runtime::Credentials::header("api_key", "x-api-key", KEY))
        .build()
        .unwrap();
    let start = Instant::now();
    client.execute(get("1")).await.unwrap();
    client.execute(get("2")).await.unwrap();
    // This one would go at 500 ms; it is dropped at 100 ms.
    assert!(
        tokio::time::timeout(Duration::from_millis(100), client.execute(get("3")))
            .await
            .is_err()
    );
    client.execute(get("4")).await.unwrap();
    let ms: Vec<u128> = server.arrivals().iter().map(|a| (*a - start).as_millis()).collect();
    assert_eq!(
        ms,
        [0, 0, 500],
        "the next call takes the permit the cancelled one waited for"
    );
}
