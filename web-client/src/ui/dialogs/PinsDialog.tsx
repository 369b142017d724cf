// The pinned messages of a conversation, newest pin first: who wrote each and when, its text, "Jump" to it in
// the conversation, and Unpin for those who may. Live: `pin` frames change the list while it is open.
import { useEffect, useState } from 'react';
import { previewText } from '../../logic/attachments';
import { shortStamp } from '../../logic/days';
import { canPin } from '../../logic/roles';
import type { ChatController } from '../../state/controller';
import { describeError } from '../../state/errors';
import type { ChatState } from '../../state/store';
import { Modal } from './Modal';

export function PinsDialog({ controller, state, id, onClose, onJump }: { controller: ChatController; state: ChatState; id: number; onClose: () => void; onJump: (seq: number) => void }) {
  const c = state.conversations[id];
  const pins = state.pins[id];
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(!pins);
  useEffect(() => {
    let live = true;
    void controller.loadPins(id).then(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [controller, id]);
  if (!c) return null;
  const mayUnpin = canPin(c, state.me.id);
  const now = new Date();
  const nameOf = (userId: number) => (userId === state.me.id ? 'you' : (c.members.find((m) => m.user.id === userId)?.user.display_name ?? 'someone who left'));

  return (
    <Modal title="Pinned messages" onClose={onClose}>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {!pins ? (
        <p className="muted">{loading ? 'Loading pinned messages…' : 'The pinned messages could not be loaded.'}</p>
      ) : pins.length === 0 ? (
        <p className="muted">Nothing is pinned yet.{mayUnpin ? ' Pin a message from its menu.' : ''}</p>
      ) : (
        <ul className="pins" data-testid="pins">
          {pins.map((p) => (
            <li key={p.message.seq} className="pin-row" data-seq={p.message.seq}>
              <div className="pin-text">
                <div className="pin-head">
                  <strong>{p.message.sender_name}</strong>
                  <span className="muted small-text">{shortStamp(p.message.created_at, now)}</span>
                </div>
                <div className="pin-body">{p.message.deleted ? 'Message deleted' : previewText(p.message.body, p.message.attachments)}</div>
                <div className="muted small-text">Pinned by {nameOf(p.pinned_by)}</div>
              </div>
              <div className="pin-actions">
                <button type="button" className="small" onClick={() => onJump(p.message.seq)} aria-label={`Jump to the message from ${p.message.sender_name}`}>
                  Jump
                </button>
                {mayUnpin && (
                  <button
                    type="button"
                    className="small ghost danger"
                    onClick={() => {
                      setError(null);
                      controller.pin(id, p.message.seq, false).catch((e) => setError(describeError(e)));
                    }}
                    aria-label={`Unpin the message from ${p.message.sender_name}`}
                  >
                    Unpin
                  </button>
                )}
              </div>
            </li>
          ))}
        </ul>
      )}
    </Modal>
  );
}
