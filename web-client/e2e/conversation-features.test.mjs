// End-to-end: issue 14's conversation features between three users (alice owns the group; carol is on a phone):
// a reply and its quote, jumping to an original far back in the history; reactions seen by both sides and
// toggled off; a mention's @ badge and highlight; pins (the owner pins, a member sees the panel and has no pin
// action); a member promoted to admin who can then rename; a notification level saved and shown; and search →
// jump when the server has it. Every wait is on a condition.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, log, openPage, snapshot, startStack, stopStack, until } from './harness.mjs';

const WAIT = 20_000;
const PASSWORD = 'correct horse battery';
const run = Date.now().toString(36).slice(-5);
const alice = { username: `falice_${run}`, display: 'Alice Liddell' };
const bob = { username: `fbob_${run}`, display: 'Bob Builder' };
const carol = { username: `fcarol_${run}`, display: 'Carol Chen' };
const GROUP = 'Reading group';

let server;
let dataDir;
let browser;
let pageA;
let pageB;
let pageC;
let groupId;
const screenshots = [];
const pageErrors = [];

before(async () => {
  ({ server, browser, dataDir } = await startStack('chat-e2e-features-'));
});

after(() => stopStack({ server, browser, dataDir }, screenshots, pageErrors));

const newPage = (name, viewport) => openPage(browser, name, pageErrors, viewport, WAIT);
const snap = (page, name) => snapshot(page, name, screenshots);

async function login(page, user) {
  await page.goto(server.url + '/');
  await page.getByRole('tab', { name: 'Log in' }).waitFor();
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('form', { name: 'Log in' }).getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('me-name').filter({ hasText: user.display }).waitFor();
  await page.getByTestId('connection-status').and(page.locator('[data-state=open]')).waitFor();
}

const conversationItem = (page) => page.getByTestId('conversation-item').filter({ has: page.locator('.conv-title') }).first();
/** The n-th message of the group: seq 1 is its "created" line, so the first message is seq 2. */
const message = (page, n) => page.locator(`[data-testid=message][data-seq="${n + 1}"]`);
const composer = (page) => page.getByLabel('Message', { exact: true });
const settings = (page) => page.getByRole('dialog', { name: 'Group settings' });

async function openGroup(page) {
  await conversationItem(page).click();
  await page.getByTestId('chat-title').waitFor();
}

/** Shows a message's toolbar (hover on a desktop, focus on a phone) and presses one of its buttons. */
async function action(page, seq, name) {
  const m = message(page, seq);
  await m.locator('.bubble').first().hover();
  await m.getByRole('button', { name, exact: true }).click();
}

async function restSend(user, body, extra = {}) {
  return api(server, 'POST', `/api/conversations/${groupId}/messages`, { token: user.token, body: { body, client_id: `e2e-${Math.random().toString(36).slice(2)}`, ...extra } });
}

test('three users; alice creates a group with bob and carol (carol on a phone)', async () => {
  for (const u of [alice, bob, carol]) {
    const s = await api(server, 'POST', '/api/auth/register', { body: { username: u.username, password: PASSWORD, display_name: u.display } });
    u.id = s.user.id;
    u.token = s.access_token;
  }
  const c = await api(server, 'POST', '/api/conversations', { token: alice.token, body: { kind: 'group', title: GROUP, member_ids: [bob.id, carol.id] } });
  groupId = c.id;
  pageA = await newPage('alice');
  pageB = await newPage('bob');
  pageC = await newPage('carol', { width: 390, height: 780 });
  await Promise.all([login(pageA, alice), login(pageB, bob), login(pageC, carol)]);
  await Promise.all([openGroup(pageA), openGroup(pageB)]);
});

test('reply: alice answers bob with a quote; bob sees it and its click highlights the original', async () => {
  await composer(pageB).fill('Where shall we meet on Thursday?');
  await composer(pageB).press('Enter');
  await message(pageA, 1).waitFor();
  await action(pageA, 1, 'Reply');
  const bar = pageA.getByTestId('reply-bar');
  await bar.getByText('Where shall we meet on Thursday?').waitFor();
  // The composer has the focus: type the answer straight away.
  await until('composer focused', () => composer(pageA).evaluate((el) => el === document.activeElement));
  await composer(pageA).pressSequentially('At the library');
  await snap(pageA, 'features-reply-composer.png');
  await composer(pageA).press('Enter');
  await until('reply bar gone', async () => (await bar.count()) === 0);
  const quote = message(pageB, 2).getByTestId('quote');
  await quote.waitFor();
  assert.match(await quote.innerText(), /Bob Builder[\s\S]*Where shall we meet on Thursday\?/);
  await quote.click();
  await message(pageB, 1).and(pageB.locator('.highlight')).waitFor();
});

