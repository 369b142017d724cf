// Read marking: the open conversation is marked read up to its newest message when the reader can see it (tab
// visible and focused) — at once in the state, then over the socket, or over REST while the socket is down.
import { ok, type Api } from '../api/client';
import { featureApi } from '../api/features';
import { lastSeq } from '../logic/messages';
import { withMentionCount, withReadUpTo } from '../logic/unread';
import type { ClientFrame } from '../realtime/frames';
import type { ChatState, Store } from './store';

export class Reading {
  constructor(
    private readonly store: Store<ChatState>,
    private readonly api: Api,
    private readonly send: (frame: ClientFrame) => boolean,
  ) {}

  /** Marks the open conversation read when the reader can actually see it (tab visible and focused). */
  markReadIfVisible(): void {
    const id = this.store.get().selectedId;
    if (id === null) return;
    if (document.visibilityState !== 'visible' || !document.hasFocus()) return;
    this.markRead(id);
  }

  markRead(id: number): void {
    const s = this.store.get();
    const c = s.conversations[id];
    const v = s.views[id];
    const upTo = Math.max(c?.last_seq ?? 0, v ? lastSeq(v.messages) : 0);
    if (!c || upTo <= c.last_read_seq) return;
    this.store.update((x) => ({ ...x, conversations: { ...x.conversations, [id]: withReadUpTo(c, upTo) } }));
    if (this.send({ type: 'read', conversation_id: id, up_to_seq: upTo })) return;
    void ok(featureApi(this.api).POST('/api/conversations/{id}/read', { params: { path: { id } }, body: { up_to_seq: upTo } })).then(
      (r) =>
        this.store.update((x) => {
          const cur = x.conversations[id];
          if (!cur) return x;
          return { ...x, conversations: { ...x.conversations, [id]: withMentionCount(withReadUpTo(cur, r.last_read_seq), r.mention_count) } };
        }),
      () => {
        /* the next open or focus tries again */
      },
    );
  }
}
