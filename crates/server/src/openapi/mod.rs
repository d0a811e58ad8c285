//! The OpenAPI 3.1 description of every endpoint, served at
//! `{issuer}/portal/openapi.json` and rendered by the portal's API
//! reference.
//!
//! It is a hand-written, typed table (`spec::Operation`, one entry per
//! method and path, kept beside the area it describes: `oauth`, `authz`,
//! `admin`, `portal`) rather than annotations on handlers: the handlers read
//! raw bodies and answer per RFC, which derive macros would describe
//! worse, and a table is cheap to compile.
//!
//! The table cannot drift from the router unnoticed. Routes are registered
//! through [`Routes`], which remembers every path; the integration test
//! `crates/latchkey/tests/it/openapi.rs` holds the served document against
//! those paths (both ways) and against the methods the router answers (its
//! `Allow` header), and sends every described operation to a real server.

mod admin;
mod authz;
mod oauth;
mod portal;
pub mod spec;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use latchkey_domain::ErrorCode;
use serde_json::{Map, Value, json};

use crate::state::AppState;
use spec::{Base, Operation, Tag, object, schema_ref, text};

/// The router under construction, remembering the path of every route
/// registered on it. It offers only `route` and `merge` (of another
/// `Routes`), so every path served by `app` is in `paths()`, which the
/// OpenAPI test compares with the document.
#[derive(Default)]
pub struct Routes {
    router: axum::Router<AppState>,
    paths: Vec<String>,
}

impl Routes {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn route(mut self, path: &str, method_router: MethodRouter<AppState>) -> Self {
        self.paths.push(path.to_owned());
        self.router = self.router.route(path, method_router);
        self
    }

    pub fn merge(mut self, other: Routes) -> Self {
        self.paths.extend(other.paths);
        self.router = self.router.merge(other.router);
        self
    }

    /// Every registered path, in axum's syntax (`{param}`).
    pub fn paths(&self) -> &[String] {
        &self.paths
    }

    pub fn into_router(self) -> axum::Router<AppState> {
        self.router
    }
}

/// What the document depends on: the issuer, and the configuration that
/// changes who may call what.
#[derive(Debug, Clone)]
pub struct Context {
    pub issuer: String,
    /// The issuer's path ("" at the root).
    pub issuer_path: String,
    /// Scheme, host and port: where the root endpoints live.
    pub origin: String,
    pub admin_scope: String,
    pub pep_scope: String,
    pub privileged_scope: String,
    /// `/metrics` needs no credentials (a loopback listener, as `app` decides).
    pub metrics_open: bool,
    pub session_cookie: String,
}

impl Context {
    pub fn of(state: &AppState) -> Context {
        let issuer = state.issuer.as_str().to_owned();
        let origin =
            url::Url::parse(&issuer).map(|u| u.origin().ascii_serialization()).unwrap_or_else(|_| issuer.clone());
        Context {
            issuer_path: state.issuer.path().to_owned(),
            origin,
            admin_scope: state.config.admin_scope.clone(),
            pep_scope: state.config.authz.pep_scope.clone(),
            privileged_scope: state.config.authz.privileged_scope.clone(),
            metrics_open: state.config.listen.ip().is_loopback(),
            session_cookie: crate::session::session_cookie_name(state),
            issuer,
        }
    }
}

/// Every operation, in the order the reference lists them.
pub fn operations(ctx: &Context) -> Vec<Operation> {
    let mut ops = oauth::operations(ctx);
    ops.extend(authz::operations(ctx));
    ops.extend(admin::operations(ctx));
    ops.extend(portal::operations(ctx));
    ops
}

/// The whole OpenAPI 3.1 document.
pub fn document(ctx: &Context) -> Value {
    let mut paths = Map::new();
    for op in operations(ctx) {
        let item = paths.entry(op.path.clone()).or_insert_with(|| match op.base {
            Base::Issuer => json!({}),
            // Served beside the issuer, not under its path.
            Base::Root => json!({ "servers": [{ "url": ctx.origin, "description": "The root of this host" }] }),
        });
        item[op.method.key()] = op.to_json(ctx);
    }
    let mut schemas: Map<String, Value> = shared_schemas().into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    for (name, schema) in oauth::schemas(ctx)
        .into_iter()
        .chain(authz::schemas(ctx))
        .chain(admin::schemas(ctx))
        .chain(portal::schemas(ctx))
    {
        schemas.insert(name.to_owned(), schema);
    }
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "Latchkey",
            "version": env!("CARGO_PKG_VERSION"),
            "summary": "OAuth 2.0 / OpenID Connect authorization server with a real-time authorization API.",
            "description": INFO,
            "license": { "name": "Apache-2.0", "identifier": "Apache-2.0" },
        },
        "servers": [{ "url": ctx.issuer, "description": "This issuer" }],
        "tags": Tag::ALL.iter().map(|t| json!({ "name": t.name(), "description": t.description() })).collect::<Vec<_>>(),
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": shared_responses(),
            "headers": shared_headers(),
            "securitySchemes": spec::security_schemes(ctx),
        },
    })
}

const INFO: &str = "Every endpoint of this server. Errors are JSON in the RFC 6749 shape plus a trace id \
    (`error`, `error_description`, `error_uri` linking to the error reference, `trace_id`); the trace id \
    equals the response's `X-Request-Id` and locates the precise reason in the server log. Any endpoint \
    may also answer 405 (with `Allow`), 408 (timeout) or 413 (a body over 64 KiB) in that shape, and \
    pages of the sign-in flow answer HTML. Paths are relative to the issuer, except those that name \
    the root of the host as their server.";

