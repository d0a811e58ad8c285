//! `grant_type=urn:ietf:params:oauth:grant-type:token-exchange` (RFC 8693):
//! a confidential client trades a subject token it legitimately holds for a
//! narrower token for one downstream API.
//!
//! The issued token is never broader than what it came from: scopes within
//! the subject token's and the client's, one target the client may address,
//! a lifetime within the subject token's, the subject's `sid`, `auth_time`,
//! `acr` and `amr` copied unchanged (so ending the session ends the whole
//! chain), and an `act` claim recording who acts for whom. No refresh token.
//! Whether the client may perform the exchange is [`ExchangePolicy`]'s call.

use axum::http::StatusCode;
use latchkey_crypto::jws;
use latchkey_domain::access_token::{AccessTokenClaims, Audience, TokenProblem};
use latchkey_domain::client::{ClientKind, GrantType, client_subject};
use latchkey_domain::params::Params;
use latchkey_domain::token_exchange::{
    self as exchange, ACCESS_TOKEN_TYPE, Actor, ExchangeDenied, ExchangeFacts, InputTokenType, MAX_ACTOR_DEPTH,
    TrustedIssuer,
};
use latchkey_domain::{Client, ErrorCode, ScopeSet, SecurityEvent, UnixTime};

use super::{invalid_grant, invalid_target, require_grant_type};
use crate::access_tokens::LEEWAY;
use crate::error::ApiError;
use crate::state::AppState;
use crate::tokens::{self, AuthContext, TokenResponse};

/// What the subject token says, whichever kind it was.
struct Subject {
    sub: String,
    aud: Audience,
    scopes: ScopeSet,
    exp: UnixTime,
    sid: Option<String>,
    auth_time: Option<UnixTime>,
    acr: Option<String>,
    amr: Vec<String>,
    act: Option<Actor>,
    may_act: Option<Actor>,
    /// Set when the subject token came from a trusted issuer, not from us.
    external: Option<TrustedIssuer>,
}

fn invalid_request(description: &str) -> ApiError {
    ApiError::bad_request(description)
}

