//! The test kit (feature `test-util`): an in-process server a client is
//! built with instead of the network, so an application tests its own code
//! without a server, a socket or a port.
//!
//! Answers go through the same encoding, auth, decoding, retries, limits
//! and error code as production; only the bytes on the wire are replaced.
//! With tokio's paused clock (`#[tokio::test(start_paused = true)]`) retries
//! and timeouts do not sleep.
//!
//! - **Rules** ([`MockServer::on`]) match an operation id and, optionally,
//!   a predicate on the recorded [`Call`]; they answer always, once, N
//!   times, or with a sequence (503, 503, then 200). The first rule that
//!   matches and has answers left answers.
//! - **Answers** ([`Answer`]) are a status with headers and a body (bytes or
//!   JSON of any `Serialize` value, such as the operation's own output type),
//!   an API error, or a fault: a timeout, a connection reset or refused, a
//!   body that stalls or breaks off.
//! - **Recorded calls** ([`MockServer::calls`]): operation id, method, path
//!   as sent, query pairs, headers (credentials redacted), and the body as
//!   JSON, form pairs or multipart parts.
//! - **Loud misses**: a call no rule answers fails with [`Error::Config`]
//!   naming the operation and the rules that exist; [`MockServer::verify`]
//!   (also run when the server is dropped) checks every rule with an
//!   expected count was used as often.
//!
//! A generated client wraps this with a thin typed layer (behind its own
//! `test-util` feature): `ClientBuilder::mock(&mock)`, and per operation a
//! helper that fixes the operation id and the output type, so that
//! `mock.list_accounts().returns(vec![Account::new(..)])` is
//! `mock.on("list_accounts").answer_json(value)`, `.fails(Answer::error(..))`
//! is [`RuleBuilder::answer`], and the recorded input reads back with
//! [`Call::json_as`].
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use snapsdk_runtime::mock::{Answer, MockServer};
//! use snapsdk_runtime::{AuthRequirement, ClientBuilder, OperationInfo, Request, VendorInfo};
//!
//! static VENDOR: VendorInfo = VendorInfo { name: "demo", crate_name: "demo", crate_version: "0.1.0", base_url: "https://api.example.com", rate_limit: None };
//! static LIST: OperationInfo = OperationInfo { id: "list_accounts", method: http::Method::GET, path_template: "/accounts", auth: AuthRequirement::None, retryable: true };
//!
//! let mock = MockServer::new();
//! mock.on("list_accounts").answer_sequence([Answer::status(503), Answer::json(serde_json::json!([{"id": 1}]))]);
//! let client = ClientBuilder::new(&VENDOR).mock(&mock).build().unwrap();
//! let resp = client.execute(Request::new(&LIST, "/accounts".into())).await.unwrap();
//! assert_eq!(resp.json::<serde_json::Value>().await.unwrap()[0]["id"], 1);
//! assert_eq!(mock.calls_to("list_accounts").len(), 2); // the 503 was retried
//! mock.verify();
//! # }
//! ```

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use http::{Method, StatusCode};

use crate::auth::Credentials;
use crate::body::Body;
use crate::error::Error;
use crate::request::Request;
use crate::retry::Failure;

/// A predicate on a recorded call.
type Predicate = Arc<dyn Fn(&Call) -> bool + Send + Sync>;

/// An in-process server that answers a client's calls by rules; build a
/// client with it through [`ClientBuilder::mock`](crate::ClientBuilder::mock).
///
/// Dropping it runs [`verify`](Self::verify) (unless the thread is already
/// panicking): a test fails when a rule with an expected count was not used
/// as often. Call [`skip_verify`](Self::skip_verify) to turn that off.
pub struct MockServer {
    server: Server,
    verify_on_drop: bool,
}

