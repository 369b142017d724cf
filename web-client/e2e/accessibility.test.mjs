// End-to-end accessibility (issue 15, item 10): axe-core on the lobby, a direct chat, a group and every dialog
// (the profile dialog among them),
// in the light and the dark theme, with no serious or critical violation; a dialog starts in its first field
// and gives the focus back to its opener on Escape and on close; Ctrl/Cmd+K jumps to a conversation; the
// theme follows the system and the toggle's choice survives a reload. Screenshots of both themes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, axeViolations, log, snapshot, startStack, stopStack } from './harness.mjs';

const WAIT = 20_000;
const PASSWORD = 'correct horse battery';
const run = Date.now().toString(36).slice(-5);
const alice = { username: `aalice_${run}`, display: 'Alice Liddell' };
const bob = { username: `abob_${run}`, display: 'Bob Builder' };
const GROUP = 'Book club';

let server;
let dataDir;
let browser;
let page;
let directId;
let groupId;
const screenshots = [];
const pageErrors = [];

before(async () => {
  ({ server, browser, dataDir } = await startStack('chat-e2e-a11y-'));
});

after(() => stopStack({ server, browser, dataDir }, screenshots, pageErrors));

const snap = (p, name) => snapshot(p, name, screenshots);
const item = (p, id) => p.locator(`[data-testid=conversation-item][data-conversation-id="${id}"]`);
const dialog = (p) => p.locator('dialog[open]');

async function assertClean(p, where, include) {
  const found = await axeViolations(p, include);
  if (found.length) log(`${where}:\n  ${found.join('\n  ')}`);
  assert.deepEqual(found, [], `no serious or critical violations on ${where}`);
}

async function login(p, u) {
  await p.goto(server.url + '/');
  await p.getByRole('tab', { name: 'Log in' }).waitFor();
  await p.getByLabel('Username').fill(u.username);
  await p.getByLabel('Password').fill(PASSWORD);
  await p.getByRole('form', { name: 'Log in' }).getByRole('button', { name: 'Log in' }).click();
  await p.getByTestId('me-name').filter({ hasText: u.display }).waitFor();
  await p.getByTestId('connection-status').and(p.locator('[data-state=open]')).waitFor();
}

/** Opens a dialog with `open`, checks where the focus starts, runs axe on it, closes it with Escape. */
async function checkDialog(name, open, { focus, theme, shot }) {
  const opener = await open();
  const d = dialog(page);
  await d.waitFor();
  if (focus) {
    const at = await page.evaluate(() => ({ tag: document.activeElement?.tagName, type: document.activeElement?.getAttribute('type'), label: document.activeElement?.labels?.[0]?.textContent ?? document.activeElement?.textContent }));
    assert.equal(at.label?.trim(), focus, `${name}: the focus starts in "${focus}" (${JSON.stringify(at)})`);
  }
  await assertClean(page, `the ${name} dialog (${theme})`, 'dialog[open]');
  if (shot) await snap(page, shot);
  await page.keyboard.press('Escape');
  await d.waitFor({ state: 'detached' });
  if (opener) assert.ok(await opener.evaluate((el) => el === document.activeElement), `${name}: Escape gives the focus back to its opener`);
}

test('setup: alice and bob, a direct chat with a link and a group', async () => {
  for (const u of [alice, bob]) {
    const s = await api(server, 'POST', '/api/auth/register', { body: { username: u.username, password: PASSWORD, display_name: u.display } });
    u.id = s.user.id;
    u.token = s.access_token;
  }
  directId = (await api(server, 'POST', '/api/conversations', { token: bob.token, body: { kind: 'direct', user_id: alice.id } })).id;
  groupId = (await api(server, 'POST', '/api/conversations', { token: alice.token, body: { kind: 'group', title: GROUP, member_ids: [bob.id] } })).id;
  for (const [id, u, body] of [
    [directId, bob, 'Hi Alice! The notes are at https://example.com/notes.'],
    [directId, alice, 'Thanks, reading them now.'],
    [groupId, bob, 'Next book?'],
    [groupId, alice, 'Something short, please.'],
  ]) {
    await api(server, 'POST', `/api/conversations/${id}/messages`, { token: u.token, body: { body, client_id: `a11y-${Math.random().toString(36).slice(2)}` } });
  }
  // The server's CSP (script-src 'self') would refuse the injected axe script, as it should any other.
  const context = await browser.newContext({ viewport: { width: 1180, height: 760 }, bypassCSP: true });
  context.setDefaultTimeout(WAIT);
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`alice: ${e.message}`));
  await page.emulateMedia({ colorScheme: 'light' });
  await login(page, alice);
});

