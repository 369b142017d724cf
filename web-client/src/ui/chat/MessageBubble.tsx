// One message in the list: a stored one (time, edited, ✓ sent / ✓✓ read for own messages, edit in place and
// delete), or an own one still pending or failed (with Retry and Discard). Attachments come before the text; a
// message of attachments only has no text block at all, and a deleted one shows none.
import { useState } from 'react';
import type { Attachment, Message } from '../../api/types';
import { clockTime } from '../../logic/days';
import type { PendingMessage } from '../../logic/messages';
import type { Tick } from '../../logic/unread';
import { Icon } from '../Icon';
import { hueFor } from '../people';
import { MessageAttachments } from './Attachments';

/** Opens the viewer on the `index`th image of a message's attachments. */
export type OpenImage = (attachments: readonly Attachment[], index: number) => void;

function Ticks({ tick }: { tick: Tick }) {
  if (tick === 'read')
    return (
      <span className="tick read" aria-label="Read" title="Read" data-testid="tick" data-tick="read">
        ✓✓
      </span>
    );
  return (
    <span className="tick" aria-label="Sent" title="Sent" data-testid="tick" data-tick="sent">
      ✓
    </span>
  );
}

export function StoredBubble(props: {
  m: Message;
  own: boolean;
  showName: boolean;
  tick?: Tick;
  editing: boolean;
  onEdit: () => void;
  onCancelEdit: () => void;
  onSaveEdit: (body: string) => void;
  onDelete: () => void;
  mediaToken: string | null;
  onOpenImage: OpenImage;
}) {
  const { m, own } = props;
  const time = clockTime(new Date(m.created_at));
  const attachments = m.deleted ? [] : (m.attachments ?? []);
  const textless = !m.deleted && !m.body && !props.editing && attachments.length > 0;
  return (
    <div className={`msg ${own ? 'own' : 'theirs'}${m.deleted ? ' deleted' : ''}`} data-testid="message" data-seq={m.seq} data-own={own ? 'true' : 'false'}>
      <div className={`bubble${attachments.length ? ' has-media' : ''}`} tabIndex={own && !m.deleted ? 0 : undefined}>
        {props.showName && (
          <div className="sender" style={{ ['--hue' as string]: hueFor(m.sender_id) }}>
            {m.sender_name}
          </div>
        )}
        {attachments.length > 0 && <MessageAttachments attachments={attachments} token={props.mediaToken} onOpen={(i) => props.onOpenImage(attachments, i)} />}
        {props.editing ? (
          <EditForm initial={m.body} onCancel={props.onCancelEdit} onSave={props.onSaveEdit} />
        ) : (
          !textless && (
            <div className="body" data-testid="message-body">
              {m.deleted ? <em>Message deleted</em> : m.body}
            </div>
          )
        )}
        <div className="meta">
          {m.edited_at && !m.deleted && <span className="edited">edited</span>}
          <time dateTime={m.created_at} title={new Date(m.created_at).toLocaleString()}>
            {time}
          </time>
          {props.tick && !m.deleted && <Ticks tick={props.tick} />}
        </div>
      </div>
      {own && !m.deleted && !props.editing && (
        <div className="actions">
          <button type="button" className="icon" onClick={props.onEdit} aria-label="Edit message" title="Edit">
            <Icon name="edit" />
          </button>
          <button type="button" className="icon" onClick={props.onDelete} aria-label="Delete message" title="Delete">
            <Icon name="trash" />
          </button>
        </div>
      )}
    </div>
  );
}

export function PendingBubble(props: { p: PendingMessage; onRetry: () => void; onDiscard: () => void; mediaToken: string | null; onOpenImage: OpenImage }) {
  const { p, onRetry, onDiscard } = props;
  const failed = p.status === 'failed';
  const attachments = p.attachments ?? [];
  return (
    <div className={`msg own ${failed ? 'failed' : 'pending'}`} data-testid="message" data-pending={p.status}>
      <div className={`bubble${attachments.length ? ' has-media' : ''}`}>
        {attachments.length > 0 && <MessageAttachments attachments={attachments} token={props.mediaToken} onOpen={(i) => props.onOpenImage(attachments, i)} />}
        {p.body && (
          <div className="body" data-testid="message-body">
            {p.body}
          </div>
        )}
        <div className="meta">
          <time dateTime={p.created_at}>{clockTime(new Date(p.created_at))}</time>
          {failed ? (
            <span className="tick failed" aria-label="Not sent">
              !
            </span>
          ) : (
            <span className="tick pending" aria-label="Sending" title="Sending" data-tick="pending">
              <Icon name="clock" />
            </span>
          )}
        </div>
      </div>
      {failed && (
        <div className="failed-row" role="alert">
          <span>Not sent{p.error ? `: ${p.error}` : ''}</span>
          <button type="button" className="link" onClick={onRetry}>
            Retry
          </button>
          <button type="button" className="link" onClick={onDiscard}>
            Discard
          </button>
        </div>
      )}
    </div>
  );
}

function EditForm({ initial, onCancel, onSave }: { initial: string; onCancel: () => void; onSave: (body: string) => void }) {
  const [body, setBody] = useState(initial);
  return (
    <form
      className="edit-form"
      onSubmit={(e) => {
        e.preventDefault();
        onSave(body);
      }}
    >
      <label className="sr-only" htmlFor="edit-message">
        Edit message
      </label>
      <textarea
        id="edit-message"
        value={body}
        autoFocus
        rows={Math.min(6, body.split('\n').length)}
        onChange={(e) => setBody(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') onCancel();
          if (e.key === 'Enter' && !e.shiftKey) {
            e.preventDefault();
            onSave(body);
          }
        }}
      />
      <div className="edit-buttons">
        <button type="button" className="small ghost" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="small primary">
          Save
        </button>
      </div>
    </form>
  );
}