/// What a client built with the mock shares with the [`MockServer`].
#[derive(Clone, Default)]
pub(crate) struct Server(Arc<Mutex<State>>);

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("MockServer")
            .field("rules", &state.rules.len())
            .field("calls", &state.calls.len())
            .finish()
    }
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    calls: Vec<Call>,
    /// What each call that no rule answered was told.
    misses: Vec<String>,
}

struct Rule {
    operation: String,
    label: Option<String>,
    when: Option<Predicate>,
    answers: Vec<Answer>,
    /// `None`: answers always with `answers[0]`; `Some(n)`: `n` times, the
    /// i-th use answering `answers[min(i, len - 1)]`.
    expected: Option<usize>,
    used: usize,
}

impl Rule {
    fn has_answers_left(&self) -> bool {
        self.expected.is_none_or(|n| self.used < n)
    }

    fn describe(&self) -> String {
        let mut out = format!("`{}`", self.operation);
        if let Some(label) = &self.label {
            out.push_str(&format!(" {label:?}"));
        } else if self.when.is_some() {
            out.push_str(" (with a predicate)");
        }
        match self.expected {
            None => out.push_str(&format!(", always ({} used)", self.used)),
            Some(n) => out.push_str(&format!(", {} of {n} answers used", self.used)),
        }
        out
    }
}

impl Default for MockServer {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MockServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.server.fmt(f)
    }
}

impl MockServer {
    /// A server with no rules: every call fails (loudly) until one is added.
    #[must_use]
    pub fn new() -> Self {
        MockServer {
            server: Server::default(),
            verify_on_drop: true,
        }
    }

    /// Start a rule for the operation with this id (`OperationInfo::id`,
    /// the generated method's operation id, such as `list_accounts`).
    pub fn on(&self, operation: impl Into<String>) -> RuleBuilder<'_> {
        RuleBuilder {
            mock: self,
            operation: operation.into(),
            label: None,
            when: None,
            times: None,
        }
    }

    /// Every call so far, in order (retries are separate calls; a call no
    /// rule answered is included).
    #[must_use]
    pub fn calls(&self) -> Vec<Call> {
        self.server.lock().calls.clone()
    }

    /// The calls of one operation, in order.
    #[must_use]
    pub fn calls_to(&self, operation: &str) -> Vec<Call> {
        self.server
            .lock()
            .calls
            .iter()
            .filter(|c| c.operation == operation)
            .cloned()
            .collect()
    }

    /// The last call, if any.
    #[must_use]
    pub fn last_call(&self) -> Option<Call> {
        self.server.lock().calls.last().cloned()
    }

    /// Assert that `operation` was called exactly `times` times (attempts
    /// count: a retried call counts each attempt).
    ///
    /// # Panics
    ///
    /// When it was not, listing the calls made.
    #[track_caller]
    pub fn assert_called(&self, operation: &str, times: usize) {
        let state = self.server.lock();
        let n = state.calls.iter().filter(|c| c.operation == operation).count();
        if n != times {
            let made: Vec<String> = state
                .calls
                .iter()
                .map(|c| format!("{} {} {}", c.operation, c.method, c.path))
                .collect();
            drop(state);
            panic!("expected {times} call(s) to `{operation}`, got {n}; calls made: {made:#?}");
        }
    }

    /// What is wrong so far: each rule with an expected count not used as
    /// often, and each call no rule answered. Empty when all is well.
    #[must_use]
    pub fn problems(&self) -> Vec<String> {
        let state = self.server.lock();
        let mut out: Vec<String> = state
            .rules
            .iter()
            .filter(|r| r.expected.is_some_and(|n| r.used < n))
            .map(|r| format!("rule {} was not used as often as expected", r.describe()))
            .collect();
        out.extend(state.misses.iter().cloned());
        out
    }

    /// Check that every rule with an expected count (`once`, `times`,
    /// `answer_sequence`) was used that often and that every call was answered.
    ///
    /// # Panics
    ///
    /// When not, listing each problem.
    #[track_caller]
    pub fn verify(&self) {
        let problems = self.problems();
        if !problems.is_empty() {
            panic!(
                "the mock server's expectations were not met:\n- {}",
                problems.join("\n- ")
            );
        }
    }

    /// Do not [`verify`](Self::verify) when dropped.
    pub fn skip_verify(&mut self) {
        self.verify_on_drop = false;
    }

    pub(crate) fn server(&self) -> Server {
        self.server.clone()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if self.verify_on_drop && !std::thread::panicking() {
            self.verify();
        }
    }
}

