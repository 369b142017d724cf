// Issue 14's requests over REST: reactions (PUT/DELETE, the answer's full list applied at once; the `reaction`
// frame brings the same to every member), pins (the list, pin and unpin), the caller's notification level, a
// member's role, and message search. Failures are thrown in words for the caller to show where the user acted.
import { ApiError } from '../api/auth';
import { ok, type Api } from '../api/client';
import { featureApi } from '../api/features';
import type { NotificationSettings, Role, SearchPage } from '../api/types';
import { reactionRefusal, toggledReactions } from '../logic/reactions';
import { describeError } from './errors';
import { pinRefusal, upsertConversation, withPins, withReactions } from './reducer';
import type { ChatState, Store } from './store';

export interface FeaturesDeps {
  store: Store<ChatState>;
  api: Api;
}

/** A failure in words, for what the user tried. */
export class ActionError extends Error {}

function refusal(e: unknown, what: 'react' | 'pin' | 'role' | 'notifications' | 'search'): ActionError {
  if (e instanceof ApiError) {
    const words =
      (what === 'react' ? reactionRefusal(e.code, e.field) : null) ??
      (what === 'pin' ? pinRefusal(e.code) : null) ??
      (e.status === 403 && what === 'pin' ? 'Only the owner and admins can pin messages in this group.' : null) ??
      (e.status === 403 && what === 'role' ? 'Only the owner can change roles.' : null) ??
      (e.status === 422 && what === 'pin' ? 'A deleted message cannot be pinned.' : null) ??
      (e.status === 422 && what === 'react' ? 'A deleted message takes no reactions.' : null) ??
      (e.status === 404 && what === 'search' ? 'Search is not available on this server yet.' : null) ??
      e.message;
    return new ActionError(words);
  }
  return new ActionError(describeError(e));
}

export class Features {
  private readonly loadingPins = new Map<number, Promise<void>>();

  constructor(private readonly deps: FeaturesDeps) {}

  private get api() {
    return featureApi(this.deps.api);
  }

  /**
   * Adds or takes back my reaction: shown at once, then the server's list (the same the `reaction` frame
   * brings). A refusal puts the held list back and is thrown in words.
   */
  async react(id: number, seq: number, emoji: string, on: boolean): Promise<void> {
    const { store } = this.deps;
    const s = store.get();
    const held = s.views[id]?.messages.find((m) => m.seq === seq);
    const before = held?.reactions ?? [];
    if (held) store.update((x) => withReactions(x, id, seq, toggledReactions(before, emoji, x.me.id, on)));
    try {
      const path = { id, seq, emoji };
      const r = on
        ? await ok(this.api.PUT('/api/conversations/{id}/messages/{seq}/reactions/{emoji}', { params: { path } }))
        : await ok(this.api.DELETE('/api/conversations/{id}/messages/{seq}/reactions/{emoji}', { params: { path } }));
      store.update((x) => withReactions(x, id, seq, r.reactions));
    } catch (e) {
      if (held) store.update((x) => withReactions(x, id, seq, before));
      throw refusal(e, 'react');
    }
  }

  /** The pinned messages of a conversation (single-flight per conversation). */
  loadPins(id: number): Promise<void> {
    const running = this.loadingPins.get(id);
    if (running) return running;
    const run = (async () => {
      try {
        const { pins } = await ok(this.api.GET('/api/conversations/{id}/pins', { params: { path: { id } } }));
        this.deps.store.update((s) => withPins(s, id, pins));
      } catch {
        /* markers and the panel wait for the next open; the panel says when it cannot load */
      } finally {
        this.loadingPins.delete(id);
      }
    })();
    this.loadingPins.set(id, run);
    return run;
  }

  async pin(id: number, seq: number, pinned: boolean): Promise<void> {
    try {
      if (pinned) {
        const pin = await ok(this.api.PUT('/api/conversations/{id}/pins/{seq}', { params: { path: { id, seq } } }));
        this.deps.store.update((s) => {
          const list = s.pins[id] ?? [];
          return withPins(s, id, [pin, ...list.filter((p) => p.message.seq !== seq)]);
        });
      } else {
        await ok(this.api.DELETE('/api/conversations/{id}/pins/{seq}', { params: { path: { id, seq } } }));
        this.deps.store.update((s) => withPins(s, id, (s.pins[id] ?? []).filter((p) => p.message.seq !== seq)));
      }
    } catch (e) {
      throw refusal(e, 'pin');
    }
  }

  /** My notification level for a conversation (the server tells my other tabs). */
  async setNotifications(id: number, settings: NotificationSettings): Promise<void> {
    try {
      const n = await ok(this.api.PUT('/api/conversations/{id}/notifications', { params: { path: { id } }, body: settings }));
      this.deps.store.update((s) => {
        const c = s.conversations[id];
        return c ? { ...s, conversations: { ...s.conversations, [id]: { ...c, notifications: n } } } : s;
      });
    } catch (e) {
      throw refusal(e, 'notifications');
    }
  }

  /** A member's new role (the owner's call); `owner` hands ownership over. */
  async setRole(id: number, userId: number, role: Role): Promise<void> {
    try {
      const c = await ok(this.api.PATCH('/api/conversations/{id}/members/{user_id}', { params: { path: { id, user_id: userId } }, body: { role } }));
      this.deps.store.update((s) => upsertConversation(s, c));
    } catch (e) {
      throw refusal(e, 'role');
    }
  }

  async search(q: string, opts: { conversationId?: number; before?: string | null } = {}): Promise<SearchPage> {
    try {
      return await ok(
        this.api.GET('/api/search', {
          params: {
            query: {
              q,
              ...(opts.conversationId !== undefined ? { conversation_id: opts.conversationId } : {}),
              ...(opts.before ? { before: opts.before } : {}),
              limit: 20,
            },
          },
        }),
      );
    } catch (e) {
      throw refusal(e, 'search');
    }
  }
}
