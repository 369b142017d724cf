// Ctrl/Cmd+K: jump to a conversation by typing part of its name. Arrow keys move through the matches, Enter
// opens the chosen one, Escape closes (the Modal gives the focus back).
import { useId, useMemo, useState, type KeyboardEvent } from 'react';
import { matchConversations } from '../../logic/switcher';
import { sortByActivity } from '../../logic/unread';
import type { ChatState } from '../../state/store';
import { conversationTitle } from '../people';
import { Modal } from './Modal';

export function SwitcherDialog({ state, onClose, onOpen }: { state: ChatState; onClose: () => void; onOpen: (id: number) => void }) {
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const inputId = useId();
  const listId = useId();
  const all = useMemo(() => sortByActivity(Object.values(state.conversations)).map((c) => ({ id: c.id, title: conversationTitle(c, state.me.id) })), [state.conversations, state.me.id]);
  const matches = matchConversations(all, query);
  const current = Math.min(active, matches.length - 1);

  function onKeyDown(e: KeyboardEvent<HTMLInputElement>) {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (matches.length) setActive((current + (e.key === 'ArrowDown' ? 1 : -1) + matches.length) % matches.length);
    } else if (e.key === 'Enter' && matches[current]) {
      e.preventDefault();
      onOpen(matches[current].id);
    }
  }

  return (
    <Modal title="Jump to a conversation" onClose={onClose}>
      <label htmlFor={inputId}>Conversation name</label>
      <input
        id={inputId}
        type="search"
        value={query}
        onChange={(e) => (setQuery(e.target.value), setActive(0))}
        onKeyDown={onKeyDown}
        autoComplete="off"
        role="combobox"
        aria-expanded={matches.length > 0}
        aria-controls={listId}
        aria-activedescendant={matches.length ? `${listId}-${current}` : undefined}
      />
      {matches.length === 0 ? (
        <p className="muted">No conversation matches.</p>
      ) : (
        <ul className="switcher-list" id={listId} role="listbox" aria-label="Conversations" data-testid="switcher-list">
          {matches.map((c, i) => (
            <li key={c.id} id={`${listId}-${i}`} role="option" aria-selected={i === current} className={i === current ? 'active' : undefined} onClick={() => onOpen(c.id)} onMouseEnter={() => setActive(i)}>
              {c.title}
            </li>
          ))}
        </ul>
      )}
    </Modal>
  );
}