/// A rule being set up: say what it matches, then how it answers.
#[must_use = "a rule is added by one of its `answer` methods"]
pub struct RuleBuilder<'a> {
    mock: &'a MockServer,
    operation: String,
    label: Option<String>,
    when: Option<Predicate>,
    times: Option<usize>,
}

impl fmt::Debug for RuleBuilder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuleBuilder")
            .field("operation", &self.operation)
            .field("label", &self.label)
            .field("times", &self.times)
            .finish()
    }
}

impl RuleBuilder<'_> {
    /// Match only calls for which `predicate` holds (it sees the recorded
    /// call: path, query, headers, body).
    pub fn when(mut self, predicate: impl Fn(&Call) -> bool + Send + Sync + 'static) -> Self {
        self.when = Some(Arc::new(predicate));
        self
    }
    /// A name for the rule, shown when a call misses and by `verify`.
    pub fn named(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }
    /// Answer one call only (and expect one).
    pub fn once(self) -> Self {
        self.times(1)
    }
    /// Answer `n` calls (and expect `n`).
    pub fn times(mut self, n: usize) -> Self {
        self.times = Some(n);
        self
    }

    /// Answer with `answer`: always, or as often as [`once`](Self::once) /
    /// [`times`](Self::times) say.
    #[allow(clippy::needless_pass_by_value)] // an answer is built for its rule
    pub fn answer(self, answer: Answer) -> RuleHandle {
        let expected = self.times;
        self.add(vec![answer], expected)
    }
    /// Answer 200 with `value` as JSON (`Content-Type: application/json`):
    /// a value of the operation's own output type makes a typed answer.
    pub fn answer_json(self, value: impl serde::Serialize) -> RuleHandle {
        self.answer(Answer::json(value))
    }
    /// Answer with each of `answers` in turn, one per call (503, 503, then
    /// 200), and expect as many calls.
    ///
    /// # Panics
    ///
    /// When `answers` is empty.
    pub fn answer_sequence(self, answers: impl IntoIterator<Item = Answer>) -> RuleHandle {
        let answers: Vec<Answer> = answers.into_iter().collect();
        assert!(
            !answers.is_empty(),
            "answer_sequence for `{}` needs at least one answer",
            self.operation
        );
        let n = answers.len();
        self.add(answers, Some(n))
    }

    fn add(self, answers: Vec<Answer>, expected: Option<usize>) -> RuleHandle {
        let mut state = self.mock.server.lock();
        state.rules.push(Rule {
            operation: self.operation,
            label: self.label,
            when: self.when,
            answers,
            expected,
            used: 0,
        });
        RuleHandle {
            server: self.mock.server.clone(),
            index: state.rules.len() - 1,
        }
    }
}

/// A rule for one operation of a generated client, typed by what the
/// operation answers: a generated `mock` module hands these out, one method
/// per operation (`mock.list_accounts()`), so that a test writes the answer
/// as a value of the operation's own output type and the kit encodes it the
/// way the vendor would (status, `Content-Type`, JSON or text or bytes).
///
/// Say what it matches ([`when`](Self::when), [`once`](Self::once),
/// [`times`](Self::times)), then how it answers: [`returns`](Self::returns)
/// a value, [`fails`](Self::fails) with an API error or a fault, or a
/// [`sequence`](Self::sequence) of both.
#[must_use = "a rule is added by `returns`, `fails`, `fails_with` or `sequence`"]
pub struct TypedRule<'a, T> {
    rule: RuleBuilder<'a>,
    encode: fn(T) -> Answer,
}

