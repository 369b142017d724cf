import type { Conversation, Message } from '../api/types';

export function msg(seq: number, over: Partial<Message> = {}): Message {
  return {
    id: 1000 + seq,
    conversation_id: 1,
    seq,
    sender_id: 2,
    sender_name: 'Bob',
    body: `message ${seq}`,
    client_id: `c${seq}`,
    created_at: new Date(Date.UTC(2024, 4, 15, 10, seq)).toISOString(),
    edited_at: null,
    deleted: false,
    attachments: [],
    reply_to: null,
    mentions: [],
    reactions: [],
    event: null,
    ...over,
  };
}

export function conv(over: Partial<Conversation> = {}): Conversation {
  return {
    id: 1,
    kind: 'direct',
    title: null,
    members: [
      { user: { id: 1, username: 'alice', display_name: 'Alice' }, role: 'member', last_read_seq: 0, last_delivered_seq: 0 },
      { user: { id: 2, username: 'bob', display_name: 'Bob' }, role: 'member', last_read_seq: 0, last_delivered_seq: 0 },
    ],
    last_message: null,
    last_seq: 0,
    last_read_seq: 0,
    unread_count: 0,
    created_at: new Date(Date.UTC(2024, 4, 1)).toISOString(),
    ...over,
  };
}
