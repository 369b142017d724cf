// End-to-end: one sign-in per browser (issue 15). The refresh token lives only in the HttpOnly cookie and the
// access token only in the page's memory, so: a second tab of the browser is signed in without a login (and
// without spending the cookie: the first tab hands it the token); a reload keeps the session and the open
// conversation, with "Signing in…" rather than a flash of the login form; closing every page and opening a new
// one keeps it (the same context is the same cookie jar, as a browser restart keeps cookies); nothing a script
// can read holds a token; a logout in one tab signs the other out; and with tokens living 6 s, two tabs refresh
// for half a minute without a 429 and without ending the session (a cookie spent twice would end it).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, freePort, log, removeDir, Server, snapshot, startStack, stopStack, tempDir } from './harness.mjs';

const WAIT = 20_000;
const PASSWORD = 'correct horse battery';
const run = Date.now().toString(36).slice(-5);
const alice = { username: `calice_${run}`, display: 'Alice Liddell' };
const bob = { username: `cbob_${run}`, display: 'Bob Builder' };
const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]+/;

let server;
let dataDir;
let browser;
let context;
let directId;
const screenshots = [];
const pageErrors = [];

before(async () => {
  ({ server, browser, dataDir } = await startStack('chat-e2e-cookie-'));
});

after(() => stopStack({ server, browser, dataDir }, screenshots, pageErrors));

const snap = (p, name) => snapshot(p, name, screenshots);
const signedIn = (p, u) => p.getByTestId('me-name').filter({ hasText: u.display }).waitFor();
const loginForm = (p) => p.getByRole('form', { name: 'Log in' });

/** A tab of `ctx` that records whether the login form was ever on screen, and the web refreshes it made. */
async function tab(ctx, name) {
  const p = await ctx.newPage();
  p.on('pageerror', (e) => pageErrors.push(`${name}: ${e.message}`));
  p.refreshes = [];
  p.on('request', (r) => r.url().endsWith('/api/auth/web/refresh') && p.refreshes.push(r.url()));
  await p.addInitScript(() => {
    const seen = () => {
      if (document.querySelector('form[aria-label="Log in"]')) window.__sawLoginForm = true;
      if (document.querySelector('[data-testid=signing-in]')) window.__sawSigningIn = true;
    };
    new MutationObserver(seen).observe(document, { subtree: true, childList: true });
  });
  return p;
}

async function login(p, srv, u) {
  await p.goto(srv.url + '/');
  await loginForm(p).waitFor();
  await p.getByLabel('Username').fill(u.username);
  await p.getByLabel('Password').fill(PASSWORD);
  await loginForm(p).getByRole('button', { name: 'Log in' }).click();
  await signedIn(p, u);
  await p.getByTestId('connection-status').and(p.locator('[data-state=open]')).waitFor();
}

const sawLoginForm = (p) => p.evaluate(() => window.__sawLoginForm === true);

test('setup: alice and bob with a direct chat; alice signs in in one tab', async () => {
  for (const u of [alice, bob]) {
    const s = await api(server, 'POST', '/api/auth/register', { body: { username: u.username, password: PASSWORD, display_name: u.display } });
    u.id = s.user.id;
    u.token = s.access_token;
  }
  directId = (await api(server, 'POST', '/api/conversations', { token: bob.token, body: { kind: 'direct', user_id: alice.id } })).id;
  await api(server, 'POST', `/api/conversations/${directId}/messages`, { token: bob.token, body: { body: 'Hello from Bob', client_id: `c-${run}-1` } });
  context = await browser.newContext({ viewport: { width: 1180, height: 760 } });
  context.setDefaultTimeout(WAIT);
  const first = await tab(context, 'alice-1');
  await login(first, server, alice);
});

test('the session cookie is HttpOnly, Secure, SameSite=Strict and scoped to the web auth path', async () => {
  const cookies = await context.cookies(server.url + '/api/auth/web/refresh');
  const c = cookies.find((x) => x.name === 'chat_refresh');
  assert.ok(c, `a chat_refresh cookie (${cookies.map((x) => x.name).join(',')})`);
  assert.deepEqual({ httpOnly: c.httpOnly, secure: c.secure, sameSite: c.sameSite, path: c.path }, { httpOnly: true, secure: true, sameSite: 'Strict', path: '/api/auth/web' });
  assert.equal((await context.cookies(server.url + '/')).length, 0, 'not sent to the rest of the site');
});

test('a second tab is signed in without a login, and without spending the cookie', async () => {
  const second = await tab(context, 'alice-2');
  await second.goto(server.url + '/');
  await signedIn(second, alice);
  assert.equal(await sawLoginForm(second), false, 'no login form, not even for a moment');
  assert.deepEqual(second.refreshes, [], 'the first tab handed over its token');
  await second.close();
});

test('a reload keeps the session and the open conversation, with "Signing in…" instead of the login form', async () => {
  const [p] = context.pages();
  await p.locator(`[data-testid=conversation-item][data-conversation-id="${directId}"]`).click();
  await p.getByTestId('message').filter({ hasText: 'Hello from Bob' }).waitFor();
  await p.reload();
  await signedIn(p, alice);
  await p.getByTestId('message').filter({ hasText: 'Hello from Bob' }).waitFor();
  assert.equal(new URL(p.url()).pathname, `/c/${directId}`);
  assert.equal(await sawLoginForm(p), false, 'no login form after the reload');
  assert.equal(await p.evaluate(() => window.__sawSigningIn === true), true, '"Signing in…" while the session is fetched');
  await snap(p, 'cookie-01-after-reload.png');
});

