// One WebSocket per session that keeps itself connected: exponential backoff with full jitter between
// attempts, the close codes of PROTOCOL.md honoured, a token refresh when the server says the token expired.
import { Backoff, closeAction } from '../logic/backoff';
import { parseServerFrame, type ClientFrame, type ServerFrame } from './frames';

export type SocketStatus =
  | { state: 'connecting'; attempt: number }
  | { state: 'open' }
  | { state: 'waiting'; retryAt: number; attempt: number; lastCode: number }
  | { state: 'stopped' };

/** The part of the browser WebSocket this class uses (a fake one in unit tests). */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface SocketOptions {
  /** The socket URL for an access token. */
  url: (token: string) => string;
  /** A valid access token (refreshed by the caller when it is about to expire). */
  getToken: () => Promise<string>;
  /** Spend the refresh token for a new access token (after close code 4001 or repeated failures). */
  refreshToken: () => Promise<string>;
  onFrame: (frame: ServerFrame) => void;
  onStatus?: (status: SocketStatus) => void;
  /** Called on every successful (re)connect: the moment to resend pending messages and catch up. */
  onOpen?: (reconnect: boolean) => void;
  createSocket?: (url: string) => WebSocketLike;
  backoff?: Backoff;
  /** A socket that stayed open this long before closing counts as healthy: the next retry starts from attempt 0. */
  stableAfterMs?: number;
  /** After this many attempts in a row that never opened, refresh the token once per streak (a 401 at upgrade looks like 1006). */
  refreshAfterFailures?: number;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

const OPEN = 1;

export class ReconnectingSocket {
  private ws: WebSocketLike | null = null;
  private timer: unknown = null;
  private stopped = true;
  private everOpened = false;
  private openedAt = 0;
  private failuresInRow = 0;
  private status: SocketStatus = { state: 'stopped' };
  private readonly backoff: Backoff;
  private readonly opts: Required<Pick<SocketOptions, 'stableAfterMs' | 'refreshAfterFailures' | 'now' | 'setTimer' | 'clearTimer' | 'createSocket'>> & SocketOptions;

  constructor(opts: SocketOptions) {
    this.backoff = opts.backoff ?? new Backoff();
    this.opts = {
      stableAfterMs: 5_000,
      refreshAfterFailures: 3,
      now: () => Date.now(),
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
      createSocket: (url) => new WebSocket(url) as unknown as WebSocketLike,
      ...opts,
    };
  }

  get current(): SocketStatus {
    return this.status;
  }

  get isOpen(): boolean {
    return this.status.state === 'open' && this.ws?.readyState === OPEN;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearRetry();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      detach(ws);
      try {
        ws.close(1000, 'bye');
      } catch {
        /* already closed */
      }
    }
    this.setStatus({ state: 'stopped' });
  }

  /** Sends a frame if the socket is open; false otherwise (the caller keeps it for later). */
  send(frame: ClientFrame): boolean {
    if (!this.isOpen || !this.ws) return false;
    try {
      this.ws.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  /** Skip the wait: try now (the user pressed "retry", the browser came back online, the tab became visible). */
  reconnectNow(): void {
    if (this.stopped || this.status.state !== 'waiting') return;
    this.clearRetry();
    void this.connect();
  }

  private setStatus(status: SocketStatus): void {
    this.status = status;
    this.opts.onStatus?.(status);
  }

  private clearRetry(): void {
    if (this.timer !== null) {
      this.opts.clearTimer(this.timer);
      this.timer = null;
    }
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.setStatus({ state: 'connecting', attempt: this.backoff.attempt });
    let token: string;
    try {
      if (this.failuresInRow === this.opts.refreshAfterFailures) {
        token = await this.opts.refreshToken();
      } else {
        token = await this.opts.getToken();
      }
    } catch {
      if (!this.stopped) this.scheduleRetry(1006, 0);
      return;
    }
    if (this.stopped) return;
    let ws: WebSocketLike;
    try {
      ws = this.opts.createSocket(this.opts.url(token));
    } catch {
      this.scheduleRetry(1006, 0);
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      opened = true;
      this.openedAt = this.opts.now();
      this.failuresInRow = 0;
      const reconnect = this.everOpened;
      this.everOpened = true;
      this.setStatus({ state: 'open' });
      this.opts.onOpen?.(reconnect);
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      const frame = parseServerFrame(ev.data);
      if (frame) this.opts.onFrame(frame);
    };
    ws.onerror = () => {
      /* a close event follows */
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      detach(ws);
      this.ws = null;
      if (this.stopped) return;
      if (!opened) this.failuresInRow += 1;
      else if (this.opts.now() - this.openedAt >= this.opts.stableAfterMs) this.backoff.reset();
      this.handleClose(ev.code);
    };
  }

  private handleClose(code: number): void {
    const action = closeAction(code);
    if (action.kind === 'refresh') {
      this.setStatus({ state: 'connecting', attempt: this.backoff.attempt });
      this.opts.refreshToken().then(
        () => {
          if (!this.stopped) void this.connect();
        },
        () => {
          if (!this.stopped) this.scheduleRetry(code, 0);
        },
      );
      return;
    }
    if (action.resetAttempts) this.backoff.reset();
    this.scheduleRetry(code, action.minDelayMs);
  }

  private scheduleRetry(code: number, minDelayMs: number): void {
    this.clearRetry();
    const attempt = this.backoff.attempt;
    const delay = this.backoff.next(minDelayMs);
    this.setStatus({ state: 'waiting', retryAt: this.opts.now() + delay, attempt: attempt + 1, lastCode: code });
    this.timer = this.opts.setTimer(() => {
      this.timer = null;
      void this.connect();
    }, delay);
  }
}

function detach(ws: WebSocketLike): void {
  ws.onopen = null;
  ws.onclose = null;
  ws.onmessage = null;
  ws.onerror = null;
}

/** ws(s)://host/ws?token=… for the page's own origin. */
export function socketUrl(token: string, loc: { protocol: string; host: string } = window.location): string {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}/ws?token=${encodeURIComponent(token)}`;
}
