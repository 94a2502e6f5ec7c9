//! Interceptors: ordered hooks that see each attempt, answer and retry
//! decision, never the credentials; hostile ones (errors, panics, header
//! injection, credential overrides, slowness) end the call with a typed
//! error and leave the client usable.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use snapsdk_runtime::mock::{Answer, MockServer};
use snapsdk_runtime::{AttemptRequest, AttemptResponse, ClientBuilder, Error, HookError, Interceptor, RetryDecision};

/// Records what it saw, and optionally misbehaves in `before_attempt`.
struct Spy {
    name: &'static str,
    log: Arc<Mutex<Vec<String>>>,
    before: fn(&mut AttemptRequest<'_>) -> Result<(), HookError>,
}

impl Interceptor for Spy {
    fn name(&self) -> &str {
        self.name
    }
    fn before_attempt(&self, request: &mut AttemptRequest<'_>) -> Result<(), HookError> {
        let headers: Vec<String> = request.headers().iter().map(|(n, v)| format!("{n}={}", v.to_str().unwrap_or("?"))).collect();
        self.log.lock().unwrap().push(format!("{} before {} #{} {} {}", self.name, request.operation(), request.attempt(), request.path(), headers.join(",")));
        (self.before)(request)
    }
    fn after_response(&self, response: &AttemptResponse<'_>) -> Result<(), HookError> {
        let echo = response.headers().get("x-echo").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        self.log.lock().unwrap().push(format!("{} after #{} {} {echo}", self.name, response.attempt(), response.status().as_u16()));
        Ok(())
    }
    fn on_retry_decision(&self, decision: &RetryDecision<'_>) -> Result<(), HookError> {
        self.log.lock().unwrap().push(format!("{} retry #{} {}", self.name, decision.attempt(), decision.will_retry()));
        Ok(())
    }
}

fn ok(_: &mut AttemptRequest<'_>) -> Result<(), HookError> {
    Ok(())
}

fn spy(name: &'static str, log: &Arc<Mutex<Vec<String>>>, before: fn(&mut AttemptRequest<'_>) -> Result<(), HookError>) -> Spy {
    Spy { name, log: log.clone(), before }
}

fn with(mock: &MockServer, interceptors: Vec<Spy>) -> snapsdk_runtime::Client {
    let mut b: ClientBuilder = builder("https://api.testvendor.example").mock(mock);
    for i in interceptors {
        b = b.interceptor(i);
    }
    b.build().unwrap()
}

#[tokio::test(start_paused = true)]
async fn hooks_run_in_order_on_every_attempt_without_seeing_the_key() {
    let mock = MockServer::new();
    // The server echoes the key back in a header: the interceptor sees it redacted.
    mock.on("get_thing").answer_sequence([Answer::status(503).with_header("x-echo", KEY), Answer::status(200)]);
    let log = Arc::new(Mutex::new(Vec::new()));
    let add = |r: &mut AttemptRequest<'_>| -> Result<(), HookError> {
        r.insert_header("traceparent", &format!("t-{}", r.attempt()))?;
        Ok(())
    };
    let client = with(&mock, vec![spy("first", &log, add), spy("second", &log, ok)]);
    client.execute(get("1")).await.unwrap();
    let log = log.lock().unwrap().clone();
    let text = log.join("\n");
    assert!(!text.contains(KEY) && !text.contains("x-api-key"), "an interceptor saw the key:\n{text}");
    let kinds: Vec<String> = log.iter().map(|l| l.split(" /").next().unwrap().split(" x-echo").next().unwrap().to_owned()).collect();
    assert_eq!(
        kinds,
        [
            "first before get_thing #1",
            "second before get_thing #1",
            "first after #1 503 <redacted>",
            "second after #1 503 <redacted>",
            "first retry #1 true",
            "second retry #1 true",
            "first before get_thing #2",
            "second before get_thing #2",
            "first after #2 200 ",
            "second after #2 200 ",
        ]
        .map(str::to_owned),
        "{text}"
    );
    // The second saw the first's header; the server got it, and the key.
    assert!(log[1].contains("traceparent=t-1"), "{}", log[1]);
    let calls = mock.calls();
    assert_eq!(calls[1].header("traceparent"), Some("t-2"));
    assert_eq!(calls[1].header("x-api-key"), Some("<redacted>"), "the key went out");
}

