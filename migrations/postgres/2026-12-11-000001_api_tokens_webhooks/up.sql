-- API tokens are sessions of their own: a row here with the SHA-256 of the token's secret and its scopes (a
-- comma-separated list). Revoking one is revoking its session, so every instance refuses it and its sockets
-- close the way they do for any ended session. Login sessions leave both NULL.
ALTER TABLE sessions ADD COLUMN api_token_hash TEXT;
ALTER TABLE sessions ADD COLUMN scopes TEXT;
CREATE UNIQUE INDEX sessions_api_token_idx ON sessions (api_token_hash) WHERE api_token_hash IS NOT NULL;

-- Incoming webhooks: a secret URL that posts into one conversation as a bot user that is a member of it.
CREATE TABLE webhooks (
    id              BIGSERIAL PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    bot_user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    -- SHA-256 of the URL's secret: a leaked table cannot be replayed.
    secret_hash     TEXT NOT NULL UNIQUE,
    created_by      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      TIMESTAMP NOT NULL,
    revoked_at      TIMESTAMP
);
CREATE INDEX webhooks_conversation_idx ON webhooks (conversation_id);
CREATE INDEX webhooks_bot_idx ON webhooks (bot_user_id);
