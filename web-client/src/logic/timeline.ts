// Timeline events: changes to a group (created, renamed, members added, removed, leaving) that the server keeps
// in the conversation's seq stream like messages. They are read as one centred line of who did what — never a
// bubble: nobody wrote them, so nothing about them can be replied to, reacted to, edited or pinned, and they are
// no one's "last message" to edit. They do take a seq, so they count as unread like any message, as on the server.
import type { Member, Message } from '../api/types';
import { currentName } from './profile';

export type TimelineEvent = NonNullable<Message['event']>;
export type EventMessage = Message & { event: TimelineEvent };

export function isEvent(m: Pick<Message, 'event'>): m is EventMessage {
  return m.event != null;
}

/**
 * The line for an event: "Alice added Carol", "Carol left", "Alice renamed the group to “Trip”". Names are the
 * current ones of people still in the group; someone who left keeps the name the event recorded.
 */
export function eventText(m: EventMessage, members: readonly Member[]): string {
  const actor = currentName(members, m.sender_id, m.sender_name);
  const e = m.event;
  switch (e.type) {
    case 'created':
      return e.title ? `${actor} created the group “${e.title}”` : `${actor} created the group`;
    case 'renamed':
      return e.title ? `${actor} renamed the group to “${e.title}”` : `${actor} renamed the group`;
    case 'member_added':
      return `${actor} added ${currentName(members, e.user_id, e.user_name)}`;
    case 'member_removed':
      return `${actor} removed ${currentName(members, e.user_id, e.user_name)}`;
    case 'member_left':
      return `${actor} left`;
  }
}

/** What the conversation list, a notification or a quote says for a message: the event's line, or null for a message. */
export function eventPreview(m: Message, members: readonly Member[]): string | null {
  return isEvent(m) ? eventText(m, members) : null;
}

/** The notice when the user is taken out of a group they did not leave themself. */
export function removedNotice(title: string | null | undefined): string {
  return title ? `You were removed from “${title}”.` : 'You were removed from this group.';
}
