// End-to-end: account settings across several browser contexts of the same user (sessions listed and ended,
// the ended side sent to the sign-in screen with the reason), the password change, blocks from a chat header,
// and the socket: opened with a ticket (never a token in the URL), and a calm notice when the account holds the
// most sockets the server allows. Every wait is on a condition, with a deadline.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, log, openPage, snapshot, startStack, stopStack, until } from './harness.mjs';

const WAIT = 20_000;
/** The server closes an ended session's sockets within a second; the client then refreshes and is refused. */
const SIGN_OUT_WAIT = 10_000;
const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'battery staple horse';
const SIGNED_OUT = 'You were signed out (this session was ended from another device or by a password change).';
const run = Date.now().toString(36).slice(-5);
const alice = { username: `salice_${run}`, display: 'Alice Liddell' };
const bob = { username: `sbob_${run}`, display: 'Bob Builder' };
const carol = { username: `scarol_${run}`, display: 'Carol Chen' };
const PHONE = { width: 390, height: 780 };

let server;
let dataDir;
let browser;
let a1;
let a2;
let a3;
let bobPage;
let bobToken;
let aliceId;
const screenshots = [];
const pageErrors = [];
/** Every socket URL any page opened. */
const socketUrls = [];

before(async () => {
  ({ server, browser, dataDir } = await startStack('chat-e2e-settings-'));
});

after(() => stopStack({ server, browser, dataDir }, screenshots, pageErrors));

async function newPage(name, viewport) {
  const page = await openPage(browser, name, pageErrors, viewport, WAIT);
  page.on('websocket', (ws) => socketUrls.push(ws.url()));
  return page;
}

const snap = (page, name) => snapshot(page, name, screenshots);
const connectionState = (page) => page.getByTestId('connection-status').getAttribute('data-state');

async function login(page, user, password = PASSWORD) {
  if (!page.url().startsWith(server.url)) await page.goto(server.url + '/');
  await page.getByRole('tab', { name: 'Log in' }).click();
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('form', { name: 'Log in' }).getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('me-name').filter({ hasText: user.display }).waitFor();
}

async function loginConnected(page, user, password = PASSWORD) {
  await login(page, user, password);
  await until(`${user.username} connected`, async () => (await connectionState(page)) === 'open');
}

async function openSettings(page) {
  await page.getByRole('button', { name: 'Settings', exact: true }).click();
  await page.getByRole('heading', { name: 'Settings', level: 2 }).waitFor();
}

const sessionRows = (page) => page.getByTestId('session-row');
const currentRows = (page) => page.locator('[data-testid=session-row][data-current=true]');
const otherRows = (page) => page.locator('[data-testid=session-row][data-current=false]');
const conversationItem = (page, title) => page.getByTestId('conversation-item').filter({ has: page.locator('.conv-title').getByText(title, { exact: true }) });
const chatHead = (page) => page.locator('.chat-head');
const messageBubble = (page, text) => page.getByTestId('message').filter({ has: page.getByTestId('message-body').getByText(text) });

/** Waits for the sign-in screen with the "signed out elsewhere" message; returns how long it took. */
async function signedOutElsewhere(page, since) {
  await page.getByTestId('signed-out-notice').filter({ hasText: SIGNED_OUT }).waitFor({ timeout: SIGN_OUT_WAIT });
  await page.getByRole('tab', { name: 'Log in' }).waitFor();
  // The refused refresh took the cookie away: nothing of the session is left in this browser.
  assert.deepEqual(await page.context().cookies(server.url + '/api/auth/web/refresh'), [], 'the session is forgotten');
  return Date.now() - since;
}

test('alice signs in from two browsers; each socket opens with a ticket, never a token in the URL', async () => {
  const registered = await api(server, 'POST', '/api/auth/register', { body: { username: alice.username, password: PASSWORD, display_name: alice.display } });
  // Registering started a session: end it, so the sessions below are the two browsers'.
  await api(server, 'POST', '/api/auth/logout', { token: registered.access_token });
  aliceId = registered.user.id;
  bobToken = (await api(server, 'POST', '/api/auth/register', { body: { username: bob.username, password: PASSWORD, display_name: bob.display } })).access_token;
  a1 = await newPage('alice-1');
  a2 = await newPage('alice-2');
  await loginConnected(a1, alice);
  await loginConnected(a2, alice);
  assert.ok(socketUrls.length >= 2, `sockets seen: ${socketUrls.length}`);
  for (const url of socketUrls) {
    assert.match(url, /[?&]ticket=[^&]+/, url);
    assert.doesNotMatch(url, /token=/, url);
  }
});

