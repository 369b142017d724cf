// End-to-end: attachments between two users in two browser contexts, against the real server (its upload limit
// lowered to 2 MB for the "too large" case). Alice attaches through the button (a slowed upload shows its
// progress bar), by pasting an image, and through the file input (a PDF); Bob sees the thumbnail inline, opens
// the viewer on the full image, and gets the PDF as a download chip; files dropped on the conversation go
// together in one message. An upload cancelled half-way sends nothing;
// an SVG and a too-large file are refused with the server's reasons in words. Every file is uploaded once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync, crc32 } from 'node:zlib';
import { api, openPage, snapshot, startStack, stopStack, until } from './harness.mjs';

const WAIT = 20_000;
const PASSWORD = 'correct horse battery';
const run = Date.now().toString(36).slice(-5);
const alice = { username: `aalice_${run}`, display: 'Alice Liddell' };
const bob = { username: `abob_${run}`, display: 'Bob Builder' };
const MAX_UPLOAD_MB = 2;

let server;
let dataDir;
let browser;
let pageA;
let pageB;
let cdpA;
const screenshots = [];
const pageErrors = [];
/** Every upload request Alice's page made, by file name. */
const uploadRequests = [];

// ---- files made in memory ------------------------------------------------------------------------------

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

/** A real RGB PNG: `pixel(x, y)` gives [r, g, b]. Noise does not compress, so the file is about w×h×3 bytes. */
function png(width, height, pixel) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  let o = 0;
  for (let y = 0; y < height; y++) {
    raw[o++] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      raw[o++] = r;
      raw[o++] = g;
      raw[o++] = b;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 0 })), chunk('IEND', Buffer.alloc(0))]);
}

/** A sunset-ish gradient with grain: recognisable in a screenshot, incompressible enough to upload slowly. */
const scenic = (w, h) => png(w, h, (x, y) => [Math.min(255, 170 + (y * 85) / h + Math.random() * 30) | 0, (90 + (x * 90) / w + Math.random() * 40) | 0, (120 - (y * 80) / h + Math.random() * 40) | 0]);
const noise = (w, h) => png(w, h, () => [(Math.random() * 256) | 0, (Math.random() * 256) | 0, (Math.random() * 256) | 0]);

const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n' +
    '3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj\ntrailer << /Root 1 0 R >>\n' +
    '%'.repeat(1100) +
    '\n%%EOF\n',
);
const SVG = Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>');

// ---- the stack -----------------------------------------------------------------------------------------

before(async () => {
  process.env.CHAT_MAX_UPLOAD_MB = String(MAX_UPLOAD_MB);
  ({ server, browser, dataDir } = await startStack('chat-e2e-attachments-'));
});

after(() => stopStack({ server, browser, dataDir }, screenshots, pageErrors));

const snap = (page, name) => snapshot(page, name, screenshots);
const messages = (page) => page.getByTestId('message');
const uploadTile = (page, name, status) => page.locator(`[data-testid=upload][data-name="${name}"]${status ? `[data-status=${status}]` : ''}`);
const composer = (page) => page.getByLabel('Message', { exact: true });
const sendButton = (page) => page.getByRole('button', { name: 'Send message' });

async function login(page, user) {
  await page.goto(server.url + '/');
  await page.getByRole('tab', { name: 'Log in' }).click();
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('form', { name: 'Log in' }).getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('me-name').filter({ hasText: user.display }).waitFor();
  await until(`${user.username} connected`, async () => (await page.getByTestId('connection-status').getAttribute('data-state')) === 'open');
}

/** Upload speed of Alice's page in bytes/s; null lifts the limit. */
async function throttleUploads(bytesPerSecond) {
  await cdpA.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: bytesPerSecond ?? -1 });
}

/** Whether every <img> under the locator has loaded (naturalWidth > 0). */
const imagesLoaded = (locator) => locator.evaluateAll((imgs) => imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0));

