// One message in the list: a stored one (time, edited, ✓ sent / ✓✓ delivered / ✓✓ read for own messages, the quote of the
// message it answers, `@name` mentions, a pin marker, reaction chips; a toolbar on hover or focus with Reply,
// React, Pin/Unpin where allowed, and edit in place and delete for own ones), or an own one still pending or
// failed (with Retry and Discard). Attachments come before the text; a
// message of attachments only has no text block at all, and a deleted one shows none.
import { useCallback, useRef, useState } from 'react';
import type { Attachment, Member, Message } from '../../api/types';
import { clockTime } from '../../logic/days';
import { mentionsMe } from '../../logic/mentions';
import type { PendingMessage } from '../../logic/messages';
import { currentName } from '../../logic/profile';
import type { Tick } from '../../logic/unread';
import { Icon } from '../Icon';
import { hueFor } from '../people';
import { MessageAttachments } from './Attachments';
import { MessageText, Quote, ReactionChips, ReactionPicker } from './MessageParts';

/** Opens the viewer on the `index`th image of a message's attachments. */
export type OpenImage = (attachments: readonly Attachment[], index: number) => void;

/** ✓ sent, ✓✓ delivered (in the time's colour), ✓✓ read by everyone; in a group, who has seen it so far (`seenBy`). */
function Ticks({ tick, seenBy = [] }: { tick: Tick; seenBy?: readonly string[] }) {
  if (tick === 'read')
    return (
      <span className="tick read" aria-label="Read" title={seenBy.length ? `Read by ${seenBy.join(', ')}` : 'Read'} data-testid="tick" data-tick="read">
        ✓✓
      </span>
    );
  const delivered = tick === 'delivered';
  const label = `${delivered ? 'Delivered' : 'Sent'}${seenBy.length ? `, seen by ${seenBy.join(', ')}` : ''}`;
  return (
    <span className={`tick${delivered ? ' delivered' : ''}`} aria-label={label} title={label} data-testid="tick" data-tick={delivered ? 'delivered' : 'sent'}>
      {delivered ? '✓✓' : '✓'}
      {seenBy.length > 0 && <span className="seen-count" data-testid="seen-count"> seen by {seenBy.length}</span>}
    </span>
  );
}

