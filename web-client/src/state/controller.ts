// Everything the UI can ask for, and everything the server can tell: REST calls, the socket, the outbox of
// optimistic messages, catch-up after reconnects, read marking, typing, notifications and the tab title.
import { ApiError, type Auth } from '../api/auth';
import { ok, type Api } from '../api/client';
import type { Conversation, Message, SessionInfo, User } from '../api/types';
import { passwordChangeRequest, type PasswordForm } from '../logic/account';
import { blockRefusalMessage, withBlocked, withoutBlocked, type BlockableAction } from '../logic/blocks';
import { catchUpFrom, lastSeq, mergeMessages, newClientId, type PendingMessage } from '../logic/messages';
import { membersOfUnknownPresence, withPresenceOf } from '../logic/presence';
import { tabTitle, totalUnread, withReadUpTo } from '../logic/unread';
import type { ClientFrame, ServerFrame } from '../realtime/frames';
import { ReconnectingSocket, socketUrl } from '../realtime/socket';
import { applyFrame, expireTyping, forgetConversation, ingestMessages, upsertConversation, withConversationList, withFailed } from './reducer';
import { emptyView, Store, type ChatState, type ConversationView } from './store';

const PAGE = 50;
// The server accepts limit 1..100.
const CATCH_UP_PAGE = 100;
/** A message the socket took but the server did not acknowledge within this time is shown as failed. */
const ACK_TIMEOUT_MS = 15_000;
/** Re-announce own typing at most this often; announce a stop after this much idle time. */
const TYPING_RESEND_MS = 3_000;
const TYPING_IDLE_MS = 4_000;

export function describeError(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof TypeError) return 'The server cannot be reached.';
  return e instanceof Error ? e.message : String(e);
}

/** Like describeError, with refusals that a block explains put in words fitting what the user tried. */
export function describeActionError(e: unknown, action: BlockableAction): string {
  if (e instanceof ApiError) return blockRefusalMessage(e.status, e.code, action) ?? e.message;
  return describeError(e);
}

export class ChatController {
  readonly store: Store<ChatState>;
  private readonly socket: ReconnectingSocket;
  private readonly ackTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly catchingUp = new Map<number, Promise<void>>();
  private readonly catchUpAgain = new Set<number>();
  private readonly fetchingConversation = new Set<number>();
  private typingSent = new Map<number, { at: number; stop: ReturnType<typeof setTimeout> }>();
  private typingPrune: ReturnType<typeof setInterval> | null = null;
  private readonly cleanups: Array<() => void> = [];
  private started = false;

  constructor(
    private readonly api: Api,
    private readonly auth: Auth,
    me: User,
  ) {
    this.store = new Store<ChatState>({
      me,
      conversations: {},
      conversationsLoaded: false,
      views: {},
      outbox: this.loadOutbox(me.id),
      typing: {},
      reads: {},
      presence: {},
      contacts: [],
      blocked: [],
      blocksLoaded: false,
      connection: { state: 'connecting', attempt: 0 },
      selectedId: null,
      notice: null,
    });
    this.socket = new ReconnectingSocket({
      url: (ticket) => socketUrl(ticket),
      getTicket: async () => (await ok(this.api.POST('/api/ws-ticket'))).ticket,
      refreshToken: () => this.auth.refresh(),
      onFrame: (f) => this.onFrame(f),
      onStatus: (connection) => this.set((s) => ({ ...s, connection })),
      onOpen: (reconnect) => this.onSocketOpen(reconnect),
    });
  }

  get state(): ChatState {
    return this.store.get();
  }

  private set(fn: (s: ChatState) => ChatState): void {
    this.store.update(fn);
  }

  // ---- lifecycle ---------------------------------------------------------------------------------------

