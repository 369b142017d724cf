// How the client's state changes with what the server says: `applyFrame` for every socket frame, and the state
// transitions that REST answers share with frames (stored messages in, a conversation upserted or forgotten,
// typing indicators lapsing). Pure: no timers, no I/O; the clock is an argument. The effects that go with a
// frame (fetches, acks' timers, notifications) are the controller's.
import type { Conversation, Message, Pin, Reaction } from '../api/types';
import { attachmentRefusalMessage } from '../logic/attachments';
import { blockRefusalMessage } from '../logic/blocks';
import { mergeMessages, settleOutbox, type PendingMessage } from '../logic/messages';
import { withLastSeenOf } from '../logic/lastSeen';
import { removedNotice } from '../logic/timeline';
import { withPresenceOf } from '../logic/presence';
import { reactionRefusal } from '../logic/reactions';
import { refreshQuotes } from '../logic/replies';
import { withMentionCount, withNewMessage, withUnreadCount } from '../logic/unread';
import { mentionCountOf, type ServerFrame, type ServerFrameOf } from '../realtime/frames';
import type { ChatState } from './store';
import { withPresenceFrame, withUserUpdate } from './users';

/** Someone else's typing indicator lapses after this long without a new typing frame. */
export const TYPING_TTL_MS = 6_000;

/** The state after one server frame; the same object where the frame is plainly no news, which spares a render. */
export function applyFrame(state: ChatState, frame: ServerFrame, now: number): ChatState {
  switch (frame.type) {
    case 'ack':
      return ingestMessages(withoutPending(state, frame.client_id), frame.message.conversation_id, [frame.message]);
    case 'message':
      return ingestMessages(state, frame.message.conversation_id, [frame.message], { live: true });
    case 'messages':
      // The reply to `fetch_messages`, which this client does not send (it pages over REST): merged all the same.
      return ingestMessages(state, frame.conversation_id, frame.messages);
    case 'message_updated':
      return ingestMessages(state, frame.message.conversation_id, [frame.message]);
    case 'typing':
      return withTyping(state, frame, now);
    case 'read':
      return withMemberRead(state, frame);
    case 'delivered':
      return withMemberDelivered(state, frame);
    case 'unread': {
      const c = state.conversations[frame.conversation_id];
      if (!c) return state;
      const next = withMentionCount(withUnreadCount(c, frame.unread_count), mentionCountOf(frame));
      return next === c ? state : { ...state, conversations: { ...state.conversations, [c.id]: next } };
    }
    case 'reaction':
      return withReactions(state, frame.conversation_id, frame.seq, frame.reactions);
    case 'pin':
      return withPinFrame(state, frame, now);
    case 'notifications': {
      const c = state.conversations[frame.conversation_id];
      if (!c) return state;
      return { ...state, conversations: { ...state.conversations, [c.id]: { ...c, notifications: frame.notifications } } };
    }
    case 'presence':
      return withPresenceFrame(state, frame);
    case 'user':
      return withUserUpdate(state, frame.user);
    case 'conversation':
      return upsertConversation(state, frame.conversation);
    case 'removed':
      return withRemoval(state, frame.conversation_id);
    case 'error':
      if (frame.client_id) {
        // The socket's error codes are the REST ones; a refused message is a 403 there.
        return withFailed(state, frame.client_id, blockRefusalMessage(403, frame.code, 'send') ?? attachmentRefusalMessage(frame.code) ?? frame.message);
      }
      // A read, delivered or typing frame that crossed the user's removal from the conversation: the `removed`
      // frame has told them in words, which "Not found." must not replace.
      if (frame.code === 'not_found') return state;
      return { ...state, notice: reactionRefusal(frame.code) ?? pinRefusal(frame.code) ?? frame.message };
  }
}

/**
 * Stored messages of one conversation merged into its view (when its latest page is loaded), its summary in
 * the list, and the outbox (own messages among them are confirmed). `live` messages were just written: their
 * senders have stopped typing.
 */
