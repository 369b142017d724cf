// End-to-end: a day of real use (issue 15, the web client's part). Alice reads a 260-message conversation with
// the mouse wheel (older pages load without moving her), opens a chat with 30 unread (the "30 unread messages"
// line, scrolled to), keeps a draft per conversation across switches and reloads, reloads on /c/N and stays
// there, sends a link (clickable, safe, never fetched) and a text over the limit (a counter, no silent cut), sees
// an emoji initial whole, and gets her connection back at once when the network or the focus returns. Then,
// on a server whose tokens live 12 s, two tabs of one session refresh silently for half a minute: one refresh
// per lifetime between them, nothing on screen moves, the draft stays and the socket stays live.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, freePort, log, openPage, removeDir, Server, snapshot, startStack, stopStack, tempDir, until } from './harness.mjs';

const WAIT = 20_000;
const PASSWORD = 'correct horse battery';
const run = Date.now().toString(36).slice(-5);
const alice = { username: `dalice_${run}`, display: 'Alice Liddell' };
const bob = { username: `dbob_${run}`, display: 'Bob Builder' };
const carol = { username: `dcarol_${run}`, display: '🦊 Carol' };
const LONG = 260;

let server;
let dataDir;
let browser;
let page;
let longId;
let unreadId;
const screenshots = [];
const pageErrors = [];
/** Hosts the page asked for other than the server: links must never be fetched. */
const foreignRequests = [];

before(async () => {
  // Seeding 260 messages is not what the REST limit is about.
  ({ server, browser, dataDir } = await startStack('chat-e2e-daily-', { env: { CHAT_REST_PER_SECOND: '500' } }));
});

after(() => stopStack({ server, browser, dataDir }, screenshots, pageErrors));

const snap = (p, name) => snapshot(p, name, screenshots);
const message = (p, seq) => p.locator(`[data-testid=message][data-seq="${seq}"]`);
const composer = (p) => p.getByLabel('Message', { exact: true });
const item = (p, id) => p.locator(`[data-testid=conversation-item][data-conversation-id="${id}"]`);

async function register(srv, u) {
  const s = await api(srv, 'POST', '/api/auth/register', { body: { username: u.username, password: PASSWORD, display_name: u.display } });
  u.id = s.user.id;
  u.token = s.access_token;
}

async function send(srv, u, conversationId, body) {
  return api(srv, 'POST', `/api/conversations/${conversationId}/messages`, { token: u.token, body: { body, client_id: `e2e-${Math.random().toString(36).slice(2)}` } });
}

async function login(p, srv, u) {
  await p.goto(srv.url + '/');
  await p.getByRole('tab', { name: 'Log in' }).waitFor();
  await p.getByLabel('Username').fill(u.username);
  await p.getByLabel('Password').fill(PASSWORD);
  await p.getByRole('form', { name: 'Log in' }).getByRole('button', { name: 'Log in' }).click();
  await p.getByTestId('me-name').filter({ hasText: u.display }).waitFor();
  await p.getByTestId('connection-status').and(p.locator('[data-state=open]')).waitFor();
}

/** The seq of the first message whose bottom is below the list's top: what the reader is looking at. */
const firstVisibleSeq = (p) =>
  p.evaluate(() => {
    const list = document.querySelector('[data-testid=messages]');
    const top = list.getBoundingClientRect().top;
    for (const el of list.querySelectorAll('[data-testid=message]')) if (el.getBoundingClientRect().bottom > top) return Number(el.dataset.seq);
    return null;
  });
const firstHeldSeq = (p) => p.evaluate(() => Number(document.querySelector('[data-testid=message]')?.dataset.seq ?? 0));

