// Finding people for the dialogs: a debounced search (the server matches a part of the username or the display
// name and ranks the answers) that keeps the last answer's results and drops answers to queries typed over since.
import { useEffect, useState } from 'react';
import type { User } from '../../api/types';
import type { ChatController } from '../../state/controller';
import { describeError } from '../../state/errors';

/** Debounced search of users, in the server's order. */
export function useUserSearch(controller: ChatController, query: string): { results: User[]; busy: boolean; error: string | null } {
  const [results, setResults] = useState<User[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const q = query.trim();
    if (!q) {
      setResults([]);
      setError(null);
      return;
    }
    let live = true;
    setBusy(true);
    const t = setTimeout(() => {
      controller.searchUsers(q).then(
        (users) => live && (setResults(users), setError(null), setBusy(false)),
        (e) => live && (setError(describeError(e)), setBusy(false)),
      );
    }, 200);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [controller, query]);
  return { results, busy, error };
}
