//! Message search: the caller's readable messages (conversations they are a member of now), ranked by
//! relevance, then newest; one page at a time, each page continuing from the last hit of the one before.

use super::conversations::require_member;
use super::search_terms::SearchTerms;
use super::{ChatResult, views};
use crate::db::DbConn;
use crate::db::search::{self, HitCursor, HitQuery};
use crate::domain::ValidationError;
use crate::ids::{ConversationId, UserId};
use crate::protocol::{Message, SearchHit, SearchPage, SearchQuery};

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 50;
/// Searches one user may have running at once, per instance: a search of a common word holds a database
/// connection for a tenth of a second or more, so the REST rate alone would let one user keep cores busy.
pub const RUNNING_PER_USER: usize = 2;

pub async fn search(conn: &mut DbConn, me: UserId, query: &SearchQuery) -> ChatResult<SearchPage> {
    let terms = SearchTerms::parse(query.q.trim_start())?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ValidationError::new("limit", format!("limit must be between 1 and {MAX_LIMIT}.")).into());
    }
    let after = query.before.as_deref().map(parse_cursor).transpose()?;
    let conversation_id = query.conversation_id.map(ConversationId);
    if let Some(id) = conversation_id {
        // The same answer as history's for a conversation that is not the caller's (nor anyone's).
        require_member(conn, id, me).await?;
    }
    let (tsquery, fts5) = (terms.tsquery(), terms.fts5());
    let hit_query = HitQuery { user_id: me, tsquery: &tsquery, fts5: &fts5, conversation_id, after, limit: limit + 1 };
    let mut hits = search::hits(conn, &hit_query).await?;
    let next_before = (hits.len() as i64 > limit).then(|| {
        hits.truncate(limit as usize);
        hits.last().map(|h| format_cursor(HitCursor { rank: h.rank, id: h.id }))
    });
    let rows = search::messages_of(conn, &hits).await?;
    let mut messages: Vec<Message> = rows.into_iter().map(|(row, name)| views::message(row, name)).collect();
    views::complete(conn, &mut messages).await?;
    let results = messages
        .into_iter()
        .filter(|m| !m.deleted)
        .map(|message| SearchHit { snippet: terms.snippet(&message.body), message })
        .collect();
    Ok(SearchPage { results, next_before: next_before.flatten() })
}

/// `next_before` is the last hit's rank and id; opaque to clients, readable in logs.
fn format_cursor(cursor: HitCursor) -> String {
    format!("{}_{}", cursor.rank, cursor.id)
}

fn parse_cursor(raw: &str) -> Result<HitCursor, ValidationError> {
    let invalid = || ValidationError::new("before", "before must be a next_before this search returned.");
    let (rank, id) = raw.split_once('_').ok_or_else(invalid)?;
    let rank: f64 = rank.parse().map_err(|_| invalid())?;
    let id: i64 = id.parse().map_err(|_| invalid())?;
    if !rank.is_finite() || id < 1 {
        return Err(invalid());
    }
    Ok(HitCursor { rank, id })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_survives_its_round_trip_exactly() {
        for rank in [0.0607927, 1.0 / 3.0, 1e-20, 12.5, f64::from(0.1_f32)] {
            let cursor = HitCursor { rank, id: 42 };
            assert_eq!(parse_cursor(&format_cursor(cursor)).unwrap(), cursor);
        }
    }

    #[test]
    fn cursors_not_made_by_the_server_are_refused() {
        for raw in ["", "abc", "1.5", "_7", "1.5_", "NaN_3", "inf_3", "1.5_-2", "1.5_x", "1.5_1_2"] {
            assert_eq!(parse_cursor(raw).unwrap_err().field, "before", "{raw:?}");
        }
    }
}