test('closing every page and opening a new one keeps the session (the cookie outlives the pages)', async () => {
  for (const p of context.pages()) await p.close();
  const p = await tab(context, 'alice-3');
  await p.goto(`${server.url}/c/${directId}`);
  await signedIn(p, alice);
  await p.getByTestId('message').filter({ hasText: 'Hello from Bob' }).waitFor();
  assert.equal(await sawLoginForm(p), false);
  assert.equal(p.refreshes.length, 1, 'the new page spent the cookie once for its access token');
});

test('no token is kept where a script can read it', async () => {
  const [p] = context.pages();
  const cookie = (await context.cookies(server.url + '/api/auth/web/refresh')).find((x) => x.name === 'chat_refresh').value;
  const readable = await p.evaluate(() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + document.cookie);
  assert.ok(!JWT.test(readable), 'no JWT in localStorage, sessionStorage or document.cookie');
  assert.ok(!readable.includes(cookie), 'no refresh token either');
  assert.equal(await p.evaluate(() => document.cookie), '', 'the cookie is HttpOnly');
});

test('logging out in one tab signs the other out, and a reload stays signed out', async () => {
  const [a] = context.pages();
  const b = await tab(context, 'alice-4');
  await b.goto(server.url + '/');
  await signedIn(b, alice);
  await a.getByRole('button', { name: 'Settings', exact: true }).click();
  await a.getByRole('button', { name: 'Log out' }).click();
  await loginForm(a).waitFor();
  await loginForm(b).waitFor();
  assert.equal(await b.getByTestId('signed-out-notice').count(), 0, 'logged out on purpose: no "you were signed out" message');
  await snap(b, 'cookie-02-other-tab-signed-out.png');
  await b.reload();
  await loginForm(b).waitFor();
  assert.equal((await context.cookies(server.url + '/api/auth/web/refresh')).length, 0, 'the cookie is gone');
  await context.close();
});

test('tokens living 6 s, two tabs for 30 s: refreshes without a 429, and the session lives on', async () => {
  const dir = tempDir('chat-e2e-cookie-ttl-');
  const short = new Server(await freePort(), dir, { CHAT_ACCESS_TOKEN_TTL_SECS: '6' });
  const ctx = await browser.newContext({ viewport: { width: 1180, height: 760 } });
  ctx.setDefaultTimeout(WAIT);
  try {
    await short.start();
    const a = { username: `talice_${run}`, display: 'Alice Short' };
    const b = { username: `tbob_${run}`, display: 'Bob Short' };
    for (const u of [a, b]) {
      const s = await api(short, 'POST', '/api/auth/register', { body: { username: u.username, password: PASSWORD, display_name: u.display } });
      u.id = s.user.id;
      u.token = s.access_token;
    }
    const id = (await api(short, 'POST', '/api/conversations', { token: b.token, body: { kind: 'direct', user_id: a.id } })).id;
    const tab1 = await tab(ctx, 'short-1');
    await login(tab1, short, a);
    const tab2 = await tab(ctx, 'short-2');
    await tab2.goto(`${short.url}/c/${id}`);
    await signedIn(tab2, a);
    const statuses = [];
    for (const t of [tab1, tab2]) t.on('response', (r) => statuses.push(`${r.status()} ${new URL(r.url()).pathname}`));
    const before = tab1.refreshes.length + tab2.refreshes.length;
    await tab1.waitForTimeout(30_000);
    const refreshes = tab1.refreshes.length + tab2.refreshes.length - before;
    log(`web refreshes in 30 s by two tabs: ${refreshes}`);
    // One per lifetime less its margin (6 s − 1.2 s) between both tabs, not one per tab.
    assert.ok(refreshes >= 4 && refreshes <= 8, `about one refresh per lifetime between the tabs (${refreshes})`);
    const refused = statuses.filter((s) => s.startsWith('429') || s.startsWith('401'));
    assert.deepEqual(refused, [], 'no 429 and no 401');
    for (const t of [tab1, tab2]) {
      await t.getByTestId('connection-status').and(t.locator('[data-state=open]')).waitFor();
      assert.equal(await loginForm(t).count(), 0, 'still signed in');
    }
    // The session was never ended: both tabs still take live messages.
    await api(short, 'POST', `/api/conversations/${id}/messages`, { token: (await api(short, 'POST', '/api/auth/login', { body: { username: b.username, password: PASSWORD } })).access_token, body: { body: 'still here?', client_id: `c-${run}-late` } });
    await tab2.getByTestId('message').filter({ hasText: 'still here?' }).waitFor();
    await tab1.locator(`[data-testid=conversation-item][data-conversation-id="${id}"]`).filter({ hasText: 'still here?' }).waitFor();
    await tab1.reload();
    await signedIn(tab1, a);
    assert.deepEqual(pageErrors, []);
  } finally {
    await ctx.close();
    await short.stop();
    if (!process.env.E2E_KEEP) removeDir(dir);
  }
});
