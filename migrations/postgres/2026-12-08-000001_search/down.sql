DROP INDEX messages_body_tsv_idx;
ALTER TABLE messages DROP COLUMN body_tsv;
