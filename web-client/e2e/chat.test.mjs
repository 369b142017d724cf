// End-to-end: the built client served by the real chat-server, driven in Debian's Chromium (playwright-core).
// Two users in two browser contexts register, chat live, see typing and read receipts, reload, and live
// through a server restart. Every wait is on a condition, never a fixed sleep.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, log, openPage, snapshot, startStack, stopStack, until } from './harness.mjs';

const WAIT = 20_000;
const RECONNECT_WAIT = 45_000;
const PASSWORD = 'correct horse battery';
const run = Date.now().toString(36).slice(-5);
const alice = { username: `alice_${run}`, display: 'Alice Liddell' };
const bob = { username: `bob_${run}`, display: 'Bob Builder' };

let server;
let dataDir;
let browser;
let pageA;
let pageB;
const screenshots = [];
const pageErrors = [];

before(async () => {
  ({ server, browser, dataDir } = await startStack('chat-e2e-'));
});

after(() => stopStack({ server, browser, dataDir }, screenshots, pageErrors));

const newUserPage = (name, viewport) => openPage(browser, name, pageErrors, viewport, WAIT);

async function register(page, user) {
  await page.goto(server.url + '/');
  await page.getByRole('tab', { name: 'Create account' }).click();
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel(/Display name/).fill(user.display);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('form', { name: 'Create account' }).getByRole('button', { name: 'Create account' }).click();
  await page.getByTestId('me-name').filter({ hasText: user.display }).waitFor();
}

const conversationItem = (page, title) => page.getByTestId('conversation-item').filter({ has: page.locator('.conv-title').getByText(title, { exact: true }) });
const messageBubble = (page, text, exact = false) =>
  page.getByTestId('message').filter({ has: page.getByTestId('message-body').getByText(text, { exact }) });

async function send(page, text) {
  const box = page.getByLabel('Message', { exact: true });
  await box.fill(text);
  await box.press('Enter');
}

/** Polls fn until it returns a truthy value. */
async function connectionState(page) {
  return page.getByTestId('connection-status').getAttribute('data-state');
}

const snap = (page, name) => snapshot(page, name, screenshots);

test('two users register in two browser contexts (a session per browser, in its cookie)', async () => {
  pageA = await newUserPage('alice');
  pageB = await newUserPage('bob');
  await register(pageA, alice);
  await register(pageB, bob);
  const cookies = await pageA.context().cookies(server.url + '/api/auth/web/refresh');
  assert.deepEqual(cookies.map((c) => c.name), ['chat_refresh']);
  assert.equal(await pageA.evaluate(() => /eyJ/.test(JSON.stringify(sessionStorage) + JSON.stringify(localStorage))), false, 'no token in storage');
});

test('both connect to the socket', async () => {
  await until('alice connected', async () => (await connectionState(pageA)) === 'open');
  await until('bob connected', async () => (await connectionState(pageB)) === 'open');
});

test('alice finds bob, adds him as a contact and opens a direct chat', async () => {
  await pageA.getByRole('button', { name: 'New chat' }).click();
  await pageA.getByLabel('Find people by username').fill(bob.username.slice(0, 6));
  await pageA.getByRole('button', { name: `Add contact: ${bob.display}` }).click();
  await pageA.getByTestId('search-results').getByText('Contact', { exact: true }).waitFor();
  await pageA.getByLabel('Find people by username').fill('');
  await pageA.getByTestId('contacts').getByText(bob.display).waitFor();
  await pageA.getByTestId('contacts').getByRole('button', { name: `Message ${bob.display}` }).click();
  await pageA.getByTestId('chat-title').filter({ hasText: bob.display }).waitFor();
  assert.match(new URL(pageA.url()).pathname, /^\/c\/\d+$/);
});

test('messages go both ways live, with an unread badge and the tab title', async () => {
  await send(pageA, 'Hi Bob! <b>not bold</b>');
  // Bob sits in the lobby: the conversation appears with an unread badge, and the title counts it.
  await conversationItem(pageB, alice.display).getByTestId('unread-badge').filter({ hasText: '1' }).waitFor();
  await until('bob title "(1) Chat"', async () => (await pageB.title()) === '(1) Chat');
  await conversationItem(pageB, alice.display).click();
  await messageBubble(pageB, 'Hi Bob! <b>not bold</b>').waitFor();
  // Rendered as text, never as HTML.
  assert.equal(await pageB.locator('[data-testid=message-body] b').count(), 0);
  await until('bob title back to "Chat"', async () => (await pageB.title()) === 'Chat');
  await send(pageB, 'Hello Alice, how are you?');
  await messageBubble(pageA, 'Hello Alice, how are you?').waitFor();
  assert.equal(await messageBubble(pageA, 'Hello Alice, how are you?').getAttribute('data-own'), 'false');
  assert.equal(await messageBubble(pageB, 'Hello Alice, how are you?').getAttribute('data-own'), 'true');
  await pageA.getByTestId('day-label').filter({ hasText: 'Today' }).first().waitFor();
});

