//! TLS set-up: rustls on the `ring` provider with the platform verifier (the OS trust store on
//! Android and iOS), plus an optional extra CA (PEM) for development servers on the desktop.

use std::sync::Arc;

use super::FetchError;

pub(super) fn tls_config(extra_ca_pem: Option<&[u8]>) -> Result<rustls::ClientConfig, FetchError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = platform_verifier(extra_ca_pem, provider.clone())?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| FetchError::Setup(format!("TLS versions: {e}")))?
        // "dangerous" is rustls' name for any custom verifier; this one is the platform's.
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    // A preconfigured config gets no ALPN from reqwest; offer both protocols it speaks.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(not(target_os = "android"))]
fn platform_verifier(
    extra_ca_pem: Option<&[u8]>,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<rustls_platform_verifier::Verifier, FetchError> {
    use rustls_platform_verifier::Verifier;
    let verifier = match extra_ca_pem {
        None => Verifier::new(provider),
        Some(pem) => {
            let roots = rustls_pemfile::certs(&mut &pem[..])
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| FetchError::Setup(format!("extra CA PEM: {e}")))?;
            if roots.is_empty() {
                return Err(FetchError::Setup(
                    "extra CA PEM holds no certificate".to_owned(),
                ));
            }
            Verifier::new_with_extra_roots(roots, provider)
        }
    };
    verifier.map_err(|e| FetchError::Setup(format!("platform verifier: {e}")))
}

#[cfg(target_os = "android")]
fn platform_verifier(
    extra_ca_pem: Option<&[u8]>,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<rustls_platform_verifier::Verifier, FetchError> {
    // Android's verifier asks the OS, which reads the app's network_security_config: that is
    // where a development CA belongs there.
    if extra_ca_pem.is_some() {
        return Err(FetchError::Setup(
            "extra CA is not supported on Android; trust it in network_security_config".to_owned(),
        ));
    }
    rustls_platform_verifier::Verifier::new(provider)
        .map_err(|e| FetchError::Setup(format!("platform verifier: {e}")))
}
