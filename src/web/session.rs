//! Who is asking: the session cookie, the signed-in user, the client address.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::db::{self, sessions::Client, sessions::SessionUser};
use crate::state::{AppState, Settings};
use crate::web::error::AppError;

pub const COOKIE_NAME: &str = "mockloop_session";
pub const LIFETIME: chrono::Duration = chrono::Duration::days(30);

/// A new random session token (256 bits) and the hash stored for it.
pub fn new_token() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_token(&token);
    (token, hash)
}

pub fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The session token from the request's cookies, if any.
pub fn token_from(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE_NAME)?.strip_prefix('='))
        .filter(|token| !token.is_empty())
}

/// The id hash of the request's session (signed in or not), as stored.
pub fn session_hash(headers: &HeaderMap) -> Option<Vec<u8>> {
    token_from(headers).map(hash_token)
}

pub fn set_cookie(settings: &Settings, token: &str) -> HeaderValue {
    cookie(settings, token, LIFETIME.num_seconds())
}

pub fn clear_cookie(settings: &Settings) -> HeaderValue {
    cookie(settings, "", 0)
}

fn cookie(settings: &Settings, value: &str, max_age: i64) -> HeaderValue {
    let secure = if settings.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{COOKIE_NAME}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"))
        .unwrap_or_else(|_| HeaderValue::from_static("mockloop_session=; Path=/; Max-Age=0"))
}

/// The signed-in user, or `None` for a visitor; looked up once per request.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub Option<SessionUser>);

impl<S> FromRequestParts<S> for CurrentUser
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(cached) = parts.extensions.get::<CurrentUser>() {
            return Ok(cached.clone());
        }
        let user = match token_from(&parts.headers) {
            Some(token) => signed_in_user(&AppState::from_ref(state), hash_token(token)).await?,
            None => None,
        };
        let current = CurrentUser(user);
        parts.extensions.insert(current.clone());
        Ok(current)
    }
}

/// The user the session whose id hash is `hash` signs in: held in memory
/// (`crate::sessions_held`) or read, and then held.
async fn signed_in_user(state: &AppState, hash: Vec<u8>) -> Result<Option<SessionUser>, sqlx::Error> {
    let held = state.live.sessions();
    if let Some(user) = held.get(&hash) {
        return Ok(Some(user));
    }
    let mark = held.mark();
    let Some(found) = db::sessions::find_user(&state.db, &hash).await? else { return Ok(None) };
    held.keep(mark, hash, found.user.clone(), found.expires_at);
    Ok(Some(found.user))
}

/// Ends the session whose id hash is `hash` (signing out). This instance
/// forgets it at once; the others when the ending is announced.
pub async fn end_one(state: &AppState, hash: &[u8]) -> Result<(), sqlx::Error> {
    db::sessions::delete(&state.db, hash).await?;
    state.live.sessions().forget_session(hash);
    Ok(())
}

/// A handler argument that requires a signed-in user; visitors are sent to
/// the sign-in page and brought back afterwards.
#[derive(Debug, Clone)]
pub struct SignedIn(pub SessionUser);

pub enum SignInRequired {
    Redirect(String),
    Error(AppError),
}

impl IntoResponse for SignInRequired {
    fn into_response(self) -> Response {
        match self {
            SignInRequired::Redirect(next) => {
                let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
                Redirect::to(&format!("/signin?{query}")).into_response()
            }
            SignInRequired::Error(error) => error.into_response(),
        }
    }
}

impl<S> FromRequestParts<S> for SignedIn
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = SignInRequired;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match CurrentUser::from_request_parts(parts, state).await {
            Ok(CurrentUser(Some(user))) => Ok(SignedIn(user)),
            Ok(CurrentUser(None)) => {
                let next = parts.uri.path_and_query().map_or("/", |pq| pq.as_str()).to_owned();
                Err(SignInRequired::Redirect(next))
            }
            Err(error) => Err(SignInRequired::Error(error)),
        }
    }
}

/// The client's address, for throttling: the peer address, or the last
/// X-Forwarded-For hop when configured to run behind a reverse proxy.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl<S> FromRequestParts<S> for ClientIp
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let settings = AppState::from_ref(state).settings.clone();
        let forwarded = settings
            .behind_proxy
            .then(|| {
                parts.headers.get("x-forwarded-for")?.to_str().ok()?.rsplit(',').next().map(|ip| ip.trim().to_owned())
            })
            .flatten();
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip().to_string());
        Ok(ClientIp(forwarded.or(peer).unwrap_or_else(|| "unknown".to_owned())))
    }
}

/// The browser asking, as a new session records it for the sessions list.
pub fn client(headers: &HeaderMap, ClientIp(address): ClientIp) -> Client {
    let user_agent =
        headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(|v| v.chars().take(300).collect());
    let address = Some(address).filter(|a| a != "unknown").map(|a| a.chars().take(64).collect());
    Client { user_agent, address }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_token_is_found_among_other_cookies() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("theme=dark; mockloop_session=abc123; x=y"));
        assert_eq!(token_from(&headers), Some("abc123"));
    }
}
