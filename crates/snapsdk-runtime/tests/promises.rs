//! README promises that had no test, or only a happy path (issue 28), and
//! the messages a user misread (issue 24). Clock-level cases run on tokio's
//! paused clock, so the documented defaults (10 s, 30 s, 90 s) cost no wall time.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use snapsdk_runtime::__private::http::Method;
use snapsdk_runtime::{
    paginate, Attempts, AuthRequirement, Body, Error, OperationInfo, Request, RequestOptions, RetryConfig, StopReason,
};
use tokio::io::AsyncWriteExt;
use tokio::time::Instant;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Operations shaped as the generator emits them: GET, HEAD, PUT and DELETE
/// are retryable unless the spec says otherwise (xtask/src/validate.rs).
static PUT_THING: OperationInfo = op("put_thing", Method::PUT, true);
static DELETE_THING: OperationInfo = op("delete_thing", Method::DELETE, true);
static HEAD_THING: OperationInfo = op("head_thing", Method::HEAD, true);

const fn op(id: &'static str, method: Method, retryable: bool) -> OperationInfo {
    OperationInfo {
        id,
        method,
        path_template: "/things/{id}",
        auth: AuthRequirement::Schemes(&["api_key"]),
        retryable,
    }
}

fn call(op: &'static OperationInfo) -> Request {
    let mut r = Request::new(op, "/things/1".to_owned());
    if op.method == Method::POST {
        r.body = Body::json(op.id, &serde_json::json!({"name": "x"})).unwrap();
    }
    r
}

/// Every method a sentence about retries covers.
fn every_method() -> [&'static OperationInfo; 5] {
    [&GET_THING, &CREATE_THING, &PUT_THING, &DELETE_THING, &HEAD_THING]
}

// ---- Retry-After above the cap (README: "fails at once with Error::RateLimited") ----

