// Typing, both ways: our own announcements (throttled while keys are pressed, a stop after idle time, on blur
// and on send) and the lapse of other people's indicators (the reducer's expireTyping, once a second).
import type { ClientFrame } from '../realtime/frames';
import { expireTyping } from './reducer';
import type { ChatState, Store } from './store';

/** Re-announce own typing at most this often; announce a stop after this much idle time. */
const TYPING_RESEND_MS = 3_000;
const TYPING_IDLE_MS = 4_000;
const PRUNE_EVERY_MS = 1_000;

export class Typing {
  /** conversation id → when we last announced typing there, and the pending idle stop. */
  private readonly sent = new Map<number, { at: number; stop: ReturnType<typeof setTimeout> }>();
  private prune: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly store: Store<ChatState>,
    private readonly send: (frame: ClientFrame) => boolean,
  ) {}

  start(): void {
    this.prune = setInterval(() => this.store.update((s) => expireTyping(s, Date.now())), PRUNE_EVERY_MS);
  }

  stop(): void {
    if (this.prune) clearInterval(this.prune);
    for (const t of this.sent.values()) clearTimeout(t.stop);
    this.sent.clear();
  }

  /** Called on every keystroke in the composer: announces typing (throttled) and its end after idle time. */
  keystroke(conversationId: number): void {
    const now = Date.now();
    const cur = this.sent.get(conversationId);
    if (cur) clearTimeout(cur.stop);
    const at = cur && now - cur.at < TYPING_RESEND_MS ? cur.at : now;
    if (at === now) this.send({ type: 'typing', conversation_id: conversationId, is_typing: true });
    this.sent.set(conversationId, { at, stop: setTimeout(() => this.stopped(conversationId), TYPING_IDLE_MS) });
  }

  /** Announces the end of our typing there, if we had announced any. */
  stopped(conversationId: number): void {
    const cur = this.sent.get(conversationId);
    if (!cur) return;
    clearTimeout(cur.stop);
    this.sent.delete(conversationId);
    this.send({ type: 'typing', conversation_id: conversationId, is_typing: false });
  }
}
