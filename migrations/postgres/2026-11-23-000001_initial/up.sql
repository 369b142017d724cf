-- Times are UTC without zone (TIMESTAMP) so the same diesel schema maps them on PostgreSQL and SQLite.
CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    -- Stored lower-cased: uniqueness and login are case-insensitive.
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL
);

CREATE TABLE refresh_tokens (
    id          BIGSERIAL PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- SHA-256 of the opaque token: a leaked table cannot be replayed.
    token_hash  TEXT NOT NULL UNIQUE,
    -- Every rotation keeps the family; presenting a spent token revokes the whole family.
    family_id   TEXT NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP,
    revoked_at  TIMESTAMP,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);

CREATE TABLE contacts (
    owner_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    contact_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (owner_id, contact_id),
    CHECK (owner_id <> contact_id)
);

CREATE TABLE conversations (
    id              BIGSERIAL PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('direct', 'group')),
    title           TEXT,
    created_by      BIGINT NOT NULL REFERENCES users (id),
    -- "<low id>:<high id>" for direct chats; UNIQUE makes the database keep one direct chat per pair.
    direct_key      TEXT UNIQUE,
    last_seq        BIGINT NOT NULL DEFAULT 0,
    last_message_at TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    CHECK ((kind = 'direct') = (direct_key IS NOT NULL))
);

CREATE TABLE memberships (
    conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    last_read_seq   BIGINT NOT NULL DEFAULT 0,
    joined_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);

CREATE TABLE messages (
    id              BIGSERIAL PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             BIGINT NOT NULL,
    sender_id       BIGINT NOT NULL REFERENCES users (id),
    body            TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    edited_at       TIMESTAMP,
    deleted_at      TIMESTAMP,
    UNIQUE (conversation_id, seq),
    -- One row per (conversation, client_id). client_id leads the index: resends are looked up by it.
    UNIQUE (client_id, conversation_id)
);
