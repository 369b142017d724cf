// Group settings, opened from a group's chat header: the members and their roles, rename, add and remove as the
// role allows, the owner's role changes (make admin, remove admin, make owner after a confirmation), block or
// unblock a member, and leave.
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { isBlocked, type BlockableAction } from '../../logic/blocks';
import { presenceOf } from '../../logic/presence';
import { groupPermissions, roleLabel, sortMembers } from '../../logic/roles';
import type { ChatController } from '../../state/controller';
import { describeActionError, describeError } from '../../state/errors';
import type { ChatState } from '../../state/store';
import { conversationTitle } from '../people';
import type { Member } from '../../api/types';
import { BlockButton } from './BlockButton';
import { ConfirmDialog } from './ConfirmDialog';
import { Modal, PersonRow } from './Modal';
import { useUserSearch } from './useUserSearch';

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
  const [handOver, setHandOver] = useState<Member | null>(null);
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
            <PersonRow key={m.user.id} user={m.user} online={presenceOf(state.presence, m.user)} wide={can.roleChanges(m).length > 0}>
              <span className={`role role-${m.role}`} data-testid="member-role">
                {m.user.id === meId ? `${roleLabel(m.role)} · you` : roleLabel(m.role)}
              </span>
              {m.user.id !== meId && <BlockButton controller={controller} user={m.user} blocked={isBlocked(state.blocked, m.user.id)} className="small ghost" />}
              {can.roleChanges(m).map((change) => (
                <button
                  key={change.role}
                  type="button"
                  className="small ghost"
                  disabled={busy}
                  onClick={() =>
                    change.confirm
                      ? setHandOver(m)
                      : void act(() => controller.setRole(id, m.user.id, change.role), change.role === 'admin' ? `${m.user.display_name} is now an admin.` : `${m.user.display_name} is no longer an admin.`)
                  }
                  aria-label={`${change.label}: ${m.user.display_name}`}
                >
                  {change.label}
                </button>
              ))}
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
          <label htmlFor={searchId}>Add people by username or name</label>
          <input id={searchId} type="search" placeholder="Name or username…" value={query} onChange={(e) => setQuery(e.target.value)} autoComplete="off" spellCheck={false} />
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
                  <PersonRow key={u.id} user={u} online={presenceOf(state.presence, u)} query={query}>
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
      {handOver && (
        <ConfirmDialog
          title="Make owner"
          confirmLabel="Make owner"
          onClose={() => setHandOver(null)}
          onConfirm={async () => {
            await controller.setRole(id, handOver.user.id, 'owner');
            setStatus(`${handOver.user.display_name} is now the owner. You are an admin.`);
          }}
        >
          <p>
            Make {handOver.user.display_name} the owner of this group? You become an admin, and only they can change roles or give ownership back.
          </p>
        </ConfirmDialog>
      )}
    </Modal>
  );
}
