// End-to-end: issue 15's profile between two users. Bob renames himself in the profile dialog (an empty name
// caught by the form, a control character refused by the server at the field, axe on the dialog) and alice sees
// the new name live — her list, the direct chat's header, his quoted message, his messages and typing line in a
// group — without a reload; alice finds him by a part of his display name ("rob"), shown with his username and
// the match marked; bob closes his page and alice's header says when he was last seen, after a reload too.
// Registered only while the spec describes `PATCH /api/users/me`: a server without it has nothing to test here.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { api, log, repoDir, snapshot, startStack, stopStack } from './harness.mjs';

const spec = JSON.parse(readFileSync(join(repoDir, 'openapi', 'openapi.json'), 'utf8'));
const hasProfile = Boolean(spec.paths['/api/users/me']?.patch);

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
const WAIT = 20_000;
const PASSWORD = 'correct horse battery';
const run = Date.now().toString(36).slice(-5);
const alice = { username: `palice_${run}`, display: 'Alice Liddell' };
const bob = { username: `pbob_${run}`, display: 'Bob' };
const NEW_NAME = 'Robert Smith';
const GROUP = 'Weekend plans';

let server;
let dataDir;
let browser;
let pageA;
let pageB;
let directId;
let groupId;
const screenshots = [];
const pageErrors = [];

if (hasProfile) {
  before(async () => {
    ({ server, browser, dataDir } = await startStack('chat-e2e-profile-'));
  });

  after(() => stopStack({ server, browser, dataDir }, screenshots, pageErrors));

  test('setup: alice and bob, a direct chat where alice quotes bob, and a group', async () => {
    for (const u of [alice, bob]) {
      const s = await api(server, 'POST', '/api/auth/register', { body: { username: u.username, password: PASSWORD, display_name: u.display } });
      u.id = s.user.id;
      u.token = s.access_token;
    }
    directId = (await api(server, 'POST', '/api/conversations', { token: bob.token, body: { kind: 'direct', user_id: alice.id } })).id;
    groupId = (await api(server, 'POST', '/api/conversations', { token: alice.token, body: { kind: 'group', title: GROUP, member_ids: [bob.id] } })).id;
    const first = await send(directId, bob, 'Are we still on for Saturday?');
    await send(directId, alice, 'Yes! See you at ten.', { reply_to_seq: first.seq });
    await send(groupId, bob, 'I can bring the tent.');
    await send(groupId, alice, 'Great, I have the stove.');
    pageA = await newPage('alice');
    pageB = await newPage('bob');
    await Promise.all([login(pageA, alice), login(pageB, bob)]);
    await item(pageA, directId).click();
    await message(pageA, 'See you at ten').getByTestId('quote-name').filter({ hasText: bob.display }).waitFor();
    await subtitle(pageA).filter({ hasText: /^online$/ }).waitFor();
    assert.equal(await title(pageA).innerText(), bob.display);
  });

  test('the profile dialog: an empty name caught by the form, a control character refused at the field, axe clean', async () => {
    await pageB.getByTestId('me-button').click();
    const d = dialog(pageB);
    await d.waitFor();
    assert.equal(await pageB.evaluate(() => document.activeElement?.labels?.[0]?.textContent), 'Display name', 'the focus starts in the name');
    const input = d.getByLabel('Display name');
    await input.fill('   ');
    await d.getByRole('button', { name: 'Save' }).click();
    assert.equal(await d.getByTestId('display-name-error').innerText(), 'Enter a display name.');
    // The form leaves control characters to the server: its 422 must reach the field in words.
    await input.fill('Rob\u0007ert');
    await d.getByRole('button', { name: 'Save' }).click();
    await d.getByTestId('display-name-error').filter({ hasText: /^Not accepted:/ }).waitFor();
    assert.equal(await input.getAttribute('aria-invalid'), 'true');
    assert.equal(await pageB.getByTestId('me-name').innerText(), bob.display, 'a refused name changes nothing');
    for (const theme of ['light', 'dark']) {
      await pageB.emulateMedia({ colorScheme: theme });
      await assertClean(pageB, `the profile dialog with its error (${theme})`, 'dialog[open]');
      await snap(pageB, `profile-${theme}-dialog-error.png`);
    }
    await pageB.emulateMedia({ colorScheme: 'light' });
  });

  test('bob saves a new name: his header at once, alice live in her list, the header, the quote and the group', async () => {
    const d = dialog(pageB);
    await d.getByLabel('Display name').fill(`  ${NEW_NAME} `);
    await d.getByRole('button', { name: 'Save' }).click();
    await d.waitFor({ state: 'detached' });
    assert.equal(await pageB.getByTestId('me-name').innerText(), NEW_NAME);

    await title(pageA).filter({ hasText: NEW_NAME }).waitFor();
    await item(pageA, directId).filter({ hasText: NEW_NAME }).waitFor();
    await message(pageA, 'See you at ten').getByTestId('quote-name').filter({ hasText: NEW_NAME }).waitFor();
    await snap(pageA, 'profile-light-renamed-direct.png');

    await item(pageA, groupId).click();
    await message(pageA, 'bring the tent').getByTestId('sender-name').filter({ hasText: NEW_NAME }).waitFor();
    await subtitle(pageA).filter({ hasText: NEW_NAME }).waitFor();
    await item(pageB, groupId).click();
    await pageB.getByLabel('Message', { exact: true }).pressSequentially('packing', { delay: 30 });
    await pageA.getByTestId('typing').filter({ hasText: `${NEW_NAME} is typing` }).waitFor();
    await pageA.emulateMedia({ colorScheme: 'dark' });
    await snap(pageA, 'profile-dark-renamed-group.png');
    await pageA.emulateMedia({ colorScheme: 'light' });

    // The new name is bob's for good: a reload of his page starts from it.
    await pageB.reload();
    await pageB.getByTestId('me-name').filter({ hasText: NEW_NAME }).waitFor();
  });

  test('alice finds bob by a part of his display name, shown with his username and the match marked', async () => {
    await pageA.getByRole('button', { name: 'New chat' }).click();
    const d = dialog(pageA);
    await d.getByLabel('Find people by username or name').fill('rob');
    const row = d.getByTestId('search-results').locator('li').filter({ hasText: NEW_NAME });
    await row.waitFor();
    assert.equal(await row.getByTestId('person-username').innerText(), `@${bob.username}`);
    assert.equal(await row.getByTestId('person-name').locator('mark').innerText(), 'Rob');
    await assertClean(pageA, 'the people search with a marked match (light)', 'dialog[open]');
    await snap(pageA, 'profile-light-people-search.png');
    // Escape in a filled search field clears the field first (Chromium), so the dialog is closed with ✕.
    await d.getByRole('button', { name: 'Close' }).click();
    await d.waitFor({ state: 'detached' });
  });

  test("bob closes his page: alice's header says when he was last seen, after a reload too", async () => {
    await item(pageA, directId).click();
    await subtitle(pageA).filter({ hasText: /^online$/ }).waitFor();
    await pageB.context().close();
    await subtitle(pageA).filter({ hasText: /^last seen (just now|1 min ago)$/ }).waitFor();
    await snap(pageA, 'profile-light-last-seen.png');
    await pageA.reload();
    await subtitle(pageA).filter({ hasText: /^last seen / }).waitFor();
    await pageA.emulateMedia({ colorScheme: 'dark' });
    await snap(pageA, 'profile-dark-last-seen.png');
    log(`alice's header after bob left: "${await subtitle(pageA).innerText()}"`);
    assert.deepEqual(pageErrors, []);
  });
}

