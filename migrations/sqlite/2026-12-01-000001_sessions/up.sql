-- SQLite twin of the PostgreSQL migration. A session is one login (or registration) and the chain of refresh
-- tokens rotated from it; it replaces refresh_tokens.family_id.
CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
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
SELECT MIN(id), MIN(user_id), NULL, MIN(created_at), MAX(created_at), datetime(MIN(created_at), '+90 days'),
       CASE WHEN COUNT(revoked_at) = COUNT(*) THEN MAX(revoked_at) END
FROM refresh_tokens
GROUP BY family_id;

-- SQLite cannot change a table's columns in place: rebuild refresh_tokens with session_id instead of
-- family_id (and without revoked_at: a token is dead when its session is).
CREATE TABLE refresh_tokens_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id  BIGINT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    -- SHA-256 of the opaque token: a leaked table cannot be replayed.
    token_hash  TEXT NOT NULL UNIQUE,
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP,
    created_at  TIMESTAMP NOT NULL
);
INSERT INTO refresh_tokens_new (id, user_id, session_id, token_hash, expires_at, used_at, created_at)
SELECT t.id, t.user_id, (SELECT MIN(f.id) FROM refresh_tokens f WHERE f.family_id = t.family_id),
       t.token_hash, t.expires_at, t.used_at, t.created_at
FROM refresh_tokens t;
DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_new RENAME TO refresh_tokens;
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);
