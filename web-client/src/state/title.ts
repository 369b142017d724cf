// The tab title: `(N) Chat` with the unread total of every conversation, written only when it changes.
import type { Conversation } from '../api/types';
import { tabTitle, totalUnread } from '../logic/unread';

export class TabTitle {
  private last = '';

  sync(conversations: Readonly<Record<number, Conversation>>): void {
    const title = tabTitle(totalUnread(Object.values(conversations)));
    if (title === this.last) return;
    this.last = title;
    document.title = title;
  }

  /** Signed out or stopped: no count stays in the title. */
  reset(): void {
    document.title = 'Chat';
  }
}
