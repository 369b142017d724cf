// The tab's one socket and what keeps it usable: a single-use ticket before every connect, each refreshed access
// token handed to the open socket ({"type":"auth"}) so the server need not close it with 4001, and the token kept
// fresh before it expires. Frames, status changes and (re)opens go to the controller.
import type { Auth } from '../api/auth';
import { ok, type Api } from '../api/client';
import type { ClientFrame, ServerFrame } from '../realtime/frames';
import { ReconnectingSocket, socketUrl, type SocketStatus } from '../realtime/socket';

export interface ConnectionEvents {
  onFrame: (frame: ServerFrame) => void;
  onStatus: (status: SocketStatus) => void;
  /** Every successful (re)connect: the moment to resend pending messages and catch up. */
  onOpen: (reconnect: boolean) => void;
}

export class Connection {
  private readonly socket: ReconnectingSocket;
  private readonly cleanups: Array<() => void> = [];

  constructor(
    api: Api,
    private readonly auth: Auth,
    events: ConnectionEvents,
  ) {
    this.socket = new ReconnectingSocket({
      url: (ticket) => socketUrl(ticket),
      getTicket: async () => (await ok(api.POST('/api/ws-ticket'))).ticket,
      refreshToken: () => auth.refresh(),
      ...events,
    });
  }

  start(): void {
    this.socket.start();
    let token = this.auth.current?.access_token;
    this.cleanups.push(
      this.auth.subscribe((session) => {
        if (session && session.access_token !== token) {
          token = session.access_token;
          this.send({ type: 'auth', token });
        }
      }),
    );
    this.cleanups.push(this.auth.keepFresh());
  }

  stop(): void {
    this.socket.stop();
    for (const c of this.cleanups.splice(0)) c();
  }

  /** Sends a frame if the socket is open; false otherwise (the caller falls back to REST or tries later). */
  send(frame: ClientFrame): boolean {
    return this.socket.send(frame);
  }

  /** Skips the wait before the next attempt (see ReconnectingSocket.reconnectNow for when it does not). */
  reconnectNow(): void {
    this.socket.reconnectNow();
  }
}
