//! [`ClientBuilder`]: a client's settings, with the documented defaults,
//! checked before a client is built from them.

use std::sync::Arc;
use std::time::Duration;

use http::header::HeaderValue;

use crate::auth::Credentials;
#[cfg(feature = "rate-limit")]
use crate::config::RateLimit;
use crate::config::{RetryConfig, Timeouts};
use crate::error::Error;
use crate::intercept::{Interceptor, Interceptors};
#[cfg(feature = "rate-limit")]
use crate::limit::Limiter;
use crate::request::VendorInfo;
use crate::retry::HoldOff;
use crate::slots::Slots;
use crate::transport::Transport;

/// Default cap on a buffered (non-streamed) response body: 32 MiB.
pub const DEFAULT_MAX_BODY_SIZE: u64 = 32 * 1024 * 1024;
/// Default cap on requests in flight at once per client (and so on its
/// connections to the API host): 32.
pub const DEFAULT_MAX_CONNECTIONS: usize = 32;
/// Default ceiling on a server-requested hold-off shared by a client's calls: 10 minutes.
pub const DEFAULT_MAX_HOLD_OFF: Duration = Duration::from_secs(600);

/// Builds a [`Client`](crate::Client); generated crates wrap it with their auth methods.
#[derive(Debug)]
#[must_use = "a builder does nothing until `.build()`"]
pub struct ClientBuilder {
    vendor: &'static VendorInfo,
    base_url: String,
    credentials: Option<Credentials>,
    credential_error: Option<Error>,
    timeouts: Timeouts,
    retry: RetryConfig,
    #[cfg(feature = "rate-limit")]
    rate_limit: Option<RateLimit>,
    http: Option<HttpSource>,
    user_agent_suffix: Option<String>,
    allow_insecure_http: bool,
    max_body_size: u64,
    max_connections: usize,
    max_hold_off: Duration,
    interceptors: Interceptors,
    #[cfg(feature = "test-util")]
    mock: Option<crate::mock::Server>,
}

#[derive(Debug)]
enum HttpSource {
    Client(reqwest::Client),
    Builder(Box<reqwest::ClientBuilder>),
}

impl ClientBuilder {
    /// A builder with the vendor's defaults.
    pub fn new(vendor: &'static VendorInfo) -> Self {
        ClientBuilder {
            vendor,
            base_url: vendor.base_url.to_owned(),
            credentials: None,
            credential_error: None,
            timeouts: Timeouts::default(),
            retry: RetryConfig::default(),
            #[cfg(feature = "rate-limit")]
            rate_limit: vendor.rate_limit,
            http: None,
            user_agent_suffix: None,
            allow_insecure_http: false,
            max_body_size: DEFAULT_MAX_BODY_SIZE,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_hold_off: DEFAULT_MAX_HOLD_OFF,
            interceptors: Interceptors::default(),
            #[cfg(feature = "test-util")]
            mock: None,
        }
    }

    /// Add an interceptor: its hooks run around every attempt of every call,
    /// after those of the interceptors added before it. See [`Interceptor`].
    pub fn interceptor(mut self, interceptor: impl Interceptor) -> Self {
        self.interceptors.0.push(Box::new(interceptor));
        self
    }

    /// Answer every call from `mock`, in process, instead of the network
    /// (feature `test-util`): the rest of the client (encoding, auth,
    /// decoding, retries, limits, errors) is the production code. See
    /// [`mock`](crate::mock).
    #[cfg(feature = "test-util")]
    #[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
    pub fn mock(mut self, mock: &crate::mock::MockServer) -> Self {
        self.mock = Some(mock.server());
        self
    }

    /// Use these credentials; a credential that failed to build is reported by [`build`](Self::build).
    pub fn credentials(mut self, credentials: Result<Credentials, Error>) -> Self {
        match credentials {
            Ok(c) => {
                self.credentials = Some(c);
                self.credential_error = None;
            }
            Err(e) => self.credential_error = Some(e),
        }
        self
    }

