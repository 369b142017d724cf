//! How many of one kind of thing each user holds at once on this instance (sockets; searches running), so one
//! account cannot pin an unbounded number of them.

use crate::ids::UserId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub struct UserQuota {
    open: Mutex<HashMap<UserId, usize>>,
    per_user: usize,
}

/// One admitted place; dropping it gives the place back (on every path, errors included).
pub struct QuotaPermit {
    quota: Arc<UserQuota>,
    user_id: UserId,
}

impl UserQuota {
    pub fn new(per_user: usize) -> Arc<Self> {
        Arc::new(UserQuota { open: Mutex::new(HashMap::new()), per_user: per_user.max(1) })
    }

    pub fn per_user(&self) -> usize {
        self.per_user
    }

    fn open(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, usize>> {
        self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The user holds the most sockets allowed.
    pub fn is_full(&self, user_id: UserId) -> bool {
        self.open().get(&user_id).is_some_and(|&count| count >= self.per_user)
    }

    /// A place for one more socket of the user, or None when they hold the most already. Taken before the
    /// upgrade, so concurrent upgrades cannot all slip under the cap.
    pub fn admit(self: &Arc<Self>, user_id: UserId) -> Option<QuotaPermit> {
        let mut open = self.open();
        let count = open.entry(user_id).or_default();
        if *count >= self.per_user {
            return None;
        }
        *count += 1;
        Some(QuotaPermit { quota: self.clone(), user_id })
    }
}

impl Drop for QuotaPermit {
    fn drop(&mut self) {
        let mut open = self.quota.open();
        if let Some(count) = open.get_mut(&self.user_id) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.user_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_gets_at_most_the_cap_and_a_closed_socket_frees_its_place() {
        let quota = UserQuota::new(2);
        let a = quota.admit(UserId(1)).expect("first");
        let _b = quota.admit(UserId(1)).expect("second");
        assert!(quota.admit(UserId(1)).is_none(), "third refused");
        assert!(quota.admit(UserId(2)).is_some(), "another user is not affected");
        drop(a);
        assert!(quota.admit(UserId(1)).is_some(), "a freed place can be taken again");
    }
}
