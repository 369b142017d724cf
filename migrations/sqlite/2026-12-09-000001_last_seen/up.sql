-- When the user's last socket anywhere closed (shown to people who share a conversation with them).
ALTER TABLE users ADD COLUMN last_seen_at TIMESTAMP;
