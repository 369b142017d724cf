import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import type { User } from '../api/types';
import { isBlocked, type BlockableAction } from '../logic/blocks';
import { groupPermissions, roleLabel, sortMembers } from '../logic/roles';
import { presenceOf } from '../logic/presence';
import type { ChatController } from '../state/controller';
import { describeActionError, describeError } from '../state/errors';
import type { ChatState } from '../state/store';
import { Avatar } from './Avatar';
import { conversationTitle } from './people';

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
              <PersonRow key={u.id} user={u} online={presenceOf(state.presence, u)}>
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

/**
 * Group settings: the members with their roles; rename, add and remove for the owner and admins (the server
 * has the last word: its error message is shown); leave for everyone. Reads the conversation from the live
 * state, so renames and member changes pushed by the server show at once.
 */
export function GroupSettingsDialog({ controller, state, id, onClose }: { controller: ChatController; state: ChatState; id: number; onClose: () => void }) {
  const c = state.conversations[id];
  const meId = state.me.id;
  const [title, setTitle] = useState(c?.title ?? '');
  const [query, setQuery] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirmLeave, setConfirmLeave] = useState(false);
  const { results, busy: searching, error: searchError } = useUserSearch(controller, query);
  const titleId = useId();
  const searchId = useId();
  const leaveRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (confirmLeave) leaveRef.current?.focus();
  }, [confirmLeave]);
  // A rename pushed by the server (someone else's, or ours) shows in the field.
  const liveTitle = c?.title ?? '';
  useEffect(() => setTitle(liveTitle), [liveTitle]);

  if (!c || c.kind !== 'group') return null;
  const can = groupPermissions(c, meId);
  const memberIds = new Set(c.members.map((m) => m.user.id));
  const candidates = results.filter((u) => !memberIds.has(u.id));

  async function act(what: () => Promise<void>, done: string, action?: BlockableAction) {
    setBusy(true);
    setError(null);
    setStatus(null);
    try {
      await what();
      setStatus(done);
    } catch (e) {
      setError(action ? describeActionError(e, action) : describeError(e));
    } finally {
      setBusy(false);
    }
  }

  function rename(e: FormEvent) {
    e.preventDefault();
    const t = title.trim();
    if (!t) return setError('Give the group a name.');
    if (t === c!.title) return;
    void act(() => controller.renameGroup(id, t), `Renamed to “${t}”.`);
  }

  async function leave() {
    setBusy(true);
    setError(null);
    try {
      await controller.leave(id);
      // The conversation is gone: this dialog unmounts with the chat view.
    } catch (e) {
      setError(describeError(e));
      setBusy(false);
    }
  }

  return (
    <Modal title="Group settings" onClose={onClose}>
      {can.rename ? (
        <form onSubmit={rename} aria-label="Rename group" className="inline-form">
          <label htmlFor={titleId}>Group name</label>
          <div className="row">
            <input id={titleId} value={title} onChange={(e) => setTitle(e.target.value)} maxLength={100} required autoComplete="off" />
            <button type="submit" className="primary" disabled={busy || !title.trim() || title.trim() === c.title}>
              Rename
            </button>
          </div>
        </form>
      ) : (
        <p className="group-name">
          <strong>{conversationTitle(c, meId)}</strong>
        </p>
      )}

      {error && (
        <p className="form-error" role="alert" data-testid="group-error">
          {error}
        </p>
      )}
      {status && !error && (
        <p className="muted small-text" role="status">
          {status}
        </p>
      )}

      <section aria-labelledby={`${titleId}-members`}>
        <h3 className="section-title" id={`${titleId}-members`}>
          {c.members.length === 1 ? '1 member' : `${c.members.length} members`}
        </h3>
        <ul className="people" data-testid="group-members">
          {sortMembers(c.members).map((m) => (
            <PersonRow key={m.user.id} user={m.user} online={presenceOf(state.presence, m.user)}>
              <span className={`role role-${m.role}`} data-testid="member-role">
                {m.user.id === meId ? `${roleLabel(m.role)} · you` : roleLabel(m.role)}
              </span>
              {m.user.id !== meId && <BlockButton controller={controller} user={m.user} blocked={isBlocked(state.blocked, m.user.id)} className="small ghost" />}
              {can.remove(m) && (
                <button
                  type="button"
                  className="small ghost danger"
                  disabled={busy}
                  onClick={() => void act(() => controller.removeMember(id, m.user.id), `${m.user.display_name} was removed.`)}
                  aria-label={`Remove ${m.user.display_name} from the group`}
                >
                  Remove
                </button>
              )}
            </PersonRow>
          ))}
        </ul>
      </section>

      {can.addMembers && (
        <section aria-label="Add members">
          <label htmlFor={searchId}>Add people by username</label>
          <input id={searchId} type="search" placeholder="Username…" value={query} onChange={(e) => setQuery(e.target.value)} autoComplete="off" spellCheck={false} />
          {searchError && (
            <p className="form-error" role="alert">
              {searchError}
            </p>
          )}
          {query.trim() && (
            <>
              {searching && candidates.length === 0 ? <p className="muted">Searching…</p> : candidates.length === 0 ? <p className="muted">Nobody else found.</p> : null}
              <ul className="people" data-testid="add-member-results">
                {candidates.map((u) => (
                  <PersonRow key={u.id} user={u} online={presenceOf(state.presence, u)}>
                    <button
                      type="button"
                      className="small primary"
                      disabled={busy}
                      onClick={() => void act(async () => (await controller.addMember(id, u.id), setQuery('')), `${u.display_name} was added.`, 'add_member')}
                      aria-label={`Add ${u.display_name} to the group`}
                    >
                      Add
                    </button>
                  </PersonRow>
                ))}
              </ul>
            </>
          )}
        </section>
      )}

      <div className="modal-foot leave-row">
        {confirmLeave ? (
          <>
            <span className="leave-question">Leave this group? You will stop getting its messages.</span>
            <button type="button" className="ghost" onClick={() => setConfirmLeave(false)}>
              Cancel
            </button>
            <button type="button" className="danger-fill" ref={leaveRef} disabled={busy} onClick={() => void leave()}>
              Leave
            </button>
          </>
        ) : (
          <button type="button" className="ghost danger" onClick={() => setConfirmLeave(true)} disabled={!can.leave}>
            Leave group
          </button>
        )}
      </div>
    </Modal>
  );
}