test('setup: alice, bob and carol; 260 messages from bob (read), 40 from carol (10 read)', async () => {
  for (const u of [alice, bob, carol]) await register(server, u);
  longId = (await api(server, 'POST', '/api/conversations', { token: bob.token, body: { kind: 'direct', user_id: alice.id } })).id;
  // One at a time: seq follows the order sent. Every seventh is longer, so the bubbles differ in height.
  for (let j = 1; j <= LONG; j++) await send(server, bob, longId, `Long read, line ${j}${j % 7 === 0 ? ' — a longer line to vary the heights of the bubbles a little bit more' : ''}`);
  await api(server, 'POST', `/api/conversations/${longId}/read`, { token: alice.token, body: { up_to_seq: LONG } });
  unreadId = (await api(server, 'POST', '/api/conversations', { token: carol.token, body: { kind: 'direct', user_id: alice.id } })).id;
  for (let j = 1; j <= 40; j++) await send(server, carol, unreadId, `Carol's note ${j}`);
  await api(server, 'POST', `/api/conversations/${unreadId}/read`, { token: alice.token, body: { up_to_seq: 10 } });

  page = await openPage(browser, 'alice', pageErrors, undefined, WAIT);
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.host !== new URL(server.url).host) foreignRequests.push(r.url());
  });
  await login(page, server, alice);
});

test('an emoji first in a name is the avatar initial, whole', async () => {
  const avatar = item(page, unreadId).locator('.avatar');
  await avatar.waitFor();
  const text = (await avatar.textContent()).trim();
  assert.equal(text, '🦊C');
  assert.ok(!text.includes('\uFFFD'));
});

test('scroll-back with the wheel keeps the reading position as older pages load (260 messages)', async () => {
  await item(page, longId).click();
  await message(page, LONG).waitFor();
  await until('the list at the bottom', async () => (await firstHeldSeq(page)) === LONG - 49);
  const list = page.getByTestId('messages');
  const box = await list.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  // Four older pages, each load started by the wheel somewhere near (not at) the top.
  for (let pageNo = 1; pageNo <= 4; pageNo++) {
    const held = await firstHeldSeq(page);
    let before = null;
    for (let i = 0; i < 200 && (await firstHeldSeq(page)) === held; i++) {
      before = await firstVisibleSeq(page);
      await page.mouse.wheel(0, -90);
      await page.waitForTimeout(60);
    }
    assert.ok((await firstHeldSeq(page)) < held, 'an older page loaded');
    await page.waitForTimeout(400);
    const after = await firstVisibleSeq(page);
    log(`page ${pageNo}: looking at ${before} before the load, ${after} after`);
    assert.ok(Math.abs(after - before) <= 4, `the reader stays at message ${before} (now at ${after})`);
  }
  await snap(page, 'daily-01-scrolled-back.png');
});

test('a conversation opened with unread messages shows "30 unread messages" above the first, scrolled to', async () => {
  await item(page, unreadId).click();
  const line = page.getByTestId('unread-marker');
  await line.waitFor();
  assert.equal((await line.textContent()).trim(), '30 unread messages');
  // The line is right above message 11, and it is on screen near the top, not the newest message.
  const nextSeq = await line.evaluate((el) => el.nextElementSibling?.dataset.seq);
  assert.equal(nextSeq, '11');
  const [lineTop, listTop] = await Promise.all([line.evaluate((el) => el.getBoundingClientRect().top), page.getByTestId('messages').evaluate((el) => el.getBoundingClientRect().top)]);
  assert.ok(lineTop - listTop >= 0 && lineTop - listTop < 120, `the line is near the top (${lineTop - listTop}px)`);
  const newestTop = await message(page, 40).evaluate((el) => el.getBoundingClientRect().top - el.closest('[data-testid=messages]').getBoundingClientRect().bottom);
  assert.ok(newestTop > 0, 'the newest message is below the fold, not where the list opened');
  await until('the badge cleared', async () => (await item(page, unreadId).getByTestId('unread-badge').count()) === 0);
  await snap(page, 'daily-02-unread-marker.png');
});

test('drafts are kept per conversation across switches and reloads, and cleared by sending', async () => {
  await composer(page).fill('for carol, half written');
  await item(page, longId).click();
  await message(page, LONG).waitFor();
  assert.equal(await composer(page).inputValue(), '');
  await composer(page).fill('for bob, half written');
  await item(page, unreadId).click();
  await until('carol\'s draft back', async () => (await composer(page).inputValue()) === 'for carol, half written');
  await page.reload();
  await page.getByTestId('chat-title').waitFor();
  assert.equal(await composer(page).inputValue(), 'for carol, half written');
  await item(page, longId).click();
  await until('bob\'s draft back', async () => (await composer(page).inputValue()) === 'for bob, half written');
  await composer(page).press('Enter');
  await until('sent', async () => (await page.getByTestId('message').filter({ hasText: 'for bob, half written' }).count()) === 1);
  assert.equal(await composer(page).inputValue(), '');
  await page.reload();
  await page.getByTestId('chat-title').waitFor();
  assert.equal(await composer(page).inputValue(), '');
});