test('cancelling a reply: ✕ and Escape take the quote away and keep the focus in the composer', async () => {
  await action(pageA, 1, 'Reply');
  await pageA.getByTestId('reply-bar').getByRole('button', { name: 'Cancel reply' }).click();
  await until('reply bar gone', async () => (await pageA.getByTestId('reply-bar').count()) === 0);
  await action(pageA, 1, 'Reply');
  await composer(pageA).press('Escape');
  await until('reply bar gone after Escape', async () => (await pageA.getByTestId('reply-bar').count()) === 0);
});

test('reactions: bob reacts, both see the count; alice adds hers; bob toggles his off', async () => {
  await action(pageB, 2, 'Add reaction');
  const picker = pageB.getByTestId('reaction-picker');
  await picker.waitFor();
  // Keyboard: the first emoji has the focus; Escape closes and gives the focus back to the button.
  await pageB.keyboard.press('Escape');
  await until('picker closed', async () => (await picker.count()) === 0);
  assert.equal(await message(pageB, 2).getByRole('button', { name: 'Add reaction' }).evaluate((el) => el === document.activeElement), true);
  await pageB.keyboard.press('Enter');
  await picker.getByRole('button', { name: 'React with 👍' }).click();
  const chipA = message(pageA, 2).locator('[data-testid=reaction][data-emoji="👍"]');
  const chipB = message(pageB, 2).locator('[data-testid=reaction][data-emoji="👍"]');
  await chipA.and(pageA.locator('[aria-pressed=false]')).waitFor();
  await chipB.and(pageB.locator('[aria-pressed=true]')).waitFor();
  assert.equal((await chipA.innerText()).replace(/\s+/g, ''), '👍1');
  await chipA.click();
  await until('two reactions on both sides', async () => (await chipA.getAttribute('aria-label')) === '👍 2 reactions, including yours' && (await chipB.getAttribute('aria-label')) === '👍 2 reactions, including yours');
  assert.equal(await chipB.getAttribute('title'), 'You and Alice Liddell reacted with 👍');
  await snap(pageB, 'features-reactions.png');
  await chipB.click();
  await until('bob toggled off', async () => (await chipA.getAttribute('aria-label')) === '👍 1 reaction, including yours' && (await chipB.getAttribute('aria-pressed')) === 'false');
});

test('mention: carol mentions bob from the @ list; his list shows the @ badge, the message is highlighted', async () => {
  // Bob is in the lobby, the group not open.
  await pageB.goto(server.url + '/');
  await pageB.getByTestId('connection-status').and(pageB.locator('[data-state=open]')).waitFor();
  await openGroup(pageC);
  await composer(pageC).pressSequentially('Could @bo');
  const list = pageC.getByTestId('mention-list');
  await list.getByRole('option', { name: new RegExp(bob.display) }).waitFor();
  await snap(pageC, 'features-mention-autocomplete-phone.png');
  await composer(pageC).press('Enter');
  await until('mention inserted', async () => (await composer(pageC).inputValue()) === `Could @${bob.username} `);
  await composer(pageC).pressSequentially('bring the book?');
  await composer(pageC).press('Enter');
  const item = conversationItem(pageB);
  await item.getByTestId('mention-badge').waitFor();
  // The button is named by its visible text plus sr-only words for what only the badge shows (issue 15).
  await item.and(pageB.getByRole('button', { name: /1 mention/ })).waitFor();
  await snap(pageB, 'features-mention-badge.png');
  await item.click();
  const m = message(pageB, 3);
  await m.and(pageB.locator('[data-mentions-me=true]')).waitFor();
  assert.equal(await m.getByTestId('mention').innerText(), `@${bob.username}`);
  await until('badge cleared once read', async () => (await item.getByTestId('mention-badge').count()) === 0);
});

test('pins: alice (owner) pins; carol (member) has no pin action but sees it in the panel', async () => {
  await action(pageA, 1, 'Pin message');
  await message(pageA, 1).getByTestId('pin-mark').waitFor();
  await message(pageC, 1).getByTestId('pin-mark').waitFor();
  await message(pageC, 1).locator('.bubble').click();
  await message(pageC, 1).getByRole('button', { name: 'Reply' }).waitFor();
  assert.equal(await message(pageC, 1).getByRole('button', { name: 'Pin message' }).count(), 0);
  await snap(pageC, 'features-toolbar-phone.png');
  await pageC.getByRole('button', { name: /^Pinned messages/ }).click();
  const panel = pageC.getByRole('dialog', { name: 'Pinned messages' });
  await panel.getByTestId('pins').getByText('Where shall we meet on Thursday?').waitFor();
  assert.equal(await panel.getByRole('button', { name: /^Unpin/ }).count(), 0);
  await snap(pageC, 'features-pins-phone.png');
  await panel.getByRole('button', { name: /^Jump to/ }).click();
  await message(pageC, 1).and(pageC.locator('.highlight')).waitFor();
});

