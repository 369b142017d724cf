-- Back to token families: one family per session, revoked with it.
ALTER TABLE refresh_tokens ADD COLUMN family_id TEXT;
ALTER TABLE refresh_tokens ADD COLUMN revoked_at TIMESTAMP;
UPDATE refresh_tokens t SET family_id = t.session_id::text,
    revoked_at = (SELECT s.revoked_at FROM sessions s WHERE s.id = t.session_id);
ALTER TABLE refresh_tokens ALTER COLUMN family_id SET NOT NULL;
DROP INDEX refresh_tokens_session_idx;
ALTER TABLE refresh_tokens DROP COLUMN session_id;
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
DROP TABLE sessions;
