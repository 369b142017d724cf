//! Who is connected to this instance, and which of their sockets an event reaches. Routing tables only: the
//! sockets themselves are actors reached through their bounded mailboxes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;

use bytestring::ByteString;
use tokio::sync::{Notify, mpsc};

use super::{Envelope, Outbound, Payload, Route};
use crate::broker::{Broker, Topic};

/// A socket's entry: its user, its mailbox, and the switch that closes it ahead of whatever is queued.
struct SessionEntry {
    user_id: i64,
    mailbox: mpsc::Sender<Outbound>,
    kill: Arc<KillSwitch>,
}

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

/// A conversation's order on this instance: the next seq to hand out, and messages that arrived ahead of it
/// (from another instance, or before one that Redis lost).
struct Sequence {
    next: i64,
    held: BTreeMap<i64, Held>,
    filling: bool,
}

struct Held {
    /// Serialised once; every socket gets a reference-counted copy.
    text: ByteString,
    stored_at: Option<Instant>,
    skip_session: Option<u64>,
}

/// Reads the messages of a conversation with seq in (after, before) from the database, as `message` frames.
pub type GapFiller = Arc<dyn Fn(i64, i64, i64) -> BoxFuture<'static, Option<Vec<(i64, String)>>> + Send + Sync>;

/// How long a message waits for the ones before it before they are read from the database.
const GAP_WAIT: Duration = Duration::from_millis(150);
const MAX_HELD: usize = 4096;

#[derive(Default)]
struct Tables {
    sessions: HashMap<u64, SessionEntry>,
    by_user: HashMap<i64, Vec<u64>>,
    /// Conversation → its members that have a socket here.
    by_conversation: HashMap<i64, HashSet<i64>>,
    /// User → conversations they are in (only for users with a socket here).
    conversations_of: HashMap<i64, HashSet<i64>>,
    sequences: HashMap<i64, Sequence>,
}

#[derive(Default)]
pub struct HubStats {
    pub shed_ephemeral: AtomicU64,
    pub slow_consumer_closes: AtomicU64,
    pub delivered: AtomicU64,
}

pub struct Hub {
    tables: Mutex<Tables>,
    broker: Arc<dyn Broker>,
    pub stats: HubStats,
    gap_filler: OnceLock<GapFiller>,
    me: OnceLock<Weak<Hub>>,
}

/// What registering or unregistering a socket changed for its user on this instance.
pub struct Presence {
    /// The first socket of the user here opened, or the last closed.
    pub changed: bool,
}

impl Hub {
    pub fn new(broker: Arc<dyn Broker>) -> Arc<Self> {
        let hub = Arc::new(Hub {
            tables: Mutex::default(),
            broker,
            stats: HubStats::default(),
            gap_filler: OnceLock::new(),
            me: OnceLock::new(),
        });
        let _ = hub.me.set(Arc::downgrade(&hub));
        hub
    }

    /// Where the hub reads messages that did not arrive in order (set once at start).
    pub fn set_gap_filler(&self, filler: GapFiller) {
        let _ = self.gap_filler.set(filler);
    }

    fn tables(&self) -> MutexGuard<'_, Tables> {
        // A panic while holding the lock leaves plain maps behind, still consistent enough to route with.
        self.tables.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn register(
        &self,
        session_id: u64,
        user_id: i64,
        conversations: &[(i64, i64)],
        mailbox: mpsc::Sender<Outbound>,
        kill: Arc<KillSwitch>,
    ) -> Presence {
        let mut subscribe = Vec::new();
        let first = {
            let mut t = self.tables();
            t.sessions.insert(session_id, SessionEntry { user_id, mailbox, kill });
            let sessions = t.by_user.entry(user_id).or_default();
            sessions.push(session_id);
            let first = sessions.len() == 1;
            if first {
                subscribe.push(Topic::User(user_id));
                for &(conversation_id, last_seq) in conversations {
                    if join_locked(&mut t, conversation_id, user_id) {
                        subscribe.push(Topic::Conversation(conversation_id));
                    }
                    // Newly watched: messages after the stored last seq are next.
                    t.sequences.entry(conversation_id).or_insert_with(|| Sequence::starting_after(last_seq));
                }
            }
            first
        };
        for topic in subscribe {
            self.broker.subscribe(topic);
        }
        Presence { changed: first }
    }

