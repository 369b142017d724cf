// Test harness: builds and starts the real chat-server on a free port with a throwaway database, and drives
// Debian's Chromium through playwright-core.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, rmSync, createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const webDir = resolve(here, '..');
export const repoDir = resolve(webDir, '..');
export const distDir = join(webDir, 'dist');
export const screenshotDir = join(webDir, 'test-results', 'screenshots');
// The same target directory as the README's `cargo test` (cargo's default, or CARGO_TARGET_DIR): the server is
// built once for both suites.
const targetDir = process.env.CARGO_TARGET_DIR || join(repoDir, 'target');
const serverBin = join(targetDir, 'debug', 'chat-server');

export function log(msg) {
  process.stdout.write(`# ${msg}\n`);
}

/** cargo build --bin chat-server (incremental: a no-op when nothing changed). */
export function buildServer() {
  log(`building chat-server (CARGO_TARGET_DIR=${targetDir})`);
  const r = spawnSync('cargo', ['build', '--bin', 'chat-server'], { cwd: repoDir, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, CARGO_TARGET_DIR: targetDir } });
  if (r.status !== 0) throw new Error(`cargo build failed with status ${r.status}`);
  if (!existsSync(serverBin)) throw new Error(`no server binary at ${serverBin}`);
}

/** Builds the client unless dist/ is there (npm run test:e2e always builds first). */
export function ensureClientBuilt() {
  if (existsSync(join(distDir, 'index.html')) && !process.env.E2E_REBUILD) return;
  log('building the web client');
  const r = spawnSync('npm', ['run', 'build'], { cwd: webDir, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error('npm run build failed');
}

export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

/**
 * A chat-server process bound to 127.0.0.1:port, using dataDir for its SQLite file. Restartable on the same
 * port and database (stop() then start()), which is how the reconnect scenario takes the server away.
 */
export class Server {
  /** `env`: extra settings of the server (e.g. CHAT_ACCESS_TOKEN_TTL_SECS), over the harness's own. */
  constructor(port, dataDir, env = {}) {
    this.port = port;
    this.dataDir = dataDir;
    this.env = env;
    this.url = `http://127.0.0.1:${port}`;
    this.proc = null;
    this.starts = 0;
  }

  async start() {
    this.starts += 1;
    const logFile = join(this.dataDir, `server-${this.starts}.log`);
    const out = createWriteStream(logFile);
    this.logFile = logFile;
    this.proc = spawn(serverBin, [], {
      cwd: this.dataDir,
      env: {
        ...process.env,
        CHAT_BIND: `127.0.0.1:${this.port}`,
        DATABASE_URL: `sqlite://${join(this.dataDir, 'chat.db')}`,
        JWT_SECRET: 'e2e-secret-that-is-long-enough-0123456789',
        CHAT_DATA_DIR: this.dataDir,
        CHAT_WEB_DIR: distDir,
        RUST_LOG: process.env.RUST_LOG ?? 'info',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc.stdout.pipe(out);
    this.proc.stderr.pipe(out);
    const proc = this.proc;
    let exited = null;
    proc.once('exit', (code, signal) => (exited = { code, signal }));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (exited) throw new Error(`chat-server exited early (${JSON.stringify(exited)}); see ${logFile}`);
      try {
        const r = await fetch(`${this.url}/api/users/me`);
        if (r.status === 401) return;
      } catch {
        /* not listening yet */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`chat-server did not come up within 30 s; see ${logFile}`);
  }

  /** SIGTERM (graceful: the server closes sockets with 1001), SIGKILL after 10 s. */
  async stop() {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    this.proc = null;
    await new Promise((res) => {
      const t = setTimeout(() => {
        log('chat-server did not exit within 10 s of SIGTERM: killing it (SIGKILL)');
        proc.kill('SIGKILL');
      }, 10_000);
      proc.once('exit', () => (clearTimeout(t), res()));
      proc.kill('SIGTERM');
    });
  }
}

export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export function screenshotPath(name) {
  mkdirSync(screenshotDir, { recursive: true });
  return join(screenshotDir, name);
}

/** REST helper for the tests' own calls (as a second client would make them). */
export async function api(server, method, path, { token, body } = {}) {
  const r = await fetch(server.url + path, {
    method,
    headers: { ...(body ? { 'Content-Type': 'application/json' } : {}), ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  const json = text ? JSON.parse(text) : null;
  if (!r.ok) throw new Error(`${method} ${path} -> ${r.status} ${text}`);
  return json;
}

/** Build what the suite needs, start a server on a free port with a fresh data dir, and launch Chromium. */
export async function startStack(prefix, { env = {} } = {}) {
  buildServer();
  ensureClientBuilt();
  const dataDir = tempDir(prefix);
  const server = new Server(await freePort(), dataDir, env);
  await server.start();
  log(`chat-server at ${server.url} (data in ${dataDir})`);
  const browser = await launchBrowser();
  log(`chromium ${browser.version()}`);
  return { server, browser, dataDir };
}

/** Stop what startStack started (also after a failure), and print the screenshots and page errors. */
export async function stopStack({ server, browser, dataDir } = {}, screenshots = [], pageErrors = []) {
  await browser?.close().catch(() => {});
  await server?.stop().catch(() => {});
  if (dataDir && !process.env.E2E_KEEP) removeDir(dataDir);
  for (const p of screenshots) process.stdout.write(`screenshot: ${p}\n`);
  if (pageErrors.length) process.stdout.write(`page errors:\n  ${pageErrors.join('\n  ')}\n`);
}

/** A page in a context of its own (its own sessionStorage: one user per page); page errors are collected. */
export async function openPage(browser, name, pageErrors, viewport = { width: 1180, height: 760 }, wait = 20_000) {
  const context = await browser.newContext({ viewport });
  context.setDefaultTimeout(wait);
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`${name}: ${e.message}`));
  return page;
}

/** Poll `fn` until it returns something truthy; the last value or error is in the timeout message. */
export async function until(what, fn, timeout = 20_000) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

/** Screenshot into the git-ignored folder; the path is remembered for the end-of-run list. */
export async function snapshot(page, name, screenshots) {
  const path = screenshotPath(name);
  await page.screenshot({ path });
  screenshots.push(path);
}

const axeScript = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/**
 * Serious and critical axe violations on the page (or inside the `include` selector), as readable lines. The
 * page's context needs `bypassCSP`: the server's CSP refuses the injected script as it should any other.
 */
export async function axeViolations(page, include) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: axeScript });
  return page.evaluate(async (sel) => {
    const r = await window.axe.run(sel ? { include: [sel] } : document, { resultTypes: ['violations'] });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ') + ' — ' + n.failureSummary.replace(/\s+/g, ' ')).join(' | ')}`);
  }, include ?? null);
}
