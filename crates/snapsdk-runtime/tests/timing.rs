//! Clock-dependent behaviour on tokio's paused clock: the client-side rate
//! limiter, the shared `Retry-After` hold-off, backoff bounds. The server is
//! a raw loopback listener in the same runtime, so it answers "instantly" on
//! the paused clock and arrival times are exact.

mod common;

use std::time::Duration;

use common::*;
use snapsdk_runtime::{ClientBuilder, Credentials, Error, RateLimit, RequestOptions, RetryConfig};
use tokio::time::Instant;

fn ok_server(
) -> impl Fn(usize, tokio::net::TcpStream) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    |_, s| {
        Box::pin(reply(
            s,
            response("200 OK", &[("content-type", "application/json")], "{}"),
        ))
    }
}

fn key() -> Result<Credentials, Error> {
    Credentials::header("api_key", "x-api-key", KEY)
}

fn limited(url: &str) -> snapsdk_runtime::Client {
    ClientBuilder::new(&LIMITED_VENDOR)
        .base_url(url)
        .credentials(Credentials::header("api_key", "x-api-key", KEY))
        .build()
        .unwrap()
}

fn offsets(start: Instant, arrivals: &[Instant]) -> Vec<Duration> {
    let mut v: Vec<Duration> = arrivals.iter().map(|a| *a - start).collect();
    v.sort();
    v
}

#[tokio::test(start_paused = true)]
async fn the_documented_rate_limit_is_shared_by_clones_and_tasks() {
    let server = RawServer::start(ok_server()).await;
    let client = limited(&server.url());
    let start = Instant::now();
    // 6 calls from 6 tasks on 6 clones, against 2 per second with bursts of 2.
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.execute(get("1")).await.map(|r| r.status().as_u16()) })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), 200);
    }
    assert_eq!(server.hits(), 6);
    let ms: Vec<u128> = offsets(start, &server.arrivals())
        .iter()
        .map(Duration::as_millis)
        .collect();
    assert_eq!(ms, [0, 0, 500, 1000, 1500, 2000]);
}

#[tokio::test(start_paused = true)]
async fn the_rate_limit_can_be_replaced_or_turned_off() {
    let server = RawServer::start(ok_server()).await;
    let off = ClientBuilder::new(&LIMITED_VENDOR)
        .base_url(server.url())
        .credentials(key())
        .rate_limit(None)
        .build()
        .unwrap();
    let start = Instant::now();
    for _ in 0..5 {
        off.execute(get("1")).await.unwrap();
    }
    assert_eq!(start.elapsed(), Duration::ZERO);
    let slow = ClientBuilder::new(&LIMITED_VENDOR)
        .base_url(server.url())
        .credentials(key())
        .rate_limit(Some(RateLimit::per_minute(1)))
        .build()
        .unwrap();
    slow.execute(get("1")).await.unwrap();
    slow.execute(get("1")).await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_secs(60));
    assert_eq!(server.hits(), 7);
}

#[tokio::test(start_paused = true)]
async fn a_limiter_wait_past_the_deadline_fails_at_once_without_sending() {
    let server = RawServer::start(ok_server()).await;
    let client = ClientBuilder::new(&LIMITED_VENDOR)
        .base_url(server.url())
        .credentials(key())
        .rate_limit(Some(RateLimit::per_minute(1)))
        .operation_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    client.execute(get("1")).await.unwrap();
    let start = Instant::now();
    let err = client.execute(get("1")).await.unwrap_err();
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert!(
        matches!(&err, Error::RateLimited { response: None, retry_after: Some(w), .. } if *w == Duration::from_secs(60)),
        "{err:?}"
    );
    assert!(err.to_string().contains("client-side rate limit"), "{err}");
    assert_eq!(server.hits(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_429_holds_back_the_requests_that_follow_it() {
    let server = RawServer::start(|n, s| {
        let bytes = if n == 1 {
            response("429 Too Many Requests", &[("retry-after", "5")], "")
        } else {
            response("200 OK", &[], "{}")
        };
        reply(s, bytes)
    })
    .await;
    let client = builder(&server.url()).build().unwrap();
    let start = Instant::now();
    // The first call has no retries, so it returns at once and leaves the hold-off behind.
    let mut first = get("1");
    first.options = RequestOptions::new().max_attempts(1);
    let err = client.execute(first).await.unwrap_err();
    assert!(
        matches!(err, Error::RateLimited { retry_after: Some(w), .. } if w == Duration::from_secs(5)),
        "{err:?}"
    );
    assert_eq!(start.elapsed(), Duration::ZERO);
    // Three other tasks on clones wait for the hold-off, then all go.
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.execute(get("2")).await.map(|r| r.status().as_u16()) })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), 200);
    }
    let ms: Vec<u128> = offsets(start, &server.arrivals())
        .iter()
        .map(Duration::as_millis)
        .collect();
    assert_eq!(ms, [0, 5000, 5000, 5000]);
}

#[tokio::test(start_paused = true)]
async fn backoff_is_exponential_with_full_jitter_under_its_ceilings() {
    let server = RawServer::start(|_, s| reply(s, response("500 Internal Server Error", &[], ""))).await;
    let retry = RetryConfig::default()
        .with_max_attempts(6)
        .with_backoff(Duration::from_secs(1), Duration::from_secs(4));
    let client = builder(&server.url())
        .retry(retry)
        .operation_timeout(Duration::from_secs(3600))
        .build()
        .unwrap();
    let mut gaps_seen: Vec<Vec<Duration>> = Vec::new();
    for round in 0..10 {
        let before = server.arrivals().len();
        let err = client.execute(get("1")).await.unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
        let arrivals = server.arrivals()[before..].to_vec();
        assert_eq!(arrivals.len(), 6, "round {round}");
        let gaps: Vec<Duration> = arrivals.windows(2).map(|w| w[1] - w[0]).collect();
        // Ceilings 1, 2, 4, 4, 4 s (doubling from 1 s, capped at 4 s). A
        // delay is drawn below its ceiling, but tokio's timer rounds a sleep
        // up to the next whole millisecond, so a draw of 999.7 ms is seen as
        // exactly 1 s: the gap may equal the ceiling, never pass it.
        for (gap, ceiling) in gaps.iter().zip([1u64, 2, 4, 4, 4]) {
            assert!(*gap <= Duration::from_secs(ceiling), "round {round}: {gaps:?}");
        }
        gaps_seen.push(gaps);
    }
    assert_eq!(server.hits(), 60);
    // Jitter: the 50 gaps are not all equal (a fixed delay would make them so).
    let first = gaps_seen[0][0];
    assert!(gaps_seen.iter().flatten().any(|g| *g != first), "{gaps_seen:?}");
}

#[tokio::test(start_paused = true)]
async fn per_request_backoff_overrides_the_client() {
    let server = RawServer::start(|_, s| reply(s, response("503 Service Unavailable", &[], ""))).await;
    let client = builder(&server.url())
        .retry(RetryConfig::default().with_backoff(Duration::from_secs(30), Duration::from_secs(30)))
        .build()
        .unwrap();
    let mut req = get("1");
    req.options = RequestOptions::new().retry(
        RetryConfig::default()
            .with_max_attempts(4)
            .with_backoff(Duration::ZERO, Duration::ZERO),
    );
    let start = Instant::now();
    client.execute(req).await.unwrap_err();
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(server.hits(), 4);
}