for (const theme of ['light', 'dark']) {
  test(`axe: the lobby, a chat, a group and every dialog have no serious or critical violations (${theme})`, async () => {
    await page.emulateMedia({ colorScheme: theme });
    await page.goto(server.url + '/');
    await page.getByTestId('me-name').waitFor();
    await item(page, directId).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), theme, 'the theme follows the system');
    await assertClean(page, `the lobby (${theme})`);
    await snap(page, `a11y-${theme}-lobby.png`);

    await checkDialog('New chat', async () => (await page.getByRole('button', { name: 'New chat' }).focus(), await page.keyboard.press('Enter'), page.getByRole('button', { name: 'New chat' })), { focus: 'Find people by username or name', theme });
    await checkDialog('Profile', async () => (await page.getByTestId('me-button').click(), page.getByTestId('me-button')), { focus: 'Display name', theme, shot: `a11y-${theme}-profile.png` });
    await checkDialog('New group', async () => (await page.getByRole('button', { name: 'New group' }).click(), page.getByRole('button', { name: 'New group' })), { focus: 'Group name', theme });
    await checkDialog('Search', async () => (await page.getByRole('button', { name: 'Search messages' }).click(), page.getByRole('button', { name: 'Search messages' })), { theme });
    await checkDialog('Switcher', async () => (await page.keyboard.press('Control+k'), null), { focus: 'Conversation name', theme });

    await item(page, directId).click();
    await page.getByTestId('message').filter({ hasText: 'reading them now' }).waitFor();
    await assertClean(page, `a direct chat (${theme})`);
    await snap(page, `a11y-${theme}-chat.png`);
    const head = page.locator('.chat-head');
    await checkDialog('Block', async () => (await head.getByRole('button', { name: `Block ${bob.display}` }).click(), head.getByRole('button', { name: `Block ${bob.display}` })), { focus: 'Block', theme });

    await item(page, groupId).click();
    await page.getByTestId('message').filter({ hasText: 'Something short' }).waitFor();
    await assertClean(page, `a group (${theme})`);
    await snap(page, `a11y-${theme}-group.png`);
    await checkDialog('Group settings', async () => (await head.getByRole('button', { name: 'Group settings' }).click(), head.getByRole('button', { name: 'Group settings' })), { theme, shot: `a11y-${theme}-group-settings.png` });
    await checkDialog('Pinned messages', async () => (await head.getByRole('button', { name: /^Pinned messages/ }).click(), head.getByRole('button', { name: /^Pinned messages/ })), { theme });
    await checkDialog('Notifications', async () => (await head.getByRole('button', { name: /^Notifications:/ }).click(), head.getByRole('button', { name: /^Notifications:/ })), { theme });
  });
}

test('the dialog closed with ✕ gives the focus back to its opener too', async () => {
  const opener = page.getByRole('button', { name: 'New chat' });
  await opener.click();
  await dialog(page).getByRole('button', { name: 'Close' }).click();
  await dialog(page).waitFor({ state: 'detached' });
  assert.ok(await opener.evaluate((el) => el === document.activeElement));
});

test('Ctrl+K jumps to a conversation by typing part of its name', async () => {
  await page.keyboard.press('Control+k');
  await page.getByLabel('Conversation name').fill('book');
  await page.getByTestId('switcher-list').getByRole('option', { name: GROUP }).waitFor();
  await page.keyboard.press('Enter');
  await page.getByTestId('chat-title').filter({ hasText: GROUP }).waitFor();
  assert.equal(new URL(page.url()).pathname, `/c/${groupId}`);
});

test('the theme toggle overrides the system, and the choice survives a reload', async () => {
  await page.emulateMedia({ colorScheme: 'light' });
  await page.reload();
  await page.getByTestId('me-name').waitFor();
  const toggle = page.getByTestId('theme-toggle');
  assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
  await toggle.click();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  await page.reload();
  await page.getByTestId('chat-title').waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark', 'the pick is kept');
  assert.equal(await page.getByTestId('theme-toggle').getAttribute('aria-pressed'), 'true');
  await snap(page, 'a11y-toggled-dark-group.png');
  await page.getByTestId('theme-toggle').click();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light');
});
