-- The audit log: one row per security event, written in batches by each
-- node's audit writer. Source addresses and user agents are cleared after
-- the configured network retention; rows are deleted after the retention.
CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms BIGINT NOT NULL,
    type TEXT NOT NULL,
    outcome TEXT NOT NULL,
    actor TEXT,
    subject TEXT,
    client_id TEXT,
    source_ip TEXT,
    user_agent TEXT,
    trace_id TEXT,
    node TEXT,
    details TEXT NOT NULL
);
CREATE INDEX audit_events_at ON audit_events(at_ms);
CREATE INDEX audit_events_subject ON audit_events(subject, id);
CREATE INDEX audit_events_client ON audit_events(client_id, id);
CREATE INDEX audit_events_type ON audit_events(type, id);
-- Only rows still holding network details: what the scrubber visits.
CREATE INDEX audit_events_network ON audit_events(at_ms) WHERE source_ip IS NOT NULL OR user_agent IS NOT NULL;
