// End-to-end: group management between three users in three browser contexts (rename, add, remove, leave,
// all live on the other clients), and Swagger UI at /docs/ with a real access token. Waits are on conditions.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, log, openPage, snapshot, startStack, stopStack, until } from './harness.mjs';

const WAIT = 20_000;
const PASSWORD = 'correct horse battery';
const run = Date.now().toString(36).slice(-5);
const alice = { username: `galice_${run}`, display: 'Alice Liddell' };
const bob = { username: `gbob_${run}`, display: 'Bob Builder' };
const carol = { username: `gcarol_${run}`, display: 'Carol Chen' };

let server;
let dataDir;
let browser;
let pageA;
let pageB;
let pageC;
const screenshots = [];
const pageErrors = [];

before(async () => {
  ({ server, browser, dataDir } = await startStack('chat-e2e-groups-'));
});

after(() => stopStack({ server, browser, dataDir }, screenshots, pageErrors));

const newPage = (name, viewport) => openPage(browser, name, pageErrors, viewport, WAIT);

async function login(page, user) {
  await page.goto(server.url + '/');
  await page.getByRole('tab', { name: 'Log in' }).waitFor();
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('form', { name: 'Log in' }).getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('me-name').filter({ hasText: user.display }).waitFor();
  await page.getByTestId('connection-status').and(page.locator('[data-state=open]')).waitFor();
}

const snap = (page, name) => snapshot(page, name, screenshots);

const conversationItem = (page, title) => page.getByTestId('conversation-item').filter({ has: page.locator('.conv-title').getByText(title, { exact: true }) });
const settings = (page) => page.getByRole('dialog', { name: 'Group settings' });
const memberRow = (page, name) => settings(page).getByTestId('group-members').getByRole('listitem').filter({ hasText: name });
const memberNames = (page) => settings(page).getByTestId('group-members').locator('.person-text strong').allTextContents();

async function openSettings(page) {
  await page.getByRole('button', { name: 'Group settings' }).click();
  await settings(page).waitFor();
}

test('three users log in; alice creates a group with bob', async () => {
  for (const u of [alice, bob, carol]) {
    await api(server, 'POST', '/api/auth/register', { body: { username: u.username, password: PASSWORD, display_name: u.display } });
  }
  pageA = await newPage('alice');
  pageB = await newPage('bob');
  pageC = await newPage('carol', { width: 390, height: 780 });
  await login(pageA, alice);
  await login(pageB, bob);
  await login(pageC, carol);
  await pageA.getByRole('button', { name: 'New group' }).click();
  await pageA.getByLabel('Group name').fill('Book club');
  await pageA.getByLabel('Add members').fill(bob.username);
  await pageA.getByRole('checkbox', { name: new RegExp(bob.display) }).check();
  await pageA.getByRole('button', { name: 'Create group' }).click();
  await pageA.getByTestId('chat-title').filter({ hasText: 'Book club' }).waitFor();
  await conversationItem(pageB, 'Book club').waitFor();
});

test('group settings list members with roles; the owner renames, the other side sees it live', async () => {
  await openSettings(pageA);
  await memberRow(pageA, alice.display).getByText('Owner · you').waitFor();
  await memberRow(pageA, bob.display).getByText('Member', { exact: true }).waitFor();
  const name = settings(pageA).getByLabel('Group name');
  await name.fill('Reading circle');
  await name.press('Enter');
  await conversationItem(pageB, 'Reading circle').waitFor();
  assert.equal(await conversationItem(pageB, 'Book club').count(), 0);
  await pageA.getByTestId('chat-title').filter({ hasText: 'Reading circle' }).waitFor();
});

test('the owner adds carol: she gets the group live; as a plain member she can only leave', async () => {
  await settings(pageA).getByLabel('Add people by username').fill(carol.username);
  await settings(pageA).getByRole('button', { name: `Add ${carol.display} to the group` }).click();
  await memberRow(pageA, carol.display).waitFor();
  await conversationItem(pageC, 'Reading circle').click();
  await pageC.getByTestId('chat-title').filter({ hasText: 'Reading circle' }).waitFor();
  await openSettings(pageC);
  await memberRow(pageC, carol.display).getByText('Member · you').waitFor();
  assert.equal(await settings(pageC).getByRole('button', { name: 'Rename' }).count(), 0);
  assert.equal(await settings(pageC).getByRole('button', { name: /^Remove / }).count(), 0);
  assert.equal(await settings(pageC).getByLabel('Add people by username').count(), 0);
  await settings(pageC).getByRole('button', { name: 'Leave group' }).waitFor();
  await snap(pageC, 'group-settings-phone.png');
  await pageC.keyboard.press('Escape');
  await until('carol settings closed', async () => (await settings(pageC).count()) === 0);
});

