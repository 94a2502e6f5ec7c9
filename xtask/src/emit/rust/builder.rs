//! The builder's surface, written once: each generated crate's
//! `ClientBuilder` forwards these options to the runtime's, and spec names
//! that would shadow one of them (an auth scheme's method) are refused
//! ([`crate::names::is_client_builder_method`]). A test walks the runtime's
//! source and fails when its `ClientBuilder` has a public method this table
//! neither forwards nor lists in [`NOT_FORWARDED`].

/// One forwarded `ClientBuilder` option.
pub struct BuilderOption {
    /// The method name, the same on both builders.
    pub name: &'static str,
    /// The parameter as the generated method declares it: `timeout: Duration`.
    pub param: &'static str,
    /// Paths the parameter's type needs imported in `lib.rs`.
    pub uses: &'static [&'static str],
    /// The runtime feature the option needs, if any.
    pub feature: Option<&'static str>,
    /// The generated method's doc lines.
    pub doc: &'static [&'static str],
}

/// The options every generated `ClientBuilder` forwards, in the order they are emitted.
pub const OPTIONS: &[BuilderOption] = &[
    opt("base_url", "url: impl Into<String>", &[], &["Send requests to another base URL (a mock server, a proxy, a staging host)."]),
    opt("connect_timeout", "timeout: Duration", &["std::time::Duration"], &["Limit on establishing a connection."]),
    opt("timeout", "timeout: Duration", &["std::time::Duration"], &["Limit on each attempt, from sending to the last byte of a buffered response."]),
    opt("operation_timeout", "timeout: Duration", &["std::time::Duration"], &["Limit on a whole call, across retries and waits."]),
    opt("retry", "retry: RetryConfig", &[], &["Retry policy; [`RetryConfig::disabled`] turns retries off."]),
    BuilderOption {
        name: "rate_limit",
        param: "limit: Option<RateLimit>",
        uses: &[],
        feature: Some("rate-limit"),
        doc: &["Replace the client-side rate limit; `None` turns it off. Needs the crate's `rate-limit` feature."],
    },
    opt("idle_timeout", "timeout: Duration", &["std::time::Duration"], &["Longest pause while a body moves, either direction (default 30 s)."]),
    opt("max_body_size", "bytes: u64", &[], &["Largest buffered (non-streamed) response body, in bytes (default 32 MiB)."]),
    opt("max_connections_per_host", "n: usize", &[], &["Most requests in flight at once, and so connections to the host (default 32)."]),
    opt("max_hold_off", "ceiling: Duration", &["std::time::Duration"], &["Longest hold-off a server's `Retry-After` can put on every call (default 10 minutes)."]),
    opt(
        "http_client",
        "client: snapsdk_runtime::__private::reqwest::Client",
        &[],
        &[
            "Use your own `reqwest::Client` (proxies, TLS roots, pools), of the version this crate is built on (`reqwest` 0.13).",
            "Refused by `build()` for a key sent in a custom header (the client could follow a redirect elsewhere with it):",
            "pass a builder to [`http_client_builder`](Self::http_client_builder) instead.",
            "Start from [`crate::http_client_builder()`] for the same TLS setup as the default client: a `reqwest::Client::builder()`",
            "in a build where no reqwest TLS provider feature is on (this crate turns none on) panics in `build()`.",
        ],
    ),
    opt(
        "http_client_builder",
        "builder: snapsdk_runtime::__private::reqwest::ClientBuilder",
        &[],
        &["Use your own `reqwest::ClientBuilder` (proxies, TLS roots, pools); the runtime handles redirects, so a key never leaves the base URL's origin."],
    ),
    opt("allow_insecure_http", "allow: bool", &[], &["Allow credentials over plain `http://` to a non-loopback host (a staging server without TLS)."]),
    opt("user_agent_suffix", "suffix: impl Into<String>", &[], &["Text appended to the `User-Agent` header."]),
    opt(
        "interceptor",
        "interceptor: impl Interceptor",
        &[],
        &[
            "Add an [`Interceptor`]: hooks around every attempt (headers to add, each response, each retry decision),",
            "run in the order added; they never see the credentials.",
        ],
    ),
    BuilderOption {
        name: "mock",
        param: "mock: &mock::Mock",
        uses: &[],
        feature: Some("test-util"),
        doc: &[
            "Answer every call in process from the test kit's [`Mock`](crate::mock::Mock) instead of the network,",
            "through the same encoding, auth, decoding, retries and errors. Needs the crate's `test-util` feature.",
        ],
    },
];