    /// Send requests somewhere else (a mock server, a proxy, a staging host).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }
    /// Limit on establishing a connection.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.timeouts.connect = d;
        self
    }
    /// Limit on each attempt, from sending to the last byte of a buffered body.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeouts.attempt = d;
        self
    }
    /// Limit on a whole call, across retries and waits.
    pub fn operation_timeout(mut self, d: Duration) -> Self {
        self.timeouts.operation = d;
        self
    }
    /// The retry policy.
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }
    /// Replace the documented rate limit; `None` turns client-side limiting off.
    #[cfg(feature = "rate-limit")]
    #[cfg_attr(docsrs, doc(cfg(feature = "rate-limit")))]
    pub fn rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.rate_limit = limit;
        self
    }
    /// The longest pause allowed while a body moves, in either direction:
    /// an upload the server stops reading, a response body that stops
    /// arriving (buffered or streamed). Default 30 s.
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.timeouts.idle = d;
        self
    }
    /// The largest buffered (JSON, text) response body read into memory;
    /// a larger one fails with [`Error::BodyTooLarge`]. Streamed downloads
    /// are not limited. Default 32 MiB.
    pub fn max_body_size(mut self, bytes: u64) -> Self {
        self.max_body_size = bytes;
        self
    }
    /// At most `n` requests of this client (and its clones) in flight at
    /// once, so at most `n` connections to the API host; further calls wait
    /// their turn (within their deadline). Default 32.
    pub fn max_connections_per_host(mut self, n: usize) -> Self {
        self.max_connections = n;
        self
    }
    /// The longest hold-off a server's `Retry-After` can impose on all of
    /// this client's calls (the call that received it still reports the
    /// server's figure). Default 10 minutes; see also [`Client::clear_hold_off`](crate::Client::clear_hold_off).
    pub fn max_hold_off(mut self, d: Duration) -> Self {
        self.max_hold_off = d;
        self
    }
    /// Bring your own `reqwest::Client` (proxies, TLS roots, connection pools).
    /// Its own timeouts apply in addition to ours; the connect timeout set here is then not used.
    ///
    /// The runtime cannot stop such a client from following a redirect to
    /// another host, where reqwest keeps custom headers; so with credentials
    /// sent in a header other than `Authorization` (an `x-api-key`),
    /// [`build`](Self::build) refuses it. Pass a builder to
    /// [`http_client_builder`](Self::http_client_builder) instead.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(HttpSource::Client(client));
        self
    }
    /// Bring your own `reqwest::ClientBuilder` (proxies, TLS roots, pools):
    /// the runtime adds its connect timeout and turns reqwest's redirect
    /// handling off (the runtime follows redirects itself, within the origin).
    pub fn http_client_builder(mut self, builder: reqwest::ClientBuilder) -> Self {
        self.http = Some(HttpSource::Builder(Box::new(builder)));
        self
    }
    /// Appended to the `User-Agent` (which always names the crate and version).
    pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.user_agent_suffix = Some(suffix.into());
        self
    }
    /// Allow sending credentials over plain `http://` to a host other than
    /// the loopback interface. Off by default: [`build`](Self::build) refuses
    /// such a base URL, because the key would cross the network in clear text.
    pub fn allow_insecure_http(mut self, yes: bool) -> Self {
        self.allow_insecure_http = yes;
        self
    }

    /// Check the settings and assemble what a client shares with its clones.
    ///
    /// Fails (with [`Error::Config`], never echoing a secret) as
    /// [`build`](Self::build) documents.
    pub(crate) fn into_state(self) -> Result<ClientState, Error> {
        if let Some(e) = self.credential_error {
            return Err(e);
        }
        let (base_url, base) = checked_base(&self.base_url, self.credentials.is_some(), self.allow_insecure_http)?;
        let user_agent = self.user_agent()?;
        self.check_limits()?;
        let http = http_client(self.http, self.credentials.as_ref(), self.timeouts.connect)?;
        #[cfg(feature = "rate-limit")]
        let limiter = match self.rate_limit {
            Some(limit) => Some(Limiter::new(limit)?),
            None => None,
        };
        Ok(ClientState {
            vendor: self.vendor,
            base_url,
            base,
            transport: Transport {
                http,
                user_agent,
                credentials: self.credentials,
                max_body_size: self.max_body_size,
                interceptors: self.interceptors,
                #[cfg(feature = "test-util")]
                mock: self.mock,
            },
            timeouts: self.timeouts,
            retry: self.retry,
            #[cfg(feature = "rate-limit")]
            limiter,
            hold_off: HoldOff::new(self.max_hold_off),
            connections: Arc::new(Slots::new(self.max_connections)),
        })
    }

    fn user_agent(&self) -> Result<HeaderValue, Error> {
        let mut ua = format!("{}/{} (snapsdk-runtime/{})", self.vendor.crate_name, self.vendor.crate_version, env!("CARGO_PKG_VERSION"));
        if let Some(s) = &self.user_agent_suffix {
            ua.push(' ');
            ua.push_str(s);
        }
        HeaderValue::from_str(&ua).map_err(|_| Error::Config("the User-Agent suffix is not a valid header value".into()))
    }

    /// Refuse a limit that would make every call fail or wait forever.
    fn check_limits(&self) -> Result<(), Error> {
        if self.retry.max_attempts == 0 {
            return Err(Error::Config("retry.max_attempts must be at least 1".into()));
        }
        for (name, d) in [
            ("connect", self.timeouts.connect),
            ("attempt", self.timeouts.attempt),
            ("operation", self.timeouts.operation),
            ("idle", self.timeouts.idle),
        ] {
            if d.is_zero() {
                return Err(Error::Config(format!("the {name} timeout is zero; every call would fail")));
            }
        }
        if self.max_connections == 0 {
            return Err(Error::Config("max_connections_per_host is zero; every call would wait forever".into()));
        }
        if self.max_body_size == 0 {
            return Err(Error::Config("max_body_size is zero; every answer with a body would fail".into()));
        }
        Ok(())
    }
}

