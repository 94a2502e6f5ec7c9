//! Time per request of a generated client call against the same call written
//! by hand with plain reqwest, against one minimal loopback server.
//!
//! `cargo run --release -p bench --bin overhead -- [--requests N] [--only generated|hand|hand-model|hand-timeout]`
//!
//! The call is SnapEngage `check_widget_availability` (GET, `x-api-key`,
//! JSON answer). Four clients, each with its own keep-alive connection, take
//! turns request by request (the order rotates each round):
//! - `generated`: `client.chat().check_widget_availability(id).send().await`,
//!   with every runtime feature on (timeouts, retries, tracing span, and a
//!   client-side rate limiter set high enough that no call waits);
//! - `hand`: reqwest `get(url).header(..).send()`, `error_for_status()`,
//!   `.json::<T>()` into a plain serde struct of the same fields;
//! - `hand-model`: the same, decoding into the generated model type (which
//!   keeps unknown fields and reads loose booleans), to separate the cost of the
//!   model from the cost of the runtime;
//! - `hand-timeout`: `hand` with reqwest's own 30 s request timeout, the
//!   protection the generated client always has (its per-attempt timeout).
//!
//! The server is raw tokio on the same single-threaded runtime: it reads a
//! request head and writes a fixed 200 answer, nothing else. `--only` runs one client alone
//! (for profiling under callgrind, and counting system calls under strace).
//!
//! Beside the times, what instructions do not show, per request of each
//! client: how often the calling task is polled (1 + its wake-ups), and how
//! often the runtime parks (goes to the OS to wait for I/O or a timer); and,
//! over the timed requests of the whole process, context switches
//! (`getrusage`: voluntary, the thread blocked; involuntary, it was
//! preempted), which are per client only with `--only`.

use std::time::Instant;

use bench::{median, quantile, BenchLine};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const WIDGET: &str = "5286374d-5c92-419d-bcdb-b926d242b78b";
const KEY: &str = "bench-key-0123456789";
const BODY: &str = r#"{"widgetId":"5286374d-5c92-419d-bcdb-b926d242b78b","online":true,"emailRequired":false,"messageRequired":true,"screenshotRequired":false}"#;

/// What a hand-written client would declare.
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

/// Answers every request head on every connection with the same 200.
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
                // Requests are GETs without a body: one head, one answer.
                while let Some(end) = buf[..filled].windows(4).position(|w| w == b"\r\n\r\n") {
                    if sock.write_all(response.as_bytes()).await.is_err() {
                        return;
                    }
                    buf.copy_within(end + 4..filled, 0);
                    filled -= end + 4;
                }
                if filled == buf.len() {
                    return;
                }
            }
        });
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Variant {
    Generated,
    Hand,
    HandModel,
    HandTimeout,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Generated => "generated",
            Variant::Hand => "hand",
            Variant::HandModel => "hand-model",
            Variant::HandTimeout => "hand-timeout",
        }
    }
}

struct Clients {
    generated: snapengage::Client,
    hand: reqwest::Client,
    hand_model: reqwest::Client,
    hand_timeout: reqwest::Client,
    base: String,
}

impl Clients {
    async fn call(&self, v: Variant) -> Result<bool, Box<dyn std::error::Error>> {
        Ok(match v {
            Variant::Generated => {
                self.generated
                    .chat()
                    .check_widget_availability(WIDGET)
                    .send()
                    .await?
                    .online
                    == Some(true)
            }
            Variant::Hand | Variant::HandTimeout => {
                let http = if v == Variant::Hand {
                    &self.hand
                } else {
                    &self.hand_timeout
                };
                let url = format!("{}/api/v1/chat/{WIDGET}", self.base);
                let r: WidgetAvailability = http
                    .get(url)
                    .header("x-api-key", KEY)
                    .send()
                    .await?
                    .error_for_status()?
                    .json()
                    .await?;
                r.online == Some(true)
            }
            Variant::HandModel => {
                let url = format!("{}/api/v1/chat/{WIDGET}", self.base);
                let r: snapengage::WidgetAvailability = self
                    .hand_model
                    .get(url)
                    .header("x-api-key", KEY)
                    .send()
                    .await?
                    .error_for_status()?
                    .json()
                    .await?;
                r.online == Some(true)
            }
        })
    }
}

/// Context switches of this process so far: (voluntary, involuntary).
fn context_switches() -> (i64, i64) {
    let mut u = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; RUSAGE_SELF is always valid.
    let u = unsafe {
        if libc::getrusage(libc::RUSAGE_SELF, u.as_mut_ptr()) != 0 {
            return (0, 0);
        }
        u.assume_init()
    };
    (u.ru_nvcsw, u.ru_nivcsw)
}

/// What one request cost beside its time.
#[derive(Default, Clone, Copy)]
struct Counts {
    /// Polls of the calling task's future (the first, and one per wake-up).
    polls: u64,
    /// Times the runtime parked (went to the OS to wait) during the request.
    parks: u64,
}

