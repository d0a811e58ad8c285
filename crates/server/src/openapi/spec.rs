//! The typed description of one operation, and its OpenAPI 3.1 JSON. The
//! area modules build `Operation`s with the small builders below, so each
//! entry of the table reads as: method, path, what it is, who may call it,
//! what it takes, what it answers.

use serde_json::{Map, Value, json};

use super::Context;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Options,
}

impl Method {
    /// The key of the operation in an OpenAPI path item.
    pub fn key(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Post => "post",
            Method::Put => "put",
            Method::Patch => "patch",
            Method::Delete => "delete",
            Method::Options => "options",
        }
    }
}

/// Where a path is served: under the issuer (everything of the issuer) or
/// at the root of the host (operations endpoints, RFC 8414 path insertion).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    Issuer,
    Root,
}

/// The groups of the reference, in the order it shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    Discovery,
    OAuth,
    SignIn,
    AuthZen,
    Signals,
    Admin,
    AdminAuthz,
    Audit,
    Operations,
    Portal,
    PortalApi,
    Sandbox,
}

impl Tag {
    pub const ALL: [Tag; 12] = [
        Tag::Discovery,
        Tag::OAuth,
        Tag::SignIn,
        Tag::AuthZen,
        Tag::Signals,
        Tag::Admin,
        Tag::AdminAuthz,
        Tag::Audit,
        Tag::Operations,
        Tag::Portal,
        Tag::PortalApi,
        Tag::Sandbox,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Tag::Discovery => "Discovery",
            Tag::OAuth => "OAuth 2.0 and OpenID Connect",
            Tag::SignIn => "Sign-in pages",
            Tag::AuthZen => "Authorization (AuthZEN)",
            Tag::Signals => "Identity signals",
            Tag::Admin => "Admin: keys, sessions, grants",
            Tag::AdminAuthz => "Admin: policies, entities, capabilities",
            Tag::Audit => "Admin: audit log",
            Tag::Operations => "Operations",
            Tag::Portal => "Portal",
            Tag::PortalApi => "Portal: script backend",
            Tag::Sandbox => "Development sandbox",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Tag::Discovery => {
                "Metadata documents (OpenID Connect Discovery, RFC 8414, AuthZEN) and the public signing keys."
            }
            Tag::OAuth => {
                "The protocol endpoints clients call: authorization, token, revocation (RFC 7009), introspection \
                 (RFC 7662), UserInfo, RP-initiated logout and the revocation feed for resource servers."
            }
            Tag::SignIn => {
                "Server-rendered HTML pages of the sign-in flow. Browsers reach them through /authorize; \
                 forms carry a CSRF value that must match the latchkey_csrf cookie."
            }
            Tag::AuthZen => {
                "OpenID AuthZEN Authorization API 1.0 on Cedar policies. A deny is 200 {\"decision\": false}; \
                 a malformed request is 400."
            }
            Tag::Signals => "Verification, KYC and fraud systems report what changed about a subject.",
            Tag::Admin => "Signing keys, and a user's sessions, grants, consents and second factor.",
            Tag::AdminAuthz => "Policy versions, the entity directory and capabilities of the decision point.",
            Tag::Audit => "The audit log, filtered and paged.",
            Tag::Operations => {
                "Liveness, readiness and metrics for orchestrators and scrapers, at the root of the host."
            }
            Tag::Portal => {
                "The developer portal: HTML pages (and this API description). Pages work signed out; \
                 sign-in goes through the portal's own client of this server."
            }
            Tag::PortalApi => {
                "JSON endpoints the portal's own scripts call, for a signed-in developer: every call needs the \
                 session cookie and the X-Latchkey-Portal header."
            }
            Tag::Sandbox => {
                "The development server's built-in relying party and simulated identity-verification provider. \
                 They answer 404 unless the server runs with --dev."
            }
        }
    }
}

