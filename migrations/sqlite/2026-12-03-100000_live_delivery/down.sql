CREATE TABLE messages_old (
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
    UNIQUE (client_id, conversation_id)
);
INSERT INTO messages_old SELECT id, conversation_id, seq, sender_id, body, client_id, created_at, edited_at, deleted_at
    FROM messages;
DROP TABLE messages;
ALTER TABLE messages_old RENAME TO messages;
ALTER TABLE conversations DROP COLUMN version;
