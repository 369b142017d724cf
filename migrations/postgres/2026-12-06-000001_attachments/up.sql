-- Files uploaded into a conversation, and the attachments a message carries.
CREATE TABLE attachments (
    id              BIGSERIAL PRIMARY KEY,
    -- What clients see: random, so ids cannot be enumerated.
    public_id       TEXT NOT NULL UNIQUE,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    uploader_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Set once, by the send that claims the upload (an upload belongs to one message at most).
    message_id      BIGINT REFERENCES messages (id) ON DELETE SET NULL,
    name            TEXT NOT NULL,
    -- Sniffed from the bytes, never taken from the client.
    content_type    TEXT NOT NULL,
    -- Bytes; while uploading, the bytes reserved against the uploader's quota.
    size            BIGINT NOT NULL,
    sha256          TEXT,
    width           BIGINT,
    height          BIGINT,
    thumbnail_type  TEXT,
    created_at      TIMESTAMP NOT NULL,
    -- NULL while the body is still arriving: such an upload cannot be sent.
    completed_at    TIMESTAMP,
    -- The stored object is gone (its message was deleted, or it was never sent); the row stays for the quota window.
    deleted_at      TIMESTAMP,
    CHECK (size >= 0)
);
-- The quota and in-flight counts read a user's recent uploads.
CREATE INDEX attachments_uploader_idx ON attachments (uploader_id, created_at);
CREATE INDEX attachments_message_idx ON attachments (message_id);
-- Garbage collection finds unsent uploads by age.
CREATE INDEX attachments_unsent_idx ON attachments (created_at) WHERE message_id IS NULL AND deleted_at IS NULL;

-- The metadata of a message's attachments, as JSON, written with the claim: every read of a message (history,
-- acks, fan-out) gets them without a second query. NULL: none.
ALTER TABLE messages ADD COLUMN attachments TEXT;
