//! One conversation's messages in seq order: each handed out once, in order. A message that arrives ahead of a
//! gap (from another instance, or after one the broker lost) waits for the ones before it, which the broker
//! brings or storage fills in; what neither can explain is handed out rather than held without bound. Pure
//! bookkeeping: the hub decides when to fill and whom to deliver to.

use crate::ids::Seq;
use std::collections::BTreeMap;

/// Most messages held behind one gap before giving up on it (clients catch up by seq).
pub const MAX_HELD: usize = 4096;

pub struct Ordering<T> {
    /// The next seq to hand out.
    next: Seq,
    held: BTreeMap<Seq, T>,
    /// A fill of the current gap is under way.
    filling: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Offered<T> {
    /// Handed out before: drop it.
    Stale,
    /// Hand these out now, in this order (the offered one, then held ones it unblocked).
    Ready(Vec<T>),
    /// Held behind a gap. `fill`: the first message held behind it, so the caller starts filling the gap.
    Held { fill: bool },
}

impl<T> Ordering<T> {
    /// Messages up to `last_seq` are history: the next one handed out is `last_seq + 1`.
    pub fn after(last_seq: Seq) -> Self {
        Ordering { next: last_seq.next(), held: BTreeMap::new(), filling: false }
    }

    pub fn offer(&mut self, seq: Seq, item: T) -> Offered<T> {
        if seq < self.next {
            return Offered::Stale;
        }
        if seq > self.next {
            self.held.insert(seq, item);
            if self.held.len() > MAX_HELD {
                return Offered::Ready(self.flush());
            }
            let fill = !self.filling;
            self.filling = true;
            return Offered::Held { fill };
        }
        self.next = self.next.next();
        let mut ready = vec![item];
        ready.extend(self.release());
        Offered::Ready(ready)
    }

    /// The next seq to hand out.
    pub fn next(&self) -> Seq {
        self.next
    }

    /// The first gap as (after, before): the seqs missing lie strictly between.
    pub fn gap(&self) -> Option<(Seq, Seq)> {
        let (&first, _) = self.held.iter().next()?;
        (first > self.next).then_some((Seq(self.next.0 - 1), first))
    }

    /// What storage had for the gap: what is next in line goes out, then what it unblocked; what still cannot
    /// be explained goes out as it is. The gap is closed either way.
    pub fn fill(&mut self, filled: impl IntoIterator<Item = (Seq, T)>) -> Vec<T> {
        for (seq, item) in filled {
            if seq >= self.next {
                self.held.entry(seq).or_insert(item);
            }
        }
        let mut ready = self.release();
        ready.extend(self.flush());
        ready
    }

    /// Give up on the gaps: every held message in order, and move on past them.
    pub fn flush(&mut self) -> Vec<T> {
        self.filling = false;
        let held = std::mem::take(&mut self.held);
        if let Some((&last, _)) = held.iter().next_back() {
            self.next = last.next();
        }
        held.into_values().collect()
    }

    /// Held messages that are now next in line.
    fn release(&mut self) -> Vec<T> {
        let mut ready = Vec::new();
        while let Some(item) = self.held.remove(&self.next) {
            self.next = self.next.next();
            ready.push(item);
        }
        if self.held.is_empty() {
            self.filling = false;
        }
        ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_messages_go_out_at_once_and_repeats_never() {
        let mut order = Ordering::after(Seq(0));
        assert_eq!(order.offer(Seq(1), "m1"), Offered::Ready(vec!["m1"]));
        assert_eq!(order.offer(Seq(2), "m2"), Offered::Ready(vec!["m2"]));
        assert_eq!(order.offer(Seq(2), "m2"), Offered::Stale);
        assert_eq!(order.offer(Seq(1), "m1"), Offered::Stale);
    }

    #[test]
    fn a_message_ahead_of_a_gap_waits_and_asks_for_one_fill_per_gap() {
        let mut order = Ordering::after(Seq(0));
        assert_eq!(order.offer(Seq(3), "m3"), Offered::Held { fill: true });
        assert_eq!(order.offer(Seq(4), "m4"), Offered::Held { fill: false });
        assert_eq!(order.gap(), Some((Seq(0), Seq(3))));
        assert_eq!(order.offer(Seq(1), "m1"), Offered::Ready(vec!["m1"]));
        assert_eq!(order.offer(Seq(2), "m2"), Offered::Ready(vec!["m2", "m3", "m4"]));
        assert_eq!(order.gap(), None);
        assert_eq!(order.offer(Seq(6), "m6"), Offered::Held { fill: true }, "a new gap asks again");
    }

    #[test]
    fn a_fill_hands_out_the_missing_then_the_held_and_what_it_cannot_explain() {
        let mut order = Ordering::after(Seq(10));
        order.offer(Seq(13), "m13");
        order.offer(Seq(16), "m16");
        let ready = order.fill([(Seq(11), "m11"), (Seq(12), "m12"), (Seq(14), "m14")]);
        assert_eq!(ready, ["m11", "m12", "m13", "m14", "m16"], "15 is gone for good; 16 is not held for it");
        assert_eq!(order.offer(Seq(15), "m15"), Offered::Stale);
        assert_eq!(order.offer(Seq(17), "m17"), Offered::Ready(vec!["m17"]));
    }

    #[test]
    fn a_failed_fill_gives_the_held_ones_out_in_order() {
        let mut order = Ordering::after(Seq(0));
        order.offer(Seq(5), "m5");
        order.offer(Seq(3), "m3");
        assert_eq!(order.flush(), ["m3", "m5"]);
        assert_eq!(order.offer(Seq(6), "m6"), Offered::Ready(vec!["m6"]));
    }

    #[test]
    fn holding_is_bounded() {
        let mut order = Ordering::after(Seq(0));
        for seq in 2..(MAX_HELD as i64 + 2) {
            assert!(matches!(order.offer(Seq(seq), seq), Offered::Held { .. }));
        }
        match order.offer(Seq(MAX_HELD as i64 + 2), 0) {
            Offered::Ready(all) => assert_eq!(all.len(), MAX_HELD + 1),
            other => panic!("{other:?}"),
        }
    }
}
