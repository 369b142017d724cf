// The one object the UI talks to, and a thin one: it builds the store and the effect modules, puts every server
// frame through the reducer and then starts the effects that follow it, runs the lifecycle (start, stop, log
// out, what a (re)connect and the reader's return set off) and hands each UI request to the module that owns it:
// connection (socket), outbox (optimistic sends), uploads (the composer's files), media (the media token),
// history (pages, catch-up, edits), reading (read marking), delivery ("delivered" receipts), typing,
// notifications, title, conversations (lists, people, groups), account (sessions, password, blocks) and profile.
import type { Auth } from '../api/auth';
import { ok, type Api } from '../api/client';
import { uploadAttachment } from '../api/upload';
import type { Message, NotificationSettings, ReplyPreview, Role, SearchPage, SessionInfo, User } from '../api/types';
import type { PasswordForm } from '../logic/account';
import { catchUpFrom, lastSeq } from '../logic/messages';
import { membersOfUnknownPresence } from '../logic/presence';
import { unreadMarkerFor } from '../logic/unread';
import type { ClientFrame, ServerFrame } from '../realtime/frames';
import { Account } from './account';
import { ApiTokens } from './apiTokens';
import { Connection } from './connection';
import { Conversations } from './conversations';
import { Delivery } from './delivery';
import { describeError } from './errors';
import { Features } from './features';
import { History } from './history';
import { MediaTokens } from './media';
import { notifyMessage } from './notifications';
import { loadOutbox, Outbox } from './outbox';
import { Profile } from './profile';
import { Reading } from './reading';
import { applyFrame, ingestMessages } from './reducer';
import { initialState, Store, type ChatState } from './store';
import { TabTitle } from './title';
import { Typing } from './typing';
import { Uploads } from './uploads';

export class ChatController {
  readonly store: Store<ChatState>;
  private readonly connection: Connection;
  private readonly outbox: Outbox;
  private readonly uploads: Uploads;
  private readonly media: MediaTokens;
  private readonly history: History;
  private readonly reading: Reading;
  private readonly delivery: Delivery;
  private readonly typingSignals: Typing;
  private readonly title = new TabTitle();
  private readonly lists: Conversations;
  private readonly account: Account;
  /** The account's API tokens (Settings). */
  readonly apiTokens: ApiTokens;
  private readonly features: Features;
  /** The caller's display name (issue 15), called by the UI directly. */
  readonly profile: Profile;
  private jumps = 0;
  private readonly cleanups: Array<() => void> = [];
  private started = false;

  /** Set by the UI: opens a conversation (used when a notification is clicked). */
  onNavigate?: (id: number) => void;

  constructor(
    api: Api,
    private readonly auth: Auth,
    me: User,
  ) {
    const store = new Store<ChatState>(initialState(me, loadOutbox(me.id)));
    this.store = store;
    const sendFrame = (frame: ClientFrame) => this.connection.send(frame);
    const notice = (e: unknown) => this.tell(e);
    const ingest = (id: number, messages: readonly Message[]) => this.ingest(id, messages);
    this.connection = new Connection(api, auth, {
      onFrame: (f) => this.onFrame(f),
      onStatus: (connection) => store.update((s) => ({ ...s, connection })),
      onOpen: (reconnect) => this.onSocketOpen(reconnect),
    });
    this.outbox = new Outbox({ store, api, send: sendFrame, ingest });
    this.uploads = new Uploads({
      store,
      upload: (id, file, onProgress, signal) => uploadAttachment(auth, id, file, file.name || 'file', { onProgress: (loaded) => onProgress(loaded), signal }),
      discard: (attachmentId) => ok(api.DELETE('/api/attachments/{id}', { params: { path: { id: attachmentId } } })),
    });
    this.media = new MediaTokens({
      fetchToken: () => ok(api.POST('/api/media-token')),
      accessExpiresAt: () => auth.current?.expires_at ?? null,
      onAccessTokenChange: (fn) => {
        let token = auth.current?.access_token;
        return auth.subscribe((session) => {
          if (session && session.access_token !== token) {
            token = session.access_token;
            fn();
          }
        });
      },
      publish: (mediaToken) => store.update((s) => (s.mediaToken === mediaToken ? s : { ...s, mediaToken })),
    });
    this.history = new History({ store, api, ingest, notice });
    this.reading = new Reading(store, api, sendFrame);
    this.delivery = new Delivery(store, sendFrame);
    this.typingSignals = new Typing(store, sendFrame);
    this.lists = new Conversations({ store, api, notice });
    this.account = new Account({ store, api, notice, reloadLists: () => this.reloadLists() });
    this.apiTokens = new ApiTokens(api);
    this.features = new Features({ store, api });
    this.profile = new Profile({ store, api, auth });
  }