pub async fn handle(state: &AppState, client: &Client, params: &Params) -> Result<TokenResponse, ApiError> {
    if client.kind == ClientKind::Public {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::UnauthorizedClient,
            "public clients cannot exchange tokens",
        ));
    }
    // Defence in depth: sandbox clients are registered without the grant,
    // and must never get it even if edited later.
    if client.origin == latchkey_domain::user::Origin::Sandbox {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::UnauthorizedClient,
            "sandbox clients cannot exchange tokens",
        ));
    }
    require_grant_type(client, GrantType::TokenExchange)?;
    let single = |name: &str| {
        params.single(name).map_err(|e| invalid_request(&e.to_string())).map(|v| v.filter(|s| !s.is_empty()))
    };
    let subject_token = single("subject_token")?.ok_or_else(|| invalid_request("subject_token is missing"))?;
    let subject_type = single("subject_token_type")?
        .ok_or_else(|| invalid_request("subject_token_type is missing"))
        .and_then(|t| InputTokenType::parse(t).map_err(|e| invalid_request(&e)))?;
    let actor_token = single("actor_token")?;
    let actor_type = single("actor_token_type")?;
    if let Some(requested) = single("requested_token_type")?
        && requested != ACCESS_TOKEN_TYPE
        && requested != exchange::JWT_TYPE
    {
        return Err(invalid_request("only access tokens can be issued (requested_token_type)"));
    }
    let target = target(params, client, state)?;
    let requested_scopes = single("scope")?
        .map(ScopeSet::parse)
        .transpose()
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidScope, e.to_string()))?;

    let now = UnixTime::now();
    let subject = match subject_type {
        InputTokenType::AccessToken => match trusted_issuer_of(state, subject_token) {
            Some(trusted) => subject_from_trusted_jwt(state, trusted, subject_token, now).await?,
            None => subject_from_access_token(state, subject_token).await?,
        },
        InputTokenType::IdToken => subject_from_id_token(state, client, subject_token, now).await?,
    };
    if let Some(sid) = &subject.sid
        && !state.caches.session_active(&state.store, sid, now).await?
    {
        return Err(invalid_grant("the subject token is not valid", "its session has ended"));
    }
    if subject.exp <= now {
        return Err(invalid_grant("the subject token is not valid", "expired"));
    }

    // Who acts: the actor token's subject, else the exchanging client
    // itself, unless it may impersonate and asked for no actor.
    let actor = match (actor_token, actor_type) {
        (Some(token), Some(t)) => Some(actor_from_token(state, client, token, t).await?),
        (Some(_), None) => return Err(invalid_request("actor_token_type is required with actor_token")),
        (None, Some(_)) => return Err(invalid_request("actor_token_type was sent without an actor_token")),
        (None, None) if client.token_exchange.impersonation => None,
        (None, None) => Some(Actor { sub: client_subject(&client.id), iss: None, client_id: None, act: None }),
    };
    let facts = ExchangeFacts {
        client,
        external_issuer: subject.external.as_ref(),
        subject_audience: &subject.aud,
        target: &target,
        impersonation: actor.is_none(),
    };
    match state.exchange_policy.allow(&facts) {
        Ok(()) => {}
        Err(ExchangeDenied::NotForThisClient(reason)) => {
            return Err(invalid_grant("the subject token was not issued for this client to exchange", reason));
        }
        Err(ExchangeDenied::Impersonation) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::UnauthorizedClient,
                "this client may not impersonate: send an actor_token, or have impersonation allowed",
            ));
        }
    }
    // With impersonation the client itself is the party acting.
    let acting = actor.as_ref().map_or_else(|| client_subject(&client.id), |a| a.sub.clone());
    if !exchange::may_act_allows(subject.may_act.as_ref(), &acting, state.issuer.as_str()) {
        return Err(invalid_grant("the subject token does not allow this actor (may_act)", acting));
    }
    let act = match actor {
        Some(a) => Some(a.on_top_of(subject.act.clone())),
        None => subject.act.clone(),
    };
    if act.as_ref().is_some_and(|a| a.depth() > MAX_ACTOR_DEPTH) {
        return Err(invalid_grant("the delegation chain is too long", format!("more than {MAX_ACTOR_DEPTH} actors")));
    }
    let scopes = exchange::narrow_scopes(requested_scopes.as_ref(), &subject.scopes, &client.scopes)
        .map_err(|d| ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidScope, d))?;
    if scopes.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidScope,
            "no scope is both in the subject token and allowed for this client",
        ));
    }

    let ctx = AuthContext {
        subject: subject.sub.clone(),
        session_id: subject.sid.clone(),
        auth_time: subject.auth_time,
        acr: subject.acr.clone(),
        amr: subject.amr.clone(),
        act: act.clone(),
        valid_until: Some(subject.exp),
    };
    // With `[authz] govern_issuance`, the policies decide what this token carries.
    let token_scopes = crate::authz::issuance::govern(
        state,
        client,
        &ctx,
        &scopes,
        Some(&target),
        "urn:ietf:params:oauth:grant-type:token-exchange",
    )
    .await?;
    let access = tokens::mint_access_token(state, client, &ctx, &token_scopes, Some(&target)).await?;
    state.metrics.tokens_issued.get_or_create(&crate::metrics::GrantLabels { grant_type: "token_exchange" }).inc();
    state.events.emit(SecurityEvent::TokenExchanged {
        client_id: client.id.clone(),
        subject: subject.sub,
        actor: act.map(|a| a.sub),
        audience: target,
        jti: access.jti.clone(),
    });
    Ok(TokenResponse {
        access_token: access.token,
        token_type: tokens::TOKEN_TYPE,
        expires_in: access.expires_in,
        scope: Some(token_scopes.to_string()),
        refresh_token: None,
        id_token: None,
        issued_token_type: Some(ACCESS_TOKEN_TYPE),
    })
}

