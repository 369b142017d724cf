-- Back to the function as 2026-12-04-000001_store_batch defined it (without a SET clause, so planned as PostgreSQL chooses).
CREATE OR REPLACE FUNCTION chat_store_batch(
    p_conversation_ids BIGINT[], p_sender_ids BIGINT[], p_client_ids TEXT[], p_bodies TEXT[], p_now TIMESTAMP)
RETURNS TABLE (
    ord BIGINT, outcome TEXT, version BIGINT,
    id BIGINT, conversation_id BIGINT, seq BIGINT, sender_id BIGINT, body TEXT, client_id TEXT,
    created_at TIMESTAMP, edited_at TIMESTAMP, deleted_at TIMESTAMP)
LANGUAGE plpgsql AS $$
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
    k INT;
    j INT;
    peer BIGINT;
    r messages%ROWTYPE;
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
        outcome := NULL; version := NULL; id := NULL; conversation_id := NULL; seq := NULL; sender_id := NULL;
        body := NULL; client_id := NULL; created_at := NULL; edited_at := NULL; deleted_at := NULL;
        k := array_position(conv_ids, p_conversation_ids[i]);
        IF k IS NULL OR NOT EXISTS (SELECT 1 FROM memberships m
                WHERE m.conversation_id = p_conversation_ids[i] AND m.user_id = p_sender_ids[i]) THEN
            outcome := 'not_member';
        ELSE
            -- A resend, also of a send earlier in this batch (its row is visible here).
            SELECT * INTO r FROM messages x
            WHERE x.client_id = p_client_ids[i] AND x.conversation_id = p_conversation_ids[i]
                AND x.sender_id = p_sender_ids[i];
            IF FOUND THEN
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
                    RETURNING * INTO r;
                    outcome := 'new';
                    version := versions[k];
                    j := array_position(read_keys, r.conversation_id || ':' || r.sender_id);
                    IF j IS NULL THEN
                        read_keys := read_keys || (r.conversation_id || ':' || r.sender_id);
                        read_convs := read_convs || r.conversation_id;
                        read_senders := read_senders || r.sender_id;
                        read_seqs := read_seqs || r.seq;
                    ELSE
                        read_seqs[j] := r.seq;
                    END IF;
                END IF;
            END IF;
            IF outcome IN ('new', 'duplicate') THEN
                id := r.id; conversation_id := r.conversation_id; seq := r.seq; sender_id := r.sender_id;
                body := r.body; client_id := r.client_id; created_at := r.created_at; edited_at := r.edited_at;
                deleted_at := r.deleted_at;
            END IF;
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