/**
 * A question before an action that is hard to take back: a modal <dialog> with Cancel and the action. The
 * action's failure is shown in the dialog, which stays open; success closes it.
 */
export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  danger = false,
  onConfirm,
  onClose,
}: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => confirmRef.current?.focus(), []);

  async function confirm() {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      onClose();
    } catch (e) {
      setError(describeError(e));
      setBusy(false);
    }
  }

  return (
    <Modal title={title} onClose={onClose}>
      <div className="confirm-text">{children}</div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="modal-foot">
        <button type="button" className="ghost" onClick={onClose}>
          Cancel
        </button>
        <button type="button" ref={confirmRef} className={danger ? 'danger-fill' : 'primary'} disabled={busy} onClick={() => void confirm()}>
          {confirmLabel}
        </button>
      </div>
    </Modal>
  );
}

/** "Block …" or "Unblock …" for one person, each behind a confirmation that says what it does. */
export function BlockButton({ controller, user, blocked, className }: { controller: ChatController; user: User; blocked: boolean; className?: string }) {
  const [asking, setAsking] = useState(false);
  const name = user.display_name;
  return (
    <>
      <button type="button" className={className} onClick={() => setAsking(true)} aria-haspopup="dialog" aria-label={`${blocked ? 'Unblock' : 'Block'} ${name}`}>
        {blocked ? 'Unblock' : 'Block'}
      </button>
      {asking &&
        (blocked ? (
          <ConfirmDialog title={`Unblock ${name}?`} confirmLabel="Unblock" onConfirm={() => controller.unblock(user.id)} onClose={() => setAsking(false)}>
            <p>
              {name} will be able to start a chat with you, add you to groups and add you as a contact again.
            </p>
          </ConfirmDialog>
        ) : (
          <ConfirmDialog title={`Block ${name}?`} confirmLabel="Block" danger onConfirm={() => controller.block(user)} onClose={() => setAsking(false)}>
            <p>
              Neither of you will be able to start a chat with the other, or add the other to a group or as a contact. Groups you share
              stay. {name} is not told.
            </p>
          </ConfirmDialog>
        ))}
    </>
  );
}
