// app — what the browser tests run against and with: the app's origin (a
// server at E2E_BASE_URL, or a node this file starts with SB_WEB_ROOT at
// web/dist, serving the app at /), Debian's Chromium driven by
// playwright-core, and a browser context per user with helpers to read what
// the page shows.
// Owns: the node and browser it starts (stopped after the test file).
// Never: downloads a browser, sleeps (every wait is for something on the
// page or in the node, with a deadline), or reloads a page it checks for a
// live update (pages carry a marker that a reload would lose).
import { chromium } from 'playwright-core';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after } from 'node:test';
import { startNode, uniquePrefix } from '../../integration/lib/harness.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** How long a wait on the page may take before the test fails. */
const PAGE_MS = 15000;

/** The app's base URL: E2E_BASE_URL, or a node started here (see the header). */
export async function startApp() {
  if (process.env.E2E_BASE_URL) return { url: process.env.E2E_BASE_URL.replace(/\/$/, '') };
  const root = join(process.env.SB_SOURCE_DIR, 'web/dist');
  if (!existsSync(join(root, 'index.html')))
    throw new Error(`${root}/index.html is missing: build the app first (cd web && npm ci && npm run build)`);
  const node = await startNode({ name: 'e2e', env: { SB_WEB_ROOT: root, SB_REDIS_KEY_PREFIX: uniquePrefix('e2e') } });
  const home = await fetch(`${node.url}/`);
  if (!home.ok || !(home.headers.get('content-type') ?? '').startsWith('text/html'))
    throw new Error(`the node does not serve the app at /: HTTP ${home.status} ${await home.text()}`);
  return { url: node.url };
}

/** Debian's Chromium, headless, on a fresh profile; closed after the test file. */
export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  after(() => browser.close());
  return browser;
}

/**
 * A user's browser: its own context (cookies, storage, network) and page on
 * `baseUrl`. Console errors of the page are kept in `errors`.
 */
export async function openUser(browser, baseUrl) {
  const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1200, height: 820 } });
  const page = await context.newPage();
  page.setDefaultTimeout(PAGE_MS);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { context, page, errors };
}

/** Marks the page; `stillSamePage` tells whether it has been reloaded since. */
export async function markPage(page) {
  await page.evaluate(() => {
    window.__e2eMark = true;
  });
}

export async function stillSamePage(page) {
  return page.evaluate(() => window.__e2eMark === true);
}

/** The session the app keeps in localStorage ({token, user}). */
export async function sessionOf(page) {
  return page.evaluate(() => JSON.parse(localStorage.getItem('switchboard.session') ?? 'null'));
}

/** Waits until the element at `testId` has `text` as its whole text. */
export async function waitForText(page, testId, text) {
  await page.waitForFunction(
    ([id, want]) => document.querySelector(`[data-testid="${id}"]`)?.textContent?.trim() === want,
    [testId, String(text)],
    { timeout: PAGE_MS },
  );
}
