// The WebSocket frames, defined once for the whole client: both unions come from the server's OpenAPI
// components `ClientFrame` and `ServerFrame`, so a change on the server shows up here as a type error. Issue 14's
// frames (react; reaction, pin, notifications; `reply_to_seq` on new_message, `mention_count` on unread) are
// declared from its wire contract until the spec has them: a local frame is dropped once the spec has its type.
// Issue 15's `user` frame (someone's profile changed) and the presence frame's `last_seen_at` likewise.
import type { components } from '../api/schema';
import type { NotificationSettings, Reaction, User } from '../api/types';

type GenClient = components['schemas']['ClientFrame'];
type GenServer = components['schemas']['ServerFrame'];

type LocalClientFrame =
  | { type: 'react'; conversation_id: number; seq: number; emoji: string; on: boolean }
  | { type: 'new_message'; conversation_id: number; client_id: string; body?: string; attachment_ids?: string[]; reply_to_seq?: number };
type LocalServerFrame =
  | { type: 'reaction'; conversation_id: number; seq: number; user_id: number; emoji: string; added: boolean; reactions: Reaction[] }
  | { type: 'pin'; conversation_id: number; seq: number; pinned: boolean; user_id: number }
  | { type: 'notifications'; conversation_id: number; notifications: NotificationSettings }
  | { type: 'user'; user: User };

type NewMessageGen = Extract<GenClient, { type: 'new_message' }>;
export type ClientFrame =
  | GenClient
  | Exclude<LocalClientFrame, { type: 'new_message' | GenClient['type'] }>
  // A reply's seq, until the generated new_message carries it.
  | ('reply_to_seq' extends keyof NewMessageGen ? never : Extract<LocalClientFrame, { type: 'new_message' }>);
export type ServerFrame = GenServer | Exclude<LocalServerFrame, { type: GenServer['type'] }>;
export type ServerFrameType = ServerFrame['type'];
export type ServerFrameOf<T extends ServerFrameType> = Extract<ServerFrame, { type: T }>;
export type ClientFrameOf<T extends ClientFrame['type']> = Extract<ClientFrame, { type: T }>;

const SERVER_FRAME_TYPES: ReadonlySet<string> = new Set<ServerFrameType>([
  'ack',
  'message',
  'messages',
  'message_updated',
  'typing',
  'read',
  'delivered',
  'unread',
  'presence',
  'conversation',
  'removed',
  'error',
  'reaction',
  'pin',
  'notifications',
  'user',
]);

/** The `mention_count` an `unread` frame carries (issue 14), undefined from a server without it. */
export function mentionCountOf(frame: ServerFrameOf<'unread'>): number | undefined {
  const n = (frame as { mention_count?: unknown }).mention_count;
  return typeof n === 'number' ? n : undefined;
}

/** When a `presence` frame says the user was last seen (issue 15: set when `online` is false), else undefined. */
export function lastSeenOfFrame(frame: ServerFrameOf<'presence'>): string | undefined {
  const t = (frame as { last_seen_at?: unknown }).last_seen_at;
  return typeof t === 'string' ? t : undefined;
}

/** Parses one text frame; null for anything that is not a known server frame (ignored, never thrown). */
export function parseServerFrame(data: unknown): ServerFrame | null {
  if (typeof data !== 'string') return null;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !SERVER_FRAME_TYPES.has(type)) return null;
  return value as ServerFrame;
}
