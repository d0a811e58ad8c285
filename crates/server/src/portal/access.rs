//! Who may see what on the portal. A developer sees the server-side state
//! of their own sandbox clients (and, on `--dev`, of the development
//! sandbox's); portal administrators (`[portal] admins`) see everything.

use latchkey_domain::User;
use latchkey_domain::user::Origin;

use crate::error::ApiError;
use crate::state::AppState;

pub fn is_admin(state: &AppState, user: &User) -> bool {
    state.config.portal.admins.iter().any(|a| a == &user.username)
}

/// Whether `user` may see the server's records about `client_id`.
pub async fn may_see_client(state: &AppState, user: &User, client_id: &str) -> Result<bool, ApiError> {
    if is_admin(state, user) {
        return Ok(true);
    }
    if state.store.sandbox_client_owner(client_id).await?.as_deref() == Some(user.id.as_str()) {
        return Ok(true);
    }
    if state.config.dev {
        let client = state.caches.clients.get(&state.store, client_id).await?;
        return Ok(client.is_some_and(|c| c.origin == Origin::Dev));
    }
    Ok(false)
}