impl<T> fmt::Debug for TypedRule<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.rule.fmt(f)
    }
}

/// One answer of a [`TypedRule::sequence`]: a value of the operation's
/// output type, or any [`Answer`] (an API error, a fault).
#[derive(Debug, Clone)]
pub enum Reply<T> {
    /// Answer with this value, as the operation's success answer.
    Value(T),
    /// Answer with this (`Answer::status(503)`, `Answer::timeout()`, ...).
    Answer(Answer),
}

impl<T> From<Answer> for Reply<T> {
    fn from(answer: Answer) -> Self {
        Reply::Answer(answer)
    }
}

impl<'a, T> TypedRule<'a, T> {
    /// A rule for the operation of `rule`, whose success answer `encode`
    /// writes (generated code supplies both).
    pub fn new(rule: RuleBuilder<'a>, encode: fn(T) -> Answer) -> Self {
        TypedRule { rule, encode }
    }
    /// Match only calls for which `predicate` holds: it sees the recorded
    /// call (path as sent, query pairs, headers, body), so a test can match
    /// on the operation's inputs.
    pub fn when(mut self, predicate: impl Fn(&Call) -> bool + Send + Sync + 'static) -> Self {
        self.rule = self.rule.when(predicate);
        self
    }
    /// A name for the rule, shown when a call misses and by `verify`.
    pub fn named(mut self, label: impl Into<String>) -> Self {
        self.rule = self.rule.named(label);
        self
    }
    /// Answer one call only (and expect one).
    pub fn once(mut self) -> Self {
        self.rule = self.rule.once();
        self
    }
    /// Answer `n` calls (and expect `n`).
    pub fn times(mut self, n: usize) -> Self {
        self.rule = self.rule.times(n);
        self
    }
    /// The success answer carrying `value`, as this operation's rule sends it.
    pub fn success(&self, value: T) -> Answer {
        (self.encode)(value)
    }
    /// Answer with `value`, the operation's own output: always, or as often
    /// as [`once`](Self::once) / [`times`](Self::times) say.
    pub fn returns(self, value: T) -> RuleHandle {
        let answer = (self.encode)(value);
        self.rule.answer(answer)
    }
    /// Answer with `answer` instead of a value: an API error
    /// (`Answer::error(404, json!({..}))`, `Answer::rate_limited(..)`) or a
    /// fault (`Answer::timeout()`, `Answer::connection_reset()`).
    pub fn fails(self, answer: Answer) -> RuleHandle {
        self.rule.answer(answer)
    }
    /// Answer with an API error: `status` with `body` as JSON.
    pub fn fails_with(self, status: u16, body: impl serde::Serialize) -> RuleHandle {
        self.rule.answer(Answer::error(status, body))
    }
    /// Answer with each reply in turn, one per call (503, 503, then a
    /// value), and expect as many calls.
    ///
    /// # Panics
    ///
    /// When `replies` is empty.
    pub fn sequence(self, replies: impl IntoIterator<Item = Reply<T>>) -> RuleHandle {
        let encode = self.encode;
        let answers: Vec<Answer> = replies
            .into_iter()
            .map(|r| match r {
                Reply::Value(v) => encode(v),
                Reply::Answer(a) => a,
            })
            .collect();
        self.rule.answer_sequence(answers)
    }
}

/// A rule added to a [`MockServer`]: how often it answered.
#[derive(Debug)]
pub struct RuleHandle {
    server: Server,
    index: usize,
}

impl RuleHandle {
    /// The calls this rule answered so far.
    #[must_use]
    pub fn used(&self) -> usize {
        self.server.lock().rules[self.index].used
    }
}

/// How the server answers one call.
#[derive(Clone, Debug)]
pub struct Answer(Kind);