test('typing shows "Bob Builder is typing…" and clears on send', async () => {
  await pageB.getByLabel('Message', { exact: true }).pressSequentially('I am typ', { delay: 20 });
  await pageA.getByTestId('typing').filter({ hasText: `${bob.display} is typing…` }).waitFor();
  await pageB.getByLabel('Message', { exact: true }).pressSequentially('ing this', { delay: 10 });
  await pageB.getByLabel('Message', { exact: true }).press('Enter');
  await messageBubble(pageA, 'I am typing this').waitFor();
  await until('typing indicator cleared', async () => ((await pageA.getByTestId('typing').textContent()) ?? '').trim() === '');
});

test('receipts: ✓✓ delivered once the other side has it, then ✓✓ read once they have seen it', async () => {
  // Bob looks at the lobby so the next message stays unread for him.
  await pageB.goBack();
  await pageB.getByText(`Welcome, ${bob.display}`).waitFor();
  await send(pageA, 'Did you read this?');
  const mine = messageBubble(pageA, 'Did you read this?');
  // Bob's client has it (he is online, in the lobby): delivered, not read.
  await mine.locator('[data-tick=delivered]').waitFor();
  await conversationItem(pageB, alice.display).getByTestId('unread-badge').waitFor();
  await conversationItem(pageB, alice.display).click();
  await messageBubble(pageB, 'Did you read this?').waitFor();
  await mine.locator('[data-tick=read]').waitFor();
  // Earlier messages are read too.
  await messageBubble(pageA, 'Hi Bob!').locator('[data-tick=read]').waitFor();
});

test('edit and delete an own message; the other side sees both', async () => {
  await send(pageA, 'Typo mesage');
  await messageBubble(pageB, 'Typo mesage').waitFor();
  const bubble = messageBubble(pageA, 'Typo mesage');
  await bubble.hover();
  await bubble.getByRole('button', { name: 'Edit message' }).click();
  const editor = pageA.getByLabel('Edit message', { exact: true }).last();
  await editor.fill('Typo message (fixed)');
  await editor.press('Enter');
  await messageBubble(pageB, 'Typo message (fixed)').getByText('edited').waitFor();
  pageA.once('dialog', (d) => d.accept());
  const fixed = messageBubble(pageA, 'Typo message (fixed)');
  await fixed.hover();
  await fixed.getByRole('button', { name: 'Delete message' }).click();
  await pageB.getByTestId('message-body').filter({ hasText: 'Message deleted' }).waitFor();
  assert.equal(await messageBubble(pageB, 'Typo message (fixed)').count(), 0);
});

test('reload keeps the session and the history', async () => {
  await pageA.reload();
  await pageA.getByTestId('chat-title').filter({ hasText: bob.display }).waitFor();
  for (const text of ['Hi Bob!', 'Hello Alice, how are you?', 'I am typing this', 'Did you read this?']) {
    await messageBubble(pageA, text).waitFor();
  }
  await until('alice reconnected after reload', async () => (await connectionState(pageA)) === 'open');
});

test('group chat: create a group, sender names shown to others', async () => {
  await pageA.getByRole('button', { name: 'New group' }).click();
  await pageA.getByLabel('Group name').fill('Weekend plans');
  await pageA.getByRole('checkbox', { name: new RegExp(bob.display) }).check();
  await pageA.getByRole('button', { name: 'Create group' }).click();
  await pageA.getByTestId('chat-title').filter({ hasText: 'Weekend plans' }).waitFor();
  await send(pageA, 'Hiking on Saturday?');
  await conversationItem(pageB, 'Weekend plans').waitFor();
  await conversationItem(pageB, 'Weekend plans').click();
  await messageBubble(pageB, 'Hiking on Saturday?').getByText(alice.display).waitFor();
  await send(pageB, 'Count me in — très bien');
  await messageBubble(pageA, 'Count me in — très bien').waitFor();
});