test('two users with a direct chat open', async () => {
  const a = await api(server, 'POST', '/api/auth/register', { body: { username: alice.username, password: PASSWORD, display_name: alice.display } });
  const b = await api(server, 'POST', '/api/auth/register', { body: { username: bob.username, password: PASSWORD, display_name: bob.display } });
  const conv = await api(server, 'POST', '/api/conversations', { token: a.access_token, body: { kind: 'direct', user_id: b.user.id } });
  await api(server, 'POST', `/api/conversations/${conv.id}/messages`, { token: b.access_token, body: { body: 'Send me the photos from the trip?', client_id: `a-${run}-1` } });
  pageA = await openPage(browser, 'alice', pageErrors, undefined, WAIT);
  pageB = await openPage(browser, 'bob', pageErrors, undefined, WAIT);
  pageA.on('request', (r) => {
    const url = new URL(r.url());
    if (r.method() === 'POST' && /^\/api\/conversations\/\d+\/attachments$/.test(url.pathname)) uploadRequests.push(url.searchParams.get('name'));
  });
  cdpA = await pageA.context().newCDPSession(pageA);
  await cdpA.send('Network.enable');
  await login(pageA, alice);
  await login(pageB, bob);
  // Opened from the list (no reload: the sockets stay as they are).
  await pageA.locator(`[data-testid=conversation-item][data-conversation-id="${conv.id}"]`).click();
  await pageB.locator(`[data-testid=conversation-item][data-conversation-id="${conv.id}"]`).click();
  await messages(pageA).filter({ hasText: 'Send me the photos' }).waitFor();
  await messages(pageB).filter({ hasText: 'Send me the photos' }).waitFor();
});

test('attach through the button: a progress bar while it uploads, Send waits; then bob sees the thumbnail inline', async () => {
  const sunset = scenic(480, 320);
  await throttleUploads(160 * 1024);
  const [chooser] = await Promise.all([pageA.waitForEvent('filechooser'), pageA.getByRole('button', { name: 'Attach files' }).click()]);
  assert.equal(chooser.isMultiple(), true);
  await chooser.setFiles({ name: 'sunset.png', mimeType: 'image/png', buffer: sunset });
  const tile = uploadTile(pageA, 'sunset.png');
  const bar = tile.getByRole('progressbar');
  await bar.waitFor();
  await until('the upload progresses', async () => Number(await bar.getAttribute('aria-valuenow')) >= 15);
  assert.equal(await sendButton(pageA).isDisabled(), true, 'Send waits for the upload');
  await pageA.getByTestId('upload-hint').waitFor();
  await composer(pageA).fill('Sunset from the ferry');
  await snap(pageA, 'attachments-1-composer-uploading.png');
  // The preview is the file itself (an object URL), shown before the server has it.
  assert.match((await tile.locator('img').getAttribute('src')) ?? '', /^blob:/);
  await uploadTile(pageA, 'sunset.png', 'done').waitFor();
  await throttleUploads(null);
  assert.equal(await sendButton(pageA).isDisabled(), false);
  await composer(pageA).press('Enter');
  await until('the tray is empty', async () => (await pageA.getByTestId('upload').count()) === 0);

  const mine = messages(pageA).filter({ hasText: 'Sunset from the ferry' });
  await mine.getByTestId('attachment-image').waitFor();
  const theirs = messages(pageB).filter({ hasText: 'Sunset from the ferry' });
  const thumb = theirs.getByTestId('attachment-image');
  await thumb.waitFor();
  await until('bob sees the thumbnail', () => imagesLoaded(thumb.locator('img')));
  const src = (await thumb.locator('img').getAttribute('src')) ?? '';
  assert.match(src, /^\/api\/attachments\/[^/?]+\/thumbnail\?media_token=/);
  // The box comes from the image's size (480×320 fitted into 280×280), so nothing moves when it loads.
  const box = await thumb.boundingBox();
  assert.equal(Math.round(box.width), 280);
  assert.equal(Math.round(box.height), 187);
  assert.equal(await thumb.locator('img').evaluate((i) => i.naturalWidth <= 320), true, 'a thumbnail, not the full image');
});

