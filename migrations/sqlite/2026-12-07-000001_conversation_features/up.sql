-- SQLite twin of the PostgreSQL migration (which explains the columns).

-- A reply keeps the seq it answers and a preview of the original (JSON of protocol::ReplyPreview), so reading a
-- page of history needs no join; the write path keeps the preview in step when the original is edited or deleted.
-- `mentions` is the JSON array of the member ids the body mentions, resolved when stored or edited.
ALTER TABLE messages ADD COLUMN reply_to_seq BIGINT;
ALTER TABLE messages ADD COLUMN reply_preview TEXT;
ALTER TABLE messages ADD COLUMN mentions TEXT;
CREATE INDEX messages_replies_idx ON messages (conversation_id, reply_to_seq) WHERE reply_to_seq IS NOT NULL;

-- One row per mentioned member of a message: what a member's unread mention count is counted from.
CREATE TABLE mentions (
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             BIGINT NOT NULL,
    PRIMARY KEY (user_id, conversation_id, seq)
);
CREATE INDEX mentions_message_idx ON mentions (conversation_id, seq);

CREATE TABLE reactions (
    conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             BIGINT NOT NULL,
    emoji           TEXT NOT NULL,
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (conversation_id, seq, emoji, user_id)
);

CREATE TABLE pins (
    conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             BIGINT NOT NULL,
    pinned_by       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    pinned_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);

-- Per membership: which messages notify (all, mentions, nothing), until when (NULL: until changed).
ALTER TABLE memberships ADD COLUMN notify_level TEXT NOT NULL DEFAULT 'all'
    CHECK (notify_level IN ('all', 'mentions', 'nothing'));
ALTER TABLE memberships ADD COLUMN muted_until TIMESTAMP;
