// The question before an action that is hard to take back (block, unblock, sign out everywhere).
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { describeError } from '../../state/errors';
import { DialogFoot, Modal } from './Modal';

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
      <DialogFoot error={error} onCancel={onClose}>
        <button type="button" ref={confirmRef} className={danger ? 'danger-fill' : 'primary'} disabled={busy} onClick={() => void confirm()}>
          {confirmLabel}
        </button>
      </DialogFoot>
    </Modal>
  );
}