/// Who may call an operation. Each maps to OpenAPI security requirements
/// (alternatives); `{}` among them means the credentials may also travel
/// in the body, or not at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    None,
    /// Token and revocation endpoints: HTTP Basic, or client_secret_post,
    /// private_key_jwt or a public client's client_id in the form.
    Client,
    /// Only HTTP Basic (a GET has no form to carry other credentials).
    ClientSecretBasic,
    /// A user's access token of this server with the openid scope.
    UserToken,
    Admin,
    Pep,
    PrivilegedPep,
    SignalSource,
    /// The browser's session cookie is required.
    Session,
    /// Works signed out; a session cookie personalises the answer.
    OptionalSession,
    /// `/metrics`: open on a loopback listener, admin otherwise.
    Metrics,
}

impl Security {
    fn requirements(self, ctx: &Context) -> Option<Value> {
        let admin = || vec![json!({ "admin_key": [] }), json!({ "access_token": [ctx.admin_scope] })];
        let list = match self {
            Security::None => return None,
            Security::Client => vec![json!({ "client_secret_basic": [] }), json!({})],
            Security::ClientSecretBasic => vec![json!({ "client_secret_basic": [] })],
            Security::UserToken => vec![json!({ "access_token": ["openid"] })],
            Security::Admin => admin(),
            Security::Pep => vec![json!({ "pep_key": [] }), json!({ "access_token": [ctx.pep_scope] })],
            Security::PrivilegedPep => {
                vec![json!({ "pep_key": [] }), json!({ "access_token": [ctx.pep_scope, ctx.privileged_scope] })]
            }
            Security::SignalSource => vec![json!({ "signal_source_key": [] })],
            Security::Session => vec![json!({ "session_cookie": [] })],
            Security::OptionalSession => vec![json!({ "session_cookie": [] }), json!({})],
            Security::Metrics if ctx.metrics_open => return None,
            Security::Metrics => admin(),
        };
        Some(Value::Array(list))
    }
}

