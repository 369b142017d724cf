// One WebSocket per session that keeps itself connected: a fresh single-use ticket before every attempt (no
// long-lived token in a URL), exponential backoff with full jitter between attempts, the server's refusals of a
// ticket (too many sockets, too many upgrades) honoured, the close codes of PROTOCOL.md honoured, and a token
// refresh when the server says the token expired or its session ended.
import { ApiError } from '../api/auth';
import { Backoff, closeAction, ticketAction, type TicketRefusal, type WaitReason } from '../logic/backoff';
import { parseServerFrame, type ClientFrame, type ServerFrame } from './frames';

export type SocketStatus =
  | { state: 'connecting'; attempt: number }
  | { state: 'open' }
  /** `reason` says why the wait is longer than a dropped connection's: the user is told, and "retry now" may be pointless. */
  | { state: 'waiting'; retryAt: number; attempt: number; lastCode: number | null; reason: WaitReason | 'dropped' }
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
  /** The socket URL for a ticket. */
  url: (ticket: string) => string;
  /** A fresh single-use ticket (`POST /api/ws-ticket`); rejects with the server's ApiError, or a network error. */
  getTicket: () => Promise<string>;
  /** Spend the refresh token for a new access token (after close code 4001). */
  refreshToken: () => Promise<string>;
  onFrame: (frame: ServerFrame) => void;
  onStatus?: (status: SocketStatus) => void;
  /** Called on every successful (re)connect: the moment to resend pending messages and catch up. */
  onOpen?: (reconnect: boolean) => void;
  createSocket?: (url: string) => WebSocketLike;
  backoff?: Backoff;
  /** A socket that stayed open this long before closing counts as healthy: the next retry starts from attempt 0. */
  stableAfterMs?: number;
  now?: () => number;
  random?: () => number;
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
  private status: SocketStatus = { state: 'stopped' };
  private readonly backoff: Backoff;
  private readonly opts: Required<Pick<SocketOptions, 'stableAfterMs' | 'now' | 'random' | 'setTimer' | 'clearTimer' | 'createSocket'>> & SocketOptions;

  constructor(opts: SocketOptions) {
    this.backoff = opts.backoff ?? new Backoff();
    this.opts = {
      stableAfterMs: 5_000,
      now: () => Date.now(),
      random: Math.random,
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

  /**
   * Skip the wait: try now (the user pressed "retry", the browser came back online, the tab became visible).
   * Not while rate limited: the server would refuse again, and each refusal counts against the limit.
   */
  reconnectNow(): void {
    if (this.stopped || this.status.state !== 'waiting' || this.status.reason === 'rate_limited') return;
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
    let ticket: string;
    try {
      ticket = await this.opts.getTicket();
    } catch (e) {
      if (this.stopped) return;
      const action = ticketAction(refusalOf(e), this.opts.random);
      if (action.kind === 'wait') this.scheduleRetry(null, action.delayMs, action.reason);
      else this.scheduleRetry(null, action.minDelayMs);
      return;
    }
    if (this.stopped) return;
    let ws: WebSocketLike;
    try {
      ws = this.opts.createSocket(this.opts.url(ticket));
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
      if (opened && this.opts.now() - this.openedAt >= this.opts.stableAfterMs) this.backoff.reset();
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

  private scheduleRetry(code: number | null, minDelayMs: number, reason: WaitReason | 'dropped' = 'dropped'): void {
    this.clearRetry();
    const attempt = this.backoff.attempt;
    const delay = this.backoff.next(minDelayMs);
    this.setStatus({ state: 'waiting', retryAt: this.opts.now() + delay, attempt: attempt + 1, lastCode: code, reason });
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

function refusalOf(e: unknown): TicketRefusal | null {
  return e instanceof ApiError ? { status: e.status, code: e.code, retryAfterMs: e.retryAfterMs } : null;
}

/** ws(s)://host/ws?ticket=… for the page's own origin. */
export function socketUrl(ticket: string, loc: { protocol: string; host: string } = window.location): string {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}/ws?ticket=${encodeURIComponent(ticket)}`;
}