/// Run `fut` to completion, counting its polls and the runtime's parks.
async fn counted<F: std::future::Future>(fut: F, counts: &mut Counts) -> F::Output {
    let metrics = tokio::runtime::Handle::current().metrics();
    let parks = metrics.worker_park_count(0);
    let mut fut = std::pin::pin!(fut);
    let mut polls = 0;
    let out = std::future::poll_fn(|cx| {
        polls += 1;
        fut.as_mut().poll(cx)
    })
    .await;
    counts.polls += polls;
    counts.parks += metrics.worker_park_count(0) - parks;
    out
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut requests = 10_000usize;
    let mut only: Option<Variant> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--requests" => requests = args.next().ok_or("--requests needs a number")?.parse()?,
            "--only" => {
                only = Some(match args.next().as_deref() {
                    Some("generated") => Variant::Generated,
                    Some("hand") => Variant::Hand,
                    Some("hand-model") => Variant::HandModel,
                    Some("hand-timeout") => Variant::HandTimeout,
                    _ => return Err("--only takes generated, hand, hand-model or hand-timeout".into()),
                })
            }
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async move {
        // The server runs on the same single-threaded runtime as the clients:
        // no cross-thread wake-ups, so the figure is the work done per request.
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(serve(listener));
        let base = format!("http://{addr}");
        let clients = Clients {
            // Every feature on: timeouts, retries, the tracing span, and a
            // client-side rate limiter high enough never to make a call wait.
            generated: snapengage::Client::builder()
                .api_key(KEY)
                .base_url(&base)
                .rate_limit(Some(snapengage::RateLimit {
                    requests: 1_000_000,
                    period: std::time::Duration::from_secs(1),
                }))
                .build()?,
            // The runtime's TLS setup (the workspace builds reqwest without its default provider).
            hand: snapsdk_runtime::http_client_builder()?.build()?,
            hand_model: snapsdk_runtime::http_client_builder()?.build()?,
            hand_timeout: snapsdk_runtime::http_client_builder()?
                .timeout(std::time::Duration::from_secs(30))
                .build()?,
            base,
        };
        let variants: Vec<Variant> = match only {
            Some(v) => vec![v],
            None => vec![
                Variant::Generated,
                Variant::Hand,
                Variant::HandModel,
                Variant::HandTimeout,
            ],
        };
        // Warm-up: connections open, allocator and caches settled.
        for _ in 0..(requests / 10).clamp(100, 2000) {
            for &v in &variants {
                assert!(clients.call(v).await?);
            }
        }
        let mut times: Vec<Vec<f64>> = vec![Vec::with_capacity(requests); variants.len()];
        let mut counts = vec![Counts::default(); variants.len()];
        let switches = context_switches();
        let started = Instant::now();
        for round in 0..requests {
            for k in 0..variants.len() {
                let i = (round + k) % variants.len();
                let t = Instant::now();
                let ok = counted(clients.call(variants[i]), &mut counts[i]).await?;
                times[i].push(t.elapsed().as_secs_f64() * 1e6);
                assert!(ok);
            }
        }
        let wall = started.elapsed();
        let (voluntary, involuntary) = context_switches();
        let calls = (requests * variants.len()) as f64;
        let (voluntary, involuntary) = (
            (voluntary - switches.0) as f64 / calls,
            (involuntary - switches.1) as f64 / calls,
        );
        let mut medians = Vec::new();
        for (v, t) in variants.iter().zip(&times) {
            let m = median(t.clone());
            medians.push(m);
            println!(
                "{:<11} {} requests: median {m:.1} µs, p10 {:.1} µs, p90 {:.1} µs, mean {:.1} µs",
                v.name(),
                t.len(),
                quantile(t.clone(), 0.1),
                quantile(t.clone(), 0.9),
                t.iter().sum::<f64>() / t.len() as f64
            );
        }
        for (v, c) in variants.iter().zip(&counts) {
            println!(
                "{:<11} per request: {:.2} polls of the calling task, {:.2} runtime parks",
                v.name(),
                c.polls as f64 / requests as f64,
                c.parks as f64 / requests as f64
            );
        }
        println!(
            "{} requests in {:.2} s; context switches per request: {voluntary:.4} voluntary, {involuntary:.4} involuntary",
            requests * variants.len(),
            wall.as_secs_f64()
        );
        let mut line = json!({
            "requests": requests,
            "wall_s": wall.as_secs_f64(),
            "clients": variants.iter().map(|v| v.name()).collect::<Vec<_>>(),
            "voluntary_switches_per_request": voluntary,
            "involuntary_switches_per_request": involuntary,
        });
        for ((v, t), c) in variants.iter().zip(&times).zip(&counts) {
            line[v.name()] = json!({
                "median_us": median(t.clone()),
                "p10_us": quantile(t.clone(), 0.1),
                "p90_us": quantile(t.clone(), 0.9),
                "mean_us": t.iter().sum::<f64>() / t.len() as f64,
                "polls_per_request": c.polls as f64 / requests as f64,
                "parks_per_request": c.parks as f64 / requests as f64,
            });
        }
        if variants.len() == 4 {
            println!(
                "ratio generated/hand: {:.3}; generated/hand-model: {:.3}; generated/hand-timeout: {:.3}",
                medians[0] / medians[1],
                medians[0] / medians[2],
                medians[0] / medians[3]
            );
            line["ratio"] = json!(medians[0] / medians[1]);
            line["ratio_model"] = json!(medians[0] / medians[2]);
            line["ratio_timeout"] = json!(medians[0] / medians[3]);
        }
        BenchLine::print("overhead", line);
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}