test('reload keeps the open conversation: /c/N reloads to /c/N, twice', async () => {
  const path = `/c/${longId}`;
  assert.equal(new URL(page.url()).pathname, path);
  for (let i = 0; i < 2; i++) {
    await page.reload();
    await page.getByTestId('chat-title').filter({ hasText: bob.display }).waitFor();
    await page.waitForTimeout(300);
    assert.equal(new URL(page.url()).pathname, path);
    assert.equal(await page.locator('.empty-main').count(), 0, 'not the lobby');
  }
});

test('links are clickable (http/https only, new tab, no opener or referrer) and never fetched', async () => {
  await composer(page).fill('read https://example.com/guide?x=1. and (https://en.wikipedia.org/wiki/Rust_(language)) but not javascript:alert(1)');
  await composer(page).press('Enter');
  const m = page.getByTestId('message').filter({ hasText: 'read https://example.com' });
  await m.getByTestId('message-link').first().waitFor();
  const links = await m.getByTestId('message-link').evaluateAll((els) => els.map((a) => ({ href: a.getAttribute('href'), target: a.target, rel: a.rel, text: a.textContent })));
  assert.deepEqual(links, [
    { href: 'https://example.com/guide?x=1', target: '_blank', rel: 'noopener noreferrer', text: 'https://example.com/guide?x=1' },
    { href: 'https://en.wikipedia.org/wiki/Rust_(language)', target: '_blank', rel: 'noopener noreferrer', text: 'https://en.wikipedia.org/wiki/Rust_(language)' },
  ]);
  await page.waitForTimeout(500);
  assert.deepEqual(foreignRequests, [], 'nothing was fetched for the links');
});

test('a text over 4000 characters shows a counter and is not sent (nor cut); under the limit it is', async () => {
  const send = page.getByRole('button', { name: 'Send message' });
  await composer(page).fill('x'.repeat(5000));
  const counter = page.getByTestId('composer-counter');
  await counter.waitFor();
  assert.equal((await counter.textContent()).trim(), '1,000 characters too long — shorten it to send');
  assert.equal((await composer(page).inputValue()).length, 5000, 'nothing was cut');
  assert.ok(await send.isDisabled());
  await composer(page).press('Enter');
  assert.equal((await composer(page).inputValue()).length, 5000, 'Enter did not send it');
  await snap(page, 'daily-03-counter-over.png');
  await composer(page).fill('y'.repeat(3900));
  assert.equal((await counter.textContent()).trim(), '3,900 / 4,000');
  assert.ok(await send.isEnabled());
  await send.click();
  await until('the long message stored', async () => (await page.getByTestId('message').filter({ hasText: 'y'.repeat(3900) }).count()) === 1);
  assert.equal(await counter.count(), 0);
});

test('Up in the empty composer edits my last message', async () => {
  await composer(page).focus();
  await composer(page).press('ArrowUp');
  const editor = page.locator('#edit-message');
  await editor.waitFor();
  assert.equal((await editor.inputValue()).length, 3900);
  await editor.fill('shortened by Up');
  await editor.press('Enter');
  await page.getByTestId('message').filter({ hasText: 'shortened by Up' }).waitFor();
  await until('the focus back in the composer', () => page.evaluate(() => document.activeElement?.id === 'composer-input'));
});

test('after a long outage the client reconnects within 5 s, and at once when the network comes back', async () => {
  const status = page.getByTestId('connection-status');
  await server.stop();
  await status.and(page.locator('[data-state=waiting]')).waitFor();
  // Long enough for the old backoff to have grown past 10 s.
  await page.waitForTimeout(15_000);
  await server.start();
  let t0 = Date.now();
  await status.and(page.locator('[data-state=open]')).waitFor({ timeout: 8_000 });
  const waited = Date.now() - t0;
  log(`reconnected ${waited} ms after the server was back`);
  assert.ok(waited < 6_500, `reconnected within the 5 s cap (${waited} ms)`);

  await server.stop();
  await status.and(page.locator('[data-state=waiting]')).waitFor();
  await page.waitForTimeout(8_000);
  await server.start();
  t0 = Date.now();
  await page.evaluate(() => window.dispatchEvent(new Event('online')));
  await status.and(page.locator('[data-state=open]')).waitFor({ timeout: 8_000 });
  const onOnline = Date.now() - t0;
  log(`reconnected ${onOnline} ms after "online"`);
  assert.ok(onOnline < 1_500, `reconnected at once on "online" (${onOnline} ms)`);
});