test('settings list both sessions of the account, this one marked "This device"', async () => {
  await openSettings(a1);
  assert.equal(new URL(a1.url()).pathname, '/settings');
  await until('two sessions listed', async () => (await sessionRows(a1).count()) === 2);
  assert.equal(await currentRows(a1).count(), 1);
  await currentRows(a1).getByText('This device', { exact: true }).waitFor();
  assert.equal(await otherRows(a1).getByText('This device').count(), 0);
  // Headless Chromium's User-Agent, named for people.
  await currentRows(a1).getByText('Chrome on Linux').waitFor();
  await snap(a1, 'settings-desktop.png');
});

test('ending the other session sends that browser to the sign-in screen, saying why, within seconds', async () => {
  const t0 = Date.now();
  await otherRows(a1).getByRole('button', { name: /^Sign out / }).click();
  const took = await signedOutElsewhere(a2, t0);
  log(`the ended session's browser showed the sign-in screen ${took} ms after "Sign out"`);
  await until('one session left', async () => (await sessionRows(a1).count()) === 1);
  assert.equal(await connectionState(a1), 'open', 'this device stays connected');
  await snap(a2, 'signed-out-elsewhere.png');
});

test('password change: mismatch and a wrong current password are shown at their fields; the right one ends the other sessions', async () => {
  a3 = await newPage('alice-3-phone', PHONE);
  await loginConnected(a3, alice);
  await a1.getByRole('button', { name: 'Refresh the session list' }).click();
  await until('the third browser listed', async () => (await sessionRows(a1).count()) === 2);
  const form = a1.getByRole('form', { name: 'Change password' });
  await form.getByLabel('Current password').fill('not my password');
  await form.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await form.getByLabel('Confirm new password').fill(NEW_PASSWORD + '!');
  await form.getByRole('button', { name: 'Change password' }).click();
  await form.getByTestId('password-confirm-error').filter({ hasText: 'The two new passwords differ.' }).waitFor();

  await form.getByLabel('Confirm new password').fill(NEW_PASSWORD);
  await form.getByRole('button', { name: 'Change password' }).click();
  await form.getByTestId('password-current-error').filter({ hasText: 'That is not your current password.' }).waitFor();
  assert.equal(await form.getByLabel('Current password').getAttribute('aria-invalid'), 'true');
  await form.scrollIntoViewIfNeeded();
  await snap(a1, 'settings-password-error.png');
  assert.equal(await connectionState(a3), 'open', 'a refused change ends nothing');

  await form.getByLabel('Current password').fill(PASSWORD);
  const t0 = Date.now();
  await form.getByRole('button', { name: 'Change password' }).click();
  await form.getByTestId('password-changed').filter({ hasText: 'Your other sessions were signed out.' }).waitFor();
  const took = await signedOutElsewhere(a3, t0);
  log(`the third browser was signed out ${took} ms after the password change`);
  await until('only this session left', async () => (await sessionRows(a1).count()) === 1);
  assert.equal(await connectionState(a1), 'open', 'the session that changed the password goes on');
  await snap(a3, 'signed-out-phone.png');
  // The new password is the one that works now.
  await loginConnected(a3, alice, NEW_PASSWORD);
});

test('alice blocks bob from their chat header; he is listed under Blocked people, and her composer gives way', async () => {
  const me = aliceId;
  const direct = await api(server, 'POST', '/api/conversations', { token: bobToken, body: { kind: 'direct', user_id: me } });
  await api(server, 'POST', `/api/conversations/${direct.id}/messages`, { token: bobToken, body: { body: 'Hello from Bob', client_id: `s-${run}-1` } });
  bobPage = await newPage('bob');
  await loginConnected(bobPage, bob);

  await conversationItem(a1, bob.display).click();
  await messageBubble(a1, 'Hello from Bob').waitFor();
  await chatHead(a1).getByRole('button', { name: `Block ${bob.display}` }).click();
  const confirm = a1.getByRole('dialog', { name: `Block ${bob.display}?` });
  await confirm.waitFor();
  await snap(a1, 'block-confirm.png');
  await confirm.getByRole('button', { name: 'Block', exact: true }).click();
  await chatHead(a1).getByRole('button', { name: `Unblock ${bob.display}` }).waitFor();
  await a1.getByTestId('blocked-bar').filter({ hasText: `You have blocked ${bob.display}.` }).waitFor();
  assert.equal(await a1.getByLabel('Message', { exact: true }).count(), 0, 'no composer towards someone blocked');
  await snap(a1, 'chat-blocked.png');

  await openSettings(a1);
  await a1.getByTestId('blocked-people').getByText(bob.display).waitFor();
  await a1.getByRole('heading', { name: 'Blocked people' }).scrollIntoViewIfNeeded();
  await snap(a1, 'settings-blocked.png');
});