#[derive(Clone, Debug)]
enum Kind {
    Reply {
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
        end: BodyEnd,
    },
    /// No answer at all: the attempt's time limit ends it.
    Timeout,
    /// The connection breaks after the request went out.
    Reset,
    /// The connection cannot be made: nothing was sent.
    Refused,
}

/// How a reply's body ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BodyEnd {
    Complete,
    /// After the bytes given, nothing more arrives (the idle limit ends it).
    Stall,
    /// After the bytes given, the connection breaks.
    Break,
}

impl Answer {
    /// `status` with no headers and an empty body.
    ///
    /// # Panics
    ///
    /// When `status` is not a status code (below 100 or above 999).
    #[must_use]
    pub fn status(status: u16) -> Self {
        let status =
            StatusCode::from_u16(status).unwrap_or_else(|_| panic!("{status} is not an HTTP status code (100..=999)"));
        Answer(Kind::Reply {
            status,
            headers: HeaderMap::new(),
            body: Bytes::new(),
            end: BodyEnd::Complete,
        })
    }
    /// 200 with `value` as its JSON body (`Content-Type: application/json`).
    ///
    /// # Panics
    ///
    /// When `value` cannot be serialized (a map with non-string keys).
    #[must_use]
    pub fn json(value: impl serde::Serialize) -> Self {
        Answer::status(200).with_json(value)
    }
    /// An API error: `status` (4xx, 5xx) with `body` as JSON.
    #[must_use]
    pub fn error(status: u16, body: impl serde::Serialize) -> Self {
        Answer::status(status).with_json(body)
    }
    /// 429 with `Retry-After` (whole seconds, rounded up).
    #[must_use]
    pub fn rate_limited(retry_after: Duration) -> Self {
        let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
        Answer::status(429).with_header("retry-after", &secs.to_string())
    }
    /// No answer: the attempt waits until its time limit (with a paused
    /// clock, at once) and fails with [`Error::Timeout`].
    #[must_use]
    pub fn timeout() -> Self {
        Answer(Kind::Timeout)
    }
    /// The connection breaks after the request went out: [`Error::Connection`]
    /// (retried only when the operation may be sent twice).
    #[must_use]
    pub fn connection_reset() -> Self {
        Answer(Kind::Reset)
    }
    /// The connection cannot be made (nothing was sent, so any operation is retried).
    #[must_use]
    pub fn connection_refused() -> Self {
        Answer(Kind::Refused)
    }
    /// After this answer's body so far, nothing more arrives: the idle limit
    /// ends the read with [`Error::Timeout`] (`idle`). On a streamed
    /// download, the stream fails the same way.
    #[must_use]
    pub fn then_stall(mut self) -> Self {
        if let Kind::Reply { end, .. } = &mut self.0 {
            *end = BodyEnd::Stall;
        }
        self
    }
    /// After this answer's body so far, the connection breaks: the read
    /// fails with [`Error::Connection`].
    #[must_use]
    pub fn then_break(mut self) -> Self {
        if let Kind::Reply { end, .. } = &mut self.0 {
            *end = BodyEnd::Break;
        }
        self
    }
    /// One more header.
    ///
    /// # Panics
    ///
    /// When `name` or `value` cannot be a header.
    #[must_use]
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        if let Kind::Reply { headers, .. } = &mut self.0 {
            let n = HeaderName::from_bytes(name.as_bytes()).unwrap_or_else(|_| panic!("{name:?} is not a header name"));
            let v = HeaderValue::from_str(value).unwrap_or_else(|_| panic!("{value:?} is not a header value"));
            headers.append(n, v);
        }
        self
    }
    /// This body (bytes, text).
    #[must_use]
    pub fn with_body(mut self, bytes: impl Into<Bytes>) -> Self {
        if let Kind::Reply { body, .. } = &mut self.0 {
            *body = bytes.into();
        }
        self
    }
    /// This body, `value` as JSON, with `Content-Type: application/json`.
    ///
    /// # Panics
    ///
    /// When `value` cannot be serialized.
    #[must_use]
    pub fn with_json(self, value: impl serde::Serialize) -> Self {
        let body = serde_json::to_vec(&value).unwrap_or_else(|e| panic!("Answer::with_json: {e}"));
        let this = match self.0 {
            Kind::Reply {
                mut headers,
                body: _,
                status,
                end,
            } => {
                headers.remove(CONTENT_TYPE);
                Answer(Kind::Reply {
                    status,
                    headers,
                    body: Bytes::new(),
                    end,
                })
            }
            other => Answer(other),
        };
        this.with_header("content-type", "application/json").with_body(body)
    }

    /// The reply, or the fault, for one call.
    async fn respond(self) -> Result<reqwest::Response, Fault> {
        let (status, headers, body, end) = match self.0 {
            Kind::Reply {
                status,
                headers,
                body,
                end,
            } => (status, headers, body, end),
            Kind::Timeout => std::future::pending().await,
            Kind::Reset => return Err(Fault::Reset),
            Kind::Refused => return Err(Fault::Refused),
        };
        let body = match end {
            BodyEnd::Complete => reqwest::Body::from(body),
            BodyEnd::Stall => {
                let first = futures_util::stream::iter([Ok::<_, std::io::Error>(body)]);
                reqwest::Body::wrap_stream(futures_util::StreamExt::chain(first, futures_util::stream::pending()))
            }
            BodyEnd::Break => {
                let reset = std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "connection reset by peer (test kit)",
                );
                reqwest::Body::wrap_stream(futures_util::stream::iter([Ok(body), Err(reset)]))
            }
        };
        let mut resp = http::Response::new(body);
        *resp.status_mut() = status;
        *resp.headers_mut() = headers;
        Ok(reqwest::Response::from(resp))
    }
}

