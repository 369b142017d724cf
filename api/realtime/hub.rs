//! Who is connected to this instance, and which of their sockets an event reaches. Routing tables only: the
//! sockets themselves are actors reached through their bounded mailboxes.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

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

#[derive(Default)]
struct Tables {
    sessions: HashMap<u64, SessionEntry>,
    by_user: HashMap<i64, Vec<u64>>,
    /// Conversation → its members that have a socket here.
    by_conversation: HashMap<i64, HashSet<i64>>,
    /// User → conversations they are in (only for users with a socket here).
    conversations_of: HashMap<i64, HashSet<i64>>,
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
    instance_id: u64,
    pub stats: HubStats,
}

/// What registering or unregistering a socket changed for its user on this instance.
pub struct Presence {
    /// The first socket of the user here opened, or the last closed.
    pub changed: bool,
}

impl Hub {
    pub fn new(broker: Arc<dyn Broker>, instance_id: u64) -> Self {
        Hub { tables: Mutex::default(), broker, instance_id, stats: HubStats::default() }
    }

    fn tables(&self) -> MutexGuard<'_, Tables> {
        // A panic while holding the lock leaves plain maps behind, still consistent enough to route with.
        self.tables.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn register(
        &self,
        session_id: u64,
        user_id: i64,
        conversation_ids: &[i64],
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
                for &conversation_id in conversation_ids {
                    if join_locked(&mut t, conversation_id, user_id) {
                        subscribe.push(Topic::Conversation(conversation_id));
                    }
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
                            unsubscribe = Some(Topic::Conversation(*conversation_id));
                        }
                    }
                    let text = ByteString::from(json.as_str());
                    self.deliver_to_user(&mut t, *user_id, &text, None, false, None, &mut to_close);
                }
                Payload::Frame { json, stored_at, ephemeral, skip_session, skip_user } => {
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
        let Some(sessions) = t.by_user.get(&user_id) else { return };
        let sessions = sessions.clone();
        for session_id in sessions {
            if Some(session_id) == skip_session {
                continue;
            }
            let Some(entry) = t.sessions.get_mut(&session_id) else { continue };
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

    pub fn instance_id(&self) -> u64 {
        self.instance_id
    }

    /// Every topic this instance needs (for re-subscribing after the broker reconnects).
    pub fn topics(&self) -> Vec<Topic> {
        let t = self.tables();
        t.by_user
            .keys()
            .map(|&id| Topic::User(id))
            .chain(t.by_conversation.keys().map(|&id| Topic::Conversation(id)))
            .collect()
    }

    /// Close every socket here (shutdown).
    pub fn close_all(&self, code: u16) {
        for entry in self.tables().sessions.values() {
            entry.kill.fire(code);
        }
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
