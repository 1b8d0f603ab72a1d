//! Static files, compiled into the binary so it runs from any directory.
//! URLs carry a content hash, so browsers may cache them forever: single
//! files as `?v=<hash>`, the vendored libraries (`static/vendor/`) and the
//! workspace modules (`static/workspace/`) under a hashed folder
//! (`/static/vendor/<hash>/<path>`), so the relative URLs a module or worker
//! builds from `import.meta.url` stay inside the same version.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use include_dir::{Dir, include_dir};

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
        name: "notices.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/notices.js"),
    },
    Asset {
        name: "round-call.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/round-call.js"),
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

/// Built front-end libraries, with their checksum list (`SHA256SUMS`).
static VENDOR: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/static/vendor");
/// Our own modules for the round workspace (editor, runner, whiteboard).
static WORKSPACE: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/static/workspace");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/static/{name}", get(serve_asset))
        .route("/static/vendor/{hash}/{*path}", get(serve_vendor))
        .route("/static/workspace/{hash}/{*path}", get(serve_workspace))
}

/// The folder a tree is served under, named by the hash of its content.
struct Tree {
    dir: &'static Dir<'static>,
    hash: String,
    /// `/static/<tree>/<hash>/`
    prefix: String,
}

impl Tree {
    fn new(dir: &'static Dir<'static>, name: &str, hash: String) -> Tree {
        Tree { dir, prefix: format!("/static/{name}/{hash}/"), hash }
    }
}

fn vendor() -> &'static Tree {
    static TREE: OnceLock<Tree> = OnceLock::new();
    TREE.get_or_init(|| {
        // The checksum list names every file with its hash, so its own hash versions them all.
        let sums = VENDOR.get_file("SHA256SUMS").and_then(|file| file.contents_utf8()).unwrap_or_default();
        Tree::new(&VENDOR, "vendor", crate::content::content_hash(sums))
    })
}

fn workspace() -> &'static Tree {
    static TREE: OnceLock<Tree> = OnceLock::new();
    TREE.get_or_init(|| {
        let mut files: Vec<_> = WORKSPACE.files().collect();
        files.sort_by_key(|file| file.path());
        let listing: String = files
            .iter()
            .map(|file| {
                let body = crate::content::content_hash(&String::from_utf8_lossy(file.contents()));
                format!("{body}  {}\n", file.path().display())
            })
            .collect();
        Tree::new(&WORKSPACE, "workspace", crate::content::content_hash(&listing))
    })
}

/// The URL of the vendored folder, ending in `/` (`…/codemirror/code-editor.js` below it).
pub fn vendor_base() -> &'static str {
    &vendor().prefix
}

/// The URL of a workspace module (`round-code.js`, `python-worker.js`, …).
pub fn workspace_url(path: &str) -> String {
    format!("{}{path}", workspace().prefix)
}

/// The content type of a file served from a hashed tree; anything else is not served.
fn tree_content_type(path: &str) -> Option<&'static str> {
    let (_, extension) = path.rsplit_once('.')?;
    Some(match extension {
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "zip" => "application/zip",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        "py" => "text/plain; charset=utf-8",
        _ => return None,
    })
}

fn serve_tree(tree: &Tree, hash: &str, path: &str) -> Result<Response, AppError> {
    // An old hash is not served: its files are gone, and a new file under an old name would be cached forever.
    if hash != tree.hash {
        return Err(AppError::NotFound);
    }
    let content_type = tree_content_type(path).ok_or(AppError::NotFound)?;
    if path.split('/').any(|part| part.is_empty() || part == "." || part == "..") {
        return Err(AppError::NotFound);
    }
    let file = tree.dir.get_file(path).ok_or(AppError::NotFound)?;
    let mut response = immutable(file.contents(), content_type);
    if content_type.starts_with("text/javascript") {
        // Any of these scripts may start a worker, which runs under this policy.
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(super::security::WORKER_POLICY));
    }
    Ok(response)
}

async fn serve_vendor(Path((hash, path)): Path<(String, String)>) -> Result<Response, AppError> {
    serve_tree(vendor(), &hash, &path)
}

async fn serve_workspace(Path((hash, path)): Path<(String, String)>) -> Result<Response, AppError> {
    serve_tree(workspace(), &hash, &path)
}

fn immutable(body: &'static [u8], content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    response
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
    Ok(immutable(asset.body, asset.content_type))
}
