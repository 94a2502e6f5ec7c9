//! The application's own tests, as its developer writes them: each client's
//! test kit (`mock::Mock`, feature `test-util` in `[dev-dependencies]`)
//! answers the calls in process, typed by each operation's output; no
//! network, no server process, no port. The clock is tokio's paused one, so
//! retries and the chat loop's deadline take no real time.

use std::time::Duration;

use app_check::{chat_with, list_buttons, reply, sync_tickets};
use besnappy::mock::Mock as SnappyMock;
use besnappy::{SearchMeta, SearchResults, Ticket, TicketNonce};
use snapengage::mock::{Answer, Mock as EngageMock, Reply};
use snapengage::{PollResult, WidgetAvailability};

fn page(ids: &[i64], total: i64) -> SearchResults {
    SearchResults::new()
        .with_data(ids.iter().map(|&id| Ticket::new().with_id(id)).collect())
        .with_meta(SearchMeta::new().with_total(total))
}

#[tokio::test(start_paused = true)]
async fn sync_tickets_reads_every_page_then_the_capped_search() {
    let mock = SnappyMock::new();
    let q = |query: &'static str, page: &'static str| {
        move |c: &besnappy::mock::Call| {
            c.query_param("query") == Some(query) && c.query_param("page").unwrap_or("1") == page
        }
    };
    mock.search_tickets()
        .when(q("status:open", "1"))
        .once()
        .returns(page(&[1, 2], 3));
    mock.search_tickets()
        .when(q("status:open", "2"))
        .once()
        .returns(page(&[3], 3));
    mock.search_tickets().when(q("x", "1")).once().returns(page(&[9], 1));

    let tickets = sync_tickets(&mock.client(), 42).await.unwrap();

    let ids: Vec<Option<i64>> = tickets.iter().map(|t| t.id).collect();
    assert_eq!(ids, [Some(1), Some(2), Some(3), Some(9)]);
    let calls = mock.calls_to("search_tickets");
    assert_eq!(calls.len(), 3);
    assert!(calls.iter().all(|c| c.path == "/account/42/search"));
    assert_eq!(calls[1].query_param("page"), Some("2"));
    // Dropping the mock checks that each `once` rule was used.
}

#[tokio::test(start_paused = true)]
async fn reply_sends_the_note_then_tags_the_ticket() {
    let mock = SnappyMock::new();
    mock.send_note().once().returns(TicketNonce::from("nonce-1"));
    mock.update_ticket_tags().once().returns(());

    let nonce = reply(&mock.client(), 5, 77).await.unwrap();

    assert_eq!(nonce, TicketNonce::from("nonce-1"));
    let note = &mock.calls_to("send_note")[0];
    let body = note.json().expect("a JSON note");
    assert_eq!(body["mailbox_id"], 5);
    assert_eq!(body["subject"], "Re: your order");
    assert_eq!(body["to"][0]["address"], "ann@example.com");
    assert_eq!(
        note.header("authorization"),
        Some("<redacted>"),
        "credentials are sent, never recorded"
    );
    let tags = &mock.calls_to("update_ticket_tags")[0];
    assert_eq!(tags.path, "/ticket/77/tags");
    assert_eq!(
        mock.calls().iter().map(|c| c.operation).collect::<Vec<_>>(),
        ["send_note", "update_ticket_tags"]
    );
}

#[tokio::test(start_paused = true)]
async fn reply_stops_at_a_failed_note_and_tags_nothing() {
    let mock = SnappyMock::new();
    mock.send_note()
        .fails_with(422, besnappy::serde_json::json!({"error": "mailbox closed"}));

    let error = reply(&mock.client(), 5, 77).await.unwrap_err();

    assert_eq!(error.status(), Some(besnappy::StatusCode::UNPROCESSABLE_ENTITY));
    mock.assert_called("update_ticket_tags", 0);
}

#[tokio::test(start_paused = true)]
async fn buttons_are_none_on_404_and_the_list_otherwise() {
    let mock = snapcall::mock::Mock::new();
    mock.list_buttons()
        .once()
        .fails_with(404, snapcall::serde_json::json!({"message": "no buttons"}));
    mock.list_buttons()
        .once()
        .returns(snapcall::serde_json::json!([{"id": 1}]));
    let client = mock.client();

    assert!(list_buttons(&client).await.unwrap().is_none());
    let listed = list_buttons(&client).await.unwrap().expect("a list");
    assert_eq!(listed.0, r#"[{"id":1}]"#);
}

#[tokio::test(start_paused = true)]
async fn buttons_pass_an_auth_error_up() {
    let mock = snapcall::mock::Mock::new();
    mock.list_buttons()
        .fails_with(401, snapcall::serde_json::json!({"message": "bad key"}));
    let error = list_buttons(&mock.client()).await.unwrap_err();
    assert_eq!(error.status(), Some(snapcall::StatusCode::UNAUTHORIZED));
}

#[tokio::test(start_paused = true)]
async fn the_chat_loop_polls_three_times_in_its_300_ms() {
    let mock = EngageMock::new();
    mock.check_widget_availability()
        .once()
        .returns(WidgetAvailability::new("widget-1").with_online(true));
    mock.poll_messages().returns(PollResult::new("case-1"));

    let polls = chat_with(&mock.client()).await.unwrap();

    assert_eq!(polls, 3, "at 0, 100 and 200 ms");
    mock.assert_called("poll_messages", 3);
    assert!(mock
        .calls_to("poll_messages")
        .iter()
        .all(|c| c.path == "/api/v1/chat/poll/case-1"));
}

#[tokio::test(start_paused = true)]
async fn the_chat_survives_two_503s_without_waiting_in_real_time() {
    let mock = EngageMock::new();
    mock.check_widget_availability().sequence([
        Reply::Answer(Answer::status(503)),
        Reply::Answer(Answer::status(503).with_header("retry-after", "2")),
        Reply::Value(WidgetAvailability::new("widget-1")),
    ]);
    mock.poll_messages().returns(PollResult::new("case-1"));
    let wall = std::time::Instant::now();

    chat_with(&mock.client()).await.unwrap();

    assert_eq!(
        mock.calls_to("check_widget_availability")
            .iter()
            .map(|c| c.attempt)
            .collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert!(
        wall.elapsed() < Duration::from_secs(2),
        "the paused clock skips the backoff and Retry-After"
    );
}

#[tokio::test(start_paused = true)]
async fn a_chat_that_times_out_is_an_error_the_app_sees() {
    let mock = EngageMock::new();
    mock.check_widget_availability().fails(Answer::timeout());
    let client = snapengage::Client::builder()
        .api_key("test")
        .mock(&mock)
        .timeout(Duration::from_secs(5))
        .retry(snapengage::RetryConfig::disabled())
        .build()
        .unwrap();

    let error = chat_with(&client).await.unwrap_err();

    assert!(matches!(error, snapengage::Error::Timeout { .. }), "{error:?}");
}
