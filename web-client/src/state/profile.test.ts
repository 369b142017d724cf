import { describe, expect, it, vi } from 'vitest';
import { Auth } from '../api/auth';
import type { Api } from '../api/client';
import { conv } from '../logic/fixtures';
import type { ServerFrame } from '../realtime/frames';
import { Profile } from './profile';
import { applyFrame } from './reducer';
import { initialState, Store, type ChatState } from './store';

const alice = { id: 1, username: 'alice', display_name: 'Alice' };
const signedIn = async () => {
  const auth = new Auth(vi.fn(async () => new Response(JSON.stringify({ user: { ...alice }, session_id: 1, access_token: 'a1', expires_in: 900 }))) as unknown as typeof fetch);
  await auth.login('alice', 'pw');
  return auth;
};
const chat = () => {
  const store = new Store<ChatState>(initialState(alice, []));
  store.update((s) => ({ ...s, conversations: { 1: conv() } }));
  return store;
};

describe('Profile', () => {
  it('PATCHes the trimmed name, then renames me in the state and in the stored session', async () => {
    const store = chat();
    const auth = await signedIn();
    const PATCH = vi.fn(() => Promise.resolve({ data: { ...alice, display_name: 'Alice Liddell' }, response: new Response(null, { status: 200 }) }));
    const user = await new Profile({ store, api: { PATCH } as unknown as Api, auth }).rename('  Alice Liddell ');
    expect(PATCH).toHaveBeenCalledWith('/api/users/me', { body: { display_name: 'Alice Liddell' } });
    expect(user.display_name).toBe('Alice Liddell');
    expect(store.get().me.display_name).toBe('Alice Liddell');
    expect(store.get().conversations[1].members[0].user.display_name).toBe('Alice Liddell');
    expect(auth.current?.user).toEqual({ ...alice, display_name: 'Alice Liddell' });
    expect(auth.current?.access_token).toBe('a1');
  });

  it("throws the server's 422 with its field, and changes nothing", async () => {
    const store = chat();
    const auth = await signedIn();
    const PATCH = () => Promise.resolve({ error: { error: { code: 'validation_failed', message: 'no control characters', field: 'display_name' } }, response: new Response(null, { status: 422 }) });
    await expect(new Profile({ store, api: { PATCH } as unknown as Api, auth }).rename('Al\u0007')).rejects.toMatchObject({ status: 422, field: 'display_name' });
    expect(store.get().me).toBe(alice);
    expect(auth.current?.user.display_name).toBe('Alice');
  });

  it('a user frame about me from another tab renames the stored session too; one about someone else does not', async () => {
    const store = chat();
    const auth = await signedIn();
    new Profile({ store, api: {} as Api, auth });
    store.update((s) => applyFrame(s, { type: 'user', user: { id: 2, username: 'bob', display_name: 'Robert' } } as ServerFrame, 0));
    expect(auth.current?.user.display_name).toBe('Alice');
    store.update((s) => applyFrame(s, { type: 'user', user: { ...alice, display_name: 'Al' } } as ServerFrame, 0));
    expect(auth.current?.user.display_name).toBe('Al');
  });
});
