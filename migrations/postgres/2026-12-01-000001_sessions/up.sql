-- A session is one login (or registration) and the chain of refresh tokens rotated from it: what its owner
-- sees as a device and can end. It replaces refresh_tokens.family_id.
CREATE TABLE sessions (
    id           BIGSERIAL PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The User-Agent at login (at most 120 characters), shown to the owner only.
    device       TEXT,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP NOT NULL,
    -- The absolute end (CHAT_SESSION_MAX_DAYS after login): refreshing never moves it.
    expires_at   TIMESTAMP NOT NULL,
    revoked_at   TIMESTAMP
);
CREATE INDEX sessions_user_idx ON sessions (user_id, last_used_at);
-- Every instance polls for sessions revoked since its last look.
CREATE INDEX sessions_revoked_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- One session per existing family, numbered after the family's first token so its tokens can find it. It is
-- revoked when every token of the family is; it ends 90 days (the default) after the family began.
INSERT INTO sessions (id, user_id, device, created_at, last_used_at, expires_at, revoked_at)
SELECT MIN(id), MIN(user_id), NULL, MIN(created_at), MAX(created_at), MIN(created_at) + INTERVAL '90 days',
       CASE WHEN COUNT(revoked_at) = COUNT(*) THEN MAX(revoked_at) END
FROM refresh_tokens
GROUP BY family_id;
SELECT setval(pg_get_serial_sequence('sessions', 'id'), COALESCE((SELECT MAX(id) FROM sessions), 0) + 1, false);

ALTER TABLE refresh_tokens ADD COLUMN session_id BIGINT REFERENCES sessions (id) ON DELETE CASCADE;
UPDATE refresh_tokens t SET session_id = (SELECT MIN(f.id) FROM refresh_tokens f WHERE f.family_id = t.family_id);
ALTER TABLE refresh_tokens ALTER COLUMN session_id SET NOT NULL;
-- A token is dead when its session is: revocation lives on the session alone.
DROP INDEX refresh_tokens_family_idx;
ALTER TABLE refresh_tokens DROP COLUMN family_id;
ALTER TABLE refresh_tokens DROP COLUMN revoked_at;
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);
