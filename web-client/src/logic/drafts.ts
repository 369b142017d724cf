// What the user was writing, per user and conversation, in localStorage: it survives switching conversations,
// reloads and restarts, and another user signing in on this browser does not see it.
const PREFIX = 'chat.draft.';

export function draftKey(userId: number, conversationId: number): string {
  return `${PREFIX}${userId}.${conversationId}`;
}

function store(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

export function loadDraft(key: string, storage: Storage | null = store()): string {
  try {
    return storage?.getItem(key) ?? '';
  } catch {
    return '';
  }
}

/** Keeps the text; an empty (or blank) one removes the entry, so sent drafts leave nothing behind. */
export function saveDraft(key: string, text: string, storage: Storage | null = store()): void {
  try {
    if (text.trim()) storage?.setItem(key, text);
    else storage?.removeItem(key);
  } catch {
    /* storage full or disabled: the draft lives as long as the composer */
  }
}

/** Forgets every draft of `userId`: signing out leaves nothing of what they were writing on this browser. */
export function forgetDrafts(userId: number, storage: Storage | null = store()): void {
  try {
    if (!storage) return;
    const mine = `${PREFIX}${userId}.`;
    const keys: string[] = [];
    for (let i = 0; i < storage.length; i += 1) {
      const key = storage.key(i);
      if (key?.startsWith(mine)) keys.push(key);
    }
    for (const key of keys) storage.removeItem(key);
  } catch {
    /* storage disabled: there is nothing kept to forget */
  }
}