test('screenshots of the lobby and a chat view', async () => {
  await conversationItem(pageA, bob.display).click();
  await messageBubble(pageA, 'Did you read this?').waitFor();
  await conversationItem(pageB, alice.display).click();
  await messageBubble(pageB, 'Did you read this?').waitFor();
  await send(pageB, 'A longer message, to show how text wraps inside a bubble when someone has a lot to say about the weekend.');
  await messageBubble(pageA, 'A longer message').waitFor();
  await pageB.getByLabel('Message', { exact: true }).pressSequentially('Sounds', { delay: 15 });
  await pageA.getByTestId('typing').filter({ hasText: 'is typing' }).waitFor();
  await snap(pageA, 'chat-desktop.png');
  await pageB.getByLabel('Message', { exact: true }).fill('');
  await pageB.goto(server.url + '/');
  await conversationItem(pageB, alice.display).waitFor();
  // Something unread for Bob's lobby.
  await conversationItem(pageA, 'Weekend plans').click();
  await send(pageA, 'Who brings the snacks?');
  await conversationItem(pageB, 'Weekend plans').getByTestId('unread-badge').waitFor();
  await conversationItem(pageA, bob.display).click();
  await snap(pageB, 'lobby-desktop.png');
  const phone = await newUserPage('alice-phone', { width: 390, height: 780 });
  await phone.goto(server.url + '/');
  await phone.getByRole('tab', { name: 'Log in' }).waitFor();
  await phone.getByLabel('Username').fill(alice.username);
  await phone.getByLabel('Password').fill(PASSWORD);
  await phone.getByRole('form', { name: 'Log in' }).getByRole('button', { name: 'Log in' }).click();
  await conversationItem(phone, bob.display).waitFor();
  await snap(phone, 'lobby-phone.png');
  await conversationItem(phone, bob.display).click();
  await messageBubble(phone, 'Did you read this?').waitFor();
  await snap(phone, 'chat-phone.png');
  await phone.context().close();
});

test('long history: older pages load on scroll up (keyset), a "new messages" pill while scrolled up', async () => {
  const carol = await api(server, 'POST', '/api/auth/register', { body: { username: `carol_${run}`, password: PASSWORD, display_name: 'Carol Chen' } });
  const mine = await api(server, 'POST', '/api/auth/login', { body: { username: alice.username, password: PASSWORD } });
  const me = mine.user.id;
  const conv = await api(server, 'POST', '/api/conversations', { token: carol.access_token, body: { kind: 'direct', user_id: me } });
  for (let i = 1; i <= 70; i++) {
    await api(server, 'POST', `/api/conversations/${conv.id}/messages`, { token: carol.access_token, body: { body: `History line ${i}`, client_id: `h-${run}-${i}` } });
  }
  await conversationItem(pageA, 'Carol Chen').getByTestId('unread-badge').filter({ hasText: '70' }).waitFor();
  // Read on another device up to 60: the first unread is in the latest page (with 70 unread, opening would load
  // the history back to the first of them, which is the unread line's business, not this test's).
  await api(server, 'POST', `/api/conversations/${conv.id}/read`, { token: mine.access_token, body: { up_to_seq: 60 } });
  await conversationItem(pageA, 'Carol Chen').getByTestId('unread-badge').filter({ hasText: '10' }).waitFor();
  await conversationItem(pageA, 'Carol Chen').click();
  await messageBubble(pageA, 'History line 70').waitFor();
  assert.equal(await messageBubble(pageA, 'History line 1', true).count(), 0, 'only the latest page at first');
  const list = pageA.getByTestId('messages');
  await until('the oldest message after scrolling up', async () => {
    await list.evaluate((el) => el.scrollTo({ top: 0 }));
    return (await messageBubble(pageA, 'History line 1', true).count()) === 1;
  });
  const seqs = await pageA.locator('[data-testid=message][data-seq]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-seq'))));
  assert.deepEqual(seqs, Array.from({ length: 70 }, (_, i) => i + 1));
  // Scrolled up: a new message does not yank the view down, a pill offers to jump.
  await list.evaluate((el) => el.scrollTo({ top: 0 }));
  await api(server, 'POST', `/api/conversations/${conv.id}/messages`, { token: carol.access_token, body: { body: 'Are you still there?', client_id: `h-${run}-new` } });
  await pageA.getByTestId('new-messages-pill').waitFor();
  await pageA.getByTestId('new-messages-pill').click();
  await until('pill gone and at the bottom', async () =>
    (await pageA.getByTestId('new-messages-pill').count()) === 0 && (await list.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 60)),
  );
  await until('tab title without unread', async () => (await pageA.title()) === 'Chat');
  await conversationItem(pageA, bob.display).click();
});

