-- Real-time authorization: versioned Cedar policies, the entity directory
-- (subject and resource attributes, roles as parents), capabilities and
-- identity-signal receipts.

-- Every change of the policy set is a new version; the newest is active.
CREATE TABLE policy_versions (
    version INTEGER PRIMARY KEY AUTOINCREMENT,
    schema_text TEXT NOT NULL,
    policies_text TEXT NOT NULL,
    -- SHA-256 (hex) of schema and policies: re-applying the same files at
    -- start adds no version.
    digest TEXT NOT NULL,
    -- Who made it: 'config', 'admin' or 'cli'.
    source TEXT NOT NULL,
    comment TEXT,
    created_at BIGINT NOT NULL
);

-- Attributes and parents (roles, groups, folders) of subjects and
-- resources, keyed by their Cedar type and id.
CREATE TABLE authz_entities (
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    -- JSON object of attribute values.
    attributes TEXT NOT NULL,
    -- JSON object: attribute -> time of the signal that set it, so an older
    -- signal never overwrites a newer one.
    attribute_times TEXT NOT NULL,
    -- JSON array of {"type", "id"}.
    parents TEXT NOT NULL,
    -- Bumped by every write: concurrent signal merges compare and swap.
    revision BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (entity_type, entity_id)
);

-- Explicit, expiring grants of one action on one resource to one subject.
CREATE TABLE capabilities (
    id TEXT PRIMARY KEY,
    subject_type TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    action TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    -- '*' for every resource of the type.
    resource_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    note TEXT
);
CREATE INDEX capabilities_subject ON capabilities(subject_type, subject_id);
CREATE INDEX capabilities_expiry ON capabilities(expires_at);

-- Signals already applied, by source and event id (idempotency), kept for
-- the replay window.
CREATE TABLE signal_receipts (
    source TEXT NOT NULL,
    event_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (source, event_id)
);
CREATE INDEX signal_receipts_expiry ON signal_receipts(expires_at);
