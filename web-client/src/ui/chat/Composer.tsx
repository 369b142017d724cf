// The message composer: Enter sends (Shift+Enter and IME composition do not), it grows with its text up to a
// limit, and every change tells the caller that the user is typing. Files come in through the attach button (or
// a drop or a paste on the conversation, see ChatView) and wait in the tray above the text; the message is sent
// once they are all uploaded — Send stays disabled meanwhile, and says why. A reply shows the quoted message
// above the text with ✕ (or Escape) to cancel it. Typing `@` offers the conversation's members: arrow keys move,
// Enter or Tab picks, Escape closes the list. The text is a draft kept per conversation (see logic/drafts);
// near the body limit a counter shows, and past it Send is refused with the reason (never a silent cut). Up in
// an empty composer edits one's last message.
import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { Member, ReplyPreview } from '../../api/types';
import { bodyLength, counterText } from '../../logic/compose';
import { loadDraft, saveDraft } from '../../logic/drafts';
import { activeMention, insertMention, mentionCandidates, type MentionQuery } from '../../logic/mentions';
import { canSend, isUploading, type DraftUpload } from '../../logic/uploads';
import { Avatar } from '../Avatar';
import { Icon } from '../Icon';
import { Quote } from './MessageParts';
import { UploadTray } from './UploadTray';

