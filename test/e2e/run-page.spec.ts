/**
 * The run-history page in a real headless Chromium (Debian's `chromium`, driven by playwright-core)
 * against real daemon processes on PostgreSQL: after a real run the page lists it and its timeline
 * shows every stage; a failed run shows its error; cancel from the page stops a running run held
 * by another replica. A screenshot of each state is kept under dist/test-output/run-page/.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createPostgresDatabase, needsPostgres } from '../support/databases.js';
import { startDaemon, waitFor, type DaemonProcess } from '../support/daemon-process.js';
import { RUN_DATE, postRun, smallConfig, waitInsideCheckpoint, withClient } from '../reliability/harness.js';

const TOKEN = 'run-page-token';
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));
const SCREENSHOTS = join(process.cwd(), 'dist', 'test-output', 'run-page');
const STAGES = [
  'data-generation',
  'ingestion',
  'quality-checks',
  'production-etl',
  'warehouse',
  'analytics',
  'monitoring',
];

const skip =
  needsPostgres ||
  (CHROMIUM ? false : 'needs Chromium (apt-get install -y chromium): no /usr/bin/chromium on this machine');

describe('the run-history page in Chromium', { skip, timeout: 300_000 }, () => {
  const daemons: DaemonProcess[] = [];
  let drop: () => Promise<void>;
  let env: Record<string, string>;
  let databaseUrl: string;
  let holder: DaemonProcess;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const runs: { ok: string; failed: string } = { ok: '', failed: '' };
  /** What the browser refused under the daemon's Content-Security-Policy, and uncaught errors. */
  const refused: string[] = [];

  const runEnded = (baseUrl: string, runId: string) =>
    waitFor(
      `run ${runId} to end`,
      async () => {
        const body = (await (await fetch(`${baseUrl}/runs/${runId}`)).json()) as { status: string };
        return body.status === 'running' ? null : body;
      },
      180_000,
    );
  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

  before(async () => {
    const database = await createPostgresDatabase('page');
    drop = database.drop;
    databaseUrl = database.url;
    env = {
      DATABASE_URL: database.url,
      PIPELINE_CONFIG: smallConfig(),
      PIPELINE_DATA_DIR: mkdtempSync(join(tmpdir(), 'run-page-')),
      PIPELINE_API_TOKEN: TOKEN,
    };
    holder = await startDaemon(env);
    daemons.push(holder);
    const ok = await postRun(holder.baseUrl, TOKEN, { run_date: RUN_DATE });
    runs.ok = ((await ok.json()) as { run_id: string }).run_id;
    assert.equal(((await runEnded(holder.baseUrl, runs.ok)) as { status: string }).status, 'succeeded');
    // A day with no input files: ingestion fails at once, naming the missing file.
    const failed = await postRun(holder.baseUrl, TOKEN, { run_date: '2025-01-02', stages: ['ingestion'] });
    runs.failed = ((await failed.json()) as { run_id: string }).run_id;
    assert.equal(((await runEnded(holder.baseUrl, runs.failed)) as { status: string }).status, 'failed');

    mkdirSync(SCREENSHOTS, { recursive: true });
    profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM!,
      headless: true,
      viewport: { width: 1200, height: 900 },
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
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) refused.push(message.text());
    });
    page.on('pageerror', (error) => refused.push(`uncaught: ${error.message}`));
  });

  after(async () => {
    await context?.close().catch(() => undefined);
    if (profile) rmSync(profile, { recursive: true, force: true });
    for (const d of daemons) {
      d.child.kill('SIGKILL');
      await d.exited;
    }
    await drop?.().catch(() => undefined);
  });

  it('lists the real run, and its timeline shows every stage; reachable by keyboard, without layout shift', async () => {
    await page.goto(`${holder.baseUrl}/ui`);
    const row = page.locator(`tr[data-run="${runs.ok}"]`);
    await row.waitFor();
    assert.equal(await row.locator('.status').textContent(), 'succeeded');
    assert.equal(await row.locator('td').nth(2).textContent(), RUN_DATE);
    assert.equal(await row.locator('td').nth(3).textContent(), 'api');

    // The first thing Tab reaches is the newest run's link; Enter opens it.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(`document.activeElement?.getAttribute('href')`), `#run=${runs.failed}`);
    await page.goto(`${holder.baseUrl}/ui#run=${runs.ok}`);
    await page.locator('#run-heading', { hasText: runs.ok }).waitFor();
    assert.deepEqual(
      await page
        .locator('#timeline li')
        .evaluateAll((items) => items.map((i) => i.getAttribute('data-stage'))),
      STAGES,
    );
    for (const stage of STAGES) {
      const item = page.locator(`#timeline li[data-stage="${stage}"]`);
      assert.equal(await item.locator('.status').textContent(), 'succeeded');
      assert.equal(
        await item.locator('a').getAttribute('href'),
        `/runs/${runs.ok}/logs?stage=${stage}&limit=10000`,
      );
      const width = await item.locator('.bar').evaluate((bar) => bar.getBoundingClientRect().width);
      assert.ok(width >= 2, `${stage} has a bar`);
    }
    assert.equal(await page.locator('#cancel').isVisible(), false);
    // Browser-side code as text: this project compiles for Node, without the DOM's types.
    const shift = (await page.evaluate(`new Promise((resolve) => {
      let total = 0;
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) total += entry.value;
      }).observe({ type: 'layout-shift', buffered: true });
      setTimeout(() => resolve(total), 500);
    })`)) as number;
    assert.ok(shift < 0.1, `cumulative layout shift ${shift}`);
    await shot('1-succeeded-run');
  });

  it('shows a failed run with its error', async () => {
    await page.goto(`${holder.baseUrl}/ui#run=${runs.failed}`);
    // Only the hash changes: wait for this run, not the one still shown.
    await page.locator('#run-heading', { hasText: runs.failed }).waitFor();
    const error = await page.locator('#run-error').textContent();
    assert.match(error ?? '', /^ingestion: .+/);
    assert.equal(await page.locator('#timeline li[data-stage="ingestion"] .status').textContent(), 'failed');
    assert.ok(
      ((await page.locator('#timeline li[data-stage="ingestion"] .stage-error').textContent()) ?? '').length >
        0,
    );
    assert.equal(await page.locator('#retry').isVisible(), true, 'a failed run can be retried');
    await shot('2-failed-run');
  });

  it('cancels by keyboard alone a run that another replica is running, keeping the focus across refreshes: it ends cancelled', async () => {
    const other = await startDaemon({ ...env, PIPELINE_FAULT_POINTS: 'ingestion:loaded=pause' });
    daemons.push(other);
    const started = await postRun(other.baseUrl, TOKEN, { run_date: RUN_DATE });
    const { run_id: runId } = (await started.json()) as { run_id: string };
    await withClient(databaseUrl, (c) => waitInsideCheckpoint(c, 'ingestion', runId));

    await page.goto(`${holder.baseUrl}/ui#run=${runId}`);
    await page.locator('#run-heading', { hasText: runId }).waitFor();
    await page.locator('#cancel').waitFor({ state: 'visible' });
    assert.match((await page.locator('#refresh-note').textContent()) ?? '', /refreshing/);
    await shot('3-running-run');

    // Browser-side code as text (no DOM types here): what has the focus, by its focus key or id.
    const focused = async () =>
      (await page.evaluate(
        `document.activeElement?.getAttribute('data-focus') ?? document.activeElement?.id ?? null`,
      )) as string | null;
    const tabTo = async (target: string) => {
      for (let i = 0; i < 40 && (await focused()) !== target; i++) await page.keyboard.press('Tab');
      assert.equal(await focused(), target, `Tab reaches ${target}`);
    };
    // A refresh replaces the rows; the link that had the focus has it again afterwards.
    await tabTo(`run-${runId}`);
    await page.evaluate(`document.activeElement.setAttribute('data-before-refresh', '')`);
    // A locator, not waitForFunction: that evaluates its text with eval, which the page's policy refuses.
    await page.locator('[data-before-refresh]').waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal(await focused(), `run-${runId}`, 'the focus outlives a refresh');
    await tabTo('cancel');
    await page.keyboard.press('Enter');
    await page.locator('#confirm[open]').waitFor();
    assert.equal(await focused(), 'token', 'the dialog asks for the token first');
    assert.equal(await page.locator('#token').getAttribute('type'), 'password');
    assert.equal(await page.locator('label[for="token"]').isVisible(), true);
    await page.keyboard.type(TOKEN);
    await shot('4-cancel-dialog');
    await page.keyboard.press('Enter');
    await page.locator('#run-facts .status-cancelled').waitFor({ timeout: 60_000 });
    // The run's error is an alert: refreshed with the same error, it is not written (announced) again.
    await page.evaluate(`window.alertWrites = 0;
      new MutationObserver(() => window.alertWrites++).observe(document.querySelector('#run-error'), {
        childList: true, characterData: true, subtree: true,
      });`);
    for (let i = 0; i < 2; i++) {
      const refreshed = page.waitForResponse((r) => r.url().endsWith(`/runs/${runId}`));
      await page.evaluate(`window.dispatchEvent(new HashChangeEvent('hashchange'))`);
      await refreshed;
    }
    await page.waitForTimeout(200);
    assert.equal(await page.evaluate('window.alertWrites'), 0, 'the same error is not announced again');
    assert.equal(
      await page.evaluate(`sessionStorage.getItem('pipeline-token')`),
      TOKEN,
      'the token is kept for this tab',
    );
    assert.equal(await page.locator('#forget-token').isVisible(), true);
    assert.match(
      (await page.locator('#run-error').textContent()) ?? '',
      /^run cancelled by an operator \(requested by api on .+\); stopped in ingestion$/,
    );
    assert.equal(
      await page.locator('#timeline li[data-stage="ingestion"] .status').textContent(),
      'cancelled',
    );
    assert.equal(
      await page.locator('#timeline li[data-stage="quality-checks"] .status').textContent(),
      'skipped',
    );
    await shot('5-cancelled-run');
    const body = (await (await fetch(`${holder.baseUrl}/runs/${runId}`)).json()) as { status: string };
    assert.equal(body.status, 'cancelled');
  });

  it("ran under the daemon's security policy without a refusal or an uncaught error", () => {
    // The policy allows no inline script or style: a page that needed one would break here first.
    assert.deepEqual(refused, []);
  });
});