#[tokio::test(start_paused = true)]
async fn a_retry_after_over_the_cap_fails_at_once_for_get_and_post_on_429_and_503() {
    for status in ["429 Too Many Requests", "503 Service Unavailable"] {
        for op in [&GET_THING, &CREATE_THING] {
            let case = format!("{} answered {status}", op.method);
            let server =
                RawServer::start(move |_, s| reply(s, response(status, &[("retry-after", "3600")], "later"))).await;
            let client = builder(&server.url()).build().unwrap();
            let started = Instant::now();
            let err = client.execute(call(op)).await.unwrap_err();
            assert_eq!(started.elapsed(), Duration::ZERO, "{case}: no waiting");
            assert!(
                matches!(&err, Error::RateLimited { response: Some(_), .. }),
                "{case}: {err:?}"
            );
            assert_eq!(err.retry_after(), Some(Duration::from_secs(3600)), "{case}");
            assert_eq!(err.status_code(), Some(status[..3].parse().unwrap()), "{case}");
            assert_eq!(err.as_api().unwrap().body_text(), "later", "{case}");
            assert!(err.to_string().contains("wait 3600.00 s"), "{case}: {err}");
            assert_eq!(server.hits(), 1, "{case}");
            // The hold-off it sets refuses the next call without sending it, and says for how long.
            let next = client.execute(call(&GET_THING)).await.unwrap_err();
            assert_eq!(next.retry_after(), Some(Duration::from_secs(600)), "{case}: {next:?}");
            assert_eq!(server.hits(), 1, "{case}");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_call_stopped_by_max_attempts_after_a_short_retry_after_says_so() {
    let server =
        RawServer::start(|_, s| reply(s, response("429 Too Many Requests", &[("retry-after", "1")], ""))).await;
    let client = builder(&server.url()).build().unwrap();
    let err = client.execute(get("1")).await.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
    assert_eq!(err.attempts().map(|a| a.stopped_by), Some(StopReason::MaxAttempts(3)));
    let text = err.to_string();
    assert!(
        text.contains("stopped by retry.max_attempts (3)") && text.contains("wait 1.00 s"),
        "{text}"
    );
    assert!(
        !text.contains("max_retry_after") && !text.contains("longer than this call waits"),
        "{text}"
    );
    assert_eq!(server.hits(), 3);

    // Stopped by the cap: the message names the cap.
    let server =
        RawServer::start(|_, s| reply(s, response("429 Too Many Requests", &[("retry-after", "61")], ""))).await;
    let err = builder(&server.url())
        .build()
        .unwrap()
        .execute(get("1"))
        .await
        .unwrap_err();
    assert_eq!(
        err.attempts().map(|a| a.stopped_by),
        Some(StopReason::RetryAfterCap(Duration::from_secs(60)))
    );
    assert!(err.to_string().contains("max_retry_after"), "{err}");

    // Stopped by the deadline: the message names the deadline, not the cap.
    let server =
        RawServer::start(|_, s| reply(s, response("429 Too Many Requests", &[("retry-after", "30")], ""))).await;
    let client = builder(&server.url())
        .operation_timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let err = client.execute(get("1")).await.unwrap_err();
    assert_eq!(
        err.attempts().map(|a| a.stopped_by),
        Some(StopReason::Deadline(Duration::from_secs(20)))
    );
    let text = err.to_string();
    assert!(text.contains("deadline") && !text.contains("max_retry_after"), "{text}");
}

// ---- the documented timeout defaults ----

fn silent(_: usize, s: tokio::net::TcpStream) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    Box::pin(async move {
        let _held = s;
        std::future::pending::<()>().await;
    })
}

#[tokio::test(start_paused = true)]
async fn the_attempt_limit_defaults_to_30_s() {
    let server = RawServer::start(silent).await;
    let client = builder(&server.url()).retry(RetryConfig::disabled()).build().unwrap();
    let err = client.execute(get("1")).await.unwrap_err();
    assert!(
        matches!(err, Error::Timeout { limit: "attempt", elapsed, .. } if elapsed == Duration::from_secs(30)),
        "{err:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_whole_call_limit_defaults_to_90_s() {
    let server = RawServer::start(silent).await;
    let no_backoff = RetryConfig::default()
        .with_max_attempts(10)
        .with_backoff(Duration::ZERO, Duration::ZERO);
    let client = builder(&server.url()).retry(no_backoff).build().unwrap();
    let err = client.execute(get("1")).await.unwrap_err();
    // Three 30 s attempts fill the 90 s; the fourth is not started.
    assert!(
        matches!(err, Error::Timeout { elapsed, .. } if elapsed == Duration::from_secs(90)),
        "{err:?}"
    );
    assert_eq!(
        err.attempts().map(|a| (a.count, a.stopped_by)),
        Some((3, StopReason::Deadline(Duration::from_secs(90))))
    );
    assert_eq!(server.hits(), 3);
}

/// A resolver that counts its calls and either fails at once (a DNS
/// failure) or never answers (so only the connect limit ends the connect).
struct Resolver {
    calls: Arc<AtomicUsize>,
    hang: bool,
}

impl snapsdk_runtime::reqwest::dns::Resolve for Resolver {
    fn resolve(&self, _: snapsdk_runtime::reqwest::dns::Name) -> snapsdk_runtime::reqwest::dns::Resolving {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.hang {
            Box::pin(std::future::pending())
        } else {
            Box::pin(async { Err("no such host (test resolver)".into()) })
        }
    }
}

/// A client whose host name goes through `Resolver`.
fn resolving_client(hang: bool, retry: RetryConfig) -> (snapsdk_runtime::Client, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let http = snapsdk_runtime::http_client_builder().unwrap().dns_resolver(Resolver {
        calls: calls.clone(),
        hang,
    });
    let client = builder("http://localhost:9")
        .http_client_builder(http)
        .retry(retry)
        .build()
        .unwrap();
    (client, calls)
}

#[tokio::test(start_paused = true)]
async fn the_connect_limit_defaults_to_10_s() {
    let (client, calls) = resolving_client(true, RetryConfig::disabled());
    let started = Instant::now();
    let err = client.execute(get("1")).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { limit: "connect", .. }), "{err:?}");
    assert_eq!(started.elapsed(), Duration::from_secs(10));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn dns_failures_and_connect_timeouts_are_retried_for_every_method() {
    let retry = RetryConfig::default().with_backoff(Duration::from_millis(1), Duration::from_millis(5));
    for hang in [false, true] {
        for op in every_method() {
            let (client, calls) = resolving_client(hang, retry);
            let err = client.execute(call(op)).await.unwrap_err();
            let case = format!(
                "{} with {}",
                op.method,
                if hang { "a connect timeout" } else { "a DNS failure" }
            );
            match (&err, hang) {
                (Error::Timeout { limit: "connect", .. }, true) | (Error::Connection { .. }, false) => {}
                _ => panic!("{case}: {err:?}"),
            }
            assert_eq!(
                calls.load(Ordering::SeqCst),
                3,
                "{case}: every attempt tried to connect"
            );
            assert_eq!(
                err.attempts().map(|a| a.stopped_by),
                Some(StopReason::MaxAttempts(3)),
                "{case}"
            );
            assert!(err.is_retryable(), "{case}");
        }
    }
}

// ---- retries per method ----

#[tokio::test]
async fn put_delete_and_head_are_retried_on_5xx_and_post_is_not() {
    for op in every_method() {
        let server = MockServer::start().await;
        Mock::given(path("/things/1"))
            .respond_with(ResponseTemplate::new(502))
            .mount(&server)
            .await;
        let err = builder(&server.uri())
            .build()
            .unwrap()
            .execute(call(op))
            .await
            .unwrap_err();
        let sent = server.received_requests().await.unwrap();
        assert!(
            sent.iter().all(|r| r.method.as_str() == op.method.as_str()),
            "{}",
            op.method
        );
        let (want, stop) = if op.method == Method::POST {
            (1, StopReason::NotIdempotent)
        } else {
            (3, StopReason::MaxAttempts(3))
        };
        assert_eq!(sent.len(), want, "{}", op.method);
        assert_eq!(err.attempts().map(|a| a.stopped_by), Some(stop), "{}", op.method);
        assert_eq!(err.status_code(), Some(502));
    }
}

// ---- what err.attempts() holds ----

#[tokio::test(start_paused = true)]
async fn attempts_hold_the_count_the_time_and_what_stopped_the_call() {
    let server =
        RawServer::start(|_, s| reply(s, response("503 Service Unavailable", &[("retry-after", "2")], ""))).await;
    let err = builder(&server.url())
        .build()
        .unwrap()
        .execute(get("1"))
        .await
        .unwrap_err();
    let want = Attempts {
        count: 3,
        elapsed: Duration::from_secs(4),
        stopped_by: StopReason::MaxAttempts(3),
    };
    assert_eq!(err.attempts(), Some(&want));

    let server = RawServer::start(|_, s| reply(s, response("500 Internal Server Error", &[], ""))).await;
    let err = builder(&server.url())
        .build()
        .unwrap()
        .execute(create())
        .await
        .unwrap_err();
    let want = Attempts {
        count: 1,
        elapsed: Duration::ZERO,
        stopped_by: StopReason::NotIdempotent,
    };
    assert_eq!(err.attempts(), Some(&want));
    assert!(!err.is_retryable());

    let server = RawServer::start(|_, s| reply(s, response("404 Not Found", &[], ""))).await;
    let err = builder(&server.url())
        .build()
        .unwrap()
        .execute(get("1"))
        .await
        .unwrap_err();
    assert_eq!(
        err.attempts().map(|a| (a.count, a.stopped_by)),
        Some((1, StopReason::NotRetryable))
    );
    assert!(err.is_not_found() && err.status_code() == Some(404));

    // One attempt allowed per call: stopped by that, after 1 attempt.
    let server = RawServer::start(|_, s| reply(s, response("503 Service Unavailable", &[], ""))).await;
    let mut req = get("1");
    req.options = RequestOptions::new().max_attempts(1);
    let err = builder(&server.url()).build().unwrap().execute(req).await.unwrap_err();
    assert_eq!(
        err.attempts().map(|a| (a.count, a.stopped_by)),
        Some((1, StopReason::MaxAttempts(1)))
    );
}

// ---- redirects after a POST ----

#[tokio::test]
async fn a_301_or_302_after_a_post_continues_as_a_get_without_the_body() {
    for status in [301, 302] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/things/1"))
            .respond_with(ResponseTemplate::new(status).insert_header("location", "/made/7"))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/made/7"))
            .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
            .mount(&server)
            .await;
        let resp = builder(&server.uri())
            .build()
            .unwrap()
            .execute(call(&CREATE_THING))
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{status}");
        let seen = server.received_requests().await.unwrap();
        assert_eq!(seen.len(), 2, "{status}");
        assert_eq!(
            (seen[0].method.as_str(), seen[0].body.is_empty()),
            ("POST", false),
            "{status}"
        );
        assert_eq!(seen[1].method.as_str(), "GET", "{status}");
        assert!(seen[1].body.is_empty(), "{status}: the body was dropped");
        assert!(
            seen[1].headers.get("content-type").is_none(),
            "{status}: so was its content type"
        );
        assert_eq!(
            seen[1].headers.get("x-api-key").map(|v| v.to_str().unwrap()),
            Some(KEY),
            "{status}: same origin keeps the key"
        );
    }
}

// ---- streamed downloads: the attempt limit until the headers, then idle only ----

fn stream_get() -> Request {
    let mut r = get("1");
    r.buffer = false;
    r
}

/// Headers after `head_after`, then `chunks` bytes, one per `every`, then silence.
fn slow(
    head_after: Duration,
    chunks: usize,
    every: Duration,
) -> impl Fn(usize, tokio::net::TcpStream) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    move |_, mut s| {
        Box::pin(async move {
            tokio::time::sleep(head_after).await;
            let head = "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 1000\r\n\r\n";
            if s.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            for _ in 0..chunks {
                tokio::time::sleep(every).await;
                if s.write_all(b"x").await.is_err() {
                    return;
                }
            }
            std::future::pending::<()>().await;
        })
    }
}