  start(): void {
    if (this.started) return;
    this.started = true;
    this.socket.start();
    void this.loadConversations();
    void this.loadContacts();
    void this.loadBlocks();
    const onFocus = () => this.onAttention();
    const onVisible = () => {
      if (document.visibilityState === 'visible') {
        this.onAttention();
        this.socket.reconnectNow();
      }
    };
    const onOnline = () => this.socket.reconnectNow();
    window.addEventListener('focus', onFocus);
    document.addEventListener('visibilitychange', onVisible);
    window.addEventListener('online', onOnline);
    this.cleanups.push(() => {
      window.removeEventListener('focus', onFocus);
      document.removeEventListener('visibilitychange', onVisible);
      window.removeEventListener('online', onOnline);
    });
    this.typingPrune = setInterval(() => this.pruneTyping(), 1000);
    // Keep the access token fresh before it expires, and hand every new one to the open socket
    // ({"type":"auth"}) so the server does not have to close it with 4001.
    let token = this.auth.current?.access_token;
    this.cleanups.push(
      this.auth.subscribe((session) => {
        if (session && session.access_token !== token) {
          token = session.access_token;
          this.sendFrame({ type: 'auth', token });
        }
      }),
    );
    const keepFresh = setInterval(() => void this.auth.token().catch(() => {}), 20_000);
    this.cleanups.push(() => clearInterval(keepFresh));
    this.cleanups.push(this.store.subscribe(() => this.syncTitleAndOutbox()));
    this.syncTitleAndOutbox();
  }

  stop(): void {
    this.started = false;
    this.socket.stop();
    for (const c of this.cleanups.splice(0)) c();
    if (this.typingPrune) clearInterval(this.typingPrune);
    for (const t of this.ackTimers.values()) clearTimeout(t);
    this.ackTimers.clear();
    for (const t of this.typingSent.values()) clearTimeout(t.stop);
    this.typingSent.clear();
    document.title = 'Chat';
  }

  /** Ends this session (POST /api/auth/logout) and forgets what was waiting to be sent. */
  async logout(): Promise<void> {
    this.stop();
    this.forgetOutbox();
    await this.auth.logout();
  }

  /** Ends every session of the account, this one included; throws (still signed in) if the server did not. */
  async logoutEverywhere(): Promise<void> {
    await this.auth.logoutEverywhere();
    this.stop();
    this.forgetOutbox();
  }

  private forgetOutbox(): void {
    try {
      sessionStorage.removeItem(this.outboxKey(this.state.me.id));
    } catch {
      /* storage disabled: nothing kept */
    }
  }

  reconnectNow(): void {
    this.socket.reconnectNow();
  }

  dismissNotice(): void {
    this.set((s) => ({ ...s, notice: null }));
  }

  private showNotice(e: unknown): void {
    const notice = describeError(e);
    this.set((s) => ({ ...s, notice }));
  }

  private lastTitle = '';
  private lastOutboxJson = '';
  private syncTitleAndOutbox(): void {
    const s = this.state;
    const title = tabTitle(totalUnread(Object.values(s.conversations)));
    if (title !== this.lastTitle) {
      this.lastTitle = title;
      document.title = title;
    }
    const json = JSON.stringify(s.outbox);
    if (json !== this.lastOutboxJson) {
      this.lastOutboxJson = json;
      try {
        sessionStorage.setItem(this.outboxKey(s.me.id), json);
      } catch {
        /* ignore */
      }
    }
  }

  private outboxKey(userId: number): string {
    return `chat.outbox.${userId}`;
  }

  private loadOutbox(userId: number): PendingMessage[] {
    try {
      const raw = sessionStorage.getItem(this.outboxKey(userId));
      const list = raw ? (JSON.parse(raw) as PendingMessage[]) : [];
      return Array.isArray(list) ? list : [];
    } catch {
      return [];
    }
  }

  // ---- loading -----------------------------------------------------------------------------------------

  async loadConversations(): Promise<void> {
    try {
      const { conversations } = await ok(this.api.GET('/api/conversations'));
      this.set((s) => withConversationList(s, conversations));
    } catch (e) {
      this.set((s) => ({ ...s, conversationsLoaded: true }));
      if (!(e instanceof TypeError)) this.showNotice(e);
    }
  }

  async loadContacts(): Promise<void> {
    try {
      const { contacts } = await ok(this.api.GET('/api/contacts'));
      this.set((s) => ({ ...s, contacts, presence: withPresenceOf(s.presence, contacts) }));
    } catch (e) {
      if (!(e instanceof TypeError)) this.showNotice(e);
    }
  }

  private upsertConversation(c: Conversation): void {
    this.set((s) => upsertConversation(s, c));
  }

