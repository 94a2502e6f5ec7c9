//! One attempt on the wire: the request built (headers, credentials, body),
//! sent, redirects followed within the origin, and the answer turned into a
//! [`Response`] or a failure for the retry loop.

use std::sync::Arc;
use std::time::Duration;

use http::header::{HeaderMap, HeaderValue, CONTENT_TYPE, USER_AGENT};
use http::{Method, StatusCode};
use tokio::time::Instant;

use crate::auth::Credentials;
use crate::body::Body;
use crate::error::{request_id, transport_error, ApiError, Error, MAX_ERROR_BODY};
use crate::intercept::{AttemptRequest, AttemptResponse, Interceptors};
#[cfg(feature = "multipart")]
use crate::multipart::Progress;
use crate::read::{read_error_body, read_success_body};
use crate::request::Request;
use crate::response::{Response, ResponseBody};
use crate::retry::{retry_after, Failure};
use crate::slots::Slot;

/// Redirects followed within the origin before the 3xx is returned.
const MAX_REDIRECTS: usize = 5;

/// What every attempt of a client needs: the HTTP client and what goes on
/// (or is scrubbed from) each request and answer.
#[derive(Debug)]
pub(crate) struct Transport {
    pub(crate) http: reqwest::Client,
    pub(crate) user_agent: HeaderValue,
    pub(crate) credentials: Option<Credentials>,
    pub(crate) max_body_size: u64,
    pub(crate) interceptors: Interceptors,
    /// The test kit's in-process server, answering instead of the network.
    #[cfg(feature = "test-util")]
    pub(crate) mock: Option<crate::mock::Server>,
}

/// How one attempt ended.
#[allow(clippy::large_enum_variant)] // short-lived, one per attempt
pub(crate) enum Attempt {
    Done(Response),
    Failed(Failure),
}

impl Attempt {
    /// A failure after (part of) the request went out, with no `Retry-After`.
    pub(crate) fn failed(error: Error) -> Self {
        Attempt::Failed(Failure {
            error,
            retry_after: None,
            sent: true,
        })
    }
}

/// One hop of an attempt: the method and whether the body goes along
/// (a redirect may turn a POST into a GET without it).
struct Hop {
    method: Method,
    with_body: bool,
    count: usize,
    /// The attempt this hop belongs to, from 1.
    attempt: u32,
}

impl Transport {
    /// One attempt: send (following redirects within the origin), then read
    /// the answer. `permit` is the connection slot, held by a streamed body.
    #[allow(clippy::too_many_arguments)] // one attempt's pieces, handed on once
    pub(crate) async fn attempt(
        &self,
        req: &Request,
        url: &reqwest::Url,
        credentials: Option<&Credentials>,
        idle: Duration,
        started: Instant,
        permit: Slot,
        number: u32,
    ) -> Result<Attempt, Error> {
        let sent_at = (!self.interceptors.is_empty()).then(Instant::now);
        let mut resp = match self.send(req, url, credentials, idle, number).await? {
            Ok(resp) => resp,
            Err(failed) => return Ok(failed),
        };
        let status = resp.status();
        let headers = std::mem::take(resp.headers_mut());
        if let Some(sent_at) = sent_at {
            self.response_hooks(req, number, status, &headers, sent_at)?;
        }
        if status.is_success() {
            let body = if req.buffer {
                match read_success_body(req.op.id, &mut resp, self.max_body_size, idle).await {
                    Ok(b) => ResponseBody::Buffered(b),
                    Err(e) => return Ok(Attempt::failed(e)),
                }
            } else {
                ResponseBody::Streaming(Box::new(resp))
            };
            Ok(self.success(req, body, status, headers, idle, started, permit))
        } else {
            // Boxed: an error answer's read is the largest step, and only
            // failures should pay for its room in every attempt's state.
            Ok(Box::pin(self.failure(req, resp, status, headers, idle, permit)).await)
        }
    }

    /// Send the request, following redirects within the origin: the answer
    /// to the last hop, or the failed attempt.
    /// Tell the interceptors about an answer (its headers scrubbed of any echo of the secret).
    fn response_hooks(
        &self,
        req: &Request,
        attempt: u32,
        status: StatusCode,
        headers: &HeaderMap,
        sent_at: Instant,
    ) -> Result<(), Error> {
        let scrubbed;
        let headers = match &self.credentials {
            Some(c) => {
                let mut h = headers.clone();
                c.scrub_headers(&mut h);
                scrubbed = h;
                &scrubbed
            }
            None => headers,
        };
        let seen = AttemptResponse {
            op: req.op,
            attempt,
            status,
            headers,
            elapsed: sent_at.elapsed(),
        };
        self.interceptors.run(req.op.id, |i| i.after_response(&seen))
    }

