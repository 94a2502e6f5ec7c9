//! Issue 30, "the re-exported reqwest is a trap": the runtime turns no reqwest
//! TLS provider feature on, so `reqwest::Client::new()` panics in such a build
//! unless a process-wide provider is installed; the runtime therefore does not
//! offer reqwest (the `reqwest` path is hidden, kept only for generated code
//! of 0.2) and documents `http_client_builder()` as the way to a client of
//! your own. This binary installs no provider: the documented way must work.

mod common;

use std::time::Duration;

use common::*;
use snapsdk_runtime::{AuthRequirement, ClientBuilder, OperationInfo};

static PUBLIC: OperationInfo = OperationInfo { id: "ping", method: snapsdk_runtime::__private::http::Method::GET, path_template: "/p", auth: AuthRequirement::None, retryable: true };

#[tokio::test]
async fn the_documented_way_to_an_own_http_client_builds_and_calls() {
    let server = RawServer::start(|_, s| reply(s, response("200 OK", &[], "{}"))).await;
    // The obvious use: take the runtime's builder, customise, build.
    let http = snapsdk_runtime::http_client_builder().unwrap().pool_idle_timeout(Duration::from_secs(5)).build().unwrap();
    let client = ClientBuilder::new(&VENDOR).base_url(server.url()).http_client(http).build().unwrap();
    assert_eq!(client.execute(snapsdk_runtime::Request::new(&PUBLIC, "/p".into())).await.unwrap().status(), 200);
    // And handed over as a builder, for a client with a key header.
    let b = snapsdk_runtime::http_client_builder().unwrap().tcp_nodelay(true);
    let client = builder(&server.url()).http_client_builder(b).build().unwrap();
    assert_eq!(client.execute(get("1")).await.unwrap().status(), 200);
    assert_eq!(server.hits(), 2);
}
