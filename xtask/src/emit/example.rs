//! IR → `examples/<crate>_quickstart.rs`: a runnable program that makes a couple of
//! calls against a base URL given on the command line (a Prism mock of the
//! crate's `openapi.json`, or the real API). `tests/prism.rs` runs the same
//! code against Prism, so the example cannot rot.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::emit::wiretest;
use crate::ir::{Api, Auth, AuthKind, ContentKind, HttpMethod, Operation};
use crate::names;

/// How many operations the example calls.
const CALLS: usize = 2;

/// The operations the example calls: reads that return JSON first, then
/// (for an API with fewer) any other call that answers with something
/// printable; only ones the default credentials may make and whose
/// arguments have samples. Fewest arguments first: the clearest example.
fn picks<'a>(api: &'a Api, scheme: Option<&str>) -> Vec<(&'a Operation, wiretest::Call)> {
    // The spec's choice, in its order.
    let chosen: Vec<(&Operation, wiretest::Call)> = api
        .vendor
        .quick_start
        .iter()
        .filter_map(|id| api.operations.iter().find(|o| &o.id == id))
        .filter_map(|op| wiretest::call(api, op, true).map(|c| (op, c)))
        .collect();
    if !chosen.is_empty() {
        return chosen;
    }
    let mut all: Vec<(&Operation, wiretest::Call)> = api
        .operations
        .iter()
        .filter(|op| op.success.content != ContentKind::Binary)
        .filter(|op| match &op.auth {
            Auth::None => true,
            Auth::Schemes(s) => scheme.is_some_and(|id| s.iter().any(|x| x == id)),
        })
        .filter_map(|op| wiretest::call(api, op, true).map(|c| (op, c)))
        .collect();
    all.sort_by_key(|(op, c)| {
        (
            !(op.method == HttpMethod::GET && op.success.content == ContentKind::Json),
            c.args.len(),
            op.group.clone(),
            op.id.clone(),
        )
    });
    all.truncate(CALLS);
    all
}

