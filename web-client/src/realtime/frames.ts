// The WebSocket frames, defined once for the whole client: both unions come from the server's OpenAPI
// components `ClientFrame` and `ServerFrame`, so a change on the server shows up here as a type error.
import type { components } from '../api/schema';

export type ClientFrame = components['schemas']['ClientFrame'];
export type ServerFrame = components['schemas']['ServerFrame'];
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
  'unread',
  'presence',
  'conversation',
  'removed',
  'error',
]);

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