export function ingestMessages(state: ChatState, id: number, messages: readonly Message[], opts: { live?: boolean } = {}): ChatState {
  if (messages.length === 0) return state;
  const meId = state.me.id;
  let views = state.views;
  const v = state.views[id];
  if (v && v.loaded) {
    // Quotes of an edited or deleted original follow it.
    const merged = refreshQuotes(mergeMessages(v.messages, messages), messages);
    if (merged !== v.messages) views = { ...views, [id]: { ...v, messages: merged } };
  }
  const pins = withPinnedMessages(state.pins, id, messages);
  let conversations = state.conversations;
  const c = state.conversations[id];
  if (c) {
    let next = c;
    for (const m of messages) {
      if (next.last_message && next.last_message.seq === m.seq) next = { ...next, last_message: m };
      else if (m.seq > next.last_seq || !next.last_message) next = withNewMessage(next, m, meId);
    }
    if (next !== c) conversations = { ...conversations, [id]: next };
  }
  const outbox = settleOutbox(state.outbox, messages.filter((m) => m.conversation_id === id), meId);
  let typing = state.typing;
  if (opts.live && state.typing[id]) {
    const t = { ...state.typing[id] };
    let changed = false;
    for (const m of messages) if (t[m.sender_id]) (delete t[m.sender_id], (changed = true));
    if (changed) typing = { ...typing, [id]: t };
  }
  if (views === state.views && conversations === state.conversations && outbox === state.outbox && typing === state.typing && pins === state.pins) return state;
  return { ...state, views, conversations, outbox, typing, pins };
}

/** A message's reactions replaced by the server's full list, wherever the message is held. */
export function withReactions(state: ChatState, id: number, seq: number, reactions: readonly Reaction[]): ChatState {
  const set = (m: Message): Message => ({ ...m, reactions: [...reactions] });
  let views = state.views;
  const v = state.views[id];
  const i = v ? v.messages.findIndex((m) => m.seq === seq) : -1;
  if (v && i >= 0) views = { ...views, [id]: { ...v, messages: v.messages.map((m, j) => (j === i ? set(m) : m)) } };
  let conversations = state.conversations;
  const c = state.conversations[id];
  if (c?.last_message?.seq === seq) conversations = { ...conversations, [id]: { ...c, last_message: set(c.last_message) } };
  let pins = state.pins;
  const list = state.pins[id];
  if (list?.some((p) => p.message.seq === seq)) pins = { ...pins, [id]: list.map((p) => (p.message.seq === seq ? { ...p, message: set(p.message) } : p)) };
  if (views === state.views && conversations === state.conversations && pins === state.pins) return state;
  return { ...state, views, conversations, pins };
}

/** The pinned messages of a conversation as `GET …/pins` gave them. */
export function withPins(state: ChatState, id: number, pins: readonly Pin[]): ChatState {
  return { ...state, pins: { ...state.pins, [id]: pins } };
}

/**
 * A `pin` frame: an unpin drops the pin; a pin of a held message is listed first at once (the controller reads
 * the list again for one it does not hold, and for the pin's exact time and author).
 */
function withPinFrame(state: ChatState, f: ServerFrameOf<'pin'>, now: number): ChatState {
  const list = state.pins[f.conversation_id];
  if (!list) return state;
  const has = list.some((p) => p.message.seq === f.seq);
  if (!f.pinned) return has ? withPins(state, f.conversation_id, list.filter((p) => p.message.seq !== f.seq)) : state;
  if (has) return state;
  const message = state.views[f.conversation_id]?.messages.find((m) => m.seq === f.seq);
  if (!message) return state;
  return withPins(state, f.conversation_id, [{ message, pinned_by: f.user_id, pinned_at: new Date(now).toISOString() }, ...list]);
}

