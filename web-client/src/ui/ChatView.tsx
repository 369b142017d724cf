// The open conversation: its header, the message list, who is typing, and the composer — or, while the peer of
// a direct chat is blocked, an Unblock bar in its place. Files dropped anywhere on the conversation, or pasted
// (with no text beside them) while it has focus, go to the composer like picked ones.
import { useEffect, useRef, useState, type ClipboardEvent, type DragEvent } from 'react';
import type { ChatController } from '../state/controller';
import type { ChatState } from '../state/store';
import { isBlocked } from '../logic/blocks';
import { draftKey } from '../logic/drafts';
import { draftsOf } from '../logic/uploads';
import { presenceOf } from '../logic/presence';
import { replyPreviewOf } from '../logic/replies';
import type { ReplyPreview } from '../api/types';
import { ChatHeader } from './chat/ChatHeader';
import { Composer } from './chat/Composer';
import { MessageList } from './chat/MessageList';
import { BlockButton } from './dialogs/BlockButton';
import { conversationTitle, peerOf } from './people';

/** Whether a drag carries files (not text or a link being dragged around the page). */
function hasFiles(e: DragEvent): boolean {
  return Array.from(e.dataTransfer?.types ?? []).includes('Files');
}

export function ChatView({ controller, state, id, onBack }: { controller: ChatController; state: ChatState; id: number; onBack: () => void }) {
  const c = state.conversations[id];
  const meId = state.me.id;
  const [dragging, setDragging] = useState(false);
  const [replyTo, setReplyTo] = useState<ReplyPreview | null>(null);
  // Bumped by Up in an empty composer: the list opens the editor on the last own message.
  const [editLast, setEditLast] = useState(0);
  const depth = useRef(0);

  // A file dropped beside the drop zone must not make the browser leave the app to show it.
  useEffect(() => {
    const stop = (e: globalThis.DragEvent) => {
      if (Array.from(e.dataTransfer?.types ?? []).includes('Files')) e.preventDefault();
    };
    window.addEventListener('dragover', stop);
    window.addEventListener('drop', stop);
    return () => {
      window.removeEventListener('dragover', stop);
      window.removeEventListener('drop', stop);
    };
  }, []);

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

  const composing = !(blockedPeer && peer);
  const drafts = draftsOf(state.uploads, id);
  const dropHandlers = composing
    ? {
        onDragEnter: (e: DragEvent) => {
          if (!hasFiles(e)) return;
          e.preventDefault();
          depth.current += 1;
          setDragging(true);
        },
        onDragOver: (e: DragEvent) => {
          if (!hasFiles(e)) return;
          e.preventDefault();
          e.dataTransfer.dropEffect = 'copy';
        },
        onDragLeave: (e: DragEvent) => {
          if (!hasFiles(e)) return;
          depth.current = Math.max(0, depth.current - 1);
          if (depth.current === 0) setDragging(false);
        },
        onDrop: (e: DragEvent) => {
          if (!hasFiles(e)) return;
          e.preventDefault();
          depth.current = 0;
          setDragging(false);
          controller.attach(id, Array.from(e.dataTransfer.files));
        },
        onPaste: (e: ClipboardEvent) => {
          const data = e.clipboardData;
          const files = Array.from(data?.files ?? []);
          // Text copied from a document may come with a picture of itself: text wins then.
          if (files.length === 0 || data.types.includes('text/plain')) return;
          e.preventDefault();
          controller.attach(id, files);
        },
      }
    : {};

  return (
    <section className="chat" aria-label={`Conversation with ${title}`} {...dropHandlers}>
      {dragging && (
        <div className="drop-zone" aria-hidden="true" data-testid="drop-zone">
          <span>Drop files to send to {title}</span>
        </div>
      )}
      <ChatHeader controller={controller} state={state} c={c} title={title} peer={peer} blockedPeer={blockedPeer} online={online} onBack={onBack} />

      <MessageList controller={controller} state={state} c={c} onReply={(m) => setReplyTo(replyPreviewOf(m))} editLast={editLast} />

      <div className="typing-line" aria-live="polite" data-testid="typing">
        {typers.length > 0 && <span>{typingText(typers)}</span>}
      </div>

      {!composing && peer ? (
        // The server would still take the message; but writing to someone one has blocked is never what is meant.
        <div className="blocked-bar" data-testid="blocked-bar">
          <span>You have blocked {peer.display_name}. Unblock them to send messages.</span>
          <BlockButton controller={controller} user={peer} blocked className="small" />
        </div>
      ) : (
        <Composer
          drafts={drafts}
          members={c.members}
          meId={meId}
          replyTo={replyTo}
          onCancelReply={() => setReplyTo(null)}
          onSend={(body) => {
            controller.send(id, body, replyTo ?? undefined);
            setReplyTo(null);
          }}
          onTyping={() => controller.typing(id)}
          onBlur={() => controller.stopTyping(id)}
          onAttach={(files) => controller.attach(id, files)}
          onRemoveUpload={(key) => controller.removeUpload(key)}
          onRetryUpload={(key) => controller.retryUpload(key)}
          draftKey={draftKey(meId, id)}
          onEditLast={() => setEditLast((n) => n + 1)}
        />
      )}
    </section>
  );
}

export function typingText(names: string[]): string {
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return `${names.length} people are typing…`;
}