    async fn send(
        &self,
        req: &Request,
        url: &reqwest::Url,
        credentials: Option<&Credentials>,
        idle: Duration,
        attempt: u32,
    ) -> Result<Result<reqwest::Response, Attempt>, Error> {
        let mut hop = Hop {
            method: req.op.method.clone(),
            with_body: true,
            count: 0,
            attempt,
        };
        let mut redirected: Option<reqwest::Url> = None;
        loop {
            let url = redirected.as_ref().unwrap_or(url);
            let resp = match self.send_hop(req, &hop, url, credentials, idle).await? {
                Ok(resp) => resp,
                Err(failed) => return Ok(Err(failed)),
            };
            // Redirects are followed here, not by reqwest, and only within the
            // origin: the credential goes along only to where it was meant to go.
            let Some(next) = (hop.count < MAX_REDIRECTS)
                .then(|| redirect_target(&resp, url))
                .flatten()
            else {
                return Ok(Ok(resp));
            };
            if !follow(&mut hop, resp.status(), &req.body) {
                return Ok(Ok(resp));
            }
            redirected = Some(next);
        }
    }

    /// Send one hop, watching a multipart upload for a server that stops reading it.
    async fn send_hop(
        &self,
        req: &Request,
        hop: &Hop,
        url: &reqwest::Url,
        credentials: Option<&Credentials>,
        idle: Duration,
    ) -> Result<Result<reqwest::Response, Attempt>, Error> {
        let op = req.op;
        let progress = upload_progress(&req.body);
        let upload = match &progress {
            Some(p) if hop.with_body => Some(multipart_form(req, p).await?),
            _ => None,
        };
        let request = self.build_request(req, hop, url.clone(), credentials, upload)?;
        #[cfg(feature = "test-util")]
        if let Some(mock) = &self.mock {
            // Boxed: the test kit's answer is large, and a build with the
            // kit's feature on (any app's tests) should not make every
            // real call's state leave room for it.
            return Ok(
                Box::pin(mock.answer(req, hop.attempt, request, self.credentials.as_ref()))
                    .await
                    .map_err(|fault| Attempt::Failed(fault.into_failure(op.id))),
            );
        }
        let sending = self.http.execute(request);
        let result = match &progress {
            // An upload: also fail if the server stops taking the body.
            Some(p) if hop.with_body => {
                let stalled = p.stalled(idle);
                match futures_util::future::select(std::pin::pin!(sending), std::pin::pin!(stalled)).await {
                    futures_util::future::Either::Left((r, _)) => r,
                    futures_util::future::Either::Right(_) => {
                        let e = Error::Timeout {
                            operation: op.id,
                            limit: "idle",
                            elapsed: Duration::ZERO,
                            attempts: None,
                        };
                        return Ok(Err(Attempt::failed(e)));
                    }
                }
            }
            _ => sending.await,
        };
        match result {
            Ok(r) => Ok(Ok(r)),
            Err(e) if e.is_builder() => Err(Error::invalid(
                op.id,
                "request",
                format!("cannot be formed: {}", e.without_url()),
            )),
            Err(e) => {
                // A failure to connect sent nothing (on the first hop).
                let sent = hop.count > 0 || !e.is_connect();
                Ok(Err(Attempt::Failed(Failure {
                    error: transport_error(op.id, e),
                    retry_after: None,
                    sent,
                })))
            }
        }
    }

