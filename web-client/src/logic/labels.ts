// The accessible name of a conversation in the list. It starts with what the button shows (title, last message,
// time), so that speech input ("click Bob Builder") and screen readers agree with the screen, then says what
// only an icon or a colour shows.
export interface ConversationLabelParts {
  title: string;
  preview: string;
  stamp: string;
  unread: number;
  mentions: number;
  muted: boolean;
  online: boolean;
}

export function conversationLabel(p: ConversationLabelParts): string {
  const parts = [p.title];
  if (p.unread) parts.push(`${p.unread} unread`);
  if (p.mentions) parts.push(p.mentions === 1 ? '1 mention' : `${p.mentions} mentions`);
  if (p.muted) parts.push('muted');
  if (p.online) parts.push('online');
  if (p.preview) parts.push(p.preview);
  if (p.stamp) parts.push(p.stamp);
  return parts.join(', ');
}
