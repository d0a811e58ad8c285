//! Reading parameters from query strings and form bodies into the domain's
//! [`Params`], refusing what the RFCs refuse.

use axum::http::{HeaderMap, header};
use latchkey_domain::params::Params;

use crate::error::ApiError;

pub fn parse_urlencoded(bytes: &[u8]) -> Params {
    Params::new(url::form_urlencoded::parse(bytes).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
}

/// A form body must be declared as one (RFC 6749 §4.1.3, OIDC Core §3.1.2.1).
pub fn require_form(headers: &HeaderMap) -> Result<(), ApiError> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
    if is_form { Ok(()) } else { Err(ApiError::bad_request("the body must be application/x-www-form-urlencoded")) }
}

/// A JSON body must be declared as one (the AuthZEN API, the portal's
/// backend).
pub fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if is_json { Ok(()) } else { Err(ApiError::bad_request("the request body must be application/json")) }
}

/// The parameters of a back-channel POST (token, revocation,
/// introspection): a form body only (RFC 6749 §3.2), nothing in the query
/// string (it ends up in logs), no repeated parameter. A repeated
/// `resource` (or RFC 8693 `audience`) is `invalid_target`: one target per
/// request is supported.
pub fn back_channel_form(uri: &axum::http::Uri, headers: &HeaderMap, body: &[u8]) -> Result<Params, ApiError> {
    if uri.query().is_some_and(|q| !q.is_empty()) {
        return Err(ApiError::bad_request("send the parameters in the form body, never in the query string"));
    }
    require_form(headers)?;
    let params = parse_urlencoded(body);
    match params.first_repeated() {
        Some("resource" | "audience") => Err(crate::grants::invalid_target("one target per request is supported")),
        Some(name) => Err(ApiError::bad_request(format!("parameter {name} is repeated"))),
        None => Ok(params),
    }
}

/// The token of an `Authorization: Bearer …` header. The scheme name is
/// case-insensitive (RFC 7235 §2.1). `None` when there is no header or it
/// uses another scheme: RFC 6750 §3.1 treats both as "no token".
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Cookie values by name, from the `Cookie` header(s).
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}
