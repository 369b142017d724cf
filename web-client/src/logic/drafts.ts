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
