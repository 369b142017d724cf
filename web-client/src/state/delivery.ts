// "Delivered" receipts: the server is told how far this client has received each conversation, so senders see
// ✓✓ before anyone reads. Whatever brings messages in (a live frame, a page, the conversation list, a catch-up)
// changes the state; the state is what is compared with what the server already knows, so no source can be
// missed. Coalesced: one frame per conversation per short window, a few conversations per window, because client
// frames share a per-user rate limit with typing, reads and sends.
import { lastSeq } from '../logic/messages';
import type { ClientFrame } from '../realtime/frames';
import type { ChatState, Store } from './store';

/** How long changes gather before the frames go out. */
export const DELIVERED_DELAY_MS = 600;
/** At most this many `delivered` frames per window (a first list load may bring many conversations). */
export const DELIVERED_PER_WINDOW = 8;

/**
 * The conversations whose received position is past what the server knows (the member's delivered or read
 * position, or what this client already said), with the seq to say; reading implies delivery.
 */
export function deliveredToSay(state: ChatState, said: ReadonlyMap<number, number>): Array<{ conversationId: number; upTo: number }> {
  const me = state.me.id;
  const out: Array<{ conversationId: number; upTo: number }> = [];
  for (const c of Object.values(state.conversations)) {
    const v = state.views[c.id];
    const received = Math.max(c.last_message?.seq ?? 0, v?.loaded ? lastSeq(v.messages) : 0);
    const known = Math.max(state.delivered[c.id]?.[me] ?? 0, state.reads[c.id]?.[me] ?? 0, c.last_read_seq, said.get(c.id) ?? 0);
    if (received > known) out.push({ conversationId: c.id, upTo: received });
  }
  return out;
}

export class Delivery {
  private readonly said = new Map<number, number>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private off: (() => void) | null = null;

  constructor(
    private readonly store: Store<ChatState>,
    private readonly send: (frame: ClientFrame) => boolean,
  ) {}

  start(): void {
    this.off ??= this.store.subscribe(() => this.schedule());
    this.schedule();
  }

  stop(): void {
    this.off?.();
    this.off = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.timer || !this.off) return;
    if (this.store.get().connection.state !== 'open') return;
    if (deliveredToSay(this.store.get(), this.said).length === 0) return;
    this.timer = setTimeout(() => this.flush(), DELIVERED_DELAY_MS);
  }

  private flush(): void {
    this.timer = null;
    const due = deliveredToSay(this.store.get(), this.said);
    for (const { conversationId, upTo } of due.slice(0, DELIVERED_PER_WINDOW)) {
      // A socket that went down says nothing; its reconnect (a state change) tries again.
      if (!this.send({ type: 'delivered', conversation_id: conversationId, up_to_seq: upTo })) return;
      this.said.set(conversationId, upTo);
    }
    if (due.length > DELIVERED_PER_WINDOW) this.schedule();
  }
}
