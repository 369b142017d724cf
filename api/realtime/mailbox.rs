//! A socket's outbound queue. Everything a socket is sent goes through it — live events from the hub, and the
//! socket's own replies (acks, history pages, errors) — so one budget bounds what a socket can make the server
//! hold for a client that does not read: a frame count and a byte count. Typing and presence are shed first,
//! a newer read receipt replaces a queued one, and a frame that must arrive but does not fit means the socket is
//! too slow: the caller closes it (4008) and the client catches up by seq.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::Instant;

use crate::ids::{ConversationId, UserId};
use bytestring::ByteString;
use futures_util::task::AtomicWaker;

pub use crate::broker::Delivery;

/// One frame on its way out.
#[derive(Debug)]
pub struct Outbound {
    /// Serialised once at the source; sockets share it.
    pub text: ByteString,
    /// When the message was stored, for the fan-out latency metric.
    pub stored_at: Option<Instant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    Queued,
    /// Dropped on purpose (ephemeral, queue filling up).
    Shed,
    /// A frame that must arrive did not fit: the socket has to be closed.
    Overflow,
}

#[derive(Debug, Clone, Copy)]
pub struct MailboxLimits {
    pub frames: usize,
    pub bytes: usize,
}

pub struct Mailbox {
    state: Mutex<State>,
    waker: AtomicWaker,
    limits: MailboxLimits,
}

struct State {
    queue: VecDeque<Outbound>,
    bytes: usize,
    /// Frames taken out so far: the front of the queue is frame number `popped`.
    popped: u64,
    /// Queued receipts by (conversation, reader) → their frame number.
    receipts: HashMap<(ConversationId, UserId), u64>,
    /// Last time the queue moved (a pop, or a push into an empty queue): how long the client has not drained.
    moved_at: Instant,
    closed: bool,
}

impl Mailbox {
    pub fn new(limits: MailboxLimits) -> Self {
        Mailbox {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                bytes: 0,
                popped: 0,
                receipts: HashMap::new(),
                moved_at: Instant::now(),
                closed: false,
            }),
            waker: AtomicWaker::new(),
            limits,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn push(&self, text: ByteString, stored_at: Option<Instant>, delivery: Delivery) -> Pushed {
        let mut s = self.state();
        if s.closed {
            return Pushed::Shed;
        }
        let len = text.len();
        if let Delivery::Receipt { conversation_id, user_id } = delivery {
            let key = (conversation_id, user_id);
            if let Some(&number) = s.receipts.get(&key)
                && let Some(index) = number.checked_sub(s.popped)
            {
                let index = index as usize;
                let old = s.queue[index].text.len();
                s.bytes = s.bytes - old + len;
                s.queue[index].text = text;
                return Pushed::Queued;
            }
        }
        let (frames, bytes) = (s.queue.len(), s.bytes);
        if delivery != Delivery::Reliable
            && (frames + 1 > self.limits.frames * 3 / 4 || bytes + len > self.limits.bytes * 3 / 4)
        {
            return Pushed::Shed;
        }
        // One frame larger than the whole budget still goes into an empty queue: a big history page is fine for a
        // client that reads.
        if frames + 1 > self.limits.frames || (frames > 0 && bytes + len > self.limits.bytes) {
            return Pushed::Overflow;
        }
        if frames == 0 {
            s.moved_at = Instant::now();
        }
        if let Delivery::Receipt { conversation_id, user_id } = delivery {
            let number = s.popped + frames as u64;
            s.receipts.insert((conversation_id, user_id), number);
        }
        s.queue.push_back(Outbound { text, stored_at });
        s.bytes += len;
        drop(s);
        self.waker.wake();
        Pushed::Queued
    }

    /// The next frame, waking the task that polls when one arrives.
    pub fn poll_pop(&self, cx: &mut Context<'_>) -> Poll<Outbound> {
        if let Some(out) = self.try_pop() {
            return Poll::Ready(out);
        }
        self.waker.register(cx.waker());
        match self.try_pop() {
            Some(out) => Poll::Ready(out),
            None => Poll::Pending,
        }
    }

