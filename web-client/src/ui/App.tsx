import { useEffect, useMemo, useRef, useState } from 'react';
import { Auth, signOutMessage, type HeldSession } from '../api/auth';
import { createApi } from '../api/client';
import { browserTabSync } from '../api/tabsync';
import type { User } from '../api/types';
import { forgetDrafts } from '../logic/drafts';
import { sameAccount } from '../logic/session';
import { AuthScreen, SigningIn } from './AuthScreen';
import { ChatApp } from './ChatApp';

export function App() {
  const auth = useMemo(() => new Auth(undefined, undefined, browserTabSync()), []);
  const api = useMemo(() => createApi(auth), [auth]);
  const [session, setSession] = useState<HeldSession | null>(auth.current);
  const [restoring, setRestoring] = useState(true);

  // The session is in the browser's cookie, not in the page: a reload or a new tab fetches its access token.
  useEffect(() => {
    const off = auth.subscribe(setSession);
    void auth.restore().then(() => setRestoring(false));
    return off;
  }, [auth]);

  // A token refresh hands out a new session object, and a new display name a new user object: the chat must not
  // notice (a new `me` would build a new controller, and lose the view, the route and the draft). Only another
  // account is a new `me`; the chat follows its own name from the server (`state.me`).
  const me = useRef<User | null>(null);
  if (!session) me.current = null;
  else if (!me.current || !sameAccount(me.current, session.user)) me.current = session.user;

  // Keyed by user: logging in as someone else starts from a clean state.
  const userId = session?.user.id ?? null;

  // Signing out (here, or everywhere from here) forgets the drafts kept for reloads: the next person at this
  // browser finds nothing of them. A session ended elsewhere keeps them for when the same user signs back in.
  const signedIn = useRef<number | null>(null);
  useEffect(() => {
    const reason = auth.signOutReason;
    if (userId === null && signedIn.current !== null && (reason === 'logged_out' || reason === 'logged_out_everywhere')) {
      forgetDrafts(signedIn.current);
    }
    signedIn.current = userId;
  }, [userId, auth]);
  if (!session && restoring) return <SigningIn />;
  if (!session || userId === null || !me.current) return <AuthScreen auth={auth} notice={signOutMessage(auth.signOutReason)} />;
  return <ChatApp key={userId} auth={auth} api={api} me={me.current} />;
}
