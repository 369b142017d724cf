ALTER TABLE messages DROP CONSTRAINT messages_client_id_conversation_id_sender_id_key;
ALTER TABLE messages ADD CONSTRAINT messages_client_id_conversation_id_key UNIQUE (client_id, conversation_id);
ALTER TABLE conversations DROP COLUMN version;
