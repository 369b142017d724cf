// The caller's notification level for one conversation: all messages, mentions only, or nothing — for an hour,
// eight hours or until turned back (`PUT …/notifications`). The choice in force is shown first.
import { useId, useState, type FormEvent } from 'react';
import type { NotificationLevel } from '../../api/types';
import { clockTime } from '../../logic/days';
import { effectiveLevel, levelLabel, levelSummary, LEVELS, MUTE_FOR, muteForLabel, untilFor, type MuteFor } from '../../logic/notifications';
import type { ChatController } from '../../state/controller';
import { describeError } from '../../state/errors';
import type { ChatState } from '../../state/store';
import { DialogFoot, Modal } from './Modal';

const HINTS: Record<NotificationLevel, string> = {
  all: 'A notification for every message.',
  mentions: 'Only when someone mentions you. Unread counts still go up.',
  nothing: 'No notifications at all, not even for mentions.',
};

export function NotificationsDialog({ controller, state, id, onClose }: { controller: ChatController; state: ChatState; id: number; onClose: () => void }) {
  const c = state.conversations[id];
  const now = Date.now();
  const [level, setLevel] = useState<NotificationLevel>(() => effectiveLevel(c?.notifications, now));
  const [duration, setDuration] = useState<MuteFor>(() => (c?.notifications?.until ? '8h' : 'forever'));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const name = useId();
  if (!c) return null;

  async function save(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await controller.setNotifications(id, { level, until: level === 'all' ? null : untilFor(duration, Date.now()) });
      onClose();
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  }

  return (
    <Modal title="Notifications" onClose={onClose}>
      <form onSubmit={(e) => void save(e)} aria-label="Notification level">
        <p className="muted small-text" data-testid="notification-summary">
          Now: {levelSummary(c.notifications, now, clockTime)}
        </p>
        <fieldset className="choices">
          <legend>Notify me about</legend>
          {LEVELS.map((l) => (
            <label key={l} className="choice">
              <input type="radio" name={`${name}-level`} value={l} checked={level === l} onChange={() => setLevel(l)} />
              <span>
                <strong>{levelLabel(l)}</strong>
                <span className="muted small-text">{HINTS[l]}</span>
              </span>
            </label>
          ))}
        </fieldset>
        {level !== 'all' && (
          <fieldset className="choices">
            <legend>For how long</legend>
            {MUTE_FOR.map((d) => (
              <label key={d} className="choice inline">
                <input type="radio" name={`${name}-for`} value={d} checked={duration === d} onChange={() => setDuration(d)} />
                <span>{muteForLabel(d)}</span>
              </label>
            ))}
          </fieldset>
        )}
        <DialogFoot error={error} onCancel={onClose}>
          <button type="submit" className="primary" disabled={busy}>
            Save
          </button>
        </DialogFoot>
      </form>
    </Modal>
  );
}