    pub fn unregister(&self, session_id: u64) -> Presence {
        let mut unsubscribe = Vec::new();
        let last = {
            let mut t = self.tables();
            let Some(entry) = t.sessions.remove(&session_id) else { return Presence { changed: false } };
            let user_id = entry.user_id;
            let remaining = match t.by_user.get_mut(&user_id) {
                Some(sessions) => {
                    sessions.retain(|&s| s != session_id);
                    sessions.len()
                }
                None => 0,
            };
            if remaining == 0 {
                t.by_user.remove(&user_id);
                unsubscribe.push(Topic::User(user_id));
                let conversations = t.conversations_of.remove(&user_id).unwrap_or_default();
                for conversation_id in conversations {
                    if let Some(users) = t.by_conversation.get_mut(&conversation_id) {
                        users.remove(&user_id);
                        if users.is_empty() {
                            t.by_conversation.remove(&conversation_id);
                            t.sequences.remove(&conversation_id);
                            unsubscribe.push(Topic::Conversation(conversation_id));
                        }
                    }
                }
            }
            remaining == 0
        };
        for topic in unsubscribe {
            self.broker.unsubscribe(topic);
        }
        Presence { changed: last }
    }

    /// Users with at least one socket on this instance.
    pub fn local_users(&self) -> Vec<i64> {
        self.tables().by_user.keys().copied().collect()
    }

    pub fn is_online_here(&self, user_id: i64) -> bool {
        self.tables().by_user.contains_key(&user_id)
    }

    /// Whether the hub routes this conversation to this user (true only while they have a socket here).
    pub fn routes_to(&self, user_id: i64, conversation_id: i64) -> bool {
        self.tables().conversations_of.get(&user_id).is_some_and(|set| set.contains(&conversation_id))
    }

    pub fn socket_count(&self) -> usize {
        self.tables().sessions.len()
    }

    /// Deliver an envelope to the sockets on this instance it routes to.
    pub fn dispatch(&self, envelope: &Envelope) {
        let mut subscribe = None;
        let mut unsubscribe = None;
        let mut to_close = Vec::new();
        {
            let mut t = self.tables();
            match &envelope.payload {
                Payload::Joined { conversation_id, user_id } => {
                    if t.by_user.contains_key(user_id) && join_locked(&mut t, *conversation_id, *user_id) {
                        subscribe = Some(Topic::Conversation(*conversation_id));
                    }
                }
                Payload::Left { conversation_id, user_id, json } => {
                    if let Some(set) = t.conversations_of.get_mut(user_id) {
                        set.remove(conversation_id);
                    }
                    if let Some(users) = t.by_conversation.get_mut(conversation_id) {
                        users.remove(user_id);
                        if users.is_empty() {
                            t.by_conversation.remove(conversation_id);
                            t.sequences.remove(conversation_id);
                            unsubscribe = Some(Topic::Conversation(*conversation_id));
                        }
                    }
                    let text = ByteString::from(json.as_str());
                    self.deliver_to_user(&mut t, *user_id, &text, None, false, None, &mut to_close);
                }
                Payload::Frame { json, stored_at, seq: Some(seq), skip_session, .. } => {
                    if let Route::Conversation(conversation_id) = envelope.route {
                        let held = Held {
                            text: ByteString::from(json.as_str()),
                            stored_at: *stored_at,
                            skip_session: *skip_session,
                        };
                        self.sequence(&mut t, conversation_id, *seq, held, &mut to_close);
                    }
                }
                Payload::Frame { json, stored_at, ephemeral, skip_session, skip_user, .. } => {
                    let text = ByteString::from(json.as_str());
                    let users: Vec<i64> = match &envelope.route {
                        Route::Conversation(id) => {
                            t.by_conversation.get(id).map(|u| u.iter().copied().collect()).unwrap_or_default()
                        }
                        Route::Users(ids) => ids.clone(),
                    };
                    for user_id in users {
                        if Some(user_id) != *skip_user {
                            self.deliver_to_user(
                                &mut t,
                                user_id,
                                &text,
                                *stored_at,
                                *ephemeral,
                                *skip_session,
                                &mut to_close,
                            );
                        }
                    }
                }
            }
        }
        if let Some(topic) = subscribe {
            self.broker.subscribe(topic);
        }
        if let Some(topic) = unsubscribe {
            self.broker.unsubscribe(topic);
        }
        for kill in to_close {
            self.stats.slow_consumer_closes.fetch_add(1, Ordering::Relaxed);
            kill.fire(crate::protocol::close_code::TOO_SLOW);
        }
    }

