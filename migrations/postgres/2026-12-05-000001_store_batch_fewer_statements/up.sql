-- chat_store_batch with fewer statements per send, each planned once per connection (README, Benchmarks):
-- * membership and resend are looked up in one statement (they were two);
-- * the function's statements use generic plans. PostgreSQL kept planning them anew on every call (its
--   heuristic found the custom plans no cheaper, so it never switched), which was a seventh of the call's CPU.
-- Same arguments, rows and rules as before (2026-12-04-000001_store_batch explains them).
CREATE OR REPLACE FUNCTION chat_store_batch(
    p_conversation_ids BIGINT[], p_sender_ids BIGINT[], p_client_ids TEXT[], p_bodies TEXT[], p_now TIMESTAMP)
RETURNS TABLE (
    ord BIGINT, outcome TEXT, version BIGINT,
    id BIGINT, conversation_id BIGINT, seq BIGINT, sender_id BIGINT, body TEXT, client_id TEXT,
    created_at TIMESTAMP, edited_at TIMESTAMP, deleted_at TIMESTAMP)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    conv_ids BIGINT[];
    last_seqs BIGINT[];
    versions BIGINT[];
    direct_keys TEXT[];
    first_seqs BIGINT[];
    -- Each (conversation, sender) with new messages, and the newest seq the sender stored there.
    read_keys TEXT[] := '{}';
    read_convs BIGINT[] := '{}';
    read_senders BIGINT[] := '{}';
    read_seqs BIGINT[] := '{}';
    is_member BOOLEAN;
    k INT;
    j INT;
    peer BIGINT;
    key TEXT;
BEGIN
    -- Lock first, in id order so that two batches over the same conversations queue instead of deadlocking. A
    -- locked row is read in its newest committed version; membership changes bump the version under the same
    -- row lock, so every statement after this one (each takes a fresh snapshot) sees a membership nobody can
    -- change before this function's transaction commits.
    SELECT array_agg(c.id), array_agg(c.last_seq), array_agg(c.version), array_agg(c.direct_key)
    INTO conv_ids, last_seqs, versions, direct_keys
    FROM (SELECT id, last_seq, version, direct_key FROM conversations
          WHERE id = ANY (p_conversation_ids) ORDER BY id FOR UPDATE) c;
    first_seqs := last_seqs;

    FOR i IN 1 .. coalesce(array_length(p_conversation_ids, 1), 0) LOOP
        ord := i;
        outcome := NULL; version := NULL;
        k := array_position(conv_ids, p_conversation_ids[i]);
        -- Is the sender a member, and did they use this client_id here before (also earlier in this batch)?
        SELECT EXISTS (SELECT 1 FROM memberships m
                       WHERE m.conversation_id = p_conversation_ids[i] AND m.user_id = p_sender_ids[i]),
               x.id, x.conversation_id, x.seq, x.sender_id, x.body, x.client_id, x.created_at, x.edited_at,
               x.deleted_at
        INTO is_member, id, conversation_id, seq, sender_id, body, client_id, created_at, edited_at, deleted_at
        FROM (SELECT 1) one
        LEFT JOIN messages x ON x.client_id = p_client_ids[i] AND x.conversation_id = p_conversation_ids[i]
            AND x.sender_id = p_sender_ids[i];
        IF k IS NULL OR NOT is_member THEN
            outcome := 'not_member';
        ELSIF id IS NOT NULL THEN
            outcome := 'duplicate';
        ELSE
            -- The other person of a direct chat (direct_key is 'low:high').
            peer := CASE WHEN direct_keys[k] IS NULL THEN NULL
                         WHEN split_part(direct_keys[k], ':', 1)::BIGINT = p_sender_ids[i]
                             THEN split_part(direct_keys[k], ':', 2)::BIGINT
                         ELSE split_part(direct_keys[k], ':', 1)::BIGINT END;
            IF peer IS NOT NULL AND EXISTS (SELECT 1 FROM blocks b
                    WHERE b.blocker_id = p_sender_ids[i] AND b.blocked_id = peer) THEN
                outcome := 'blocked_by_sender';
            ELSIF peer IS NOT NULL AND EXISTS (SELECT 1 FROM blocks b
                    WHERE b.blocker_id = peer AND b.blocked_id = p_sender_ids[i]) THEN
                outcome := 'blocked';
            ELSE
                -- Gapless: the next seq under the lock above, committed with the row.
                last_seqs[k] := last_seqs[k] + 1;
                INSERT INTO messages (conversation_id, seq, sender_id, body, client_id, created_at)
                VALUES (p_conversation_ids[i], last_seqs[k], p_sender_ids[i], p_bodies[i], p_client_ids[i], p_now)
                RETURNING messages.id, messages.conversation_id, messages.seq, messages.sender_id, messages.body,
                    messages.client_id, messages.created_at, messages.edited_at, messages.deleted_at
                INTO id, conversation_id, seq, sender_id, body, client_id, created_at, edited_at, deleted_at;
                outcome := 'new';
                version := versions[k];
                key := p_conversation_ids[i] || ':' || p_sender_ids[i];
                j := array_position(read_keys, key);
                IF j IS NULL THEN
                    read_keys := read_keys || key;
                    read_convs := read_convs || p_conversation_ids[i];
                    read_senders := read_senders || p_sender_ids[i];
                    read_seqs := read_seqs || last_seqs[k];
                ELSE
                    read_seqs[j] := last_seqs[k];
                END IF;
            END IF;
        END IF;
        IF outcome NOT IN ('new', 'duplicate') THEN
            id := NULL; conversation_id := NULL; seq := NULL; sender_id := NULL; body := NULL; client_id := NULL;
            created_at := NULL; edited_at := NULL; deleted_at := NULL;
        END IF;
        RETURN NEXT;
    END LOOP;

    -- One primary-key update per row touched: set-based updates over the arrays were planned generically
    -- (hash joins over whole tables) and cost ten times as much.
    FOR j IN 1 .. coalesce(array_length(conv_ids, 1), 0) LOOP
        IF last_seqs[j] <> first_seqs[j] THEN
            UPDATE conversations SET last_seq = last_seqs[j], last_message_at = p_now WHERE id = conv_ids[j];
        END IF;
    END LOOP;
    -- A sender has read their own message, so their unread count stays where it was.
    FOR j IN 1 .. coalesce(array_length(read_keys, 1), 0) LOOP
        UPDATE memberships SET last_read_seq = read_seqs[j]
        WHERE conversation_id = read_convs[j] AND user_id = read_senders[j] AND last_read_seq < read_seqs[j];
    END LOOP;
END
$$;
