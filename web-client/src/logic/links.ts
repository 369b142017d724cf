// Web addresses in a message body, made clickable. Only http(s): a `javascript:` or `data:` text stays text.
// Nothing is fetched for them (no previews): the link is a plain anchor opened in a new tab without an opener
// or a referrer.
export type TextPart = { text: string; href?: undefined } | { text: string; href: string };

const URLISH = /\bhttps?:\/\/[^\s<>"'`]+/gi;
/** Punctuation that ends a sentence rather than the address. */
const TRAILING = /[.,;:!?'"*_~]+$/;

function trimEnd(candidate: string): string {
  let s = candidate.replace(TRAILING, '');
  // A closing parenthesis belongs to the address only when it opened one too (Wikipedia-style links).
  while (s.endsWith(')') && (s.match(/\(/g)?.length ?? 0) < (s.match(/\)/g)?.length ?? 0)) s = s.slice(0, -1).replace(TRAILING, '');
  return s;
}

/** The href for a candidate, or null when it is not a usable http(s) URL. */
export function safeHref(candidate: string): string | null {
  try {
    const url = new URL(candidate);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

export function linkParts(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;
  for (const match of text.matchAll(URLISH)) {
    const at = match.index ?? 0;
    const shown = trimEnd(match[0]);
    const href = safeHref(shown);
    if (!href) continue;
    if (at > last) parts.push({ text: text.slice(last, at) });
    parts.push({ text: shown, href });
    last = at + shown.length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts.length ? parts : [{ text }];
}
