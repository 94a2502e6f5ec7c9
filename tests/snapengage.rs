//! The generated SnapEngage client against a loopback wiremock server: every
//! operation, its wire shape, the documented example responses and the
//! documented errors.

use std::time::Duration;

use serde_json::json;
use snapengage::{Client, Error, MessageAuthorType, MessageType, RetryConfig};
use wiremock::matchers::{body_string, header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const KEY: &str = "test-key-123";
const WIDGET: &str = "5286374d-5c92-419d-bcdb-b926d242b78b";
const CASE: &str = "f383eadb-a15e-4d13-bda2-6f3bf412de62";

fn client(server: &MockServer) -> Client {
    Client::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .retry(RetryConfig::disabled())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

async fn only_request(server: &MockServer) -> Request {
    let mut reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 1, "expected exactly one request");
    reqs.remove(0)
}

#[tokio::test]
async fn check_widget_availability_decodes_string_booleans() {
    let server = MockServer::start().await;
    // The documented example: Booleans arrive as strings.
    Mock::given(method("GET"))
        .and(path(format!("/api/v1/chat/{WIDGET}")))
        .and(header("x-api-key", KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "widgetId": WIDGET,
            "online": "true",
            "emailRequired": "false",
            "messageRequired": "false",
            "screenshotRequired": "false"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let got = client(&server).chat().check_widget_availability(WIDGET).send().await.unwrap();
    assert_eq!(got.widget_id, WIDGET);
    assert_eq!(got.online, Some(true));
    assert_eq!(got.email_required, Some(false));
    assert_eq!(got.message_required, Some(false));
    assert_eq!(got.screenshot_required, Some(false));
    let req = only_request(&server).await;
    assert!(req.body.is_empty());
    assert!(req.url.query().is_none());
    let ua = req.headers.get("user-agent").unwrap().to_str().unwrap();
    assert!(ua.starts_with("snapengage/"), "{ua}");
}

#[tokio::test]
async fn poll_messages_sends_query_and_decodes_the_transcript() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v1/chat/poll/{CASE}")))
        .and(query_param("index", "3"))
        .and(query_param("isTyping", "true"))
        .and(header("x-api-key", KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "caseId": CASE,
            "messageList": [
                {"index": 2, "type": "system", "author": "Sam", "text": "/NIC Sam "},
                {"index": 12, "type": "agent", "author": "Sam", "text": "hi "},
                {"index": 13, "type": "visitor-echo", "author": "", "text": "?"}
            ],
            "agentTyping": false
        })))
        .expect(1)
        .mount(&server)
        .await;
    let got = client(&server).chat().poll_messages(CASE).index(3).is_typing(true).send().await.unwrap();
    assert_eq!(got.case_id, CASE);
    assert_eq!(got.agent_typing, Some(false));
    let list = got.message_list.unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[0].type_, Some(MessageAuthorType::System));
    assert_eq!(list[1].type_, Some(MessageAuthorType::Agent));
    assert_eq!(list[1].text.as_deref(), Some("hi "));
    // An author type the spec does not list is kept, not an error.
    assert_eq!(list[2].type_, Some(MessageAuthorType::Unknown("visitor-echo".into())));
}

#[tokio::test]
async fn poll_messages_omits_unset_optional_parameters() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v1/chat/poll/{CASE}")))
        .and(query_param_is_missing("index"))
        .and(query_param_is_missing("isTyping"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"caseId": CASE})))
        .expect(1)
        .mount(&server)
        .await;
    let got = client(&server).chat().poll_messages(CASE).send().await.unwrap();
    assert_eq!(got.message_list, None);
}

#[tokio::test]
async fn send_message_puts_fields_in_the_query_with_form_content_type() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/v1/chat"))
        .and(query_param("caseId", CASE))
        .and(query_param("messageType", "1"))
        .and(query_param("messageBody", "I need help finding shoes!"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(header("x-api-key", KEY))
        .and(body_string(""))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "caseId": CASE,
            "messageBody": "I need help finding shoes!",
            "messageType": "1"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let got = client(&server)
        .chat()
        .send_message(CASE)
        .message_type(MessageType::Message)
        .message_body("I need help finding shoes!")
        .send()
        .await
        .unwrap();
    // The echo sends messageType as the string "1"; it decodes to the enum.
    assert_eq!(got.message_type, Some(MessageType::Message));
    assert_eq!(got.message_body.as_deref(), Some("I need help finding shoes!"));
    // Encoded exactly once, as the document's cURL sample spells it: a space
    // as %20 (never +) and `!` as %21, not double-encoded.
    let req = only_request(&server).await;
    let q = req.url.query().unwrap();
    assert!(q.contains("messageBody=I%20need%20help%20finding%20shoes%21"), "{q}");
    assert!(!q.contains('+'), "{q}");
}

#[tokio::test]
async fn start_chat_sends_every_field() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/chat"))
        .and(query_param("widgetId", WIDGET))
        .and(query_param("email", "a@example.com"))
        .and(query_param("phone", "555-123-4567"))
        .and(query_param("userAgent", "Mozilla/5.0 (Macintosh)"))
        .and(query_param("locale", "en-GB"))
        .and(query_param("isOffline", "false"))
        .and(query_param("appVersionName", "My App 1.0"))
        .and(query_param("visitorMessage", "hello"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(header("x-api-key", KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "caseId": "ca5e3eca-8659-44a7-89fd-2f0b4dd71fa6",
            "widgetId": WIDGET
        })))
        .expect(1)
        .mount(&server)
        .await;
    let got = client(&server)
        .chat()
        .start_chat(WIDGET)
        .email("a@example.com")
        .phone("555-123-4567")
        .user_agent("Mozilla/5.0 (Macintosh)")
        .locale("en-GB")
        .is_offline(false)
        .app_version_name("My App 1.0")
        .visitor_message("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(got.case_id, "ca5e3eca-8659-44a7-89fd-2f0b4dd71fa6");
    assert_eq!(got.widget_id.as_deref(), Some(WIDGET));
    let req = only_request(&server).await;
    assert!(req.body.is_empty());
}

#[tokio::test]
async fn documented_errors_are_typed() {
    for (status, body) in [(400, "{\"error\":\"missing widgetId\"}"), (401, ""), (404, ""), (500, "oops")] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(status).set_body_string(body).insert_header("x-request-id", "req-7"))
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server).chat().check_widget_availability(WIDGET).send().await.unwrap_err();
        let Error::Api(api) = &err else { panic!("status {status}: expected an API error, got {err:?}") };
        assert_eq!(api.status.as_u16(), status);
        assert_eq!(api.body_text(), body);
        assert_eq!(api.request_id.as_deref(), Some("req-7"));
        assert_eq!(api.operation, "check_widget_availability");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        let text = err.to_string();
        assert!(text.contains(&status.to_string()) && text.contains("check_widget_availability"), "{text}");
        if status == 404 {
            assert!(text.contains("empty body"), "{text}");
        }
        assert_eq!(err.is_retryable(), status == 500);
        // The key never appears in errors.
        assert!(!format!("{err:?} {err}").contains(KEY));
    }
}

