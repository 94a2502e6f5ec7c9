//! Shared fixtures: statics shaped like generated code, and a raw loopback
//! HTTP server for the faults `wiremock` cannot produce.
#![allow(dead_code)] // each test binary uses a different subset

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use snapsdk_runtime::__private::http::Method;
use snapsdk_runtime::{
    encode, AuthRequirement, ClientBuilder, Credentials, OperationInfo, RateLimit, Request, VendorInfo,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

pub const KEY: &str = "sk_live_5f1e9b2c7d4a";

pub static VENDOR: VendorInfo = VendorInfo {
    name: "testvendor",
    crate_name: "testvendor",
    crate_version: "0.0.0",
    base_url: "https://api.testvendor.example",
    rate_limit: None,
};

pub static LIMITED_VENDOR: VendorInfo = VendorInfo {
    name: "limitedvendor",
    crate_name: "limitedvendor",
    crate_version: "0.0.0",
    base_url: "https://api.limitedvendor.example",
    rate_limit: Some(RateLimit {
        requests: 2,
        period: Duration::from_secs(1),
    }),
};

pub static GET_THING: OperationInfo = OperationInfo {
    id: "get_thing",
    method: Method::GET,
    path_template: "/things/{id}",
    auth: AuthRequirement::Schemes(&["api_key"]),
    retryable: true,
};

pub static CREATE_THING: OperationInfo = OperationInfo {
    id: "create_thing",
    method: Method::POST,
    path_template: "/things",
    auth: AuthRequirement::Schemes(&["api_key"]),
    retryable: false,
};

/// A POST the spec marks retryable; only its body decides.
pub static UPLOAD: OperationInfo = OperationInfo {
    id: "upload_file",
    method: Method::POST,
    path_template: "/uploads",
    auth: AuthRequirement::Schemes(&["api_key"]),
    retryable: true,
};

/// A client for `base` with the test key and tiny real-time backoff.
pub fn builder(base: &str) -> ClientBuilder {
    ClientBuilder::new(&VENDOR)
        .base_url(base)
        .credentials(Credentials::header("api_key", "x-api-key", KEY))
        .retry(snapsdk_runtime::RetryConfig::default().with_backoff(Duration::from_millis(1), Duration::from_millis(5)))
}

pub fn get(id: &str) -> Request {
    let seg = encode::path_segment(GET_THING.id, "id", &id).unwrap();
    Request::new(&GET_THING, format!("/things/{seg}"))
}

pub fn create() -> Request {
    let mut r = Request::new(&CREATE_THING, "/things".to_owned());
    r.body = snapsdk_runtime::Body::json(CREATE_THING.id, &serde_json::json!({"name": "x"})).unwrap();
    r
}

/// One HTTP/1.1 request per connection: the server reads the request (head,
/// then a `Content-Length` or chunked body), counts it, and hands the socket
/// to the scenario, which writes whatever it likes.
pub struct RawServer {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
    /// When each request arrived, on tokio's (possibly paused) clock.
    arrivals: Arc<Mutex<Vec<Instant>>>,
    task: tokio::task::JoinHandle<()>,
}

impl RawServer {
    pub async fn start<F, Fut>(scenario: F) -> Self
    where
        F: Fn(usize, TcpStream) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let scenario = Arc::new(scenario);
        let (h, a) = (hits.clone(), arrivals.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let (h, a, scenario) = (h.clone(), a.clone(), scenario.clone());
                tokio::spawn(async move {
                    if read_request(&mut stream).await.is_some() {
                        a.lock().unwrap().push(Instant::now());
                        let n = h.fetch_add(1, Ordering::SeqCst) + 1;
                        scenario(n, stream).await;
                    }
                });
            }
        });
        RawServer {
            addr,
            hits,
            arrivals,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests received so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    pub fn arrivals(&self) -> Vec<Instant> {
        self.arrivals.lock().unwrap().clone()
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Read one request; `None` if the peer closed first. Bounded by the peer:
/// every read either makes progress or ends the loop.
async fn read_request(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    let chunked = head.contains("transfer-encoding: chunked");
    loop {
        let body = &buf[head_end..];
        let complete = match length {
            Some(n) => body.len() >= n,
            None if chunked => body.ends_with(b"0\r\n\r\n"),
            None => true,
        };
        if complete {
            return Some(buf);
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// A complete response with `Connection: close`.
pub fn response(status: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(body);
    out.into_bytes()
}

pub async fn reply(mut stream: TcpStream, bytes: Vec<u8>) {
    let _ = stream.write_all(&bytes).await;
    let _ = stream.shutdown().await;
}
