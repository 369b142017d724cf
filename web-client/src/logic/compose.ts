// The body limit as the server counts it: Unicode characters (code points) after trimming. The composer shows
// a counter near the limit and refuses to send past it, instead of cutting the text silently.
export const MAX_BODY_CHARS = 4000;
/** The counter shows from here on: far enough ahead to notice, close enough not to clutter. */
export const COUNTER_FROM = 3500;

export interface BodyLength {
  count: number;
  /** Characters past the limit (0 when within). */
  over: number;
  showCounter: boolean;
}

export function bodyLength(body: string): BodyLength {
  const count = [...body.trim()].length;
  return { count, over: Math.max(0, count - MAX_BODY_CHARS), showCounter: count >= COUNTER_FROM };
}

/** What the counter says: the count against the limit, or by how much to shorten. */
export function counterText({ count, over }: BodyLength): string {
  if (over > 0) return `${over.toLocaleString('en')} ${over === 1 ? 'character' : 'characters'} too long — shorten it to send`;
  return `${count.toLocaleString('en')} / ${MAX_BODY_CHARS.toLocaleString('en')}`;
}