  get state(): ChatState {
    return this.store.get();
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.connection.start();
    this.media.start();
    void this.lists.loadConversations();
    void this.lists.loadContacts();
    void this.account.loadBlocks();
    // The reader is back: what they now see is read, and a connection waiting to retry need not wait.
    const onFocus = () => {
      this.reading.markReadIfVisible();
      this.connection.reconnectNow();
    };
    const onVisible = () => {
      if (document.visibilityState === 'visible') {
        this.reading.markReadIfVisible();
        this.connection.reconnectNow();
        // Timers sleep in a hidden tab: the media token may have run out meanwhile.
        this.media.renewIfStale();
      }
    };
    const onOnline = () => this.connection.reconnectNow();
    window.addEventListener('focus', onFocus);
    document.addEventListener('visibilitychange', onVisible);
    window.addEventListener('online', onOnline);
    this.cleanups.push(() => {
      window.removeEventListener('focus', onFocus);
      document.removeEventListener('visibilitychange', onVisible);
      window.removeEventListener('online', onOnline);
    });
    this.typingSignals.start();
    this.delivery.start();
    const sync = () => {
      this.title.sync(this.state.conversations);
      this.outbox.persist();
    };
    this.cleanups.push(this.store.subscribe(sync));
    sync();
  }

  stop(): void {
    this.started = false;
    this.connection.stop();
    this.media.stop();
    this.uploads.forgetAll();
    for (const c of this.cleanups.splice(0)) c();
    this.typingSignals.stop();
    this.delivery.stop();
    this.outbox.stop();
    this.title.reset();
  }

  /** Ends this session (POST /api/auth/logout) and forgets what was waiting to be sent. */
  async logout(): Promise<void> {
    this.stop();
    this.outbox.forget();
    await this.auth.logout();
  }

  /** Ends every session of the account, this one included; throws (still signed in) if the server did not. */
  async logoutEverywhere(): Promise<void> {
    await this.auth.logoutEverywhere();
    this.stop();
    this.outbox.forget();
  }

  reconnectNow(): void {
    this.connection.reconnectNow();
  }

  dismissNotice(): void {
    this.store.update((s) => ({ ...s, notice: null }));
  }

  /** A failure of something the user did, in words, as the transient notice. */
  tell(e: unknown): void {
    const notice = describeError(e);
    this.store.update((s) => ({ ...s, notice }));
  }

  private reloadLists(): void {
    void this.lists.loadConversations();
    void this.lists.loadContacts();
  }

  // ---- the socket and its frames -----------------------------------------------------------------------

  private onSocketOpen(reconnect: boolean): void {
    // Resend what is pending (client_id makes a duplicate harmless), then catch up the list and open views.
    this.outbox.resendPending();
    void this.lists.loadConversations().then(() => this.reading.markReadIfVisible());
    // Blocks may have changed on another device meanwhile.
    if (reconnect) void this.account.loadBlocks();
    this.history.catchUpOpen();
  }