#[tokio::test(start_paused = true)]
async fn a_streamed_download_is_bounded_by_the_attempt_limit_until_its_headers_arrive() {
    // Headers late: the 5 s attempt limit ends it, not the 20 s idle limit.
    let server = RawServer::start(slow(Duration::from_secs(8), 0, Duration::ZERO)).await;
    let client = builder(&server.url())
        .timeout(Duration::from_secs(5))
        .idle_timeout(Duration::from_secs(20))
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let err = client.execute(stream_get()).await.unwrap_err();
    assert!(
        matches!(err, Error::Timeout { limit: "attempt", elapsed, .. } if elapsed == Duration::from_secs(5)),
        "{err:?}"
    );

    // Headers at once, then a byte every 3 s for 12 s: past the 5 s attempt
    // limit, within the 4 s idle limit; then silence, ended by idle alone.
    let server = RawServer::start(slow(Duration::ZERO, 4, Duration::from_secs(3))).await;
    let client = builder(&server.url())
        .timeout(Duration::from_secs(5))
        .idle_timeout(Duration::from_secs(4))
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let started = Instant::now();
    let mut stream = client.execute(stream_get()).await.unwrap().into_stream();
    let mut got = 0;
    let err = loop {
        match stream.next().await {
            Some(Ok(chunk)) => got += chunk.len(),
            Some(Err(e)) => break e,
            None => panic!("the body is 1000 bytes; 4 arrived"),
        }
    };
    assert_eq!(got, 4);
    assert!(matches!(err, Error::Timeout { limit: "idle", .. }), "{err:?}");
    assert_eq!(started.elapsed(), Duration::from_secs(12 + 4));
}

