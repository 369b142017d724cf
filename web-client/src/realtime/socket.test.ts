import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/auth';
import { Backoff } from '../logic/backoff';
import { ReconnectingSocket, socketUrl, type SocketStatus, type WebSocketLike } from './socket';

class FakeSocket implements WebSocketLike {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  closedWith: number | null = null;
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(data);
  }
  close(code = 1000) {
    this.closedWith = code;
    this.readyState = 3;
  }
  // test controls
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  drop(code: number) {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
  receive(data: unknown) {
    this.onmessage?.({ data: typeof data === 'string' ? data : JSON.stringify(data) });
  }
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};
const last = () => FakeSocket.all[FakeSocket.all.length - 1];

function setup(random = () => 0.5) {
  const statuses: SocketStatus[] = [];
  const frames: unknown[] = [];
  const opens: boolean[] = [];
  let issued = 0;
  // What the next ticket request answers: a ticket by default; a test may queue refusals.
  const refusals: unknown[] = [];
  const getTicket = vi.fn(async () => {
    const refusal = refusals.shift();
    if (refusal) throw refusal;
    issued += 1;
    return `tkt${issued}`;
  });
  const refresh = vi.fn(async () => 'fresh-access-token');
  const socket = new ReconnectingSocket({
    url: (t) => `ws://test/ws?ticket=${t}`,
    getTicket,
    refreshToken: refresh,
    onFrame: (f) => frames.push(f),
    onStatus: (s) => statuses.push(s),
    onOpen: (re) => opens.push(re),
    createSocket: (url) => new FakeSocket(url),
    backoff: new Backoff({ baseMs: 1000, capMs: 8000 }, random),
    random,
  });
  return { socket, statuses, frames, opens, refresh, getTicket, refusals };
}

const tooManySockets = () => new ApiError(429, 'too_many_sockets', 'You have 16 sockets open here already; close one first.');
const rateLimited = (retryAfterMs: number) => new ApiError(429, 'rate_limited', 'Too many requests.', null, retryAfterMs);
const waitMs = (s: SocketStatus) => (s.state === 'waiting' ? s.retryAt - Date.now() : -1);

