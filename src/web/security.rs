//! Headers that every response carries, and cross-site request refusal.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::csrf::{CsrfLayer, ProtectionError};

use crate::web::error::ErrorPage;

/// No inline script or style, nothing from other origins, no framing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The round page's policy: the same, except that
/// - styles may also come from `<style>` elements carrying this response's
///   nonce: the code editor (CodeMirror) injects its theme as a `<style>`
///   element at run time and passes the nonce on (`EditorView.cspNonce`);
/// - WebAssembly may be compiled (`'wasm-unsafe-eval'`, which allows no
///   `eval` of script text) and workers started from this origin: the tests
///   run in Python (Pyodide) in a worker, and the whiteboard subsets its fonts
///   with WebAssembly in one.
pub fn round_page_policy(nonce: &str) -> String {
    CONTENT_SECURITY_POLICY.replacen("style-src 'self'", &format!("style-src 'self' 'nonce-{nonce}'"), 1).replacen(
        "script-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'",
        1,
    )
}

/// Powerful features a page may use: none, everywhere but on a round page with a call.
const PERMISSIONS_POLICY: &str = "camera=(), microphone=(), geolocation=(), interest-cohort=()";

/// A round page whose call the viewer may join: the camera and microphone,
/// for this origin only (no frame of another origin may ask for them).
const CALL_PERMISSIONS_POLICY: &str = "camera=(self), microphone=(self), geolocation=(), interest-cohort=()";

/// Lets `response` (a round page with its call) ask for the camera and microphone.
pub fn with_call_permissions(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(HeaderName::from_static("permissions-policy"), HeaderValue::from_static(CALL_PERMISSIONS_POLICY));
    response
}

/// The policy of a worker script (a worker obeys the policy its own script
/// came with, not its page's): Pyodide compiles WebAssembly and fetches its
/// files from this origin, and nothing else.
pub const WORKER_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     connect-src 'self'; object-src 'none'; base-uri 'none'";

/// A fresh nonce for one response: 128 random bits, base64.
pub fn new_nonce() -> String {
    use base64::Engine;
    let bytes: [u8; 16] = rand::random();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Sends `response` with `policy` instead of the site-wide one.
pub fn with_policy(mut response: Response, policy: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(policy) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// Adds the security headers to every response, errors included. A page that
/// set its own (stricter-or-equal, see [`round_page_policy`]) policy keeps it,
/// and so does a round page that allows its call ([`with_call_permissions`]).
pub async fn add_security_headers(secure: bool, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    }
    let permissions = HeaderName::from_static("permissions-policy");
    if !headers.contains_key(&permissions) {
        headers.insert(permissions, HeaderValue::from_static(PERMISSIONS_POLICY));
    }
    let fixed: [(HeaderName, &'static str); 4] = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if secure {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    response
}

/// For a page that shows a secret link: kept in no cache, so the link is not
/// on disk afterwards nor shown again by Back on a shared computer.
pub fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Refuses state-changing requests that a browser says came from another site
/// (Sec-Fetch-Site, falling back to Origin against Host; see also
/// [`refuse_origins_of_another_scheme`]).
pub fn csrf_layer() -> CsrfLayer<impl Fn(ProtectionError) -> Response + Clone> {
    CsrfLayer::new().with_rejection_response(|error: ProtectionError| {
        tracing::info!(reason = %error, "cross-site request refused");
        cross_site_refusal()
    })
}

fn cross_site_refusal() -> Response {
    ErrorPage::response(
        StatusCode::FORBIDDEN,
        "Request refused",
        "This form was sent from another site, so mockloop did not act on it. If you sent it yourself, go back, reload the page and try again.",
    )
}

/// The CSRF layer's Origin fallback (for browsers that send no
/// Sec-Fetch-Site) compares host and port only; this compares the scheme
/// too, against the scheme of the site's public address (`https` for
/// `--base-url https://…`): an `https` page posting to an `http` server, or
/// the other way round, is another site.
pub async fn refuse_origins_of_another_scheme(site_scheme: &'static str, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let fetch_metadata_sent = headers.get("sec-fetch-site").is_some_and(|value| !value.is_empty());
    let origin = headers.get(header::ORIGIN).and_then(|value| value.to_str().ok());
    if !safe && !fetch_metadata_sent && origin.is_some_and(|origin| is_of_another_scheme(origin, site_scheme)) {
        tracing::info!("cross-scheme request refused");
        return cross_site_refusal();
    }
    next.run(request).await
}

/// The scheme of a site's public address, `http` or `https`.
pub fn scheme_of(base_url: &str) -> &'static str {
    if base_url.get(..8).is_some_and(|start| start.eq_ignore_ascii_case("https://")) { "https" } else { "http" }
}

/// Whether an Origin header names a scheme other than the site's (an opaque
/// `null` origin is left to the CSRF layer, which refuses it).
fn is_of_another_scheme(origin: &str, site_scheme: &str) -> bool {
    origin.split_once("://").is_some_and(|(scheme, _)| !scheme.eq_ignore_ascii_case(site_scheme))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_round_page_policy_adds_only_a_style_nonce_webassembly_and_workers() {
        let policy = round_page_policy("abc");
        assert!(policy.contains("style-src 'self' 'nonce-abc';"));
        assert!(policy.contains("script-src 'self' 'wasm-unsafe-eval'; worker-src 'self';"));
        for refused in ["'unsafe-inline'", "'unsafe-eval'", "*", "http"] {
            assert!(!policy.contains(refused), "{refused} in {policy}");
            assert!(!WORKER_POLICY.contains(refused), "{refused} in {WORKER_POLICY}");
        }
        assert!(!CONTENT_SECURITY_POLICY.contains("wasm"));
        assert_ne!(new_nonce(), new_nonce());
    }

    #[test]
    fn only_the_call_policy_allows_the_camera_and_microphone_and_only_for_this_origin() {
        assert!(PERMISSIONS_POLICY.contains("camera=()") && PERMISSIONS_POLICY.contains("microphone=()"));
        assert!(
            CALL_PERMISSIONS_POLICY.contains("camera=(self)") && CALL_PERMISSIONS_POLICY.contains("microphone=(self)")
        );
        assert!(CALL_PERMISSIONS_POLICY.contains("geolocation=()"));
        assert!(!CALL_PERMISSIONS_POLICY.contains('*') && !CALL_PERMISSIONS_POLICY.contains("http"));
    }

    #[test]
    fn origins_are_compared_by_scheme() {
        for (origin, site, other) in [
            ("http://localhost", "http", false),
            ("HTTP://localhost", "http", false),
            ("https://localhost", "http", true),
            ("http://mockloop.example", "https", true),
            ("https://mockloop.example:8443", "https", false),
            ("null", "http", false),
        ] {
            assert_eq!(is_of_another_scheme(origin, site), other, "{origin} on {site}");
        }
        assert_eq!(scheme_of("https://mockloop.example"), "https");
        assert_eq!(scheme_of("HTTPS://mockloop.example"), "https");
        assert_eq!(scheme_of("http://127.0.0.1:8080"), "http");
    }
}
