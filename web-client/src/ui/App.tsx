import { useEffect, useMemo, useState } from 'react';
import { Auth, signOutMessage, type StoredSession } from '../api/auth';
import { createApi } from '../api/client';
import { AuthScreen } from './AuthScreen';
import { ChatApp } from './ChatApp';

export function App() {
  const auth = useMemo(() => new Auth(), []);
  const api = useMemo(() => createApi(auth), [auth]);
  const [session, setSession] = useState<StoredSession | null>(auth.current);

  useEffect(() => auth.subscribe(setSession), [auth]);

  // Keyed by user: logging in as someone else starts from a clean state.
  const userId = session?.user.id ?? null;
  if (!session || userId === null) return <AuthScreen auth={auth} api={api} notice={signOutMessage(auth.signOutReason)} />;
  return <ChatApp key={userId} auth={auth} api={api} me={session.user} />;
}
