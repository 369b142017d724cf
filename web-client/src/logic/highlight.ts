// The part of a person's name or username that matched what was typed in a people search, set apart. The server
// matches a case-insensitive substring; the client marks the first one it finds, and marks nothing where lower
// casing would change the text's length (a few scripts), rather than mark the wrong letters.
export interface MatchPart {
  text: string;
  match: boolean;
}

export function matchParts(text: string, query: string): MatchPart[] {
  const q = query.trim().toLowerCase();
  const lower = text.toLowerCase();
  const at = q && lower.length === text.length ? lower.indexOf(q) : -1;
  if (at < 0) return [{ text, match: false }];
  const parts: MatchPart[] = [];
  if (at > 0) parts.push({ text: text.slice(0, at), match: false });
  parts.push({ text: text.slice(at, at + q.length), match: true });
  if (at + q.length < text.length) parts.push({ text: text.slice(at + q.length), match: false });
  return parts;
}
