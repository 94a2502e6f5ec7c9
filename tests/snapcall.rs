//! SnapCall behaviour the generated wire test cannot judge by itself: both
//! auth schemes, public operations, realistic nested stream bodies, `email`
//! path encoding, the documented trailing slash, `alternatives` and `date`.

use serde_json::json;
use snapcall::{Agent, AgentAvailability, Alternatives, Client, RetryConfig, StreamType};
use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const KEY: &str = "sk_live_snapcall";

fn basic(server: &MockServer) -> Client {
    Client::builder()
        .basic(KEY)
        .base_url(server.uri())
        .retry(RetryConfig::disabled())
        .build()
        .unwrap()
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

fn auth(req: &Request) -> Option<&str> {
    req.headers.get("authorization").map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn the_key_goes_as_basic_username_with_no_password_or_as_bearer() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 1})))
        .mount(&server)
        .await;
    basic(&server).buttons().get(12).send().await.unwrap();
    let bearer = Client::builder().bearer(KEY).base_url(server.uri()).build().unwrap();
    bearer.buttons().get("abc").send().await.unwrap();
    let reqs = requests(&server).await;
    // base64("sk_live_snapcall:")
    assert_eq!(auth(&reqs[0]), Some("Basic c2tfbGl2ZV9zbmFwY2FsbDo="));
    assert_eq!(auth(&reqs[1]), Some("Bearer sk_live_snapcall"));
    // `bid` is `alternatives`: a number and a string both go straight in.
    assert_eq!(reqs[0].url.path(), "/v2/buttons/12");
    assert_eq!(reqs[1].url.path(), "/v2/buttons/abc");
}

#[tokio::test]
async fn public_operations_send_no_credentials_even_with_a_key() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&server)
        .await;
    let client = basic(&server);
    client.buttons().get_public_info(5).send().await.unwrap();
    client.invites().get("tok").send().await.unwrap();
    client.streams().get_public_info("st").send().await.unwrap();
    client.public().get_library_media("hello").send().await.unwrap();
    client.buttons().get(5).send().await.unwrap();
    let reqs = requests(&server).await;
    for r in &reqs[..4] {
        assert_eq!(auth(r), None, "{} must be public", r.url.path());
    }
    assert!(auth(&reqs[4]).is_some(), "a private call still sends the key");
}

#[tokio::test]
async fn create_stream_sends_its_body_and_decodes_the_201() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/companies/77/streams"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "token": "st_8f2a", "bid": {"id": 3, "name": "Support"}, "user_id": 12, "user_limit": 4,
            "streamer_instance": "media-eu-2", "company_id": 77, "type": "assist", "id": 901,
            "short_url": "https://snap.cl/x1", "region": "eu"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let created = basic(&server)
        .company_streams()
        .create(77, StreamType::Assist)
        .name("Printer help")
        .origin("crm")
        .short_url(true)
        .send()
        .await
        .unwrap();
    assert_eq!(created.token.as_deref(), Some("st_8f2a"));
    assert_eq!(created.type_, Some(StreamType::Assist));
    assert_eq!(created.bid, Some(json!({"id": 3, "name": "Support"})));
    assert_eq!(
        created.extra["region"],
        json!("eu"),
        "undocumented fields stay reachable"
    );
    let body: serde_json::Value = serde_json::from_slice(&requests(&server).await[0].body).unwrap();
    assert_eq!(
        body,
        json!({"type": "assist", "name": "Printer help", "origin": "crm", "short_url": true})
    );
}