  private async fetchConversation(id: number): Promise<void> {
    if (this.fetchingConversation.has(id)) return;
    this.fetchingConversation.add(id);
    try {
      const c = await ok(this.api.GET('/api/conversations/{id}', { params: { path: { id } } }));
      this.upsertConversation(c);
    } catch {
      /* the next list load picks it up */
    } finally {
      this.fetchingConversation.delete(id);
    }
  }

  private setView(id: number, fn: (v: ConversationView) => ConversationView): void {
    this.set((s) => {
      const v = s.views[id] ?? emptyView();
      const next = fn(v);
      return next === v ? s : { ...s, views: { ...s.views, [id]: next } };
    });
  }

  /** Merges stored messages into a conversation's view and its outbox, and its summary in the list. */
  private ingest(id: number, messages: readonly Message[], opts: { live?: boolean } = {}): void {
    if (messages.length === 0) return;
    this.set((s) => ingestMessages(s, id, messages, opts));
    this.afterIngest(id, messages, opts.live ?? false);
  }

  /** What follows stored messages coming in: their acks are no longer awaited, an unknown conversation is
   * fetched, and a gap before a live message is filled. */
  private afterIngest(id: number, messages: readonly Message[], live: boolean): void {
    for (const m of messages) this.clearAckTimer(m.client_id);
    if (!this.state.conversations[id]) void this.fetchConversation(id);
    // A live message past a gap means frames were missed: fetch what lies between.
    const v = this.state.views[id];
    if (live && v?.loaded && catchUpFrom(v.messages, lastSeq(v.messages)) !== null) void this.catchUp(id);
  }

  /** Opens a conversation: loads its latest page once, marks it read. */
  async open(id: number | null): Promise<void> {
    this.set((s) => (s.selectedId === id ? s : { ...s, selectedId: id }));
    if (id === null) return;
    if (!this.state.conversations[id]) void this.fetchConversation(id);
    const v = this.state.views[id];
    if (!v?.loaded) await this.loadLatest(id);
    this.markReadIfVisible();
  }

