import { sortByActivity } from '../logic/unread';
import { previewText } from '../logic/attachments';
import { eventText, isEvent } from '../logic/timeline';
import { shortStamp } from '../logic/days';
import { presenceOf } from '../logic/presence';
import { isMuted } from '../logic/notifications';
import { Icon } from './Icon';
import type { ChatState } from '../state/store';
import { Avatar } from './Avatar';
import { conversationTitle, peerOf } from './people';

export function ConversationList({ state, onOpen }: { state: ChatState; onOpen: (id: number) => void }) {
  const list = sortByActivity(Object.values(state.conversations));
  const meId = state.me.id;
  if (!state.conversationsLoaded) return <p className="list-empty muted">Loading conversations…</p>;
  if (list.length === 0) return <p className="list-empty muted">No conversations yet. Start one with “New chat”.</p>;
  const now = new Date();
  // Presence is only known while connected: no dots at all rather than stale ones.
  const connected = state.connection.state === 'open';
  return (
    <nav className="conv-list" aria-label="Conversation list">
      <ul>
        {list.map((c) => {
          const title = conversationTitle(c, meId);
          const peer = c.kind === 'direct' ? peerOf(c, meId) : undefined;
          const online = peer && connected ? presenceOf(state.presence, peer) : undefined;
          const typers = Object.keys(state.typing[c.id] ?? {}).map(Number);
          const pending = state.outbox.filter((p) => p.conversation_id === c.id);
          const last = c.last_message;
          const lastPending = pending[pending.length - 1];
          let preview: string;
          if (typers.length > 0) {
            preview = c.kind === 'group' ? `${nameOf(state, c.id, typers[0])} is typing…` : 'typing…';
          } else if (lastPending) {
            preview = `You: ${previewText(lastPending.body, lastPending.attachments)}`;
          } else if (last && isEvent(last)) {
            preview = eventText(last, c.members);
          } else if (last) {
            const who = last.sender_id === meId ? 'You: ' : c.kind === 'group' ? `${last.sender_name}: ` : '';
            preview = who + (last.deleted ? 'Message deleted' : previewText(last.body, last.attachments));
          } else {
            preview = 'No messages yet';
          }
          const stamp = last ? shortStamp(last.created_at, now) : '';
          const unread = c.unread_count;
          const mentions = unread > 0 ? (c.mention_count ?? 0) : 0;
          const muted = isMuted(c, now.getTime());
          const active = state.selectedId === c.id;
          return (
            <li key={c.id}>
              {/* The name is the visible text (label in name), with what only an icon or a colour shows in sr-only words. */}
              <button
                type="button"
                className={`conv-item${active ? ' active' : ''}${unread > 0 ? ' has-unread' : ''}${muted ? ' is-muted' : ''}`}
                aria-current={active ? 'true' : undefined}
                data-testid="conversation-item"
                data-conversation-id={c.id}
                onClick={() => onOpen(c.id)}
              >
                <Avatar name={title} id={peer?.id ?? c.id} online={online} group={c.kind === 'group'} />
                <span className="conv-body">
                  <span className="conv-top">
                    <span className="conv-title">{title}</span>
                    {online && <span className="sr-only">, online</span>}
                    {muted && (
                      <span className="muted-icon" title="Muted" data-testid="muted-icon">
                        <Icon name="bellOff" />
                        <span className="sr-only">, muted</span>
                      </span>
                    )}
                    {stamp && <span className="sr-only">, </span>}
                    <span className="conv-time">{stamp}</span>
                  </span>
                  <span className="conv-bottom">
                    <span className="sr-only">, </span>
                    <span className={`conv-preview${typers.length ? ' typing' : ''}`}>{preview}</span>
                    {mentions > 0 && (
                      <span className="badge mention-badge" data-testid="mention-badge" title={mentions === 1 ? '1 unread mention' : `${mentions} unread mentions`}>
                        @<span className="sr-only"> {mentions === 1 ? '1 mention' : `${mentions} mentions`}</span>
                      </span>
                    )}
                    {unread > 0 && (
                      <span className="badge" data-testid="unread-badge">
                        {unread > 99 ? '99+' : unread}
                        <span className="sr-only"> unread</span>
                      </span>
                    )}
                  </span>
                </span>
              </button>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}

function nameOf(state: ChatState, conversationId: number, userId: number): string {
  return state.conversations[conversationId]?.members.find((m) => m.user.id === userId)?.user.display_name ?? 'Someone';
}
