// Conversations and people over REST: the conversation list and contacts (read at start, after every reconnect
// and after a block changes what may be seen), one conversation read again when a frame or message names one we
// lack or people whose presence we do not know, direct chats and groups started, group names and members (the
// server checks roles; its refusal is what the caller shows), user search and contacts.
import { ok, type Api } from '../api/client';
import type { Conversation, User } from '../api/types';
import { withPresenceOf } from '../logic/presence';
import { forgetConversation, upsertConversation, withConversationList } from './reducer';
import type { ChatState, Store } from './store';

export interface ConversationsDeps {
  store: Store<ChatState>;
  api: Api;
  notice: (e: unknown) => void;
}

export class Conversations {
  private readonly fetching = new Set<number>();

  constructor(private readonly deps: ConversationsDeps) {}

  private set(fn: (s: ChatState) => ChatState): void {
    this.deps.store.update(fn);
  }

  private upsert(c: Conversation): void {
    this.set((s) => upsertConversation(s, c));
  }

  async loadConversations(): Promise<void> {
    try {
      const { conversations } = await ok(this.deps.api.GET('/api/conversations'));
      this.set((s) => withConversationList(s, conversations));
    } catch (e) {
      this.set((s) => ({ ...s, conversationsLoaded: true }));
      // Offline is what the connection status says already.
      if (!(e instanceof TypeError)) this.deps.notice(e);
    }
  }

  async loadContacts(): Promise<void> {
    try {
      const { contacts } = await ok(this.deps.api.GET('/api/contacts'));
      this.set((s) => ({ ...s, contacts, presence: withPresenceOf(s.presence, contacts) }));
    } catch (e) {
      if (!(e instanceof TypeError)) this.deps.notice(e);
    }
  }

  /** One conversation read again (at most one request per conversation at a time). */
  async fetch(id: number): Promise<void> {
    if (this.fetching.has(id)) return;
    this.fetching.add(id);
    try {
      this.upsert(await ok(this.deps.api.GET('/api/conversations/{id}', { params: { path: { id } } })));
    } catch {
      /* the next list load picks it up */
    } finally {
      this.fetching.delete(id);
    }
  }

  async searchUsers(query: string): Promise<User[]> {
    const q = query.trim();
    if (!q) return [];
    const { users } = await ok(this.deps.api.GET('/api/users', { params: { query: { query: q } } }));
    return users.filter((u) => u.id !== this.deps.store.get().me.id);
  }

  async addContact(userId: number): Promise<void> {
    await ok(this.deps.api.POST('/api/contacts', { body: { user_id: userId } }));
    await this.loadContacts();
  }

  async removeContact(userId: number): Promise<void> {
    await ok(this.deps.api.DELETE('/api/contacts/{user_id}', { params: { path: { user_id: userId } } }));
    await this.loadContacts();
  }

  /** The direct conversation with a user (the existing one when there is one). */
  async startDirect(userId: number): Promise<number> {
    const c = await ok(this.deps.api.POST('/api/conversations', { body: { kind: 'direct', user_id: userId } }));
    this.upsert(c);
    return c.id;
  }

  async createGroup(title: string, memberIds: number[]): Promise<number> {
    const c = await ok(this.deps.api.POST('/api/conversations', { body: { kind: 'group', title: title.trim(), member_ids: memberIds } }));
    this.upsert(c);
    return c.id;
  }

  async renameGroup(id: number, title: string): Promise<void> {
    this.upsert(await ok(this.deps.api.PATCH('/api/conversations/{id}', { params: { path: { id } }, body: { title: title.trim() } })));
  }

  async addMember(id: number, userId: number): Promise<void> {
    this.upsert(await ok(this.deps.api.POST('/api/conversations/{id}/members', { params: { path: { id } }, body: { user_id: userId } })));
  }

  async removeMember(id: number, userId: number): Promise<void> {
    await ok(this.deps.api.DELETE('/api/conversations/{id}/members/{user_id}', { params: { path: { id, user_id: userId } } }));
    // The server pushes the changed conversation too; this covers a socket that is down right now.
    this.set((s) => {
      const c = s.conversations[id];
      if (!c || !c.members.some((m) => m.user.id === userId)) return s;
      return { ...s, conversations: { ...s.conversations, [id]: { ...c, members: c.members.filter((m) => m.user.id !== userId) } } };
    });
  }

  /** Leaves a group: it disappears from the list, and the view goes back to the lobby when it was open. */
  async leave(id: number): Promise<void> {
    // The `removed` frame may come before the answer: it is no news to someone who is leaving.
    this.set((s) => ({ ...s, leaving: [...s.leaving, id] }));
    try {
      await ok(this.deps.api.DELETE('/api/conversations/{id}/members/{user_id}', { params: { path: { id, user_id: this.deps.store.get().me.id } } }));
    } catch (e) {
      this.set((s) => ({ ...s, leaving: s.leaving.filter((x) => x !== id) }));
      throw e;
    }
    this.set((s) => forgetConversation(s, id));
  }
}
