//! The hub's routing by membership: a socket's memberships read at registration (`sync_user`), membership
//! changes as they arrive, and events stamped with a membership newer than the routing's, which wait for it.

use std::collections::HashSet;
use std::sync::atomic::Ordering as AtomicOrdering;

use bytestring::ByteString;

use super::{Hub, MEMBERSHIP_WAIT, Outgoing, Tables, Watch};
use crate::broker::{MembershipEvent, Topic};
use crate::db::conversations::ConversationState;
use crate::ids::Seq;
use crate::ids::{ConversationId, UserId};
use crate::protocol::{ServerFrame, close_code, conversation_frame};
use crate::realtime::ordering::MAX_HELD;

impl Hub {
    /// The user's memberships, read after `register`: each conversation's routing is taken from the newest of
    /// what the hub knows and this list, by version.
    pub fn sync_user(&self, user_id: UserId, states: Vec<ConversationState>) {
        let mut t = self.tables();
        let Some(user) = t.users.get(&user_id) else { return };
        let left = user.left_while_syncing.clone();
        for state in states {
            if left.get(&state.id).is_some_and(|&removed_at| removed_at > state.version) {
                continue; // Read before a removal that has since arrived.
            }
            let event = crate::realtime::membership_of(state);
            self.apply_membership(&mut t, &event, true);
        }
        if let Some(user) = t.users.get_mut(&user_id) {
            user.syncing = user.syncing.saturating_sub(1);
            if user.syncing == 0 {
                user.left_while_syncing.clear();
            }
        }
    }

    pub(super) fn conversation_event(&self, t: &mut Tables, conversation_id: ConversationId, out: Outgoing) {
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
    fn route_event(&self, t: &mut Tables, conversation_id: ConversationId, out: Outgoing) {
        match out.seq {
            Some(seq) => self.sequence(t, conversation_id, seq, out),
            None => self.deliver_to_members(t, conversation_id, &out),
        }
    }

    /// Deliver waiting events now covered by the routing's version.
    fn release_waiting(&self, t: &mut Tables, conversation_id: ConversationId) {
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
    pub(super) fn apply_membership(&self, t: &mut Tables, event: &MembershipEvent, from_sync: bool) {
        let conversation_id = event.conversation_id;
        let local: HashSet<UserId> =
            event.members.iter().map(|&(u, _)| u).filter(|u| t.users.contains_key(u)).collect();
        let news = match t.watches.get(&conversation_id) {
            None => true,
            // A membership list read for a socket still describes users the watch may not have had yet.
            Some(watch) if from_sync => event.version >= watch.version,
            Some(watch) => event.version > watch.version,
        };
        if news {
            let mut dropped: Vec<UserId> = Vec::new();
            match t.watches.get_mut(&conversation_id) {
                Some(watch) => {
                    dropped = watch.members.difference(&local).copied().collect();
                    let added: Vec<UserId> = local.difference(&watch.members).copied().collect();
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
                    let history_up_to =
                        event.timeline_seq.map_or(event.last_seq, |seq| Seq(seq.get() - 1).min(event.last_seq));
                    t.watches.insert(conversation_id, Watch::new(event.version, history_up_to, local.clone()));
                    self.broker.subscribe(Topic::Conversation(conversation_id));
                    if let Some(seq) = event.timeline_seq {
                        self.schedule_tail(conversation_id, seq);
                    }
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
            let mut told: HashSet<UserId> = HashSet::new();
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
                let removed = ByteString::from(crate::realtime::to_json(&ServerFrame::Removed {
                    conversation_id: conversation_id.get(),
                }));
                let out = Outgoing::reliable(removed);
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
        let recipients: Vec<UserId> = watch.members.iter().copied().collect();
        for user_id in recipients {
            let last_read = event.members.iter().find(|&&(u, _)| u == user_id).map_or(Seq(0), |&(_, r)| r);
            let frame = conversation_frame(&event.view, last_read.get(), (event.last_seq - last_read).max(0));
            self.deliver_to_user(t, user_id, &Outgoing::reliable(ByteString::from(frame)));
        }
    }

    /// The routing of a conversation cannot be brought up to date: close its local members' sockets (they
    /// reconnect, read their memberships afresh and catch up by seq) rather than guess.
    fn abandon(&self, t: &mut Tables, conversation_id: ConversationId) {
        let Some(watch) = t.watches.get(&conversation_id) else { return };
        let members = watch.members.clone();
        self.close_where(t, |entry| members.contains(&entry.user_id), close_code::TOO_SLOW);
        self.unwatch(t, conversation_id);
    }

    /// Read the conversation's membership after a short wait (the change is most likely on its way through the
    /// broker), unless it arrived meanwhile.
    fn schedule_refresh(&self, conversation_id: ConversationId) {
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
            hub.stats.membership_refreshes.fetch_add(1, AtomicOrdering::Relaxed);
            let state = store.conversation_state(conversation_id).await;
            let mut t = hub.tables();
            match state {
                Some(state) => hub.apply_membership(&mut t, &crate::realtime::membership_of(state), false),
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
}
