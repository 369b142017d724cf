// The frame every dialog shares: a native modal <dialog> (focus trapped, Escape and a click outside close it)
// with a titled header, the footer with its error and buttons, and the row that shows one person in a dialog's lists.
// The focus starts in the dialog's first field (the search field, the title), not on ✕, and goes back to
// whatever opened the dialog when it closes, however it closes.
import { useEffect, useId, useRef, type ReactNode } from 'react';
import type { User } from '../../api/types';
import { matchParts } from '../../logic/highlight';
import { Avatar } from '../Avatar';

/** A native modal <dialog>: focus is trapped, Escape closes it. */
export function Modal({ title, onClose, children }: { title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (d && !d.open) d.showModal();
    firstField(d)?.focus();
    return () => {
      d?.close();
      if (opener?.isConnected) opener.focus();
    };
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

/** Where the focus starts: the body's first field, else its first button (a confirmation's Cancel) — never ✕. */
function firstField(d: HTMLDialogElement | null): HTMLElement | null {
  if (!d) return null;
  for (const selector of ['input:not([type=hidden]):not([disabled]), textarea:not([disabled]), select:not([disabled])', 'button:not([disabled])']) {
    for (const el of d.querySelectorAll<HTMLElement>(selector)) {
      if (!el.closest('.modal-head')) return el;
    }
  }
  return null;
}

/** A dialog's last lines: its error if any, then Cancel and the dialog's action (passed as children). */
export function DialogFoot({ error, onCancel, children }: { error: string | null; onCancel: () => void; children: ReactNode }) {
  return (
    <>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="modal-foot">
        <button type="button" className="ghost" onClick={onCancel}>
          Cancel
        </button>
        {children}
      </div>
    </>
  );
}

/**
 * One person in a dialog's list; `wide` puts the actions on a line of their own under the name. A people
 * search's `query` is marked where it matched, in the display name or the username ("Robert Smith @bob").
 */
export function PersonRow({ user, online, children, wide = false, query = '' }: { user: User; online?: boolean; children: ReactNode; wide?: boolean; query?: string }) {
  return (
    <li className={`person${wide ? ' wide' : ''}`}>
      <Avatar name={user.display_name} id={user.id} online={online} size={34} />
      <span className="person-text">
        <strong data-testid="person-name">
          <Marked text={user.display_name} query={query} />
        </strong>
        <span className="muted" data-testid="person-username">
          @<Marked text={user.username} query={query} />
        </span>
      </span>
      <span className="person-actions">{children}</span>
    </li>
  );
}

/** Text with the part that matched a search `query` in <mark> (as text, never markup). */
export function Marked({ text, query }: { text: string; query: string }) {
  return <>{matchParts(text, query).map((p, i) => (p.match ? <mark key={i}>{p.text}</mark> : p.text))}</>;
}
