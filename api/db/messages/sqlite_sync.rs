//! SQLite's side of storing a batch of sends: the rules of PostgreSQL's `chat_store_batch`, in Rust, in
//! synchronous diesel for the writer thread (a module of its own: the async `RunQueryDsl` is not in scope).

use std::collections::{BTreeMap, HashMap, HashSet};

use diesel::prelude::*;

use super::{ClaimError, MessageRow, NewMessage, PendingSend, StoreOutcome};
use crate::db::schema::{blocks, conversations, memberships, messages};
use crate::ids::{ConversationId, Seq, UserId};

/// The rules of `chat_store_batch`, inside the caller's `BEGIN IMMEDIATE` transaction: it holds the database
/// write lock, so the reads below see a state nobody can change before it commits.
pub fn store_batch(
    c: &mut SqliteConnection,
    sends: &[PendingSend],
    now: chrono::NaiveDateTime,
) -> QueryResult<Vec<StoreOutcome>> {
    let conversation_ids: Vec<ConversationId> =
        sends.iter().map(|s| s.conversation_id).collect::<HashSet<_>>().into_iter().collect();
    let sender_ids: HashSet<UserId> = sends.iter().map(|s| s.sender_id).collect();

    // A lone send (most batches at light load) is looked up with fixed-shape queries, which the connection
    // prepares once; IN lists and OR chains change shape with the batch, so SQLite parses them every time.
    let lone = match sends {
        [send] => Some(send),
        _ => None,
    };
    let conversation_columns =
        (conversations::id, conversations::last_seq, conversations::version, conversations::direct_key);
    let locked: Vec<(ConversationId, Seq, i64, Option<String>)> = match lone {
        Some(send) => conversations::table
            .filter(conversations::id.eq(send.conversation_id))
            .select(conversation_columns)
            .load(c)?,
        None => conversations::table
            .filter(conversations::id.eq_any(&conversation_ids))
            .select(conversation_columns)
            .load(c)?,
    };
    let mut next_seq: BTreeMap<ConversationId, Seq> =
        locked.iter().map(|&(id, last, _, _)| (id, last.next())).collect();
    // The membership version each message was stored under: live delivery routes it by that membership.
    let versions: HashMap<ConversationId, i64> = locked.iter().map(|&(id, _, version, _)| (id, version)).collect();
    // Direct chats between two people where one has blocked the other take no new messages. Only batches
    // with direct chats pay for the lookup.
    let pairs: HashMap<ConversationId, (UserId, UserId)> = locked
        .iter()
        .filter_map(|(id, _, _, key)| Some((*id, crate::db::conversations::direct_pair(key.as_deref()?)?)))
        .collect();
    let blocked: HashSet<(UserId, UserId)> = if pairs.is_empty() {
        HashSet::new()
    } else {
        let people: Vec<UserId> = pairs.values().flat_map(|&(a, b)| [a, b]).collect();
        blocks::table
            .filter(blocks::blocker_id.eq_any(&people))
            .select((blocks::blocker_id, blocks::blocked_id))
            .load::<(UserId, UserId)>(c)?
            .into_iter()
            .collect()
    };
    // Each query filters on one indexed column only: two IN lists on a composite key would make the
    // database seek every combination.
    let member_columns = (memberships::conversation_id, memberships::user_id);
    let members: HashSet<(ConversationId, UserId)> = match lone {
        Some(send) => memberships::table
            .filter(memberships::conversation_id.eq(send.conversation_id))
            .filter(memberships::user_id.eq(send.sender_id))
            .select(member_columns)
            .load::<(ConversationId, UserId)>(c)?,
        None => memberships::table
            .filter(memberships::conversation_id.eq_any(&conversation_ids))
            .select(member_columns)
            .load::<(ConversationId, UserId)>(c)?,
    }
    .into_iter()
    .filter(|(_, user_id)| sender_ids.contains(user_id))
    .collect();
    // Resends, looked up by exact (client_id, conversation, sender) triples: an OR of index lookups, so
    // neither a long batch nor a client that reuses simple ids in every conversation makes it scan. A
    // client_id is its sender's key: another member's message with the same one is not a resend.
    let resent: Vec<MessageRow> = match lone {
        Some(send) => messages::table
            .filter(messages::client_id.eq(&send.client_id))
            .filter(messages::conversation_id.eq(send.conversation_id))
            .filter(messages::sender_id.eq(send.sender_id))
            .select(MessageRow::as_select())
            .load(c)?,
        None => {
            let mut resend_query = messages::table.select(MessageRow::as_select()).into_boxed();
            for (conversation_id, sender_id, client_id) in
                sends.iter().map(|s| (s.conversation_id, s.sender_id, &s.client_id)).collect::<HashSet<_>>()
            {
                resend_query = resend_query.or_filter(
                    messages::client_id
                        .eq(client_id)
                        .and(messages::conversation_id.eq(conversation_id))
                        .and(messages::sender_id.eq(sender_id)),
                );
            }
            resend_query.load(c)?
        }
    };
    let mut known: HashMap<(ConversationId, UserId, String), MessageRow> =
        resent.into_iter().map(|m| ((m.conversation_id, m.sender_id, m.client_id.clone()), m)).collect();

    // Decide each send: not a member, a resend, blocked, or new (with its seq).
    enum Plan {
        NotMember,
        Known((ConversationId, UserId, String)),
        Blocked { by_sender: bool },
        New(Seq),
    }
    let mut plans = Vec::with_capacity(sends.len());
    let mut fresh: Vec<NewMessage> = Vec::new();
    let mut claimed: HashSet<(ConversationId, UserId, &str)> = HashSet::new();
    for send in sends {
        let key = (send.conversation_id, send.sender_id, send.client_id.clone());
        let Some(seq) = next_seq.get_mut(&send.conversation_id) else {
            plans.push(Plan::NotMember);
            continue;
        };
        if !members.contains(&(send.conversation_id, send.sender_id)) {
            plans.push(Plan::NotMember);
        } else if known.contains_key(&key) || !claimed.insert((send.conversation_id, send.sender_id, &send.client_id)) {
            plans.push(Plan::Known(key));
        } else if let Some(&(a, b)) = pairs.get(&send.conversation_id)
            && let other = if a == send.sender_id { b } else { a }
            && (blocked.contains(&(send.sender_id, other)) || blocked.contains(&(other, send.sender_id)))
        {
            plans.push(Plan::Blocked { by_sender: blocked.contains(&(send.sender_id, other)) });
        } else {
            fresh.push(NewMessage {
                conversation_id: send.conversation_id,
                seq: *seq,
                sender_id: send.sender_id,
                body: send.body.clone(),
                client_id: send.client_id.clone(),
                created_at: now,
            });
            plans.push(Plan::New(*seq));
            *seq = seq.next();
        }
    }

    let mut stored: HashMap<(ConversationId, Seq), MessageRow> = HashMap::new();
    for row in &fresh {
        let row: MessageRow =
            diesel::insert_into(messages::table).values(row).returning(MessageRow::as_returning()).get_result(c)?;
        known.insert((row.conversation_id, row.sender_id, row.client_id.clone()), row.clone());
        stored.insert((row.conversation_id, row.seq), row);
    }
    // Each conversation's last seq is its newest message's; a sender has read their own message, so their
    // unread count stays where it was.
    let mut last_seq: HashMap<ConversationId, Seq> = HashMap::new();
    let mut read_to: HashMap<(ConversationId, UserId), Seq> = HashMap::new();
    for m in &fresh {
        let last = last_seq.entry(m.conversation_id).or_default();
        *last = (*last).max(m.seq);
        let read = read_to.entry((m.conversation_id, m.sender_id)).or_default();
        *read = (*read).max(m.seq);
    }
    for (conversation_id, seq) in last_seq {
        diesel::update(conversations::table.find(conversation_id))
            .set((conversations::last_seq.eq(seq), conversations::last_message_at.eq(now)))
            .execute(c)?;
    }
    for ((conversation_id, user_id), seq) in read_to {
        diesel::update(memberships::table.find((conversation_id, user_id)))
            .filter(memberships::last_read_seq.lt(seq))
            .set(memberships::last_read_seq.eq(seq))
            .execute(c)?;
    }

    Ok(sends
        .iter()
        .zip(plans)
        .map(|(send, plan)| match plan {
            Plan::NotMember => StoreOutcome::NotMember,
            Plan::Blocked { by_sender } => StoreOutcome::Blocked { by_sender },
            Plan::Known(key) => known.get(&key).cloned().map_or(StoreOutcome::NotMember, StoreOutcome::Duplicate),
            Plan::New(seq) => match stored.remove(&(send.conversation_id, seq)) {
                Some(row) => {
                    let version = versions.get(&row.conversation_id).copied().unwrap_or_default();
                    StoreOutcome::Created { row, version }
                }
                None => StoreOutcome::NotMember,
            },
        })
        .collect())
}

/// One send with extras, inside a savepoint of the batch's transaction: stored like any send, then its extras
/// applied; an `Err` rolls the savepoint (and so the message) back.
pub(super) fn store_with_extras(
    c: &mut SqliteConnection,
    send: &PendingSend,
    now: chrono::NaiveDateTime,
) -> Result<StoreOutcome, ClaimError> {
    match store_batch(c, std::slice::from_ref(send), now)?.pop() {
        Some(StoreOutcome::Created { mut row, version }) => {
            crate::apply_extras!(c, send, &mut row)?;
            Ok(StoreOutcome::Created { row, version })
        }
        Some(other) => Ok(other),
        None => Ok(StoreOutcome::NotMember),
    }
}