test('tokens living 12 s: two tabs of one session refresh once per lifetime between them, and nothing moves', async () => {
  const dir = tempDir('chat-e2e-daily-ttl-');
  const short = new Server(await freePort(), dir, { CHAT_ACCESS_TOKEN_TTL_SECS: '12' });
  try {
    await short.start();
    const a = { username: `talice_${run}`, display: 'Alice Short' };
    const b = { username: `tbob_${run}`, display: 'Bob Short' };
    for (const u of [a, b]) await register(short, u);
    const id = (await api(short, 'POST', '/api/conversations', { token: b.token, body: { kind: 'direct', user_id: a.id } })).id;
    for (let j = 1; j <= 60; j++) await send(short, b, id, `Short-lived line ${j}`);

    const tab1 = await openPage(browser, 'alice-tab1', pageErrors, undefined, WAIT);
    await login(tab1, short, a);
    await item(tab1, id).click();
    await message(tab1, 60).waitFor();
    // The second tab shares the session's cookie: without sharing its refreshes, both would spend the one
    // refresh token and the server would end the session.
    const tab2 = await tab1.context().newPage();
    tab2.on('pageerror', (e) => pageErrors.push(`alice-tab2: ${e.message}`));
    await tab2.goto(`${short.url}/c/${id}`);
    await message(tab2, 60).waitFor();
    await tab2.getByTestId('connection-status').and(tab2.locator('[data-state=open]')).waitFor();

    const refreshes = [];
    const statuses = [];
    for (const [name, t] of [['tab1', tab1], ['tab2', tab2]]) {
      t.on('request', (r) => r.url().endsWith('/api/auth/web/refresh') && refreshes.push(name));
      t.on('response', (r) => statuses.push(r.status()));
    }
    await tab1.bringToFront();
    await message(tab1, 30).scrollIntoViewIfNeeded();
    await composer(tab1).fill('typing through the refresh');
    const place = () => tab1.evaluate(() => ({ top: document.querySelector('[data-testid=messages]').scrollTop, path: location.pathname, focus: document.activeElement?.id }));
    const start = await place();
    await tab1.waitForTimeout(30_000);
    const end = await place();
    log(`refreshes in 30 s: ${refreshes.join(', ')}`);
    assert.ok(refreshes.length >= 2 && refreshes.length <= 4, `one refresh per lifetime between the two tabs (${refreshes.length})`);
    assert.ok(!statuses.includes(429) && !statuses.includes(401), `no refusals (${[...new Set(statuses)].join(',')})`);
    assert.deepEqual(end, start, 'scroll position, route and focus unchanged');
    assert.equal(await composer(tab1).inputValue(), 'typing through the refresh');
    for (const t of [tab1, tab2]) {
      await t.getByTestId('connection-status').and(t.locator('[data-state=open]')).waitFor();
      assert.equal(await t.getByRole('tab', { name: 'Log in' }).count(), 0, 'still signed in');
    }
    // Both sockets still take live messages with the refreshed tokens.
    const fresh = await api(short, 'POST', '/api/auth/login', { body: { username: b.username, password: PASSWORD } });
    await api(short, 'POST', `/api/conversations/${id}/messages`, { token: fresh.access_token, body: { body: 'after the refreshes', client_id: `e2e-${run}-late` } });
    for (const t of [tab1, tab2]) await t.getByTestId('message').filter({ hasText: 'after the refreshes' }).waitFor();
    await snap(tab1, 'daily-04-after-refreshes.png');
    await tab2.close();
    await tab1.context().close();
  } finally {
    await short.stop();
    if (!process.env.E2E_KEEP) removeDir(dir);
  }
});