/// RFC 8693 §2.1 lets `resource` and `audience` name several targets;
/// Latchkey issues a token for exactly one (the form parser refuses
/// repeats), which must be a registered API the client may address (RFC
/// 8707). `audience` takes the API's identifier too.
fn target(params: &Params, client: &Client, state: &AppState) -> Result<String, ApiError> {
    let targets: Vec<&str> = params.all("resource").chain(params.all("audience")).collect();
    let target = match targets.as_slice() {
        [] => return Err(invalid_request("name the API the new token is for with resource (or audience)")),
        [one] => *one,
        [first, second] if first == second => *first,
        _ => return Err(invalid_target("ask for one target per exchange")),
    };
    latchkey_domain::resource::check_target(target, client, &state.resources).map_err(|d| invalid_target(&d))?;
    Ok(target.to_string())
}

fn not_valid(problem: TokenProblem) -> ApiError {
    match problem {
        TokenProblem::CheckUnavailable(r) => ApiError::unavailable(r),
        other => invalid_grant("the subject token is not valid", other.to_string()),
    }
}

async fn subject_from_access_token(state: &AppState, token: &str) -> Result<Subject, ApiError> {
    let c: AccessTokenClaims = crate::access_tokens::verify(state, token).await.map_err(not_valid)?;
    Ok(Subject {
        scopes: c.scopes(),
        sub: c.sub,
        aud: c.aud,
        exp: UnixTime(c.exp),
        sid: c.sid,
        auth_time: c.auth_time.map(UnixTime),
        acr: c.acr,
        amr: c.amr.unwrap_or_default(),
        act: c.act,
        may_act: c.may_act,
        external: None,
    })
}

/// An ID token names a signed-in user to the client it was issued to; only
/// that client may exchange it, and the token gets no more than the user
/// consented to for that client.
async fn subject_from_id_token(
    state: &AppState,
    client: &Client,
    token: &str,
    now: UnixTime,
) -> Result<Subject, ApiError> {
    let c = crate::tokens::verify_id_token_signature(state, token)
        .map_err(|reason| invalid_grant("the subject token is not valid", reason))?;
    if now.minus(LEEWAY) >= UnixTime(c.exp) {
        return Err(invalid_grant("the subject token is not valid", "expired"));
    }
    if c.aud != client.id {
        return Err(invalid_grant(
            "an ID token can only be exchanged by the client it was issued to",
            format!("ID token audience {} is not client {}", c.aud, client.id),
        ));
    }
    let consented = state.store.get_consent(&c.sub, &client.id).await?.unwrap_or_default();
    let scopes = ScopeSet::parse(&consented).map_err(ApiError::internal)?;
    Ok(Subject {
        sub: c.sub,
        aud: Audience::One(client.id.clone()),
        scopes,
        exp: UnixTime(c.exp),
        sid: c.sid,
        auth_time: Some(UnixTime(c.auth_time)),
        acr: c.acr,
        amr: c.amr,
        act: None,
        may_act: None,
        external: None,
    })
}

/// The actor token must be one of our access tokens, valid now, and issued
/// to the exchanging client: a client cannot borrow another party's token
/// to claim it acts as that party.
async fn actor_from_token(state: &AppState, client: &Client, token: &str, kind: &str) -> Result<Actor, ApiError> {
    if InputTokenType::parse(kind).map_err(|e| invalid_request(&e))? != InputTokenType::AccessToken {
        return Err(invalid_request("actor_token must be an access token"));
    }
    let invalid_actor = |reason: String| invalid_grant("the actor token is not valid", reason);
    let c = match crate::access_tokens::verify(state, token).await {
        Ok(c) => c,
        Err(TokenProblem::CheckUnavailable(r)) => return Err(ApiError::unavailable(r)),
        Err(p) => return Err(invalid_actor(p.to_string())),
    };
    if c.client_id != client.id {
        return Err(invalid_actor(format!("issued to client {}, not to {}", c.client_id, client.id)));
    }
    if let Some(sid) = &c.sid
        && !state.caches.session_active(&state.store, sid, UnixTime::now()).await?
    {
        return Err(invalid_actor("its session has ended".into()));
    }
    Ok(Actor { sub: c.sub, iss: None, client_id: Some(c.client_id), act: None })
}