  private async loadLatest(id: number): Promise<void> {
    try {
      const page = await ok(this.api.GET('/api/conversations/{id}/messages', { params: { path: { id }, query: { limit: PAGE } } }));
      this.setView(id, (v) => ({
        ...v,
        loaded: true,
        error: undefined,
        messages: mergeMessages(v.messages, page.messages),
        hasMoreBefore: v.loaded ? v.hasMoreBefore : page.has_more,
      }));
      this.ingest(id, page.messages);
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
      const page = await ok(this.api.GET('/api/conversations/{id}/messages', { params: { path: { id }, query: { before_seq: first, limit: PAGE } } }));
      this.setView(id, (x) => ({ ...x, loadingOlder: false, hasMoreBefore: page.has_more, messages: mergeMessages(x.messages, page.messages) }));
    } catch (e) {
      this.setView(id, (x) => ({ ...x, loadingOlder: false }));
      this.showNotice(e);
    }
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
              const page = await ok(this.api.GET('/api/conversations/{id}/messages', { params: { path: { id }, query: { limit: PAGE } } }));
              this.setView(id, (x) => ({ ...x, messages: mergeMessages(x.messages, page.messages), hasMoreBefore: x.messages.length ? x.hasMoreBefore : page.has_more }));
              this.ingest(id, page.messages);
            }
            break;
          }
          const from = catchUpFrom(v.messages, lastSeq(v.messages)) ?? lastSeq(v.messages);
          const page = await ok(this.api.GET('/api/conversations/{id}/messages', { params: { path: { id }, query: { after_seq: from, limit: CATCH_UP_PAGE } } }));
          this.ingest(id, page.messages);
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

  // ---- the socket --------------------------------------------------------------------------------------

  private onSocketOpen(reconnect: boolean): void {
    // Resend what is still pending (the server's client_id idempotency makes a duplicate harmless),
    // then catch up: the list (unread counts, new conversations) and every conversation held open.
    for (const p of this.state.outbox) if (p.status === 'pending') this.deliver(p);
    void this.loadConversations().then(() => this.markReadIfVisible());
    // Blocks may have changed on another device meanwhile.
    if (reconnect) void this.loadBlocks();
    for (const [id, v] of Object.entries(this.state.views)) if (v.loaded) void this.catchUp(Number(id));
  }

  private onFrame(f: ServerFrame): void {
    this.set((s) => applyFrame(s, f, Date.now()));
    switch (f.type) {
      case 'ack':
        this.clearAckTimer(f.client_id);
        this.afterIngest(f.message.conversation_id, [f.message], false);
        break;
      case 'message':
        this.afterIngest(f.message.conversation_id, [f.message], true);
        if (f.message.sender_id !== this.state.me.id) {
          this.markReadIfVisible();
          this.notify(f.message);
        }
        break;
      case 'messages':
        if (f.messages.length > 0) this.afterIngest(f.conversation_id, f.messages, false);
        break;
      case 'message_updated':
        this.afterIngest(f.message.conversation_id, [f.message], false);
        break;
      case 'conversation':
        // Lifecycle frames carry no presence: someone we never heard of (a new chat, a new group member) is
        // looked up once over REST, which says where the server allows it.
        if (membersOfUnknownPresence(f.conversation, this.state.presence, this.state.me.id).length > 0) void this.fetchConversation(f.conversation.id);
        break;
      case 'error':
        if (f.client_id) this.clearAckTimer(f.client_id);
        break;
    }
  }

  private sendFrame(frame: ClientFrame): boolean {
    return this.socket.send(frame);
  }

  // ---- sending -----------------------------------------------------------------------------------------

  /** Adds the message to the outbox (shown at once as pending) and delivers it. */
  send(conversationId: number, body: string): void {
    const text = body.trim();
    if (!text) return;
    const pending: PendingMessage = {
      conversation_id: conversationId,
      client_id: newClientId(),
      body: text,
      created_at: new Date().toISOString(),
      status: 'pending',
    };
    this.set((s) => ({ ...s, outbox: [...s.outbox, pending] }));
    this.stopTyping(conversationId);
    this.deliver(pending);
  }

  /** Resends a failed message with its original client_id. */
  retry(clientId: string): void {
    const p = this.state.outbox.find((x) => x.client_id === clientId);
    if (!p) return;
    const again: PendingMessage = { ...p, status: 'pending', error: undefined };
    this.set((s) => ({ ...s, outbox: s.outbox.map((x) => (x.client_id === clientId ? again : x)) }));
    this.deliver(again);
  }

  discard(clientId: string): void {
    this.clearAckTimer(clientId);
    this.set((s) => ({ ...s, outbox: s.outbox.filter((x) => x.client_id !== clientId) }));
  }

  /**
   * Over the socket when it is open (the ack settles it); otherwise over REST. A network failure leaves the
   * message pending: the next socket open resends it.
   */
  private deliver(p: PendingMessage): void {
    const sent = this.sendFrame({ type: 'new_message', conversation_id: p.conversation_id, client_id: p.client_id, body: p.body });
    if (sent) {
      this.clearAckTimer(p.client_id);
      this.ackTimers.set(
        p.client_id,
        setTimeout(() => {
          this.ackTimers.delete(p.client_id);
          this.set((s) => withFailed(s, p.client_id, 'Not confirmed by the server.', true));
        }, ACK_TIMEOUT_MS),
      );
      return;
    }
    void ok(
      this.api.POST('/api/conversations/{id}/messages', {
        params: { path: { id: p.conversation_id } },
        body: { body: p.body, client_id: p.client_id },
      }),
    ).then(
      (m) => this.ingest(p.conversation_id, [m]),
      (e) => {
        if (e instanceof ApiError && e.status !== 401) {
          const error = describeActionError(e, 'send');
          this.set((s) => withFailed(s, p.client_id, error));
        }
        // Network failure: stays pending; resent when the socket is back.
      },
    );
  }

  private clearAckTimer(clientId: string): void {
    const t = this.ackTimers.get(clientId);
    if (t) {
      clearTimeout(t);
      this.ackTimers.delete(clientId);
    }
  }

  async edit(conversationId: number, seq: number, body: string): Promise<void> {
    const text = body.trim();
    if (!text) return;
    try {
      const m = await ok(this.api.PATCH('/api/conversations/{id}/messages/{seq}', { params: { path: { id: conversationId, seq } }, body: { body: text } }));
      this.ingest(conversationId, [m]);
    } catch (e) {
      this.showNotice(e);
    }
  }

  async remove(conversationId: number, seq: number): Promise<void> {
    try {
      await ok(this.api.DELETE('/api/conversations/{id}/messages/{seq}', { params: { path: { id: conversationId, seq } } }));
      const m = this.state.views[conversationId]?.messages.find((x) => x.seq === seq);
      if (m) this.ingest(conversationId, [{ ...m, deleted: true, body: '', edited_at: new Date().toISOString() }]);
    } catch (e) {
      this.showNotice(e);
    }
  }

  // ---- typing ------------------------------------------------------------------------------------------

  /** Called on every keystroke in the composer: announces typing (throttled) and its end after idle time. */
  typing(conversationId: number): void {
    const now = Date.now();
    const cur = this.typingSent.get(conversationId);
    if (cur) clearTimeout(cur.stop);
    const at = cur && now - cur.at < TYPING_RESEND_MS ? cur.at : now;
    if (at === now) this.sendFrame({ type: 'typing', conversation_id: conversationId, is_typing: true });
    this.typingSent.set(conversationId, { at, stop: setTimeout(() => this.stopTyping(conversationId), TYPING_IDLE_MS) });
  }

  stopTyping(conversationId: number): void {
    const cur = this.typingSent.get(conversationId);
    if (!cur) return;
    clearTimeout(cur.stop);
    this.typingSent.delete(conversationId);
    this.sendFrame({ type: 'typing', conversation_id: conversationId, is_typing: false });
  }

  private pruneTyping(): void {
    this.set((s) => expireTyping(s, Date.now()));
  }

  // ---- read state --------------------------------------------------------------------------------------

  private onAttention(): void {
    this.markReadIfVisible();
  }

  /** Marks the open conversation read when the reader can actually see it (tab visible and focused). */
  markReadIfVisible(): void {
    const id = this.state.selectedId;
    if (id === null) return;
    if (document.visibilityState !== 'visible' || !document.hasFocus()) return;
    this.markRead(id);
  }

  markRead(id: number): void {
    const c = this.state.conversations[id];
    const v = this.state.views[id];
    const upTo = Math.max(c?.last_seq ?? 0, v ? lastSeq(v.messages) : 0);
    if (!c || upTo <= c.last_read_seq) return;
    this.set((s) => ({ ...s, conversations: { ...s.conversations, [id]: withReadUpTo(c, upTo) } }));
    if (this.sendFrame({ type: 'read', conversation_id: id, up_to_seq: upTo })) return;
    void ok(this.api.POST('/api/conversations/{id}/read', { params: { path: { id } }, body: { up_to_seq: upTo } })).then(
      (r) =>
        this.set((s) => {
          const cur = s.conversations[id];
          if (!cur) return s;
          return { ...s, conversations: { ...s.conversations, [id]: withReadUpTo(cur, r.last_read_seq) } };
        }),
      () => {
        /* the next open or focus tries again */
      },
    );
  }

  // ---- notifications -----------------------------------------------------------------------------------

  private notify(m: Message): void {
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
    if (document.visibilityState === 'visible') return;
    const c = this.state.conversations[m.conversation_id];
    const title = c?.kind === 'group' && c.title ? `${m.sender_name} in ${c.title}` : m.sender_name;
    try {
      const n = new Notification(title, { body: m.deleted ? 'Message deleted' : m.body, tag: `conversation-${m.conversation_id}` });
      n.onclick = () => {
        window.focus();
        this.onNavigate?.(m.conversation_id);
        n.close();
      };
    } catch {
      /* some platforms only allow notifications from a service worker */
    }
  }

  /** Set by the UI: opens a conversation (used when a notification is clicked). */
  onNavigate?: (id: number) => void;

  // ---- people and conversations ------------------------------------------------------------------------

  async searchUsers(query: string): Promise<User[]> {
    const q = query.trim();
    if (!q) return [];
    const { users } = await ok(this.api.GET('/api/users', { params: { query: { query: q } } }));
    return users.filter((u) => u.id !== this.state.me.id);
  }

  async addContact(userId: number): Promise<void> {
    await ok(this.api.POST('/api/contacts', { body: { user_id: userId } }));
    await this.loadContacts();
  }

  async removeContact(userId: number): Promise<void> {
    await ok(this.api.DELETE('/api/contacts/{user_id}', { params: { path: { user_id: userId } } }));
    await this.loadContacts();
  }

  /** The direct conversation with a user (the existing one when there is one). */
  async startDirect(userId: number): Promise<number> {
    const c = await ok(this.api.POST('/api/conversations', { body: { kind: 'direct', user_id: userId } }));
    this.upsertConversation(c);
    return c.id;
  }

  async createGroup(title: string, memberIds: number[]): Promise<number> {
    const c = await ok(this.api.POST('/api/conversations', { body: { kind: 'group', title: title.trim(), member_ids: memberIds } }));
    this.upsertConversation(c);
    return c.id;
  }

  // ---- account: sessions, password, blocks --------------------------------------------------------------

  async listSessions(): Promise<SessionInfo[]> {
    return (await ok(this.api.GET('/api/auth/sessions'))).sessions;
  }

  /** Ends another session of the account; one that has ended already (404) is what was asked. */
  async endSession(id: number): Promise<void> {
    try {
      await ok(this.api.DELETE('/api/auth/sessions/{id}', { params: { path: { id } } }));
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) throw e;
    }
  }

  /** Ends each of these sessions, one request each (there is no bulk route that spares this one). */
  async endSessions(sessions: readonly SessionInfo[]): Promise<void> {
    for (const s of sessions) if (!s.current) await this.endSession(s.id);
  }

  /** Changes the password; the server ends every other session of the account, this one goes on. */
  async changePassword(form: PasswordForm): Promise<void> {
    await ok(this.api.POST('/api/users/me/password', { body: passwordChangeRequest(form) }));
  }

  async loadBlocks(): Promise<void> {
    try {
      const { blocked } = await ok(this.api.GET('/api/users/me/blocks'));
      this.set((s) => ({ ...s, blocked, blocksLoaded: true }));
    } catch (e) {
      if (!(e instanceof TypeError)) this.showNotice(e);
    }
  }

  async block(user: User): Promise<void> {
    await ok(this.api.PUT('/api/users/me/blocks/{user_id}', { params: { path: { user_id: user.id } } }));
    this.set((s) => {
      // The server stops telling either side about the other's presence: what we knew goes stale at once.
      const presence = { ...s.presence };
      delete presence[user.id];
      return { ...s, blocked: withBlocked(s.blocked, user), presence };
    });
    void this.loadConversations();
    void this.loadContacts();
  }

  async unblock(userId: number): Promise<void> {
    await ok(this.api.DELETE('/api/users/me/blocks/{user_id}', { params: { path: { user_id: userId } } }));
    this.set((s) => ({ ...s, blocked: withoutBlocked(s.blocked, userId) }));
    // Presence is shared again: the lists say it.
    void this.loadConversations();
    void this.loadContacts();
  }

  // ---- group management (the server checks roles; its 403 message is what the caller shows) -------------

  async renameGroup(id: number, title: string): Promise<void> {
    const c = await ok(this.api.PATCH('/api/conversations/{id}', { params: { path: { id } }, body: { title: title.trim() } }));
    this.upsertConversation(c);
  }

  async addMember(id: number, userId: number): Promise<void> {
    const c = await ok(this.api.POST('/api/conversations/{id}/members', { params: { path: { id } }, body: { user_id: userId } }));
    this.upsertConversation(c);
  }

  async removeMember(id: number, userId: number): Promise<void> {
    await ok(this.api.DELETE('/api/conversations/{id}/members/{user_id}', { params: { path: { id, user_id: userId } } }));
    // The server pushes the changed conversation too; this covers a socket that is down right now.
    this.set((s) => {
      const c = s.conversations[id];
      if (!c || !c.members.some((m) => m.user.id === userId)) return s;
      return { ...s, conversations: { ...s.conversations, [id]: { ...c, members: c.members.filter((m) => m.user.id !== userId) } } };
    });
  }

  /** Leaves a group: it disappears from the list, and the view goes back to the lobby when it was open. */
  async leave(id: number): Promise<void> {
    await ok(this.api.DELETE('/api/conversations/{id}/members/{user_id}', { params: { path: { id, user_id: this.state.me.id } } }));
    this.set((s) => forgetConversation(s, id));
  }
}
