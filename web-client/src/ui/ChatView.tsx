import { useEffect, useLayoutEffect, useMemo, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { Conversation, Message } from '../api/types';
import { clockTime, groupByDay } from '../logic/days';
import type { PendingMessage } from '../logic/messages';
import { tickFor, type Tick } from '../logic/unread';
import { presenceOf } from '../logic/presence';
import type { ChatController } from '../state/controller';
import type { ChatState } from '../state/store';
import { Avatar } from './Avatar';
import { BlockButton } from './dialogs/BlockButton';
import { GroupSettingsDialog } from './dialogs/GroupSettingsDialog';
import { isBlocked } from '../logic/blocks';
import { Icon } from './Icon';
import { conversationTitle, hueFor, peerOf } from './people';

type Item = { kind: 'stored'; key: string; m: Message; own: boolean } | { kind: 'pending'; key: string; p: PendingMessage };

const NEAR_BOTTOM_PX = 48;
const NEAR_TOP_PX = 160;

export function ChatView({ controller, state, id, onBack }: { controller: ChatController; state: ChatState; id: number; onBack: () => void }) {
  const c = state.conversations[id];
  const view = state.views[id];
  const meId = state.me.id;
  const listRef = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const prev = useRef<{ first: number | null; lastKey: string | null; height: number; count: number }>({ first: null, lastKey: null, height: 0, count: 0 });
  const [newCount, setNewCount] = useState(0);
  const [editing, setEditing] = useState<number | null>(null);
  const [settingsOpen, setSettingsOpen] = useState(false);

  const outbox = state.outbox;
  const items: Item[] = useMemo(() => {
    const stored: Item[] = (view?.messages ?? []).map((m) => ({ kind: 'stored', key: `s${m.seq}`, m, own: m.sender_id === meId }));
    const pending: Item[] = outbox.filter((p) => p.conversation_id === id).map((p) => ({ kind: 'pending', key: `p${p.client_id}`, p }));
    return [...stored, ...pending];
  }, [view?.messages, outbox, id, meId]);
  const groups = useMemo(() => groupByDay(items, (i) => (i.kind === 'stored' ? i.m.created_at : i.p.created_at)), [items]);

  const others = useMemo(() => (c ? c.members.map((m) => m.user.id).filter((u) => u !== meId) : []), [c, meId]);
  const reads = state.reads[id] ?? {};

  // Keep the reader's place: stick to the bottom for new messages unless they scrolled up (then count them in
  // a pill); keep the viewport still when older history is prepended above.
  useLayoutEffect(() => {
    const el = listRef.current;
    if (!el) return;
    const first = view?.messages[0]?.seq ?? null;
    const last = items[items.length - 1];
    const lastKey = last?.key ?? null;
    const p = prev.current;
    if (p.count === 0 && items.length > 0) {
      el.scrollTop = el.scrollHeight;
    } else if (first !== null && p.first !== null && first < p.first) {
      el.scrollTop += el.scrollHeight - p.height;
    } else if (lastKey !== p.lastKey && lastKey !== null) {
      const mine = last.kind === 'pending' || (last.kind === 'stored' && last.own);
      if (atBottom.current || mine) {
        el.scrollTop = el.scrollHeight;
        setNewCount(0);
      } else {
        setNewCount((n) => n + 1);
      }
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    }
    prev.current = { first, lastKey, height: el.scrollHeight, count: items.length };
  }, [items, view?.messages]);

  // Images don't exist here, but the typing line and window resizes change the height: stay pinned.
  useEffect(() => {
    const el = listRef.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => {
      if (atBottom.current) el.scrollTop = el.scrollHeight;
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  function onScroll() {
    const el = listRef.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
    if (atBottom.current && newCount) setNewCount(0);
    if (el.scrollTop < NEAR_TOP_PX && view?.hasMoreBefore && !view.loadingOlder) void controller.loadOlder(id);
  }

  function toBottom() {
    const el = listRef.current;
    if (el) el.scrollTo({ top: el.scrollHeight, behavior: 'smooth' });
    atBottom.current = true;
    setNewCount(0);
    controller.markRead(id);
  }

  if (!c) {
    return (
      <section className="chat" aria-label="Conversation">
        <header className="chat-head">
          <button type="button" className="ghost back" onClick={onBack} aria-label="Back to conversations">
            ←
          </button>
          <div className="chat-title">Loading…</div>
        </header>
      </section>
    );
  }

  const title = conversationTitle(c, meId);
  const peer = c.kind === 'direct' ? peerOf(c, meId) : undefined;
  const connected = state.connection.state === 'open';
  const blockedPeer = peer !== undefined && isBlocked(state.blocked, peer.id);
  const online = peer && connected && !blockedPeer ? presenceOf(state.presence, peer) : undefined;
  const typers = Object.keys(state.typing[id] ?? {})
    .map(Number)
    .filter((u) => u !== meId)
    .map((u) => c.members.find((m) => m.user.id === u)?.user.display_name ?? 'Someone');

  return (
    <section className="chat" aria-label={`Conversation with ${title}`}>
      <header className="chat-head">
        <button type="button" className="ghost back" onClick={onBack} aria-label="Back to conversations">
          ←
        </button>
        <Avatar name={title} id={peer?.id ?? c.id} online={online} size={38} group={c.kind === 'group'} />
        <div className="chat-head-text">
          <h2 className="chat-title" data-testid="chat-title">
            {title}
          </h2>
          <span className="muted small-text">{subtitle(c, online, meId)}</span>
        </div>
        {c.kind === 'group' && (
          <button type="button" className="small head-action" onClick={() => setSettingsOpen(true)} aria-haspopup="dialog">
            Group settings
          </button>
        )}
        {peer && (
          <span className="head-action">
            <BlockButton controller={controller} user={peer} blocked={blockedPeer} className="small ghost" />
          </span>
        )}
      </header>
      {settingsOpen && c.kind === 'group' && <GroupSettingsDialog controller={controller} state={state} id={id} onClose={() => setSettingsOpen(false)} />}

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
              const showName = c.kind === 'group' && item.kind === 'stored' && !item.own && !(before?.kind === 'stored' && before.m.sender_id === item.m.sender_id);
              if (item.kind === 'pending') {
                return <PendingBubble key={item.key} p={item.p} onRetry={() => controller.retry(item.p.client_id)} onDiscard={() => controller.discard(item.p.client_id)} />;
              }
              const m = item.m;
              return (
                <StoredBubble
                  key={item.key}
                  m={m}
                  own={item.own}
                  showName={showName}
                  tick={item.own ? tickFor(m.seq, others, reads) : undefined}
                  editing={editing === m.seq}
                  onEdit={() => setEditing(m.seq)}
                  onCancelEdit={() => setEditing(null)}
                  onSaveEdit={(body) => {
                    setEditing(null);
                    if (body.trim() && body.trim() !== m.body) void controller.edit(id, m.seq, body);
                  }}
                  onDelete={() => {
                    if (window.confirm('Delete this message for everyone?')) void controller.remove(id, m.seq);
                  }}
                />
              );
            })}
          </div>
        ))}
      </div>

      {newCount > 0 && (
        <button type="button" className="pill" onClick={toBottom} data-testid="new-messages-pill">
          {newCount === 1 ? '1 new message' : `${newCount} new messages`} ↓
        </button>
      )}

      <div className="typing-line" aria-live="polite" data-testid="typing">
        {typers.length > 0 && <span>{typingText(typers)}</span>}
      </div>

      {blockedPeer && peer ? (
        // The server would still take the message; but writing to someone one has blocked is never what is meant.
        <div className="blocked-bar" data-testid="blocked-bar">
          <span>You have blocked {peer.display_name}. Unblock them to send messages.</span>
          <BlockButton controller={controller} user={peer} blocked className="small" />
        </div>
      ) : (
        <Composer onSend={(body) => controller.send(id, body)} onTyping={() => controller.typing(id)} onBlur={() => controller.stopTyping(id)} />
      )}
    </section>
  );
}

