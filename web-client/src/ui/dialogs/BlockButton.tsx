// Block or unblock one person, from a direct chat's header or a group's member list, behind a confirmation.
import { useState } from 'react';
import type { User } from '../../api/types';
import type { ChatController } from '../../state/controller';
import { ConfirmDialog } from './ConfirmDialog';

/** "Block …" or "Unblock …" for one person, each behind a confirmation that says what it does. */
export function BlockButton({ controller, user, blocked, className }: { controller: ChatController; user: User; blocked: boolean; className?: string }) {
  const [asking, setAsking] = useState(false);
  const name = user.display_name;
  return (
    <>
      <button type="button" className={className} onClick={() => setAsking(true)} aria-haspopup="dialog" aria-label={`${blocked ? 'Unblock' : 'Block'} ${name}`}>
        {blocked ? 'Unblock' : 'Block'}
      </button>
      {asking &&
        (blocked ? (
          <ConfirmDialog title={`Unblock ${name}?`} confirmLabel="Unblock" onConfirm={() => controller.unblock(user.id)} onClose={() => setAsking(false)}>
            <p>
              {name} will be able to start a chat with you, add you to groups and add you as a contact again.
            </p>
          </ConfirmDialog>
        ) : (
          <ConfirmDialog title={`Block ${name}?`} confirmLabel="Block" danger onConfirm={() => controller.block(user)} onClose={() => setAsking(false)}>
            <p>
              Neither of you will be able to start a chat with the other, or add the other to a group or as a contact. Groups you share
              stay. {name} is not told.
            </p>
          </ConfirmDialog>
        ))}
    </>
  );
}
