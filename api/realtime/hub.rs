//! Who is connected to this instance, and which of their sockets an event reaches. Routing tables only: the
//! sockets themselves are actors, reached through their bounded mailboxes.
//!
//! A conversation is *watched* here while at least one of its members has a socket here. Its watch holds the
//! membership version the routing reflects, the local members, and the per-conversation ordering of messages.
//! Events stamped with a newer membership version wait in the watch until the hub has caught up with that
//! change (from the broker, or from the database after a short wait); only then are they delivered.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use bytestring::ByteString;
use tokio::sync::Notify;

use super::mailbox::{Delivery, Mailbox, Pushed};
use super::store::HubStore;
use super::{Envelope, FrameEvent, MembershipEvent, Payload, Route};
use crate::broker::{Broker, Topic};
use crate::db::conversations::ConversationState;
use crate::protocol::{ServerFrame, close_code, conversation_frame};

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
    user_id: i64,
    /// The login session its token belongs to (revoking it closes the socket).
    auth_session: i64,
    mailbox: Arc<Mailbox>,
    kill: Arc<KillSwitch>,
}

/// A user with sockets here.
#[derive(Default)]
struct UserHere {
    sockets: Vec<u64>,
    /// Conversations routed to this user.
    conversations: HashSet<i64>,
    /// Sockets still reading the user's memberships; while any is, removals that arrive are remembered so a
    /// membership list read before them cannot put the user back.
    syncing: usize,
    left_while_syncing: HashMap<i64, i64>,
}

/// One event for sockets, owned by the hub.
struct Outgoing {
    text: ByteString,
    stored_at: Option<Instant>,
    seq: Option<i64>,
    version: i64,
    delivery: Delivery,
    skip_session: Option<u64>,
    skip_users: Vec<i64>,
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
    members: HashSet<i64>,
    /// The next message seq to hand out, and messages that arrived ahead of it.
    next_seq: i64,
    held: BTreeMap<i64, Outgoing>,
    filling: bool,
    /// Events stamped with a newer membership than `version` (and everything after them, to keep order).
    waiting: VecDeque<Outgoing>,
    refreshing: bool,
}

impl Watch {
    fn new(version: i64, last_seq: i64, members: HashSet<i64>) -> Self {
        Watch {
            version,
            view_version: 0,
            members,
            next_seq: last_seq + 1,
            held: BTreeMap::new(),
            filling: false,
            waiting: VecDeque::new(),
            refreshing: false,
        }
    }
}

