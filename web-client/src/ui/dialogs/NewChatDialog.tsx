// "New chat": find people by username or display name (or pick a contact), message them, add or remove contacts.
import { useId, useState } from 'react';
import { presenceOf } from '../../logic/presence';
import type { ChatController } from '../../state/controller';
import { describeActionError, describeError } from '../../state/errors';
import type { ChatState } from '../../state/store';
import { Modal, PersonRow } from './Modal';
import { useUserSearch } from './useUserSearch';

export function NewChatDialog({ controller, state, onClose, onOpen }: { controller: ChatController; state: ChatState; onClose: () => void; onOpen: (id: number) => void }) {
  const [query, setQuery] = useState('');
  const [error, setError] = useState<string | null>(null);
  const { results, busy, error: searchError } = useUserSearch(controller, query);
  const searchId = useId();
  const contactIds = new Set(state.contacts.map((u) => u.id));

  async function message(userId: number) {
    setError(null);
    try {
      onOpen(await controller.startDirect(userId));
    } catch (e) {
      setError(describeActionError(e, 'direct'));
    }
  }
  async function addContact(userId: number) {
    setError(null);
    try {
      await controller.addContact(userId);
    } catch (e) {
      setError(describeActionError(e, 'contact'));
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
      <label htmlFor={searchId}>Find people by username or name</label>
      <input id={searchId} type="search" placeholder="Name or username…" value={query} onChange={(e) => setQuery(e.target.value)} autoFocus autoComplete="off" spellCheck={false} />
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
              <PersonRow key={u.id} user={u} online={presenceOf(state.presence, u)} query={query}>
                {contactIds.has(u.id) ? (
                  <span className="muted small-text">Contact</span>
                ) : (
                  <button type="button" className="small ghost" onClick={() => void addContact(u.id)} aria-label={`Add contact: ${u.display_name}`}>
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
              <PersonRow key={u.id} user={u} online={presenceOf(state.presence, u)}>
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
