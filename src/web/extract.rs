//! Request extractors that refuse with the app's own error pages (and a
//! plain message) instead of axum's bare-text rejections, which also quote
//! back whatever was sent.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::web::error::AppError;

/// `axum::Form`, except that a body it cannot read (garbled, incomplete, the
/// wrong type) gets the app's error page with a plain message, like every
/// other refusal, instead of axum's bare-text rejection.
pub struct Form<T>(pub T);

impl<T, S> FromRequest<S> for Form<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(request, state).await {
            Ok(axum::Form(value)) => Ok(Form(value)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(AppError::PayloadTooLarge(super::limits::OVERSIZED_FORM))
            }
            // The rejection's text can quote what was sent, so only its status is logged.
            Err(rejection) => {
                tracing::info!(status = %rejection.status(), "unreadable form refused");
                Err(AppError::BadRequest(
                    "The form arrived incomplete or garbled, so nothing was saved. Go back, reload the page and send it again.",
                ))
            }
        }
    }
}

/// `axum::extract::Path`, except that a segment that does not parse (an id
/// that is not a UUID, bytes that are not UTF-8) names nothing: 404.
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(_) => Err(AppError::NotFound),
        }
    }
}

/// `axum::Json`, with the app's own refusals as for [`Form`]: a body that is
/// not the JSON expected gets a plain message, never axum's quoted text.
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(AppError::PayloadTooLarge(super::limits::OVERSIZED_FORM))
            }
            Err(rejection) => {
                tracing::info!(status = %rejection.status(), "unreadable JSON refused");
                Err(AppError::BadRequest("The request was not the JSON this page sends, so nothing was saved."))
            }
        }
    }
}