#[derive(Default)]
struct Tables {
    sockets: HashMap<u64, SocketEntry>,
    users: HashMap<i64, UserHere>,
    watches: HashMap<i64, Watch>,
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
const MAX_HELD: usize = 4096;

pub struct Hub {
    tables: Mutex<Tables>,
    broker: Arc<dyn Broker>,
    store: Arc<dyn HubStore>,
    pub stats: HubStats,
    me: Weak<Hub>,
    /// Told of every revocation this instance hears of (the access-token check keeps a list).
    on_revoked: Box<dyn Fn(i64, &[i64]) + Send + Sync>,
}

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

impl Hub {
    pub fn new(
        broker: Arc<dyn Broker>,
        store: Arc<dyn HubStore>,
        on_revoked: Box<dyn Fn(i64, &[i64]) + Send + Sync>,
    ) -> Arc<Self> {
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
        user_id: i64,
        auth_session: i64,
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

    /// The user's memberships, read after `register`: each conversation's routing is taken from the newest of
    /// what the hub knows and this list, by version.
    pub fn sync_user(&self, user_id: i64, states: Vec<ConversationState>) {
        let mut t = self.tables();
        let Some(user) = t.users.get(&user_id) else { return };
        let left = user.left_while_syncing.clone();
        for state in states {
            if left.get(&state.id).is_some_and(|&removed_at| removed_at > state.version) {
                continue; // Read before a removal that has since arrived.
            }
            let event = super::membership_of(state);
            self.apply_membership(&mut t, &event, true);
        }
        if let Some(user) = t.users.get_mut(&user_id) {
            user.syncing = user.syncing.saturating_sub(1);
            if user.syncing == 0 {
                user.left_while_syncing.clear();
            }
        }
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

    fn unwatch(&self, t: &mut Tables, conversation_id: i64) {
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
    pub fn local_users(&self) -> Vec<i64> {
        self.tables().users.keys().copied().collect()
    }

    pub fn is_online_here(&self, user_id: i64) -> bool {
        self.tables().users.contains_key(&user_id)
    }

    /// Whether the hub routes this conversation to this user.
    pub fn routes_to(&self, user_id: i64, conversation_id: i64) -> bool {
        self.tables().users.get(&user_id).is_some_and(|u| u.conversations.contains(&conversation_id))
    }

    /// The membership version this instance routes the conversation by (0 when it does not watch it).
    pub fn version_of(&self, conversation_id: i64) -> i64 {
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

    fn conversation_event(&self, t: &mut Tables, conversation_id: i64, out: Outgoing) {
        let Some(watch) = t.watches.get_mut(&conversation_id) else { return };
        if out.version > watch.version || !watch.waiting.is_empty() {
            if watch.waiting.len() >= MAX_HELD {
                return self.abandon(t, conversation_id);
            }
            let behind = out.version > watch.version;
            watch.waiting.push_back(out);
            if behind && !watch.refreshing {
                watch.refreshing = true;
                self.schedule_refresh(conversation_id);
            }
            return;
        }
        self.route_event(t, conversation_id, out);
    }

    /// An event whose membership the routing has caught up with.
    fn route_event(&self, t: &mut Tables, conversation_id: i64, out: Outgoing) {
        match out.seq {
            Some(seq) => self.sequence(t, conversation_id, seq, out),
            None => self.deliver_to_members(t, conversation_id, &out),
        }
    }

    /// Deliver waiting events now covered by the routing's version.
    fn release_waiting(&self, t: &mut Tables, conversation_id: i64) {
        loop {
            let Some(watch) = t.watches.get_mut(&conversation_id) else { return };
            if watch.waiting.front().is_none_or(|out| out.version > watch.version) {
                return;
            }
            let Some(out) = watch.waiting.pop_front() else { return };
            self.route_event(t, conversation_id, out);
        }
    }

    /// A conversation's membership at `event.version`. From the broker (and `sync_user`) it replaces older
    /// routing; the change's `removed` frames and personal views go out once.
    fn apply_membership(&self, t: &mut Tables, event: &MembershipEvent, from_sync: bool) {
        let conversation_id = event.conversation_id;
        let local: HashSet<i64> = event.members.iter().map(|&(u, _)| u).filter(|u| t.users.contains_key(u)).collect();
        let news = match t.watches.get(&conversation_id) {
            None => true,
            // A membership list read for a socket still describes users the watch may not have had yet.
            Some(watch) if from_sync => event.version >= watch.version,
            Some(watch) => event.version > watch.version,
        };
        if news {
            let mut dropped: Vec<i64> = Vec::new();
            match t.watches.get_mut(&conversation_id) {
                Some(watch) => {
                    dropped = watch.members.difference(&local).copied().collect();
                    let added: Vec<i64> = local.difference(&watch.members).copied().collect();
                    watch.members = local.clone();
                    watch.version = event.version;
                    for user_id in &dropped {
                        if let Some(user) = t.users.get_mut(user_id) {
                            user.conversations.remove(&conversation_id);
                        }
                    }
                    for user_id in &added {
                        if let Some(user) = t.users.get_mut(user_id) {
                            user.conversations.insert(conversation_id);
                        }
                    }
                }
                None if !local.is_empty() => {
                    t.watches.insert(conversation_id, Watch::new(event.version, event.last_seq, local.clone()));
                    self.broker.subscribe(Topic::Conversation(conversation_id));
                    for user_id in &local {
                        if let Some(user) = t.users.get_mut(user_id) {
                            user.conversations.insert(conversation_id);
                        }
                    }
                }
                None => {}
            }
            // `removed` to everyone here the change took out: those routed until now, and those whose sockets
            // are still reading their memberships (the list they get may predate the removal). Once each: the
            // event may arrive twice, by the conversation's channel and by the user's.
            let mut told: HashSet<i64> = HashSet::new();
            for &user_id in &dropped {
                told.insert(user_id);
                if let Some(user) = t.users.get_mut(&user_id)
                    && user.syncing > 0
                {
                    user.left_while_syncing.insert(conversation_id, event.version);
                }
            }
            for &user_id in &event.left {
                if local.contains(&user_id) || told.contains(&user_id) {
                    continue;
                }
                let Some(user) = t.users.get_mut(&user_id) else { continue };
                let known = user.left_while_syncing.get(&conversation_id).copied().unwrap_or(0);
                if user.syncing > 0 && known < event.version {
                    user.left_while_syncing.insert(conversation_id, event.version);
                    told.insert(user_id);
                }
            }
            if !told.is_empty() {
                let removed = ByteString::from(super::to_json(&ServerFrame::Removed { conversation_id }));
                let out = Outgoing {
                    text: removed,
                    stored_at: None,
                    seq: None,
                    version: 0,
                    delivery: Delivery::Reliable,
                    skip_session: None,
                    skip_users: Vec::new(),
                };
                for user_id in told {
                    self.deliver_to_user(t, user_id, &out);
                }
            }
            match t.watches.get(&conversation_id) {
                Some(watch) if watch.members.is_empty() => self.unwatch(t, conversation_id),
                Some(_) => self.release_waiting(t, conversation_id),
                None => {}
            }
        }
        if event.view.is_empty() {
            return;
        }
        let Some(watch) = t.watches.get_mut(&conversation_id) else { return };
        if event.version <= watch.view_version {
            return;
        }
        watch.view_version = event.version;
        let recipients: Vec<i64> = watch.members.iter().copied().collect();
        for user_id in recipients {
            let last_read = event.members.iter().find(|&&(u, _)| u == user_id).map_or(0, |&(_, r)| r);
            let frame = conversation_frame(&event.view, last_read, (event.last_seq - last_read).max(0));
            let out = Outgoing {
                text: ByteString::from(frame),
                stored_at: None,
                seq: None,
                version: 0,
                delivery: Delivery::Reliable,
                skip_session: None,
                skip_users: Vec::new(),
            };
            self.deliver_to_user(t, user_id, &out);
        }
    }

    /// The routing of a conversation cannot be brought up to date: close its local members' sockets (they
    /// reconnect, read their memberships afresh and catch up by seq) rather than guess.
    fn abandon(&self, t: &mut Tables, conversation_id: i64) {
        let Some(watch) = t.watches.get(&conversation_id) else { return };
        let members = watch.members.clone();
        self.close_where(t, |entry| members.contains(&entry.user_id), close_code::TOO_SLOW);
        self.unwatch(t, conversation_id);
    }

    fn close_where(&self, t: &Tables, pick: impl Fn(&SocketEntry) -> bool, code: u16) {
        for entry in t.sockets.values().filter(|e| pick(e)) {
            if code == close_code::TOO_SLOW && !entry.kill.fired() {
                self.stats.slow_consumer_closes.fetch_add(1, Ordering::Relaxed);
            }
            entry.kill.fire(code);
        }
    }

    /// Read the conversation's membership after a short wait (the change is most likely on its way through the
    /// broker), unless it arrived meanwhile.
    fn schedule_refresh(&self, conversation_id: i64) {
        let (me, store) = (self.me.clone(), self.store.clone());
        tokio::spawn(async move {
            tokio::time::sleep(MEMBERSHIP_WAIT).await;
            let Some(hub) = me.upgrade() else { return };
            let still_behind = {
                let mut t = hub.tables();
                let Some(watch) = t.watches.get_mut(&conversation_id) else { return };
                let behind = watch.waiting.front().is_some_and(|out| out.version > watch.version);
                if !behind {
                    watch.refreshing = false;
                }
                behind
            };
            if !still_behind {
                return;
            }
            hub.stats.membership_refreshes.fetch_add(1, Ordering::Relaxed);
            let state = store.conversation_state(conversation_id).await;
            let mut t = hub.tables();
            match state {
                Some(state) => hub.apply_membership(&mut t, &super::membership_of(state), false),
                None => return hub.abandon(&mut t, conversation_id),
            }
            let Some(watch) = t.watches.get_mut(&conversation_id) else { return };
            watch.refreshing = false;
            if watch.waiting.front().is_some_and(|out| out.version > watch.version) {
                // The database is behind what an event claims: nothing sane to route by.
                hub.abandon(&mut t, conversation_id);
            }
        });
    }

    /// Hand out a conversation's messages in seq order: in order at once, early ones after the ones before
    /// them (which the broker brings, or the database after GAP_WAIT), old ones never again.
    fn sequence(&self, t: &mut Tables, conversation_id: i64, seq: i64, out: Outgoing) {
        let Some(watch) = t.watches.get_mut(&conversation_id) else { return };
        if seq < watch.next_seq {
            return;
        }
        if seq > watch.next_seq {
            watch.held.insert(seq, out);
            if watch.held.len() > MAX_HELD {
                // Give up on the gap rather than hold without bound; clients catch up by seq.
                self.flush_held(t, conversation_id);
            } else if !watch.filling {
                watch.filling = true;
                self.schedule_fill(conversation_id);
            }
            return;
        }
        watch.next_seq += 1;
        self.deliver_to_members(t, conversation_id, &out);
        self.release_held(t, conversation_id);
    }

    /// Deliver held messages that are now next in line.
    fn release_held(&self, t: &mut Tables, conversation_id: i64) {
        loop {
            let Some(watch) = t.watches.get_mut(&conversation_id) else { return };
            let next = watch.next_seq;
            let Some(out) = watch.held.remove(&next) else { return };
            watch.next_seq += 1;
            self.deliver_to_members(t, conversation_id, &out);
        }
    }

    /// Deliver every held message in order, whatever gaps remain, and move on past them.
    fn flush_held(&self, t: &mut Tables, conversation_id: i64) {
        let Some(watch) = t.watches.get_mut(&conversation_id) else { return };
        let held = std::mem::take(&mut watch.held);
        if let Some((&last, _)) = held.iter().next_back() {
            watch.next_seq = last + 1;
        }
        watch.filling = false;
        for out in held.values() {
            self.deliver_to_members(t, conversation_id, out);
        }
    }

    fn schedule_fill(&self, conversation_id: i64) {
        let (me, store) = (self.me.clone(), self.store.clone());
        tokio::spawn(async move {
            tokio::time::sleep(GAP_WAIT).await;
            let Some(hub) = me.upgrade() else { return };
            let gap = {
                let t = hub.tables();
                t.watches.get(&conversation_id).and_then(|w| {
                    w.held.keys().next().filter(|&&first| first > w.next_seq).map(|&first| (w.next_seq - 1, first))
                })
            };
            let filled = match gap {
                Some((after, before)) => store.messages_between(conversation_id, after, before).await,
                None => Some(Vec::new()),
            };
            let mut t = hub.tables();
            match filled {
                Some(messages) => {
                    // Earlier than a held message that passed the membership check, so stored under a membership
                    // no newer than the routing's.
                    for (seq, json) in messages {
                        let Some(watch) = t.watches.get_mut(&conversation_id) else { return };
                        if watch.next_seq != seq {
                            continue;
                        }
                        watch.next_seq += 1;
                        let out = Outgoing {
                            text: json.into(),
                            stored_at: None,
                            seq: Some(seq),
                            version: 0,
                            delivery: Delivery::Reliable,
                            skip_session: None,
                            skip_users: Vec::new(),
                        };
                        hub.deliver_to_members(&t, conversation_id, &out);
                    }
                    hub.release_held(&mut t, conversation_id);
                    // Whatever the database could not explain is handed out as it is.
                    if t.watches.get(&conversation_id).is_some_and(|w| !w.held.is_empty()) {
                        hub.flush_held(&mut t, conversation_id);
                    }
                }
                None => hub.flush_held(&mut t, conversation_id),
            }
            if let Some(watch) = t.watches.get_mut(&conversation_id) {
                watch.filling = false;
            }
        });
    }

    fn deliver_to_members(&self, t: &Tables, conversation_id: i64, out: &Outgoing) {
        let Some(watch) = t.watches.get(&conversation_id) else { return };
        for &user_id in &watch.members {
            if !out.skip_users.contains(&user_id) {
                self.deliver_to_user(t, user_id, out);
            }
        }
    }

    fn deliver_to_user(&self, t: &Tables, user_id: i64, out: &Outgoing) {
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
    pub fn set_auth_session(&self, socket_id: u64, auth_session: i64) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::local::LocalBroker;
    use crate::db::conversations::MemberState;
    use crate::realtime::mailbox::MailboxLimits;
    use futures_util::future::BoxFuture;

    /// A database as the hub sees it: fixed answers.
    #[derive(Default)]
    struct FakeStore {
        messages: Vec<(i64, String)>,
        state: Option<ConversationState>,
    }

    impl HubStore for FakeStore {
        fn messages_between(&self, _: i64, after: i64, before: i64) -> BoxFuture<'static, Option<Vec<(i64, String)>>> {
            let found = self.messages.iter().filter(|(s, _)| *s > after && *s < before).cloned().collect();
            Box::pin(async move { Some(found) })
        }

        fn conversation_state(&self, _: i64) -> BoxFuture<'static, Option<ConversationState>> {
            let state = self.state.clone();
            Box::pin(async move { state })
        }
    }

    fn state(version: i64, last_seq: i64, members: &[i64]) -> ConversationState {
        ConversationState {
            id: 7,
            version,
            last_seq,
            members: members.iter().map(|&user_id| MemberState { user_id, last_read_seq: 0 }).collect(),
        }
    }

    struct Socket {
        mailbox: Arc<Mailbox>,
        kill: Arc<KillSwitch>,
    }

    impl Socket {
        fn drain(&self) -> Vec<String> {
            let waker = futures_util::task::noop_waker();
            let mut cx = std::task::Context::from_waker(&waker);
            let mut out = Vec::new();
            while let std::task::Poll::Ready(o) = self.mailbox.poll_pop(&mut cx) {
                out.push(o.text.to_string());
            }
            out
        }
    }

    fn hub_with(store: FakeStore) -> Arc<Hub> {
        Hub::new(Arc::new(LocalBroker), Arc::new(store), Box::new(|_, _| {}))
    }

    fn connect(hub: &Hub, socket_id: u64, user_id: i64, frames: usize) -> Socket {
        let mailbox = Arc::new(Mailbox::new(MailboxLimits { frames, bytes: 1 << 20 }));
        let kill = Arc::new(KillSwitch::default());
        hub.register(socket_id, user_id, 1, mailbox.clone(), kill.clone());
        Socket { mailbox, kill }
    }

    fn frame(json: &str, seq: Option<i64>, version: i64, delivery: Delivery) -> Envelope {
        Envelope {
            origin: 2,
            route: Route::Conversation(7),
            payload: Payload::Frame(FrameEvent {
                json: json.into(),
                stored_at: None,
                seq,
                version,
                delivery,
                skip_session: None,
                skip_users: Vec::new(),
            }),
        }
    }

    fn message(seq: i64) -> Envelope {
        frame(&format!("m{seq}"), Some(seq), 1, Delivery::Reliable)
    }

    fn membership(version: i64, members: &[i64], left: &[i64]) -> Envelope {
        Envelope {
            origin: 2,
            route: Route::Conversation(7),
            payload: Payload::Membership(MembershipEvent {
                conversation_id: 7,
                version,
                last_seq: 0,
                members: members.iter().map(|&u| (u, 0)).collect(),
                left: left.to_vec(),
                view: String::new(),
            }),
        }
    }

    #[tokio::test]
    async fn messages_that_arrive_early_wait_for_the_ones_before_them() {
        let hub = hub_with(FakeStore::default());
        let socket = connect(&hub, 10, 100, 16);
        hub.sync_user(100, vec![state(1, 0, &[100])]);
        hub.dispatch(&message(1));
        hub.dispatch(&message(3));
        assert_eq!(socket.drain(), ["m1"], "3 waits for 2");
        hub.dispatch(&message(2));
        assert_eq!(socket.drain(), ["m2", "m3"]);
        hub.dispatch(&message(2));
        assert!(socket.drain().is_empty(), "a repeat is not delivered again");
    }

    #[tokio::test]
    async fn a_gap_the_broker_never_fills_is_read_from_the_database() {
        let store = FakeStore { messages: vec![(2, "m2".into()), (3, "m3".into())], state: None };
        let hub = hub_with(store);
        let socket = connect(&hub, 10, 100, 16);
        hub.sync_user(100, vec![state(1, 0, &[100])]);
        hub.dispatch(&message(1));
        hub.dispatch(&message(4));
        assert_eq!(socket.drain(), ["m1"]);
        tokio::time::sleep(GAP_WAIT * 3).await;
        assert_eq!(socket.drain(), ["m2", "m3", "m4"]);
    }

    #[tokio::test]
    async fn a_full_mailbox_sheds_typing_first_and_closes_the_socket_rather_than_drop_a_message() {
        let hub = hub_with(FakeStore::default());
        let socket = connect(&hub, 10, 100, 8);
        hub.sync_user(100, vec![state(1, 0, &[100])]);
        for seq in 1..=6 {
            hub.dispatch(&message(seq));
        }
        hub.dispatch(&frame("typing", None, 1, Delivery::Ephemeral));
        assert_eq!(hub.stats.shed_ephemeral.load(Ordering::Relaxed), 1, "typing shed with a quarter left");
        assert!(!socket.kill.fired());
        for seq in 7..=9 {
            hub.dispatch(&message(seq));
        }
        assert!(socket.kill.fired(), "a message that does not fit closes the socket");
        assert_eq!(socket.kill.wait().await, close_code::TOO_SLOW);
        assert_eq!(socket.drain().len(), 8, "what was queued is intact");
    }

    #[tokio::test]
    async fn an_event_stamped_after_a_removal_waits_for_the_removal_and_never_reaches_the_removed_member() {
        let hub = hub_with(FakeStore::default());
        let alice = connect(&hub, 1, 100, 64);
        let bob = connect(&hub, 2, 200, 64);
        hub.sync_user(100, vec![state(1, 0, &[100, 200])]);
        hub.sync_user(200, vec![state(1, 0, &[100, 200])]);
        // Bob's removal (version 2) is still on its way when a message stored after it arrives.
        hub.dispatch(&frame("m1", Some(1), 2, Delivery::Reliable));
        assert!(alice.drain().is_empty() && bob.drain().is_empty(), "held until the routing reaches version 2");
        hub.dispatch(&membership(2, &[100], &[200]));
        assert_eq!(alice.drain(), ["m1"]);
        assert_eq!(bob.drain(), [r#"{"type":"removed","conversation_id":7}"#]);
    }

    #[tokio::test]
    async fn a_removal_that_never_arrives_is_read_from_the_database() {
        let store = FakeStore { messages: vec![], state: Some(state(2, 0, &[100])) };
        let hub = hub_with(store);
        let alice = connect(&hub, 1, 100, 64);
        let bob = connect(&hub, 2, 200, 64);
        hub.sync_user(100, vec![state(1, 0, &[100, 200])]);
        hub.sync_user(200, vec![state(1, 0, &[100, 200])]);
        hub.dispatch(&frame("typing", None, 2, Delivery::Ephemeral));
        tokio::time::sleep(MEMBERSHIP_WAIT * 3).await;
        assert_eq!(alice.drain(), ["typing"]);
        assert_eq!(bob.drain(), [r#"{"type":"removed","conversation_id":7}"#]);
        assert!(!hub.routes_to(200, 7));
    }

    #[tokio::test]
    async fn a_membership_list_read_before_a_removal_that_arrived_meanwhile_does_not_route_the_member_again() {
        let hub = hub_with(FakeStore::default());
        let _alice = connect(&hub, 1, 100, 64);
        hub.sync_user(100, vec![state(1, 0, &[100, 200])]);
        // Bob's socket registers; his removal arrives while his membership list (read before it) is in flight.
        let bob = connect(&hub, 2, 200, 64);
        hub.dispatch(&membership(2, &[100], &[200]));
        hub.sync_user(200, vec![state(1, 0, &[100, 200])]);
        assert!(!hub.routes_to(200, 7));
        assert_eq!(bob.drain(), [r#"{"type":"removed","conversation_id":7}"#], "told, though never routed");
        hub.dispatch(&frame("m1", Some(1), 2, Delivery::Reliable));
        assert!(bob.drain().is_empty());
    }

    #[tokio::test]
    async fn ordering_state_goes_with_the_last_watcher() {
        let hub = hub_with(FakeStore::default());
        let _socket = connect(&hub, 10, 100, 16);
        hub.sync_user(100, vec![state(1, 0, &[100])]);
        assert_eq!(hub.watched_count(), 1);
        hub.unregister(10);
        assert_eq!(hub.watched_count(), 0, "nothing is kept for a conversation nobody here watches");
    }

    #[tokio::test]
    async fn a_change_view_goes_to_each_member_once_with_their_own_read_position() {
        let hub = hub_with(FakeStore::default());
        let alice = connect(&hub, 1, 100, 64);
        hub.sync_user(100, vec![state(1, 0, &[100, 200])]);
        let mut event = MembershipEvent {
            conversation_id: 7,
            version: 2,
            last_seq: 5,
            members: vec![(100, 3), (200, 5)],
            left: vec![],
            view: r#"{"id":7"#.into(),
        };
        let envelope = |e: &MembershipEvent| Envelope {
            origin: 2,
            route: Route::Users(vec![100]),
            payload: Payload::Membership(e.clone()),
        };
        hub.dispatch(&envelope(&event));
        hub.dispatch(&envelope(&event));
        assert_eq!(
            alice.drain(),
            [r#"{"type":"conversation","conversation":{"id":7,"last_read_seq":3,"unread_count":2}}"#]
        );
        event.version = 3;
        hub.dispatch(&envelope(&event));
        assert_eq!(alice.drain().len(), 1);
    }
}
