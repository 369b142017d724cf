// "New group": a name and the members to start with, picked from contacts or a search.
import { useId, useState, type FormEvent } from 'react';
import type { User } from '../../api/types';
import type { ChatController } from '../../state/controller';
import { describeActionError } from '../../state/errors';
import type { ChatState } from '../../state/store';
import { Avatar } from '../Avatar';
import { DialogFoot, Marked, Modal } from './Modal';
import { useUserSearch } from './useUserSearch';

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
      setError(describeActionError(err, 'create_group'));
      setBusy(false);
    }
  }

  return (
    <Modal title="New group" onClose={onClose}>
      <form onSubmit={submit}>
        <label htmlFor={titleId}>Group name</label>
        <input id={titleId} value={title} onChange={(e) => setTitle(e.target.value)} maxLength={100} autoFocus required />
        <label htmlFor={searchId}>Add members</label>
        <input id={searchId} type="search" placeholder="Search by name or username, or pick from contacts" value={query} onChange={(e) => setQuery(e.target.value)} autoComplete="off" />
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
          {candidates.length === 0 && <p className="muted">{query.trim() ? 'Nobody found.' : 'No contacts yet: search by name or username.'}</p>}
          <ul className="people">
            {candidates.map((u) => (
              <li key={u.id} className="person">
                <label className="pick-row">
                  <input type="checkbox" checked={picked.has(u.id)} onChange={() => toggle(u)} />
                  <Avatar name={u.display_name} id={u.id} size={30} />
                  <span className="person-text">
                    <strong>
                      <Marked text={u.display_name} query={query} />
                    </strong>
                    <span className="muted">
                      @<Marked text={u.username} query={query} />
                    </span>
                  </span>
                </label>
              </li>
            ))}
          </ul>
        </fieldset>
        <DialogFoot error={error} onCancel={onClose}>
          <button type="submit" className="primary" disabled={busy}>
            Create group
          </button>
        </DialogFoot>
      </form>
    </Modal>
  );
}