    /// Build the request for one hop: headers, credentials, and the body
    /// unless a redirect dropped it. `upload` is a multipart body's form,
    /// already opened (the one step that waits, done before this plain
    /// function, so that no attempt's state holds this function's locals).
    fn build_request(
        &self,
        req: &Request,
        hop: &Hop,
        url: reqwest::Url,
        credentials: Option<&Credentials>,
        upload: Option<Upload>,
    ) -> Result<reqwest::Request, Error> {
        let op = req.op;
        let mut headers = req.headers.clone();
        headers.insert(USER_AGENT, self.user_agent.clone());
        if !self.interceptors.is_empty() {
            // Before the credentials go on: interceptors never see or set them.
            let protected = self.credentials.as_ref().map(Credentials::header_name);
            let mut seen = AttemptRequest {
                op,
                attempt: hop.attempt,
                method: &hop.method,
                url: &url,
                headers: &mut headers,
                protected,
            };
            self.interceptors.run(op.id, |i| i.before_attempt(&mut seen))?;
        }
        if let Some(c) = credentials {
            c.apply(&mut headers);
        }
        let mut request = match upload {
            // reqwest frames a multipart body (boundary, length) in its builder.
            #[cfg(feature = "multipart")]
            Some(form) => self
                .http
                .request(hop.method.clone(), url)
                .multipart(form)
                .build()
                .map_err(|e| Error::invalid(op.id, "request", format!("cannot be formed: {}", e.without_url())))?,
            // Built directly: the builder would move the request around
            // and check the URL again (the client checked its base once).
            _ => reqwest::Request::new(hop.method.clone(), url),
        };
        if hop.with_body {
            if let Some(body) = plain_body(&mut headers, &req.body) {
                *request.body_mut() = Some(body);
            }
        }
        if !headers.is_empty() {
            // Moving the map in costs less than `RequestBuilder::headers`, which re-inserts each entry.
            merge_headers(request.headers_mut(), headers);
        }
        Ok(request)
    }

    /// A success answer, its body read whole or left to stream (holding the slot).
    #[allow(clippy::too_many_arguments)] // the pieces of one answer, handed on once
    fn success(
        &self,
        req: &Request,
        body: ResponseBody,
        status: StatusCode,
        headers: HeaderMap,
        idle: Duration,
        started: Instant,
        permit: Slot,
    ) -> Attempt {
        let mut resp = Response::new(req.op.id, status, headers, body, started);
        resp.redactor = self.credentials.clone();
        resp.idle = idle;
        if !req.buffer {
            resp.permit = Some(permit);
        }
        Attempt::Done(resp)
    }

    /// A non-success answer, kept whole (within a cap) and scrubbed of the secret.
    async fn failure(
        &self,
        req: &Request,
        mut resp: reqwest::Response,
        status: StatusCode,
        mut headers: HeaderMap,
        idle: Duration,
        permit: Slot,
    ) -> Attempt {
        let op = req.op;
        let retry_after = retry_after(&headers);
        // Read past the cap by the longest escaped echo of the secret, so a
        // secret straddling the cap is redacted before the cut.
        let margin = self.credentials.as_ref().map_or(0, Credentials::max_echo_len);
        let (mut body, broken) = read_error_body(op.id, &mut resp, MAX_ERROR_BODY + margin, idle).await;
        drop(resp);
        drop(permit);
        if let Some(e) = broken {
            // The status is the evidence that matters; keep it with what arrived.
            tracing::debug!(error = %e.trace_summary(), "the error body broke off");
        }
        if let Some(c) = &self.credentials {
            body = c.scrub_bytes(body);
            c.scrub_headers(&mut headers);
        }
        body.truncate(MAX_ERROR_BODY);
        let error = Error::Api(Box::new(ApiError {
            operation: op.id,
            method: op.method.clone(),
            path: req.path.clone(),
            status,
            request_id: request_id(&headers),
            headers,
            body,
            attempts: None,
        }));
        Attempt::Failed(Failure {
            error,
            retry_after,
            sent: true,
        })
    }
}

/// A multipart body's form, with its files opened, watched by `progress`.
/// Boxed: the file-opening future is large and would sit in every attempt's state.
#[cfg(feature = "multipart")]
async fn multipart_form(req: &Request, progress: &Arc<Progress>) -> Result<Upload, Error> {
    match &req.body {
        Body::Multipart(m) => Box::pin(m.to_form(req.op.id, progress)).await,
        _ => unreachable!("only a multipart body has a progress watch"),
    }
}

/// Without multipart uploads there is no progress watch to call this with.
#[cfg(not(feature = "multipart"))]
async fn multipart_form(_: &Request, progress: &Arc<Progress>) -> Result<Upload, Error> {
    match **progress {}
}

/// A multipart body's form, ready to send.
#[cfg(feature = "multipart")]
type Upload = reqwest::multipart::Form;

/// Stands in for the multipart form when multipart is compiled out: it cannot exist.
#[cfg(not(feature = "multipart"))]
type Upload = std::convert::Infallible;

/// The body to send (and its `Content-Type`, put in `headers`), for every
/// body but a multipart one (whose form [`multipart_form`] opened).
fn plain_body(headers: &mut HeaderMap, body: &Body) -> Option<reqwest::Body> {
    let (content_type, bytes) = match body {
        Body::Empty => return None,
        Body::EmptyWithContentType(ct) => (*ct, None),
        Body::Json(b) => ("application/json", Some(reqwest::Body::from(b.clone()))),
        Body::Form(f) => (
            "application/x-www-form-urlencoded",
            Some(reqwest::Body::from(f.clone())),
        ),
        #[cfg(feature = "multipart")]
        Body::Multipart(_) => return None,
    };
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    bytes
}

