// The caller's own profile (issue 15): a new display name over `PATCH /api/users/me`. The answer, like a `user`
// frame about me from another tab, renames me everywhere the state holds me; and whatever renamed me, the held
// session's copy follows, so a tab handed this session by this one starts from the new name. The session
// keeps its identity: App rebuilds the chat only for another user id, never for a new name.
import type { Auth } from '../api/auth';
import { ok, type Api } from '../api/client';
import { featureApi } from '../api/features';
import type { User } from '../api/types';
import type { ChatState, Store } from './store';
import { withUserUpdate } from './users';

export class Profile {
  constructor(private readonly deps: { store: Store<ChatState>; api: Api; auth: Auth }) {
    // The store lives and dies with its controller, and so does this subscription.
    deps.store.subscribe(() => this.keepSession(deps.store.get().me));
  }

  /** Saves a new display name (trimmed); throws the server's refusal (422 on `display_name`). */
  async rename(displayName: string): Promise<User> {
    const user = await ok(featureApi(this.deps.api).PATCH('/api/users/me', { body: { display_name: displayName.trim() } }));
    this.deps.store.update((s) => withUserUpdate(s, user));
    return user;
  }

  private keepSession(me: User): void {
    const session = this.deps.auth.current;
    if (!session || session.user.id !== me.id || session.user.display_name === me.display_name) return;
    this.deps.auth.updateUser({ ...session.user, display_name: me.display_name, username: me.username });
  }
}