/// What a built client shares with its clones.
pub(crate) struct ClientState {
    pub(crate) vendor: &'static VendorInfo,
    pub(crate) base_url: String,
    /// `base_url`, parsed once: each call's URL is this with its path and
    /// query set, so the host is not parsed (and IDNA-checked) per call.
    pub(crate) base: reqwest::Url,
    pub(crate) transport: Transport,
    pub(crate) timeouts: Timeouts,
    pub(crate) retry: RetryConfig,
    #[cfg(feature = "rate-limit")]
    pub(crate) limiter: Option<Limiter>,
    /// Set by a 429/503 with `Retry-After`: no request starts before then.
    pub(crate) hold_off: HoldOff,
    /// One permit per request in flight (per host: a client talks to one origin).
    pub(crate) connections: Arc<Slots>,
}

/// The base URL without its trailing `/`, and parsed: `http(s)://host[/prefix]`,
/// without a user name, password, query or fragment, and not plain `http`
/// to a non-loopback host when credentials would go along (unless allowed).
fn checked_base(base_url: &str, has_credentials: bool, allow_insecure_http: bool) -> Result<(String, reqwest::Url), Error> {
    let base = base_url.trim_end_matches('/').to_owned();
    let shown = if base.contains('@') { "(not shown: it may hold a password)".to_owned() } else { format!("{base:?}") };
    let parsed = reqwest::Url::parse(&base)
        .map_err(|e| Error::Config(format!("base URL {shown} is not a URL ({e}); pass e.g. \"https://host\"")))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Error::Config(
            "the base URL carries a user name or password; pass credentials through the client builder's auth methods instead".into(),
        ));
    }
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(Error::Config(format!("base URL {base:?} must be http(s)://host[/prefix]")));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(Error::Config(format!("base URL {base:?} must not carry a query or fragment")));
    }
    if parsed.scheme() == "http" && has_credentials && !is_loopback(&parsed) && !allow_insecure_http {
        return Err(Error::Config(format!(
            "base URL {base:?} is plain http, so the credentials would cross the network unencrypted; use https \
             (http is allowed only for loopback addresses such as a local mock server)"
        )));
    }
    Ok((base, parsed))
}

/// The HTTP client: the caller's (refused when it could carry a key header
/// to another host), or one built with our connect timeout and no redirects.
fn http_client(source: Option<HttpSource>, credentials: Option<&Credentials>, connect: Duration) -> Result<reqwest::Client, Error> {
    let own = |b: reqwest::ClientBuilder| {
        b.connect_timeout(connect).redirect(reqwest::redirect::Policy::none()).build().map_err(|e| Error::Config(format!("HTTP client: {e}")))
    };
    match source {
        Some(HttpSource::Client(c)) => {
            if credentials.is_some_and(|c| !c.in_authorization()) {
                return Err(Error::Config(
                    "a reqwest::Client passed to `http_client` may follow a redirect to another host, carrying the key \
                     header with it; pass its reqwest::ClientBuilder to `http_client_builder` instead, so the runtime \
                     handles redirects"
                        .into(),
                ));
            }
            Ok(c)
        }
        Some(HttpSource::Builder(b)) => own(*b),
        None => own(crate::tls::http_client_builder()?),
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else { return false };
    let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}