/// Public methods of the runtime's `ClientBuilder` a generated builder does
/// not forward as they are: the generated crate supplies the vendor
/// (`Client::builder()`), turns `credentials` into one method per auth
/// scheme, and wraps `build`.
///
pub const NOT_FORWARDED: &[&str] = &["new", "credentials", "build"];

/// Method names the generated `ClientBuilder` has of its own.
pub const OWN_METHODS: &[&str] = &["build"];

const fn opt(
    name: &'static str,
    param: &'static str,
    uses: &'static [&'static str],
    doc: &'static [&'static str],
) -> BuilderOption {
    BuilderOption {
        name,
        param,
        uses,
        feature: None,
        doc,
    }
}

/// Every method name a generated `ClientBuilder` has besides its auth schemes'.
pub fn method_names() -> impl Iterator<Item = &'static str> {
    OPTIONS.iter().map(|o| o.name).chain(OWN_METHODS.iter().copied())
}

/// The public method names of `impl ClientBuilder` blocks in Rust source.
pub fn runtime_builder_methods(source: &str) -> Result<Vec<String>, String> {
    let file = syn::parse_file(source).map_err(|e| format!("not Rust: {e}"))?;
    let mut out = Vec::new();
    for item in &file.items {
        let syn::Item::Impl(imp) = item else { continue };
        let is_builder = imp.trait_.is_none()
            && matches!(&*imp.self_ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "ClientBuilder"));
        if !is_builder {
            continue;
        }
        for it in &imp.items {
            if let syn::ImplItem::Fn(f) = it {
                if matches!(f.vis, syn::Visibility::Public(_)) {
                    out.push(f.sig.ident.to_string());
                }
            }
        }
    }
    Ok(out)
}

/// Public methods of the runtime's `ClientBuilder` in `source` that the table misses.
pub fn missing_from_table(source: &str) -> Result<Vec<String>, String> {
    let known: Vec<&str> = OPTIONS
        .iter()
        .map(|o| o.name)
        .chain(NOT_FORWARDED.iter().copied())
        .collect();
    Ok(runtime_builder_methods(source)?
        .into_iter()
        .filter(|m| !known.contains(&m.as_str()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `.rs` file under `dir`, recursively (the runtime's files may move).
    fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("runtime src readable").flatten() {
            let p = entry.path();
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }

    #[test]
    fn the_table_covers_the_runtime_builder() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/snapsdk-runtime/src");
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        let (mut found, mut missing) = (Vec::new(), Vec::new());
        for f in files {
            let text = std::fs::read_to_string(&f).expect("readable");
            found.extend(runtime_builder_methods(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display())));
            missing.extend(missing_from_table(&text).expect("parsed above"));
        }
        assert!(
            found.len() > OPTIONS.len(),
            "no `impl ClientBuilder` found under {}",
            src.display()
        );
        assert!(missing.is_empty(), "the runtime's ClientBuilder has {missing:?}, which xtask/src/emit/rust/builder.rs neither forwards (OPTIONS) nor lists in NOT_FORWARDED");
        for o in OPTIONS {
            assert!(
                found.iter().any(|m| m == o.name),
                "OPTIONS forwards `{}`, which the runtime's ClientBuilder does not have",
                o.name
            );
        }
    }

    #[test]
    fn a_new_runtime_option_is_caught() {
        let src = "impl ClientBuilder { pub fn timeout(self) -> Self { self } pub fn proxy(self) -> Self { self } fn private(self) {} }
                   impl Other { pub fn elsewhere(&self) {} }";
        assert_eq!(missing_from_table(src).unwrap(), ["proxy"]);
    }
}
