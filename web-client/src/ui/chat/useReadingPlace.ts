// Keeps the reader's place in the message list: stuck to the bottom for new messages unless they scrolled up
// (then the "new messages" pill counts them); still when older history is prepended — anchored on the first
// visible message, whose offset is put back after the prepend, whatever the browser's own scroll anchoring did
// meanwhile (it moves the view when the load starts below the very top, and adding the height on top of that
// threw the reader far down); and, when the conversation opens with unread messages, at the unread line.
import { useEffect, useLayoutEffect, useRef, useState, type RefObject } from 'react';
import type { UnreadMarker } from '../../state/store';

const NEAR_BOTTOM_PX = 48;
/** The unread line sits this far below the top edge: clear of the sticky day label, with a bit of what was read above. */
const MARKER_MARGIN_PX = 44;

interface Anchor {
  seq: number;
  /** The message's top, relative to the list's top edge. */
  offset: number;
}

const MESSAGE = '[data-testid="message"]';

/** The first message whose bottom is below the list's top edge: what the reader is looking at. */
export function firstVisible(list: HTMLElement): Anchor | null {
  const top = list.getBoundingClientRect().top;
  for (const el of list.querySelectorAll<HTMLElement>(MESSAGE)) {
    const r = el.getBoundingClientRect();
    if (r.bottom > top) return { seq: Number(el.dataset.seq), offset: r.top - top };
  }
  return null;
}

export interface ListShape {
  /** Seq of the first stored message (null when none). */
  first: number | null;
  /** Key of the last item, stored or pending. */
  lastKey: string | null;
  /** Whether the last item is the user's own. */
  lastMine: boolean;
  count: number;
}

export function useReadingPlace(listRef: RefObject<HTMLDivElement | null>, shape: ListShape, marker: UnreadMarker | null) {
  const atBottom = useRef(true);
  const anchor = useRef<Anchor | null>(null);
  const prev = useRef<ListShape>({ first: null, lastKey: null, lastMine: false, count: 0 });
  const placedMarker = useRef<UnreadMarker | null>(null);
  const [newCount, setNewCount] = useState(0);

  useLayoutEffect(() => {
    const el = listRef.current;
    if (!el) return;
    const p = prev.current;
    if (p.count === 0 && shape.count > 0) {
      el.scrollTop = el.scrollHeight;
    } else if (shape.first !== null && p.first !== null && shape.first < p.first) {
      const a = anchor.current;
      const now = a && el.querySelector<HTMLElement>(`${MESSAGE}[data-seq="${a.seq}"]`);
      if (a && now) el.scrollTop += now.getBoundingClientRect().top - el.getBoundingClientRect().top - a.offset;
    } else if (shape.lastKey !== p.lastKey && shape.lastKey !== null) {
      if (atBottom.current || shape.lastMine) {
        el.scrollTop = el.scrollHeight;
        setNewCount(0);
      } else {
        setNewCount((n) => n + 1);
      }
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    }
    prev.current = shape;
    anchor.current = firstVisible(el);
  }, [listRef, shape]);

  // Opened with unread messages: the line goes near the top, and the reader is no longer "at the bottom"
  // unless everything unread fits on the screen.
  useLayoutEffect(() => {
    const el = listRef.current;
    if (!el || !marker || placedMarker.current === marker) return;
    const line = el.querySelector<HTMLElement>('[data-testid="unread-marker"]');
    if (!line) return;
    placedMarker.current = marker;
    el.scrollTop += line.getBoundingClientRect().top - el.getBoundingClientRect().top - MARKER_MARGIN_PX;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
    anchor.current = firstVisible(el);
  });

  // Images take their final size before they load; the typing line and window resizes change the height: stay pinned.
  useEffect(() => {
    const el = listRef.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => {
      if (atBottom.current) el.scrollTop = el.scrollHeight;
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, [listRef]);

  /** The scroll handler's part: where the reader is now. */
  function scrolled(): void {
    const el = listRef.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
    if (atBottom.current && newCount) setNewCount(0);
    anchor.current = firstVisible(el);
  }

  /** A jump elsewhere (a quote, a search result): new messages count in the pill from now on. */
  function leftBottom(): void {
    atBottom.current = false;
  }

  function toBottom(): void {
    const el = listRef.current;
    if (el) el.scrollTo({ top: el.scrollHeight, behavior: 'smooth' });
    atBottom.current = true;
    setNewCount(0);
  }

  return { newCount, scrolled, leftBottom, toBottom };
}
