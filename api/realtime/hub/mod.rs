//! Who is connected to this instance, and which of their sockets an event reaches. Routing tables only: the
//! sockets themselves are actors, reached through their bounded mailboxes.
//!
//! A conversation is *watched* here while at least one of its members has a socket here. Its watch holds the
//! membership version the routing reflects, the local members, and the per-conversation ordering of messages.
//! Events stamped with a newer membership version wait in the watch until the hub has caught up with that
//! change (from the broker, or from the database after a short wait); only then are they delivered.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use bytestring::ByteString;
use tokio::sync::Notify;

use super::mailbox::{Delivery, Mailbox, Pushed};
use super::ordering::Ordering as SeqOrdering;
use super::store::HubStore;
use super::{Envelope, FrameEvent, Payload, Route};
use crate::broker::{Broker, Topic};
use crate::ids::{ConversationId, Seq, SessionId, UserId};
use crate::protocol::close_code;

/// Closes a socket with a code, ahead of its queued frames (a full mailbox cannot carry the close).
#[derive(Default)]
pub struct KillSwitch {
    code: AtomicU16,
    notify: Notify,
}

impl KillSwitch {
    pub fn fire(&self, code: u16) {
        if self.code.compare_exchange(0, code, Ordering::AcqRel, Ordering::Acquire).is_ok() {
            self.notify.notify_one();
        }
    }

    pub fn fired(&self) -> bool {
        self.code.load(Ordering::Acquire) != 0
    }

    /// Resolves with the close code once fired.
    pub async fn wait(&self) -> u16 {
        loop {
            let code = self.code.load(Ordering::Acquire);
            if code != 0 {
                return code;
            }
            self.notify.notified().await;
        }
    }
}

/// A socket's entry.
struct SocketEntry {
    user_id: UserId,
    /// The login session its token belongs to (revoking it closes the socket).
    auth_session: SessionId,
    mailbox: Arc<Mailbox>,
    kill: Arc<KillSwitch>,
}

/// A user with sockets here.
#[derive(Default)]
struct UserHere {
    sockets: Vec<u64>,
    /// Conversations routed to this user.
    conversations: HashSet<ConversationId>,
    /// Sockets still reading the user's memberships; while any is, removals that arrive are remembered so a
    /// membership list read before them cannot put the user back.
    syncing: usize,
    left_while_syncing: HashMap<ConversationId, i64>,
}

/// One event for sockets, owned by the hub.
struct Outgoing {
    text: ByteString,
    stored_at: Option<Instant>,
    seq: Option<Seq>,
    version: i64,
    delivery: Delivery,
    skip_session: Option<u64>,
    skip_users: Vec<UserId>,
}

impl Outgoing {
    /// A frame the hub makes itself (a view, a removal, a message read back), for everyone it is given to.
    fn reliable(text: ByteString) -> Self {
        Outgoing {
            text,
            stored_at: None,
            seq: None,
            version: 0,
            delivery: Delivery::Reliable,
            skip_session: None,
            skip_users: Vec::new(),
        }
    }
}

impl From<&FrameEvent> for Outgoing {
    fn from(event: &FrameEvent) -> Self {
        Outgoing {
            text: ByteString::from(event.json.as_str()),
            stored_at: event.stored_at,
            seq: event.seq,
            version: event.version,
            delivery: event.delivery,
            skip_session: event.skip_session,
            skip_users: event.skip_users.clone(),
        }
    }
}

/// A conversation watched here.
struct Watch {
    /// The membership version `members` reflects.
    version: i64,
    /// The newest conversation view handed out.
    view_version: i64,
    /// Members of the conversation with a socket here.
    members: HashSet<UserId>,
    /// Messages in seq order.
    order: SeqOrdering<Outgoing>,
    /// Events stamped with a newer membership than `version` (and everything after them, to keep order).
    waiting: VecDeque<Outgoing>,
    refreshing: bool,
}

impl Watch {
    fn new(version: i64, last_seq: Seq, members: HashSet<UserId>) -> Self {
        Watch {
            version,
            view_version: 0,
            members,
            order: SeqOrdering::after(last_seq),
            waiting: VecDeque::new(),
            refreshing: false,
        }
    }
}

#[derive(Default)]
struct Tables {
    sockets: HashMap<u64, SocketEntry>,
    users: HashMap<UserId, UserHere>,
    watches: HashMap<ConversationId, Watch>,
}

