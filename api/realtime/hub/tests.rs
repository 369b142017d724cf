//! The hub's routing, ordering and shedding, against a fake store.

use super::*;
use crate::broker::local::LocalBroker;
use crate::db::conversations::{ConversationState, MemberState};
use crate::ids::{ConversationId, Seq, SessionId, UserId};
use crate::realtime::mailbox::MailboxLimits;
use crate::realtime::{MembershipEvent, store::HubStore};
use futures_util::future::BoxFuture;
use std::sync::atomic::Ordering;

/// A database as the hub sees it: fixed answers.
#[derive(Default)]
struct FakeStore {
    messages: Vec<(Seq, String)>,
    state: Option<ConversationState>,
}

impl HubStore for FakeStore {
    fn messages_between(
        &self,
        _: ConversationId,
        after: Seq,
        before: Seq,
    ) -> BoxFuture<'static, Option<Vec<(Seq, String)>>> {
        let found = self.messages.iter().filter(|(s, _)| *s > after && *s < before).cloned().collect();
        Box::pin(async move { Some(found) })
    }

    fn conversation_state(&self, _: ConversationId) -> BoxFuture<'static, Option<ConversationState>> {
        let state = self.state.clone();
        Box::pin(async move { state })
    }
}

fn state(version: i64, last_seq: i64, members: &[i64]) -> ConversationState {
    ConversationState {
        id: ConversationId(7),
        version,
        last_seq: Seq(last_seq),
        members: members
            .iter()
            .map(|&user_id| MemberState { user_id: UserId(user_id), last_read_seq: Seq(0) })
            .collect(),
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
    hub.register(socket_id, UserId(user_id), SessionId(1), mailbox.clone(), kill.clone());
    Socket { mailbox, kill }
}

fn frame(json: &str, seq: Option<i64>, version: i64, delivery: Delivery) -> Envelope {
    Envelope {
        origin: 2,
        route: Route::Conversation(ConversationId(7)),
        payload: Payload::Frame(FrameEvent {
            json: json.into(),
            stored_at: None,
            seq: seq.map(Seq),
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
        route: Route::Conversation(ConversationId(7)),
        payload: Payload::Membership(MembershipEvent {
            conversation_id: ConversationId(7),
            version,
            last_seq: Seq(0),
            members: members.iter().map(|&u| (UserId(u), Seq(0))).collect(),
            left: left.iter().copied().map(UserId).collect(),
            timeline_seq: None,
            view: String::new(),
        }),
    }
}

#[tokio::test]
async fn messages_that_arrive_early_wait_for_the_ones_before_them() {
    let hub = hub_with(FakeStore::default());
    let socket = connect(&hub, 10, 100, 16);
    hub.sync_user(UserId(100), vec![state(1, 0, &[100])]);
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
    let store = FakeStore { messages: vec![(Seq(2), "m2".into()), (Seq(3), "m3".into())], state: None };
    let hub = hub_with(store);
    let socket = connect(&hub, 10, 100, 16);
    hub.sync_user(UserId(100), vec![state(1, 0, &[100])]);
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
    hub.sync_user(UserId(100), vec![state(1, 0, &[100])]);
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
    hub.sync_user(UserId(100), vec![state(1, 0, &[100, 200])]);
    hub.sync_user(UserId(200), vec![state(1, 0, &[100, 200])]);
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
    hub.sync_user(UserId(100), vec![state(1, 0, &[100, 200])]);
    hub.sync_user(UserId(200), vec![state(1, 0, &[100, 200])]);
    hub.dispatch(&frame("typing", None, 2, Delivery::Ephemeral));
    tokio::time::sleep(MEMBERSHIP_WAIT * 3).await;
    assert_eq!(alice.drain(), ["typing"]);
    assert_eq!(bob.drain(), [r#"{"type":"removed","conversation_id":7}"#]);
    assert!(!hub.routes_to(UserId(200), ConversationId(7)));
}

#[tokio::test]
async fn a_membership_list_read_before_a_removal_that_arrived_meanwhile_does_not_route_the_member_again() {
    let hub = hub_with(FakeStore::default());
    let _alice = connect(&hub, 1, 100, 64);
    hub.sync_user(UserId(100), vec![state(1, 0, &[100, 200])]);
    // Bob's socket registers; his removal arrives while his membership list (read before it) is in flight.
    let bob = connect(&hub, 2, 200, 64);
    hub.dispatch(&membership(2, &[100], &[200]));
    hub.sync_user(UserId(200), vec![state(1, 0, &[100, 200])]);
    assert!(!hub.routes_to(UserId(200), ConversationId(7)));
    assert_eq!(bob.drain(), [r#"{"type":"removed","conversation_id":7}"#], "told, though never routed");
    hub.dispatch(&frame("m1", Some(1), 2, Delivery::Reliable));
    assert!(bob.drain().is_empty());
}

#[tokio::test]
async fn ordering_state_goes_with_the_last_watcher() {
    let hub = hub_with(FakeStore::default());
    let _socket = connect(&hub, 10, 100, 16);
    hub.sync_user(UserId(100), vec![state(1, 0, &[100])]);
    assert_eq!(hub.watched_count(), 1);
    hub.unregister(10);
    assert_eq!(hub.watched_count(), 0, "nothing is kept for a conversation nobody here watches");
}

#[tokio::test]
async fn a_change_view_goes_to_each_member_once_with_their_own_read_position() {
    let hub = hub_with(FakeStore::default());
    let alice = connect(&hub, 1, 100, 64);
    hub.sync_user(UserId(100), vec![state(1, 0, &[100, 200])]);
    let mut event = MembershipEvent {
        conversation_id: ConversationId(7),
        version: 2,
        last_seq: Seq(5),
        members: vec![(UserId(100), Seq(3)), (UserId(200), Seq(5))],
        left: vec![],
        timeline_seq: None,
        view: r#"{"id":7"#.into(),
    };
    let envelope = |e: &MembershipEvent| Envelope {
        origin: 2,
        route: Route::Users(vec![UserId(100)]),
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
