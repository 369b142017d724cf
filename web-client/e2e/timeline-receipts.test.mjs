// End-to-end: timeline system lines and delivered receipts (issue 15). In a group, creating, adding, renaming,
// removing and leaving show as centred lines of who did what, never as bubbles with actions; Up edits the last
// own message, not an own rename; the unread badge counts them as the server does; a member removed while
// looking at the group is told so. axe-core finds nothing serious on the group with its lines. In a direct
// chat, own messages go ✓ sent → ✓✓ delivered (the other side's client has them) → ✓✓ read, delivered also
// after a reload and for messages fetched after being offline, and a burst of messages is acknowledged in a few
// coalesced frames, not one per message.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, axeViolations, log, openPage, snapshot, startStack, stopStack, until } from './harness.mjs';

const WAIT = 20_000;
const PASSWORD = 'correct horse battery';
const run = Date.now().toString(36).slice(-5);
const alice = { username: `lalice_${run}`, display: 'Alice Liddell' };
const bob = { username: `lbob_${run}`, display: 'Bob Builder' };
const carol = { username: `lcarol_${run}`, display: 'Carol Chen' };

let server;
let dataDir;
let browser;
let pageA;
let pageB;
let pageC;
let groupId;
let directId;
const screenshots = [];
const pageErrors = [];
/** Client frames bob's page sent, by type. */
const bobFrames = [];

before(async () => {
  ({ server, browser, dataDir } = await startStack('chat-e2e-timeline-'));
});

after(() => stopStack({ server, browser, dataDir }, screenshots, pageErrors));

const snap = (p, name) => snapshot(p, name, screenshots);
const item = (p, id) => p.locator(`[data-testid=conversation-item][data-conversation-id="${id}"]`);
const lines = (p) => p.getByTestId('system-line');
const bubble = (p, text) => p.getByTestId('message').filter({ has: p.getByTestId('message-body').getByText(text, { exact: true }) });
const tickOf = (p, text) => bubble(p, text).getByTestId('tick');
const composer = (p) => p.getByLabel('Message', { exact: true });
const say = (u, id, body) => api(server, 'POST', `/api/conversations/${id}/messages`, { token: u.token, body: { body, client_id: `t-${Math.random().toString(36).slice(2)}` } });

async function login(p, u) {
  await p.goto(server.url + '/');
  await p.getByRole('tab', { name: 'Log in' }).waitFor();
  await p.getByLabel('Username').fill(u.username);
  await p.getByLabel('Password').fill(PASSWORD);
  await p.getByRole('form', { name: 'Log in' }).getByRole('button', { name: 'Log in' }).click();
  await p.getByTestId('me-name').filter({ hasText: u.display }).waitFor();
  await p.getByTestId('connection-status').and(p.locator('[data-state=open]')).waitFor();
}

test('setup: alice, bob and carol; alice creates the group "Trip" with bob', async () => {
  for (const u of [alice, bob, carol]) {
    const s = await api(server, 'POST', '/api/auth/register', { body: { username: u.username, password: PASSWORD, display_name: u.display } });
    u.id = s.user.id;
    u.token = s.access_token;
  }
  groupId = (await api(server, 'POST', '/api/conversations', { token: alice.token, body: { kind: 'group', title: 'Trip', member_ids: [bob.id] } })).id;
  await say(bob, groupId, 'Where to?');
  // axe's script is injected, which the server's CSP would refuse as it should any other.
  const context = await browser.newContext({ viewport: { width: 1180, height: 760 }, bypassCSP: true });
  context.setDefaultTimeout(WAIT);
  pageA = await context.newPage();
  pageA.on('pageerror', (e) => pageErrors.push(`alice: ${e.message}`));
  await login(pageA, alice);
  pageC = await openPage(browser, 'carol', pageErrors, undefined, WAIT);
  await login(pageC, carol);
});

test('membership changes and renames are centred lines between the messages, with no actions', async () => {
  await item(pageA, groupId).click();
  await bubble(pageA, 'Where to?').waitFor();
  await api(server, 'POST', `/api/conversations/${groupId}/members`, { token: alice.token, body: { user_id: carol.id } });
  await api(server, 'PATCH', `/api/conversations/${groupId}`, { token: alice.token, body: { title: 'Hike' } });
  await say(bob, groupId, 'Count me out');
  await api(server, 'DELETE', `/api/conversations/${groupId}/members/${bob.id}`, { token: bob.token });
  await until('four system lines', async () => (await lines(pageA).count()) === 4);
  assert.deepEqual(await lines(pageA).evaluateAll((els) => els.map((e) => e.firstElementChild.firstChild.textContent)), [
    'Alice Liddell created the group “Trip”',
    'Alice Liddell added Carol Chen',
    'Alice Liddell renamed the group to “Hike”',
    'Bob Builder left',
  ]);
  assert.equal(await lines(pageA).locator('button').count(), 0, 'no reply, react, pin, edit or delete on a system line');
  assert.equal(await pageA.locator('[data-testid=message][data-seq="1"]').count(), 0, 'the created event is not a bubble');
  await item(pageA, groupId).filter({ hasText: 'Bob Builder left' }).waitFor();
  await snap(pageA, 'timeline-01-system-lines.png');
});

