// The message composer: Enter sends (Shift+Enter and IME composition do not), it grows with its text up to a
// limit, and every change tells the caller that the user is typing. Files come in through the attach button (or
// a drop or a paste on the conversation, see ChatView) and wait in the tray above the text; the message is sent
// once they are all uploaded — Send stays disabled meanwhile, and says why.
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { canSend, isUploading, type DraftUpload } from '../../logic/uploads';
import { Icon } from '../Icon';
import { UploadTray } from './UploadTray';

export function Composer(props: {
  drafts: readonly DraftUpload[];
  onSend: (body: string) => void;
  onTyping: () => void;
  onBlur: () => void;
  onAttach: (files: File[]) => void;
  onRemoveUpload: (key: string) => void;
  onRetryUpload: (key: string) => void;
}) {
  const { drafts, onSend, onTyping, onBlur, onAttach } = props;
  const [body, setBody] = useState('');
  const ref = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  const uploading = isUploading(drafts);
  const ready = canSend(body, drafts);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 160)}px`;
  }, [body]);

  function submit(e?: FormEvent) {
    e?.preventDefault();
    if (!ready) return;
    onSend(body);
    setBody('');
    ref.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  }

  return (
    <form className="composer" onSubmit={submit}>
      <UploadTray drafts={drafts} onRemove={props.onRemoveUpload} onRetry={props.onRetryUpload} />
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
        <label htmlFor="composer-input" className="sr-only">
          Message
        </label>
        <textarea
          id="composer-input"
          ref={ref}
          rows={1}
          placeholder={drafts.length ? 'Add a caption…' : 'Write a message…'}
          value={body}
          onChange={(e) => {
            setBody(e.target.value);
            if (e.target.value) onTyping();
          }}
          onKeyDown={onKeyDown}
          onBlur={onBlur}
          autoFocus
          maxLength={4000}
        />
        <button
          type="submit"
          className="primary send"
          disabled={!ready}
          aria-label="Send message"
          aria-describedby={uploading ? 'upload-hint' : undefined}
          title={uploading ? 'Waiting for the uploads to finish' : undefined}
        >
          Send
        </button>
      </div>
    </form>
  );
}
