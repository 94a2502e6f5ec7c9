//! Peak memory of a large download and upload through the generated Snappy
//! client, against a loopback server that streams (or swallows) the body.
//!
//! `cargo run --release -p bench --bin stream_memory -- [MiB]` (default 256).
//! Prints the peak RSS before and after each transfer; the client should hold
//! only a few chunks at a time whatever the size.

use std::time::Instant;

use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const CHUNK: usize = 64 * 1024;

/// Answers every connection: a GET gets `size` bytes; anything else has its body read and discarded.
async fn serve(listener: TcpListener, size: u64) {
    loop {
        let Ok((mut sock, _)) = listener.accept().await else {
            return;
        };
        tokio::spawn(async move {
            let mut head = Vec::new();
            let mut buf = vec![0u8; CHUNK];
            // Read the request head.
            let body_start = loop {
                let n = sock.read(&mut buf).await.unwrap_or(0);
                if n == 0 {
                    return;
                }
                head.extend_from_slice(&buf[..n]);
                if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                    break i + 4;
                }
            };
            let text = String::from_utf8_lossy(&head[..body_start]).to_lowercase();
            if text.starts_with("get ") {
                let header = format!("HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: {size}\r\nconnection: close\r\n\r\n");
                sock.write_all(header.as_bytes()).await.ok();
                let chunk = vec![7u8; CHUNK];
                let mut left = size;
                while left > 0 {
                    let n = left.min(CHUNK as u64) as usize;
                    if sock.write_all(&chunk[..n]).await.is_err() {
                        return;
                    }
                    left -= n as u64;
                }
            } else {
                let len: u64 = text
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                let mut got = (head.len() - body_start) as u64;
                while got < len {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got += n as u64,
                    }
                }
                let body = format!("{{\"received\":{got}}}");
                let resp = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
                sock.write_all(resp.as_bytes()).await.ok();
            }
        });
    }
}

/// The machine-readable line `cargo xtask bench` reads: peak RSS of the whole process so far.
fn result(step: &str, seconds: f64) {
    let peak = bench::peak_rss_kib().map(|k| k as f64 / 1024.0);
    bench::BenchLine::print(
        "stream",
        serde_json::json!({ "step": step, "seconds": seconds, "peak_rss_mib": peak }),
    );
}

fn mib(kib: Option<u64>) -> String {
    kib.map(|k| format!("{:.1} MiB", k as f64 / 1024.0))
        .unwrap_or_else(|| "n/a".into())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let size_mib: u64 = std::env::args().nth(1).map(|a| a.parse()).transpose()?.unwrap_or(256);
    let size = size_mib * 1024 * 1024;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(serve(listener, size));
    let client = besnappy::Client::builder()
        .api_key("bench-key")
        .base_url(format!("http://{addr}/api/v1"))
        .timeout(std::time::Duration::from_secs(600))
        .operation_timeout(std::time::Duration::from_secs(600))
        .build()?;
    println!(
        "body size: {size_mib} MiB; peak RSS at start: {}",
        mib(bench::peak_rss_kib())
    );

    // Download, consumed chunk by chunk.
    let started = Instant::now();
    let mut stream = client.documents().download(1, 2).send().await?;
    let mut total = 0u64;
    while let Some(chunk) = stream.next().await {
        total += chunk?.len() as u64;
    }
    assert_eq!(total, size, "downloaded byte count");
    let secs = started.elapsed().as_secs_f64();
    println!(
        "download (stream): {total} bytes in {secs:.2} s ({:.0} MiB/s); peak RSS {}",
        size_mib as f64 / secs,
        mib(bench::peak_rss_kib())
    );
    result("download, stream consumed", secs);

    // Download to a file.
    let dir = std::env::temp_dir().join(format!("stream-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("download.bin");
    let started = Instant::now();
    let written = client
        .documents()
        .download(1, 2)
        .send()
        .await?
        .write_to_file(&file)
        .await?;
    assert_eq!(written, size);
    println!(
        "download (to file): {written} bytes in {:.2} s; peak RSS {}",
        started.elapsed().as_secs_f64(),
        mib(bench::peak_rss_kib())
    );
    result("download to file", started.elapsed().as_secs_f64());

    // Upload the same file back, streamed from disk as multipart.
    let started = Instant::now();
    let answer = client
        .documents()
        .upload(1, besnappy::FilePart::from_path(&file))
        .send()
        .await?;
    println!(
        "upload (from file): answer {answer} in {:.2} s; peak RSS {}",
        started.elapsed().as_secs_f64(),
        mib(bench::peak_rss_kib())
    );
    result("upload from file (multipart)", started.elapsed().as_secs_f64());
    std::fs::remove_dir_all(&dir)?;
    println!("current RSS at end: {}", mib(bench::rss_kib()));
    Ok(())
}
