// The message composer: Enter sends (Shift+Enter and IME composition do not), it grows with its text up to a
// limit, and every change tells the caller that the user is typing.
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';

export function Composer({ onSend, onTyping, onBlur }: { onSend: (body: string) => void; onTyping: () => void; onBlur: () => void }) {
  const [body, setBody] = useState('');
  const ref = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 160)}px`;
  }, [body]);

  function submit(e?: FormEvent) {
    e?.preventDefault();
    if (!body.trim()) return;
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
      <label htmlFor="composer-input" className="sr-only">
        Message
      </label>
      <textarea
        id="composer-input"
        ref={ref}
        rows={1}
        placeholder="Write a message…"
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
      <button type="submit" className="primary send" disabled={!body.trim()} aria-label="Send message">
        Send
      </button>
    </form>
  );
}
