//! The TLS setup of the runtime's own HTTP client.
//!
//! reqwest 0.13 uses rustls with the aws-lc-rs provider by default, whose
//! aws-lc-sys build is long and may need cmake. The runtime enables
//! reqwest's `rustls-no-provider` feature instead and hands reqwest a rustls
//! configuration built on the `ring` provider, with the operating system's
//! certificate verifier (`rustls-platform-verifier`, as reqwest's default).

use std::sync::Arc;

use crate::Error;

/// A `reqwest::ClientBuilder` with the runtime's TLS setup (rustls, `ring`
/// provider, the platform's certificate verifier, HTTP/2 and HTTP/1.1 by ALPN).
///
/// The way to a `reqwest` client of your own (proxies, TLS roots, pools) for
/// `http_client(..)` / `http_client_builder(..)`. `reqwest::Client::new()`
/// or `reqwest::Client::builder().build()` panics for want of a crypto
/// provider in a build where no reqwest TLS provider feature is on (the
/// runtime turns none on, to keep aws-lc-sys and cmake out), which is why
/// the runtime does not re-export `reqwest`. A plain `cargo add reqwest`
/// turns one on; then both ways work.
///
/// ```
/// let http = snapsdk_runtime::http_client_builder()?.pool_max_idle_per_host(4).build()?;
/// # let _ = http;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`Error::Config`] when the platform's certificate verifier cannot be set up.
pub fn http_client_builder() -> Result<reqwest::ClientBuilder, Error> {
    Ok(reqwest::Client::builder().tls_backend_preconfigured(rustls_config()?))
}

fn rustls_config() -> Result<rustls::ClientConfig, Error> {
    // rustls 0.23.48 deprecates `ring`'s provider because it has no
    // post-quantum key exchange (X25519MLKEM768 is in aws-lc-rs only). Kept
    // on purpose: aws-lc-rs is the long, cmake-prone build this runtime
    // avoids; connections use classical X25519 / P-256 key exchange (README,
    // "TLS"). An application that wants post-quantum exchange passes its
    // own reqwest client (`http_client`).
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone())
        .map_err(|e| Error::Config(format!("TLS certificate verifier: {e}")))?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("TLS versions: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    /// With only `rustls-no-provider`, reqwest panics in `build()` unless it is
    /// handed a provider; the runtime's builder must build.
    #[test]
    fn the_runtime_builder_builds_without_a_process_default_provider() {
        assert!(rustls::crypto::CryptoProvider::get_default().is_none());
        super::http_client_builder().unwrap().build().unwrap();
    }
}
