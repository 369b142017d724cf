import { useSyncExternalStore } from 'react';
import type { ChatController } from '../state/controller';
import type { ChatState } from '../state/store';

export function useChatState(controller: ChatController): ChatState {
  return useSyncExternalStore(controller.store.subscribe, controller.store.get);
}