test('Up in an empty composer edits the last own message, not an own rename after it', async () => {
  await composer(pageA).fill('Saturday at nine');
  await composer(pageA).press('Enter');
  await bubble(pageA, 'Saturday at nine').and(pageA.locator('[data-seq]')).waitFor();
  await api(server, 'PATCH', `/api/conversations/${groupId}`, { token: alice.token, body: { title: 'Hike!' } });
  await lines(pageA).filter({ hasText: 'renamed the group to “Hike!”' }).waitFor();
  await composer(pageA).focus();
  await composer(pageA).press('ArrowUp');
  const editor = pageA.getByLabel('Edit message', { exact: true });
  await editor.waitFor();
  assert.equal(await editor.inputValue(), 'Saturday at nine');
  await editor.press('Escape');
});

test("the unread badge counts system lines as the server does", async () => {
  // Carol is in the lobby: the rename and alice's message since she was added are unread for her.
  const { conversations } = await api(server, 'GET', '/api/conversations', { token: carol.token });
  const expected = conversations.find((c) => c.id === groupId).unread_count;
  assert.ok(expected >= 3, `the server counts the events (${expected})`);
  await item(pageC, groupId).getByTestId('unread-badge').filter({ hasText: String(expected) }).waitFor();
});

test('axe: the group with its system lines has no serious or critical violations (light and dark)', async () => {
  for (const theme of ['light', 'dark']) {
    // Loaded in the theme, as a user would: a switch under way animates colours that axe would catch half-way.
    await pageA.emulateMedia({ colorScheme: theme });
    await pageA.reload();
    await lines(pageA).first().waitFor();
    await bubble(pageA, 'Saturday at nine').waitFor();
    const found = await axeViolations(pageA);
    if (found.length) log(found.join('\n'));
    assert.deepEqual(found, [], `no serious or critical violations (${theme})`);
    await snap(pageA, `timeline-02-group-${theme}.png`);
  }
  await pageA.emulateMedia({ colorScheme: 'light' });
});

test('a member removed while looking at the group is told so, not silently sent to the lobby', async () => {
  await item(pageC, groupId).click();
  await lines(pageC).first().waitFor();
  await api(server, 'DELETE', `/api/conversations/${groupId}/members/${carol.id}`, { token: alice.token });
  await pageC.getByRole('alert').filter({ hasText: 'You were removed from “Hike!”.' }).waitFor();
  assert.equal(new URL(pageC.url()).pathname, '/');
  assert.equal(await item(pageC, groupId).count(), 0);
  await snap(pageC, 'timeline-03-removed-notice.png');
  // The others see who did it.
  await lines(pageA).filter({ hasText: 'Alice Liddell removed Carol Chen' }).waitFor();
});

test('a direct chat: ✓ sent while bob is away, ✓✓ delivered once his client fetched it, ✓✓ read once he reads', async () => {
  directId = (await api(server, 'POST', '/api/conversations', { token: alice.token, body: { kind: 'direct', user_id: bob.id } })).id;
  await item(pageA, directId).click();
  await composer(pageA).fill('Are you there, Bob?');
  await composer(pageA).press('Enter');
  await tickOf(pageA, 'Are you there, Bob?').and(pageA.locator('[data-tick=sent]')).waitFor();
  await pageA.waitForTimeout(1_500);
  assert.equal(await tickOf(pageA, 'Are you there, Bob?').getAttribute('data-tick'), 'sent', 'nobody has received it yet');

  pageB = await openPage(browser, 'bob', pageErrors, undefined, WAIT);
  pageB.on('websocket', (ws) =>
    ws.on('framesent', (f) => {
      try {
        bobFrames.push(JSON.parse(f.payload));
      } catch {
        /* not a JSON frame */
      }
    }),
  );
  await login(pageB, bob);
  // Bob stays in the lobby: his client has the message (the list), he has not read it.
  await tickOf(pageA, 'Are you there, Bob?').and(pageA.locator('[data-tick=delivered]')).waitFor();
  await snap(pageA, 'timeline-04-delivered.png');
  await pageA.reload();
  await tickOf(pageA, 'Are you there, Bob?').and(pageA.locator('[data-tick=delivered]')).waitFor();
  await item(pageB, directId).click();
  await bubble(pageB, 'Are you there, Bob?').waitFor();
  await tickOf(pageA, 'Are you there, Bob?').and(pageA.locator('[data-tick=read]')).waitFor();
  await snap(pageA, 'timeline-05-read.png');
});

test('live messages are delivered at once, in a few frames for a burst rather than one per message', async () => {
  await pageB.goto(server.url + '/');
  await item(pageB, directId).waitFor();
  await pageB.getByTestId('connection-status').and(pageB.locator('[data-state=open]')).waitFor();
  const before = bobFrames.filter((f) => f.type === 'delivered').length;
  for (let i = 1; i <= 12; i++) await say(alice, directId, `Burst ${i}`);
  await tickOf(pageA, 'Burst 12').and(pageA.locator('[data-tick=delivered]')).waitFor();
  await tickOf(pageA, 'Burst 1').and(pageA.locator('[data-tick=delivered]')).waitFor();
  const frames = bobFrames.filter((f) => f.type === 'delivered').slice(before);
  log(`delivered frames for 12 messages: ${frames.length} (${frames.map((f) => f.up_to_seq).join(', ')})`);
  assert.ok(frames.length >= 1 && frames.length <= 4, `coalesced (${frames.length} frames)`);
  assert.ok(frames.every((f) => f.conversation_id === directId));
  assert.deepEqual(pageErrors, []);
});
