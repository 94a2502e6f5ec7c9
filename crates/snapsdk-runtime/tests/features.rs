//! `default-features = false` is honoured (README, "Cargo features"): without
//! `rate-limit` the runtime neither builds `governor` nor applies a vendor's
//! documented limit; without `multipart` it does not build reqwest's
//! multipart support. Run with `--no-default-features` as well as with the
//! defaults (`cargo test -p snapsdk-runtime-tests --no-default-features`: this
//! package passes its features on to the runtime): each case checks the build
//! it is compiled into.

mod common;

use std::time::Duration;

use common::*;
use snapsdk_runtime::{ClientBuilder, Credentials};
use tokio::time::Instant;

/// Five calls at once to a vendor documented at 2 requests per second.
async fn arrivals_of_five_calls() -> Vec<Duration> {
    let server = RawServer::start(|_, s| reply(s, response("200 OK", &[], "{}"))).await;
    let client = ClientBuilder::new(&LIMITED_VENDOR)
        .base_url(server.url())
        .credentials(Credentials::header("api_key", "x-api-key", KEY))
        .build()
        .unwrap();
    let start = Instant::now();
    for _ in 0..5 {
        client.execute(get("1")).await.unwrap();
    }
    server.arrivals().into_iter().map(|t| t - start).collect()
}

#[cfg(not(feature = "rate-limit"))]
#[tokio::test(start_paused = true)]
async fn without_rate_limit_the_documented_limit_is_not_applied() {
    assert_eq!(arrivals_of_five_calls().await, vec![Duration::ZERO; 5]);
}

#[cfg(feature = "rate-limit")]
#[tokio::test(start_paused = true)]
async fn with_rate_limit_the_documented_limit_is_applied() {
    let arrivals = arrivals_of_five_calls().await;
    assert_eq!(arrivals[..2], [Duration::ZERO; 2], "a burst of 2");
    assert_eq!(
        arrivals[4],
        Duration::from_millis(1500),
        "then one per 500 ms: {arrivals:?}"
    );
}

/// The crates this build of the runtime depends on, from `cargo tree`.
fn dependencies(features: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut cmd = std::process::Command::new(cargo);
    cmd.args([
        "tree",
        "--offline",
        "-p",
        "snapsdk-runtime",
        "-e",
        "normal",
        "--prefix",
        "none",
        "--no-default-features",
    ]);
    if !features.is_empty() {
        cmd.args(["--features", &features.join(",")]);
    }
    let out = cmd
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn has(tree: &str, krate: &str) -> bool {
    tree.lines().any(|l| l.split(' ').next() == Some(krate))
}

#[test]
fn each_feature_brings_its_crates_and_only_it() {
    let none = dependencies(&[]);
    let limit = dependencies(&["rate-limit"]);
    let multipart = dependencies(&["multipart"]);
    assert!(
        has(&none, "reqwest") && has(&none, "tokio"),
        "the scan is broken: {none}"
    );
    assert!(!has(&none, "governor") && !has(&none, "mime_guess"), "{none}");
    assert!(has(&limit, "governor") && !has(&limit, "mime_guess"));
    assert!(has(&multipart, "mime_guess") && !has(&multipart, "governor"));
    // The test kit adds code, not crates: its one dependency is already in reqwest's tree.
    let crates = |tree: &str| -> std::collections::BTreeSet<String> {
        tree.lines()
            .map(|l| l.split(' ').take(2).collect::<Vec<_>>().join(" "))
            .collect()
    };
    let kit = dependencies(&["test-util"]);
    assert!(has(&kit, "http-body-util"), "the scan is broken: {kit}");
    assert_eq!(
        crates(&none),
        crates(&kit),
        "feature `test-util` changed the set of crates"
    );
    // README: rustls on ring, so no aws-lc-sys build and no cmake, with every feature.
    for tree in [&none, &dependencies(&["rate-limit", "multipart", "test-util"])] {
        for banned in ["aws-lc-sys", "aws-lc-rs", "cmake"] {
            assert!(!has(tree, banned), "{banned} is in the runtime's dependency tree");
        }
    }
}
