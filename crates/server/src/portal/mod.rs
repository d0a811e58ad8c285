//! The developer portal at `{issuer}/portal`: server-rendered pages in one
//! shell (`layout`), small ES modules for the tools that must run in the
//! browser (the JWT decoder never sends a token anywhere), and a JSON
//! backend under `/portal/api` for what needs the server (the decoder's
//! revocation check, trace lookup, the policy playground). Every asset is
//! embedded in the binary (`assets`): the portal needs no network but the
//! server's own.

pub mod access;
pub mod api;
pub mod assets;
pub mod catalogue;
pub mod config;
pub mod errors;
pub mod flows;
pub mod home;
pub mod layout;
pub mod pages;
pub mod playground;
pub mod sandbox;
pub mod signin;
pub mod trace;

use axum::routing::{get, post};

use crate::openapi::Routes;

/// A path parameter, or why it could not be read (e.g. not UTF-8): the
/// portal's handlers answer that with their own page or refusal, not the
/// extractor's plain-text 400.
pub(crate) type PathOf<T> = Result<axum::extract::Path<T>, axum::extract::rejection::PathRejection>;

/// The portal's routes, under the issuer's path `p`.
pub fn routes(p: &str) -> Routes {
    let at = |path: &str| format!("{p}/portal{path}");
    Routes::new()
        .route(&at(""), get(home::show))
        .route(&at("/assets/{name}"), get(assets::serve))
        // Browsers ask for it whatever the page says; an empty answer
        // instead of a 404 in every console.
        .route("/favicon.ico", get(assets::no_icon))
        .route(&at("/signin"), get(signin::start))
        .route(&at("/callback"), get(signin::callback))
        .route(&at("/signout"), post(signin::signout).get(signin::signout))
        .route(&at("/sandbox"), get(sandbox::show))
        .route(&at("/sandbox/clients"), post(sandbox::create_client))
        .route(&at("/sandbox/clients/{client_id}/delete"), post(sandbox::delete_client))
        .route(&at("/sandbox/users"), post(sandbox::create_user))
        .route(&at("/sandbox/users/{user_id}/delete"), post(sandbox::delete_user))
        .route(&at("/flows"), get(pages::flows))
        .route(&at("/jwt"), get(pages::jwt))
        .route(&at("/tools"), get(pages::tools))
        .route(&at("/playground"), get(pages::playground))
        .route(&at("/reference"), get(pages::reference))
        .route(&at("/catalogue"), get(catalogue::catalogue))
        .route(&at("/keys"), get(catalogue::keys))
        .route(&at("/docs/consent"), get(catalogue::consent_doc))
        .route(&at("/docs/policies"), get(catalogue::policies_doc))
        .route(&at("/errors"), get(errors::index))
        .route(&at("/errors/{code}"), get(errors::code))
        .route(&at("/errors/{code}/{cause}"), get(errors::cause))
        .route(&at("/trace"), get(trace::show))
        .route(&at("/openapi.json"), get(crate::openapi::serve))
        .route(&at("/api/token-state"), post(api::token_state))
        .route(&at("/api/playground"), get(playground::overview))
        .route(&at("/api/playground/evaluate"), post(playground::evaluate))
        .route(&at("/api/playground/replay"), post(playground::replay))
}