/// `.api_key(env_or("SNAPCALL_API_KEY", "example-key"))`: the default scheme's credentials from the environment.
fn credentials(api: &Api) -> TokenStream {
    let v = &api.vendor;
    let env_prefix = crate::emit::env_var(api, "").trim_end_matches('_').to_owned();
    let scheme = v
        .default_auth
        .first()
        .and_then(|id| v.schemes.iter().find(|s| &s.id == id));
    match scheme {
        None => quote!(),
        Some(s) => {
            let m = format_ident!("{}", names::snake(&s.id));
            match s.kind {
                AuthKind::BasicLogin => {
                    let (user, pass) = (format!("{env_prefix}_USERNAME"), format!("{env_prefix}_PASSWORD"));
                    quote!(.#m(env_or(#user, "example-user"), env_or(#pass, "example-password")))
                }
                AuthKind::BasicKey | AuthKind::Bearer | AuthKind::Header => {
                    let key = format!("{env_prefix}_API_KEY");
                    quote!(.#m(env_or(#key, "example-key")))
                }
            }
        }
    }
}

pub fn emit(api: &Api) -> TokenStream {
    let v = &api.vendor;
    let krate = format_ident!("{}", names::snake(&v.crate_name));
    let env_prefix = crate::emit::env_var(api, "").trim_end_matches('_').to_owned();
    let scheme = v
        .default_auth
        .first()
        .and_then(|id| v.schemes.iter().find(|s| &s.id == id));
    let credentials = credentials(api);
    let calls = picks(api, scheme.map(|s| s.id.as_str())).into_iter().map(|(op, call)| {
        let group = format_ident!("{}", names::snake(&op.group));
        let method = format_ident!("{}", names::method(&op.group, &op.id));
        let args = call.args;
        let line = format!(
            "{} ({} {}): {{answer:#?}}",
            op.id,
            op.method.as_str(),
            op.path.replace('{', "{{").replace('}', "}}")
        );
        if op.success.content == ContentKind::Empty {
            let line = line.replace(" {answer:#?}", " done");
            quote! {
                client.#group().#method(#(#args),*).await?;
                println!(#line);
            }
        } else {
            quote! {
                let answer = client.#group().#method(#(#args),*).await?;
                println!(#line);
            }
        }
    });
    let creds_doc = match scheme.map(|s| s.kind) {
        Some(AuthKind::BasicLogin) => format!(" Credentials come from `{env_prefix}_USERNAME` and `{env_prefix}_PASSWORD`; a mock accepts the placeholders."),
        Some(_) => format!(" The key comes from `{env_prefix}_API_KEY`; a mock accepts the placeholder."),
        None => String::new(),
    };
    let crate_name = &v.crate_name;
    let title = format!(
        "Quick start: a couple of calls to the {} through `{crate_name}`.",
        v.title
    );
    let docs = example_docs(
        api,
        "quickstart",
        &title,
        &format!(
            "Without an argument it calls the real API at {}.{creds_doc}",
            v.base_url
        ),
    );
    let base_url = &v.base_url;
    quote! {
        #docs

        #[tokio::main]
        async fn main() -> Result<(), #krate::Error> {
            let base_url = std::env::args().nth(1).unwrap_or_else(|| #base_url.to_owned());
            run(&base_url).await
        }

        fn env_or(name: &str, placeholder: &str) -> String {
            std::env::var(name).unwrap_or_else(|_| placeholder.to_owned())
        }

        /// The calls; `tests/prism.rs` runs them against Prism too.
        pub async fn run(base_url: &str) -> Result<(), #krate::Error> {
            let client = #krate::Client::builder() #credentials .base_url(base_url).build()?;
            #(#calls)*
            Ok(())
        }
    }
}

/// Whether the default credentials may call `op`.
fn callable(api: &Api, op: &Operation) -> bool {
    let scheme = api.vendor.default_auth.first();
    match &op.auth {
        Auth::None => true,
        Auth::Schemes(s) => scheme.is_some_and(|id| s.contains(id)),
    }
}

/// An example's crate docs: its title, the two commands that run it against
/// the Prism mock, and what it does without a base URL.
fn example_docs(api: &Api, name: &str, title: &str, usage: &str) -> TokenStream {
    let v = &api.vendor;
    let crate_name = &v.crate_name;
    let title = format!(" {title}");
    let run_mock = format!(
        " node tools/prism/node_modules/.bin/prism mock {}/openapi.json    # listens on http://127.0.0.1:4010",
        v.crate_dir
    );
    let run_example = format!(
        " cargo run -p {crate_name} --example {}_{name} -- http://127.0.0.1:4010",
        names::snake(crate_name)
    );
    let usage = format!(" {usage}");
    quote! {
        #![doc = #title]
        //!
        //! Against the Prism mock of this crate's `openapi.json`:
        //!
        //! ```sh
        //! npm ci --prefix tools/prism
        #![doc = #run_mock]
        #![doc = #run_example]
        //! ```
        //!
        #![doc = #usage]
    }
}

/// The frame every example shares: docs with the commands that run it
/// against Prism, `main` taking the base URL, and `run(base_url)` holding
/// `body` (which `tests/prism.rs` runs against Prism too).
fn program(api: &Api, name: &str, what: &str, body: TokenStream) -> TokenStream {
    let v = &api.vendor;
    let krate = format_ident!("{}", names::snake(&v.crate_name));
    let docs = example_docs(api, name, what, &format!("Without an argument it calls the real API at {}; credentials come from the environment as in the quick start.", v.base_url));
    let base_url = &v.base_url;
    let credentials = credentials(api);
    quote! {
        #docs

        #[tokio::main]
        async fn main() -> Result<(), Box<dyn std::error::Error>> {
            let base_url = std::env::args().nth(1).unwrap_or_else(|| #base_url.to_owned());
            run(&base_url).await
        }

        fn env_or(name: &str, placeholder: &str) -> String {
            std::env::var(name).unwrap_or_else(|_| placeholder.to_owned())
        }

        /// A client builder with the credentials from the environment.
        fn builder(base_url: &str) -> #krate::ClientBuilder {
            #krate::Client::builder() #credentials .base_url(base_url)
        }

        /// The example; `tests/prism.rs` runs it against Prism too.
        pub async fn run(base_url: &str) -> Result<(), Box<dyn std::error::Error>> {
            let client = builder(base_url).build()?;
            #body
            Ok(())
        }
    }
}

/// Paging through everything: the first paged listing the default credentials may call.
fn paging(api: &Api) -> Option<TokenStream> {
    let krate = format_ident!("{}", names::snake(&api.vendor.crate_name));
    let (op, call) = api
        .operations
        .iter()
        .filter(|o| o.pagination.is_some() && callable(api, o))
        .find_map(|o| Some((o, wiretest::call(api, o, true)?)))?;
    let group = format_ident!("{}", names::snake(&op.group));
    let method = format_ident!("{}", names::method(&op.group, &op.id));
    let args = call.args;
    let line = format!("{}: {{item:?}}", op.id);
    let body = quote! {
        // Pages are fetched as the loop consumes them; `.max_pages(..)` and
        // `.max_items(..)` bound a listing, `.try_collect().await` gathers it.
        let mut pages = client.#group().#method(#(#args),*).into_stream().max_pages(5);
        let mut count = 0;
        while let Some(item) = pages.next().await {
            match item {
                Ok(item) => {
                    count += 1;
                    println!(#line);
                }
                // A listing that repeats a page or a cursor ends with this error
                // instead of looping; a mock, which answers every page alike, does.
                Err(e @ #krate::Error::Paging { .. }) => {
                    println!("stopped: {e}");
                    break;
                }
                Err(e) => return Err(e.into()),
            }
        }
        println!("{count} items from {} pages", pages.pages_fetched());
    };
    Some(program(
        api,
        "paging",
        &format!("Paging: every item of `{}`, page by page, with a cap.", op.id),
        body,
    ))
}

/// Upload a file from disk and download one to disk.
fn files(api: &Api) -> Option<TokenStream> {
    let krate = format_ident!("{}", names::snake(&api.vendor.crate_name));
    let required = crate::emit::rust::required_args;
    let upload = api
        .operations
        .iter()
        .filter(|o| callable(api, o) && o.success.content != ContentKind::Binary)
        .find_map(|o| {
            let i = required(o).iter().position(|(_, t)| *t == crate::ir::Ty::Binary)?;
            let mut call = wiretest::call(api, o, true)?;
            *call.args.get_mut(i)? = quote!(#krate::FilePart::from_path(&upload).mime("text/plain"));
            Some((o, call))
        });
    let download = api
        .operations
        .iter()
        .filter(|o| callable(api, o) && o.success.content == ContentKind::Binary)
        .find_map(|o| Some((o, wiretest::call(api, o, true)?)));
    if upload.is_none() && download.is_none() {
        return None;
    }
    let mut body = quote! {
        let dir = std::env::temp_dir().join(format!("example-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
    };
    let mut what = Vec::new();
    if let Some((op, call)) = upload {
        let (group, method, args) = (
            format_ident!("{}", names::snake(&op.group)),
            format_ident!("{}", names::method(&op.group, &op.id)),
            call.args,
        );
        let line = format!("{} sent {{}} ({{}} bytes): {{answer:?}}", op.id);
        what.push(format!("upload with `{}`", op.id));
        body.extend(quote! {
            // The file is streamed from disk, not read into memory first.
            let upload = dir.join("notes.txt");
            std::fs::write(&upload, "hello from the example\n")?;
            let answer = client.#group().#method(#(#args),*).await?;
            println!(#line, upload.display(), std::fs::metadata(&upload).map(|m| m.len()).unwrap_or(0));
        });
    }
    if let Some((op, call)) = download {
        let (group, method, args) = (
            format_ident!("{}", names::snake(&op.group)),
            format_ident!("{}", names::method(&op.group, &op.id)),
            call.args,
        );
        let line = format!("{} wrote {{written}} bytes to {{}}", op.id);
        what.push(format!("download with `{}`", op.id));
        body.extend(quote! {
            // The body is streamed to the file; a failed download leaves no partial file.
            let target = dir.join("download.bin");
            let written = client.#group().#method(#(#args),*).await?.write_to_file(&target).await?;
            println!(#line, target.display());
        });
    }
    body.extend(quote! { let _ = std::fs::remove_dir_all(&dir); });
    Some(program(
        api,
        "files",
        &format!("Files: {}, to and from disk.", what.join(", ")),
        body,
    ))
}

/// Error handling: what an error says (status, retryability, `Retry-After`,
/// request id), a decode error, and the raw response.
fn errors(api: &Api) -> Option<TokenStream> {
    let krate = format_ident!("{}", names::snake(&api.vendor.crate_name));
    let (op, call) = picks(api, api.vendor.default_auth.first().map(String::as_str))
        .into_iter()
        .find(|(o, _)| o.success.content == ContentKind::Json)?;
    let group = format_ident!("{}", names::snake(&op.group));
    let method = format_ident!("{}", names::method(&op.group, &op.id));
    let args = call.args;
    let body = quote! {
        // 1. The raw answer: status and headers, and the body decoded into a type of your choice.
        let raw = client.#group().#method(#(#args),*).send_raw().await?;
        println!("status {}, content-type {:?}", raw.status(), raw.headers().get("content-type"));
        // Decoding into the wrong type is a decode error naming the JSON path.
        match raw.json::<Vec<u64>>().await {
            Ok(v) => println!("decoded {} numbers", v.len()),
            Err(e) => println!("{}", describe(&e)),
        }

        // 2. A server that cannot be reached: a connection error, worth retrying.
        let offline = builder("http://127.0.0.1:9").retry(#krate::RetryConfig::disabled()).build()?;
        match offline.#group().#method(#(#args),*).await {
            Ok(_) => println!("unexpected answer from a closed port"),
            Err(e) => println!("{}", describe(&e)),
        }
    };
    let describe = quote! {
        /// One line about an error, as an application might log or act on it.
        fn describe(e: &#krate::Error) -> String {
            match e {
                _ if e.is_not_found() => "not found: check the ids".to_owned(),
                _ if e.status() == Some(#krate::StatusCode::UNAUTHORIZED) => "rejected: check the API key".to_owned(),
                #krate::Error::RateLimited { .. } => format!("rate limited; wait {:?} and retry", e.retry_after()),
                #krate::Error::Api(api) => format!("the server answered {} (request id {:?}): {}", api.status, e.request_id(), api.body_text()),
                #krate::Error::Decode(d) => format!("unexpected answer at `{}`: {}", d.path, d.message),
                _ if e.is_retryable() => format!("transient, retry later: {e}"),
                _ => format!("failed: {e}"),
            }
        }
    };
    let mut out = program(
        api,
        "errors",
        &format!(
            "Errors: reading the raw answer of `{}`, a decode error, and a connection error, each described.",
            op.id
        ),
        body,
    );
    out.extend(describe);
    Some(out)
}

/// A polling loop with a deadline, for the spec's `poll_example` operation.
fn polling(api: &Api) -> Option<TokenStream> {
    let op = api
        .operations
        .iter()
        .find(|o| Some(&o.id) == api.vendor.poll_example.as_ref())?;
    let call = wiretest::call(api, op, true)?;
    let group = format_ident!("{}", names::snake(&op.group));
    let method = format_ident!("{}", names::method(&op.group, &op.id));
    let args = call.args;
    let line = format!("{} #{{polls}}: {{answer:?}}", op.id);
    let body = quote! {
        // Poll every second until the deadline; each call is also bounded by it.
        let interval = std::time::Duration::from_secs(1);
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(3);
        let mut polls = 0;
        loop {
            // A request builder is a future: it can go straight into `timeout_at`.
            match tokio::time::timeout_at(deadline, client.#group().#method(#(#args),*)).await {
                Err(_) => break, // the deadline passed mid-call
                Ok(Ok(answer)) => {
                    polls += 1;
                    println!(#line);
                }
                // A transient failure: keep polling until the deadline.
                Ok(Err(e)) if e.is_retryable() => println!("will retry: {e}"),
                Ok(Err(e)) => return Err(e.into()),
            }
            let next = tokio::time::Instant::now() + interval;
            if next >= deadline {
                break;
            }
            tokio::time::sleep_until(next).await;
        }
        println!("{polls} polls before the deadline");
    };
    Some(program(
        api,
        "polling",
        &format!("Polling: `{}` every second until a deadline.", op.id),
        body,
    ))
}

/// Every example beyond the quick start: `(name, program)`; the file is
/// `examples/<crate>_<name>.rs`. Only the ones this API has operations for.
pub fn more(api: &Api) -> Vec<(&'static str, TokenStream)> {
    [
        ("paging", paging(api)),
        ("files", files(api)),
        ("errors", errors(api)),
        ("polling", polling(api)),
    ]
    .into_iter()
    .filter_map(|(n, t)| Some((n, t?)))
    .collect()
}
