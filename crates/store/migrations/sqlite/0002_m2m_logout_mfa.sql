-- private_key_jwt with inline keys, and per-client token exchange settings.
-- Inline public keys of the client, as a JWKS document (JSON text).
ALTER TABLE clients ADD COLUMN jwks TEXT;
-- RFC 8693 settings: {"subject_audiences": [...], "impersonation": bool}.
ALTER TABLE clients ADD COLUMN token_exchange TEXT NOT NULL DEFAULT '{}';
-- OIDC Back-Channel Logout 1.0: where the client receives logout tokens.
ALTER TABLE clients ADD COLUMN backchannel_logout_uri TEXT;
-- Failed logins per account name and per source address (throttling).
CREATE TABLE login_failures (
    key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    blocked_until BIGINT NOT NULL,
    -- When the row stops mattering (window over and no pause pending).
    expires_at BIGINT NOT NULL
);
CREATE INDEX login_failures_expiry ON login_failures(expires_at);
-- TOTP second factor (RFC 6238): the secret sealed with the master key
-- (the user id as associated data); each time step is accepted once.
CREATE TABLE totp_credentials (
    user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    secret BLOB NOT NULL,
    confirmed BIGINT NOT NULL CHECK (confirmed IN (0, 1)),
    last_step BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