#[derive(Default)]
pub struct HubStats {
    pub shed_ephemeral: AtomicU64,
    pub slow_consumer_closes: AtomicU64,
    pub delivered: AtomicU64,
    pub membership_refreshes: AtomicU64,
}

/// How long a message waits for the ones before it before they are read from the database.
const GAP_WAIT: Duration = Duration::from_millis(150);
/// How long an event stamped with a newer membership waits for that change before it is read from the database.
const MEMBERSHIP_WAIT: Duration = Duration::from_millis(100);

pub struct Hub {
    tables: Mutex<Tables>,
    broker: Arc<dyn Broker>,
    store: Arc<dyn HubStore>,
    pub stats: HubStats,
    me: Weak<Hub>,
    /// Told of every revocation this instance hears of (the access-token check keeps a list).
    on_revoked: OnRevoked,
}

/// What the hub tells of a revocation it hears of: the user and the sessions ended.
pub type OnRevoked = Box<dyn Fn(UserId, &[SessionId]) + Send + Sync>;

/// What registering a socket found.
pub struct Registered {
    /// The user's first socket here.
    pub first_here: bool,
    /// The user's memberships must be read and handed to `sync_user` before the socket serves.
    pub needs_sync: bool,
}

/// What registering or unregistering a socket changed for its user on this instance.
pub struct Presence {
    /// The first socket of the user here opened, or the last closed.
    pub changed: bool,
}

mod membership;
mod sequencing;
#[cfg(test)]
mod tests;

impl Hub {
    pub fn new(broker: Arc<dyn Broker>, store: Arc<dyn HubStore>, on_revoked: OnRevoked) -> Arc<Self> {
        broker.subscribe(Topic::Everyone);
        Arc::new_cyclic(|me| Hub {
            tables: Mutex::default(),
            broker,
            store,
            stats: HubStats::default(),
            me: me.clone(),
            on_revoked,
        })
    }

    fn tables(&self) -> MutexGuard<'_, Tables> {
        // A panic while holding the lock leaves plain maps behind, still consistent enough to route with.
        self.tables.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Register a socket. Events for its user reach it from now on; which conversations does not depend on a
    /// list read earlier (a removal could have landed in between) but on `sync_user`, called with a list read
    /// after this.
    pub fn register(
        &self,
        socket_id: u64,
        user_id: UserId,
        auth_session: SessionId,
        mailbox: Arc<Mailbox>,
        kill: Arc<KillSwitch>,
    ) -> Registered {
        let mut t = self.tables();
        t.sockets.insert(socket_id, SocketEntry { user_id, auth_session, mailbox, kill });
        let first_here = !t.users.contains_key(&user_id);
        let user = t.users.entry(user_id).or_default();
        user.sockets.push(socket_id);
        let needs_sync = first_here || user.syncing > 0;
        if needs_sync {
            user.syncing += 1;
        }
        if first_here {
            // Within the lock: a subscription and an unsubscription of one topic must reach the broker in the
            // order the tables changed.
            self.broker.subscribe(Topic::User(user_id));
        }
        Registered { first_here, needs_sync }
    }

    pub fn unregister(&self, socket_id: u64) -> Presence {
        let mut t = self.tables();
        let Some(entry) = t.sockets.remove(&socket_id) else { return Presence { changed: false } };
        entry.mailbox.close();
        let user_id = entry.user_id;
        let Some(user) = t.users.get_mut(&user_id) else { return Presence { changed: false } };
        user.sockets.retain(|&s| s != socket_id);
        if !user.sockets.is_empty() {
            return Presence { changed: false };
        }
        let user = t.users.remove(&user_id).unwrap_or_default();
        self.broker.unsubscribe(Topic::User(user_id));
        for conversation_id in user.conversations {
            let Some(watch) = t.watches.get_mut(&conversation_id) else { continue };
            watch.members.remove(&user_id);
            if watch.members.is_empty() {
                self.unwatch(&mut t, conversation_id);
            }
        }
        Presence { changed: true }
    }

    fn unwatch(&self, t: &mut Tables, conversation_id: ConversationId) {
        if let Some(watch) = t.watches.remove(&conversation_id) {
            for user_id in watch.members {
                if let Some(user) = t.users.get_mut(&user_id) {
                    user.conversations.remove(&conversation_id);
                }
            }
            self.broker.unsubscribe(Topic::Conversation(conversation_id));
        }
    }

    /// Users with at least one socket on this instance.
    pub fn local_users(&self) -> Vec<UserId> {
        self.tables().users.keys().copied().collect()
    }

