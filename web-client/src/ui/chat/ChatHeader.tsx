// A conversation's header: back to the list, who it is with (online, or when they were last seen, when the peer's
// presence is known — the words age on screen —, otherwise their username; a group's members), Block/Unblock
// for a direct chat's peer, and the group settings dialog for a group; the pinned messages and the caller's
// notification level (a muted bell when quieter than every message).
import { useState } from 'react';
import type { Conversation, User } from '../../api/types';
import { isMuted, levelSummary } from '../../logic/notifications';
import { clockTime } from '../../logic/days';
import { peerStatus } from '../../logic/lastSeen';
import type { ChatController } from '../../state/controller';
import type { ChatState } from '../../state/store';
import { Avatar } from '../Avatar';
import { useClock } from '../hooks';
import { Icon } from '../Icon';
import { BlockButton } from '../dialogs/BlockButton';
import { GroupSettingsDialog } from '../dialogs/GroupSettingsDialog';
import { NotificationsDialog } from '../dialogs/NotificationsDialog';
import { PinsDialog } from '../dialogs/PinsDialog';
import { peerOf } from '../people';

export function ChatHeader(props: {
  controller: ChatController;
  state: ChatState;
  c: Conversation;
  title: string;
  /** The other person of a direct chat. */
  peer: User | undefined;
  blockedPeer: boolean;
  online: boolean | undefined;
  onBack: () => void;
}) {
  const { controller, state, c, title, peer, blockedPeer, online, onBack } = props;
  const [settingsOpen, setSettingsOpen] = useState(false);
  const [open, setOpen] = useState<'pins' | 'notifications' | null>(null);
  const meId = state.me.id;
  const pinCount = state.pins[c.id]?.length ?? 0;
  const muted = isMuted(c, Date.now());
  const now = useClock(30_000);
  return (
    <>
      <header className="chat-head">
        <button type="button" className="ghost back" onClick={onBack} aria-label="Back to conversations">
          ←
        </button>
        <Avatar name={title} id={peer?.id ?? c.id} online={online} size={38} group={c.kind === 'group'} />
        <div className="chat-head-text">
          <h2 className="chat-title" data-testid="chat-title">
            {title}
          </h2>
          <span className="muted small-text" data-testid="chat-subtitle">
            {subtitle(c, online, peer ? state.lastSeen[peer.id] : undefined, meId, now)}
          </span>
        </div>
        <div className="head-tools">
          <button
            type="button"
            className="ghost icon head-tool"
            onClick={() => setOpen('pins')}
            aria-haspopup="dialog"
            aria-label={pinCount ? `Pinned messages (${pinCount})` : 'Pinned messages'}
            title="Pinned messages"
          >
            <Icon name="pin" />
            {pinCount > 0 && <span className="tool-count">{pinCount}</span>}
          </button>
          <button
            type="button"
            className={`ghost icon head-tool${muted ? ' muted-on' : ''}`}
            onClick={() => setOpen('notifications')}
            aria-haspopup="dialog"
            aria-label={`Notifications: ${levelSummary(c.notifications, Date.now(), clockTime)}`}
            title={`Notifications: ${levelSummary(c.notifications, Date.now(), clockTime)}`}
            data-testid="notifications-button"
          >
            <Icon name={muted ? 'bellOff' : 'bell'} />
          </button>
        </div>
        {c.kind === 'group' && (
          <button type="button" className="small head-action group-settings-button" onClick={() => setSettingsOpen(true)} aria-haspopup="dialog" aria-label="Group settings" title="Group settings">
            <Icon name="gear" />
            <span className="head-action-text">Group settings</span>
          </button>
        )}
        {peer && (
          <span className="head-action">
            <BlockButton controller={controller} user={peer} blocked={blockedPeer} className="small ghost" />
          </span>
        )}
      </header>
      {settingsOpen && c.kind === 'group' && <GroupSettingsDialog controller={controller} state={state} id={c.id} onClose={() => setSettingsOpen(false)} />}
      {open === 'pins' && (
        <PinsDialog
          controller={controller}
          state={state}
          id={c.id}
          onClose={() => setOpen(null)}
          onJump={(seq) => {
            setOpen(null);
            void controller.jumpTo(c.id, seq);
          }}
        />
      )}
      {open === 'notifications' && <NotificationsDialog controller={controller} state={state} id={c.id} onClose={() => setOpen(null)} />}
    </>
  );
}

function subtitle(c: Conversation, online: boolean | undefined, lastSeenAt: string | undefined, meId: number, now: Date): string {
  if (c.kind === 'group') {
    const n = c.members.length;
    const names = c.members.filter((m) => m.user.id !== meId).map((m) => m.user.display_name);
    return `${n} members · ${['You', ...names].join(', ')}`;
  }
  return peerStatus(online, lastSeenAt, now) ?? peerUsername(c, meId);
}

function peerUsername(c: Conversation, meId: number): string {
  const peer = peerOf(c, meId);
  return peer ? `@${peer.username}` : '';
}