/** A page in a context of its own; the server's CSP (script-src 'self') would refuse the injected axe script. */
async function newPage(name) {
  const context = await browser.newContext({ viewport: { width: 1180, height: 760 }, bypassCSP: true });
  context.setDefaultTimeout(WAIT);
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`${name}: ${e.message}`));
  return page;
}

const snap = (page, name) => snapshot(page, name, screenshots);
const dialog = (page) => page.locator('dialog[open]');
const item = (page, id) => page.locator(`[data-testid=conversation-item][data-conversation-id="${id}"]`);
const title = (page) => page.getByTestId('chat-title');
const subtitle = (page) => page.getByTestId('chat-subtitle');
const message = (page, text) => page.getByTestId('message').filter({ hasText: text });

async function send(id, user, body, extra = {}) {
  return api(server, 'POST', `/api/conversations/${id}/messages`, { token: user.token, body: { body, client_id: `p-${Math.random().toString(36).slice(2)}`, ...extra } });
}

async function login(page, u) {
  await page.goto(server.url + '/');
  await page.getByRole('tab', { name: 'Log in' }).waitFor();
  await page.getByLabel('Username').fill(u.username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('form', { name: 'Log in' }).getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('me-name').filter({ hasText: u.display }).waitFor();
  await page.getByTestId('connection-status').and(page.locator('[data-state=open]')).waitFor();
}

/** No serious or critical axe violation inside `include`. */
async function assertClean(page, where, include) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE });
  const found = await page.evaluate(async (sel) => {
    const r = await window.axe.run({ include: [sel] }, { resultTypes: ['violations'] });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(' | ')}`);
  }, include);
  if (found.length) log(`${where}:\n  ${found.join('\n  ')}`);
  assert.deepEqual(found, [], `no serious or critical violations on ${where}`);
}
