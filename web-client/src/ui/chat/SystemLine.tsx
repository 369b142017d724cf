// A timeline event (a member added, removed or gone, the group created or renamed) as a centred line between
// the messages: what happened and when, with none of a message's actions — nobody wrote it.
import type { Member } from '../../api/types';
import { clockTime } from '../../logic/days';
import { eventText, type EventMessage } from '../../logic/timeline';

export function SystemLine({ m, members }: { m: EventMessage; members: readonly Member[] }) {
  const when = new Date(m.created_at);
  return (
    <div className="system-line" data-testid="system-line" data-seq={m.seq} data-event={m.event.type}>
      <span>
        {eventText(m, members)}
        <time dateTime={m.created_at} title={when.toLocaleString()}>
          {clockTime(when)}
        </time>
      </span>
    </div>
  );
}