trait Next {
    async fn next(&mut self) -> Option<Result<bytes::Bytes, Error>>;
}

impl Next for snapsdk_runtime::ByteStream {
    async fn next(&mut self) -> Option<Result<bytes::Bytes, Error>> {
        std::future::poll_fn(|cx| futures_core::Stream::poll_next(std::pin::Pin::new(&mut *self), cx)).await
    }
}

// ---- paging against a server that ignores the page number (issue 24) ----

#[tokio::test]
async fn a_repeated_page_counts_as_fetched_and_the_error_says_what_to_do() {
    let server = MockServer::start().await;
    let page = serde_json::json!({"data": [{"id": 1}, {"id": 2}], "total": 10});
    Mock::given(path("/things"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page))
        .mount(&server)
        .await;
    let client = builder(&server.uri()).build().unwrap();
    let mut pages = paginate::by_page::<serde_json::Value, _, _>("list_things", 1, "/data", "/total", move |n| {
        let client = client.clone();
        async move {
            let mut req = Request::new(&GET_THING, "/things".to_owned());
            req.query = format!("page={n}");
            client.execute(req).await
        }
    });
    let mut items = 0;
    let err = loop {
        match pages.next().await {
            Some(Ok(_)) => items += 1,
            Some(Err(e)) => break e,
            None => panic!("the repeated page must end the listing with an error"),
        }
    };
    assert_eq!(items, 2);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    assert_eq!(pages.pages_fetched(), 2, "two pages came back, the second a repeat");
    assert!(matches!(err, Error::Paging { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("the server sent a page it had sent before"), "{text}");
    assert!(
        text.contains("mock server") && text.contains("max_pages") && text.contains("end of the listing"),
        "{text}"
    );
}