test('server restart: both clients reconnect, pending messages are resent, nothing is missed or doubled', async () => {
  await conversationItem(pageB, alice.display).click();
  await messageBubble(pageB, 'Did you read this?').waitFor();
  let t0 = Date.now();
  log('stopping the server');
  await server.stop();
  log(`server stopped in ${Date.now() - t0} ms`);
  await until('alice sees the connection drop', async () => (await connectionState(pageA)) !== 'open');
  await until('bob sees the connection drop', async () => (await connectionState(pageB)) !== 'open');
  // Written while the server is away: shown as pending at once.
  await send(pageA, 'Written while offline');
  await messageBubble(pageA, 'Written while offline').and(pageA.locator('[data-pending=pending]')).waitFor();
  await snap(pageA, 'chat-offline.png');

  log('starting the server again');
  t0 = Date.now();
  await server.start();
  log(`server up again in ${Date.now() - t0} ms`);
  // A message sent meanwhile by another client of Bob's (plain REST), before or while the browsers reconnect.
  const session = await api(server, 'POST', '/api/auth/login', { body: { username: bob.username, password: PASSWORD } });
  const { conversations } = await api(server, 'GET', '/api/conversations', { token: session.access_token });
  const direct = conversations.find((c) => c.kind === 'direct');
  await api(server, 'POST', `/api/conversations/${direct.id}/messages`, { token: session.access_token, body: { body: 'Sent while you were away', client_id: `e2e-${run}` } });

  await until('alice reconnected', async () => (await connectionState(pageA)) === 'open', RECONNECT_WAIT);
  await until('bob reconnected', async () => (await connectionState(pageB)) === 'open', RECONNECT_WAIT);
  log(`both clients reconnected ${Date.now() - t0} ms after the restart began`);
  await messageBubble(pageA, 'Sent while you were away').waitFor({ timeout: RECONNECT_WAIT });
  await messageBubble(pageB, 'Sent while you were away').waitFor({ timeout: RECONNECT_WAIT });
  // The pending message was resent after the reconnect and confirmed; Bob got it.
  await messageBubble(pageB, 'Written while offline').waitFor({ timeout: RECONNECT_WAIT });
  await until('alice pending message confirmed', async () => (await pageA.locator('[data-pending]').count()) === 0, RECONNECT_WAIT);
  // Live again after the restart.
  await send(pageB, 'Back online');
  await messageBubble(pageA, 'Back online').waitFor();
  for (const page of [pageA, pageB]) {
    for (const text of ['Written while offline', 'Sent while you were away', 'Hi Bob!']) {
      assert.equal(await messageBubble(page, text).count(), 1, `exactly one "${text}"`);
    }
  }
  const seqs = await pageA.locator('[data-testid=message][data-seq]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-seq'))));
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'ascending seq');
  assert.equal(new Set(seqs).size, seqs.length, 'no seq twice');
  for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1] + 1, 'no gap in seq');
});

test('logout (in settings) returns to the login screen and forgets the session and its drafts', async () => {
  // A draft Bob left on this browser, and one of another account's, which is not his to forget.
  const bobId = (await api(server, 'POST', '/api/auth/login', { body: { username: bob.username, password: PASSWORD } })).user.id;
  await pageB.evaluate((id) => {
    localStorage.setItem(`chat.draft.${id}.999`, 'a half-written secret');
    localStorage.setItem('chat.draft.424242.1', 'someone else');
  }, bobId);
  await pageB.getByRole('button', { name: 'Settings', exact: true }).click();
  await pageB.getByRole('button', { name: 'Log out' }).click();
  await pageB.getByRole('tab', { name: 'Log in' }).waitFor();
  await until('the session cookie is gone', async () => (await pageB.context().cookies(server.url + '/api/auth/web/refresh')).length === 0);
  const drafts = await pageB.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('chat.draft.')));
  assert.deepEqual(drafts, ['chat.draft.424242.1']);
  // Logged out on purpose: no "you were signed out" message.
  assert.equal(await pageB.getByTestId('signed-out-notice').count(), 0);
  assert.deepEqual(pageErrors, []);
});