#[tokio::test(start_paused = true)]
async fn giving_up_is_reported_with_the_error() {
    let mock = MockServer::new();
    mock.on("create_thing").answer(Answer::status(500));
    let log = Arc::new(Mutex::new(Vec::new()));
    let err = with(&mock, vec![spy("s", &log, ok)]).execute(create()).await.unwrap_err();
    assert_eq!(err.status_code(), Some(500));
    assert_eq!(log.lock().unwrap().last().unwrap(), "s retry #1 false");
}

/// Each hostile hook ends the call with `Error::Interceptor` naming it,
/// before anything is sent, and the client keeps working.
#[tokio::test(start_paused = true)]
async fn hostile_hooks_end_the_call_with_a_typed_error() {
    type Hook = fn(&mut AttemptRequest<'_>) -> Result<(), HookError>;
    let cases: [(Hook, &str); 7] = [
        (|r| Ok(r.insert_header("x-api-key", "stolen")?), "credentials"),
        (|r| Ok(r.insert_header("X-Api-Key", "stolen")?), "credentials"),
        (|r| Ok(r.insert_header("x-trace", "a\r\nx-api-key: stolen")?), "CR, LF"),
        (|r| Ok(r.insert_header("x-trace\r\nx-api-key", "stolen")?), "not a header name"),
        (|r| Ok(r.insert_header("host", "evil.example")?), "Host"),
        (|_| Err("the signing key is missing".into()), "the signing key is missing"),
        (|_| panic!("boom in a hook"), "it panicked: boom in a hook"),
    ];
    for (hook, why) in cases {
        let mock = MockServer::new();
        mock.on("get_thing").answer(Answer::status(200));
        let log = Arc::new(Mutex::new(Vec::new()));
        let client = with(&mock, vec![spy("hostile", &log, hook)]);
        let err = client.execute(get("1")).await.unwrap_err();
        match &err {
            Error::Interceptor { interceptor, operation, message } => {
                assert_eq!((interceptor.as_str(), *operation), ("hostile", "get_thing"));
                assert!(message.contains(why), "{why:?} not in {message:?}");
                assert!(!message.contains("stolen"), "{message}");
            }
            other => panic!("{why}: {other:?}"),
        }
        assert!(!err.is_retryable());
        assert!(mock.calls().is_empty(), "{why}: something was sent");
        // The client is not poisoned: a clone without the failure still works.
        let client2 = builder("https://api.testvendor.example").mock(&mock).build().unwrap();
        assert_eq!(client2.execute(get("1")).await.unwrap().status(), 200);
        // And the same client answers again (same outcome, no hang, no poison).
        assert!(matches!(client.execute(get("1")).await.unwrap_err(), Error::Interceptor { .. }));
    }
}

/// A hook that blocks the task: the call's time limit still decides (the
/// call does not succeed late), and the client keeps working.
#[tokio::test]
async fn a_slow_hook_does_not_outlive_the_time_limit() {
    struct Slow;
    impl Interceptor for Slow {
        fn name(&self) -> &str {
            "slow"
        }
        fn before_attempt(&self, _: &mut AttemptRequest<'_>) -> Result<(), HookError> {
            std::thread::sleep(Duration::from_millis(300));
            Ok(())
        }
    }
    let mock = MockServer::new();
    mock.on("get_thing").answer(Answer::status(200));
    let client = builder("https://api.testvendor.example").mock(&mock).interceptor(Slow).timeout(Duration::from_millis(100)).build().unwrap();
    let mut req = get("1");
    req.options = snapsdk_runtime::RequestOptions::new().max_attempts(1);
    let err = client.execute(req).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { limit: "attempt", .. }), "{err:?}");
    let client = builder("https://api.testvendor.example").mock(&mock).interceptor(Slow).timeout(Duration::from_secs(5)).build().unwrap();
    assert_eq!(client.execute(get("1")).await.unwrap().status(), 200);
}

/// An interceptor that awaits nothing but answers slowly through the mock:
/// the operation deadline bounds the whole call.
#[tokio::test(start_paused = true)]
async fn the_operation_deadline_holds_with_interceptors() {
    let mock = MockServer::new();
    mock.on("get_thing").answer(Answer::timeout());
    let log = Arc::new(Mutex::new(Vec::new()));
    let client = builder("https://api.testvendor.example").mock(&mock).interceptor(spy("s", &log, ok)).operation_timeout(Duration::from_secs(3)).build().unwrap();
    let started = tokio::time::Instant::now();
    let err = client.execute(get("1")).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert!(started.elapsed() <= Duration::from_secs(3), "{:?}", started.elapsed());
}