/// A call that got no reply.
pub(crate) enum Fault {
    Reset,
    Refused,
    Miss(String),
}

impl Fault {
    pub(crate) fn into_failure(self, operation: &'static str) -> Failure {
        let (error, sent) = match self {
            Fault::Reset => (
                Error::connection(operation, "connection reset by peer (test kit)"),
                true,
            ),
            Fault::Refused => (Error::connection(operation, "connection refused (test kit)"), false),
            Fault::Miss(message) => (Error::Config(message), false),
        };
        Failure {
            error,
            retry_after: None,
            sent,
        }
    }
}

impl Server {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Record the call, pick the rule that answers it, and answer.
    pub(crate) async fn answer(
        &self,
        req: &Request,
        attempt: u32,
        request: reqwest::Request,
        credentials: Option<&Credentials>,
    ) -> Result<reqwest::Response, Fault> {
        let call = record(req, attempt, request, credentials).await;
        // Predicates run without the lock held (one may look at the server).
        let candidates: Vec<(usize, Option<Predicate>)> = self
            .lock()
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.operation == call.operation && r.has_answers_left())
            .map(|(i, r)| (i, r.when.clone()))
            .collect();
        let matching: Vec<usize> = candidates
            .into_iter()
            .filter(|(_, when)| when.as_ref().is_none_or(|p| p(&call)))
            .map(|(i, _)| i)
            .collect();
        match self.pick(call, &matching) {
            Ok(answer) => answer.respond().await,
            Err(miss) => Err(Fault::Miss(miss)),
        }
    }

    /// Record `call` and take the answer of the first of `matching` with
    /// answers left; a miss is recorded and its message returned.
    fn pick(&self, call: Call, matching: &[usize]) -> Result<Answer, String> {
        let mut state = self.lock();
        let picked = matching.iter().copied().find(|&i| state.rules[i].has_answers_left());
        let result = match picked {
            Some(i) => {
                let rule = &mut state.rules[i];
                let answer = rule.answers[rule.used.min(rule.answers.len() - 1)].clone();
                rule.used += 1;
                Ok(answer)
            }
            None => {
                let miss = miss_message(&state, &call);
                state.misses.push(miss.clone());
                Err(miss)
            }
        };
        state.calls.push(call);
        result
    }
}