    pub fn is_online_here(&self, user_id: UserId) -> bool {
        self.tables().users.contains_key(&user_id)
    }

    /// Whether the hub routes this conversation to this user.
    pub fn routes_to(&self, user_id: UserId, conversation_id: ConversationId) -> bool {
        self.tables().users.get(&user_id).is_some_and(|u| u.conversations.contains(&conversation_id))
    }

    /// The membership version this instance routes the conversation by (0 when it does not watch it).
    pub fn version_of(&self, conversation_id: ConversationId) -> i64 {
        self.tables().watches.get(&conversation_id).map_or(0, |w| w.version)
    }

    pub fn socket_count(&self) -> usize {
        self.tables().sockets.len()
    }

    /// Conversations watched here (each holds ordering state only while watched).
    pub fn watched_count(&self) -> usize {
        self.tables().watches.len()
    }

    /// Deliver an envelope to the sockets on this instance it routes to.
    pub fn dispatch(&self, envelope: &Envelope) {
        let mut t = self.tables();
        match (&envelope.route, &envelope.payload) {
            (_, Payload::Membership(event)) => self.apply_membership(&mut t, event, false),
            (_, Payload::Revoked { user_id, sessions }) => {
                (self.on_revoked)(*user_id, sessions);
                self.close_where(
                    &t,
                    |entry| entry.user_id == *user_id && sessions.contains(&entry.auth_session),
                    close_code::TOKEN_EXPIRED,
                );
            }
            (Route::Conversation(conversation_id), Payload::Frame(frame)) => {
                self.conversation_event(&mut t, *conversation_id, Outgoing::from(frame));
            }
            (Route::Users(user_ids), Payload::Frame(frame)) => {
                let out = Outgoing::from(frame);
                for user_id in user_ids {
                    if !out.skip_users.contains(user_id) {
                        self.deliver_to_user(&t, *user_id, &out);
                    }
                }
            }
            (Route::Everyone, Payload::Frame(_)) => {}
        }
    }

    fn close_where(&self, t: &Tables, pick: impl Fn(&SocketEntry) -> bool, code: u16) {
        for entry in t.sockets.values().filter(|e| pick(e)) {
            if code == close_code::TOO_SLOW && !entry.kill.fired() {
                self.stats.slow_consumer_closes.fetch_add(1, Ordering::Relaxed);
            }
            entry.kill.fire(code);
        }
    }

    fn deliver_to_members(&self, t: &Tables, conversation_id: ConversationId, out: &Outgoing) {
        let Some(watch) = t.watches.get(&conversation_id) else { return };
        for &user_id in &watch.members {
            if !out.skip_users.contains(&user_id) {
                self.deliver_to_user(t, user_id, out);
            }
        }
    }

    fn deliver_to_user(&self, t: &Tables, user_id: UserId, out: &Outgoing) {
        let Some(user) = t.users.get(&user_id) else { return };
        for &socket_id in &user.sockets {
            if Some(socket_id) == out.skip_session {
                continue;
            }
            let Some(entry) = t.sockets.get(&socket_id) else { continue };
            self.push(entry, out.text.clone(), out.stored_at, out.delivery);
        }
    }

    fn push(&self, entry: &SocketEntry, text: ByteString, stored_at: Option<Instant>, delivery: Delivery) -> bool {
        if entry.kill.fired() {
            return false;
        }
        match entry.mailbox.push(text, stored_at, delivery) {
            Pushed::Queued => {
                self.stats.delivered.fetch_add(1, Ordering::Relaxed);
                true
            }
            Pushed::Shed => {
                self.stats.shed_ephemeral.fetch_add(1, Ordering::Relaxed);
                false
            }
            Pushed::Overflow => {
                // Dropping a frame that must arrive would break the client's view; close it and let it catch up.
                self.stats.slow_consumer_closes.fetch_add(1, Ordering::Relaxed);
                entry.kill.fire(close_code::TOO_SLOW);
                false
            }
        }
    }

    /// The socket now runs on a token of another login session (its `auth` frame carried one).
    pub fn set_auth_session(&self, socket_id: u64, auth_session: SessionId) {
        if let Some(entry) = self.tables().sockets.get_mut(&socket_id) {
            entry.auth_session = auth_session;
        }
    }

    /// Close every socket here (shutdown).
    pub fn close_all(&self, code: u16) {
        let t = self.tables();
        self.close_where(&t, |_| true, code);
    }
}
