//! Time per call through the test kit (`snapsdk-runtime` feature
//! `test-util`): 10,000 calls answered in process by a `MockServer`, beside
//! the same calls through the network path to a raw-tokio loopback server.
//!
//! `cargo run --release -p bench --bin mock_calls -- [--requests N]`
//!
//! The call is shaped like SnapEngage `check_widget_availability` (GET,
//! `x-api-key`, JSON answer decoded into a struct), on the runtime's client
//! with its production settings (timeouts, retries, tracing span). Both
//! paths run on one current-thread tokio runtime, one call at a time:
//! - `kit`: `ClientBuilder::mock(&mock)`, one always-answering JSON rule; every
//!   call is recorded (path, query, headers, body), as in a test;
//! - `loopback`: the same client built with `base_url` of a loopback server
//!   that reads a request head and writes a fixed 200;
//! - `typed kit` and `wiremock`: the generated `snapengage` client's own call
//!   (`client.chat().check_widget_availability(..)`), answered by its typed
//!   kit (`snapengage::mock::Mock`, feature `test-util`) and by a `wiremock`
//!   server on loopback, the way a test without the kit stands in for the vendor.

use std::time::{Duration, Instant};

use bench::{median, quantile, BenchLine};
use snapsdk_runtime::mock::{Answer, MockServer};
use snapsdk_runtime::{AuthRequirement, ClientBuilder, Credentials, OperationInfo, Request, VendorInfo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const KEY: &str = "bench-key-0123456789";
const BODY: &str = r#"{"widgetId":"5286374d-5c92-419d-bcdb-b926d242b78b","online":true,"emailRequired":false,"messageRequired":true,"screenshotRequired":false}"#;

static VENDOR: VendorInfo = VendorInfo {
    name: "bench",
    crate_name: "bench",
    crate_version: "0.0.0",
    base_url: "https://api.bench.example",
    rate_limit: None,
};
static CHECK: OperationInfo = OperationInfo {
    id: "check_widget_availability",
    method: snapsdk_runtime::__private::http::Method::GET,
    path_template: "/v2/chat/{widgetId}",
    auth: AuthRequirement::Schemes(&["api_key"]),
    retryable: true,
};

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct WidgetAvailability {
    widget_id: String,
    online: Option<bool>,
    email_required: Option<bool>,
    message_required: Option<bool>,
    screenshot_required: Option<bool>,
}

async fn serve(listener: TcpListener) {
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    loop {
        let Ok((mut sock, _)) = listener.accept().await else {
            return;
        };
        let _ = sock.set_nodelay(true);
        let response = response.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 16 * 1024];
            let mut filled = 0;
            loop {
                let n = match sock.read(&mut buf[filled..]).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                filled += n;
                while let Some(end) = buf[..filled].windows(4).position(|w| w == b"\r\n\r\n") {
                    if sock.write_all(response.as_bytes()).await.is_err() {
                        return;
                    }
                    buf.copy_within(end + 4..filled, 0);
                    filled -= end + 4;
                }
            }
        });
    }
}

fn request() -> Request {
    let mut r = Request::new(&CHECK, "/v2/chat/5286374d-5c92-419d-bcdb-b926d242b78b".to_owned());
    r.query = "widgetId=5286374d".to_owned();
    r
}

/// Microseconds per call, one sample per call.
async fn run(client: &snapsdk_runtime::Client, n: usize) -> Vec<f64> {
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let w: WidgetAvailability = client
            .execute(request())
            .await
            .expect("call")
            .json()
            .await
            .expect("decode");
        std::hint::black_box(w);
        samples.push(t.elapsed().as_secs_f64() * 1e6);
    }
    samples
}

const WIDGET: &str = "5286374d-5c92-419d-bcdb-b926d242b78b";

/// Microseconds per call of the generated client, one sample per call.
async fn run_generated(client: &snapengage::Client, n: usize) -> Vec<f64> {
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let w = client.chat().check_widget_availability(WIDGET).await.expect("call");
        std::hint::black_box(w);
        samples.push(t.elapsed().as_secs_f64() * 1e6);
    }
    samples
}