/** Pinned copies of messages that changed: a deleted message is no longer pinned, an edited one shows its edit. */
function withPinnedMessages(all: ChatState['pins'], id: number, messages: readonly Message[]): ChatState['pins'] {
  const list = all[id];
  if (!list || list.length === 0) return all;
  const bySeq = new Map(messages.map((m) => [m.seq, m]));
  let changed = false;
  const next: Pin[] = [];
  for (const p of list) {
    const m = bySeq.get(p.message.seq);
    if (!m) next.push(p);
    else if (m.deleted) changed = true;
    else if (m !== p.message && (m.body !== p.message.body || m.edited_at !== p.message.edited_at)) {
      changed = true;
      next.push({ ...p, message: { ...p.message, body: m.body, edited_at: m.edited_at } });
    } else next.push(p);
  }
  return changed ? { ...all, [id]: next } : all;
}

/** A refused pin in words; null when the code is not about pins. */
export function pinRefusal(code: string): string | null {
  return code === 'too_many_pins' ? 'This conversation already has 50 pinned messages. Unpin one first.' : null;
}

/** A conversation as the server sent it (a frame or a REST answer), its members' presence and read positions. */
export function upsertConversation(state: ChatState, c: Conversation): ChatState {
  const presence = withPresenceOf(state.presence, c.members.map((m) => m.user));
  const lastSeen = withLastSeenOf(state.lastSeen, c.members.map((m) => m.user));
  const had = state.conversations[c.id];
  // `conversation` frames leave out the caller's own mention count and notification level: keep the held ones.
  const own: Partial<Conversation> = {};
  if (c.mention_count === undefined && had?.mention_count !== undefined) own.mention_count = had.mention_count;
  if (c.notifications === undefined && had?.notifications !== undefined) own.notifications = had.notifications;
  // Keep the newer of the two read/seq states: a frame may be older than what live messages told us.
  const merged: Conversation =
    had && had.last_seq > c.last_seq
      ? {
          ...c,
          ...own,
          last_seq: had.last_seq,
          last_message: had.last_message,
          unread_count: Math.max(0, had.last_seq - Math.max(c.last_read_seq, had.last_read_seq)),
          last_read_seq: Math.max(c.last_read_seq, had.last_read_seq),
        }
      : { ...c, ...own };
  const reads = withReads(state.reads, c, 'last_read_seq');
  return { ...state, conversations: { ...state.conversations, [c.id]: merged }, presence, lastSeen, reads, delivered: withReads(state.delivered, c, 'last_delivered_seq') };
}

/** The whole conversation list (`GET /api/conversations`), replacing the one held. */
export function withConversationList(state: ChatState, list: readonly Conversation[]): ChatState {
  const conversations: Record<number, Conversation> = {};
  let presence = state.presence;
  let lastSeen = state.lastSeen;
  let reads = state.reads;
  let delivered = state.delivered;
  for (const c of list) {
    conversations[c.id] = c;
    reads = withReads(reads, c, 'last_read_seq');
    delivered = withReads(delivered, c, 'last_delivered_seq');
    presence = withPresenceOf(presence, c.members.map((m) => m.user));
    lastSeen = withLastSeenOf(lastSeen, c.members.map((m) => m.user));
  }
  return { ...state, conversations, conversationsLoaded: true, presence, lastSeen, reads, delivered };
}

/**
 * The user is no longer in a conversation. Unless they left it themself, they are told so — most of all when
 * they were looking at it and find themself in the lobby.
 */
export function withRemoval(state: ChatState, id: number): ChatState {
  const c = state.conversations[id];
  const told = c && c.kind === 'group' && !state.leaving.includes(id);
  const next = forgetConversation(state, id);
  return told ? { ...next, notice: removedNotice(c.title) } : next;
}