    /// Hand out a conversation's messages in seq order: in order at once, early ones after the ones before
    /// them (which the broker brings, or the database after GAP_WAIT), old ones never again.
    fn sequence(
        &self,
        t: &mut Tables,
        conversation_id: i64,
        seq: i64,
        message: Held,
        to_close: &mut Vec<Arc<KillSwitch>>,
    ) {
        let Some(state) = t.sequences.get_mut(&conversation_id) else {
            // Watched here without a known position (joined after connecting): this one sets it.
            t.sequences.insert(conversation_id, Sequence::starting_after(seq - 1));
            return self.sequence(t, conversation_id, seq, message, to_close);
        };
        if seq < state.next {
            return;
        }
        if seq > state.next {
            state.held.insert(seq, message);
            if state.held.len() > MAX_HELD {
                // Give up on the gap rather than hold without bound; clients catch up by seq.
                self.flush_held(t, conversation_id, to_close);
            } else if !state.filling {
                state.filling = true;
                self.schedule_fill(conversation_id);
            }
            return;
        }
        state.next += 1;
        self.deliver_to_conversation(t, conversation_id, &message, to_close);
        self.release_held(t, conversation_id, to_close);
    }

    /// Deliver held messages that are now next in line.
    fn release_held(&self, t: &mut Tables, conversation_id: i64, to_close: &mut Vec<Arc<KillSwitch>>) {
        loop {
            let Some(state) = t.sequences.get_mut(&conversation_id) else { return };
            let next = state.next;
            let Some(message) = state.held.remove(&next) else { return };
            state.next += 1;
            self.deliver_to_conversation(t, conversation_id, &message, to_close);
        }
    }

    /// Deliver every held message in order, whatever gaps remain, and move on past them.
    fn flush_held(&self, t: &mut Tables, conversation_id: i64, to_close: &mut Vec<Arc<KillSwitch>>) {
        let Some(state) = t.sequences.get_mut(&conversation_id) else { return };
        let held = std::mem::take(&mut state.held);
        if let Some((&last, _)) = held.iter().next_back() {
            state.next = last + 1;
        }
        state.filling = false;
        for message in held.values() {
            self.deliver_to_conversation(t, conversation_id, message, to_close);
        }
    }

    fn schedule_fill(&self, conversation_id: i64) {
        let (Some(me), Some(filler)) = (self.me.get().cloned(), self.gap_filler.get().cloned()) else { return };
        tokio::spawn(async move {
            tokio::time::sleep(GAP_WAIT).await;
            let Some(hub) = me.upgrade() else { return };
            let gap = {
                let t = hub.tables();
                t.sequences.get(&conversation_id).and_then(|s| {
                    s.held.keys().next().filter(|&&first| first > s.next).map(|&first| (s.next - 1, first))
                })
            };
            let filled = match gap {
                Some((after, before)) => filler(conversation_id, after, before).await,
                None => Some(Vec::new()),
            };
            let mut to_close = Vec::new();
            {
                let mut t = hub.tables();
                match filled {
                    Some(messages) => {
                        for (seq, json) in messages {
                            let next = t.sequences.get(&conversation_id).map(|s| s.next);
                            if next == Some(seq) {
                                if let Some(state) = t.sequences.get_mut(&conversation_id) {
                                    state.next += 1;
                                }
                                let message = Held { text: json.into(), stored_at: None, skip_session: None };
                                hub.deliver_to_conversation(&mut t, conversation_id, &message, &mut to_close);
                            }
                        }
                        hub.release_held(&mut t, conversation_id, &mut to_close);
                        // Whatever the database could not explain is handed out as it is.
                        let stuck = t.sequences.get(&conversation_id).is_some_and(|s| !s.held.is_empty());
                        if stuck {
                            hub.flush_held(&mut t, conversation_id, &mut to_close);
                        }
                    }
                    None => hub.flush_held(&mut t, conversation_id, &mut to_close),
                }
                if let Some(state) = t.sequences.get_mut(&conversation_id) {
                    state.filling = false;
                }
            }
            for kill in to_close {
                hub.stats.slow_consumer_closes.fetch_add(1, Ordering::Relaxed);
                kill.fire(crate::protocol::close_code::TOO_SLOW);
            }
        });
    }

