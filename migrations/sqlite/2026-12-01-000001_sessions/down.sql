-- Back to token families: one family per session, revoked with it.
CREATE TABLE refresh_tokens_old (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,
    family_id   TEXT NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP,
    revoked_at  TIMESTAMP,
    created_at  TIMESTAMP NOT NULL
);
INSERT INTO refresh_tokens_old (id, user_id, token_hash, family_id, expires_at, used_at, revoked_at, created_at)
SELECT t.id, t.user_id, t.token_hash, CAST(t.session_id AS TEXT), t.expires_at, t.used_at,
       (SELECT s.revoked_at FROM sessions s WHERE s.id = t.session_id), t.created_at
FROM refresh_tokens t;
DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_old RENAME TO refresh_tokens;
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
DROP TABLE sessions;
