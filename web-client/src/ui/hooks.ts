import { useEffect, useState, useSyncExternalStore } from 'react';
import type { ChatController } from '../state/controller';
import type { ChatState } from '../state/store';

export function useChatState(controller: ChatController): ChatState {
  return useSyncExternalStore(controller.store.subscribe, controller.store.get);
}

/** The time now, renewed every `everyMs` while mounted (for words like "5 min ago" that age on screen). */
export function useClock(everyMs: number): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const t = setInterval(() => setNow(new Date()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}
