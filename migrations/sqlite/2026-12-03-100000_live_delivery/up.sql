-- See the PostgreSQL twin. SQLite cannot drop a table's inline UNIQUE constraint, so messages is rebuilt
-- (nothing references it, so no foreign key has to be switched off).
ALTER TABLE conversations ADD COLUMN version BIGINT NOT NULL DEFAULT 0;

CREATE TABLE messages_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             BIGINT NOT NULL,
    sender_id       BIGINT NOT NULL REFERENCES users (id),
    body            TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    edited_at       TIMESTAMP,
    deleted_at      TIMESTAMP,
    UNIQUE (conversation_id, seq),
    -- One row per (conversation, sender, client_id). client_id leads the index: resends are looked up by it.
    UNIQUE (client_id, conversation_id, sender_id)
);
INSERT INTO messages_new (id, conversation_id, seq, sender_id, body, client_id, created_at, edited_at, deleted_at)
    SELECT id, conversation_id, seq, sender_id, body, client_id, created_at, edited_at, deleted_at FROM messages;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