fn miss_message(state: &State, call: &Call) -> String {
    let rules: Vec<String> = state.rules.iter().map(Rule::describe).collect();
    let rules = if rules.is_empty() {
        "none".to_owned()
    } else {
        format!("\n  - {}", rules.join("\n  - "))
    };
    format!(
        "test kit: no rule answers this call to `{}` ({} {}); add one with `mock.on({:?})...`. Rules: {rules}",
        call.operation, call.method, call.path, call.operation
    )
}

/// One call as the server received it.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// The operation id.
    pub operation: &'static str,
    /// The attempt number within the call, from 1.
    pub attempt: u32,
    /// The method.
    pub method: Method,
    /// The path as sent (percent-encoded), after the base URL's own path:
    /// `/accounts/7` for a base URL `https://host/api/v1`, as the spec writes
    /// the operation's path.
    pub path: String,
    /// The query pairs, decoded, in order.
    pub query: Vec<(String, String)>,
    /// The headers; the credentials (and any copy of them) read `<redacted>`.
    pub headers: HeaderMap,
    /// The body.
    pub body: RecordedBody,
}

/// A recorded request body.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum RecordedBody {
    /// No body.
    Empty,
    /// A JSON body.
    Json(serde_json::Value),
    /// An urlencoded form, decoded, in order.
    Form(Vec<(String, String)>),
    /// A multipart form, in order.
    Multipart(Vec<Part>),
    /// Anything else (a JSON body that does not parse: the bytes).
    Bytes(Bytes),
}

/// One part of a recorded multipart body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    /// The field name.
    pub name: String,
    /// The file name, for a file part.
    pub file_name: Option<String>,
    /// The part's `Content-Type`, when it has one.
    pub content_type: Option<String>,
    /// The content.
    pub data: Bytes,
}

