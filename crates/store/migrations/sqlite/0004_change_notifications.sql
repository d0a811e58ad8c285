-- PostgreSQL notifies other nodes of new change-feed rows (LISTEN/NOTIFY).
-- SQLite serves one node, which applies its own changes at once: nothing
-- to add here; the file keeps both migration histories in step.
SELECT 1;
