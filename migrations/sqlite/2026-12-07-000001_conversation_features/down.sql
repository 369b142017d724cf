ALTER TABLE memberships DROP COLUMN muted_until;
ALTER TABLE memberships DROP COLUMN notify_level;
DROP TABLE pins;
DROP TABLE reactions;
DROP TABLE mentions;
DROP INDEX messages_replies_idx;
ALTER TABLE messages DROP COLUMN mentions;
ALTER TABLE messages DROP COLUMN reply_preview;
ALTER TABLE messages DROP COLUMN reply_to_seq;