export function Composer(props: {
  drafts: readonly DraftUpload[];
  members: readonly Member[];
  meId: number;
  replyTo: ReplyPreview | null;
  onCancelReply: () => void;
  onSend: (body: string) => void;
  onTyping: () => void;
  onBlur: () => void;
  onAttach: (files: File[]) => void;
  onRemoveUpload: (key: string) => void;
  onRetryUpload: (key: string) => void;
  /** Where the draft is kept (logic/drafts' draftKey). */
  draftKey: string;
  /** Up in an empty composer: edit one's last message. */
  onEditLast?: () => void;
}) {
  const { drafts, onSend, onTyping, onBlur, onAttach, replyTo, onCancelReply, draftKey } = props;
  const [body, setBody] = useState(() => loadDraft(draftKey));
  const [mention, setMention] = useState<MentionQuery | null>(null);
  const [active, setActive] = useState(0);
  const ref = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  const listId = useId();
  const uploading = isUploading(drafts);
  const length = bodyLength(body);
  const ready = canSend(body, drafts) && length.over === 0;
  const candidates = mention ? mentionCandidates(props.members, mention.query, props.meId) : [];
  const open = candidates.length > 0;

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 160)}px`;
  }, [body]);

  useEffect(() => saveDraft(draftKey, body), [draftKey, body]);

  // Replying: the text is where the answer goes.
  useEffect(() => {
    if (replyTo) ref.current?.focus();
  }, [replyTo]);

  function submit(e?: FormEvent) {
    e?.preventDefault();
    if (!ready) return;
    onSend(body);
    setBody('');
    setMention(null);
    ref.current?.focus();
  }

  function track(text: string, caret: number) {
    const m = activeMention(text, caret);
    setMention(m);
    if (!m || m.start !== mention?.start) setActive(0);
  }

  function pick(username: string) {
    const el = ref.current;
    if (!el || !mention) return;
    const next = insertMention(body, mention, el.selectionStart ?? body.length, username);
    setBody(next.text);
    setMention(null);
    requestAnimationFrame(() => {
      el.focus();
      el.setSelectionRange(next.caret, next.caret);
    });
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (open) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const step = e.key === 'ArrowDown' ? 1 : -1;
        setActive((i) => (i + step + candidates.length) % candidates.length);
        return;
      }
      if ((e.key === 'Enter' || e.key === 'Tab') && !e.shiftKey && !e.nativeEvent.isComposing) {
        e.preventDefault();
        pick(candidates[Math.min(active, candidates.length - 1)].username);
        return;
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        setMention(null);
        return;
      }
    }
    if (e.key === 'Escape' && replyTo) {
      e.preventDefault();
      onCancelReply();
      return;
    }
    if (e.key === 'ArrowUp' && !body && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey && props.onEditLast) {
      e.preventDefault();
      props.onEditLast();
      return;
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  }

  const activeId = open ? `${listId}-${Math.min(active, candidates.length - 1)}` : undefined;
  return (
    <form className="composer" onSubmit={submit}>
      <UploadTray drafts={drafts} onRemove={props.onRemoveUpload} onRetry={props.onRetryUpload} />
      {replyTo && (
        <div className="reply-bar" data-testid="reply-bar">
          <Icon name="reply" />
          <div className="reply-bar-quote">
            <span className="reply-bar-label">Replying to</span>
            <Quote r={replyTo} members={props.members} />
          </div>
          <button type="button" className="ghost icon reply-cancel" onClick={() => (onCancelReply(), ref.current?.focus())} aria-label="Cancel reply" title="Cancel reply">
            ✕
          </button>
        </div>
      )}
      <div className="composer-row">
        <input
          ref={picker}
          type="file"
          multiple
          hidden
          data-testid="file-input"
          onChange={(e) => {
            const files = Array.from(e.target.files ?? []);
            // Cleared, so that picking the same file again is a change too.
            e.target.value = '';
            if (files.length) onAttach(files);
            ref.current?.focus();
          }}
        />
        <button type="button" className="attach ghost" onClick={() => picker.current?.click()} aria-label="Attach files" title="Attach files">
          <Icon name="paperclip" />
        </button>
        <div className="composer-input">
          {open && (
            <ul className="mention-list" id={listId} role="listbox" aria-label="Mention a member" data-testid="mention-list">
              {candidates.map((u, i) => (
                <li
                  key={u.id}
                  id={`${listId}-${i}`}
                  role="option"
                  aria-selected={i === active}
                  className={i === active ? 'active' : undefined}
                  // Keep the focus in the text while picking with the pointer.
                  onMouseDown={(e) => e.preventDefault()}
                  onClick={() => pick(u.username)}
                  onMouseEnter={() => setActive(i)}
                >
                  <Avatar name={u.display_name} id={u.id} size={26} />
                  <span className="mention-name">{u.display_name}</span>
                  <span className="muted">@{u.username}</span>
                </li>
              ))}
            </ul>
          )}
          <label htmlFor="composer-input" className="sr-only">
            Message
          </label>
          <textarea
            id="composer-input"
            ref={ref}
            rows={1}
            placeholder={drafts.length ? 'Add a caption…' : replyTo ? 'Write a reply…' : 'Write a message…'}
            value={body}
            role="combobox"
            aria-autocomplete="list"
            aria-expanded={open}
            aria-controls={open ? listId : undefined}
            aria-activedescendant={activeId}
            onChange={(e) => {
              setBody(e.target.value);
              track(e.target.value, e.target.selectionStart ?? e.target.value.length);
              if (e.target.value) onTyping();
            }}
            onSelect={(e) => track(e.currentTarget.value, e.currentTarget.selectionStart ?? 0)}
            onKeyDown={onKeyDown}
            onBlur={() => {
              setMention(null);
              onBlur();
            }}
            autoFocus
            aria-describedby={length.showCounter ? 'composer-counter' : undefined}
            aria-invalid={length.over > 0 || undefined}
          />
          {length.showCounter && (
            <div id="composer-counter" className={`composer-counter${length.over ? ' over' : ''}`} data-testid="composer-counter" role={length.over ? 'alert' : undefined}>
              {counterText(length)}
            </div>
          )}
        </div>
        <button
          type="submit"
          className="primary send"
          disabled={!ready}
          aria-label="Send message"
          aria-describedby={uploading ? 'upload-hint' : undefined}
          title={uploading ? 'Waiting for the uploads to finish' : length.over ? 'The message is too long' : undefined}
        >
          Send
        </button>
      </div>
    </form>
  );
}
