//! One schema for both backends: only portable SQL types (BigInt, Text, Timestamp, Nullable).

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        display_name -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
        last_seen_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        user_id -> BigInt,
        device -> Nullable<Text>,
        created_at -> Timestamp,
        last_used_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        /// SHA-256 of an API token's secret; NULL for a login session.
        api_token_hash -> Nullable<Text>,
        /// An API token's scopes, comma-separated; NULL for a login session (which may do everything).
        scopes -> Nullable<Text>,
    }
}

diesel::table! {
    webhooks (id) {
        id -> BigInt,
        conversation_id -> BigInt,
        bot_user_id -> BigInt,
        name -> Text,
        secret_hash -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    ws_tickets (ticket_hash) {
        ticket_hash -> Text,
        user_id -> BigInt,
        session_id -> BigInt,
        expires_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        session_id -> BigInt,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    contacts (owner_id, contact_id) {
        owner_id -> BigInt,
        contact_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    blocks (blocker_id, blocked_id) {
        blocker_id -> BigInt,
        blocked_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    conversations (id) {
        id -> BigInt,
        kind -> Text,
        title -> Nullable<Text>,
        created_by -> BigInt,
        direct_key -> Nullable<Text>,
        last_seq -> BigInt,
        last_message_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    memberships (conversation_id, user_id) {
        conversation_id -> BigInt,
        user_id -> BigInt,
        role -> Text,
        last_read_seq -> BigInt,
        joined_at -> Timestamp,
        notify_level -> Text,
        muted_until -> Nullable<Timestamp>,
        last_delivered_seq -> BigInt,
    }
}

diesel::table! {
    messages (id) {
        id -> BigInt,
        conversation_id -> BigInt,
        seq -> BigInt,
        sender_id -> BigInt,
        body -> Text,
        client_id -> Text,
        created_at -> Timestamp,
        edited_at -> Nullable<Timestamp>,
        deleted_at -> Nullable<Timestamp>,
        attachments -> Nullable<Text>,
        reply_to_seq -> Nullable<BigInt>,
        reply_preview -> Nullable<Text>,
        mentions -> Nullable<Text>,
        event -> Nullable<Text>,
    }
}

diesel::table! {
    mentions (user_id, conversation_id, seq) {
        user_id -> BigInt,
        conversation_id -> BigInt,
        seq -> BigInt,
    }
}

diesel::table! {
    reactions (conversation_id, seq, emoji, user_id) {
        conversation_id -> BigInt,
        seq -> BigInt,
        emoji -> Text,
        user_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    pins (conversation_id, seq) {
        conversation_id -> BigInt,
        seq -> BigInt,
        pinned_by -> BigInt,
        pinned_at -> Timestamp,
    }
}

diesel::table! {
    attachments (id) {
        id -> BigInt,
        public_id -> Text,
        conversation_id -> BigInt,
        uploader_id -> BigInt,
        message_id -> Nullable<BigInt>,
        name -> Text,
        content_type -> Text,
        size -> BigInt,
        sha256 -> Nullable<Text>,
        width -> Nullable<BigInt>,
        height -> Nullable<BigInt>,
        thumbnail_type -> Nullable<Text>,
        created_at -> Timestamp,
        completed_at -> Nullable<Timestamp>,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(memberships -> conversations (conversation_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(messages -> conversations (conversation_id));
diesel::joinable!(messages -> users (sender_id));
diesel::joinable!(attachments -> conversations (conversation_id));
diesel::joinable!(reactions -> users (user_id));
diesel::joinable!(pins -> users (pinned_by));
diesel::joinable!(webhooks -> conversations (conversation_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    sessions,
    refresh_tokens,
    ws_tickets,
    contacts,
    blocks,
    conversations,
    memberships,
    messages,
    attachments,
    mentions,
    reactions,
    pins,
    webhooks,
);