test('clicking the thumbnail opens the viewer with the full image and a download link; Escape closes it', async () => {
  const theirs = messages(pageB).filter({ hasText: 'Sunset from the ferry' });
  await theirs.getByTestId('attachment-image').click();
  const viewer = pageB.getByTestId('image-viewer');
  await viewer.waitFor();
  const full = viewer.getByTestId('viewer-image');
  await until('the full image loaded', () => imagesLoaded(full));
  assert.match((await full.getAttribute('src')) ?? '', /^\/api\/attachments\/[^/?]+\?media_token=/);
  assert.equal(await full.evaluate((i) => i.naturalWidth), 480);
  const download = viewer.getByTestId('viewer-download');
  assert.equal(await download.getAttribute('download'), 'sunset.png');
  await viewer.getByText('480 × 320').waitFor();
  await snap(pageB, 'attachments-3-viewer.png');
  await pageB.keyboard.press('Escape');
  await viewer.waitFor({ state: 'hidden' });
  // And the close button closes it as well.
  await theirs.getByTestId('attachment-image').click();
  await viewer.getByRole('button', { name: 'Close viewer' }).click();
  await viewer.waitFor({ state: 'hidden' });
});

test('an image pasted into the composer is sent on its own, without an empty text bubble', async () => {
  const small = [...png(96, 64, (x, y) => [40 + x, 120 + y, 200])];
  const before = await messages(pageB).count();
  await composer(pageA).click();
  await pageA.evaluate((bytes) => {
    const file = new File([new Uint8Array(bytes)], 'pasted.png', { type: 'image/png' });
    const data = new DataTransfer();
    data.items.add(file);
    const box = document.getElementById('composer-input');
    box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, small);
  await uploadTile(pageA, 'pasted.png', 'done').waitFor();
  assert.equal(await composer(pageA).inputValue(), '', 'no text was pasted');
  await composer(pageA).press('Enter');
  await until('bob got the pasted image', async () => (await messages(pageB).count()) === before + 1);
  const last = messages(pageB).last();
  await until('its thumbnail loaded', () => imagesLoaded(last.getByTestId('attachment-image').locator('img')));
  assert.equal(await last.getByTestId('message-body').count(), 0, 'no text block');
  // The conversation list sums it up.
  await pageB.getByTestId('conversation-item').filter({ hasText: 'Photo' }).waitFor();
});

test('a PDF shows as a download chip with its name and size', async () => {
  await pageA.getByTestId('file-input').setInputFiles({ name: 'minutes.pdf', mimeType: 'application/pdf', buffer: PDF });
  await uploadTile(pageA, 'minutes.pdf', 'done').waitFor();
  await composer(pageA).fill('Minutes of the meeting');
  await composer(pageA).press('Enter');
  const chip = messages(pageB).filter({ hasText: 'Minutes of the meeting' }).getByTestId('attachment-file');
  await chip.waitFor();
  assert.equal(await chip.getByTestId('attachment-name').textContent(), 'minutes.pdf');
  assert.equal(await chip.getByTestId('attachment-size').textContent(), '1.3 KB');
  assert.equal(await chip.getAttribute('download'), 'minutes.pdf');
  const href = (await chip.getAttribute('href')) ?? '';
  assert.match(href, /^\/api\/attachments\/[^/?]+\?media_token=/);
  const served = await pageB.evaluate(async (url) => {
    const r = await fetch(url);
    return { status: r.status, disposition: r.headers.get('content-disposition'), size: (await r.arrayBuffer()).byteLength };
  }, href);
  assert.equal(served.status, 200);
  assert.match(served.disposition ?? '', /^attachment;/);
  assert.equal(served.size, PDF.length);
  await messages(pageB).last().scrollIntoViewIfNeeded();
  await snap(pageB, 'attachments-2-conversation.png');
});

test('files dropped on the conversation are attached (a drop zone shows while dragging), and sent together', async () => {
  const tiny = [...png(120, 90, (x, y) => [30, 80 + y, 120 + x])];
  const drag = (type) =>
    pageA.evaluate(
      ({ type, tiny }) => {
        const data = new DataTransfer();
        data.items.add(new File([new Uint8Array(tiny)], 'harbour.png', { type: 'image/png' }));
        data.items.add(new File(['Ferry times\n09:10 10:40 12:15\n'], 'notes.txt', { type: 'text/plain' }));
        const target = document.querySelector('[data-testid=messages]');
        target.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
      },
      { type, tiny },
    );
  await drag('dragenter');
  await drag('dragover');
  await pageA.getByTestId('drop-zone').filter({ hasText: `Drop files to send to ${bob.display}` }).waitFor();
  await snap(pageA, 'attachments-5-drop-zone.png');
  await drag('drop');
  await pageA.getByTestId('drop-zone').waitFor({ state: 'detached' });
  await uploadTile(pageA, 'harbour.png', 'done').waitFor();
  await uploadTile(pageA, 'notes.txt', 'done').waitFor();
  await composer(pageA).press('Enter');
  const both = messages(pageB).filter({ has: pageB.getByTestId('attachment-file').filter({ hasText: 'notes.txt' }) });
  await both.getByTestId('attachment-image').waitFor();
  assert.equal(await both.getByTestId('attachment-size').textContent(), '30 B');
  await pageB.getByTestId('conversation-item').filter({ hasText: '2 files' }).waitFor();
});

test('cancelling an upload half-way removes it and sends nothing', async () => {
  const beforeA = await messages(pageA).count();
  const beforeB = await messages(pageB).count();
  await throttleUploads(64 * 1024);
  await pageA.getByTestId('file-input').setInputFiles({ name: 'slow.png', mimeType: 'image/png', buffer: noise(600, 500) });
  const tile = uploadTile(pageA, 'slow.png');
  await until('the upload is under way', async () => Number(await tile.getByRole('progressbar').getAttribute('aria-valuenow')) >= 5);
  await tile.getByRole('button', { name: 'Cancel upload of slow.png' }).click();
  await tile.waitFor({ state: 'detached' });
  await throttleUploads(null);
  assert.equal(await sendButton(pageA).isDisabled(), true, 'nothing left to send');
  await composer(pageA).press('Enter');
  // A message written after it arrives alone: the cancelled file went nowhere.
  await composer(pageA).fill('Never mind that one');
  await composer(pageA).press('Enter');
  await messages(pageB).filter({ hasText: 'Never mind that one' }).waitFor();
  assert.equal(await messages(pageB).count(), beforeB + 1);
  assert.equal(await messages(pageA).count(), beforeA + 1);
  assert.equal(await messages(pageB).last().getByTestId('attachment-image').count(), 0);
});

test("a refused type and a too-large file show the server's reasons in words", async () => {
  await pageA.getByTestId('file-input').setInputFiles([
    { name: 'logo.svg', mimeType: 'image/svg+xml', buffer: SVG },
    { name: 'huge.png', mimeType: 'image/png', buffer: noise(1000, 800) },
  ]);
  const svg = uploadTile(pageA, 'logo.svg', 'failed');
  await svg.waitFor();
  assert.equal(await svg.getByTestId('upload-error').textContent(), 'HTML, SVG and XML files are not accepted.');
  assert.equal(await svg.getByRole('button', { name: 'Retry' }).count(), 0, 'trying again cannot help');
  const huge = uploadTile(pageA, 'huge.png', 'failed');
  await huge.waitFor();
  assert.equal(await huge.getByTestId('upload-error').textContent(), `Too large: files can be up to ${MAX_UPLOAD_MB} MB.`);
  assert.equal(await sendButton(pageA).isDisabled(), true, 'refused files are not sent');
  await snap(pageA, 'attachments-4-refused.png');
  // On a phone the tiles wrap and the text stays inside them.
  await pageA.setViewportSize({ width: 390, height: 780 });
  await snap(pageA, 'attachments-6-refused-phone.png');
  await pageA.setViewportSize({ width: 1180, height: 760 });
  await svg.getByRole('button', { name: 'Remove logo.svg' }).click();
  await huge.getByRole('button', { name: 'Remove huge.png' }).click();
  await until('the tray is empty', async () => (await pageA.getByTestId('upload').count()) === 0);
});

test('every file went up exactly once (sending and acks never upload again)', async () => {
  assert.deepEqual(uploadRequests, ['sunset.png', 'pasted.png', 'minutes.pdf', 'harbour.png', 'notes.txt', 'slow.png', 'logo.svg', 'huge.png']);
  assert.deepEqual(pageErrors, []);
});