test('roles: alice makes bob an admin; bob can then rename the group and pin', async () => {
  await pageA.getByRole('button', { name: 'Group settings' }).click();
  const dlg = settings(pageA);
  // Nobody's pin or role actions for a plain member in their own settings: carol's view.
  await dlg.getByRole('button', { name: `Make admin: ${bob.display}` }).click();
  await dlg.getByTestId('group-members').getByRole('listitem').filter({ hasText: bob.display }).getByText('Admin', { exact: true }).waitFor();
  await dlg.getByRole('button', { name: `Remove admin: ${bob.display}` }).waitFor();
  await snap(pageA, 'features-roles.png');
  await pageA.keyboard.press('Escape');
  await pageB.getByRole('button', { name: 'Group settings' }).click();
  const name = settings(pageB).getByLabel('Group name');
  await name.fill('Book club');
  await name.press('Enter');
  await pageA.getByTestId('chat-title').filter({ hasText: 'Book club' }).waitFor();
  assert.equal(await settings(pageB).getByRole('button', { name: /^Make / }).count(), 0, 'an admin changes no roles');
  await pageB.keyboard.press('Escape');
  await message(pageB, 2).locator('.bubble').first().hover();
  await message(pageB, 2).getByRole('button', { name: 'Pin message' }).waitFor();
});

test('mute: bob chooses mentions only for 8 hours; the header and the list show it', async () => {
  await pageB.getByTestId('notifications-button').click();
  const dlg = pageB.getByRole('dialog', { name: 'Notifications' });
  await dlg.getByLabel(/Mentions only/).check();
  await dlg.getByLabel('For 8 hours').check();
  await snap(pageB, 'features-notifications.png');
  await dlg.getByRole('button', { name: 'Save' }).click();
  await until('dialog closed', async () => (await dlg.count()) === 0);
  await until('header says mentions only', async () => /Notifications: Mentions only until/.test((await pageB.getByTestId('notifications-button').getAttribute('aria-label')) ?? ''));
  await conversationItem(pageB).getByTestId('muted-icon').waitFor();
  const c = await api(server, 'GET', `/api/conversations/${groupId}`, { token: bob.token });
  assert.equal(c.notifications?.level, 'mentions');
  assert.ok(c.notifications?.until, 'an end time was saved');
});

test('jump: a reply to a message 60 messages back loads the history until the original and highlights it', async () => {
  for (let i = 0; i < 60; i++) await restSend(carol, `filler ${i + 1}`);
  await restSend(alice, 'Back to the very first question', { reply_to_seq: 2 });
  // Found by its text: bob's rename (a line of its own) took a seq too.
  const reply = pageB.getByTestId('message').filter({ hasText: 'Back to the very first question' });
  await reply.waitFor();
  // Bob reloads: his view holds only the latest page, not message 1.
  await pageB.reload();
  await reply.waitFor();
  assert.equal(await message(pageB, 1).count(), 0);
  await reply.getByTestId('quote').click();
  await message(pageB, 1).and(pageB.locator('.highlight')).waitFor();
  const inView = await message(pageB, 1).evaluate((el) => {
    const r = el.getBoundingClientRect();
    const list = el.closest('[data-testid=messages]').getBoundingClientRect();
    return r.top >= list.top && r.bottom <= list.bottom;
  });
  assert.ok(inView, 'the original is scrolled into view');
  await snap(pageB, 'features-jump.png');
});

test('search: a result opens its conversation at the message, loading the history around it', async () => {
  await pageA.getByRole('button', { name: 'Search messages' }).click();
  const dlg = pageA.getByRole('dialog', { name: 'Search messages' });
  await dlg.getByLabel('Search messages').fill('library');
  const hit = dlg.getByTestId('search-hit').first();
  await hit.waitFor();
  await dlg.locator('mark').first().waitFor();
  await snap(pageA, 'features-search.png');
  await hit.click();
  await message(pageA, 2).and(pageA.locator('.highlight')).waitFor();
  await snap(pageA, 'features-search-jump.png');
});

test('phone layout: the group with quotes, reactions, mention and pin at 390 px', async () => {
  await pageC.keyboard.press('Escape');
  await message(pageC, 2).scrollIntoViewIfNeeded();
  await snap(pageC, 'features-phone.png');
  const overflow = await pageC.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflow, false, 'nothing wider than the phone');
  log(`page errors: ${pageErrors.length}`);
  assert.deepEqual(pageErrors, []);
});
