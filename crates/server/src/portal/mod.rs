//! The developer portal at `{issuer}/portal`: server-rendered pages in one
//! shell (`layout`), small ES modules for the tools that must run in the
//! browser (the JWT decoder never sends a token anywhere), and a JSON
//! backend under `/portal/api` for what needs the server (the decoder's
//! revocation check, trace lookup, the policy playground). Every asset is
//! embedded in the binary (`assets`): the portal needs no network but the
//! server's own.

pub mod assets;
pub mod config;
pub mod flows;
pub mod home;
pub mod layout;
pub mod pages;
pub mod sandbox;
pub mod signin;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

/// The portal's routes, under the issuer's path `p`.
pub fn routes(p: &str) -> Router<AppState> {
    let at = |path: &str| format!("{p}/portal{path}");
    Router::new()
        .route(&at(""), get(home::show))
        .route(&at("/assets/{name}"), get(assets::serve))
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
        .route(&at("/errors"), get(crate::routes::error_reference::get))
}
