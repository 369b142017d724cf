// Message search (the sidebar's search button, or Ctrl/Cmd+Shift+F): `GET /api/search` as the user types, only in
// the open conversation when asked, results with their conversation, sender and time and the matching words
// marked (React text in <mark>, never HTML), "Load more" with the server's cursor; a result opens its
// conversation at that message.
import { useEffect, useId, useRef, useState } from 'react';
import type { SearchHit } from '../../api/types';
import { shortStamp } from '../../logic/days';
import { hitKey, hitPlace, searchable, snippetOf, withPage } from '../../logic/search';
import type { ChatController } from '../../state/controller';
import { describeError } from '../../state/errors';
import type { ChatState } from '../../state/store';
import { conversationTitle } from '../people';
import { Modal } from './Modal';

const DEBOUNCE_MS = 300;

export function SearchDialog({ controller, state, onClose, onOpen }: { controller: ChatController; state: ChatState; onClose: () => void; onOpen: (conversationId: number, seq: number) => void }) {
  const [q, setQ] = useState('');
  const open = state.selectedId !== null ? state.conversations[state.selectedId] : undefined;
  const [scoped, setScoped] = useState(false);
  const [hits, setHits] = useState<SearchHit[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [searched, setSearched] = useState('');
  const seq = useRef(0);
  const inputId = useId();
  const meId = state.me.id;
  const scope = scoped && open ? open.id : undefined;

  useEffect(() => {
    const query = q.trim();
    const mine = ++seq.current;
    if (!searchable(query)) {
      setHits([]);
      setNext(null);
      setError(null);
      setSearched('');
      return;
    }
    const t = setTimeout(() => {
      setBusy(true);
      controller
        .search(query, { conversationId: scope })
        .then((page) => {
          if (mine !== seq.current) return;
          setHits(withPage([], page));
          setNext(page.next_before ?? null);
          setError(null);
          setSearched(query);
        })
        .catch((e) => mine === seq.current && setError(describeError(e)))
        .finally(() => mine === seq.current && setBusy(false));
    }, DEBOUNCE_MS);
    return () => clearTimeout(t);
  }, [q, scope, controller]);

  async function more() {
    if (!next) return;
    const mine = seq.current;
    setBusy(true);
    try {
      const page = await controller.search(q.trim(), { conversationId: scope, before: next });
      if (mine !== seq.current) return;
      setHits((h) => withPage(h, page));
      setNext(page.next_before ?? null);
    } catch (e) {
      if (mine === seq.current) setError(describeError(e));
    } finally {
      if (mine === seq.current) setBusy(false);
    }
  }

  const now = new Date();
  return (
    <Modal title="Search messages" onClose={onClose}>
      <label htmlFor={inputId} className="sr-only">
        Search messages
      </label>
      <input id={inputId} type="search" placeholder="Search messages…" value={q} onChange={(e) => setQ(e.target.value)} autoFocus autoComplete="off" spellCheck={false} />
      {open && (
        <label className="check">
          <input type="checkbox" checked={scoped} onChange={(e) => setScoped(e.target.checked)} />
          <span>Only in {conversationTitle(open, meId)}</span>
        </label>
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div role="status" className="muted small-text search-status">
        {busy ? 'Searching…' : searched && hits.length === 0 && !error ? `Nothing found for “${searched}”.` : searched ? `${hits.length}${next ? '+' : ''} found` : ''}
      </div>
      {hits.length > 0 && (
        <ul className="search-results" data-testid="search-results">
          {hits.map((h) => (
            <li key={hitKey(h)}>
              <button type="button" className="search-hit" onClick={() => onOpen(h.message.conversation_id, h.message.seq)} data-testid="search-hit">
                <span className="search-hit-head">
                  <strong className="search-hit-place">{hitPlace(h, state.conversations, (c) => conversationTitle(c, meId))}</strong>
                  <span className="muted small-text">
                    {h.message.sender_id === meId ? 'You' : h.message.sender_name} · {shortStamp(h.message.created_at, now)}
                  </span>
                </span>
                <span className="search-snippet">{snippetOf(h).map((part, i) => (part.highlight ? <mark key={i}>{part.text}</mark> : <span key={i}>{part.text}</span>))}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {next && (
        <div className="center">
          <button type="button" className="small" onClick={() => void more()} disabled={busy}>
            Load more
          </button>
        </div>
      )}
    </Modal>
  );
}