#[tokio::test]
async fn a_success_that_is_not_json_is_a_decode_error_with_its_path() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"caseId": CASE, "messageList": [{"index": "two"}]})))
        .mount(&server)
        .await;
    let err = client(&server).chat().poll_messages(CASE).send().await.unwrap_err();
    let Error::Decode(d) = &err else { panic!("expected a decode error, got {err:?}") };
    assert_eq!(d.path, "messageList[0].index");
    assert!(err.to_string().contains("messageList[0].index"), "{err}");
}

#[tokio::test]
async fn path_parameters_are_one_encoded_segment() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"widgetId": "x"})))
        .mount(&server)
        .await;
    client(&server).chat().check_widget_availability("../a b/?#%").send().await.unwrap();
    let req = only_request(&server).await;
    assert_eq!(req.url.path(), "/api/v1/chat/..%2Fa%20b%2F%3F%23%25");
    let err = client(&server).chat().check_widget_availability("").send().await.unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1, "nothing is sent for an empty id");
}

#[test]
fn keys_that_cannot_be_headers_are_refused_at_build_time() {
    let err = Client::builder().api_key("abc\ndef").build().unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert!(!err.to_string().contains("abc"), "{err}");
    let client = Client::builder().api_key(KEY).build().unwrap();
    assert!(!format!("{client:?}").contains(KEY));
    assert_eq!(client.base_url(), "https://www.snapengage.com");
}

#[test]
fn models_with_required_fields_are_built_with_new() {
    // `#[non_exhaustive]` forbids struct literals outside the crate; `new` takes the required fields.
    let mut w = snapengage::WidgetAvailability::new("w-1".to_owned());
    assert_eq!((w.widget_id.as_str(), w.online), ("w-1", None));
    w.online = Some(true);
    let json = serde_json::to_value(&w).unwrap();
    assert_eq!(json, json!({ "widgetId": "w-1", "online": true }));
}

// ---------------------------------------------------------------------------
// send_message is a PUT that adds a message each time: not retried by default.
// ---------------------------------------------------------------------------

fn retrying_client(server: &MockServer) -> Client {
    Client::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .retry(RetryConfig::default().with_max_attempts(3).with_backoff(Duration::from_millis(10), Duration::from_millis(20)))
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap()
}

#[tokio::test]
async fn send_message_is_not_retried_after_a_5xx_or_a_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("PUT")).respond_with(ResponseTemplate::new(503)).mount(&server).await;
    let c = retrying_client(&server);
    let err = c.chat().send_message(CASE).message_body("hello").send().await.unwrap_err();
    assert!(matches!(err, Error::Api(_)), "{err:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1, "a 503 after sending is not retried");

    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)).set_body_json(json!({"caseId": CASE})))
        .mount(&server)
        .await;
    let c = retrying_client(&server);
    let err = c.chat().send_message(CASE).message_body("hello").send().await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1, "a timed-out attempt may have been stored: not retried");
}

#[tokio::test]
async fn send_message_retries_only_when_the_caller_opts_in_and_gets_are_retried() {
    let server = MockServer::start().await;
    Mock::given(method("PUT")).respond_with(ResponseTemplate::new(503)).mount(&server).await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(503)).mount(&server).await;
    let c = retrying_client(&server);
    c.chat()
        .send_message(CASE)
        .message_body("hello")
        .options(snapengage::RequestOptions::new().retry_non_idempotent(true))
        .send()
        .await
        .unwrap_err();
    let puts = server.received_requests().await.unwrap().len();
    assert_eq!(puts, 3, "opted in: every attempt is used");
    c.chat().check_widget_availability(WIDGET).send().await.unwrap_err();
    assert_eq!(server.received_requests().await.unwrap().len() - puts, 3, "the GET is retried as before");
}