pub async fn serve(State(state): State<AppState>) -> Response {
    let mut response = Json(document(&Context::of(&state))).into_response();
    // Changes only with the binary or the configuration.
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    response
}

fn shared_schemas() -> Vec<(&'static str, Value)> {
    let codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    vec![
        (
            "Error",
            object(
                "Every error (RFC 6749 §5.2 plus a trace id).",
                &["error", "error_description", "error_uri", "trace_id"],
                &[
                    ("error", json!({ "enum": codes })),
                    ("error_description", text("For the developer, in English.")),
                    (
                        "error_uri",
                        json!({ "type": "string", "format": "uri", "description": "The error reference's page for this code." }),
                    ),
                    ("trace_id", text("The request's X-Request-Id; quote it when reporting a problem.")),
                ],
            ),
        ),
        ("HtmlPage", json!({ "type": "string", "contentMediaType": "text/html", "description": "A page for people." })),
    ]
}

fn shared_responses() -> Value {
    let error = |description: &str, headers: &[&str]| {
        let mut out =
            json!({ "description": description, "content": { "application/json": { "schema": schema_ref("Error") } } });
        if !headers.is_empty() {
            let map: Map<String, Value> = headers
                .iter()
                .map(|h| (h.to_string(), json!({ "$ref": format!("#/components/headers/{h}") })))
                .collect();
            out["headers"] = Value::Object(map);
        }
        out
    };
    json!({
        "BadRequest": error("The request is malformed or refused (invalid_request, invalid_grant, invalid_scope, …).", &[]),
        "Unauthorized": error("Missing or wrong credentials (invalid_client, invalid_token).", &["WWW-Authenticate"]),
        "Forbidden": error("Authenticated, but not allowed (insufficient_scope, access_denied, unauthorized_client).", &["WWW-Authenticate"]),
        "NotFound": error("No such item (not_found).", &[]),
        "Conflict": error("Not possible in the current state (invalid_request).", &[]),
        "TooManyRequests": error("Over a rate limit (temporarily_unavailable).", &["Retry-After"]),
        "Unavailable": error("The store cannot be reached; retry later (temporarily_unavailable).", &[]),
    })
}

fn shared_headers() -> Value {
    let h = |description: &str| json!({ "description": description, "schema": { "type": "string" } });
    json!({
        "Location": h("Where to go next."),
        "Retry-After": h("Seconds to wait."),
        "WWW-Authenticate": h("RFC 6750 §3 / RFC 6749 §5.2 challenge."),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn ctx(issuer_path: &str) -> Context {
        Context {
            issuer: format!("https://auth.example.com{issuer_path}"),
            issuer_path: issuer_path.into(),
            origin: "https://auth.example.com".into(),
            admin_scope: "latchkey:admin".into(),
            pep_scope: "authzen".into(),
            privileged_scope: "authzen:privileged".into(),
            metrics_open: false,
            session_cookie: "__Host-latchkey_session".into(),
        }
    }

    /// Every `$ref` in `v`.
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r);
                }
                m.values().for_each(|x| refs(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }

    #[test]
    fn every_reference_resolves() {
        for p in ["", "/tenant"] {
            let doc = document(&ctx(p));
            let mut found = Vec::new();
            refs(&doc, &mut found);
            assert!(!found.is_empty());
            for r in found {
                let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("{r} is not local"));
                assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
            }
        }
    }

    #[test]
    fn operation_ids_are_unique_and_tags_declared() {
        let c = ctx("");
        let mut ids = BTreeSet::new();
        let mut keys = BTreeSet::new();
        for op in operations(&c) {
            assert!(ids.insert(op.id), "operationId {} twice", op.id);
            assert!(keys.insert((op.path.clone(), op.method)), "{:?} {} twice", op.method, op.path);
            assert!(Tag::ALL.contains(&op.tag));
            assert!(!op.replies.is_empty(), "{} has no response", op.id);
        }
    }

    /// The `{name}` segments of a path and its path parameters are the
    /// same set, and root and issuer paths never share a key.
    #[test]
    fn path_parameters_match_the_template() {
        for p in ["", "/tenant"] {
            let c = ctx(p);
            let mut bases = std::collections::BTreeMap::new();
            for op in operations(&c) {
                let in_path: BTreeSet<&str> =
                    op.path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect();
                let declared: BTreeSet<&str> =
                    op.params.iter().filter(|p| p.location == spec::In::Path).map(|p| p.name).collect();
                assert_eq!(in_path, declared, "{}", op.id);
                let base = *bases.entry(op.path.clone()).or_insert(op.base);
                assert_eq!(base, op.base, "{} is both a root and an issuer path", op.path);
            }
        }
    }

    #[test]
    fn document_has_the_openapi_31_essentials() {
        let doc = document(&ctx("/tenant"));
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["servers"][0]["url"], "https://auth.example.com/tenant");
        assert_eq!(
            doc["paths"]["/.well-known/oauth-authorization-server/tenant"]["servers"][0]["url"],
            "https://auth.example.com"
        );
        assert!(
            doc["paths"]["/token"]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"].is_object()
        );
        assert_eq!(doc["paths"]["/metrics"]["get"]["security"][0], json!({ "admin_key": [] }));
        for scheme in
            ["client_secret_basic", "access_token", "admin_key", "pep_key", "signal_source_key", "session_cookie"]
        {
            assert!(doc["components"]["securitySchemes"][scheme]["type"].is_string(), "{scheme}");
        }
        // At the root, the inserted OpenID metadata path is the appended one.
        let root = document(&ctx(""));
        assert!(root["paths"].get("/.well-known/openid-configuration").is_some());
        assert!(root["paths"]["/.well-known/openid-configuration"].get("servers").is_none());
    }
}
