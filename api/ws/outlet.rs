//! A socket's write side: frames from the mailbox into actix-ws one at a time, large ones as continuation
//! fragments, so that what waits beyond the mailbox (actix-ws's own queue of 32 messages) stays small whatever
//! the frame sizes, and the mailbox's byte budget is the real bound. It never blocks the actor: it is polled as
//! one branch of the actor's `select!`.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::web::Bytes;
use actix_ws::{Closed, Item, Message as WsMessage};
use bytestring::ByteString;
use futures_util::{FutureExt, Sink};
use tokio::time::Instant;

use crate::realtime::mailbox::Mailbox;

/// Frames sent in one turn before the actor's other branches get theirs.
const BATCH: usize = 64;

/// Frames larger than this go out as continuation fragments: what sits in actix-ws's own queue (32 messages)
/// then stays small whatever the frame sizes, so the mailbox's byte budget is the real bound.
const FRAGMENT_BYTES: usize = 4096;

/// The socket's write side: one frame at a time from the mailbox, fragmented when large.
pub(super) struct Outlet {
    pub(super) session: actix_ws::Session,
    current: Option<InFlight>,
    /// The socket stopped taking frames and the actor loop has not yet been told (so it arms the drain deadline).
    stall_reported: bool,
}

struct InFlight {
    bytes: Bytes,
    sent: usize,
    stored_at: Option<std::time::Instant>,
    /// Last time a piece of it went out.
    moved_at: Instant,
}

impl Outlet {
    pub(super) fn new(session: actix_ws::Session) -> Self {
        Outlet { session, current: None, stall_reported: false }
    }

    /// Sends the mailbox's frames while the socket takes them, timing stored messages' fan-out. Pending while
    /// there is nothing to send or the socket takes nothing more; Ready when the socket is gone, when it stopped
    /// taking frames (once per stall, so the actor arms its drain deadline), or after a batch, so the actor's
    /// other work gets its turn.
    pub(super) fn poll_send(
        &mut self,
        mailbox: &Mailbox,
        fanout: &metrics::Histogram,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), Closed>> {
        let mut sent = 0;
        loop {
            if sent == BATCH {
                return Poll::Ready(Ok(()));
            }
            if self.current.is_none() {
                let out = match mailbox.poll_pop(cx) {
                    Poll::Ready(out) => out,
                    Poll::Pending => return Poll::Pending,
                };
                self.current = Some(InFlight {
                    bytes: out.text.into_bytes(),
                    sent: 0,
                    stored_at: out.stored_at,
                    moved_at: Instant::now(),
                });
            }
            match Pin::new(&mut self.session).poll_ready(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(closed)) => return Poll::Ready(Err(closed)),
                // Once per stall, a return with nothing sent: the loop re-arms its drain deadline.
                Poll::Pending if !self.stall_reported => {
                    self.stall_reported = true;
                    return Poll::Ready(Ok(()));
                }
                Poll::Pending => return Poll::Pending,
            }
            self.stall_reported = false;
            let Some(flight) = self.current.as_mut() else { continue };
            let total = flight.bytes.len();
            let message = if flight.sent == 0 && total <= FRAGMENT_BYTES {
                flight.sent = total;
                // Whole frames are valid UTF-8: they came from a ByteString.
                WsMessage::Text(ByteString::try_from(flight.bytes.clone()).unwrap_or_default())
            } else {
                let end = fragment_end(&flight.bytes, flight.sent);
                let piece = flight.bytes.slice(flight.sent..end);
                let item = match (flight.sent == 0, end == total) {
                    (true, _) => Item::FirstText(piece),
                    (false, false) => Item::Continue(piece),
                    (false, true) => Item::Last(piece),
                };
                flight.sent = end;
                WsMessage::Continuation(item)
            };
            flight.moved_at = Instant::now();
            Pin::new(&mut self.session).start_send(message)?;
            if flight.sent == flight.bytes.len() {
                if let Some(stored_at) = flight.stored_at {
                    fanout.record(stored_at.elapsed().as_secs_f64());
                }
                self.current = None;
                sent += 1;
            }
        }
    }

    /// Since when the client has left frames waiting (None when nothing waits).
    pub(super) fn waiting_since(&self, mailbox: &Mailbox) -> Option<Instant> {
        match &self.current {
            Some(flight) => Some(flight.moved_at),
            None => mailbox.waiting_since().map(Instant::from_std),
        }
    }

    /// A control frame, only if the socket takes it now: a client that does not read gets no pings queued up.
    pub(super) fn try_control(&mut self, message: WsMessage) -> Result<(), Closed> {
        let ready = futures_util::future::poll_fn(|cx| Pin::new(&mut self.session).poll_ready(cx)).now_or_never();
        match ready {
            Some(Ok(())) => Pin::new(&mut self.session).start_send(message),
            Some(Err(closed)) => Err(closed),
            None => Ok(()),
        }
    }
}

/// Where the fragment starting at `from` ends: at most FRAGMENT_BYTES on, at a character boundary.
fn fragment_end(bytes: &[u8], from: usize) -> usize {
    let mut end = (from + FRAGMENT_BYTES).min(bytes.len());
    // UTF-8 continuation bytes are 0b10xx_xxxx: step back to the start of a character.
    while end < bytes.len() && end > from + 1 && (bytes[end] & 0xC0) == 0x80 {
        end -= 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_end_on_character_boundaries_and_cover_the_whole_frame() {
        let text = "é".repeat(5000); // two bytes each
        let bytes = text.as_bytes();
        let mut from = 0;
        let mut pieces = Vec::new();
        while from < bytes.len() {
            let end = fragment_end(bytes, from);
            assert!(end > from && end - from <= FRAGMENT_BYTES);
            assert!(std::str::from_utf8(&bytes[from..end]).is_ok(), "a whole number of characters");
            pieces.push(&bytes[from..end]);
            from = end;
        }
        assert_eq!(pieces.concat(), bytes);
    }
}
