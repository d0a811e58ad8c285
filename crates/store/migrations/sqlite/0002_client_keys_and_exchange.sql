-- private_key_jwt with inline keys, and per-client token exchange settings.
-- Inline public keys of the client, as a JWKS document (JSON text).
ALTER TABLE clients ADD COLUMN jwks TEXT;
-- RFC 8693 settings: {"subject_audiences": [...], "impersonation": bool}.
ALTER TABLE clients ADD COLUMN token_exchange TEXT NOT NULL DEFAULT '{}';
-- OIDC Back-Channel Logout 1.0: where the client receives logout tokens.
ALTER TABLE clients ADD COLUMN backchannel_logout_uri TEXT;
