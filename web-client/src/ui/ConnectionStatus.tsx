import { useEffect, useState } from 'react';
import type { SocketStatus } from '../realtime/socket';

/** Always-visible connection state, with a countdown and a "retry now" while waiting to reconnect. */
export function ConnectionStatus({ status, onRetry }: { status: SocketStatus; onRetry: () => void }) {
  const [, tick] = useState(0);
  useEffect(() => {
    if (status.state !== 'waiting') return;
    const t = setInterval(() => tick((n) => n + 1), 500);
    return () => clearInterval(t);
  }, [status]);

  let label: string;
  let kind: string;
  switch (status.state) {
    case 'open':
      label = 'Connected';
      kind = 'ok';
      break;
    case 'connecting':
      label = status.attempt > 0 ? 'Reconnecting…' : 'Connecting…';
      kind = 'busy';
      break;
    case 'waiting': {
      const secs = Math.max(0, Math.ceil((status.retryAt - Date.now()) / 1000));
      if (status.reason === 'too_many_sockets') {
        // Nothing is broken: the account simply has the most sockets open that the server allows.
        label = 'Too many open tabs or devices on this account — close one, then it reconnects';
        kind = 'busy';
      } else if (status.reason === 'rate_limited') {
        label = secs > 0 ? `Reconnecting too often · next try in ${secs}s` : 'Reconnecting…';
        kind = 'busy';
      } else {
        label = secs > 0 ? `Offline · retrying in ${secs}s` : 'Offline · retrying…';
        kind = 'bad';
      }
      break;
    }
    default:
      label = 'Disconnected';
      kind = 'bad';
  }
  return (
    <div
      className={`conn conn-${kind}`}
      role="status"
      aria-live="polite"
      data-testid="connection-status"
      data-state={status.state}
      data-reason={status.state === 'waiting' ? status.reason : undefined}
    >
      <span className="conn-dot" aria-hidden="true" />
      <span className="conn-label">{label}</span>
      {status.state === 'waiting' && status.reason !== 'rate_limited' && (
        <button type="button" className="link" onClick={onRetry}>
          Retry now
        </button>
      )}
    </div>
  );
}