  /** The frame's state change (the reducer), then the effects that go with it. */
  private onFrame(f: ServerFrame): void {
    this.store.update((s) => applyFrame(s, f, Date.now()));
    switch (f.type) {
      case 'ack':
        this.outbox.answered([f.client_id]);
        this.afterIngest(f.message.conversation_id, [f.message], false);
        break;
      case 'message':
        this.afterIngest(f.message.conversation_id, [f.message], true);
        if (f.message.sender_id !== this.state.me.id) {
          this.reading.markReadIfVisible();
          notifyMessage(f.message, this.state.conversations[f.message.conversation_id], this.state.me.id, (id) => this.onNavigate?.(id));
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
        if (membersOfUnknownPresence(f.conversation, this.state.presence, this.state.me.id).length > 0) void this.lists.fetch(f.conversation.id);
        break;
      case 'error':
        if (f.client_id) this.outbox.answered([f.client_id]);
        break;
      case 'pin': {
        // A pin of a message this tab does not hold (or a list not loaded yet): the list is read again.
        const list = this.state.pins[f.conversation_id];
        if (f.pinned && list && !list.some((p) => p.message.seq === f.seq)) void this.features.loadPins(f.conversation_id);
        break;
      }
    }
  }

  /** Stored messages from a REST answer: the same state change and effects as when a frame brings them. */
  private ingest(id: number, messages: readonly Message[]): void {
    if (messages.length === 0) return;
    this.store.update((s) => ingestMessages(s, id, messages));
    this.afterIngest(id, messages, false);
  }

  /**
   * What follows stored messages coming in: their acks are no longer awaited, an unknown conversation is
   * fetched, and a live message past a gap means frames were missed — what lies between is fetched.
   */
  private afterIngest(id: number, messages: readonly Message[], live: boolean): void {
    this.outbox.answered(messages.map((m) => m.client_id));
    if (!this.state.conversations[id]) void this.lists.fetch(id);
    const v = this.state.views[id];
    if (live && v?.loaded && catchUpFrom(v.messages, lastSeq(v.messages)) !== null) void this.history.catchUp(id);
  }

  // ---- conversations and their messages ----------------------------------------------------------------

  /**
   * Opens a conversation: loads its latest page once, notes where its unread messages begin (the marker line,
   * with the history back to it loaded), then marks it read.
   */
  async open(id: number | null): Promise<void> {
    this.store.update((s) => (s.selectedId === id ? s : { ...s, selectedId: id, unreadMarker: null }));
    if (id === null) return;
    const listed = this.state.conversations[id] ? null : this.lists.fetch(id);
    if (!this.state.pins[id]) void this.features.loadPins(id);
    const v = this.state.views[id];
    if (!v?.loaded) await this.history.loadLatest(id);
    await listed?.catch(() => {});
    await this.placeUnreadMarker(id);
    this.reading.markReadIfVisible();
  }

  private async placeUnreadMarker(id: number): Promise<void> {
    const c = this.state.conversations[id];
    const marker = c ? unreadMarkerFor(c) : null;
    if (this.state.selectedId !== id || !marker) return;
    // The first unread one must be on screen for the line to be above it.
    await this.history.reveal(id, marker.afterSeq + 1).catch(() => false);
    this.store.update((s) => (s.selectedId === id ? { ...s, unreadMarker: marker } : s));
  }

  /**
   * Opens a conversation at one message (a quote or a search result clicked): its history around it is loaded
   * when needed, then the message list scrolls to it and highlights it (`state.jump`).
   */
  async jumpTo(id: number, seq: number): Promise<void> {
    if (this.state.selectedId !== id) await this.open(id);
    const held = await this.history.reveal(id, seq);
    if (!held) {
      this.store.update((s) => ({ ...s, notice: 'That message is no longer in this conversation.' }));
      return;
    }
    const jump = { conversationId: id, seq, nonce: ++this.jumps };
    this.store.update((s) => ({ ...s, jump }));
  }

  /** The message list has shown the jump's message. */
  jumped(nonce: number): void {
    this.store.update((s) => (s.jump?.nonce === nonce ? { ...s, jump: null } : s));
  }

  /** Adds (on) or takes back my reaction; throws the refusal in words. */
  react(id: number, seq: number, emoji: string, on: boolean): Promise<void> {
    return this.features.react(id, seq, emoji, on);
  }

  loadPins(id: number): Promise<void> {
    return this.features.loadPins(id);
  }

  /** Pins or unpins a message; throws the refusal in words. */
  pin(id: number, seq: number, pinned: boolean): Promise<void> {
    return this.features.pin(id, seq, pinned);
  }

  setNotifications(id: number, settings: NotificationSettings): Promise<void> {
    return this.features.setNotifications(id, settings);
  }

  setRole(id: number, userId: number, role: Role): Promise<void> {
    return this.features.setRole(id, userId, role);
  }

  search(q: string, opts: { conversationId?: number; before?: string | null } = {}): Promise<SearchPage> {
    return this.features.search(q, opts);
  }

  loadOlder(id: number): Promise<void> {
    return this.history.loadOlder(id);
  }

  /**
   * Adds the message, with the conversation's uploaded files, to the outbox (shown at once as pending) and
   * delivers it. The composer calls it only when no upload is still running.
   */
  send(conversationId: number, body: string, replyTo?: ReplyPreview): void {
    const pending = this.outbox.add(conversationId, body, this.uploads.take(conversationId), replyTo);
    if (!pending) return;
    this.typingSignals.stopped(conversationId);
    this.outbox.deliver(pending);
  }

  /** Files picked, dropped or pasted into a conversation's composer: uploaded at once. */
  attach(conversationId: number, files: readonly File[]): void {
    if (files.length) this.uploads.add(conversationId, files);
  }

  /** Removes a file from the composer, aborting its upload. */
  removeUpload(key: string): void {
    this.uploads.remove(key);
  }

  retryUpload(key: string): void {
    this.uploads.retry(key);
  }

  retry(clientId: string): void {
    this.outbox.retry(clientId);
  }

  discard(clientId: string): void {
    this.outbox.discard(clientId);
  }

  edit(conversationId: number, seq: number, body: string): Promise<void> {
    return this.history.edit(conversationId, seq, body);
  }

  remove(conversationId: number, seq: number): Promise<void> {
    return this.history.remove(conversationId, seq);
  }

  /** Called on every keystroke in the composer. */
  typing(conversationId: number): void {
    this.typingSignals.keystroke(conversationId);
  }

  stopTyping(conversationId: number): void {
    this.typingSignals.stopped(conversationId);
  }

  markRead(id: number): void {
    this.reading.markRead(id);
  }

  // ---- people, groups and the account: REST calls of their modules ------------------------------------

  searchUsers(query: string): Promise<User[]> {
    return this.lists.searchUsers(query);
  }

  addContact(userId: number): Promise<void> {
    return this.lists.addContact(userId);
  }

  removeContact(userId: number): Promise<void> {
    return this.lists.removeContact(userId);
  }

  startDirect(userId: number): Promise<number> {
    return this.lists.startDirect(userId);
  }

  createGroup(title: string, memberIds: number[]): Promise<number> {
    return this.lists.createGroup(title, memberIds);
  }

  renameGroup(id: number, title: string): Promise<void> {
    return this.lists.renameGroup(id, title);
  }

  addMember(id: number, userId: number): Promise<void> {
    return this.lists.addMember(id, userId);
  }

  removeMember(id: number, userId: number): Promise<void> {
    return this.lists.removeMember(id, userId);
  }

  leave(id: number): Promise<void> {
    return this.lists.leave(id);
  }

  listSessions(): Promise<SessionInfo[]> {
    return this.account.listSessions();
  }

  endSession(id: number): Promise<void> {
    return this.account.endSession(id);
  }

  endSessions(sessions: readonly SessionInfo[]): Promise<void> {
    return this.account.endSessions(sessions);
  }

  changePassword(form: PasswordForm): Promise<void> {
    return this.account.changePassword(form);
  }

  block(user: User): Promise<void> {
    return this.account.block(user);
  }

  unblock(userId: number): Promise<void> {
    return this.account.unblock(userId);
  }
}