test('in a group, "seen by" names who has read my message so far; ✓✓ once everyone has', async () => {
  // Carol has the group open; Bob looks at his lobby, so only Carol reads at first.
  if (await settings(pageA).count()) {
    await pageA.keyboard.press('Escape');
    await until('alice settings closed', async () => (await settings(pageA).count()) === 0);
  }
  const box = pageA.getByLabel('Message', { exact: true });
  await box.fill('Seen by whom?');
  await box.press('Enter');
  const mine = pageA.getByTestId('message').filter({ has: pageA.getByTestId('message-body').getByText('Seen by whom?') });
  // A message counts as read in the window the user is using: Carol's click gives hers the focus.
  await pageC.getByTestId('message').filter({ hasText: 'Seen by whom?' }).click();
  await mine.getByTestId('seen-count').filter({ hasText: 'seen by 1' }).waitFor();
  // Bob's client has it too (he is online, in his lobby): delivered to everyone, seen by Carol only.
  await mine.locator('[data-tick=delivered]').waitFor();
  assert.equal(await mine.getByTestId('tick').getAttribute('aria-label'), `Delivered, seen by ${carol.display}`);
  await snap(pageA, 'group-seen-by.png');
  await conversationItem(pageB, 'Reading circle').click();
  await mine.locator('[data-tick=read]').waitFor();
  await openSettings(pageA); // where the next step goes on
});

test('the owner removes carol: her client drops the group live and goes back to the lobby', async () => {
  await snap(pageA, 'group-settings-desktop.png');
  await settings(pageA).getByRole('button', { name: `Remove ${carol.display} from the group` }).click();
  await until('carol gone from the member list', async () => !(await memberNames(pageA)).includes(carol.display));
  await until('group gone from carol lobby', async () => (await conversationItem(pageC, 'Reading circle').count()) === 0);
  // Phone width: back on the lobby pane.
  await pageC.locator('.layout[data-pane=lobby]').waitFor();
  assert.equal(new URL(pageC.url()).pathname, '/');
});

test('bob leaves: the group leaves his lobby, alice sees the member list shrink', async () => {
  assert.deepEqual(await memberNames(pageA), [alice.display, bob.display]);
  await conversationItem(pageB, 'Reading circle').click();
  await openSettings(pageB);
  await settings(pageB).getByRole('button', { name: 'Leave group' }).click();
  // The confirmation takes the focus: Enter confirms from the keyboard.
  await settings(pageB).getByRole('button', { name: 'Leave', exact: true }).and(pageB.locator(':focus')).waitFor();
  await pageB.keyboard.press('Enter');
  await pageB.getByText(`Welcome, ${bob.display}`).waitFor();
  await until('group gone from bob lobby', async () => (await conversationItem(pageB, 'Reading circle').count()) === 0);
  assert.equal(new URL(pageB.url()).pathname, '/');
  await until('alice sees one member left', async () => JSON.stringify(await memberNames(pageA)) === JSON.stringify([alice.display]));
  await settings(pageA).getByRole('heading', { name: '1 member' }).waitFor();
  assert.deepEqual(pageErrors, []);
});

test('swagger UI at /docs/: authorize with an access token, then try GET /api/users/me', async () => {
  const session = await api(server, 'POST', '/api/auth/login', { body: { username: alice.username, password: PASSWORD } });
  const page = await newPage('swagger');
  await page.goto(server.url + '/docs/');
  await page.locator('.swagger-ui .auth-wrapper').getByRole('button', { name: /Authorize/ }).click();
  const modal = page.locator('.swagger-ui .dialog-ux');
  // The bearer field (its aria-label is its id, "auth-bearer-value").
  await modal.locator('#auth-bearer-value').fill(session.access_token);
  // The modal's "Authorize" button is labelled "Apply credentials" for assistive technology. Each scheme (bearer,
  // media_token) has a form of its own: the bearer's.
  const buttons = modal.locator('form').filter({ hasText: /bearer\s*\(http, Bearer\)/ }).locator('.auth-btn-wrapper');
  await buttons.getByRole('button', { name: 'Apply credentials' }).click();
  await buttons.locator('button', { hasText: 'Logout' }).waitFor();
  await buttons.getByRole('button', { name: 'Close' }).click();
  await modal.waitFor({ state: 'detached' });
  const op = page.locator('#operations-users-get_me');
  await op.locator('.opblock-summary').first().click();
  await op.getByRole('button', { name: 'Try it out' }).click();
  await op.getByRole('button', { name: 'Execute' }).click();
  const status = op.locator('.live-responses-table .response .response-col_status');
  await status.first().waitFor();
  assert.equal((await status.first().textContent())?.trim(), '200');
  await op.locator('.live-responses-table .response-col_description').getByText(alice.username).first().waitFor();
  await snap(page, 'swagger-users-me.png');
  await page.context().close();
});
