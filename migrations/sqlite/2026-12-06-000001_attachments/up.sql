-- SQLite twin of the PostgreSQL migration (which explains the columns).
CREATE TABLE attachments (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id       TEXT NOT NULL UNIQUE,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    uploader_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_id      BIGINT REFERENCES messages (id) ON DELETE SET NULL,
    name            TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    size            BIGINT NOT NULL,
    sha256          TEXT,
    width           BIGINT,
    height          BIGINT,
    thumbnail_type  TEXT,
    created_at      TIMESTAMP NOT NULL,
    completed_at    TIMESTAMP,
    deleted_at      TIMESTAMP,
    CHECK (size >= 0)
);
CREATE INDEX attachments_uploader_idx ON attachments (uploader_id, created_at);
CREATE INDEX attachments_message_idx ON attachments (message_id);
CREATE INDEX attachments_unsent_idx ON attachments (created_at) WHERE message_id IS NULL AND deleted_at IS NULL;

ALTER TABLE messages ADD COLUMN attachments TEXT;
