-- The developer portal: who owns each self-service sandbox client (the
-- client itself lives in `clients`, with origin 'sandbox'), and trace
-- lookups of refused requests in the audit log.
CREATE TABLE sandbox_clients (
    client_id TEXT PRIMARY KEY REFERENCES clients(id) ON DELETE CASCADE,
    owner_id TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX sandbox_clients_owner ON sandbox_clients(owner_id);
-- Test users a developer made for their sandbox clients.
CREATE TABLE sandbox_users (
    user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    owner_id TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX sandbox_users_owner ON sandbox_users(owner_id);
CREATE INDEX audit_events_trace ON audit_events(trace_id);
