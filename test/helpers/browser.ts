// A real browser for dashboard tests: Debian's chromium (installed by scripts/setup.sh; never a downloaded
// one), headless, driven by playwright-core over CDP. Screenshots go to test-results/ (git-ignored).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT } from './proxy.js';

export const CHROMIUM = '/usr/bin/chromium';
export const RESULTS_DIR = join(ROOT, 'test-results');

/** Why browser tests cannot run here, or undefined when they can. */
export function browserMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is not installed (scripts/setup.sh installs Debian's chromium)`;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // No sandbox as root; nothing reaches the network but the dashboard on loopback.
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-default-apps', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
}

/** A page of a laptop's size, with the console's errors and failed requests collected for assertions. */
export async function newPage(browser: Browser): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // Streams the page itself ends (tap on navigation) are not failures.
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`);
  });
  return { page, problems };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(join(RESULTS_DIR, 'dashboard'), { recursive: true });
  const path = join(RESULTS_DIR, 'dashboard', `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
