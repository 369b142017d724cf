import { useCallback, useEffect, useMemo, useState } from 'react';
import type { Auth } from '../api/auth';
import type { Api } from '../api/client';
import type { User } from '../api/types';
import { ChatController } from '../state/controller';
import { ChatView } from './ChatView';
import { ConnectionStatus } from './ConnectionStatus';
import { ConversationList } from './ConversationList';
import { SettingsView } from './SettingsView';
import { NewChatDialog } from './dialogs/NewChatDialog';
import { NewGroupDialog } from './dialogs/NewGroupDialog';
import { ProfileDialog } from './dialogs/ProfileDialog';
import { SearchDialog } from './dialogs/SearchDialog';
import { SwitcherDialog } from './dialogs/SwitcherDialog';
import { useTheme } from './useTheme';
import { useChatState } from './hooks';
import { Avatar } from './Avatar';
import { Icon } from './Icon';

function idFromPath(path: string): number | null {
  const m = /^\/c\/(\d+)\/?$/.exec(path);
  return m ? Number(m[1]) : null;
}

const SETTINGS_PATH = '/settings';
const isSettingsPath = (path: string) => path.replace(/\/$/, '') === SETTINGS_PATH;

export function ChatApp({ auth, api, me }: { auth: Auth; api: Api; me: User }) {
  const controller = useMemo(() => new ChatController(api, auth, me), [api, auth, me]);
  const state = useChatState(controller);
  const [dialog, setDialog] = useState<'chat' | 'group' | 'search' | 'switch' | 'profile' | null>(null);
  const { theme, toggle: toggleTheme } = useTheme();
  const [settings, setSettings] = useState(() => isSettingsPath(location.pathname));
  const [permission, setPermission] = useState<NotificationPermission | 'unsupported'>(typeof Notification === 'undefined' ? 'unsupported' : Notification.permission);

  const navigate = useCallback(
    (id: number | null, replace = false) => {
      const path = id === null ? '/' : `/c/${id}`;
      if (location.pathname !== path) history[replace ? 'replaceState' : 'pushState'](null, '', path);
      setSettings(false);
      void controller.open(id);
    },
    [controller],
  );

  const openSettings = useCallback(() => {
    if (!isSettingsPath(location.pathname)) history.pushState(null, '', SETTINGS_PATH);
    setSettings(true);
    void controller.open(null);
  }, [controller]);

  useEffect(() => {
    controller.start();
    controller.onNavigate = (id) => navigate(id);
    void controller.open(idFromPath(location.pathname));
    const onPop = () => {
      setSettings(isSettingsPath(location.pathname));
      void controller.open(idFromPath(location.pathname));
    };
    window.addEventListener('popstate', onPop);
    return () => {
      window.removeEventListener('popstate', onPop);
      controller.stop();
    };
  }, [controller, navigate]);

  // Ctrl/Cmd+Shift+F: message search; Ctrl/Cmd+K: jump to a conversation.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.shiftKey && e.key.toLowerCase() === 'f') {
        e.preventDefault();
        setDialog('search');
      } else if ((e.ctrlKey || e.metaKey) && !e.shiftKey && !e.altKey && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        setDialog('switch');
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  // A conversation we were removed from (or that does not exist) falls back to the lobby. The controller's own
  // state decides, not this render's: on the first render the route's conversation is being opened already,
  // and the render's null would turn a reload of /c/4 into /.
  useEffect(() => {
    if (controller.state.selectedId === null && idFromPath(location.pathname) !== null) history.replaceState(null, '', '/');
  }, [state.selectedId, controller]);

  async function askPermission() {
    if (typeof Notification === 'undefined') return;
    setPermission(await Notification.requestPermission());
  }

  const selected = state.selectedId;
  return (
    <div className="layout" data-pane={selected === null && !settings ? 'lobby' : 'chat'}>
      <h1 className="sr-only">Chat</h1>
      <aside className="sidebar" aria-label="Conversations">
        <header className="sidebar-head">
          {/* Its visible text is its name (label in name); what it does is said after it. */}
          <button type="button" className="me ghost" onClick={() => setDialog('profile')} aria-haspopup="dialog" title="Edit your profile" data-testid="me-button">
            <Avatar name={state.me.display_name} id={state.me.id} size={36} />
            <span className="me-text">
              <strong data-testid="me-name">{state.me.display_name}</strong>
              <span className="muted">@{state.me.username}</span>
              <span className="sr-only">Edit your profile</span>
            </span>
          </button>
          <button type="button" className="ghost icon settings-button" onClick={() => setDialog('search')} aria-label="Search messages" title="Search messages (Ctrl+Shift+F)" aria-haspopup="dialog">
            <Icon name="search" />
          </button>
          <button
            type="button"
            className="ghost icon settings-button"
            onClick={toggleTheme}
            aria-label="Dark theme"
            aria-pressed={theme === 'dark'}
            title={theme === 'dark' ? 'Switch to the light theme' : 'Switch to the dark theme'}
            data-testid="theme-toggle"
          >
            <Icon name={theme === 'dark' ? 'sun' : 'moon'} />
          </button>
          <button
            type="button"
            className={`ghost icon settings-button${settings ? ' active' : ''}`}
            onClick={openSettings}
            aria-label="Settings"
            aria-current={settings ? 'page' : undefined}
            title="Settings"
          >
            <Icon name="gear" />
          </button>
        </header>
        <ConnectionStatus status={state.connection} onRetry={() => controller.reconnectNow()} />
        {permission === 'default' && (
          <div className="banner">
            <Icon name="bell" />
            <span className="banner-text">Desktop notifications are off.</span>
            <button type="button" className="link" onClick={() => void askPermission()}>
              Enable notifications
            </button>
          </div>
        )}
        <div className="sidebar-actions">
          <button type="button" className="primary" onClick={() => setDialog('chat')}>
            New chat
          </button>
          <button type="button" onClick={() => setDialog('group')}>
            New group
          </button>
        </div>
        <ConversationList state={state} onOpen={(id) => navigate(id)} />
      </aside>
      <main className="main" aria-label="Chat">
        {settings ? (
          <SettingsView controller={controller} state={state} onBack={() => navigate(null)} />
        ) : selected !== null ? (
          <ChatView key={selected} controller={controller} state={state} id={selected} onBack={() => navigate(null)} />
        ) : (
          <div className="empty-main">
            <div>
              <h2>Welcome, {state.me.display_name}</h2>
              <p className="muted">Pick a conversation, or start a new one.</p>
            </div>
          </div>
        )}
        {state.notice && (
          <div className="toast" role="alert">
            <span>{state.notice}</span>
            <button type="button" className="link" onClick={() => controller.dismissNotice()} aria-label="Dismiss">
              ✕
            </button>
          </div>
        )}
      </main>
      {dialog === 'chat' && <NewChatDialog controller={controller} state={state} onClose={() => setDialog(null)} onOpen={(id) => (setDialog(null), navigate(id))} />}
      {dialog === 'search' && (
        <SearchDialog
          controller={controller}
          state={state}
          onClose={() => setDialog(null)}
          onOpen={(id, seq) => {
            setDialog(null);
            const path = `/c/${id}`;
            if (location.pathname !== path) history.pushState(null, '', path);
            setSettings(false);
            void controller.jumpTo(id, seq);
          }}
        />
      )}
      {dialog === 'switch' && <SwitcherDialog state={state} onClose={() => setDialog(null)} onOpen={(id) => (setDialog(null), navigate(id))} />}
      {dialog === 'profile' && <ProfileDialog controller={controller} me={state.me} onClose={() => setDialog(null)} />}
      {dialog === 'group' && <NewGroupDialog controller={controller} state={state} onClose={() => setDialog(null)} onOpen={(id) => (setDialog(null), navigate(id))} />}
    </div>
  );
}
