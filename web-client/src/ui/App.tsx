import { useEffect, useMemo, useRef, useState } from 'react';
import { Auth, signOutMessage, type StoredSession } from '../api/auth';
import { createApi } from '../api/client';
import { browserTabSync } from '../api/tabsync';
import type { User } from '../api/types';
import { sameAccount } from '../logic/session';
import { AuthScreen } from './AuthScreen';
import { ChatApp } from './ChatApp';

export function App() {
  const auth = useMemo(() => new Auth(undefined, undefined, undefined, browserTabSync()), []);
  const api = useMemo(() => createApi(auth), [auth]);
  const [session, setSession] = useState<StoredSession | null>(auth.current);

  useEffect(() => auth.subscribe(setSession), [auth]);

  // A token refresh hands out a new session object, and a new display name a new user object: the chat must not
  // notice (a new `me` would build a new controller, and lose the view, the route and the draft). Only another
  // account is a new `me`; the chat follows its own name from the server (`state.me`).
  const me = useRef<User | null>(null);
  if (!session) me.current = null;
  else if (!me.current || !sameAccount(me.current, session.user)) me.current = session.user;

  // Keyed by user: logging in as someone else starts from a clean state.
  const userId = session?.user.id ?? null;
  if (!session || userId === null || !me.current) return <AuthScreen auth={auth} api={api} notice={signOutMessage(auth.signOutReason)} />;
  return <ChatApp key={userId} auth={auth} api={api} me={me.current} />;
}