    fn try_pop(&self) -> Option<Outbound> {
        let mut s = self.state();
        let out = s.queue.pop_front()?;
        let number = s.popped;
        s.popped += 1;
        s.bytes -= out.text.len();
        s.moved_at = Instant::now();
        if !s.receipts.is_empty() {
            s.receipts.retain(|_, n| *n != number);
        }
        Some(out)
    }

    /// Since when frames have waited without the client taking any (None when nothing waits).
    pub fn waiting_since(&self) -> Option<Instant> {
        let s = self.state();
        (!s.queue.is_empty()).then_some(s.moved_at)
    }

    pub fn is_empty(&self) -> bool {
        self.state().queue.is_empty()
    }

    /// (frames, bytes) queued.
    pub fn len(&self) -> (usize, usize) {
        let s = self.state();
        (s.queue.len(), s.bytes)
    }

    /// The socket is ending: drop what is queued (its memory goes now, not when the task gets round to it) and
    /// refuse more.
    pub fn close(&self) {
        let mut s = self.state();
        s.closed = true;
        s.queue = VecDeque::new();
        s.receipts = HashMap::new();
        s.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailbox(frames: usize, bytes: usize) -> Mailbox {
        Mailbox::new(MailboxLimits { frames, bytes })
    }

    fn text(len: usize) -> ByteString {
        ByteString::from("x".repeat(len))
    }

    fn drain(mailbox: &Mailbox) -> Vec<String> {
        std::iter::from_fn(|| mailbox.try_pop()).map(|o| o.text.to_string()).collect()
    }

    #[test]
    fn a_frame_that_must_arrive_but_exceeds_the_byte_budget_overflows() {
        let m = mailbox(100, 1000);
        assert_eq!(m.push(text(600), None, Delivery::Reliable), Pushed::Queued);
        assert_eq!(m.push(text(600), None, Delivery::Reliable), Pushed::Overflow);
        assert_eq!(m.len(), (1, 600));
    }

    #[test]
    fn one_frame_larger_than_the_budget_fits_into_an_empty_mailbox() {
        let m = mailbox(100, 1000);
        assert_eq!(m.push(text(5000), None, Delivery::Reliable), Pushed::Queued);
        assert_eq!(m.push(text(1), None, Delivery::Reliable), Pushed::Overflow);
    }

    #[test]
    fn ephemeral_frames_are_shed_before_the_queue_is_full() {
        let m = mailbox(8, 1 << 20);
        for _ in 0..6 {
            assert_eq!(m.push(text(1), None, Delivery::Reliable), Pushed::Queued);
        }
        assert_eq!(m.push(text(1), None, Delivery::Ephemeral), Pushed::Shed);
        assert_eq!(m.push(text(1), None, Delivery::Reliable), Pushed::Queued);
        assert_eq!(m.push(text(1), None, Delivery::Reliable), Pushed::Queued);
        assert_eq!(m.push(text(1), None, Delivery::Reliable), Pushed::Overflow);
    }

    #[test]
    fn a_newer_receipt_replaces_the_queued_one_of_the_same_reader() {
        let m = mailbox(16, 1 << 20);
        let receipt = |c, u| Delivery::Receipt { conversation_id: ConversationId(c), user_id: UserId(u) };
        m.push("a1".into(), None, receipt(1, 7));
        m.push("m".into(), None, Delivery::Reliable);
        m.push("a2".into(), None, receipt(1, 7));
        m.push("b1".into(), None, receipt(1, 8));
        m.push("a3".into(), None, receipt(1, 7));
        assert_eq!(drain(&m), ["a3", "m", "b1"]);
        m.push("a4".into(), None, receipt(1, 7));
        assert_eq!(drain(&m), ["a4"], "a receipt already sent is not replaced: a new one queues");
    }

    #[test]
    fn closing_frees_what_was_queued_and_refuses_more() {
        let m = mailbox(16, 1 << 20);
        m.push(text(100), None, Delivery::Reliable);
        m.close();
        assert_eq!(m.len(), (0, 0));
        assert_eq!(m.push(text(1), None, Delivery::Reliable), Pushed::Shed);
    }
}
