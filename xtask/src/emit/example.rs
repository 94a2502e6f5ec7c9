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
    all.sort_by_key(|(op, c)| (!(op.method == HttpMethod::GET && op.success.content == ContentKind::Json), c.args.len(), op.group.clone(), op.id.clone()));
    all.truncate(CALLS);
    all
}

pub fn emit(api: &Api) -> TokenStream {
    let v = &api.vendor;
    let krate = format_ident!("{}", names::snake(&v.crate_name));
    let env_prefix = names::snake(&v.crate_name).to_uppercase();
    let scheme = v.default_auth.first().and_then(|id| v.schemes.iter().find(|s| &s.id == id));
    let credentials = match scheme {
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
    };
    let calls = picks(api, scheme.map(|s| s.id.as_str())).into_iter().map(|(op, call)| {
        let group = format_ident!("{}", names::snake(&op.group));
        let method = format_ident!("{}", names::method(&op.id));
        let args = call.args;
        let line = format!("{} ({} {}): {{answer:#?}}", op.id, op.method.as_str(), op.path.replace('{', "{{").replace('}', "}}"));
        if op.success.content == ContentKind::Empty {
            let line = line.replace(" {answer:#?}", " done");
            quote! {
                client.#group().#method(#(#args),*).send().await?;
                println!(#line);
            }
        } else {
            quote! {
                let answer = client.#group().#method(#(#args),*).send().await?;
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
    let dir = &v.crate_dir;
    let title = format!(" Quick start: a couple of calls to the {} through `{crate_name}`.", v.title);
    let run_mock = format!(" node tools/prism/node_modules/.bin/prism mock {dir}/openapi.json    # listens on http://127.0.0.1:4010");
    let run_example = format!(" cargo run -p {crate_name} --example {}_quickstart -- http://127.0.0.1:4010", names::snake(crate_name));
    let usage = format!(" Without an argument it calls the real API at {}.{creds_doc}", v.base_url);
    let base_url = &v.base_url;
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
