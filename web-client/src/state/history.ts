// The stored messages of conversations over REST: the latest page when one is first opened, older pages on
// scroll (before_seq), catch-up (after_seq) until nothing is missing — after every (re)connect and after a gap
// before a live message — own messages edited or deleted, and the history around a message to jump to
// (around_seq; paging back with before_seq on a server without it). What comes back goes through `ingest`.
import { ok, type Api } from '../api/client';
import { featureApi } from '../api/features';
import type { Message } from '../api/types';
import { catchUpFrom, holdsSeq, lastSeq, mergeMessages } from '../logic/messages';
import { describeError } from './errors';
import { emptyView, type ChatState, type ConversationView, type Store } from './store';

const PAGE = 50;
// The server accepts limit 1..100.
const CATCH_UP_PAGE = 100;

export interface HistoryDeps {
  store: Store<ChatState>;
  api: Api;
  ingest: (conversationId: number, messages: readonly Message[]) => void;
  notice: (e: unknown) => void;
}

export class History {
  private readonly catchingUp = new Map<number, Promise<void>>();
  private readonly catchUpAgain = new Set<number>();

  constructor(private readonly deps: HistoryDeps) {}

  private get state(): ChatState {
    return this.deps.store.get();
  }

  private setView(id: number, fn: (v: ConversationView) => ConversationView): void {
    this.deps.store.update((s) => {
      const v = s.views[id] ?? emptyView();
      const next = fn(v);
      return next === v ? s : { ...s, views: { ...s.views, [id]: next } };
    });
  }

  private latestPage(id: number) {
    return ok(this.deps.api.GET('/api/conversations/{id}/messages', { params: { path: { id }, query: { limit: PAGE } } }));
  }

  /** The latest page of a conversation (its view is live from then on), then whatever came after it. */
  async loadLatest(id: number): Promise<void> {
    try {
      const page = await this.latestPage(id);
      this.setView(id, (v) => ({
        ...v,
        loaded: true,
        error: undefined,
        messages: mergeMessages(v.messages, page.messages),
        hasMoreBefore: v.loaded ? v.hasMoreBefore : page.has_more,
      }));
      this.deps.ingest(id, page.messages);
      // Anything that arrived after this page was taken (or while the request was in flight) is fetched now.
      await this.catchUp(id);
    } catch (e) {
      this.setView(id, (v) => ({ ...v, error: describeError(e) }));
    }
  }

  /** Loads the page of messages before the oldest one held (keyset paging on seq). */
  async loadOlder(id: number): Promise<void> {
    const v = this.state.views[id];
    if (!v || !v.loaded || !v.hasMoreBefore || v.loadingOlder) return;
    const first = v.messages[0]?.seq;
    if (!first) return;
    this.setView(id, (x) => ({ ...x, loadingOlder: true }));
    try {
      const page = await ok(this.deps.api.GET('/api/conversations/{id}/messages', { params: { path: { id }, query: { before_seq: first, limit: PAGE } } }));
      this.setView(id, (x) => ({ ...x, loadingOlder: false, hasMoreBefore: page.has_more, messages: mergeMessages(x.messages, page.messages) }));
    } catch (e) {
      this.setView(id, (x) => ({ ...x, loadingOlder: false }));
      this.deps.notice(e);
    }
  }

  /**
   * Makes the view hold message `seq`: the page around it (`around_seq`), then what lies between it and the
   * messages held (catch-up), so the view stays one unbroken run. A server without around_seq answers with its
   * latest page: then older pages are loaded until the message is there. Whether it is held at the end.
   */
  async reveal(id: number, seq: number): Promise<boolean> {
    if (!this.state.views[id]?.loaded) await this.loadLatest(id);
    const held = () => holdsSeq(this.state.views[id]?.messages ?? [], seq);
    if (held()) return true;
    try {
      const page = await ok(featureApi(this.deps.api).GET('/api/conversations/{id}/messages', { params: { path: { id }, query: { around_seq: seq, limit: PAGE } } }));
      if (holdsSeq(page.messages, seq)) {
        this.setView(id, (x) => {
          const older = page.messages[0].seq < (x.messages[0]?.seq ?? Infinity);
          return { ...x, messages: mergeMessages(x.messages, page.messages), hasMoreBefore: older ? page.has_more : x.hasMoreBefore };
        });
        this.deps.ingest(id, page.messages);
        await this.catchUp(id);
        return held();
      }
    } catch {
      /* paged back below */
    }
    for (let i = 0; i < 200 && !held(); i++) {
      const v = this.state.views[id];
      if (!v?.loaded || !v.hasMoreBefore) break;
      if (v.loadingOlder) await new Promise((r) => setTimeout(r, 50));
      else await this.loadOlder(id);
    }
    return held();
  }

  /** Catches up every conversation whose view is live (after a reconnect). */
  catchUpOpen(): void {
    for (const [id, v] of Object.entries(this.state.views)) if (v.loaded) void this.catchUp(Number(id));
  }

  /**
   * Fetches every message after the last contiguous seq held (after_seq keyset), until the server has no
   * more. Merging dedupes by seq, so overlapping with live frames is harmless. Single-flight per conversation.
   */
  catchUp(id: number): Promise<void> {
    const running = this.catchingUp.get(id);
    if (running) {
      this.catchUpAgain.add(id);
      return running;
    }
    const run = (async () => {
      try {
        for (let round = 0; round < 1000; round++) {
          const v = this.state.views[id];
          if (!v?.loaded || v.messages.length === 0) {
            if (v?.loaded) {
              // Empty so far: the latest page answers it.
              const page = await this.latestPage(id);
              this.setView(id, (x) => ({ ...x, messages: mergeMessages(x.messages, page.messages), hasMoreBefore: x.messages.length ? x.hasMoreBefore : page.has_more }));
              this.deps.ingest(id, page.messages);
            }
            break;
          }
          const from = catchUpFrom(v.messages, lastSeq(v.messages)) ?? lastSeq(v.messages);
          const page = await ok(this.deps.api.GET('/api/conversations/{id}/messages', { params: { path: { id }, query: { after_seq: from, limit: CATCH_UP_PAGE } } }));
          this.deps.ingest(id, page.messages);
          if (!page.has_more || page.messages.length === 0) {
            if (!this.catchUpAgain.delete(id)) break;
          }
        }
      } catch {
        /* offline: the next reconnect catches up */
      } finally {
        this.catchingUp.delete(id);
      }
    })();
    this.catchingUp.set(id, run);
    return run;
  }

  async edit(conversationId: number, seq: number, body: string): Promise<void> {
    const text = body.trim();
    if (!text) return;
    try {
      const m = await ok(this.deps.api.PATCH('/api/conversations/{id}/messages/{seq}', { params: { path: { id: conversationId, seq } }, body: { body: text } }));
      this.deps.ingest(conversationId, [m]);
    } catch (e) {
      this.deps.notice(e);
    }
  }

  /** Deletes an own message for everyone; it stays in the view as "Message deleted". */
  async remove(conversationId: number, seq: number): Promise<void> {
    try {
      await ok(this.deps.api.DELETE('/api/conversations/{id}/messages/{seq}', { params: { path: { id: conversationId, seq } } }));
      const m = this.state.views[conversationId]?.messages.find((x) => x.seq === seq);
      if (m) this.deps.ingest(conversationId, [{ ...m, deleted: true, body: '', edited_at: new Date().toISOString() }]);
    } catch (e) {
      this.deps.notice(e);
    }
  }
}