#[tokio::test]
async fn get_company_stream_decodes_the_nested_stream() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/companies/77/streams/st_8f2a"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token": "st_8f2a", "bid": null, "company_id": 77, "call_id": 5, "name": "Printer help",
            "origin": "crm", "type": "instant", "streamer_instance": "media-eu-2", "user_limit": 4,
            "context": {"externalId": "T-100", "externalIdUrl": "https://crm.example/T-100"},
            "created_at": "2024-03-01T10:00:00.000Z", "updated_at": "2024-03-01T10:05:00.000Z",
            "expired_at": null, "id": 901, "user_id": 12, "team_id": null, "team": null,
            "events": [{
                "id": 1, "stream_id": 901, "type": "recording", "peer_id": "p-1", "role": "agent",
                "data": {
                    "from": "agent", "type": "video", "s3Asset": "rec/1.webm",
                    "summary": {"text": "Customer reset the printer.", "status": "done"},
                    "thumbnail": {"s3Asset": "rec/1.jpg", "s3Bucket": "snapcall-eu"},
                    "assemblyTranscriptId": "tr-9"
                },
                "emitted_at": "2024-03-01T10:01:00.000Z", "created_at": "2024-03-01T10:01:01.000Z",
                "user": {
                    "id": 12, "name": "Ana", "email": "ana@example.com", "avatar_url": null,
                    "settings": {"language": "fr", "stream": {"microphoneEnabled": true, "cameraEnabled": false, "autoJoin": true, "newTab": false}},
                    "role": {"id": 2, "name": "agent"}
                }
            }]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let stream = basic(&server)
        .company_streams()
        .get(77, "st_8f2a")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.type_, Some(StreamType::Instant));
    assert_eq!(stream.context.as_ref().unwrap().external_id.as_deref(), Some("T-100"));
    let event = &stream.events.as_ref().unwrap()[0];
    let data = event.data.as_ref().unwrap();
    assert_eq!(
        data.summary.as_ref().unwrap().text.as_deref(),
        Some("Customer reset the printer.")
    );
    assert_eq!(
        data.thumbnail.as_ref().unwrap().s3_bucket.as_deref(),
        Some("snapcall-eu")
    );
    let user = event.user.as_ref().unwrap();
    assert_eq!(user.avatar_url, None, "null decodes to None");
    let media = user.settings.as_ref().unwrap().stream.as_ref().unwrap();
    assert_eq!(
        (media.microphone_enabled, media.camera_enabled),
        (Some(true), Some(false))
    );
    assert_eq!(user.role.as_ref().unwrap().name.as_deref(), Some("agent"));
}

#[tokio::test]
async fn agent_emails_are_one_encoded_segment() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&server)
        .await;
    basic(&server).agents().get("a+b/c@example.com").send().await.unwrap();
    assert_eq!(
        requests(&server).await[0].url.path(),
        "/v2/agents/a+b%2Fc@example.com",
        "`+` and `@` are pchar and go out as they are; `/` is escaped"
    );
}

#[tokio::test]
async fn admin_stream_list_keeps_its_trailing_slash() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    basic(&server).admin().list_streams().send().await.unwrap();
    assert_eq!(requests(&server).await[0].url.path(), "/v2/admin/streams/");
}

#[tokio::test]
async fn dates_and_alternatives_go_out_in_their_documented_form() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": []})))
        .mount(&server)
        .await;
    let start = snapcall::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
    basic(&server)
        .calls()
        .list()
        .start(start)
        .rate(4.5)
        .agent("ana@example.com")
        .client(12)
        .send()
        .await
        .unwrap();
    let url = requests(&server).await[0].url.clone();
    let q: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    assert!(q.contains(&("start".into(), "2024-02-29".into())), "{q:?}");
    assert!(q.contains(&("rate".into(), "4.5".into())), "{q:?}");
    assert!(q.contains(&("agent".into(), "ana@example.com".into())), "{q:?}");
    assert!(q.contains(&("client".into(), "12".into())), "{q:?}");
}

#[derive(serde::Deserialize)]
struct MyButton {
    id: u32,
    name: String,
}

#[tokio::test]
async fn undocumented_responses_decode_into_the_callers_type() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 3, "name": "Support", "active": true})))
        .mount(&server)
        .await;
    let mine: MyButton = basic(&server).buttons().get(3).send_as().await.unwrap();
    assert_eq!((mine.id, mine.name.as_str()), (3, "Support"));
    let free = basic(&server).buttons().get(3).send().await.unwrap();
    assert_eq!(free["active"], json!(true));
}

/// An agent object as the vendor's Android SDK reads it (shared/vendor-docs/README.md).
fn sdk_agent() -> serde_json::Value {
    json!({
        "id": 17, "email": "ana@example.com", "password": "agent-pw-s3cret",
        "status": "Available (On Demand)", "state": "In a queue call",
        "last_bridge_start": 1612345600, "last_bridge_end": "1612345678", "last_offered_call": 1612345500,
        "last_status_change": 1612340000, "no_answer_count": "2", "calls_answered": 41,
        "talk_time": 5400, "wrap_up_time": 30, "queue": "sales"
    })
}