test('the blocked side is refused: no new chat with alice, no contact — in plain words', async () => {
  await bobPage.getByRole('button', { name: 'New chat' }).click();
  const dialog = bobPage.getByRole('dialog', { name: 'New chat' });
  await dialog.getByLabel('Find people by username').fill(alice.username);
  await dialog.getByRole('button', { name: `Message ${alice.display}` }).click();
  await dialog.getByRole('alert').filter({ hasText: "You can't start a conversation with this user." }).waitFor();
  await dialog.getByRole('button', { name: `Add contact: ${alice.display}` }).click();
  await dialog.getByRole('alert').filter({ hasText: "You can't add this user." }).waitFor();
  await snap(bobPage, 'blocked-side-refused.png');
  await bobPage.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
});

test('the blocker is reminded of her own block when she tries to start a chat with him', async () => {
  await a1.getByRole('button', { name: 'New chat' }).click();
  const dialog = a1.getByRole('dialog', { name: 'New chat' });
  await dialog.getByLabel('Find people by username').fill(bob.username);
  await dialog.getByRole('button', { name: `Message ${bob.display}` }).click();
  await dialog.getByRole('alert').filter({ hasText: 'You have blocked this user — unblock them first.' }).waitFor();
  await a1.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
});

test(
  'a message from the blocked user in the chat they already share cannot be sent, and he is told',
  async () => {
    await conversationItem(bobPage, alice.display).click();
    const box = bobPage.getByLabel('Message', { exact: true });
    await box.fill('Are you there?');
    await box.press('Enter');
    await until(
      'the message refused on his side',
      async () => (await bobPage.locator('[data-pending=failed]').filter({ hasText: "You can't send messages to this user." }).count()) === 1,
      SIGN_OUT_WAIT,
    );
  },
);

test('unblocking from settings: the list empties, bob can start a chat again, alice can write to him', async () => {
  await a1.getByTestId('blocked-people').getByRole('button', { name: `Unblock ${bob.display}` }).click();
  await a1.getByTestId('no-blocked').waitFor();
  await bobPage.getByRole('button', { name: 'New chat' }).click();
  const dialog = bobPage.getByRole('dialog', { name: 'New chat' });
  await dialog.getByLabel('Find people by username').fill(alice.username);
  await dialog.getByRole('button', { name: `Message ${alice.display}` }).click();
  await bobPage.getByTestId('chat-title').filter({ hasText: alice.display }).waitFor();
  await conversationItem(a1, bob.display).click();
  await chatHead(a1).getByRole('button', { name: `Block ${bob.display}` }).waitFor();
  const box = a1.getByLabel('Message', { exact: true });
  await box.fill('Unblocked you');
  await box.press('Enter');
  await messageBubble(bobPage, 'Unblocked you').waitFor();
});

test('block and unblock from a group member list: the confirmation opens over the group settings', async () => {
  const me = aliceId;
  await api(server, 'POST', '/api/conversations', { token: bobToken, body: { kind: 'group', title: 'Garden club', member_ids: [me] } });
  await conversationItem(a1, 'Garden club').click();
  await a1.getByRole('button', { name: 'Group settings' }).click();
  const groupSettings = a1.getByRole('dialog', { name: 'Group settings' });
  const bobRow = groupSettings.getByTestId('group-members').getByRole('listitem').filter({ hasText: bob.display });
  await bobRow.getByRole('button', { name: `Block ${bob.display}` }).click();
  await a1.getByRole('dialog', { name: `Block ${bob.display}?` }).getByRole('button', { name: 'Block', exact: true }).click();
  await bobRow.getByRole('button', { name: `Unblock ${bob.display}` }).waitFor();
  // A block leaves shared groups as they are.
  assert.equal(await groupSettings.getByTestId('group-members').getByRole('listitem').count(), 2);
  await bobRow.getByRole('button', { name: `Unblock ${bob.display}` }).click();
  await a1.getByRole('dialog', { name: `Unblock ${bob.display}?` }).getByRole('button', { name: 'Unblock', exact: true }).click();
  await bobRow.getByRole('button', { name: `Block ${bob.display}` }).waitFor();
  assert.equal(await groupSettings.count(), 1, 'the group settings stay open');
  await a1.keyboard.press('Escape');
  await groupSettings.waitFor({ state: 'detached' });
});

