//! IR → a contract test per vendor: Prism (`prism mock --errors`) serves the
//! crate's own `openapi.json`, and every operation is called through the
//! generated client with the wire test's sample arguments.
//!
//! Prism validates each request (method, path, parameters, body schema,
//! content type, credentials) against the document and answers a violation
//! with a 4xx problem+json, which the test reports; a valid request gets a
//! response derived from the document's schemas, which the client must
//! decode. So the client, the runtime and the OpenAPI document are checked
//! against each other by a validator that shares no code with them.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::emit::wiretest;
use crate::ir::{Api, Auth, BodyEncoding, ContentKind, Operation, ParamLocation};
use crate::names;

/// The example every vendor crate gets, relative to the crate. Named after
/// the crate: examples of one workspace share `target/debug/examples/`.
pub fn example_path(api: &Api) -> String {
    format!("examples/{}_quickstart.rs", names::snake(&api.vendor.crate_name))
}

fn op_call(api: &Api, op: &Operation) -> Option<TokenStream> {
    let krate = format_ident!("{}", names::snake(&api.vendor.crate_name));
    let group = format_ident!("{}", names::snake(&op.group));
    let method_name = format_ident!("{}", names::method(&op.group, &op.id));
    let wiretest::Call { args, setters, .. } = wiretest::call(api, op, false)?;
    let (cred_call, _) = wiretest::credentials(api, op);
    let consume = match op.success.content {
        ContentKind::Json | ContentKind::Text => quote!(let _ = answer;),
        ContentKind::Binary => quote!(answer.collect().await?;),
        ContentKind::Empty | ContentKind::Undocumented => quote!(),
    };
    // A unit answer is matched as `()` rather than bound (clippy's `let_unit_value`).
    let binding = match op.success.content {
        ContentKind::Empty | ContentKind::Undocumented => quote!(let ()),
        _ => quote!(let answer),
    };
    let id = &op.id;
    let what = format!("{} {}", op.method.as_str(), op.path);
    Some(quote! {
        let client = builder(&prism) #cred_call .build().unwrap();
        let outcome = async {
            #binding = client.#group().#method_name(#(#args),*) #(#setters)* .send().await?;
            #consume
            Ok::<(), #krate::Error>(())
        }
        .await;
        results.push((#id, #what, outcome.map_err(|e| failure(&e))));
    })
}

/// Requests Prism must refuse, showing that it validates at all: an
/// operation that needs credentials sent without them (401), and one sent
/// without a required query parameter or body field (422, or a declared 400;
/// only with `--errors`, without it Prism answers such a request with a mock).
fn controls(api: &Api) -> TokenStream {
    let mut out = TokenStream::new();
    let unauthenticated = api
        .operations
        .iter()
        .find(|o| matches!(o.auth, Auth::Schemes(_)) && o.body.is_none());
    if let Some((op, call)) = unauthenticated.and_then(|o| Some((o, wiretest::call(api, o, false)?))) {
        let (method, path) = (op.method.as_str(), call.expected_path);
        let msg = format!(
            "control: `{}` without credentials must be refused with 401, got {{}}; does Prism validate requests?\n{{}}",
            op.id
        );
        out.extend(quote! {
            let status = raw_status(&prism, #method, #path, &[], "");
            assert_eq!(status, 401, #msg, status, prism.log());
        });
    }
    // The body a request missing a required input carries, and its content type.
    let incomplete = |o: &Operation| -> Option<(&'static str, &'static str)> {
        let query = o
            .params
            .iter()
            .any(|p| p.required && p.location == ParamLocation::Query);
        match &o.body {
            None if query => Some(("", "")),
            Some(b) if b.encoding == BodyEncoding::Query && (query || b.fields.iter().any(|f| f.required)) => {
                Some(("", ""))
            }
            Some(b) if query || b.fields.iter().any(|f| f.required) => match b.encoding {
                BodyEncoding::Json => Some(("{}", "application/json")),
                BodyEncoding::Form => Some(("", "application/x-www-form-urlencoded")),
                BodyEncoding::Multipart | BodyEncoding::Query => None,
            },
            _ => None,
        }
    };
    let missing = api
        .operations
        .iter()
        .find_map(|o| Some((o, incomplete(o)?, wiretest::call(api, o, false)?)));
    if let Some((op, (body, content_type), call)) = missing {
        let (method, path) = (op.method.as_str(), call.expected_path);
        let msg = format!("control: `{}` without its required inputs must be refused with 422 (or a declared 400), got {{}}; is Prism running with --errors?\n{{}}", op.id);
        let mut headers = Vec::new();
        if let (_, Some((name, value))) = wiretest::credentials(api, op) {
            headers.push(quote!((#name, #value)));
        }
        if !content_type.is_empty() {
            headers.push(quote!(("content-type", #content_type)));
        }
        out.extend(quote! {
            let status = raw_status(&prism, #method, #path, &[#(#headers),*], #body);
            // 422 is Prism's own answer; 400 when the document declares one (Prism then answers with it).
            assert!(status == 422 || status == 400, #msg, status, prism.log());
        });
    }
    out
}

/// The Prism test file for one vendor crate (`crate_dir` is its folder from the workspace root).
pub fn emit(api: &Api) -> TokenStream {
    let calls: Vec<TokenStream> = api.operations.iter().filter_map(|op| op_call(api, op)).collect();
    let total = api.operations.len();
    // Operations without a generic sample are counted as not accepted, never dropped silently.
    let uncovered: Vec<&str> = api
        .operations
        .iter()
        .filter(|op| wiretest::call(api, op, false).is_none())
        .map(|op| op.id.as_str())
        .collect();
    let name = &api.vendor.name;
    let example_path = format!("../{}", example_path(api));
    // The other examples (paging, files, errors, polling) run against the same mock.
    let more: Vec<(proc_macro2::Ident, String)> = crate::emit::example::more(api)
        .into_iter()
        .map(|(n, _)| {
            (
                format_ident!("example_{}", n),
                format!("examples/{}_{n}.rs", names::snake(&api.vendor.crate_name)),
            )
        })
        .collect();
    let more_mods = more.iter().map(|(m, file)| {
        let path = format!("../{file}");
        quote! {
            #[allow(dead_code)]
            #[path = #path]
            mod #m;
        }
    });
    let more_runs: Vec<TokenStream> = more
        .iter()
        .map(|(m, file)| {
            let line = format!("{file} against Prism: {{}}");
            quote!(#m::run(&prism.base).await.unwrap_or_else(|e| panic!(#line, e));)
        })
        .collect();
    let harness = harness(api);
    let helpers = helpers(api);
    let test = every_operation_test(api, &calls, &uncovered, &more_runs);
    let header_doc = format!(" {total} operations, called once each; the count Prism accepted (and the client decoded) is printed as `prism: {name}: N/{total} operations accepted by Prism and decoded`.");
    quote! {
        //! Contract test: Prism (`prism mock --errors`) serves this crate's
        //! `openapi.json`; every operation is called through the client, Prism
        //! validates the request against the document, and the client decodes
        //! Prism's schema-derived answer. `cargo xtask test` installs Prism
        //! into `tools/prism/node_modules` (`npm ci`) before running this.
        #![doc = #header_doc]


        use std::io::{Read as _, Write as _};
        use std::path::{Path, PathBuf};
        use std::process::{Child, Command, Stdio};
        use std::time::{Duration, Instant};

        #[allow(dead_code)]
        #[path = #example_path]
        mod quickstart;
        #(#more_mods)*

        #harness
        #helpers
        #test
    }
}

/// The `Prism` mock-server handle: started on a free port, its log read, killed on drop.
fn harness(api: &Api) -> TokenStream {
    // The test runs in the crate's test package, `<crate_dir>/tests`: one folder more to the workspace root.
    let up = "../".repeat(api.vendor.crate_dir.split('/').count() + 1);
    let cli = format!("{up}tools/prism/node_modules/@stoplight/prism-cli/dist/index.js");
    let name = &api.vendor.name;
    quote! {
        /// A Prism mock server on a free loopback port, killed on drop.
        struct Prism {
            child: Child,
            base: String,
            log: PathBuf,
        }

        impl Prism {
            fn start() -> Prism {
                // This test's package is the `tests/` folder of the crate it tests.
                let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
                let cli = manifest.join(#cli);
                let document = manifest.join("../openapi.json");
                assert!(
                    cli.is_file(),
                    "Prism is not installed ({} is missing): run `cargo xtask test`, which installs it, or `npm ci --prefix tools/prism`",
                    cli.display()
                );
                let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join(concat!("prism-", #name, ".log"));
                let mut last = String::new();
                // The port is free when picked, but another process may take it first: retry.
                for _ in 0..3 {
                    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free loopback port").port();
                    let out = std::fs::File::create(&log).expect("Prism log file");
                    let err = out.try_clone().expect("Prism log file");
                    let child = Command::new("node")
                        .arg(&cli)
                        .args(["mock", "--errors", "--host", "127.0.0.1", "--port", &port.to_string()])
                        .arg(&document)
                        .env("NO_COLOR", "1")
                        .env("FORCE_COLOR", "0")
                        .stdin(Stdio::null())
                        .stdout(out)
                        .stderr(err)
                        .spawn()
                        .unwrap_or_else(|e| panic!("could not run `node` ({e}): Prism needs Node.js (20) on PATH"));
                    let mut prism = Prism { child, base: format!("http://127.0.0.1:{port}"), log: log.clone() };
                    let ready = format!("Prism is listening on {}", prism.base);
                    let deadline = Instant::now() + Duration::from_secs(60);
                    loop {
                        if prism.log().contains(&ready) {
                            return prism;
                        }
                        if let Ok(Some(status)) = prism.child.try_wait() {
                            last = format!("Prism exited ({status}) before listening; its log:\n{}", prism.log());
                            break;
                        }
                        if Instant::now() > deadline {
                            panic!("Prism did not listen on {} within 60 s; its log:\n{}", prism.base, prism.log());
                        }
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
                panic!("{last}");
            }

            fn log(&self) -> String {
                std::fs::read_to_string(&self.log).unwrap_or_default()
            }
        }

        impl Drop for Prism {
            fn drop(&mut self) {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
    }
}

/// `raw_status` (a hand-made request), `builder` (one attempt, no rate limit) and `failure` (why a call failed).
fn helpers(api: &Api) -> TokenStream {
    let krate = format_ident!("{}", names::snake(&api.vendor.crate_name));
    quote! {
        /// The status Prism answers a hand-made HTTP/1.1 request with.
        #[allow(dead_code)]
        fn raw_status(prism: &Prism, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> u16 {
            let addr = prism.base.trim_start_matches("http://");
            let mut stream = std::net::TcpStream::connect(addr).expect("connect to Prism");
            let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: */*\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
            for (name, value) in headers {
                request.push_str(&format!("{name}: {value}\r\n"));
            }
            request.push_str("\r\n");
            request.push_str(body);
            stream.write_all(request.as_bytes()).expect("send to Prism");
            let mut answer = String::new();
            let _ = stream.read_to_string(&mut answer);
            answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
        }
        /// A client for Prism: one attempt per call, no client-side rate limit.
        fn builder(prism: &Prism) -> #krate::ClientBuilder {
            let builder = #krate::Client::builder().base_url(prism.base.as_str()).retry(#krate::RetryConfig::disabled());
            #[cfg(feature = "rate-limit")]
            let builder = builder.rate_limit(None);
            builder
        }

        /// Why a call failed: Prism's problem+json naming the violation, or the client's error.
        fn failure(e: &#krate::Error) -> String {
            match e {
                #krate::Error::Api(api) => format!("Prism answered {}: {}", api.status, api.body_text()),
                other => other.to_string(),
            }
        }
    }
}

/// The test: every operation once, the count printed, then the examples against the same mock.
fn every_operation_test(
    api: &Api,
    calls: &[TokenStream],
    uncovered: &[&str],
    more_runs: &[TokenStream],
) -> TokenStream {
    let total = api.operations.len();
    let name = &api.vendor.name;
    let controls = controls(api);
    let example = example_path(api);
    let count_line = format!("prism: {name}: {{accepted}}/{total} operations accepted by Prism and decoded");
    let problems_line = format!("{{}} of {total} operations were not accepted by Prism or not decoded:\n{{}}\nPrism's validator said:\n{{}}\nPrism's whole log: {{}}");
    let example_line = format!("{example} against Prism: {{}}");
    quote! {
        #[tokio::test]
        async fn every_operation_against_prism() {
            let prism = Prism::start();
            #controls
            // Prism's log from here on is about the calls below.
            let mark = prism.log().len();
            let mut results: Vec<(&str, &str, Result<(), String>)> = Vec::new();
            #(#calls)*
            let uncovered: &[&str] = &[#(#uncovered),*];
            let accepted = results.iter().filter(|r| r.2.is_ok()).count();
            // Straight to stderr, past the test harness's capture, so the count shows in every run.
            let _ = writeln!(std::io::stderr(), #count_line);
            let mut problems: Vec<String> = results
                .iter()
                .filter_map(|(id, what, r)| r.as_ref().err().map(|e| format!("- {id} (`{what}`): {e}")))
                .collect();
            problems.extend(uncovered.iter().map(|id| format!("- {id}: no sample arguments (an object-typed required input); not called")));
            let log = prism.log();
            let violations: Vec<&str> = log.get(mark..).unwrap_or_default().lines().filter(|l| l.contains("[VALIDATOR]") && !l.contains("passed the validation")).collect();
            assert!(
                problems.is_empty(),
                #problems_line,
                problems.len(),
                problems.join("\n"),
                violations.join("\n"),
                prism.log.display()
            );
            quickstart::run(&prism.base).await.unwrap_or_else(|e| panic!(#example_line, failure(&e)));
            #(#more_runs)*
        }
    }
}
