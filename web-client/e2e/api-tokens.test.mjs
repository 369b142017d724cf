// End-to-end: API tokens in Settings. Alice creates a read-only token (an empty name and no scope caught by the
// form first); its secret is shown once, with a copy button that puts it on the clipboard; a script holding it
// reads but cannot send (403 insufficient_scope); once she dismisses it the secret is nowhere on the page, the
// list shows the token's name, scopes and first use; revoking it (after a confirmation) refuses it at once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, snapshot, startStack, stopStack, openPage, until } from './harness.mjs';

const WAIT = 20_000;
const PASSWORD = 'correct horse battery';
const run = Date.now().toString(36).slice(-5);
const alice = { username: `talice_${run}`, display: 'Alice Liddell' };

let server;
let dataDir;
let browser;
let page;
let secret;
let groupId;
const screenshots = [];
const pageErrors = [];

before(async () => {
  ({ server, browser, dataDir } = await startStack('chat-e2e-api-tokens-'));
});

after(() => stopStack({ server, browser, dataDir }, screenshots, pageErrors));

/** A script's call with the token: the status and error code. */
async function withToken(method, path, body) {
  const r = await fetch(server.url + path, {
    method,
    headers: { Authorization: `Bearer ${secret}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await r.json().catch(() => null);
  return { status: r.status, code: json?.error?.code ?? null };
}

const section = () => page.locator('section[aria-labelledby=api-tokens-title]');
const rows = () => page.getByTestId('api-token-row');

test('setup: alice signs in and opens Settings, where she has no tokens yet', async () => {
  const registered = await api(server, 'POST', '/api/auth/register', { body: { username: alice.username, password: PASSWORD, display_name: alice.display } });
  groupId = (await api(server, 'POST', '/api/conversations', { token: registered.access_token, body: { kind: 'group', title: 'Reports', member_ids: [] } })).id;
  page = await openPage(browser, 'alice', pageErrors, undefined, WAIT);
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  await page.goto(server.url + '/');
  await page.getByRole('tab', { name: 'Log in' }).click();
  await page.getByLabel('Username').fill(alice.username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('form', { name: 'Log in' }).getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('me-name').filter({ hasText: alice.display }).waitFor();
  await page.getByRole('button', { name: 'Settings', exact: true }).click();
  await page.getByRole('heading', { name: 'API tokens', level: 3 }).waitFor();
  await section().getByTestId('no-api-tokens').waitFor();
});

test('the form asks for a name and a scope before anything is sent', async () => {
  const form = page.getByRole('form', { name: 'Create an API token' });
  await form.getByRole('checkbox', { name: /^Read/ }).uncheck();
  await form.getByRole('button', { name: 'Create token' }).click();
  await form.getByText('Name the token, to tell it apart later.').waitFor();
  await form.getByText('Choose at least one scope.').waitFor();
  assert.equal(await form.getByLabel('Token name').getAttribute('aria-invalid'), 'true');
  assert.equal(await rows().count(), 0);
});

test('a new token is shown once, copies to the clipboard, and works for a script within its scopes', async () => {
  const form = page.getByRole('form', { name: 'Create an API token' });
  await form.getByLabel('Token name').fill('weekly report');
  await form.getByRole('checkbox', { name: /^Read/ }).check();
  await form.getByLabel('Expires after').selectOption('90');
  await form.getByRole('button', { name: 'Create token' }).click();
  const shown = page.getByTestId('new-api-token');
  await shown.waitFor();
  secret = await page.getByTestId('new-api-token-secret').inputValue();
  assert.match(secret, /^chat_pat_[A-Za-z0-9_-]{40,}$/);
  await shown.getByRole('button', { name: 'Copy token' }).click();
  await shown.getByText('Copied to the clipboard.').waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
  await snapshot(page, 'api-token-created.png', screenshots);

  assert.equal((await withToken('GET', `/api/conversations/${groupId}/messages`)).status, 200, 'read');
  const send = await withToken('POST', `/api/conversations/${groupId}/messages`, { body: 'from a script', client_id: 'r1' });
  assert.deepEqual(send, { status: 403, code: 'insufficient_scope' }, 'a read token cannot send');
  assert.equal((await withToken('GET', '/api/tokens')).code, 'insufficient_scope', 'a token cannot list tokens');
});

test('after "Done" the secret is gone from the page; the list shows the name, scope, lifetime and first use', async () => {
  await page.getByTestId('new-api-token').getByRole('button', { name: 'Done' }).click();
  await page.getByTestId('new-api-token').waitFor({ state: 'detached' });
  assert.equal((await page.content()).includes(secret), false, 'the secret is not shown again');
  await page.reload();
  await page.getByRole('heading', { name: 'API tokens', level: 3 }).waitFor();
  await until('the token listed', async () => (await rows().count()) === 1);
  const row = rows().first();
  await row.getByText('weekly report', { exact: true }).waitFor();
  assert.equal(await row.getByTestId('api-token-scopes').textContent(), 'read');
  await row.getByText('Expires in 90 days').waitFor();
  await row.getByText(/last used/).waitFor();
  assert.equal((await page.content()).includes(secret), false);
});

test('revoking the token (after a confirmation) refuses it at once', async () => {
  await rows().first().getByRole('button', { name: 'Revoke weekly report' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByText('Anything using this token is refused from now on').waitFor();
  await dialog.getByRole('button', { name: 'Revoke', exact: true }).click();
  await page.getByText('“weekly report” was revoked.').waitFor();
  await page.getByTestId('no-api-tokens').waitFor();
  assert.deepEqual(await withToken('GET', '/api/users/me'), { status: 401, code: 'token_revoked' });
  await snapshot(page, 'api-token-revoked.png', screenshots);
  assert.deepEqual(pageErrors, []);
});
