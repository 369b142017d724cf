-- Timeline events (member added/removed/left, renamed, created) take a seq in the conversation's stream like
-- messages: JSON of `protocol::TimelineEvent`, NULL for an ordinary message.
ALTER TABLE messages ADD COLUMN event TEXT;
-- How far the member's clients have received the conversation ("delivered" ticks); a read implies it.
ALTER TABLE memberships ADD COLUMN last_delivered_seq BIGINT NOT NULL DEFAULT 0;
