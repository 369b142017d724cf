//! Revoked sessions, in memory, so that every authenticated request can refuse a revoked session's access
//! tokens without a database round trip.
//!
//! An access token lives at most the access-token TTL after it was issued, and none is issued for a session
//! after it is revoked; so a session needs remembering only until `revoked_at + TTL` (plus slack for clocks of
//! instances that disagree a little). That bounds the memory: the sessions revoked in the last TTL.
//!
//! Revocations made by this instance are recorded at once. Other instances learn them from the database:
//! [`spawn_poller`] looks for sessions revoked since its last look every [`POLL_EVERY`].

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use chrono::NaiveDateTime;

use crate::db::{self, DbPool};
use crate::ids::SessionId;

/// How long past an entry's end to keep it anyway: instances' clocks may disagree by this much.
const CLOCK_SLACK: chrono::Duration = chrono::Duration::seconds(30);
/// How often other instances' revocations are looked for: a revoked token is refused everywhere within this
/// plus one query.
pub const POLL_EVERY: Duration = Duration::from_millis(500);
/// Each look goes back this far before the newest revocation already seen: a revocation committed late (its
/// `revoked_at` stamped before a later one's commit) is still found.
const POLL_OVERLAP: chrono::Duration = chrono::Duration::seconds(5);

pub struct Revocations {
    access_ttl: chrono::Duration,
    /// Session id → when it may be forgotten.
    revoked: RwLock<HashMap<SessionId, NaiveDateTime>>,
}

impl Revocations {
    pub fn new(access_ttl: Duration) -> Self {
        Revocations {
            access_ttl: chrono::Duration::from_std(access_ttl).unwrap_or(chrono::Duration::days(1)),
            revoked: RwLock::new(HashMap::new()),
        }
    }

    /// How far back revocations still matter.
    pub fn horizon(&self, now: NaiveDateTime) -> NaiveDateTime {
        now - self.access_ttl - CLOCK_SLACK
    }

    pub fn is_revoked(&self, session_id: SessionId) -> bool {
        // A poisoned lock only means a writer panicked mid-insert; the map itself is still usable.
        self.revoked.read().unwrap_or_else(|e| e.into_inner()).contains_key(&session_id)
    }

    /// Record sessions revoked at `revoked_at`.
    pub fn record(&self, session_ids: &[SessionId], revoked_at: NaiveDateTime) {
        if session_ids.is_empty() {
            return;
        }
        let forget_at = revoked_at + self.access_ttl + CLOCK_SLACK;
        let mut map = self.revoked.write().unwrap_or_else(|e| e.into_inner());
        for &id in session_ids {
            let entry = map.entry(id).or_insert(forget_at);
            *entry = (*entry).max(forget_at);
        }
    }

    /// Forget sessions whose access tokens have all expired.
    pub fn sweep(&self, now: NaiveDateTime) {
        self.revoked.write().unwrap_or_else(|e| e.into_inner()).retain(|_, forget_at| *forget_at > now);
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.revoked.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Load what was revoked within the horizon (at start, so a restart forgets nothing); returns the newest
    /// `revoked_at` seen, where polling goes on from.
    pub async fn load(&self, db: &DbPool) -> Result<NaiveDateTime, db::DbError> {
        let since = self.horizon(db::now());
        let mut conn = db.get().await?;
        let rows = db::sessions::revoked_since(&mut conn, since).await?;
        Ok(self.record_rows(&rows).unwrap_or(since))
    }

    fn record_rows(&self, rows: &[(SessionId, NaiveDateTime)]) -> Option<NaiveDateTime> {
        for (id, at) in rows {
            self.record(&[*id], *at);
        }
        rows.iter().map(|(_, at)| *at).max()
    }
}

/// Every [`POLL_EVERY`], record sessions revoked (by any instance) since the newest revocation seen, and now and
/// then forget expired entries. For instances that share a database.
pub fn spawn_poller(revocations: std::sync::Arc<Revocations>, db: DbPool, mut watermark: NaiveDateTime) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(POLL_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        let mut ticks: u64 = 0;
        loop {
            every.tick().await;
            ticks += 1;
            let found = async {
                let mut conn = db.get().await?;
                db::sessions::revoked_since(&mut conn, watermark - POLL_OVERLAP).await
            }
            .await;
            match found {
                Ok(rows) => {
                    if let Some(newest) = revocations.record_rows(&rows) {
                        watermark = watermark.max(newest);
                    }
                    if failing {
                        tracing::info!("revocation polling works again");
                        failing = false;
                    }
                }
                Err(err) => {
                    if !failing {
                        tracing::warn!(error = %err, "cannot poll for revoked sessions; retrying");
                        failing = true;
                    }
                }
            }
            if ticks.is_multiple_of(120) {
                revocations.sweep(db::now());
            }
        }
    });
}

/// Forget expired entries now and then (a single instance, which records only its own revocations).
pub fn spawn_sweeper(revocations: std::sync::Arc<Revocations>) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            every.tick().await;
            revocations.sweep(db::now());
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap().naive_utc()
    }

    #[test]
    fn a_revoked_session_is_remembered_until_its_last_token_has_expired() {
        let revocations = Revocations::new(Duration::from_secs(900));
        revocations.record(&[SessionId(7), SessionId(8)], at(0));
        assert!(revocations.is_revoked(SessionId(7)) && revocations.is_revoked(SessionId(8)));
        assert!(!revocations.is_revoked(SessionId(9)));
        revocations.sweep(at(900));
        assert!(revocations.is_revoked(SessionId(7)), "tokens issued just before the revocation are still valid");
        revocations.sweep(at(900 + 31));
        assert!(revocations.is_empty(), "every token of the session has expired: nothing to remember");
    }

    #[test]
    fn a_later_record_of_the_same_session_does_not_shorten_its_memory() {
        let revocations = Revocations::new(Duration::from_secs(60));
        revocations.record(&[SessionId(1)], at(100));
        revocations.record(&[SessionId(1)], at(0));
        revocations.sweep(at(100 + 60));
        assert!(revocations.is_revoked(SessionId(1)));
    }
}
