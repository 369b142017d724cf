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
      label = secs > 0 ? `Offline · retrying in ${secs}s` : 'Offline · retrying…';
      kind = 'bad';
      break;
    }
    default:
      label = 'Disconnected';
      kind = 'bad';
  }
  return (
    <div className={`conn conn-${kind}`} role="status" aria-live="polite" data-testid="connection-status" data-state={status.state}>
      <span className="conn-dot" aria-hidden="true" />
      <span>{label}</span>
      {status.state === 'waiting' && (
        <button type="button" className="link" onClick={onRetry}>
          Retry now
        </button>
      )}
    </div>
  );
}