function subtitle(c: Conversation, online: boolean | undefined, meId: number): string {
  if (c.kind === 'group') {
    const n = c.members.length;
    const names = c.members.filter((m) => m.user.id !== meId).map((m) => m.user.display_name);
    return `${n} members · ${['You', ...names].join(', ')}`;
  }
  if (online === undefined) return peerUsername(c, meId);
  return online ? 'online' : 'offline';
}

function peerUsername(c: Conversation, meId: number): string {
  const peer = peerOf(c, meId);
  return peer ? `@${peer.username}` : '';
}

export function typingText(names: string[]): string {
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return `${names.length} people are typing…`;
}

function Ticks({ tick }: { tick: Tick }) {
  if (tick === 'read')
    return (
      <span className="tick read" aria-label="Read" title="Read" data-testid="tick" data-tick="read">
        ✓✓
      </span>
    );
  return (
    <span className="tick" aria-label="Sent" title="Sent" data-testid="tick" data-tick="sent">
      ✓
    </span>
  );
}

function StoredBubble(props: {
  m: Message;
  own: boolean;
  showName: boolean;
  tick?: Tick;
  editing: boolean;
  onEdit: () => void;
  onCancelEdit: () => void;
  onSaveEdit: (body: string) => void;
  onDelete: () => void;
}) {
  const { m, own } = props;
  const time = clockTime(new Date(m.created_at));
  return (
    <div className={`msg ${own ? 'own' : 'theirs'}${m.deleted ? ' deleted' : ''}`} data-testid="message" data-seq={m.seq} data-own={own ? 'true' : 'false'}>
      <div className="bubble" tabIndex={own && !m.deleted ? 0 : undefined}>
        {props.showName && (
          <div className="sender" style={{ ['--hue' as string]: hueFor(m.sender_id) }}>
            {m.sender_name}
          </div>
        )}
        {props.editing ? (
          <EditForm initial={m.body} onCancel={props.onCancelEdit} onSave={props.onSaveEdit} />
        ) : (
          <div className="body" data-testid="message-body">
            {m.deleted ? <em>Message deleted</em> : m.body}
          </div>
        )}
        <div className="meta">
          {m.edited_at && !m.deleted && <span className="edited">edited</span>}
          <time dateTime={m.created_at} title={new Date(m.created_at).toLocaleString()}>
            {time}
          </time>
          {props.tick && !m.deleted && <Ticks tick={props.tick} />}
        </div>
      </div>
      {own && !m.deleted && !props.editing && (
        <div className="actions">
          <button type="button" className="icon" onClick={props.onEdit} aria-label="Edit message" title="Edit">
            <Icon name="edit" />
          </button>
          <button type="button" className="icon" onClick={props.onDelete} aria-label="Delete message" title="Delete">
            <Icon name="trash" />
          </button>
        </div>
      )}
    </div>
  );
}

