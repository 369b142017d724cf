// "Your profile" (issue 15), opened from the sidebar's header: the display name everyone you chat with sees,
// changed for them live. An empty or too long name is caught before asking; the server's 422 is shown at the
// field in its own words, anything else under the form.
import { useId, useState, type FormEvent } from 'react';
import { ApiError } from '../../api/auth';
import type { User } from '../../api/types';
import { DISPLAY_NAME_MAX, displayNameProblem, displayNameRefusal } from '../../logic/profile';
import type { ChatController } from '../../state/controller';
import { describeError } from '../../state/errors';
import { Avatar } from '../Avatar';
import { DialogFoot, Modal } from './Modal';

export function ProfileDialog({ controller, me, onClose }: { controller: ChatController; me: User; onClose: () => void }) {
  const [name, setName] = useState(me.display_name);
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();

  async function submit(e: FormEvent) {
    e.preventDefault();
    const problem = displayNameProblem(name);
    setFieldError(problem);
    setFormError(null);
    if (problem) return;
    if (name.trim() === me.display_name) return onClose();
    setBusy(true);
    try {
      await controller.profile.rename(name);
      onClose();
    } catch (err) {
      if (err instanceof ApiError) {
        const r = displayNameRefusal(err);
        setFieldError(r.field);
        setFormError(r.form);
      } else setFormError(describeError(err));
      setBusy(false);
    }
  }

  return (
    <Modal title="Your profile" onClose={onClose}>
      <form onSubmit={(e) => void submit(e)} noValidate aria-label="Your profile" data-testid="profile-form">
        <div className="profile-preview">
          <Avatar name={name.trim() || me.display_name} id={me.id} size={48} />
          <span className="muted">@{me.username}</span>
        </div>
        <label htmlFor={id}>Display name</label>
        <input
          id={id}
          name="display_name"
          autoComplete="nickname"
          value={name}
          onChange={(e) => (setName(e.target.value), setFieldError(null))}
          aria-invalid={fieldError ? true : undefined}
          aria-describedby={`${id}-hint${fieldError ? ` ${id}-error` : ''}`}
          data-testid="display-name-input"
        />
        {fieldError && (
          <p className="form-error field-error" id={`${id}-error`} role="alert" data-testid="display-name-error">
            {fieldError}
          </p>
        )}
        <p className="hint" id={`${id}-hint`}>
          1 to {DISPLAY_NAME_MAX} characters. Everyone you chat with sees it, and people can find you by it.
        </p>
        <DialogFoot error={formError} onCancel={onClose}>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Saving…' : 'Save'}
          </button>
        </DialogFoot>
      </form>
    </Modal>
  );
}