test('"Sign out all other sessions" ends the others; "Sign out everywhere" ends this one too', async () => {
  await openSettings(a1);
  await until('two sessions listed', async () => (await sessionRows(a1).count()) === 2);
  let t0 = Date.now();
  await a1.getByRole('button', { name: 'Sign out all other sessions' }).click();
  await signedOutElsewhere(a3, t0);
  await until('one session left', async () => (await sessionRows(a1).count()) === 1);

  const a4 = await newPage('alice-4');
  await loginConnected(a4, alice, NEW_PASSWORD);
  await a1.getByRole('button', { name: 'Sign out everywhere' }).click();
  const confirm = a1.getByRole('dialog', { name: 'Sign out everywhere?' });
  t0 = Date.now();
  await confirm.getByRole('button', { name: 'Sign out everywhere' }).click();
  await a1.getByTestId('signed-out-notice').filter({ hasText: 'You signed out on every device.' }).waitFor();
  await signedOutElsewhere(a4, t0);
  await a4.context().close();
});

test('too many sockets: a calm notice instead of a storm of retries, connected again once a socket closes', async () => {
  const registered = await api(server, 'POST', '/api/auth/register', { body: { username: carol.username, password: PASSWORD, display_name: carol.display } });
  await api(server, 'POST', '/api/auth/logout', { token: registered.access_token });
  const c1 = await newPage('carol-1');
  await loginConnected(c1, carol);
  // Fill the account's sockets (16 per instance; the page holds one) the way any page could: with tickets.
  // Any token of carol's will do: the cap is the account's. The page keeps its own only in memory.
  const { access_token: token } = await api(server, 'POST', '/api/auth/login', { body: { username: carol.username, password: PASSWORD } });
  const opened = await c1.evaluate(async ({ extra, token }) => {
    window.__extraSockets = [];
    for (let i = 0; i < extra; i++) {
      const r = await fetch('/api/ws-ticket', { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
      if (r.status !== 201) return `ticket ${i}: ${r.status} ${await r.text()}`;
      const { ticket } = await r.json();
      const ws = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/ws?ticket=${encodeURIComponent(ticket)}`);
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onclose = () => reject(new Error(`socket ${i} closed before opening`));
      });
      window.__extraSockets.push(ws);
    }
    return window.__extraSockets.length;
  }, { extra: 15, token });
  assert.equal(opened, 15);

  const c2 = await newPage('carol-2-phone', PHONE);
  const ticketAnswers = [];
  c2.on('response', (r) => r.url().endsWith('/api/ws-ticket') && ticketAnswers.push(r.status()));
  await login(c2, carol);
  const status = c2.getByTestId('connection-status');
  await status.and(c2.locator('[data-reason=too_many_sockets]')).waitFor();
  assert.match(await status.textContent(), /Too many open tabs or devices on this account — close one, then it reconnects/);
  await snap(c2, 'too-many-sockets-phone.png');
  assert.deepEqual(ticketAnswers, [429], 'one refused ticket, then a slow wait');

  await c1.evaluate(
    () =>
      new Promise((resolve) => {
        const ws = window.__extraSockets.pop();
        ws.onclose = resolve;
        ws.close();
      }),
  );
  // The retry comes by itself within a minute; "Retry now" skips the wait.
  await status.getByRole('button', { name: 'Retry now' }).click();
  await until('carol-2 connected', async () => (await connectionState(c2)) === 'open', 70_000);
  assert.ok(ticketAnswers.length <= 3, `ticket requests: ${ticketAnswers.join(', ')}`);
  await c1.evaluate(() => window.__extraSockets.forEach((ws) => ws.close()));
  // The sockets' own session is ended: the list below is the two browsers'.
  await api(server, 'POST', '/api/auth/logout', { token });

  await openSettings(c2);
  await until('two sessions listed', async () => (await sessionRows(c2).count()) === 2);
  await snap(c2, 'settings-phone.png');
});

test('no socket URL carried an access token; no page errors', () => {
  assert.ok(socketUrls.length > 0);
  const withToken = socketUrls.filter((u) => /token=/.test(u) || !/[?&]ticket=/.test(u));
  assert.deepEqual(withToken, []);
  assert.deepEqual(pageErrors, []);
});
