// The web dashboard against the running nodevoto mesh, in a real browser (Debian's chromium driven by
// playwright-core): the overview's success figures, the deployment page's charts, live tap and top with
// the failing path, edges, checks, direct URLs and the CLI command. Registered inside the nodevoto suite
// (test/e2e/nodevoto.test.ts) so that it looks at the same traffic; screenshots go to test-results/.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { browserMissing, launchBrowser, newPage, screenshot } from '../helpers/browser.js';
import type { Instance } from './local-helpers.js';
import { waitFor } from './local-helpers.js';

interface StatJson {
  name: string;
  success: number | null;
}

const NS = 'nodevoto';

export function dashboardChecks(mesh: Instance): void {
  const skip = browserMissing();
  let browser: Browser | undefined;
  let page: Page;
  let problems: string[] = [];
  let base = '';

  before(async () => {
    if (skip) return;
    base = `http://127.0.0.1:${mesh.dashboardPort}`;
    browser = await launchBrowser();
    ({ page, problems } = await newPage(browser));
  });
  after(async () => {
    await browser?.close();
  });

  /** Waits until the live tap list holds at least `n` requests. (The page's CSP forbids evaluated strings.) */
  const tapHasRows = (n: number, ms: number) => waitFor(`${n} requests in the tap list`, async () => (await page.locator('[data-testid="tap"] tbody tr[data-row]').count()) >= n, ms, 250);

  /** The text of each cell of a table row, by column key. */
  const rowCells = (testId: string, row: string) =>
    page.$$eval(`[data-testid="${testId}"] tr[data-row="${row}"] td`, (tds) => Object.fromEntries(tds.map((td) => [td.getAttribute('data-col'), { text: td.textContent ?? '', cls: td.className }])));

  test('dashboard: the overview lists nodevoto\'s deployments with the success figures stat gives', { skip }, async (t) => {
    const started = Date.now();
    await page.goto(`${base}/`);
    await page.waitForSelector(`[data-testid="deployments-${NS}"] tr[data-row="${NS}/voting"] td[data-col="success"]`, { timeout: 10_000 });
    const paint = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1);
    t.diagnostic(`first contentful paint ${Math.round(paint)} ms; table shown after ${Date.now() - started} ms`);
    // Figures arrive with the first poll; wait for all three served deployments to have one.
    const cells = await waitFor('success figures for web, emoji and voting on the overview', async () => {
      const rows = await Promise.all(['web', 'emoji', 'voting'].map((d) => rowCells(`deployments-${NS}`, `${NS}/${d}`)));
      return rows.every((r) => /%$/.test(r['success']?.text ?? '')) ? rows : undefined;
    }, 15_000, 500);
    const [web, emoji, voting] = cells.map((r) => ({ text: r['success']!.text, value: Number(r['success']!.text.replace('%', '')) / 100, cls: r['success']!.cls }));
    // The same figures from the CLI over the same window, moments later: the overview must agree.
    const stat = JSON.parse(await mesh.mustFathom(['stat', 'deploy', '-n', NS, '-t', '30s', '-o', 'json'])) as StatJson[];
    const cli = (name: string) => stat.find((r) => r.name === name)!.success!;
    assert.equal(emoji!.text, '100.00%');
    assert.match(emoji!.cls, /good/);
    for (const [name, shown] of [['voting', voting!], ['web', web!]] as const) {
      assert.ok(shown.value < 1 && shown.value > 0.6, `${name} shows ${shown.text}`);
      assert.match(shown.cls, /bad/, `${name}'s failing success rate stands out`);
      assert.ok(Math.abs(shown.value - cli(name)) < 0.08, `${name}: dashboard ${shown.text}, stat ${cli(name)}`);
    }
    // Meshed, RPS and latency are filled in too.
    const votingRow = cells[2]!;
    assert.equal(votingRow['meshed']!.text, '1/1');
    assert.match(votingRow['rps']!.text, /^\d+\.\d rps$/);
    assert.match(votingRow['p99']!.text, /ms$/);
    // Sorting by success puts the worst first.
    await page.click(`[data-testid="deployments-${NS}"] th:has-text("Success")`);
    const order = await page.$$eval(`[data-testid="deployments-${NS}"] tbody tr td[data-col="name"]`, (tds) => tds.map((td) => td.textContent));
    assert.deepEqual(order.filter((n) => n !== 'vote-bot').slice(0, 2), ['voting', 'web']);
    await screenshot(page, 'overview');
  });

  test('dashboard: the deployment page draws its charts with data points', { skip }, async () => {
    await page.goto(`${base}/namespaces/${NS}/deployments/voting`);
    for (const chart of ['chart-success', 'chart-rps', 'chart-latency', 'chart-tcp']) {
      await waitFor(`data points in ${chart}`, async () => Number(await page.getAttribute(`[data-testid="${chart}"]`, 'data-points')) > 0, 20_000, 500);
      assert.equal(await page.locator(`[data-testid="${chart}"] canvas`).count(), 1, `${chart} has a canvas`);
    }
    // The request-rate chart splits mTLS from plaintext: nodevoto's traffic is all mTLS.
    const legend = await page.locator('[data-testid="chart-rps"] .u-legend').textContent();
    assert.match(legend ?? '', /mTLS/);
    const tiles = await page.locator('[data-testid="tiles"] [data-tile="Success"] .value').textContent();
    assert.match(tiles ?? '', /%$/);
    // Inbound neighbours: web calls voting.
    await page.waitForSelector(`[data-testid="inbound"] tr[data-row="${NS}/web"]`, { timeout: 15_000 });
  });

  test('dashboard: live tap shows new requests within seconds, top shows the failing path, pause holds the list', { skip }, async () => {
    await page.goto(`${base}/namespaces/${NS}/deployments/web`);
    const tapRows = () => page.locator('[data-testid="tap"] tbody tr[data-row]').count();
    const started = Date.now();
    await tapHasRows(1, 10_000);
    assert.ok(Date.now() - started < 10_000);
    // The doughnut vote fails every time: in top, its path shows 0.00% success.
    const doughnut = await waitFor('the failing VoteDoughnut path in top', async () => {
      const rows = await page.$$eval('[data-testid="top"] tbody tr[data-row]', (trs) =>
        trs.map((tr) => ({ path: tr.querySelector('td[data-col="path"]')?.textContent ?? '', success: tr.querySelector('td[data-col="success"]')?.textContent ?? '', cls: tr.querySelector('td[data-col="success"]')?.className ?? '' })),
      );
      return rows.find((r) => r.path.includes('VoteDoughnut'));
    }, 20_000, 500);
    assert.equal(doughnut.success, '0.00%');
    assert.match(doughnut.cls, /bad/);
    await screenshot(page, 'deployment');
    // Paused, the list stops growing; resumed, it streams again.
    await page.click('[data-testid="tap-pause"]');
    const frozen = await page.locator('[data-testid="tap"]').innerText();
    await page.waitForTimeout(2_500);
    assert.equal(await page.locator('[data-testid="tap"]').innerText(), frozen, 'the tap list changed while paused');
    await page.click('[data-testid="tap-pause"]');
    await tapHasRows(1, 10_000);
    assert.ok((await tapRows()) > 0);
    // A filter narrows the stream to what it names.
    await page.fill('input[name="to"]', 'deploy/voting');
    await page.click('.filters button[type="submit"]');
    await tapHasRows(3, 15_000);
    const paths = await page.$$eval('[data-testid="tap"] tbody tr[data-row] td[data-col="path"]', (tds) => tds.map((td) => td.textContent ?? ''));
    for (const p of paths) assert.match(p, /VotingService/, p);
  });

  test('dashboard: the edges view marks web → emoji and web → voting secured', { skip }, async () => {
    await page.goto(`${base}/edges`);
    for (const dst of ['emoji', 'voting']) {
      const row = page.locator(`[data-testid="edges"] tr[data-row="${NS}/web>${NS}/${dst}"]`);
      await row.waitFor({ timeout: 15_000 });
      assert.match((await row.locator('td[data-col="secured"]').textContent()) ?? '', /secured/);
    }
    assert.equal(await page.locator('[data-testid="edge-graph"] .edge.secured').count() >= 2, true);
    await screenshot(page, 'edges');
  });

  test('dashboard: the check page shows the same checks as `fathom check`, all passing', { skip }, async () => {
    await page.goto(`${base}/checks`);
    const verdict = page.locator('[data-testid="checks-verdict"]');
    await verdict.waitFor({ timeout: 15_000 });
    assert.match((await verdict.textContent()) ?? '', /√/);
    const shown = await page.$$eval('ul.checks li', (lis) => lis.length);
    const cli = JSON.parse(await mesh.mustFathom(['check', '-o', 'json'])) as { categories: { checks: unknown[] }[] };
    assert.ok(shown >= cli.categories.reduce((n, c) => n + c.checks.length, 0) - 1, `${shown} checks shown`);
    await screenshot(page, 'checks');
  });

  test('dashboard: every page loads from its own URL; unknown ones say so; no errors in the console', { skip }, async () => {
    for (const [path, heading] of [
      [`/namespaces/${NS}`, `Namespace ${NS}`],
      [`/namespaces/${NS}/deployments/emoji`, 'emoji'],
      ['/edges', 'Edges'],
      ['/nowhere/at/all', 'Not found'],
    ] as const) {
      await page.goto(`${base}${path}`);
      await page.waitForSelector('main h1', { timeout: 10_000 });
      assert.match((await page.locator('main h1').textContent()) ?? '', new RegExp(`^${heading}`));
    }
    // A pod page, reached by its link on the namespace page.
    await page.goto(`${base}/namespaces/${NS}`);
    const podLink = page.locator(`[data-testid="pods-${NS}"] a`, { hasText: /^voting-/ }).first();
    await podLink.waitFor({ timeout: 15_000 });
    await podLink.click();
    await page.waitForURL(/\/namespaces\/nodevoto\/pods\/voting-/);
    assert.match((await page.locator('main h1').textContent()) ?? '', /^voting-\S+ pod/);
    assert.deepEqual(problems, []);
  });

  test('dashboard: the server refuses foreign Host names and serves its assets itself', async () => {
    const addr = `127.0.0.1:${mesh.dashboardPort}`;
    const page_ = await fetch(`http://${addr}/namespaces/${NS}/deployments/web`);
    assert.equal(page_.status, 200);
    const html = await page_.text();
    assert.match(page_.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    for (const src of html.match(/(?:src|href)="[^"]+"/g) ?? []) assert.match(src, /="\//, `${src} is served by the dashboard itself`);
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const js = await fetch(`http://${addr}${asset}`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('cache-control') ?? '', /immutable/);
    assert.equal((await fetch(`http://${addr}/assets/nope.js`)).status, 404);
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: mesh.dashboardPort, path: '/api/v1/stat?resource=deploy', headers: { host: 'attacker.example:80' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 403);
  });

  test('`fathom dashboard` prints the address of the running dashboard, and of a resource\'s page', async () => {
    const out = await mesh.mustFathom(['dashboard', '--show', 'url']);
    assert.equal(out, `Fathom dashboard available at:\nhttp://127.0.0.1:${mesh.dashboardPort}/\n`);
    const deep = await mesh.mustFathom(['dashboard', 'deploy/web', '-n', NS, '--show', 'url']);
    assert.match(deep, new RegExp(`http://127\\.0\\.0\\.1:${mesh.dashboardPort}/namespaces/nodevoto/deployments/web\\n`));
  });
}