export function StoredBubble(props: {
  m: Message;
  own: boolean;
  showName: boolean;
  tick?: Tick;
  /** In a group: the other members who have read this own message so far. */
  seenBy?: readonly string[];
  editing: boolean;
  onEdit: () => void;
  onCancelEdit: () => void;
  onSaveEdit: (body: string) => void;
  onDelete: () => void;
  mediaToken: string | null;
  onOpenImage: OpenImage;
  /** The conversation's members: names for mentions and reactions. */
  members: readonly Member[];
  meId: number;
  pinned: boolean;
  canPin: boolean;
  /** Just jumped to: briefly highlighted. */
  highlighted: boolean;
  /** The original of a reply, when it is held (for a quote of an attachment-only message). */
  original?: Message;
  onReply: () => void;
  onReact: (emoji: string, on: boolean) => void;
  onPin: (pinned: boolean) => void;
  onOpenQuote: (seq: number) => void;
}) {
  const { m, own, meId } = props;
  const [picking, setPicking] = useState(false);
  const reactButton = useRef<HTMLButtonElement>(null);
  const time = clockTime(new Date(m.created_at));
  const attachments = m.deleted ? [] : (m.attachments ?? []);
  const textless = !m.deleted && !m.body && !props.editing && attachments.length > 0;
  const reactions = m.deleted ? [] : (m.reactions ?? []);
  const forMe = mentionsMe(m, meId) && !own;
  const closePicker = useCallback(() => {
    setPicking(false);
    reactButton.current?.focus();
  }, []);
  const classes = ['msg', own ? 'own' : 'theirs', m.deleted && 'deleted', forMe && 'mentions-me', props.highlighted && 'highlight', picking && 'menu-open', reactions.length > 0 && 'has-reactions']
    .filter(Boolean)
    .join(' ');
  return (
    <div className={classes} data-testid="message" data-seq={m.seq} data-own={own ? 'true' : 'false'} data-mentions-me={forMe ? 'true' : undefined} data-pinned={props.pinned ? 'true' : undefined}>
      <div className="msg-col">
        <div className={`bubble${attachments.length ? ' has-media' : ''}`} tabIndex={m.deleted ? undefined : 0}>
          {props.showName && (
            <div className="sender" style={{ ['--hue' as string]: hueFor(m.sender_id) }} data-testid="sender-name">
              {currentName(props.members, m.sender_id, m.sender_name)}
            </div>
          )}
          {m.reply_to && !m.deleted && <Quote r={m.reply_to} members={props.members} original={props.original} onOpen={() => props.onOpenQuote(m.reply_to!.seq)} />}
          {attachments.length > 0 && <MessageAttachments attachments={attachments} token={props.mediaToken} onOpen={(i) => props.onOpenImage(attachments, i)} />}
          {props.editing ? (
            <EditForm initial={m.body} onCancel={props.onCancelEdit} onSave={props.onSaveEdit} />
          ) : (
            !textless && (
              <div className="body" data-testid="message-body">
                {m.deleted ? <em>Message deleted</em> : <MessageText body={m.body} members={props.members} meId={meId} />}
              </div>
            )
          )}
          <div className="meta">
            {props.pinned && !m.deleted && (
              <span className="pin-mark" role="img" aria-label="Pinned" title="Pinned" data-testid="pin-mark">
                <Icon name="pin" />
              </span>
            )}
            {m.edited_at && !m.deleted && <span className="edited">edited</span>}
            <time dateTime={m.created_at} title={new Date(m.created_at).toLocaleString()}>
              {time}
            </time>
            {props.tick && !m.deleted && <Ticks tick={props.tick} seenBy={props.seenBy} />}
          </div>
        </div>
        <ReactionChips reactions={reactions} members={props.members} meId={meId} onToggle={props.onReact} />
        {!m.deleted && !props.editing && (
          <div className="actions" role="group" aria-label="Message actions">
            <button type="button" className="icon" onClick={props.onReply} aria-label="Reply" title="Reply">
              <Icon name="reply" />
            </button>
            <button
              type="button"
              className="icon"
              ref={reactButton}
              onClick={() => setPicking((x) => !x)}
              aria-label="Add reaction"
              title="React"
              aria-expanded={picking}
              aria-haspopup="true"
            >
              <Icon name="smile" />
            </button>
            {props.canPin && (
              <button type="button" className="icon" onClick={() => props.onPin(!props.pinned)} aria-label={props.pinned ? 'Unpin message' : 'Pin message'} title={props.pinned ? 'Unpin' : 'Pin'}>
                <Icon name="pin" />
              </button>
            )}
            {own && (
              <>
                <button type="button" className="icon" onClick={props.onEdit} aria-label="Edit message" title="Edit">
                  <Icon name="edit" />
                </button>
                <button type="button" className="icon" onClick={props.onDelete} aria-label="Delete message" title="Delete">
                  <Icon name="trash" />
                </button>
              </>
            )}
          </div>
        )}
        {picking && (
          <ReactionPicker
            reactions={reactions}
            meId={meId}
            onClose={closePicker}
            onPick={(emoji, on) => {
              closePicker();
              props.onReact(emoji, on);
            }}
          />
        )}
      </div>
    </div>
  );
}

export function PendingBubble(props: { p: PendingMessage; members: readonly Member[]; onRetry: () => void; onDiscard: () => void; mediaToken: string | null; onOpenImage: OpenImage }) {
  const { p, onRetry, onDiscard } = props;
  const failed = p.status === 'failed';
  const attachments = p.attachments ?? [];
  return (
    <div className={`msg own ${failed ? 'failed' : 'pending'}`} data-testid="message" data-pending={p.status}>
      <div className={`bubble${attachments.length ? ' has-media' : ''}`}>
        {p.reply_to && <Quote r={p.reply_to} members={props.members} />}
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
