//! Static files, compiled into the binary so it runs from any directory.
//! URLs carry a content hash, so browsers may cache them forever.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::extract::Path;
use crate::state::AppState;
use crate::web::error::AppError;

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset { name: "app.css", content_type: "text/css; charset=utf-8", body: include_bytes!("../../static/app.css") },
    Asset {
        name: "common.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/common.js"),
    },
    Asset {
        name: "loop-form.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/loop-form.js"),
    },
    Asset {
        name: "round.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/round.js"),
    },
    Asset {
        name: "scorecard.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/scorecard.js"),
    },
    Asset { name: "favicon.svg", content_type: "image/svg+xml", body: include_bytes!("../../static/favicon.svg") },
];

pub fn router() -> Router<AppState> {
    Router::new().route("/static/{name}", get(serve_asset))
}

/// `/static/<name>?v=<hash of its content>`, computed once per asset.
pub fn url(name: &str) -> &'static str {
    static URLS: OnceLock<HashMap<&'static str, String>> = OnceLock::new();
    let urls = URLS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|asset| {
                let hash = crate::content::content_hash(&String::from_utf8_lossy(asset.body));
                (asset.name, format!("/static/{}?v={hash}", asset.name))
            })
            .collect()
    });
    urls.get(name).map_or("/static/missing", String::as_str)
}

async fn serve_asset(Path(name): Path<String>) -> Result<Response, AppError> {
    let asset = ASSETS.iter().find(|asset| asset.name == name).ok_or(AppError::NotFound)?;
    let mut response = asset.body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    Ok(response)
}
