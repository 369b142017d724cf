//! What a send carries beyond its body — the message it answers, the members it mentions, its attachments —
//! applied to its just-stored row inside the send's own transaction (a savepoint on SQLite), so that all of it
//! commits with the message or none of it does. The steps are spelled once, in [`apply_extras!`], for the
//! writer's two connections: async PostgreSQL and the SQLite writer thread's synchronous one.

use crate::db::models::MessageRow;
use crate::ids::UserId;
use crate::protocol::ReplyPreview;

/// The most characters of the original a reply shows.
pub const EXCERPT_CHARS: usize = 100;

/// The preview a reply shows of `original` as it stands (JSON for the `reply_preview` column).
pub fn preview(original: &MessageRow, sender_name: &str) -> String {
    let deleted = original.deleted_at.is_some();
    let excerpt = if deleted {
        String::new()
    } else if original.body.is_empty() {
        // A message of attachments only is quoted by its first file's name.
        crate::db::attachments::from_column(original.attachments.as_deref())
            .first()
            .map(|a| format!("📎 {}", a.name))
            .unwrap_or_default()
    } else {
        original.body.clone()
    };
    let preview = ReplyPreview {
        seq: original.seq.get(),
        sender_id: original.sender_id.get(),
        sender_name: sender_name.to_owned(),
        excerpt: excerpt.chars().take(EXCERPT_CHARS).collect(),
        deleted,
    };
    serde_json::to_string(&preview).unwrap_or_default()
}

/// The `mentions` column for these members (NULL for none).
pub fn mentions_column(ids: &[UserId]) -> Option<String> {
    (!ids.is_empty())
        .then(|| serde_json::to_string(&ids.iter().map(|id| id.get()).collect::<Vec<_>>()).unwrap_or_default())
}

/// The members of `$conversation` (other than `$author`) whose usernames are among `$names`.
#[macro_export]
macro_rules! mentioned_members {
    ($names:expr, $conversation:expr, $author:expr) => {
        $crate::db::schema::users::table
            .inner_join($crate::db::schema::memberships::table)
            .filter($crate::db::schema::memberships::conversation_id.eq($conversation))
            .filter($crate::db::schema::users::username.eq_any($names))
            .filter($crate::db::schema::users::id.ne($author))
            .select($crate::db::schema::users::id)
            .order($crate::db::schema::users::id.asc())
    };
}

/// Apply `$send`'s extras to `$row` (just stored) on connection `$c`; `$($await)*` is `.await` on the async
/// connection and nothing on the synchronous one. Evaluates to `Result<(), ClaimError>`.
#[macro_export]
macro_rules! apply_extras {
    ($c:expr, $send:expr, $row:expr $(, $await:tt)*) => {{
        // Not the prelude: its RunQueryDsl would clash with diesel-async's on the async connection.
        use diesel::{ExpressionMethods, QueryDsl, SelectableHelper};
        use $crate::db::schema::{mentions, messages, users};
        let send: &$crate::db::messages::PendingSend = $send;
        let row: &mut $crate::db::models::MessageRow = $row;
        let mut result: Result<(), $crate::db::messages::ClaimError> = Ok(());
        if let Some(to) = send.reply_to_seq {
            // Seqs are gapless: every seq below this message's own is a message of the conversation.
            if to.get() < 1 || to >= row.seq {
                result = Err($crate::db::messages::ClaimError::NoSuchReply);
            } else {
                let original: Result<($crate::db::models::MessageRow, String), diesel::result::Error> = messages::table
                    .inner_join(users::table)
                    .filter(messages::conversation_id.eq(row.conversation_id))
                    .filter(messages::seq.eq(to))
                    .select(($crate::db::models::MessageRow::as_select(), users::display_name))
                    .first($c) $(.$await)*;
                match original {
                    // A timeline event is not something said: there is nothing to answer.
                    Ok((original, _)) if original.event.is_some() => {
                        result = Err($crate::db::messages::ClaimError::NoSuchReply);
                    }
                    Ok((original, name)) => {
                        row.reply_to_seq = Some(to);
                        row.reply_preview = Some($crate::db::messages::extras::preview(&original, &name));
                    }
                    Err(err) => result = Err(err.into()),
                }
            }
        }
        if result.is_ok() && !send.mention_names.is_empty() {
            let found: Result<Vec<$crate::ids::UserId>, diesel::result::Error> =
                $crate::mentioned_members!(&send.mention_names, row.conversation_id, row.sender_id).load($c) $(.$await)*;
            match found {
                Ok(ids) => {
                    // One row at a time: SQLite takes no multi-row insert from diesel, and there are at most 50.
                    for id in &ids {
                        let inserted = diesel::insert_into(mentions::table)
                            .values((mentions::user_id.eq(*id), mentions::conversation_id.eq(row.conversation_id), mentions::seq.eq(row.seq)))
                            .execute($c) $(.$await)*;
                        if let Err(err) = inserted {
                            result = Err(err.into());
                            break;
                        }
                    }
                    row.mentions = $crate::db::messages::extras::mentions_column(&ids);
                }
                Err(err) => result = Err(err.into()),
            }
        }
        if result.is_ok() && !send.attachment_ids.is_empty() {
            let claimed: Result<Vec<$crate::db::models::AttachmentRow>, diesel::result::Error> =
                $crate::claim_attachments!(&send.attachment_ids, send.conversation_id, send.sender_id, row.id)
                    .get_results($c) $(.$await)*;
            match claimed.map(|claimed| $crate::db::attachments::column_for(&send.attachment_ids, &claimed)) {
                Ok(Some(column)) => row.attachments = Some(column),
                Ok(None) => result = Err($crate::db::messages::ClaimError::Unavailable),
                Err(err) => result = Err(err.into()),
            }
        }
        if result.is_ok() {
            let update = diesel::update(messages::table.find(row.id))
                .set((
                    messages::attachments.eq(&row.attachments),
                    messages::reply_to_seq.eq(row.reply_to_seq),
                    messages::reply_preview.eq(&row.reply_preview),
                    messages::mentions.eq(&row.mentions),
                ))
                .execute($c) $(.$await)*;
            if let Err(err) = update {
                result = Err(err.into());
            }
        }
        result
    }};
}
