-- Who has blocked whom. Either direction stops new direct chats, group adds and contacts between the two.
CREATE TABLE blocks (
    blocker_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id),
    CHECK (blocker_id <> blocked_id)
);
-- Checks go both ways: "who blocked this user" is looked up by the blocked side.
CREATE INDEX blocks_blocked_idx ON blocks (blocked_id);