/// The trusted issuer a JWT claims to come from, if it is not ours. Only a
/// routing decision: nothing in the token is trusted before its signature
/// is checked with that issuer's keys.
fn trusted_issuer_of<'s>(state: &'s AppState, token: &str) -> Option<&'s TrustedIssuer> {
    if state.config.trusted_issuers.is_empty() {
        return None;
    }
    let (_, payload, _) = jws::decode_unverified(token).ok()?;
    #[derive(serde::Deserialize)]
    struct Iss {
        iss: Option<String>,
    }
    let iss = serde_json::from_slice::<Iss>(&payload).ok()?.iss?;
    if iss == state.issuer.as_str() {
        return None;
    }
    state.config.trusted_issuers.iter().find(|t| t.issuer == iss)
}

/// A JWT from a trusted issuer: its signature by one of the keys at the
/// issuer's `jwks_uri`, `iss` exact, `aud` naming us, alive now. Its
/// subject moves into the issuer's own id space, its scopes are cut down
/// to what the issuer is trusted for.
async fn subject_from_trusted_jwt(
    state: &AppState,
    trusted: &TrustedIssuer,
    token: &str,
    now: UnixTime,
) -> Result<Subject, ApiError> {
    let invalid = |reason: String| invalid_grant("the subject token is not valid", reason);
    let verified = state
        .client_keys
        .verify(crate::client_keys::KeySource::Url(&trusted.jwks_uri), token)
        .await
        .map_err(|e| invalid(format!("keys of {}: {e}", trusted.issuer)))?;
    let c: ExternalClaims = serde_json::from_slice(&verified.payload).map_err(|e| invalid(format!("claims: {e}")))?;
    let expected_aud = trusted.audience.as_deref().unwrap_or(state.issuer.as_str());
    if c.iss != trusted.issuer {
        return Err(invalid("issuer mismatch".into()));
    }
    if !c.aud.as_ref().is_some_and(|a| a.contains(expected_aud)) {
        return Err(invalid(format!("its aud does not name {expected_aud}")));
    }
    let exp = c.exp.ok_or_else(|| invalid("no exp".into()))?;
    if now.minus(LEEWAY) >= UnixTime(exp) {
        return Err(invalid("expired".into()));
    }
    if c.nbf.is_some_and(|nbf| now.plus(LEEWAY) < UnixTime(nbf)) {
        return Err(invalid("not valid yet".into()));
    }
    let sub = c.sub.filter(|s| !s.is_empty()).ok_or_else(|| invalid("no sub".into()))?;
    let scopes = match c.scope.as_deref() {
        None => trusted.scopes.clone(),
        Some(s) => ScopeSet::parse(s).map_err(|e| invalid(e.to_string()))?.intersection(&trusted.scopes),
    };
    Ok(Subject {
        sub: trusted.subject(&sub),
        aud: Audience::One(expected_aud.to_string()),
        scopes,
        exp: UnixTime(exp),
        // Its sessions are the other issuer's business.
        sid: None,
        auth_time: c.auth_time.map(UnixTime),
        acr: c.acr,
        amr: c.amr.unwrap_or_default(),
        // Their actors live in their id space too.
        act: c.act.map(|a| in_issuer_space(trusted, a)),
        // `may_act` names who may act here: taken as written (with its
        // `iss`, if any, compared to ours).
        may_act: c.may_act,
        external: Some(trusted.clone()),
    })
}

fn in_issuer_space(trusted: &TrustedIssuer, actor: Actor) -> Actor {
    Actor {
        sub: trusted.subject(&actor.sub),
        iss: Some(trusted.issuer.clone()),
        client_id: actor.client_id,
        act: actor.act.map(|a| Box::new(in_issuer_space(trusted, *a))),
    }
}

/// The claims read from a trusted issuer's JWT.
#[derive(serde::Deserialize)]
struct ExternalClaims {
    iss: String,
    sub: Option<String>,
    aud: Option<Audience>,
    exp: Option<i64>,
    nbf: Option<i64>,
    scope: Option<String>,
    auth_time: Option<i64>,
    acr: Option<String>,
    amr: Option<Vec<String>>,
    act: Option<Actor>,
    may_act: Option<Actor>,
}
