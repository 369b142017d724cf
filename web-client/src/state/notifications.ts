// Desktop notifications: one for a message from someone else while the tab is hidden, when the user has allowed
// them and the conversation's level asks for it (all; mentions only: messages that mention me; nothing: none);
// one per conversation at a time (its tag), and a click brings the tab forward and opens the conversation.
import type { Conversation, Message } from '../api/types';
import { previewText } from '../logic/attachments';
import { shouldNotify } from '../logic/notifications';
import { eventPreview } from '../logic/timeline';

export function notifyMessage(m: Message, c: Conversation | undefined, meId: number, open: (conversationId: number) => void): void {
  if (!shouldNotify(m, c, meId, Date.now())) return;
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  if (document.visibilityState === 'visible') return;
  const title = c?.kind === 'group' && c.title ? `${m.sender_name} in ${c.title}` : m.sender_name;
  try {
    const n = new Notification(title, { body: eventPreview(m, c?.members ?? []) ?? (m.deleted ? 'Message deleted' : previewText(m.body, m.attachments)), tag: `conversation-${m.conversation_id}` });
    n.onclick = () => {
      window.focus();
      open(m.conversation_id);
      n.close();
    };
  } catch {
    /* some platforms only allow notifications from a service worker */
  }
}