/// The security schemes the requirements above name.
pub fn security_schemes(ctx: &Context) -> Value {
    json!({
        "client_secret_basic": {
            "type": "http",
            "scheme": "basic",
            "description": "client_secret_basic (RFC 6749 §2.3.1): the client id and secret, each form-urlencoded, \
                as HTTP Basic credentials. Clients registered for client_secret_post, private_key_jwt (RFC 7523) \
                or none send their credentials in the form instead (client_id, client_secret, client_assertion, \
                client_assertion_type); a client uses exactly the method it is registered for."
        },
        "access_token": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An RFC 9068 access token issued by this server (Authorization: Bearer <token>). The \
                scopes listed on an operation must be in the token. Admin and PEP tokens are client-credentials \
                tokens whose audience includes the issuer."
        },
        "admin_key": {
            "type": "http",
            "scheme": "bearer",
            "description": "The admin key the server was started with (LATCHKEY_ADMIN_KEY), as a bearer credential."
        },
        "pep_key": {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A policy enforcement point's key from [authz] peps, sent raw (Authorization: <key>, as \
                the AuthZEN interop harness does) or as Bearer <key>."
        },
        "signal_source_key": {
            "type": "http",
            "scheme": "bearer",
            "description": "A signal source's key from [authz] signal_sources. Sources with an hmac_secret also sign \
                the body (Latchkey-Signature header)."
        },
        "session_cookie": {
            "type": "apiKey",
            "in": "cookie",
            "name": ctx.session_cookie,
            "description": "The browser session this server set at sign-in."
        }
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum In {
    Query,
    Path,
    Header,
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: &'static str,
    pub location: In,
    pub required: bool,
    pub description: String,
    pub schema: Value,
}

impl Param {
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub fn schema(mut self, schema: Value) -> Self {
        self.schema = schema;
        self
    }

    fn to_json(&self) -> Value {
        let location = match self.location {
            In::Query => "query",
            In::Path => "path",
            In::Header => "header",
        };
        json!({
            "name": self.name,
            "in": location,
            "required": self.required,
            "description": self.description,
            "schema": self.schema,
        })
    }
}

fn param(name: &'static str, location: In, description: impl Into<String>) -> Param {
    Param { name, location, required: location == In::Path, description: description.into(), schema: string() }
}

pub fn query(name: &'static str, description: impl Into<String>) -> Param {
    param(name, In::Query, description)
}

pub fn path(name: &'static str, description: impl Into<String>) -> Param {
    param(name, In::Path, description)
}

pub fn header(name: &'static str, description: impl Into<String>) -> Param {
    param(name, In::Header, description)
}

pub const FORM: &str = "application/x-www-form-urlencoded";
pub const JSON: &str = "application/json";
pub const HTML: &str = "text/html";

#[derive(Debug, Clone)]
pub struct Body {
    pub media: &'static str,
    pub schema: Value,
}

#[derive(Debug, Clone)]
pub enum Reply {
    Inline {
        status: u16,
        description: String,
        content: Vec<(&'static str, Value)>,
        headers: Vec<&'static str>,
    },
    /// One of the shared error responses in `components.responses`.
    Shared {
        status: u16,
        name: &'static str,
    },
}

impl Reply {
    pub fn status(&self) -> u16 {
        match self {
            Reply::Inline { status, .. } | Reply::Shared { status, .. } => *status,
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Reply::Shared { name, .. } => json!({ "$ref": format!("#/components/responses/{name}") }),
            Reply::Inline { description, content, headers, .. } => {
                let mut out = json!({ "description": description });
                if !content.is_empty() {
                    let map: Map<String, Value> = content
                        .iter()
                        .map(|(media, schema)| (media.to_string(), json!({ "schema": schema })))
                        .collect();
                    out["content"] = Value::Object(map);
                }
                if !headers.is_empty() {
                    let map: Map<String, Value> = headers
                        .iter()
                        .map(|h| (h.to_string(), json!({ "$ref": format!("#/components/headers/{h}") })))
                        .collect();
                    out["headers"] = Value::Object(map);
                }
                out
            }
        }
    }
}

/// One method on one path.
#[derive(Debug, Clone)]
pub struct Operation {
    pub method: Method,
    pub base: Base,
    /// As registered on the router, relative to `base`; `{name}` segments
    /// are path parameters in both axum's and OpenAPI's syntax.
    pub path: String,
    pub id: &'static str,
    pub tag: Tag,
    pub summary: &'static str,
    pub description: String,
    pub security: Security,
    pub params: Vec<Param>,
    pub body: Option<Body>,
    pub replies: Vec<Reply>,
}

fn operation(method: Method, path: impl Into<String>, id: &'static str, tag: Tag, summary: &'static str) -> Operation {
    Operation {
        method,
        base: Base::Issuer,
        path: path.into(),
        id,
        tag,
        summary,
        description: String::new(),
        security: Security::None,
        params: Vec::new(),
        body: None,
        replies: Vec::new(),
    }
}

pub fn get(path: impl Into<String>, id: &'static str, tag: Tag, summary: &'static str) -> Operation {
    operation(Method::Get, path, id, tag, summary)
}

pub fn post(path: impl Into<String>, id: &'static str, tag: Tag, summary: &'static str) -> Operation {
    operation(Method::Post, path, id, tag, summary)
}

pub fn put(path: impl Into<String>, id: &'static str, tag: Tag, summary: &'static str) -> Operation {
    operation(Method::Put, path, id, tag, summary)
}

pub fn patch(path: impl Into<String>, id: &'static str, tag: Tag, summary: &'static str) -> Operation {
    operation(Method::Patch, path, id, tag, summary)
}

pub fn delete(path: impl Into<String>, id: &'static str, tag: Tag, summary: &'static str) -> Operation {
    operation(Method::Delete, path, id, tag, summary)
}

pub fn options(path: impl Into<String>, id: &'static str, tag: Tag, summary: &'static str) -> Operation {
    operation(Method::Options, path, id, tag, summary)
}

impl Operation {
    /// Served at the root of the host rather than under the issuer.
    pub fn at_root(mut self) -> Self {
        self.base = Base::Root;
        self
    }

    pub fn describe(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }

    pub fn security(mut self, security: Security) -> Self {
        self.security = security;
        self
    }

    pub fn param(mut self, p: Param) -> Self {
        self.params.push(p);
        self
    }

    pub fn params(mut self, ps: impl IntoIterator<Item = Param>) -> Self {
        self.params.extend(ps);
        self
    }

    /// A form body described by the named schema.
    pub fn form(mut self, schema: &str) -> Self {
        self.body = Some(Body { media: FORM, schema: schema_ref(schema) });
        self
    }

    /// A JSON body described by the named schema.
    pub fn json(mut self, schema: &str) -> Self {
        self.body = Some(Body { media: JSON, schema: schema_ref(schema) });
        self
    }

    pub fn reply(mut self, status: u16, description: impl Into<String>) -> Self {
        self.replies.push(Reply::Inline { status, description: description.into(), content: vec![], headers: vec![] });
        self
    }

    /// A reply with a body of `media` described by `schema`.
    pub fn reply_with(self, status: u16, description: impl Into<String>, media: &'static str, schema: Value) -> Self {
        self.reply_as(status, description, &[media], schema)
    }

    /// A reply whose body is one of `media`, each described by `schema`.
    pub fn reply_as(
        mut self,
        status: u16,
        description: impl Into<String>,
        media: &[&'static str],
        schema: Value,
    ) -> Self {
        let content = media.iter().map(|m| (*m, schema.clone())).collect();
        self.replies.push(Reply::Inline { status, description: description.into(), content, headers: vec![] });
        self
    }

    /// A JSON reply described by the named schema.
    pub fn reply_json(self, status: u16, description: impl Into<String>, schema: &str) -> Self {
        self.reply_with(status, description, JSON, schema_ref(schema))
    }

    /// An HTML page.
    pub fn reply_html(self, status: u16, description: impl Into<String>) -> Self {
        self.reply_with(status, description, HTML, schema_ref("HtmlPage"))
    }

    /// A `303 See Other` to the `Location` header.
    pub fn redirect(mut self, description: impl Into<String>) -> Self {
        self.replies.push(Reply::Inline {
            status: 303,
            description: description.into(),
            content: vec![],
            headers: vec!["Location"],
        });
        self
    }

    /// The shared error answers, by status (see `components.responses`).
    pub fn errors(mut self, statuses: &[u16]) -> Self {
        for status in statuses {
            let name = match status {
                400 => "BadRequest",
                401 => "Unauthorized",
                403 => "Forbidden",
                404 => "NotFound",
                409 => "Conflict",
                429 => "TooManyRequests",
                _ => "Unavailable",
            };
            self.replies.push(Reply::Shared { status: *status, name });
        }
        self
    }

    pub fn to_json(&self, ctx: &Context) -> Value {
        let mut out = json!({
            "operationId": self.id,
            "tags": [self.tag.name()],
            "summary": self.summary,
        });
        if !self.description.is_empty() {
            out["description"] = json!(self.description);
        }
        if let Some(security) = self.security.requirements(ctx) {
            out["security"] = security;
        }
        if !self.params.is_empty() {
            out["parameters"] = self.params.iter().map(Param::to_json).collect();
        }
        if let Some(body) = &self.body {
            out["requestBody"] = json!({ "required": true, "content": { body.media: { "schema": body.schema } } });
        }
        let mut replies = self.replies.clone();
        replies.sort_by_key(Reply::status);
        let responses: Map<String, Value> = replies.iter().map(|r| (r.status().to_string(), r.to_json())).collect();
        out["responses"] = Value::Object(responses);
        out
    }
}

/// `{"$ref": "#/components/schemas/<name>"}`.
pub fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

pub fn string() -> Value {
    json!({ "type": "string" })
}

/// Adds a description unless it is empty.
pub fn described(mut schema: Value, description: &str) -> Value {
    if !description.is_empty() {
        schema["description"] = json!(description);
    }
    schema
}

/// A string with a description, for schema properties.
pub fn text(description: &str) -> Value {
    described(string(), description)
}

pub fn integer(description: &str) -> Value {
    described(json!({ "type": "integer" }), description)
}

pub fn boolean(description: &str) -> Value {
    described(json!({ "type": "boolean" }), description)
}

/// Seconds since the Unix epoch.
pub fn time(description: &str) -> Value {
    json!({ "type": "integer", "format": "int64", "description": format!("{description} (Unix seconds)") })
}

/// A form or object schema from (name, schema) pairs, the listed ones required.
pub fn object(description: &str, required: &[&str], properties: &[(&str, Value)]) -> Value {
    let props: Map<String, Value> = properties.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    let mut out = described(json!({ "type": "object", "properties": props }), description);
    if !required.is_empty() {
        out["required"] = json!(required);
    }
    out
}