    fn deliver_to_conversation(
        &self,
        t: &mut Tables,
        conversation_id: i64,
        message: &Held,
        to_close: &mut Vec<Arc<KillSwitch>>,
    ) {
        let text = &message.text;
        let users: Vec<i64> =
            t.by_conversation.get(&conversation_id).map(|u| u.iter().copied().collect()).unwrap_or_default();
        for user_id in users {
            self.deliver_to_user(t, user_id, text, message.stored_at, false, message.skip_session, to_close);
        }
    }

    fn deliver_to_user(
        &self,
        t: &mut Tables,
        user_id: i64,
        text: &ByteString,
        stored_at: Option<std::time::Instant>,
        ephemeral: bool,
        skip_session: Option<u64>,
        to_close: &mut Vec<Arc<KillSwitch>>,
    ) {
        // Disjoint borrows of two tables: no copy of the user's session list on this per-delivery path.
        let Tables { by_user, sessions, .. } = t;
        let Some(user_sessions) = by_user.get(&user_id) else { return };
        for &session_id in user_sessions {
            if Some(session_id) == skip_session {
                continue;
            }
            let Some(entry) = sessions.get(&session_id) else { continue };
            if entry.kill.fired() {
                continue;
            }
            // Keep a quarter of the mailbox for messages: ephemeral events are shed before a message would be.
            if ephemeral && entry.mailbox.capacity() < entry.mailbox.max_capacity() / 4 {
                self.stats.shed_ephemeral.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            match entry.mailbox.try_send(Outbound::Text(text.clone(), stored_at)) {
                Ok(()) => {
                    self.stats.delivered.fetch_add(1, Ordering::Relaxed);
                }
                Err(mpsc::error::TrySendError::Full(_)) if ephemeral => {
                    self.stats.shed_ephemeral.fetch_add(1, Ordering::Relaxed);
                }
                Err(mpsc::error::TrySendError::Full(_)) => {
                    // Dropping a message would break the client's view; close it and let it catch up by seq.
                    to_close.push(entry.kill.clone());
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        }
    }

    /// Push a frame to one socket (an ack). False when its mailbox is full: it is then being closed as too slow.
    pub fn send_to_session(&self, session_id: u64, text: ByteString) -> bool {
        let kill = {
            let t = self.tables();
            let Some(entry) = t.sessions.get(&session_id) else { return false };
            match entry.mailbox.try_send(Outbound::Text(text, None)) {
                Ok(()) => return true,
                Err(mpsc::error::TrySendError::Closed(_)) => return false,
                Err(mpsc::error::TrySendError::Full(_)) => entry.kill.clone(),
            }
        };
        if !kill.fired() {
            self.stats.slow_consumer_closes.fetch_add(1, Ordering::Relaxed);
            kill.fire(crate::protocol::close_code::TOO_SLOW);
        }
        false
    }

    /// Close every socket here (shutdown).
    pub fn close_all(&self, code: u16) {
        for entry in self.tables().sessions.values() {
            entry.kill.fire(code);
        }
    }
}

impl Sequence {
    fn starting_after(last_seq: i64) -> Self {
        Sequence { next: last_seq + 1, held: BTreeMap::new(), filling: false }
    }
}

/// True when this made the conversation newly watched on this instance.
fn join_locked(t: &mut Tables, conversation_id: i64, user_id: i64) -> bool {
    t.conversations_of.entry(user_id).or_default().insert(conversation_id);
    let users = t.by_conversation.entry(conversation_id).or_default();
    let newly_watched = users.is_empty();
    users.insert(user_id);
    newly_watched
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::local::LocalBroker;
    use crate::realtime::{Envelope, Payload, Route};

    fn hub_with_socket(mailbox: usize) -> (Arc<Hub>, mpsc::Receiver<Outbound>, Arc<KillSwitch>) {
        let hub = Hub::new(Arc::new(LocalBroker));
        let (tx, rx) = mpsc::channel(mailbox);
        let kill = Arc::new(KillSwitch::default());
        hub.register(10, 100, &[(7, 0)], tx, kill.clone());
        (hub, rx, kill)
    }

    fn message(seq: i64) -> Envelope {
        Envelope {
            origin: 2,
            route: Route::Conversation(7),
            payload: Payload::Frame {
                json: format!("m{seq}"),
                stored_at: None,
                seq: Some(seq),
                ephemeral: false,
                skip_session: None,
                skip_user: None,
            },
        }
    }

    fn typing() -> Envelope {
        Envelope {
            origin: 2,
            route: Route::Conversation(7),
            payload: Payload::Frame {
                json: "typing".into(),
                stored_at: None,
                seq: None,
                ephemeral: true,
                skip_session: None,
                skip_user: None,
            },
        }
    }

    fn drain(rx: &mut mpsc::Receiver<Outbound>) -> Vec<String> {
        let mut out = Vec::new();
        while let Ok(Outbound::Text(text, _)) = rx.try_recv() {
            out.push(text.to_string());
        }
        out
    }

    #[tokio::test]
    async fn messages_that_arrive_early_wait_for_the_ones_before_them() {
        let (hub, mut rx, _) = hub_with_socket(16);
        hub.dispatch(&message(1));
        hub.dispatch(&message(3));
        assert_eq!(drain(&mut rx), ["m1"], "3 waits for 2");
        hub.dispatch(&message(2));
        assert_eq!(drain(&mut rx), ["m2", "m3"]);
        hub.dispatch(&message(2));
        assert!(drain(&mut rx).is_empty(), "a repeat is not delivered again");
    }

    #[tokio::test]
    async fn a_gap_the_broker_never_fills_is_read_from_the_database() {
        let (hub, mut rx, _) = hub_with_socket(16);
        hub.set_gap_filler(Arc::new(|conversation, after, before| {
            Box::pin(async move {
                assert_eq!((conversation, after, before), (7, 1, 4));
                Some(vec![(2, "m2".to_owned()), (3, "m3".to_owned())])
            })
        }));
        hub.dispatch(&message(1));
        hub.dispatch(&message(4));
        assert_eq!(drain(&mut rx), ["m1"]);
        tokio::time::sleep(GAP_WAIT * 3).await;
        assert_eq!(drain(&mut rx), ["m2", "m3", "m4"]);
    }

    #[tokio::test]
    async fn a_full_mailbox_sheds_typing_first_and_closes_the_socket_rather_than_drop_a_message() {
        let (hub, mut rx, kill) = hub_with_socket(8);
        for seq in 1..=7 {
            hub.dispatch(&message(seq));
        }
        hub.dispatch(&typing());
        assert_eq!(hub.stats.shed_ephemeral.load(Ordering::Relaxed), 1, "typing shed with a quarter left");
        assert!(!kill.fired());
        for seq in 8..=9 {
            hub.dispatch(&message(seq));
        }
        assert!(kill.fired(), "a message that does not fit closes the socket");
        assert_eq!(kill.wait().await, crate::protocol::close_code::TOO_SLOW);
        assert_eq!(drain(&mut rx).len(), 8, "what was queued is intact");
    }
}
