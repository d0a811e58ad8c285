-- Every committed change-feed row wakes the other nodes at once
-- (LISTEN latchkey_changes); the feed table stays the source of truth and
-- nodes still poll it, so a missed notification only costs latency.
CREATE FUNCTION latchkey_notify_changes() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('latchkey_changes', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER events_notify AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION latchkey_notify_changes();
