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
//! (for profiling under callgrind).

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
        let started = Instant::now();
        for round in 0..requests {
            for k in 0..variants.len() {
                let i = (round + k) % variants.len();
                let t = Instant::now();
                let ok = clients.call(variants[i]).await?;
                times[i].push(t.elapsed().as_secs_f64() * 1e6);
                assert!(ok);
            }
        }
        let wall = started.elapsed();
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
        println!("{} requests in {:.2} s", requests * variants.len(), wall.as_secs_f64());
        let mut line = json!({ "requests": requests, "wall_s": wall.as_secs_f64() });
        for (v, t) in variants.iter().zip(&times) {
            line[v.name()] = json!({
                "median_us": median(t.clone()),
                "p10_us": quantile(t.clone(), 0.1),
                "p90_us": quantile(t.clone(), 0.9),
                "mean_us": t.iter().sum::<f64>() / t.len() as f64,
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
