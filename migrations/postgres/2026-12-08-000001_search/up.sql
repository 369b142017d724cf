-- Message search. The body is split into words at anything that is not a letter or digit (as SQLite's FTS5
-- unicode61 tokenizer does, so both backends find the same messages), lowercased by the 'simple' configuration
-- (no stemming, no stop words: chat is multilingual). A generated column follows every insert, edit and
-- tombstone (its body is '') without the write path spelling it.
ALTER TABLE messages ADD COLUMN body_tsv tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', regexp_replace(body, '[[:punct:][:space:]]+', ' ', 'g'))) STORED;
CREATE INDEX messages_body_tsv_idx ON messages USING GIN (body_tsv);
