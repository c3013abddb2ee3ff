/// <reference lib="dom" />
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import { onTestFailed } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
export const CHROMIUM = '/usr/bin/chromium';
/** Where a failing test's screenshot goes (kept by CI as an artifact if it wants). */
export const FAILURE_DIR = join(root, 'test-results', 'e2e');

/** Builds the web app from the current sources into a fresh directory (what the API will serve). */
export async function buildWebApp(): Promise<string> {
  const outDir = join(mkdtempSync(join(tmpdir(), 'mirix-web-')), 'dist');
  await build({
    configFile: join(root, 'web/vite.config.ts'),
    logLevel: 'warn',
    // Unminified: a failing test's browser errors name the functions.
    build: { outDir, emptyOutDir: true, sourcemap: false, minify: false },
  });
  return outDir;
}

/**
 * Debian's Chromium, headless, with the flags this machine needs (no sandbox as root; no
 * background connections, which the closed network would refuse).
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A page in a fresh browser context (its own storage), signed in with `token` when given. The
 * test's screenshot is saved to test-results/e2e/ if it fails.
 */
export async function openPage(
  browser: Browser,
  baseURL: string,
  opts: { token?: string; width?: number; height?: number; name: string },
): Promise<{ page: Page; context: BrowserContext }> {
  const context = await browser.newContext({
    baseURL,
    viewport: { width: opts.width ?? 1280, height: opts.height ?? 800 },
  });
  if (opts.token) {
    await context.addInitScript((token) => window.localStorage.setItem('mirix.token', token), opts.token);
  }
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
  });
  onTestFailed(async () => {
    if (problems.length) console.error(`[${opts.name}] in the browser:\n${problems.join('\n')}`);
    mkdirSync(FAILURE_DIR, { recursive: true });
    await page.screenshot({
      path: join(FAILURE_DIR, `${opts.name.replace(/[^a-z0-9]+/gi, '-')}.png`),
      fullPage: true,
    });
  });
  return { page, context };
}
