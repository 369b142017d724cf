// The outbox: messages the user wrote that the server has not stored yet. Shown at once (optimistic), kept in
// sessionStorage so a reload of the tab keeps them, delivered over the socket (failed when no ack comes in
// time) or over REST while the socket is down, and resent after every reconnect — the server stores a
// (conversation, client_id) once, so a resend is harmless. A message's attachments are uploaded before it enters
// the outbox: it keeps their ids (and what it takes to show them), and every resend names the same ids. A reply
// keeps the seq it answers (and the quote to show) the same way.
import { ApiError } from '../api/auth';
import { ok, type Api } from '../api/client';
import { featureApi } from '../api/features';
import type { Attachment, Message, ReplyPreview } from '../api/types';
import { newClientId, type PendingMessage } from '../logic/messages';
import type { ClientFrame } from '../realtime/frames';
import { describeActionError } from './errors';
import { withFailed } from './reducer';
import type { ChatState, Store } from './store';

/** A message the socket took but the server did not acknowledge within this time is shown as failed. */
const ACK_TIMEOUT_MS = 15_000;

function storageKey(userId: number): string {
  return `chat.outbox.${userId}`;
}

/** What this tab still had to send when it was last closed or reloaded; empty when storage is unusable. */
export function loadOutbox(userId: number): PendingMessage[] {
  try {
    const raw = sessionStorage.getItem(storageKey(userId));
    const list = raw ? (JSON.parse(raw) as PendingMessage[]) : [];
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}

/** `{attachment_ids}` of a pending message's uploads and `{reply_to_seq}` of a reply, or nothing for neither. */
function extras(p: PendingMessage): { attachment_ids?: string[]; reply_to_seq?: number } {
  return {
    ...(p.attachments?.length ? { attachment_ids: p.attachments.map((a) => a.id) } : {}),
    ...(p.reply_to_seq ? { reply_to_seq: p.reply_to_seq } : {}),
  };
}

export interface OutboxDeps {
  store: Store<ChatState>;
  api: Api;
  send: (frame: ClientFrame) => boolean;
  /** A message stored through REST goes in like one from the socket. */
  ingest: (conversationId: number, messages: readonly Message[]) => void;
}

export class Outbox {
  private readonly ackTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private lastJson = '';

  constructor(private readonly deps: OutboxDeps) {}

  /**
   * A new message in the outbox, shown as pending; null for one with neither text nor attachments. Deliver it
   * with `deliver`.
   */
  add(conversationId: number, body: string, attachments: readonly Attachment[] = [], replyTo?: ReplyPreview): PendingMessage | null {
    const text = body.trim();
    if (!text && attachments.length === 0) return null;
    const pending: PendingMessage = {
      conversation_id: conversationId,
      client_id: newClientId(),
      body: text,
      ...(attachments.length ? { attachments: [...attachments] } : {}),
      ...(replyTo ? { reply_to_seq: replyTo.seq, reply_to: replyTo } : {}),
      created_at: new Date().toISOString(),
      status: 'pending',
    };
    this.deps.store.update((s) => ({ ...s, outbox: [...s.outbox, pending] }));
    return pending;
  }

  /** Resends a failed message with its original client_id. */
  retry(clientId: string): void {
    const p = this.deps.store.get().outbox.find((x) => x.client_id === clientId);
    if (!p) return;
    const again: PendingMessage = { ...p, status: 'pending', error: undefined };
    this.deps.store.update((s) => ({ ...s, outbox: s.outbox.map((x) => (x.client_id === clientId ? again : x)) }));
    this.deliver(again);
  }

  discard(clientId: string): void {
    this.clearAckTimer(clientId);
    this.deps.store.update((s) => ({ ...s, outbox: s.outbox.filter((x) => x.client_id !== clientId) }));
  }

  /** After a (re)connect: everything still pending goes again. */
  resendPending(): void {
    for (const p of this.deps.store.get().outbox) if (p.status === 'pending') this.deliver(p);
  }

  /**
   * Over the socket when it is open (the ack settles it); otherwise over REST. A network failure leaves the
   * message pending: the next socket open resends it.
   */
  deliver(p: PendingMessage): void {
    const { store, api, send, ingest } = this.deps;
    const ids = extras(p);
    const sent = send({ type: 'new_message', conversation_id: p.conversation_id, client_id: p.client_id, body: p.body, ...ids });
    if (sent) {
      this.clearAckTimer(p.client_id);
      this.ackTimers.set(
        p.client_id,
        setTimeout(() => {
          this.ackTimers.delete(p.client_id);
          store.update((s) => withFailed(s, p.client_id, 'Not confirmed by the server.', true));
        }, ACK_TIMEOUT_MS),
      );
      return;
    }
    void ok(
      featureApi(api).POST('/api/conversations/{id}/messages', {
        params: { path: { id: p.conversation_id } },
        body: { body: p.body, client_id: p.client_id, ...ids },
      }),
    ).then(
      (m) => ingest(p.conversation_id, [m]),
      (e) => {
        if (e instanceof ApiError && e.status !== 401) {
          const error = describeActionError(e, 'send');
          store.update((s) => withFailed(s, p.client_id, error));
        }
        // Network failure: stays pending; resent when the socket is back.
      },
    );
  }

  /** The server answered these client_ids (stored or refused): their acks are no longer awaited. */
  answered(clientIds: Iterable<string>): void {
    for (const id of clientIds) this.clearAckTimer(id);
  }

  /** Writes the outbox to sessionStorage when it changed (called on every store update). */
  persist(): void {
    const s = this.deps.store.get();
    const json = JSON.stringify(s.outbox);
    if (json === this.lastJson) return;
    this.lastJson = json;
    try {
      sessionStorage.setItem(storageKey(s.me.id), json);
    } catch {
      /* storage full or disabled: the outbox lives in memory only */
    }
  }

  /** Signed out: what was waiting is dropped, not kept for the next sign-in in this tab. */
  forget(): void {
    try {
      sessionStorage.removeItem(storageKey(this.deps.store.get().me.id));
    } catch {
      /* storage disabled: nothing kept */
    }
  }

  stop(): void {
    for (const t of this.ackTimers.values()) clearTimeout(t);
    this.ackTimers.clear();
  }

  private clearAckTimer(clientId: string): void {
    const t = this.ackTimers.get(clientId);
    if (t) {
      clearTimeout(t);
      this.ackTimers.delete(clientId);
    }
  }
}