function PendingBubble({ p, onRetry, onDiscard }: { p: PendingMessage; onRetry: () => void; onDiscard: () => void }) {
  const failed = p.status === 'failed';
  return (
    <div className={`msg own ${failed ? 'failed' : 'pending'}`} data-testid="message" data-pending={p.status}>
      <div className="bubble">
        <div className="body" data-testid="message-body">
          {p.body}
        </div>
        <div className="meta">
          <time dateTime={p.created_at}>{clockTime(new Date(p.created_at))}</time>
          {failed ? (
            <span className="tick failed" aria-label="Not sent">
              !
            </span>
          ) : (
            <span className="tick pending" aria-label="Sending" title="Sending" data-tick="pending">
              <Icon name="clock" />
            </span>
          )}
        </div>
      </div>
      {failed && (
        <div className="failed-row" role="alert">
          <span>Not sent{p.error ? `: ${p.error}` : ''}</span>
          <button type="button" className="link" onClick={onRetry}>
            Retry
          </button>
          <button type="button" className="link" onClick={onDiscard}>
            Discard
          </button>
        </div>
      )}
    </div>
  );
}

function EditForm({ initial, onCancel, onSave }: { initial: string; onCancel: () => void; onSave: (body: string) => void }) {
  const [body, setBody] = useState(initial);
  return (
    <form
      className="edit-form"
      onSubmit={(e) => {
        e.preventDefault();
        onSave(body);
      }}
    >
      <label className="sr-only" htmlFor="edit-message">
        Edit message
      </label>
      <textarea
        id="edit-message"
        value={body}
        autoFocus
        rows={Math.min(6, body.split('\n').length)}
        onChange={(e) => setBody(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') onCancel();
          if (e.key === 'Enter' && !e.shiftKey) {
            e.preventDefault();
            onSave(body);
          }
        }}
      />
      <div className="edit-buttons">
        <button type="button" className="small ghost" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="small primary">
          Save
        </button>
      </div>
    </form>
  );
}

function Composer({ onSend, onTyping, onBlur }: { onSend: (body: string) => void; onTyping: () => void; onBlur: () => void }) {
  const [body, setBody] = useState('');
  const ref = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 160)}px`;
  }, [body]);

  function submit(e?: FormEvent) {
    e?.preventDefault();
    if (!body.trim()) return;
    onSend(body);
    setBody('');
    ref.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  }

  return (
    <form className="composer" onSubmit={submit}>
      <label htmlFor="composer-input" className="sr-only">
        Message
      </label>
      <textarea
        id="composer-input"
        ref={ref}
        rows={1}
        placeholder="Write a message…"
        value={body}
        onChange={(e) => {
          setBody(e.target.value);
          if (e.target.value) onTyping();
        }}
        onKeyDown={onKeyDown}
        onBlur={onBlur}
        autoFocus
        maxLength={4000}
      />
      <button type="submit" className="primary send" disabled={!body.trim()} aria-label="Send message">
        Send
      </button>
    </form>
  );
}