impl Part {
    /// The content as text (lossy).
    #[must_use]
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

impl Call {
    /// A header's value as text (the first, if repeated).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// A query parameter's value (the first, if repeated).
    #[must_use]
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    /// Every value of a repeated query parameter, in order.
    #[must_use]
    pub fn query_params(&self, name: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
    /// The JSON body, if the body is JSON.
    #[must_use]
    pub fn json(&self) -> Option<&serde_json::Value> {
        match &self.body {
            RecordedBody::Json(v) => Some(v),
            _ => None,
        }
    }
    /// The JSON body read as `T` (an operation's own input type).
    ///
    /// # Errors
    ///
    /// When the body is not JSON, or not a `T`.
    pub fn json_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, String> {
        let value = self.json().ok_or_else(|| {
            format!(
                "the body of this `{}` call is not JSON: {:?}",
                self.operation, self.body
            )
        })?;
        serde_json::from_value(value.clone()).map_err(|e| e.to_string())
    }
    /// A form field's value (the first, if repeated), if the body is a form.
    #[must_use]
    pub fn form_field(&self, name: &str) -> Option<&str> {
        match &self.body {
            RecordedBody::Form(pairs) => pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()),
            _ => None,
        }
    }
    /// A multipart part by field name, if the body is multipart.
    #[must_use]
    pub fn part(&self, name: &str) -> Option<&Part> {
        match &self.body {
            RecordedBody::Multipart(parts) => parts.iter().find(|p| p.name == name),
            _ => None,
        }
    }
}

/// The call as the server sees it: read from the request built for the wire.
async fn record(req: &Request, attempt: u32, mut request: reqwest::Request, credentials: Option<&Credentials>) -> Call {
    let mut headers = std::mem::take(request.headers_mut());
    if let Some(c) = credentials {
        if let Some(v) = headers.get_mut(c.header_name()) {
            *v = HeaderValue::from_static("<redacted>");
        }
        c.scrub_headers(&mut headers);
    }
    let body = match &req.body {
        Body::Empty | Body::EmptyWithContentType(_) => RecordedBody::Empty,
        _ if request.body().is_none() => RecordedBody::Empty, // dropped by a redirect
        Body::Json(b) => serde_json::from_slice(b).map_or_else(|_| RecordedBody::Bytes(b.clone()), RecordedBody::Json),
        Body::Form(f) => RecordedBody::Form(serde_urlencoded::from_str(f).unwrap_or_default()),
        #[cfg(feature = "multipart")]
        Body::Multipart(_) => {
            let boundary = headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .and_then(|ct| ct.split("boundary=").nth(1))
                .unwrap_or_default()
                .to_owned();
            let bytes = read_body(request.body_mut().take()).await;
            RecordedBody::Multipart(parse_multipart(&bytes, &boundary))
        }
    };
    let url = request.url();
    Call {
        operation: req.op.id,
        attempt,
        method: request.method().clone(),
        // The operation's path, without the base URL's own (`/api/v1`).
        path: if url.path().ends_with(req.path.as_str()) {
            req.path.clone()
        } else {
            url.path().to_owned()
        },
        query: url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        headers,
        body,
    }
}

/// A streamed request body, read whole (a file part that fails to read ends it).
#[cfg(feature = "multipart")]
async fn read_body(body: Option<reqwest::Body>) -> Bytes {
    use http_body_util::BodyExt;
    match body {
        Some(b) => b.collect().await.map(|c| c.to_bytes()).unwrap_or_default(),
        None => Bytes::new(),
    }
}

/// The parts of a `multipart/form-data` body.
#[cfg(feature = "multipart")]
fn parse_multipart(body: &[u8], boundary: &str) -> Vec<Part> {
    let delimiter = format!("--{boundary}");
    let text = body;
    let mut parts = Vec::new();
    let mut pieces = split(text, delimiter.as_bytes());
    pieces.remove(0); // the preamble
    for piece in pieces {
        if piece.starts_with(b"--") {
            break;
        }
        let piece = piece.strip_prefix(b"\r\n").unwrap_or(piece);
        let piece = piece.strip_suffix(b"\r\n").unwrap_or(piece);
        let Some(split_at) = find(piece, b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&piece[..split_at]);
        let data = Bytes::copy_from_slice(&piece[split_at + 4..]);
        let mut part = Part {
            name: String::new(),
            file_name: None,
            content_type: None,
            data,
        };
        for line in head.split("\r\n") {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            match name.trim().to_ascii_lowercase().as_str() {
                "content-disposition" => {
                    part.name = disposition_param(value, "name").unwrap_or_default();
                    part.file_name = disposition_param(value, "filename");
                }
                "content-type" => part.content_type = Some(value.trim().to_owned()),
                _ => {}
            }
        }
        parts.push(part);
    }
    parts
}

#[cfg(feature = "multipart")]
fn split<'a>(mut haystack: &'a [u8], needle: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    while let Some(i) = find(haystack, needle) {
        out.push(&haystack[..i]);
        haystack = &haystack[i + needle.len()..];
    }
    out.push(haystack);
    out
}

#[cfg(feature = "multipart")]
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `name="value"` from a `Content-Disposition`, with `\"` and `%22` (as
/// the runtime escapes them) decoded.
#[cfg(feature = "multipart")]
fn disposition_param(header: &str, param: &str) -> Option<String> {
    let key = format!("{param}=\"");
    let mut at = 0;
    while let Some(i) = header[at..].find(&key) {
        let start = at + i;
        let before = header[..start].chars().last();
        if start == 0 || matches!(before, Some(';' | ' ')) {
            let rest = &header[start + key.len()..];
            let end = rest.find('"')?;
            let raw = &rest[..end];
            return Some(
                percent_encoding::percent_decode_str(raw)
                    .decode_utf8_lossy()
                    .into_owned(),
            );
        }
        at = start + key.len();
    }
    None
}
