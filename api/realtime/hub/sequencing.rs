//! Handing a conversation's messages out in seq order (`realtime::ordering`), and filling gaps from storage.

use super::{GAP_WAIT, Hub, Outgoing, Tables};
use crate::ids::{ConversationId, Seq};
use crate::realtime::ordering::Offered;

impl Hub {
    /// A stored message whose membership the routing has caught up with: out in seq order.
    pub(super) fn sequence(&self, t: &mut Tables, conversation_id: ConversationId, seq: Seq, out: Outgoing) {
        let Some(watch) = t.watches.get_mut(&conversation_id) else { return };
        match watch.order.offer(seq, out) {
            Offered::Stale | Offered::Held { fill: false } => {}
            Offered::Held { fill: true } => self.schedule_fill(conversation_id),
            Offered::Ready(ready) => {
                for out in &ready {
                    self.deliver_to_members(t, conversation_id, out);
                }
            }
        }
    }

    /// A watch that starts at the event of the change that created it: the broker's copy of that event may have
    /// gone by before the new subscription took hold, and nothing later may come to reveal the gap. After a short
    /// wait, read it from storage unless it arrived.
    pub(super) fn schedule_tail(&self, conversation_id: ConversationId, seq: Seq) {
        let (me, store) = (self.me.clone(), self.store.clone());
        tokio::spawn(async move {
            tokio::time::sleep(GAP_WAIT).await;
            let Some(hub) = me.upgrade() else { return };
            let due = hub.tables().watches.get(&conversation_id).is_some_and(|w| w.order.next() <= seq);
            if !due {
                return;
            }
            let Some(messages) = store.messages_between(conversation_id, Seq(seq.get() - 1), seq.next()).await else {
                return;
            };
            let mut t = hub.tables();
            let Some(watch) = t.watches.get_mut(&conversation_id) else { return };
            let ready = watch.order.fill(
                messages
                    .into_iter()
                    .map(|(seq, json)| (seq, Outgoing { seq: Some(seq), ..Outgoing::reliable(json.into()) })),
            );
            for out in &ready {
                hub.deliver_to_members(&t, conversation_id, out);
            }
        });
    }

    /// After a short wait (the broker usually brings what is missing), read the gap from storage.
    fn schedule_fill(&self, conversation_id: ConversationId) {
        let (me, store) = (self.me.clone(), self.store.clone());
        tokio::spawn(async move {
            tokio::time::sleep(GAP_WAIT).await;
            let Some(hub) = me.upgrade() else { return };
            let gap = hub.tables().watches.get(&conversation_id).and_then(|w| w.order.gap());
            let filled = match gap {
                Some((after, before)) => store.messages_between(conversation_id, after, before).await,
                None => Some(Vec::new()),
            };
            let mut t = hub.tables();
            let Some(watch) = t.watches.get_mut(&conversation_id) else { return };
            // Earlier than a held message that passed the membership check, so stored under a membership no
            // newer than the routing's.
            let ready = match filled {
                Some(messages) => watch.order.fill(
                    messages
                        .into_iter()
                        .map(|(seq, json)| (seq, Outgoing { seq: Some(seq), ..Outgoing::reliable(json.into()) })),
                ),
                None => watch.order.flush(),
            };
            for out in &ready {
                hub.deliver_to_members(&t, conversation_id, out);
            }
        });
    }
}
