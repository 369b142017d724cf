// The pieces issue 14 adds to a message: the text with `@name` tokens set apart, the quote of the message a
// reply answers (a button: it jumps to the original), the reaction chips, and the reaction picker — a small
// popover of emoji buttons (arrow keys move, Escape closes it and gives the focus back).
import { useEffect, useRef, type KeyboardEvent } from 'react';
import type { Member, Message, Reaction, ReplyPreview } from '../../api/types';
import { linkParts } from '../../logic/links';
import { mentionParts } from '../../logic/mentions';
import { chipLabel, pickerEmojis, reactedBy, reactorsText } from '../../logic/reactions';
import { currentName } from '../../logic/profile';
import { quoteText } from '../../logic/replies';
import { hueFor } from '../people';

export function MessageText({ body, members, meId }: { body: string; members: readonly Member[]; meId: number }) {
  return (
    <>
      {mentionParts(body, members).map((p, i) =>
        p.mention ? (
          <span key={i} className={`mention${p.mention.id === meId ? ' mention-mine' : ''}`} title={p.mention.display_name} data-testid="mention">
            {p.text}
          </span>
        ) : (
          <LinkedText key={i} text={p.text} />
        ),
      )}
    </>
  );
}

function LinkedText({ text }: { text: string }) {
  return (
    <>
      {linkParts(text).map((p, i) =>
        p.href ? (
          <a key={i} href={p.href} target="_blank" rel="noopener noreferrer" className="message-link" data-testid="message-link">
            {p.text}
          </a>
        ) : (
          p.text
        ),
      )}
    </>
  );
}

/** A reply's quote; its sender named by id among `members` (their current name), the quoted name otherwise. */
export function Quote({ r, members, original, onOpen }: { r: ReplyPreview; members: readonly Member[]; original?: Message; onOpen?: () => void }) {
  const text = quoteText(r, original);
  const name = currentName(members, r.sender_id, r.sender_name);
  const content = (
    <>
      <span className="quote-name" style={{ ['--hue' as string]: hueFor(r.sender_id) }} data-testid="quote-name">
        {name}
      </span>
      <span className={`quote-text${r.deleted ? ' deleted' : ''}`}>{text}</span>
    </>
  );
  if (!onOpen) return <div className="quote">{content}</div>;
  return (
    <button type="button" className="quote" onClick={onOpen} data-testid="quote" aria-label={`Reply to ${name}: ${text}. Show the original message`}>
      {content}
    </button>
  );
}

export function ReactionChips(props: { reactions: readonly Reaction[]; members: readonly Member[]; meId: number; onToggle: (emoji: string, on: boolean) => void; disabled?: boolean }) {
  const { reactions, members, meId, onToggle } = props;
  if (reactions.length === 0) return null;
  return (
    <div className="reactions" data-testid="reactions">
      {reactions.map((r) => {
        const mine = reactedBy(r, meId);
        return (
          <button
            key={r.emoji}
            type="button"
            className={`reaction${mine ? ' mine' : ''}`}
            aria-pressed={mine}
            aria-label={chipLabel(r, meId)}
            title={reactorsText(r, members, meId)}
            disabled={props.disabled}
            onClick={() => onToggle(r.emoji, !mine)}
            data-testid="reaction"
            data-emoji={r.emoji}
          >
            <span className="reaction-emoji" aria-hidden="true">
              {r.emoji}
            </span>
            <span className="reaction-count" aria-hidden="true">
              {r.count}
            </span>
          </button>
        );
      })}
    </div>
  );
}

/** The emoji palette as a popover; picking one toggles my reaction with it. */
export function ReactionPicker(props: { reactions: readonly Reaction[]; meId: number; onPick: (emoji: string, on: boolean) => void; onClose: () => void }) {
  const { reactions, meId, onPick, onClose } = props;
  const ref = useRef<HTMLDivElement>(null);
  const emojis = pickerEmojis(reactions);

  useEffect(() => {
    ref.current?.querySelector<HTMLButtonElement>('button')?.focus();
    const outside = (e: PointerEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) onClose();
    };
    document.addEventListener('pointerdown', outside);
    return () => document.removeEventListener('pointerdown', outside);
  }, [onClose]);

  function onKeyDown(e: KeyboardEvent) {
    const buttons = Array.from(ref.current?.querySelectorAll<HTMLButtonElement>('button') ?? []);
    const i = buttons.indexOf(document.activeElement as HTMLButtonElement);
    const step = e.key === 'ArrowRight' || e.key === 'ArrowDown' ? 1 : e.key === 'ArrowLeft' || e.key === 'ArrowUp' ? -1 : 0;
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      onClose();
    } else if (step) {
      e.preventDefault();
      buttons[(i + step + buttons.length) % buttons.length]?.focus();
    } else if (e.key === 'Home' || e.key === 'End') {
      e.preventDefault();
      buttons[e.key === 'Home' ? 0 : buttons.length - 1]?.focus();
    }
  }

  return (
    <div className="picker" ref={ref} role="group" aria-label="Pick a reaction" onKeyDown={onKeyDown} data-testid="reaction-picker">
      {emojis.map((emoji) => {
        const mine = reactions.some((r) => r.emoji === emoji && reactedBy(r, meId));
        return (
          <button
            key={emoji}
            type="button"
            className={`picker-emoji${mine ? ' mine' : ''}`}
            aria-label={mine ? `Take back ${emoji}` : `React with ${emoji}`}
            aria-pressed={mine}
            onClick={() => onPick(emoji, !mine)}
          >
            {emoji}
          </button>
        );
      })}
    </div>
  );
}