describe('ReconnectingSocket', () => {
  beforeEach(() => {
    FakeSocket.all = [];
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  it('connects with a ticket, reports open, parses frames and drops junk', async () => {
    const { socket, frames, opens } = setup();
    socket.start();
    await flush();
    expect(last().url).toBe('ws://test/ws?ticket=tkt1');
    last().open();
    expect(socket.current.state).toBe('open');
    expect(opens).toEqual([false]);
    last().receive({ type: 'presence', user_id: 3, online: true });
    last().receive('not json');
    last().receive({ type: 'no_such_frame' });
    expect(frames).toEqual([{ type: 'presence', user_id: 3, online: true }]);
    expect(socket.send({ type: 'typing', conversation_id: 1, is_typing: true })).toBe(true);
    expect(JSON.parse(last().sent[0])).toEqual({ type: 'typing', conversation_id: 1, is_typing: true });
  });

  it('refuses to send while not open, so the caller keeps the frame', async () => {
    const { socket } = setup();
    socket.start();
    await flush();
    expect(socket.send({ type: 'read', conversation_id: 1, up_to_seq: 2 })).toBe(false);
  });

  it('retries a dropped connection with growing, jittered delays and tells the caller it reconnected', async () => {
    const { socket, statuses, opens } = setup(() => 0.999);
    socket.start();
    await flush();
    last().open();
    last().drop(1006);
    const waits: number[] = [];
    for (let i = 0; i < 3; i++) {
      const w = socket.current;
      expect(w.state).toBe('waiting');
      if (w.state === 'waiting') waits.push(w.retryAt - Date.now());
      const before = FakeSocket.all.length;
      await vi.advanceTimersByTimeAsync(waits[i] - 1);
      expect(FakeSocket.all.length).toBe(before); // not early
      await vi.advanceTimersByTimeAsync(1);
      await flush();
      expect(FakeSocket.all.length).toBe(before + 1);
      last().drop(1006); // server still down
    }
    expect(waits).toEqual([999, 1998, 3996]);
    const w = socket.current;
    await vi.advanceTimersByTimeAsync(w.state === 'waiting' ? w.retryAt - Date.now() : 0);
    await flush();
    last().open();
    expect(opens).toEqual([false, true]);
    expect(statuses.some((s) => s.state === 'connecting')).toBe(true);
  });

  it('starts the backoff over after a connection that stayed up', async () => {
    const { socket } = setup(() => 0.999);
    socket.start();
    await flush();
    last().drop(1006);
    await vi.advanceTimersByTimeAsync(999);
    await flush();
    last().drop(1006);
    expect(socket.current.state === 'waiting' && socket.current.retryAt - Date.now()).toBe(1998);
    await vi.advanceTimersByTimeAsync(1998);
    await flush();
    last().open();
    await vi.advanceTimersByTimeAsync(60_000);
    last().drop(1006);
    expect(socket.current.state === 'waiting' && socket.current.retryAt - Date.now()).toBe(999);
  });

  it('reconnects right away (with jitter below the base) when the server goes away (1001)', async () => {
    const { socket } = setup(() => 0.999);
    socket.start();
    await flush();
    last().drop(1006);
    await vi.advanceTimersByTimeAsync(999);
    await flush();
    last().open();
    last().drop(1001);
    const s = socket.current;
    expect(s.state === 'waiting' && s.retryAt - Date.now()).toBe(999);
  });

  it('asks for a fresh ticket before every attempt (a ticket opens one socket, once)', async () => {
    const { socket, getTicket } = setup(() => 0);
    socket.start();
    await flush();
    last().drop(1006);
    await vi.advanceTimersByTimeAsync(0);
    await flush();
    expect(getTicket).toHaveBeenCalledTimes(2);
    expect(FakeSocket.all.map((s) => s.url)).toEqual(['ws://test/ws?ticket=tkt1', 'ws://test/ws?ticket=tkt2']);
  });

  it('refreshes the token on 4001, then reconnects with a new ticket', async () => {
    const { socket, refresh } = setup();
    socket.start();
    await flush();
    last().open();
    last().drop(4001);
    await flush();
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(last().url).toBe('ws://test/ws?ticket=tkt2');
  });

  it('after 4001 whose refresh is refused, does not reconnect at once (the session is over)', async () => {
    const { socket, refresh } = setup();
    refresh.mockRejectedValueOnce(new ApiError(401, 'invalid_refresh_token', 'Ended.'));
    socket.start();
    await flush();
    last().open();
    last().drop(4001);
    await flush();
    expect(FakeSocket.all.length).toBe(1);
    expect(socket.current.state).toBe('waiting');
  });

  it('when the account holds the most sockets, says so and waits 30 to 60 s without opening a socket', async () => {
    const { socket, refusals, getTicket } = setup(() => 0.5);
    refusals.push(tooManySockets());
    socket.start();
    await flush();
    const s = socket.current;
    expect(s.state === 'waiting' && s.reason).toBe('too_many_sockets');
    expect(waitMs(s)).toBe(45_000);
    expect(FakeSocket.all.length).toBe(0);
    await vi.advanceTimersByTimeAsync(44_999);
    expect(getTicket).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    await flush();
    expect(getTicket).toHaveBeenCalledTimes(2);
    expect(last().url).toBe('ws://test/ws?ticket=tkt1');
  });

  it('keeps polling slowly, never in a storm, while the socket cap stays full', async () => {
    const { socket, refusals, getTicket } = setup(() => 0);
    for (let i = 0; i < 20; i++) refusals.push(tooManySockets());
    socket.start();
    await flush();
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    await flush();
    // 30 s apart at the earliest: at most 11 requests in five minutes.
    expect(getTicket.mock.calls.length).toBeLessThanOrEqual(11);
    expect(socket.current.state === 'waiting' && socket.current.reason).toBe('too_many_sockets');
  });

  it('lets the user retry at once after closing a tab ("retry now" while the cap was full)', async () => {
    const { socket, refusals } = setup();
    refusals.push(tooManySockets());
    socket.start();
    await flush();
    socket.reconnectNow();
    await flush();
    expect(last().url).toBe('ws://test/ws?ticket=tkt1');
  });

  it('honours Retry-After when upgrades come too fast, and "retry now" does not jump it', async () => {
    const { socket, refusals, getTicket } = setup(() => 0);
    refusals.push(rateLimited(20_000));
    socket.start();
    await flush();
    const s = socket.current;
    expect(s.state === 'waiting' && s.reason).toBe('rate_limited');
    expect(waitMs(s)).toBe(20_000);
    socket.reconnectNow();
    await vi.advanceTimersByTimeAsync(19_999);
    expect(getTicket).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    await flush();
    expect(getTicket).toHaveBeenCalledTimes(2);
    expect(FakeSocket.all.length).toBe(1);
  });

  it('backs off as usual when the ticket request fails for lack of a network', async () => {
    const { socket, refusals } = setup(() => 0.999);
    refusals.push(new TypeError('Failed to fetch'));
    socket.start();
    await flush();
    const s = socket.current;
    expect(s.state === 'waiting' && s.reason).toBe('dropped');
    expect(waitMs(s)).toBe(999);
  });

  it('waits at least 5 s after 4029 flooding', async () => {
    const { socket } = setup(() => 0);
    socket.start();
    await flush();
    last().open();
    last().drop(4029);
    const s = socket.current;
    expect(s.state === 'waiting' && s.retryAt - Date.now()).toBe(5000);
  });

  it('reconnectNow skips the wait; stop closes and stays closed', async () => {
    const { socket } = setup(() => 0.9);
    socket.start();
    await flush();
    last().drop(1006);
    const n = FakeSocket.all.length;
    socket.reconnectNow();
    await flush();
    expect(FakeSocket.all.length).toBe(n + 1);
    last().open();
    const s = last();
    socket.stop();
    expect(s.closedWith).toBe(1000);
    expect(socket.current.state).toBe('stopped');
    await vi.advanceTimersByTimeAsync(120_000);
    expect(FakeSocket.all.length).toBe(n + 1);
  });
});

describe('socketUrl', () => {
  it('follows the page scheme and escapes the ticket', () => {
    expect(socketUrl('a b', { protocol: 'https:', host: 'chat.example' })).toBe('wss://chat.example/ws?ticket=a%20b');
    expect(socketUrl('t', { protocol: 'http:', host: '127.0.0.1:8080' })).toBe('ws://127.0.0.1:8080/ws?ticket=t');
  });
  it('never puts an access token in the URL', () => {
    expect(socketUrl('t', { protocol: 'http:', host: 'h' })).not.toContain('token=');
  });
});