/// The generated client's call through its typed kit and through wiremock:
/// (kit samples, kit total, wiremock samples, wiremock total).
async fn generated_paths(requests: usize) -> (Vec<f64>, Duration, Vec<f64>, Duration) {
    let mock = snapengage::mock::Mock::new();
    let value: snapengage::WidgetAvailability = serde_json::from_str(BODY).unwrap();
    mock.check_widget_availability().returns(value);
    let kit = snapengage::Client::builder().api_key(KEY).mock(&mock).build().unwrap();

    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_raw(BODY, "application/json"))
        .mount(&server)
        .await;
    let wm = snapengage::Client::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .build()
        .unwrap();

    run_generated(&kit, 200).await;
    run_generated(&wm, 200).await;
    let wall = Instant::now();
    let kit_samples = run_generated(&kit, requests).await;
    let kit_total = wall.elapsed();
    let wall = Instant::now();
    let wm_samples = run_generated(&wm, requests).await;
    let wm_total = wall.elapsed();
    assert_eq!(mock.calls().len(), requests + 200, "every kit call was recorded");
    (kit_samples, kit_total, wm_samples, wm_total)
}

fn main() {
    let mut requests = 10_000usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--requests" => requests = args.next().and_then(|v| v.parse().ok()).expect("--requests N"),
            other => panic!("unknown argument {other:?}; usage: mock_calls [--requests N]"),
        }
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mock = MockServer::new();
        mock.on(CHECK.id).answer(Answer::status(200).with_header("content-type", "application/json").with_body(BODY));
        let kit = ClientBuilder::new(&VENDOR).credentials(Credentials::header("api_key", "x-api-key", KEY)).mock(&mock).build().unwrap();

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(serve(listener));
        let net = ClientBuilder::new(&VENDOR).base_url(url).credentials(Credentials::header("api_key", "x-api-key", KEY)).build().unwrap();

        // Warm up both (connections, allocator), then measure.
        run(&kit, 200).await;
        run(&net, 200).await;
        let wall = Instant::now();
        let kit_samples = run(&kit, requests).await;
        let kit_total = wall.elapsed();
        let wall = Instant::now();
        let net_samples = run(&net, requests).await;
        let net_total = wall.elapsed();
        assert_eq!(mock.calls_to(CHECK.id).len(), requests + 200, "every kit call was recorded");

        let per = |d: Duration| d.as_secs_f64() * 1e6 / requests as f64;
        let (km, nm) = (median(kit_samples.clone()), median(net_samples.clone()));
        println!("{requests} calls through the test kit:     {:.1} µs/call mean, {km:.1} µs median, {:.1} µs p99 ({:.0} ms total)", per(kit_total), quantile(kit_samples, 0.99), kit_total.as_secs_f64() * 1e3);
        println!("{requests} calls to a loopback server:     {:.1} µs/call mean, {nm:.1} µs median, {:.1} µs p99 ({:.0} ms total)", per(net_total), quantile(net_samples, 0.99), net_total.as_secs_f64() * 1e3);
        let (typed, typed_total, wm, wm_total) = generated_paths(requests).await;
        let (tm, wmm) = (median(typed.clone()), median(wm.clone()));
        println!("{requests} generated calls, typed kit:   {:.1} µs/call mean, {tm:.1} µs median, {:.1} µs p99 ({:.0} ms total)", per(typed_total), quantile(typed, 0.99), typed_total.as_secs_f64() * 1e3);
        println!("{requests} generated calls, wiremock:    {:.1} µs/call mean, {wmm:.1} µs median, {:.1} µs p99 ({:.0} ms total)", per(wm_total), quantile(wm, 0.99), wm_total.as_secs_f64() * 1e3);
        BenchLine::print("mock_calls", serde_json::json!({"requests": requests, "kit_us_mean": per(kit_total), "kit_us_median": km, "loopback_us_mean": per(net_total), "loopback_us_median": nm, "typed_kit_us_mean": per(typed_total), "typed_kit_us_median": tm, "wiremock_us_mean": per(wm_total), "wiremock_us_median": wmm}));
    });
}
