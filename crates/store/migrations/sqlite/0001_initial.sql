-- Latchkey schema, SQLite flavour. Keep in step with ../postgres.
-- Times are Unix seconds (BIGINT); lists are JSON arrays in TEXT; flags are
-- BIGINT 0/1 (sqlx's Any driver cannot decode SQLite booleans).

CREATE TABLE meta (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

CREATE TABLE clients (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    secret_hash BLOB,
    redirect_uris TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    grant_types TEXT NOT NULL,
    scopes TEXT NOT NULL,
    audiences TEXT NOT NULL,
    auth_method TEXT NOT NULL,
    id_token_alg TEXT NOT NULL,
    access_token_ttl BIGINT,
    refresh_token_ttl BIGINT,
    id_token_ttl BIGINT,
    first_party BIGINT NOT NULL CHECK (first_party IN (0, 1)),
    -- Seconds in which a repeated refresh token gets a fresh successor
    -- instead of revoking its family; 0 = off.
    refresh_token_grace BIGINT NOT NULL DEFAULT 0,
    jwks_uri TEXT,
    origin TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    email TEXT,
    email_verified BIGINT NOT NULL CHECK (email_verified IN (0, 1)),
    name TEXT,
    password_hash TEXT,
    disabled BIGINT NOT NULL CHECK (disabled IN (0, 1)),
    origin TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE api_resources (
    identifier TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    access_token_ttl BIGINT,
    signing_alg TEXT,
    forwarded_claims TEXT NOT NULL,
    introspection_clients TEXT NOT NULL DEFAULT '[]',
    origin TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    -- PKCS#8, sealed with the master key (AES-256-GCM, kid as AAD).
    private_key BLOB NOT NULL,
    created_at BIGINT NOT NULL,
    publish_at BIGINT NOT NULL,
    activate_at BIGINT NOT NULL,
    retire_at BIGINT,
    unpublish_at BIGINT,
    revoked_at BIGINT
);

CREATE TABLE sessions (
    -- The public session id (the `sid` claim).
    id TEXT PRIMARY KEY,
    -- SHA-256 of the cookie secret; the cookie never carries the sid.
    secret_hash BLOB NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    auth_time BIGINT NOT NULL,
    acr TEXT,
    amr TEXT NOT NULL,
    user_agent TEXT,
    source_ip TEXT,
    expires_at BIGINT NOT NULL,
    ended_at BIGINT
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expiry ON sessions(expires_at);

-- One authorization of a client by a user: consent plus its refresh-token family.
CREATE TABLE grants (
    id TEXT PRIMARY KEY,
    user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    session_id TEXT,
    scopes TEXT NOT NULL,
    -- The authentication behind the grant, kept for every refresh
    -- (OIDC Core §12.2: refreshing never makes a login look fresher).
    auth_time BIGINT,
    acr TEXT,
    amr TEXT NOT NULL DEFAULT '[]',
    -- RFC 8707 resource the grant's access tokens are for; NULL: the issuer.
    resource TEXT,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX grants_user ON grants(user_id);
CREATE INDEX grants_expiry ON grants(expires_at);

CREATE TABLE authorization_codes (
    code_hash BLOB PRIMARY KEY,
    client_id TEXT NOT NULL,
    grant_id TEXT NOT NULL,
    -- Everything the code is bound to, as JSON: redirect URI, PKCE challenge,
    -- nonce, scopes, session, auth time.
    binding TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    -- The access token the redemption issued, revoked if the code is replayed.
    access_jti TEXT,
    access_expires_at BIGINT
);
CREATE INDEX authorization_codes_grant ON authorization_codes(grant_id);
CREATE INDEX authorization_codes_expiry ON authorization_codes(expires_at);

CREATE TABLE refresh_tokens (
    token_hash BLOB PRIMARY KEY,
    grant_id TEXT NOT NULL REFERENCES grants(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    -- The token that replaced this one when it was used.
    replaced_by BLOB,
    -- The access token issued with this refresh token.
    access_jti TEXT,
    access_expires_at BIGINT
);
CREATE INDEX refresh_tokens_grant ON refresh_tokens(grant_id);
CREATE INDEX refresh_tokens_expiry ON refresh_tokens(expires_at);

-- What a user allowed a client: remembered per user and client; a request
-- for more scopes asks again.
CREATE TABLE consents (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

-- Authorization requests waiting for the user to sign in: the login step
-- continues through this server-side id, never a client-supplied URL.
CREATE TABLE auth_requests (
    id TEXT PRIMARY KEY,
    request TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX auth_requests_expiry ON auth_requests(expires_at);

-- JWT ids revoked before their expiry; swept once expired.
CREATE TABLE revoked_tokens (
    jti TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_expiry ON revoked_tokens(expires_at);

-- Single-use JWT ids seen (client assertions), for replay protection.
CREATE TABLE used_jtis (
    issuer TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, jti)
);
CREATE INDEX used_jtis_expiry ON used_jtis(expires_at);

-- Cross-node events (revocations, key and client changes).
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX events_created ON events(created_at);
