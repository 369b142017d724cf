// The account's own settings over REST: its sessions (listed, ended), the password, and the block list.
// Blocking changes what the server shows of the other person, so the conversation and contact lists are read
// again after a block or an unblock.
import { ApiError } from '../api/auth';
import { ok, type Api } from '../api/client';
import type { SessionInfo, User } from '../api/types';
import { passwordChangeRequest, type PasswordForm } from '../logic/account';
import { withBlocked, withoutBlocked } from '../logic/blocks';
import type { ChatState, Store } from './store';

export interface AccountDeps {
  store: Store<ChatState>;
  api: Api;
  notice: (e: unknown) => void;
  /** Reads the conversation list and the contacts again. */
  reloadLists: () => void;
}

export class Account {
  constructor(private readonly deps: AccountDeps) {}

  async listSessions(): Promise<SessionInfo[]> {
    return (await ok(this.deps.api.GET('/api/auth/sessions'))).sessions;
  }

  /** Ends another session of the account; one that has ended already (404) is what was asked. */
  async endSession(id: number): Promise<void> {
    try {
      await ok(this.deps.api.DELETE('/api/auth/sessions/{id}', { params: { path: { id } } }));
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) throw e;
    }
  }

  /** Ends each of these sessions, one request each (there is no bulk route that spares this one). */
  async endSessions(sessions: readonly SessionInfo[]): Promise<void> {
    for (const s of sessions) if (!s.current) await this.endSession(s.id);
  }

  /** Changes the password; the server ends every other session of the account, this one goes on. */
  async changePassword(form: PasswordForm): Promise<void> {
    await ok(this.deps.api.POST('/api/users/me/password', { body: passwordChangeRequest(form) }));
  }

  async loadBlocks(): Promise<void> {
    try {
      const { blocked } = await ok(this.deps.api.GET('/api/users/me/blocks'));
      this.deps.store.update((s) => ({ ...s, blocked, blocksLoaded: true }));
    } catch (e) {
      if (!(e instanceof TypeError)) this.deps.notice(e);
    }
  }

  async block(user: User): Promise<void> {
    await ok(this.deps.api.PUT('/api/users/me/blocks/{user_id}', { params: { path: { user_id: user.id } } }));
    this.deps.store.update((s) => {
      // The server stops telling either side about the other's presence: what we knew goes stale at once.
      const presence = { ...s.presence };
      delete presence[user.id];
      return { ...s, blocked: withBlocked(s.blocked, user), presence };
    });
    this.deps.reloadLists();
  }

  async unblock(userId: number): Promise<void> {
    await ok(this.deps.api.DELETE('/api/users/me/blocks/{user_id}', { params: { path: { user_id: userId } } }));
    this.deps.store.update((s) => ({ ...s, blocked: withoutBlocked(s.blocked, userId) }));
    // Presence is shared again: the lists say it.
    this.deps.reloadLists();
  }
}
