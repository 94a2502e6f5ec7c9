//! Fault injection on loopback. Each case asserts the exact outcome (error
//! kind, status) and how many requests the server saw.
//!
//! Body-level faults use `wiremock` in real time (the backoff is shrunk to a
//! few milliseconds); transport- and clock-level faults use the raw
//! [`RawServer`] inside the test's own runtime with tokio's paused clock, so
//! timeouts, backoff and `Retry-After` waits cost no wall time and are exact.

mod common;

use std::time::Duration;

use common::*;
use snapsdk_runtime::{Body, Error, FilePart, Multipart, Request, RequestOptions, RetryConfig};
use tokio::io::AsyncWriteExt;
use tokio::time::Instant;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct Thing {
    id: i64,
    name: String,
}

async fn hits(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

async fn serve(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path("/things/1"))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

async fn get_thing(server: &MockServer) -> Result<Thing, Error> {
    let client = builder(&server.uri()).build().unwrap();
    client.execute(get("1")).await?.json().await
}

// ---- body faults (wiremock, real time) ----

#[tokio::test]
async fn malformed_json_is_a_decode_error_and_not_retried() {
    let server = serve(ResponseTemplate::new(200).set_body_raw(r#"{"id": 1, "name": "#, "application/json")).await;
    let err = get_thing(&server).await.unwrap_err();
    let Error::Decode(d) = &err else { panic!("{err:?}") };
    assert_eq!(d.status.as_u16(), 200);
    assert_eq!(d.content_type.as_deref(), Some("application/json"));
    assert!(d.message.contains("EOF"), "{}", d.message);
    assert_eq!(d.snippet, r#"{"id": 1, "name": "#);
    assert!(!err.is_retryable());
    assert_eq!(hits(&server).await, 1);
}

#[tokio::test]
async fn wrong_field_type_names_the_json_path() {
    let server = serve(ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": "seven", "name": "x"}))).await;
    let err = get_thing(&server).await.unwrap_err();
    let Error::Decode(d) = &err else { panic!("{err:?}") };
    assert_eq!(d.path, "id");
    let text = err.to_string();
    assert!(text.contains("at `id`") && text.contains("send_raw"), "{text}");
    assert_eq!(hits(&server).await, 1);
}

#[tokio::test]
async fn html_error_page_is_an_api_error_kept_whole_and_retried() {
    let page = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    let server = serve(ResponseTemplate::new(502).set_body_raw(page, "text/html")).await;
    let err = get_thing(&server).await.unwrap_err();
    let Error::Api(api) = &err else { panic!("{err:?}") };
    assert_eq!(api.status.as_u16(), 502);
    assert_eq!(api.body_text(), page);
    assert_eq!(api.headers["content-type"], "text/html");
    assert!(err.is_retryable());
    let text = err.to_string();
    assert!(
        text.contains("get_thing: GET /things/1 answered 502 Bad Gateway: <html>"),
        "{text}"
    );
    assert!(text.contains("retry later"), "{text}");
    assert_eq!(hits(&server).await, 3, "3 attempts by default");
}

#[tokio::test]
async fn html_page_with_200_is_a_decode_error_naming_the_content_type() {
    let server = serve(ResponseTemplate::new(200).set_body_raw("<html>maintenance</html>", "text/html")).await;
    let err = get_thing(&server).await.unwrap_err();
    let Error::Decode(d) = &err else { panic!("{err:?}") };
    assert_eq!(d.content_type.as_deref(), Some("text/html"));
    assert!(err.to_string().contains("(content-type text/html)"), "{err}");
    assert_eq!(hits(&server).await, 1);
}

#[tokio::test]
async fn empty_body_where_json_is_expected() {
    let server = serve(ResponseTemplate::new(200)).await;
    let err = get_thing(&server).await.unwrap_err();
    let Error::Decode(d) = &err else { panic!("{err:?}") };
    assert_eq!(d.message, "the body is empty, but JSON was expected");
    assert_eq!(d.status.as_u16(), 200);
    assert_eq!(hits(&server).await, 1);
}

#[tokio::test]
async fn a_503_then_success_is_retried_once() {
    let server = MockServer::start().await;
    Mock::given(path("/things/1"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/things/1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": 1, "name": "one"})))
        .mount(&server)
        .await;
    let thing = get_thing(&server).await.unwrap();
    assert_eq!(thing.id, 1);
    assert_eq!(hits(&server).await, 2);
}

#[tokio::test]
async fn statuses_that_are_not_worth_retrying_are_sent_once() {
    for status in [400u16, 401, 403, 404, 409, 422] {
        let server = serve(ResponseTemplate::new(status)).await;
        let err = get_thing(&server).await.unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert!(matches!(err, Error::Api(_)), "{err:?}");
        assert!(!err.is_retryable());
        assert_eq!(hits(&server).await, 1, "status {status}");
    }
    for status in [408u16, 500, 502, 503, 504] {
        let server = serve(ResponseTemplate::new(status)).await;
        let err = get_thing(&server).await.unwrap_err();
        assert!(matches!(err, Error::Api(_)), "{err:?}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(hits(&server).await, 3, "status {status}");
    }
}

#[tokio::test]
async fn a_500_on_post_is_not_retried_unless_the_call_opts_in() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string("boom"))
        .mount(&server)
        .await;
    let client = builder(&server.uri()).build().unwrap();
    let err = client.execute(create()).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert!(
        !err.is_retryable(),
        "the client does not retry a 500 on a POST, and says so"
    );
    assert_eq!(hits(&server).await, 1);

    let mut opted_in = create();
    opted_in.options = RequestOptions::new().retry_non_idempotent(true);
    let err = client.execute(opted_in).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(hits(&server).await, 1 + 3);
}

fn upload(file: FilePart) -> Request {
    let mut r = Request::new(&UPLOAD, "/uploads".to_owned());
    r.body = Body::Multipart(Multipart::new().text("title", "report").file("file", file));
    r
}

#[tokio::test]
async fn a_reader_upload_is_never_retried_but_a_bytes_upload_is() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let client = builder(&server.uri()).build().unwrap();

    let reader = std::io::Cursor::new(b"streamed once".to_vec());
    let err = client
        .execute(upload(FilePart::from_reader(reader, Some(13))))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    let seen = server.received_requests().await.unwrap();
    assert_eq!(seen.len(), 1);
    assert!(String::from_utf8_lossy(&seen[0].body).contains("streamed once"));

    let err = client
        .execute(upload(FilePart::from_bytes(&b"in memory"[..])))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(
        hits(&server).await,
        1 + 3,
        "a replayable upload of a retryable operation is retried"
    );
}

#[tokio::test]
async fn per_request_attempts_override_the_client() {
    let server = serve(ResponseTemplate::new(503)).await;
    let client = builder(&server.uri())
        .retry(RetryConfig::default().with_max_attempts(5))
        .build()
        .unwrap();
    let mut req = get("1");
    req.options = RequestOptions::new().max_attempts(2);
    client.execute(req).await.unwrap_err();
    assert_eq!(hits(&server).await, 2);
    client.execute(get("1")).await.unwrap_err();
    assert_eq!(hits(&server).await, 2 + 5);
}

#[tokio::test]
async fn an_empty_path_parameter_is_refused_before_sending() {
    let server = serve(ResponseTemplate::new(200)).await;
    let err = snapsdk_runtime::encode::path_segment(GET_THING.id, "id", &"").unwrap_err();
    assert!(
        matches!(&err, Error::InvalidArgument { name, .. } if name == "id"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "get_thing: invalid argument `id`: must not be empty: it is a path segment"
    );
    // And an id full of delimiters stays one segment on the wire.
    let client = builder(&server.uri()).build().unwrap();
    let server2 = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server2)
        .await;
    let client2 = builder(&server2.uri()).build().unwrap();
    client2.execute(get("../a/b?c#d%e f+ü")).await.unwrap();
    let seen = server2.received_requests().await.unwrap();
    assert_eq!(seen[0].url.path(), "/things/..%2Fa%2Fb%3Fc%23d%25e%20f+%C3%BC");
    assert!(seen[0].url.query().is_none());
    drop(client);
    assert_eq!(hits(&server).await, 0);
}

// ---- transport faults (raw server in this runtime, paused clock) ----

const PARTIAL_HEAD: &str =
    "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"id\": 1,";

#[tokio::test(start_paused = true)]
async fn a_truncated_body_is_a_connection_error_and_retried() {
    let server = RawServer::start(|_, mut s| async move {
        s.write_all(PARTIAL_HEAD.as_bytes()).await.unwrap();
        // Close with 90 of the promised 100 bytes missing.
    })
    .await;
    let client = builder(&server.url()).build().unwrap();
    let err = client.execute(get("1")).await.unwrap_err();
    let Error::Connection { message, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(err.is_retryable());
    assert!(err.status().is_none());
    assert!(
        err.to_string().contains("connection failed") && err.to_string().contains("can be retried"),
        "{err}"
    );
    assert!(!message.is_empty());
    assert_eq!(server.hits(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_connection_reset_mid_response_is_a_connection_error_and_retried() {
    let server = RawServer::start(|_, mut s| async move {
        s.write_all(PARTIAL_HEAD.as_bytes()).await.unwrap();
        s.flush().await.unwrap();
        // SO_LINGER 0: closing sends RST instead of FIN (and does not block).
        #[allow(deprecated)]
        s.set_linger(Some(Duration::ZERO)).unwrap();
        drop(s);
    })
    .await;
    let client = builder(&server.url()).build().unwrap();
    let err = client.execute(get("1")).await.unwrap_err();
    assert!(matches!(err, Error::Connection { .. }), "{err:?}");
    assert_eq!(server.hits(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_connection_closed_without_an_answer_is_retried() {
    let server = RawServer::start(|_, s| async move { drop(s) }).await;
    let client = builder(&server.url()).build().unwrap();
    let err = client.execute(get("1")).await.unwrap_err();
    assert!(matches!(err, Error::Connection { .. }), "{err:?}");
    assert_eq!(server.hits(), 3);
    // A POST is sent once: the server may have acted on it.
    let err = client.execute(create()).await.unwrap_err();
    assert!(matches!(err, Error::Connection { .. }), "{err:?}");
    assert_eq!(server.hits(), 3 + 1);
}

#[tokio::test(start_paused = true)]
async fn a_server_that_never_answers_times_out_each_attempt() {
    let server = RawServer::start(|_, s| async move {
        let _held = s;
        std::future::pending::<()>().await;
    })
    .await;
    let client = builder(&server.url())
        .timeout(Duration::from_secs(2))
        .retry(
            RetryConfig::default()
                .with_max_attempts(2)
                .with_backoff(Duration::from_secs(1), Duration::from_secs(1)),
        )
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.execute(get("1")).await.unwrap_err();
    let Error::Timeout {
        limit,
        elapsed,
        operation,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!((*operation, *limit), ("get_thing", "attempt"));
    // Two 2 s attempts and a jittered backoff below 1 s, on the paused clock.
    assert!(
        *elapsed >= Duration::from_secs(4) && *elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
    assert_eq!(started.elapsed(), *elapsed);
    assert!(err.is_retryable());
    assert!(err.to_string().contains("within the attempt limit"), "{err}");
    assert_eq!(server.hits(), 2);
}

#[tokio::test(start_paused = true)]
async fn the_operation_deadline_bounds_all_attempts() {
    let server = RawServer::start(|_, s| async move {
        let _held = s;
        std::future::pending::<()>().await;
    })
    .await;
    let client = builder(&server.url())
        .timeout(Duration::from_secs(4))
        .operation_timeout(Duration::from_secs(10))
        .retry(
            RetryConfig::default()
                .with_max_attempts(10)
                .with_backoff(Duration::ZERO, Duration::ZERO),
        )
        .build()
        .unwrap();
    let err = client.execute(get("1")).await.unwrap_err();
    let Error::Timeout { limit, elapsed, .. } = &err else {
        panic!("{err:?}")
    };
    // Attempts at 0 s and 4 s use the attempt limit; the third gets the 2 s left.
    assert_eq!(*limit, "operation deadline");
    assert_eq!(*elapsed, Duration::from_secs(10));
    assert_eq!(server.hits(), 3);

    // A per-request deadline overrides the client's.
    let mut req = get("1");
    req.options = RequestOptions::new().operation_timeout(Duration::from_secs(1));
    let err = client.execute(req).await.unwrap_err();
    assert!(
        matches!(err, Error::Timeout { limit: "operation deadline", elapsed, .. } if elapsed == Duration::from_secs(1)),
        "{err:?}"
    );
    assert_eq!(server.hits(), 3 + 1);
}

fn drip(
    total: usize,
    every: Duration,
) -> impl Fn(usize, tokio::net::TcpStream) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    move |_, mut s| {
        Box::pin(async move {
            let head = format!(
                "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-type: text/plain\r\ncontent-length: {total}\r\n\r\n"
            );
            if s.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            for _ in 0..total {
                tokio::time::sleep(every).await;
                if s.write_all(b"x").await.is_err() {
                    return;
                }
            }
        })
    }
}

#[tokio::test(start_paused = true)]
async fn a_slow_drip_is_cut_off_by_the_attempt_timeout() {
    // 1 byte per second, 100 bytes: headers arrive at once, the body never completes in 5 s.
    let server = RawServer::start(drip(100, Duration::from_secs(1))).await;
    let client = builder(&server.url())
        .timeout(Duration::from_secs(5))
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let err = client.execute(get("1")).await.unwrap_err();
    assert!(
        matches!(err, Error::Timeout { limit: "attempt", elapsed, .. } if elapsed == Duration::from_secs(5)),
        "{err:?}"
    );
    assert_eq!(server.hits(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_slow_drip_within_the_limit_arrives_whole() {
    let server = RawServer::start(drip(20, Duration::from_millis(100))).await;
    let client = builder(&server.url()).timeout(Duration::from_secs(5)).build().unwrap();
    let started = Instant::now();
    let text = client.execute(get("1")).await.unwrap().text().await.unwrap();
    assert_eq!(text, "x".repeat(20));
    assert_eq!(started.elapsed(), Duration::from_secs(2));
    assert_eq!(server.hits(), 1);
}

fn ok_after(
    first: Vec<u8>,
) -> impl Fn(usize, tokio::net::TcpStream) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    move |n, s| {
        let bytes = if n == 1 {
            first.clone()
        } else {
            response(
                "200 OK",
                &[("content-type", "application/json")],
                r#"{"id":1,"name":"one"}"#,
            )
        };
        Box::pin(reply(s, bytes))
    }
}

#[tokio::test(start_paused = true)]
async fn a_429_with_retry_after_seconds_is_waited_out_exactly() {
    let server = RawServer::start(ok_after(response("429 Too Many Requests", &[("retry-after", "7")], ""))).await;
    let client = builder(&server.url()).build().unwrap();
    let started = Instant::now();
    client.execute(get("1")).await.unwrap();
    assert_eq!(started.elapsed(), Duration::from_secs(7));
    assert_eq!(server.hits(), 2);
    let arrivals = server.arrivals();
    assert_eq!(arrivals[1] - arrivals[0], Duration::from_secs(7));
}

#[tokio::test(start_paused = true)]
async fn a_429_with_an_http_date_retry_after_is_waited_out() {
    let server = RawServer::start(|n, s| {
        let bytes = if n == 1 {
            // Whole seconds: the wait is in (2 s, 3 s].
            let date = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(3));
            response("429 Too Many Requests", &[("retry-after", &date)], "")
        } else {
            response("200 OK", &[], "{}")
        };
        reply(s, bytes)
    })
    .await;
    let client = builder(&server.url()).build().unwrap();
    let started = Instant::now();
    client.execute(get("1")).await.unwrap();
    let waited = started.elapsed();
    assert!(
        waited > Duration::from_secs(2) && waited <= Duration::from_secs(3),
        "{waited:?}"
    );
    assert_eq!(server.hits(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_over_the_cap_fails_at_once_with_the_wait() {
    let server = RawServer::start(|_, s| {
        reply(
            s,
            response(
                "429 Too Many Requests",
                &[("retry-after", "3600"), ("x-request-id", "rq-42")],
                "slow down",
            ),
        )
    })
    .await;
    let client = builder(&server.url()).build().unwrap();
    let started = Instant::now();
    let err = client.execute(get("1")).await.unwrap_err();
    assert_eq!(started.elapsed(), Duration::ZERO, "no waiting, not even backoff");
    let Error::RateLimited {
        retry_after,
        response,
        operation,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*operation, "get_thing");
    assert_eq!(*retry_after, Some(Duration::from_secs(3600)));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3600)));
    assert_eq!(response.as_ref().unwrap().body_text(), "slow down");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(429));
    assert_eq!(err.request_id(), Some("rq-42"));
    let text = err.to_string();
    assert!(
        text.contains("wait 3600.00 s") && text.contains("max_retry_after") && text.contains("rq-42"),
        "{text}"
    );
    assert_eq!(server.hits(), 1);

    // The hold-off applies to the next call too, on a clone, without sending
    // it: for at most the client's max_hold_off (10 minutes by default).
    let err = client.clone().execute(get("1")).await.unwrap_err();
    assert!(
        matches!(err, Error::RateLimited { response: None, retry_after: Some(w), .. } if w == Duration::from_secs(600)),
        "{err:?}"
    );
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert_eq!(server.hits(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_retry_after_cap_is_configurable_per_client_and_per_call() {
    let server = RawServer::start(ok_after(response(
        "503 Service Unavailable",
        &[("retry-after", "120")],
        "",
    )))
    .await;
    let client = builder(&server.url()).build().unwrap();
    let err = client.execute(get("1")).await.unwrap_err();
    assert!(
        matches!(&err, Error::RateLimited { retry_after: Some(w), .. } if *w == Duration::from_secs(120)),
        "{err:?}"
    );
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(server.hits(), 1);

    // Allow 120 s waits for one call (and a deadline that leaves room for one).
    let server = RawServer::start(ok_after(response(
        "503 Service Unavailable",
        &[("retry-after", "120")],
        "",
    )))
    .await;
    let client = builder(&server.url()).build().unwrap();
    let mut req = get("1");
    req.options = RequestOptions::new()
        .retry(RetryConfig::default().with_max_retry_after(Duration::from_secs(120)))
        .operation_timeout(Duration::from_secs(180));
    let started = Instant::now();
    client.execute(req).await.unwrap();
    assert_eq!(started.elapsed(), Duration::from_secs(120));
    assert_eq!(server.hits(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_429_without_retry_after_backs_off_then_reports_rate_limited() {
    let server = RawServer::start(|_, s| reply(s, response("429 Too Many Requests", &[], ""))).await;
    let client = builder(&server.url())
        .retry(RetryConfig::default().with_backoff(Duration::from_secs(1), Duration::from_secs(10)))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.execute(get("1")).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::RateLimited {
                retry_after: None,
                response: Some(_),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("no wait was given"), "{err}");
    // Full jitter below 1 s, then below 2 s.
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    assert_eq!(server.hits(), 3);
}

#[tokio::test(start_paused = true)]
async fn retries_stop_when_the_next_wait_would_pass_the_deadline() {
    let server =
        RawServer::start(|_, s| reply(s, response("503 Service Unavailable", &[("retry-after", "2")], ""))).await;
    let client = builder(&server.url())
        .operation_timeout(Duration::from_secs(5))
        .retry(RetryConfig::default().with_max_attempts(10))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.execute(get("1")).await.unwrap_err();
    // Attempts at 0, 2 and 4 s; a 2 s wait at 4 s would pass the 5 s deadline.
    assert!(matches!(&err, Error::Api(api) if api.status.as_u16() == 503), "{err:?}");
    assert_eq!(started.elapsed(), Duration::from_secs(4));
    assert_eq!(server.hits(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_refused_connection_is_a_connection_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = builder(&url).build().unwrap();
    let err = client.execute(get("1")).await.unwrap_err();
    assert!(matches!(err, Error::Connection { .. }), "{err:?}");
    assert!(err.is_retryable() && err.status().is_none());
}
