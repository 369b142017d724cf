// What the user is told when a request fails: the server's own message, "cannot be reached" for a network failure,
// and a block's refusals in words that fit what the user tried (a send's unavailable attachment too).
import { ApiError } from '../api/auth';
import { attachmentRefusalMessage } from '../logic/attachments';
import { blockRefusalMessage, type BlockableAction } from '../logic/blocks';

export function describeError(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof TypeError) return 'The server cannot be reached.';
  return e instanceof Error ? e.message : String(e);
}

/** Like describeError, with refusals that a block explains put in words fitting what the user tried. */
export function describeActionError(e: unknown, action: BlockableAction): string {
  if (e instanceof ApiError) return blockRefusalMessage(e.status, e.code, action) ?? (action === 'send' ? attachmentRefusalMessage(e.code) : null) ?? e.message;
  return describeError(e);
}
