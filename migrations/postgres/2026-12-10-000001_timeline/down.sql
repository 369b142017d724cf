ALTER TABLE memberships DROP COLUMN last_delivered_seq;
ALTER TABLE messages DROP COLUMN event;
