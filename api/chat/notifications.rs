//! A member's notification level for a conversation: which new messages notify them. Unread counts and mention
//! counts tick whatever it is; clients follow it when they notify.

use chrono::{DateTime, Utc};

use super::{ChatError, ChatResult};
use crate::db::{DbConn, conversations};
use crate::domain::ValidationError;
use crate::ids::{ConversationId, UserId};
use crate::protocol::{NotificationLevel, NotificationSettings, ServerFrame};
use crate::realtime::{Delivery, Realtime};

/// The furthest ahead `until` may be; "for ever" is no `until`.
const LONGEST_MUTE_DAYS: i64 = 366;

/// Set the caller's level here; their sockets (every tab) get a `notifications` frame.
pub async fn set(
    conn: &mut DbConn,
    realtime: &Realtime,
    me: UserId,
    id: ConversationId,
    wanted: &NotificationSettings,
) -> ChatResult<NotificationSettings> {
    let until = check_until(wanted.level, wanted.until, Utc::now())?;
    let stored = conversations::set_notifications(conn, id, me, wanted.level.as_str(), until.map(|u| u.naive_utc()))
        .await?
        .ok_or(ChatError::NotFound)?;
    let settings = super::views::notifications(&stored);
    let frame = ServerFrame::Notifications { conversation_id: id.get(), notifications: settings.clone() };
    realtime.to_users(vec![me], &frame, Delivery::Reliable);
    Ok(settings)
}

fn check_until(
    level: NotificationLevel,
    until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, ValidationError> {
    let Some(until) = until else { return Ok(None) };
    if level == NotificationLevel::All {
        return Err(ValidationError::new("until", "`until` goes with `mentions` or `nothing`, not with `all`."));
    }
    if until <= now {
        return Err(ValidationError::new("until", "`until` must be in the future."));
    }
    if until > now + chrono::Duration::days(LONGEST_MUTE_DAYS) {
        return Err(ValidationError::new("until", "`until` may be at most a year ahead; leave it out for ever."));
    }
    // Stored to the microsecond, as every time is.
    Ok(Some(DateTime::from_timestamp_micros(until.timestamp_micros()).unwrap_or(until)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_limit_goes_with_a_quieter_level_and_lies_within_a_year() {
        let now = Utc::now();
        let hour = chrono::Duration::hours(1);
        assert!(check_until(NotificationLevel::Mentions, Some(now + hour), now).is_ok());
        assert!(check_until(NotificationLevel::All, Some(now + hour), now).is_err());
        assert!(check_until(NotificationLevel::Nothing, Some(now - hour), now).is_err());
        assert!(check_until(NotificationLevel::Nothing, Some(now + chrono::Duration::days(400)), now).is_err());
        assert_eq!(check_until(NotificationLevel::Nothing, None, now).ok(), Some(None));
    }
}
