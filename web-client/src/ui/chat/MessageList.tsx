// The messages of the open conversation, grouped by day: stored ones in seq order, then own pending ones, with
// the "N unread messages" line above the first one unread when it was opened. The reader's place is kept by
// useReadingPlace; older pages load when the top comes near.
import { Fragment, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { Attachment, Conversation, Message } from '../../api/types';
import { isImage } from '../../logic/attachments';
import { groupByDay } from '../../logic/days';
import { canPin } from '../../logic/roles';
import type { PendingMessage } from '../../logic/messages';
import { lastEditable } from '../../logic/messages';
import { isEvent } from '../../logic/timeline';
import { seenBy, tickFor } from '../../logic/unread';
import type { ChatController } from '../../state/controller';
import type { ChatState } from '../../state/store';
import { ImageViewer } from './ImageViewer';
import { PendingBubble, StoredBubble } from './MessageBubble';
import { SystemLine } from './SystemLine';
import { useReadingPlace } from './useReadingPlace';

type Item = { kind: 'stored'; key: string; m: Message; own: boolean } | { kind: 'pending'; key: string; p: PendingMessage };

const NEAR_TOP_PX = 160;

export function MessageList({
  controller,
  state,
  c,
  onReply,
  editLast = 0,
}: {
  controller: ChatController;
  state: ChatState;
  c: Conversation;
  onReply: (m: Message) => void;
  /** Bumped to open the editor on the last own message (Up in an empty composer). */
  editLast?: number;
}) {
  const id = c.id;
  const view = state.views[id];
  const meId = state.me.id;
  const listRef = useRef<HTMLDivElement>(null);
  const [editing, setEditing] = useState<number | null>(null);
  const [viewing, setViewing] = useState<{ images: readonly Attachment[]; index: number } | null>(null);
  const [highlighted, setHighlighted] = useState<number | null>(null);
  const mediaToken = state.mediaToken;
  const pinned = useMemo(() => new Set((state.pins[id] ?? []).map((p) => p.message.seq)), [state.pins, id]);
  const mayPin = canPin(c, meId);
  const jump = state.jump?.conversationId === id ? state.jump : null;
  const openImage = (attachments: readonly Attachment[], index: number) => setViewing({ images: attachments.filter(isImage), index });

  const outbox = state.outbox;
  const items: Item[] = useMemo(() => {
    const stored: Item[] = (view?.messages ?? []).map((m) => ({ kind: 'stored', key: `s${m.seq}`, m, own: m.sender_id === meId }));
    const pending: Item[] = outbox.filter((p) => p.conversation_id === id).map((p) => ({ kind: 'pending', key: `p${p.client_id}`, p }));
    return [...stored, ...pending];
  }, [view?.messages, outbox, id, meId]);
  const groups = useMemo(() => groupByDay(items, (i) => (i.kind === 'stored' ? i.m.created_at : i.p.created_at)), [items]);

  const bySeq = useMemo(() => new Map((view?.messages ?? []).map((m) => [m.seq, m])), [view?.messages]);
  const others = useMemo(() => c.members.map((m) => m.user.id).filter((u) => u !== meId), [c, meId]);
  const othersByName = useMemo(
    () => (c.kind === 'group' ? c.members.filter((m) => m.user.id !== meId).map((m) => ({ id: m.user.id, name: m.user.display_name })) : []),
    [c, meId],
  );
  const reads = state.reads[id] ?? {};
  const delivered = state.delivered[id] ?? {};

  const marker = state.unreadMarker?.conversationId === id ? state.unreadMarker : null;
  const firstUnread = useMemo(() => (marker ? (view?.messages.find((m) => m.seq > marker.afterSeq)?.seq ?? null) : null), [marker, view?.messages]);
  const shape = useMemo(() => {
    const last = items[items.length - 1];
    return {
      first: view?.messages[0]?.seq ?? null,
      lastKey: last?.key ?? null,
      lastMine: last?.kind === 'pending' || (last?.kind === 'stored' && last.own),
      count: items.length,
    };
  }, [items, view?.messages]);
  const place = useReadingPlace(listRef, shape, marker);
  const newCount = place.newCount;

  // A jump (a quote or a search result clicked): once the message is rendered, scroll it to the middle and
  // highlight it for a moment. The reader is no longer at the bottom: new messages count in the pill.
  useLayoutEffect(() => {
    if (!jump) return;
    const el = listRef.current?.querySelector<HTMLElement>(`[data-testid="message"][data-seq="${jump.seq}"]`);
    if (!el) return;
    place.leftBottom();
    el.scrollIntoView({ block: 'center' });
    el.querySelector<HTMLElement>('.bubble')?.focus({ preventScroll: true });
    setHighlighted(jump.seq);
    controller.jumped(jump.nonce);
  }, [jump, items, controller]);
  useEffect(() => {
    if (highlighted === null) return;
    const t = setTimeout(() => setHighlighted(null), 2400);
    return () => clearTimeout(t);
  }, [highlighted]);

  useEffect(() => {
    if (editLast === 0) return;
    const seq = lastEditable(view?.messages ?? [], meId);
    if (seq === null) return;
    setEditing(seq);
    listRef.current?.querySelector(`[data-testid="message"][data-seq="${seq}"]`)?.scrollIntoView({ block: 'nearest' });
    // Only the bump opens the editor, not a later change of the messages.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [editLast]);

  // The editor closed: writing goes on in the composer.
  const endEdit = () => {
    setEditing(null);
    document.getElementById('composer-input')?.focus();
  };

  function onScroll() {
    const el = listRef.current;
    if (!el) return;
    place.scrolled();
    if (el.scrollTop < NEAR_TOP_PX && view?.hasMoreBefore && !view.loadingOlder) void controller.loadOlder(id);
  }

  function toBottom() {
    place.toBottom();
    controller.markRead(id);
  }

  return (
    // The pill floats over the list's bottom edge, whatever the height of the composer below (its files).
    <div className="messages-wrap">
      <div className="messages" ref={listRef} onScroll={onScroll} role="log" aria-label="Messages" aria-live="polite" data-testid="messages">
        {view?.hasMoreBefore && (
          <div className="older">
            <button type="button" className="link" onClick={() => void controller.loadOlder(id)} disabled={view.loadingOlder}>
              {view.loadingOlder ? 'Loading…' : 'Load older messages'}
            </button>
          </div>
        )}
        {!view?.loaded && !view?.error && <p className="center muted">Loading messages…</p>}
        {view?.error && (
          <p className="center form-error" role="alert">
            {view.error}
          </p>
        )}
        {view?.loaded && items.length === 0 && <p className="center muted">No messages yet. Say hello!</p>}
        {groups.map((g) => (
          <div key={g.key} className="day" role="group" aria-label={g.label}>
            <div className="day-label" data-testid="day-label">
              <span>{g.label}</span>
            </div>
            {g.items.map((item, i) => {
              const before = g.items[i - 1];
              // After a system line the next message says again who wrote it.
              const showName =
                c.kind === 'group' && item.kind === 'stored' && !item.own && !(before?.kind === 'stored' && !isEvent(before.m) && before.m.sender_id === item.m.sender_id);
              const unreadLine =
                item.kind === 'stored' && item.m.seq === firstUnread && marker ? (
                  <div className="unread-marker" data-testid="unread-marker" role="separator" aria-label={unreadText(marker.count)}>
                    <span>{unreadText(marker.count)}</span>
                  </div>
                ) : null;
              if (item.kind === 'pending') {
                return (
                  <PendingBubble
                    key={item.key}
                    p={item.p}
                    members={c.members}
                    onRetry={() => controller.retry(item.p.client_id)}
                    onDiscard={() => controller.discard(item.p.client_id)}
                    mediaToken={mediaToken}
                    onOpenImage={openImage}
                  />
                );
              }
              const m = item.m;
              if (isEvent(m)) {
                return (
                  <Fragment key={item.key}>
                    {unreadLine}
                    <SystemLine m={m} members={c.members} />
                  </Fragment>
                );
              }
              return (
                <Fragment key={item.key}>
                  {unreadLine}
                  <StoredBubble
                    m={m}
                    own={item.own}
                    showName={showName}
                    tick={item.own ? tickFor(m.seq, others, reads, delivered) : undefined}
                    seenBy={item.own ? seenBy(m.seq, othersByName, reads) : undefined}
                    editing={editing === m.seq}
                    onEdit={() => setEditing(m.seq)}
                    onCancelEdit={endEdit}
                    onSaveEdit={(body) => {
                      endEdit();
                      if (body.trim() && body.trim() !== m.body) void controller.edit(id, m.seq, body);
                    }}
                    onDelete={() => {
                      if (window.confirm('Delete this message for everyone?')) void controller.remove(id, m.seq);
                    }}
                    mediaToken={mediaToken}
                    onOpenImage={openImage}
                    members={c.members}
                    meId={meId}
                    pinned={pinned.has(m.seq)}
                    canPin={mayPin}
                    highlighted={highlighted === m.seq}
                    original={m.reply_to ? bySeq.get(m.reply_to.seq) : undefined}
                    onReply={() => onReply(m)}
                    onReact={(emoji, on) => void controller.react(id, m.seq, emoji, on).catch((e) => controller.tell(e))}
                    onPin={(on) => void controller.pin(id, m.seq, on).catch((e) => controller.tell(e))}
                    onOpenQuote={(seq) => void controller.jumpTo(id, seq)}
                  />
                </Fragment>
              );
            })}
          </div>
        ))}
      </div>

      {viewing && <ImageViewer images={viewing.images} start={viewing.index} token={mediaToken} onClose={() => setViewing(null)} />}

      {newCount > 0 && (
        <button type="button" className="pill" onClick={toBottom} data-testid="new-messages-pill">
          {newCount === 1 ? '1 new message' : `${newCount} new messages`} ↓
        </button>
      )}
    </div>
  );
}

export function unreadText(count: number): string {
  return count === 1 ? '1 unread message' : `${count} unread messages`;
}
