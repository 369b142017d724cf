import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import type { User } from '../api/types';
import { describeError, type ChatController } from '../state/controller';
import type { ChatState } from '../state/store';
import { Avatar } from './Avatar';

/** A native modal <dialog>: focus is trapped, Escape closes it. */
function Modal({ title, onClose, children }: { title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className="modal"
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      onClick={(e) => {
        if (e.target === ref.current) onClose();
      }}
    >
      <div className="modal-inner">
        <header className="modal-head">
          <h2 id={titleId}>{title}</h2>
          <button type="button" className="ghost icon" onClick={onClose} aria-label="Close">
            ✕
          </button>
        </header>
        {children}
      </div>
    </dialog>
  );
}

/** Debounced prefix search of users. */
function useUserSearch(controller: ChatController, query: string): { results: User[]; busy: boolean; error: string | null } {
  const [results, setResults] = useState<User[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const q = query.trim();
    if (!q) {
      setResults([]);
      setError(null);
      return;
    }
    let live = true;
    setBusy(true);
    const t = setTimeout(() => {
      controller.searchUsers(q).then(
        (users) => live && (setResults(users), setError(null), setBusy(false)),
        (e) => live && (setError(describeError(e)), setBusy(false)),
      );
    }, 200);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [controller, query]);
  return { results, busy, error };
}

function PersonRow({ user, online, children }: { user: User; online?: boolean; children: ReactNode }) {
  return (
    <li className="person">
      <Avatar name={user.display_name} id={user.id} online={online} size={34} />
      <span className="person-text">
        <strong>{user.display_name}</strong>
        <span className="muted">@{user.username}</span>
      </span>
      <span className="person-actions">{children}</span>
    </li>
  );
}

export function NewChatDialog({ controller, state, onClose, onOpen }: { controller: ChatController; state: ChatState; onClose: () => void; onOpen: (id: number) => void }) {
  const [query, setQuery] = useState('');
  const [error, setError] = useState<string | null>(null);
  const { results, busy, error: searchError } = useUserSearch(controller, query);
  const searchId = useId();
  const contactIds = new Set(state.contacts.map((u) => u.id));

  async function message(userId: number) {
    try {
      onOpen(await controller.startDirect(userId));
    } catch (e) {
      setError(describeError(e));
    }
  }
  async function addContact(userId: number) {
    try {
      await controller.addContact(userId);
    } catch (e) {
      setError(describeError(e));
    }
  }
  async function removeContact(userId: number) {
    try {
      await controller.removeContact(userId);
    } catch (e) {
      setError(describeError(e));
    }
  }

  return (
    <Modal title="New chat" onClose={onClose}>
      <label htmlFor={searchId}>Find people by username</label>
      <input id={searchId} type="search" placeholder="Username…" value={query} onChange={(e) => setQuery(e.target.value)} autoFocus autoComplete="off" spellCheck={false} />
      {(error || searchError) && (
        <p className="form-error" role="alert">
          {error || searchError}
        </p>
      )}
      {query.trim() ? (
        <section aria-label="Search results">
          {busy && results.length === 0 ? <p className="muted">Searching…</p> : results.length === 0 ? <p className="muted">Nobody found.</p> : null}
          <ul className="people" data-testid="search-results">
            {results.map((u) => (
              <PersonRow key={u.id} user={u} online={state.presence[u.id] ?? u.online ?? undefined}>
                {contactIds.has(u.id) ? (
                  <span className="muted small-text">Contact</span>
                ) : (
                  <button type="button" className="small ghost" onClick={() => void addContact(u.id)} aria-label={`Add ${u.display_name} to contacts`}>
                    Add contact
                  </button>
                )}
                <button type="button" className="small primary" onClick={() => void message(u.id)} aria-label={`Message ${u.display_name}`}>
                  Message
                </button>
              </PersonRow>
            ))}
          </ul>
        </section>
      ) : (
        <section aria-label="Contacts">
          <h3 className="section-title">Contacts</h3>
          {state.contacts.length === 0 && <p className="muted">No contacts yet. Search for someone above and add them.</p>}
          <ul className="people" data-testid="contacts">
            {state.contacts.map((u) => (
              <PersonRow key={u.id} user={u} online={state.presence[u.id] ?? u.online ?? false}>
                <button type="button" className="small ghost" onClick={() => void removeContact(u.id)} aria-label={`Remove ${u.display_name} from contacts`}>
                  Remove
                </button>
                <button type="button" className="small primary" onClick={() => void message(u.id)} aria-label={`Message ${u.display_name}`}>
                  Message
                </button>
              </PersonRow>
            ))}
          </ul>
        </section>
      )}
    </Modal>
  );
}

export function NewGroupDialog({ controller, state, onClose, onOpen }: { controller: ChatController; state: ChatState; onClose: () => void; onOpen: (id: number) => void }) {
  const [title, setTitle] = useState('');
  const [query, setQuery] = useState('');
  const [picked, setPicked] = useState<Map<number, User>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const { results } = useUserSearch(controller, query);
  const titleId = useId();
  const searchId = useId();

  const candidates = query.trim() ? results : state.contacts;

  function toggle(u: User) {
    setPicked((m) => {
      const next = new Map(m);
      if (next.has(u.id)) next.delete(u.id);
      else next.set(u.id, u);
      return next;
    });
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!title.trim()) return setError('Give the group a name.');
    if (picked.size === 0) return setError('Pick at least one member.');
    setBusy(true);
    try {
      onOpen(await controller.createGroup(title, [...picked.keys()]));
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  }

  return (
    <Modal title="New group" onClose={onClose}>
      <form onSubmit={submit}>
        <label htmlFor={titleId}>Group name</label>
        <input id={titleId} value={title} onChange={(e) => setTitle(e.target.value)} maxLength={100} autoFocus required />
        <label htmlFor={searchId}>Add members</label>
        <input id={searchId} type="search" placeholder="Search by username, or pick from contacts" value={query} onChange={(e) => setQuery(e.target.value)} autoComplete="off" />
        {picked.size > 0 && (
          <ul className="chips" aria-label="Chosen members">
            {[...picked.values()].map((u) => (
              <li key={u.id}>
                <button type="button" className="chip" onClick={() => toggle(u)} aria-label={`Remove ${u.display_name}`}>
                  {u.display_name} ✕
                </button>
              </li>
            ))}
          </ul>
        )}
        <fieldset className="pick">
          <legend className="sr-only">{query.trim() ? 'Search results' : 'Contacts'}</legend>
          {candidates.length === 0 && <p className="muted">{query.trim() ? 'Nobody found.' : 'No contacts yet: search by username.'}</p>}
          <ul className="people">
            {candidates.map((u) => (
              <li key={u.id} className="person">
                <label className="pick-row">
                  <input type="checkbox" checked={picked.has(u.id)} onChange={() => toggle(u)} />
                  <Avatar name={u.display_name} id={u.id} size={30} />
                  <span className="person-text">
                    <strong>{u.display_name}</strong>
                    <span className="muted">@{u.username}</span>
                  </span>
                </label>
              </li>
            ))}
          </ul>
        </fieldset>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <div className="modal-foot">
          <button type="button" className="ghost" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy}>
            Create group
          </button>
        </div>
      </form>
    </Modal>
  );
}