#[tokio::test]
async fn agent_operations_decode_the_sdk_agent_object_leniently() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(sdk_agent()))
        .mount(&server)
        .await;
    let c = basic(&server);
    let got: Vec<Agent> = vec![
        c.agents().get("ana@example.com").send().await.unwrap(),
        c.agents()
            .update("ana@example.com")
            .last_bridge_end(0)
            .send()
            .await
            .unwrap(),
        c.agents()
            .update_status("ana@example.com", AgentAvailability::OnBreak)
            .send()
            .await
            .unwrap(),
    ];
    for a in &got {
        assert_eq!(a.id, Some(Alternatives::from(17)));
        assert_eq!(a.email.as_deref(), Some("ana@example.com"));
        assert_eq!(a.status.as_deref(), Some("Available (On Demand)"));
        assert_eq!(a.state.as_deref(), Some("In a queue call"));
        assert_eq!(a.last_bridge_start, Some(1612345600));
        assert_eq!(a.last_bridge_end, Some(1612345678), "a number sent as a string");
        assert_eq!(a.no_answer_count, Some(2));
        assert_eq!(
            (a.calls_answered, a.talk_time, a.wrap_up_time),
            (Some(41), Some(5400), Some(30))
        );
        assert_eq!(a.password.as_deref(), Some("agent-pw-s3cret"), "the value is kept");
        assert_eq!(a.extra["queue"], "sales", "unknown fields are kept");
    }
    let reqs = requests(&server).await;
    assert_eq!(reqs[1].method.as_str(), "PUT");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&reqs[1].body).unwrap(),
        json!({"last_bridge_end": 0})
    );
    assert_eq!(reqs[2].url.path(), "/v2/agents/ana@example.com/status");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&reqs[2].body).unwrap(),
        json!({"status": "onbreak"})
    );
}

#[tokio::test]
async fn agent_debug_hides_the_password_and_every_connection_credential() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/agents/ana@example.com"))
        .respond_with(ResponseTemplate::new(200).set_body_json(sdk_agent()))
        .mount(&server)
        .await;
    Mock::given(path("/v2/agents/ana@example.com/info"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "17",
            "call": {
                "icesServers": [
                    {"urls": "stun:stun.example.com:3478"},
                    {"urls": ["turn:turn.example.com:443?transport=tcp"], "username": "1612345678:ana-turn-user", "credential": "turn-cred-s3cret"}
                ],
                "username": "ana-sip", "password": "sip-pw-s3cret", "path": "/ws", "websocket": "wss://sip.example.com",
                "routing": {"queue": "sales", "fallback": {"credential": "nested-cred-s3cret"}}
            },
            "Password": "top-level-unknown-s3cret"
        })))
        .mount(&server)
        .await;
    let c = basic(&server);
    let agent = c.agents().get("ana@example.com").send().await.unwrap();
    let info = c.agents().get_info("ana@example.com").send().await.unwrap();

    let call = info.call.as_ref().unwrap();
    assert_eq!(info.id, Some(Alternatives::from("17")));
    assert_eq!(call.password.as_deref(), Some("sip-pw-s3cret"));
    assert_eq!(call.username.as_deref(), Some("ana-sip"));
    assert_eq!(call.websocket.as_deref(), Some("wss://sip.example.com"));
    let ice = call.ice_servers.as_ref().unwrap();
    assert_eq!(ice[0].urls, Some(json!("stun:stun.example.com:3478")));
    assert_eq!(ice[1].credential.as_deref(), Some("turn-cred-s3cret"));
    assert_eq!(info.extra["Password"], "top-level-unknown-s3cret");

    let shown = format!("{agent:?} {agent:#?} {info:?} {info:#?}");
    for secret in [
        "agent-pw-s3cret",
        "sip-pw-s3cret",
        "turn-cred-s3cret",
        "ana-turn-user",
        "nested-cred-s3cret",
        "top-level-unknown-s3cret",
    ] {
        assert!(!shown.contains(secret), "Debug shows {secret}: {shown}");
    }
    assert!(
        shown.contains("ana-sip") && shown.contains("ana@example.com"),
        "other values stay visible"
    );
    // Serialize is unchanged.
    let wire = serde_json::to_string(&info).unwrap();
    assert!(
        wire.contains("turn-cred-s3cret") && wire.contains("nested-cred-s3cret") && wire.contains("\"icesServers\""),
        "{wire}"
    );
}
