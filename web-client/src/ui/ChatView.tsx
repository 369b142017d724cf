// The open conversation: its header, the message list, who is typing, and the composer — or, while the peer of
// a direct chat is blocked, an Unblock bar in its place.
import type { ChatController } from '../state/controller';
import type { ChatState } from '../state/store';
import { isBlocked } from '../logic/blocks';
import { presenceOf } from '../logic/presence';
import { ChatHeader } from './chat/ChatHeader';
import { Composer } from './chat/Composer';
import { MessageList } from './chat/MessageList';
import { BlockButton } from './dialogs/BlockButton';
import { conversationTitle, peerOf } from './people';

export function ChatView({ controller, state, id, onBack }: { controller: ChatController; state: ChatState; id: number; onBack: () => void }) {
  const c = state.conversations[id];
  const meId = state.me.id;

  if (!c) {
    return (
      <section className="chat" aria-label="Conversation">
        <header className="chat-head">
          <button type="button" className="ghost back" onClick={onBack} aria-label="Back to conversations">
            ←
          </button>
          <div className="chat-title">Loading…</div>
        </header>
      </section>
    );
  }

  const title = conversationTitle(c, meId);
  const peer = c.kind === 'direct' ? peerOf(c, meId) : undefined;
  const connected = state.connection.state === 'open';
  const blockedPeer = peer !== undefined && isBlocked(state.blocked, peer.id);
  const online = peer && connected && !blockedPeer ? presenceOf(state.presence, peer) : undefined;
  const typers = Object.keys(state.typing[id] ?? {})
    .map(Number)
    .filter((u) => u !== meId)
    .map((u) => c.members.find((m) => m.user.id === u)?.user.display_name ?? 'Someone');

  return (
    <section className="chat" aria-label={`Conversation with ${title}`}>
      <ChatHeader controller={controller} state={state} c={c} title={title} peer={peer} blockedPeer={blockedPeer} online={online} onBack={onBack} />

      <MessageList controller={controller} state={state} c={c} />

      <div className="typing-line" aria-live="polite" data-testid="typing">
        {typers.length > 0 && <span>{typingText(typers)}</span>}
      </div>

      {blockedPeer && peer ? (
        // The server would still take the message; but writing to someone one has blocked is never what is meant.
        <div className="blocked-bar" data-testid="blocked-bar">
          <span>You have blocked {peer.display_name}. Unblock them to send messages.</span>
          <BlockButton controller={controller} user={peer} blocked className="small" />
        </div>
      ) : (
        <Composer onSend={(body) => controller.send(id, body)} onTyping={() => controller.typing(id)} onBlur={() => controller.stopTyping(id)} />
      )}
    </section>
  );
}

export function typingText(names: string[]): string {
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return `${names.length} people are typing…`;
}
