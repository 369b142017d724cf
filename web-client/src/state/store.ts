// The client's whole state as one immutable value, with a subscribe/get pair for React's useSyncExternalStore.
import type { Conversation, Message, Pin, User } from '../api/types';
import type { PendingMessage } from '../logic/messages';
import type { DraftUpload } from '../logic/uploads';
import type { SocketStatus } from '../realtime/socket';

export interface ConversationView {
  /** Stored messages held for this conversation, ascending by seq, one per seq. */
  messages: readonly Message[];
  /** Whether older messages exist before the first one held. */
  hasMoreBefore: boolean;
  loadingOlder: boolean;
  /** The latest page has been loaded (the view is live from then on). */
  loaded: boolean;
  error?: string;
}

export interface ChatState {
  me: User;
  conversations: Readonly<Record<number, Conversation>>;
  conversationsLoaded: boolean;
  views: Readonly<Record<number, ConversationView>>;
  /** Own messages not yet confirmed by the server, in the order they were written. */
  outbox: readonly PendingMessage[];
  /** Files in the composers (every conversation's), uploading or uploaded, not yet in a message. */
  uploads: readonly DraftUpload[];
  /** What attachment URLs carry as `?media_token=` (null until the first one is fetched). */
  mediaToken: string | null;
  /** conversation id → user id → epoch ms at which the typing indicator lapses. */
  typing: Readonly<Record<number, Readonly<Record<number, number>>>>;
  /** conversation id → user id → the seq that member has read up to (read receipts seen). */
  reads: Readonly<Record<number, Readonly<Record<number, number>>>>;
  /** conversation id → user id → the seq that member's clients have received up to ("delivered" ticks). */
  delivered: Readonly<Record<number, Readonly<Record<number, number>>>>;
  presence: Readonly<Record<number, boolean>>;
  /** user id → when their last socket closed (RFC 3339), where the server tells (issue 15). */
  lastSeen: Readonly<Record<number, string>>;
  contacts: readonly User[];
  /** The people this user has blocked (`GET /api/users/me/blocks`). */
  blocked: readonly User[];
  blocksLoaded: boolean;
  connection: SocketStatus;
  selectedId: number | null;
  /** Groups the user asked to leave: their `removed` frame is no news to tell (conversation ids). */
  leaving: readonly number[];
  /** A transient problem to show the user. */
  notice: string | null;
  /** conversation id → its pinned messages, newest pin first (`GET …/pins`, then `pin` frames). */
  pins: Readonly<Record<number, readonly Pin[]>>;
  /** A message to scroll to and highlight once its conversation shows it (a quote or a search result clicked). */
  jump: Jump | null;
  /** Where the open conversation's unread messages began when it was opened (the "N unread messages" line). */
  unreadMarker: UnreadMarker | null;
}

export interface UnreadMarker {
  conversationId: number;
  /** The reader had read up to here: the line goes above the first message after it. */
  afterSeq: number;
  count: number;
}

export interface Jump {
  conversationId: number;
  seq: number;
  /** Tells a second jump to the same message from the first. */
  nonce: number;
}

export class Store<T> {
  private readonly listeners = new Set<() => void>();
  constructor(private state: T) {}

  get = (): T => this.state;

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  update(fn: (state: T) => T): void {
    const next = fn(this.state);
    if (next === this.state) return;
    this.state = next;
    for (const l of this.listeners) l();
  }
}

/** The state before anything was loaded: only who is signed in, and what this tab still had to send. */
export function initialState(me: User, outbox: readonly PendingMessage[]): ChatState {
  return {
    me,
    conversations: {},
    conversationsLoaded: false,
    views: {},
    outbox,
    uploads: [],
    mediaToken: null,
    typing: {},
    reads: {},
    delivered: {},
    presence: {},
    lastSeen: {},
    contacts: [],
    blocked: [],
    blocksLoaded: false,
    connection: { state: 'connecting', attempt: 0 },
    selectedId: null,
    leaving: [],
    notice: null,
    pins: {},
    jump: null,
    unreadMarker: null,
  };
}

export function emptyView(): ConversationView {
  return { messages: [], hasMoreBefore: false, loadingOlder: false, loaded: false };
}
