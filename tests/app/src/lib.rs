//! What an application writes first, against each generated crate, with no
//! other dependency than the crate, tokio and reqwest (see `Cargo.toml`).
//! Compiling this crate is the check; the test at the bottom also runs the
//! SnapEngage flow against a loopback server written with tokio alone.

use std::time::Duration;

/// Snappy: sync every ticket a search finds, page by page, with only the crate imported.
pub async fn sync_tickets(client: &besnappy::Client, account: i64) -> besnappy::Result<Vec<besnappy::Ticket>> {
    let mut pages = client.tickets().search(account, "status:open").into_stream();
    let mut out = Vec::new();
    while let Some(ticket) = pages.next().await {
        out.push(ticket?);
    }
    // Or in one go, bounded.
    let first_hundred = client
        .tickets()
        .search(account, "x")
        .into_stream()
        .max_items(100)
        .try_collect()
        .await?;
    out.extend(first_hundred);
    Ok(out)
}

/// Snappy: a note with recipients built from string literals, an enum from
/// its wire string, and tags as a plain list.
pub async fn reply(client: &besnappy::Client, mailbox: i64, ticket: i64) -> besnappy::Result<besnappy::TicketNonce> {
    let to = besnappy::Recipient::new("ann@example.com").with_name("Ann");
    let nonce = client
        .tickets()
        .send_note(mailbox, "Re: your order", "Shipped today.")
        .to(vec![to])
        .scope("private")
        .tags(vec!["shipping".into()])
        .await?;
    client.tickets().update_tags(ticket, ["sync", "shipping"]).await?;
    Ok(nonce)
}

/// SnapCall: the caller's own reqwest 0.13 client, and status helpers reachable from the crate.
pub async fn buttons(key: &str, http: reqwest::Client) -> snapcall::Result<Option<serde_json_free::Json>> {
    let client = snapcall::Client::builder().basic(key).http_client(http).build()?;
    list_buttons(&client).await
}

/// SnapCall: the buttons, or `None` when the account has none (a 404); other errors go up.
pub async fn list_buttons(client: &snapcall::Client) -> snapcall::Result<Option<serde_json_free::Json>> {
    match client.buttons().list().await {
        Ok(list) => Ok(Some(serde_json_free::Json(list.to_string()))),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) if e.status() == Some(snapcall::StatusCode::UNAUTHORIZED) => Err(e),
        Err(e) => Err(e),
    }
}

/// The crate's own TLS setup as a starting point for a custom client (a proxy, a pool size).
pub fn custom_client(key: &str) -> Result<snapengage::Client, Box<dyn std::error::Error>> {
    // A key in a custom header goes with a builder, so the runtime handles redirects
    // (a finished `reqwest::Client` is refused for such keys: it could follow one elsewhere).
    let http = snapengage::http_client_builder()?.pool_max_idle_per_host(4);
    Ok(snapengage::Client::builder()
        .api_key(key)
        .http_client_builder(http)
        .build()?)
}

/// The documented way to a custom HTTP client, built and handed over: the
/// crate's own TLS setup, no TLS provider to choose (a bare
/// `reqwest::Client::new()` would panic for want of one).
pub fn finished_client(key: &str) -> Result<besnappy::Client, Box<dyn std::error::Error>> {
    let http: reqwest::Client = besnappy::http_client_builder()?
        .timeout(Duration::from_secs(60))
        .build()?;
    Ok(besnappy::Client::builder().api_key(key).http_client(http).build()?)
}

pub mod serde_json_free {
    /// A JSON answer kept as text, so this app needs no serde_json of its own.
    #[derive(Debug)]
    pub struct Json(pub String);
}

/// SnapEngage: poll a chat until a deadline, awaiting request builders directly.
pub async fn chat(base_url: &str, key: &str) -> snapengage::Result<usize> {
    let client = snapengage::Client::builder().api_key(key).base_url(base_url).build()?;
    chat_with(&client).await
}

/// The chat loop on a client the caller built (so that a test can hand it one from the kit).
pub async fn chat_with(client: &snapengage::Client) -> snapengage::Result<usize> {
    let availability = client.chat().check_widget_availability("widget-1").await?;
    let _ = availability;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(300);
    let mut polls = 0;
    while tokio::time::Instant::now() < deadline {
        match tokio::time::timeout_at(deadline, client.chat().poll_messages("case-1")).await {
            Err(_) => break,
            Ok(answer) => {
                answer?;
                polls += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(polls)
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A loopback server answering the two chat calls; tokio only.
    async fn serve() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 8192];
                    let mut seen = Vec::new();
                    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => seen.extend_from_slice(&buf[..n]),
                        }
                    }
                    let poll = String::from_utf8_lossy(&seen)
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .contains("/poll/");
                    let body = if poll {
                        r#"{"caseId":"case-1"}"#
                    } else {
                        r#"{"widgetId":"widget-1"}"#
                    };
                    let head = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len());
                    let _ = socket.write_all(format!("{head}{body}").as_bytes()).await;
                });
            }
        });
        format!("http://{addr}")
    }

    #[test]
    fn a_custom_client_from_the_crates_tls_setup_builds() {
        super::custom_client("key").unwrap();
        super::finished_client("key").unwrap();
    }

    #[tokio::test]
    async fn the_chat_loop_runs_until_its_deadline() {
        let base = serve().await;
        let polls = tokio::time::timeout(std::time::Duration::from_secs(10), super::chat(&base, "key"))
            .await
            .expect("bounded")
            .unwrap();
        assert!((1..=4).contains(&polls), "{polls} polls in 300 ms at one per 100 ms");
    }
}