/// Set up the next hop after a redirect answered `status`; `false` when the
/// redirect must not be followed (it would resend a body that cannot be sent again).
fn follow(hop: &mut Hop, status: StatusCode, body: &Body) -> bool {
    match status.as_u16() {
        303 if hop.method != Method::HEAD => {
            hop.method = Method::GET;
            hop.with_body = false;
        }
        301 | 302 if hop.method == Method::POST => {
            hop.method = Method::GET;
            hop.with_body = false;
        }
        307 | 308 if hop.with_body && !body.replayable() => return false,
        _ => {}
    }
    hop.count += 1;
    true
}

/// Where a redirect answer points, if the runtime should follow it: within
/// the origin of `from`, with a `Location` that parses.
fn redirect_target(resp: &reqwest::Response, from: &reqwest::Url) -> Option<reqwest::Url> {
    if !matches!(resp.status().as_u16(), 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let next = from
        .join(resp.headers().get(http::header::LOCATION)?.to_str().ok()?)
        .ok()?;
    (next.origin() == from.origin()).then_some(next)
}

/// The URL of one call: the parsed base with the call's path (after the
/// base's own prefix) and query. Setting them on the parsed base gives the
/// URL that parsing `base + path + ?query` would (the generated code has
/// already escaped every parameter), without parsing the host again.
pub(crate) fn call_url(base: &reqwest::Url, path: &str, query: &str) -> reqwest::Url {
    let mut url = base.clone();
    // The base's prefix (`/v2` of `https://host/v2`; empty for a bare host).
    let prefix = base.path().trim_end_matches('/');
    if prefix.is_empty() {
        url.set_path(path);
    } else {
        url.set_path(&[prefix, path].concat());
    }
    url.set_query((!query.is_empty()).then_some(query));
    url
}

/// A watch on the upload, for a multipart body.
#[cfg(feature = "multipart")]
fn upload_progress(body: &Body) -> Option<Arc<Progress>> {
    matches!(body, Body::Multipart(_)).then(Progress::new)
}

/// Without multipart uploads no body streams from a file, so nothing is watched.
#[cfg(not(feature = "multipart"))]
fn upload_progress(_: &Body) -> Option<Arc<Progress>> {
    None
}

/// Stands in for the upload watch when multipart is compiled out: it cannot exist.
#[cfg(not(feature = "multipart"))]
enum Progress {}

#[cfg(not(feature = "multipart"))]
impl Progress {
    async fn stalled(&self, _idle: Duration) {
        match *self {}
    }
}

/// What `RequestBuilder::headers` does: each name in `src` replaces that name
/// in `dst`, keeping all of `src`'s values for it. Into an empty map, a move.
fn merge_headers(dst: &mut HeaderMap, src: HeaderMap) {
    if dst.is_empty() {
        *dst = src;
        return;
    }
    let mut last = None;
    for (name, value) in src {
        if let Some(name) = name {
            dst.insert(&name, value);
            last = Some(name);
        } else if let Some(name) = &last {
            dst.append(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The URL built on the parsed base is the URL parsing the joined text
    /// gives, for every base form (prefix, port, IPv6, IDNA host) and every
    /// path and query the generated code can produce.
    #[test]
    fn call_url_matches_parsing_the_joined_text() {
        let bases = [
            "https://api.example.com",
            "http://127.0.0.1:4010",
            "https://h.example/v2/prefix",
            "http://[::1]:8080/p",
            "https://bücher.example/x",
        ];
        let paths = [
            "/",
            "/chat/abc",
            "/a%2Fb/%20c",
            "/users/me@x.com",
            "/x/%E2%9C%93/y",
            "/a//b",
            "/caf%C3%A9",
        ];
        let queries = ["", "a=1", "a=1&b=%26%3D", "q=a+b&list=%5B%22x%22%5D", "empty="];
        for base in bases {
            let parsed = reqwest::Url::parse(base).unwrap();
            for path in paths {
                for query in queries {
                    let joined = format!("{base}{path}{}{query}", if query.is_empty() { "" } else { "?" });
                    let want = reqwest::Url::parse(&joined).unwrap();
                    assert_eq!(call_url(&parsed, path, query).as_str(), want.as_str(), "{joined}");
                }
            }
        }
    }
}