/** Drops a conversation we left or were removed from (back to the lobby when it was open). */
export function forgetConversation(state: ChatState, id: number): ChatState {
  if (!state.conversations[id] && !state.views[id] && state.selectedId !== id) return state;
  const conversations = { ...state.conversations };
  delete conversations[id];
  const views = { ...state.views };
  delete views[id];
  const typing = { ...state.typing };
  delete typing[id];
  const outbox = state.outbox.some((p) => p.conversation_id === id) ? state.outbox.filter((p) => p.conversation_id !== id) : state.outbox;
  const pins = { ...state.pins };
  delete pins[id];
  const leaving = state.leaving.includes(id) ? state.leaving.filter((x) => x !== id) : state.leaving;
  return { ...state, conversations, views, typing, outbox, pins, leaving, selectedId: state.selectedId === id ? null : state.selectedId };
}

/** Typing indicators whose time is up removed; the same state when none has lapsed. */
export function expireTyping(state: ChatState, now: number): ChatState {
  let changed = false;
  const typing: Record<number, Record<number, number>> = {};
  for (const [cid, users] of Object.entries(state.typing)) {
    const kept: Record<number, number> = {};
    for (const [uid, until] of Object.entries(users)) {
      if (until > now) kept[Number(uid)] = until;
      else changed = true;
    }
    typing[Number(cid)] = kept;
  }
  return changed ? { ...state, typing } : state;
}

/** The outbox entry with this client_id marked failed with the reason; the same state when there is none. */
export function withFailed(state: ChatState, clientId: string, error: string, onlyIfPending = false): ChatState {
  const fails = (p: PendingMessage) => p.client_id === clientId && (!onlyIfPending || p.status === 'pending');
  if (!state.outbox.some(fails)) return state;
  return { ...state, outbox: state.outbox.map((p) => (fails(p) ? { ...p, status: 'failed', error } : p)) };
}

function withoutPending(state: ChatState, clientId: string): ChatState {
  if (!state.outbox.some((p) => p.client_id === clientId)) return state;
  return { ...state, outbox: state.outbox.filter((p) => p.client_id !== clientId) };
}

function withTyping(state: ChatState, f: ServerFrameOf<'typing'>, now: number): ChatState {
  // Own typing (from another tab of this account) is not someone typing to us.
  if (f.user_id === state.me.id) return state;
  const t = { ...(state.typing[f.conversation_id] ?? {}) };
  if (f.is_typing) t[f.user_id] = now + TYPING_TTL_MS;
  else if (t[f.user_id] === undefined) return state;
  else delete t[f.user_id];
  return { ...state, typing: { ...state.typing, [f.conversation_id]: t } };
}

function withMemberRead(state: ChatState, f: ServerFrameOf<'read'>): ChatState {
  const reads = withPosition(state.reads, f);
  return reads === state.reads ? state : { ...state, reads };
}

function withMemberDelivered(state: ChatState, f: ServerFrameOf<'delivered'>): ChatState {
  const delivered = withPosition(state.delivered, f);
  return delivered === state.delivered ? state : { ...state, delivered };
}

type Positions = ChatState['reads'];

/** One member's position moved forward (never back: frames may arrive after a newer list). */
function withPosition(all: Positions, f: { conversation_id: number; user_id: number; up_to_seq: number }): Positions {
  const r = all[f.conversation_id] ?? {};
  if ((r[f.user_id] ?? 0) >= f.up_to_seq) return all;
  return { ...all, [f.conversation_id]: { ...r, [f.user_id]: f.up_to_seq } };
}

/** Read or delivered positions of a conversation's members (for the ticks after a reload), only moved forward. */
function withReads(all: Positions, c: Conversation, field: 'last_read_seq' | 'last_delivered_seq'): Positions {
  const cur = all[c.id] ?? {};
  let changed = false;
  const next = { ...cur };
  for (const m of c.members) {
    const seq = m[field] ?? 0;
    if ((next[m.user.id] ?? 0) < seq) {
      next[m.user.id] = seq;
      changed = true;
    }
  }
  return changed ? { ...all, [c.id]: next } : all;
}
