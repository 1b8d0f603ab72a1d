//! Headers that every response carries, and cross-site request refusal.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::csrf::{CsrfLayer, ProtectionError};

use crate::error::ErrorPage;

/// No inline script or style, nothing from other origins, no framing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Adds the security headers to every response, errors included.
pub async fn add_security_headers(secure: bool, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let fixed: [(HeaderName, &'static str); 6] = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
        (HeaderName::from_static("permissions-policy"), "camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if secure {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    response
}

/// Refuses state-changing requests that a browser says came from another site
/// (Sec-Fetch-Site, falling back to Origin against Host).
pub fn csrf_layer() -> CsrfLayer<impl Fn(ProtectionError) -> Response + Clone> {
    CsrfLayer::new().with_rejection_response(|error: ProtectionError| {
        tracing::info!(reason = %error, "cross-site request refused");
        ErrorPage::response(
            StatusCode::FORBIDDEN,
            "Request refused",
            "This form was sent from another site, so mockloop did not act on it. If you sent it yourself, go back, reload the page and try again.",
        )
    })
}
