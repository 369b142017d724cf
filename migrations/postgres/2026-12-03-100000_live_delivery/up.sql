-- Every change of a conversation's membership or metadata bumps its version, under the same row lock that
-- hands out message seqs: live delivery stamps events with it, and an instance whose routing is older than a
-- stamp waits for the change (or reads it) before it delivers.
ALTER TABLE conversations ADD COLUMN version BIGINT NOT NULL DEFAULT 0;

-- A client_id is the sender's own idempotency key: another member reusing it is a different message.
ALTER TABLE messages DROP CONSTRAINT messages_client_id_conversation_id_key;
ALTER TABLE messages ADD CONSTRAINT messages_client_id_conversation_id_sender_id_key
    UNIQUE (client_id, conversation_id, sender_id);
