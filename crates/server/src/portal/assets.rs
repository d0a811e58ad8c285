//! The portal's static files, compiled into the binary so the portal works
//! with no network and cannot be served a tampered script from elsewhere.
//!
//! While working on the portal's scripts, `LATCHKEY_PORTAL_ASSETS=<dir>`
//! serves them from that directory instead (read per request, debug builds
//! only), so a change shows on reload without recompiling.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: &[Asset] = &[
    Asset { name: "portal.css", content_type: "text/css; charset=utf-8", body: include_str!("assets/portal.css") },
    Asset { name: "portal.js", content_type: "text/javascript; charset=utf-8", body: include_str!("assets/portal.js") },
    Asset { name: "jwt.js", content_type: "text/javascript; charset=utf-8", body: include_str!("assets/jwt.js") },
    Asset { name: "tools.js", content_type: "text/javascript; charset=utf-8", body: include_str!("assets/tools.js") },
    Asset { name: "flows.js", content_type: "text/javascript; charset=utf-8", body: include_str!("assets/flows.js") },
    Asset {
        name: "playground.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("assets/playground.js"),
    },
    Asset {
        name: "reference.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("assets/reference.js"),
    },
    Asset {
        name: "reference.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("assets/reference.css"),
    },
];

/// Page bodies that are mostly static markup for a script to bring to
/// life; trusted HTML, inserted into the shell as they are.
const FRAGMENTS: &[(&str, &str)] = &[
    ("jwt.html", include_str!("assets/jwt.html")),
    ("tools.html", include_str!("assets/tools.html")),
    ("flows.html", include_str!("assets/flows.html")),
    ("playground.html", include_str!("assets/playground.html")),
    ("reference.html", include_str!("assets/reference.html")),
];

/// A page body by name (from disk with `LATCHKEY_PORTAL_ASSETS`).
pub fn fragment(name: &str) -> String {
    let embedded = FRAGMENTS.iter().find(|(n, _)| *n == name).map(|(_, body)| *body).unwrap_or("");
    from_disk(name).unwrap_or_else(|| embedded.to_string())
}

/// The names of the embedded assets (for tests and the screenshots tool).
pub fn names() -> impl Iterator<Item = &'static str> {
    ASSETS.iter().map(|a| a.name)
}

fn from_disk(name: &str) -> Option<String> {
    if !cfg!(debug_assertions) {
        return None;
    }
    let dir = std::env::var_os("LATCHKEY_PORTAL_ASSETS")?;
    std::fs::read_to_string(std::path::Path::new(&dir).join(name)).ok()
}

pub async fn serve(Path(name): Path<String>) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let body = from_disk(asset.name).unwrap_or_else(|| asset.body.to_string());
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    // Short: a new binary's scripts must reach browsers soon after an upgrade.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    response
}

pub async fn no_icon() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    response
}
