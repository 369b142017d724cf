// Message search: when a query is worth sending, results pages appended without repeats, and what a result says
// about where it is (conversation name, sender, time).
import type { Conversation, SearchHit, SearchPage } from '../api/types';

/** At least two characters (after trimming) make a search. */
export function searchable(q: string): boolean {
  return q.trim().length >= 2;
}

export function hitKey(h: SearchHit): string {
  return `${h.message.conversation_id}:${h.message.seq}`;
}

/** Held results followed by a page's, each (conversation, seq) once. */
export function withPage(held: readonly SearchHit[], page: SearchPage): SearchHit[] {
  const seen = new Set(held.map(hitKey));
  const out = [...held];
  for (const h of page.results) {
    const k = hitKey(h);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(h);
    }
  }
  return out;
}

/** The snippet's parts, or the start of the body when the server sent none. */
export function snippetOf(h: SearchHit): Array<{ text: string; highlight: boolean }> {
  if (h.snippet?.length) return h.snippet;
  return [{ text: Array.from(h.message.body).slice(0, 140).join(''), highlight: false }];
}

/** The conversation a result is in, as the list names it; "a conversation you left" when it is not held. */
export function hitPlace(h: SearchHit, conversations: Readonly<Record<number, Conversation>>, title: (c: Conversation) => string): string {
  const c = conversations[h.message.conversation_id];
  return c ? title(c) : 'A conversation';
}
