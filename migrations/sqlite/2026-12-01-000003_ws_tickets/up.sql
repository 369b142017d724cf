-- Short-lived, single-use tickets for opening a WebSocket from a browser (GET /ws?ticket=…), so no long-lived
-- token sits in a URL. In the database so that any instance can redeem one.
CREATE TABLE ws_tickets (
    -- SHA-256 of the ticket: a leaked table cannot be replayed.
    ticket_hash TEXT PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id  BIGINT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    expires_at  TIMESTAMP NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX ws_tickets_user_idx ON ws_tickets (user_id, created_at);
CREATE INDEX ws_tickets_expiry_idx ON ws_tickets (expires_at);
