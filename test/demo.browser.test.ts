// Goal: the live demo works end to end in a real browser: a run started from the page turns guest
// pages present on the grid, the record panel decodes a memory_fault, and after switching the mode a
// uffd_msg; an arm64 run decodes ESR_EL2 beside the memory_fault and the uffd view and can be paused,
// single-stepped one fault at a time and resumed; "Cut the link" on a threaded run shows the migration
// paused, then active again, and the run verifies; every guided lesson runs to its end and shows the
// numbers it talks about; no page errors. Saves a screenshot to the temp dir (scripts/screenshots.mjs
// makes the README's).
// Method: Debian's headless Chromium driven by playwright-core; waits on page state
// (waitForFunction), never on sleeps. Skips, saying so, where no Chromium is installed.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoServer, type DemoServer } from '../src/demo/server.js';
import { needs } from './helpers/tools.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`demo.browser.test: SKIPPED: no Chromium at ${CHROMIUM} (apt-get install chromium; CI installs it)`);

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

describe.skipIf(!haveChromium)(needs('chromium', 'the live demo in headless Chromium'), () => {
  let server: DemoServer;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    const { chromium } = await import('playwright-core');
    server = await startDemoServer({ port: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    page.on('request', (r) => {
      if (!r.url().startsWith(server.url) && !r.url().startsWith('data:')) problems.push(`external request: ${r.url()}`);
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** Sets the controls, presses Start, returns the id of the run the server started. */
  async function start(controls: Record<string, string>): Promise<number> {
    for (const [name, value] of Object.entries(controls)) {
      const el = page.locator(`#c-${name}`);
      if (await el.evaluate((e) => e.tagName === 'SELECT')) await el.selectOption(value);
      else await el.fill(value);
    }
    const [resp] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/api/start')), page.click('#start')]);
    expect(resp.status()).toBe(200);
    return ((await resp.json()) as { run: number }).run;
  }

  it('shows a run: pages turn present, vCPU lanes, and a decoded memory_fault', async () => {
    await page.goto(server.url);
    await page.waitForFunction(() => (document.querySelector('#c-mode') as HTMLSelectElement).options.length > 0);
    const run = await start({ mode: 'exit', strategy: 'linear', vcpus: '2', memory: '8MiB', speed: 'x10' });
    await page.waitForFunction((run) => {
      const d = (window as unknown as { __demo: { run: number } }).__demo;
      const grid = document.querySelector('#grid') as HTMLCanvasElement;
      const rec = document.querySelector('#record') as HTMLElement;
      return d.run === run && Number(grid.dataset.presentCells) > 0 && rec.dataset.kind === 'memory_fault';
    }, run);
    const record = await page.locator('#record').innerText();
    expect(record).toContain('KVM_EXIT_MEMORY_FAULT');
    expect(record).toContain('memory_fault.gpa');
    expect(record).toMatch(/run->exit_reason\s+39/);
    expect(await page.locator('#record .col-kvm .bit.on').count()).toBe(1); // exactly one of READ/WRITE/EXEC
    expect(await page.locator('#record .col-hw').innerText()).toMatch(/exit qualification/); // x86 by default
    expect(await page.locator('#lanes .lane').count()).toBe(2);
    expect(await page.locator('#status').getAttribute('data-run')).toBe(String(run));
  });

  it('switching the mode to uffd decodes a uffd_msg', async () => {
    // The same scenario scripts/screenshots.mjs shows: 64 MiB, 4 vCPUs, slow motion x10.
    const run = await start({ mode: 'uffd', memory: '64MiB', vcpus: '4', speed: 'x10' });
    await page.waitForFunction((run) => {
      const d = (window as unknown as { __demo: { run: number } }).__demo;
      return d.run === run && (document.querySelector('#record') as HTMLElement).dataset.kind === 'uffd_msg';
    }, run);
    const record = await page.locator('#record').innerText();
    expect(record).toContain('UFFD_EVENT_PAGEFAULT');
    expect(record).toMatch(/msg\.event\s+0x12/);
    expect(record).toContain('msg.arg.pagefault.address');
    expect(await page.locator('#lanes .lane').count()).toBe(4);
    // The screenshot the README shows: a uffd run about a quarter of the way, its record decoded.
    await page.waitForFunction(() => Number((document.querySelector('#grid') as HTMLCanvasElement).dataset.presentCells) >= 1024);
    await page.screenshot({ path: join(tmpdir(), `postcopy-sim-demo-${process.pid}.png`), fullPage: true });
    expect(problems).toEqual([]);
  });

  it('the preset "64 vCPUs, one uffd" plays a virtual run: 64 compact lanes, a queue, a decoded uffd_msg', async () => {
    const [resp] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/api/start')), page.click('#preset-uffd-64')]);
    expect(resp.status()).toBe(200);
    const run = ((await resp.json()) as { run: number }).run;
    await page.waitForFunction((run) => {
      const d = (window as unknown as { __demo: { run: number; ticks: number } }).__demo;
      return (
        d.run === run &&
        d.ticks > 0 &&
        (document.querySelector('#record') as HTMLElement).dataset.kind === 'uffd_msg' &&
        Number(document.querySelector('#k-queue')!.textContent!.replace(/,/g, '')) > 0
      );
    }, run);
    expect(await page.locator('#lanes-compact').getAttribute('data-lanes')).toBe('64');
    expect(await page.locator('#lanes-compact').isVisible()).toBe(true);
    expect(await page.locator('#lanes-summary').innerText()).toMatch(/^64 vCPUs, a row each/);
    expect(await page.locator('#k-time').innerText()).toMatch(/ms virtual$/);
    await Promise.all([page.waitForResponse((r) => r.url().endsWith('/api/stop')), page.click('#stop')]);
    // Back to the threaded engine for the next test.
    await page.selectOption('#c-engine', 'threads');
    await page.selectOption('#c-network', 'link');
    await page.fill('#c-vcpus', '2'); // within the threaded engine's max, or the form will not submit
    expect(problems).toEqual([]);
  });

  it('a bad control value shows the server’s one-line message; no page errors', async () => {
    await page.fill('#c-bandwidth', 'fast');
    const [resp] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/api/start')), page.click('#start')]);
    expect(resp.status()).toBe(400);
    await page.waitForFunction(() => (document.querySelector('#control-error') as HTMLElement).textContent !== '');
    expect(await page.locator('#control-error').innerText()).toMatch(/^bandwidth: "fast" is not a rate/);
    await page.fill('#c-bandwidth', '1Gbit');
    await Promise.all([page.waitForResponse((r) => r.url().endsWith('/api/stop')), page.click('#stop')]);
    // Chromium logs the refused request itself; nothing else may have gone wrong.
    expect(problems.filter((p) => !/status of 400 \(Bad Request\)/.test(p))).toEqual([]);
  });

  it('cuts the link of a threaded run: the migration counter shows it paused, then active; the run verifies', async () => {
    await page.selectOption('#c-engine', 'threads');
    await page.selectOption('#c-network', 'link');
    const run = await start({ mode: 'exit', strategy: 'linear', vcpus: '2', memory: '64MiB', speed: 'x10' });
    // Pause and step stay off (real threads cannot be frozen); the cut is on, and the ticks carry the state.
    await page.waitForFunction(
      (run) =>
        document.querySelector('#status')!.getAttribute('data-run') === String(run) &&
        (document.querySelector('#status') as HTMLElement).dataset.status === 'running' &&
        document.querySelector('#k-link')!.getAttribute('data-state') === 'active' &&
        !(document.querySelector('#cut-link') as HTMLButtonElement).disabled,
      run,
    );
    expect(await page.locator('#pause').isDisabled()).toBe(true);
    await Promise.all([page.waitForResponse((r) => r.url().endsWith('/api/cut-link') && r.status() === 200), page.click('#cut-link')]);
    await page.waitForFunction(() => document.querySelector('#k-link')!.getAttribute('data-state') === 'paused');
    await page.waitForFunction(
      (run) =>
        document.querySelector('#status')!.getAttribute('data-status') === 'finished' &&
        document.querySelector('#status')!.getAttribute('data-run') === String(run),
      run,
      { timeout: 60_000 },
    );
    expect(await page.locator('#k-link').getAttribute('data-state')).toBe('active');
    expect(await page.locator('#end-summary').innerText()).toMatch(/verified yes/);
    expect(problems.filter((p) => !/status of 400 \(Bad Request\)/.test(p))).toEqual([]);
  });

  it('decodes an arm64 walk fault three ways; pause, single-step one fault at a time, resume', async () => {
    await page.selectOption('#c-engine', 'virtual');
    await page.selectOption('#c-network', 'link');
    await page.selectOption('#c-mode', 'exit');
    await page.selectOption('#c-arch', 'arm64');
    await page.selectOption('#c-pageTables', 'true');
    await page.selectOption('#c-strategy', 'demand');
    await page.selectOption('#c-speed', 'x10');
    await page.fill('#c-accesses', '300');
    await page.fill('#c-vcpus', '1');
    await page.check('#start-paused');
    const run = await start({ memory: '8MiB' });
    // It stops at its first fault: the first access's walk, which finds the root table missing.
    await page.waitForFunction(
      (run) =>
        document.querySelector('#status')!.getAttribute('data-run') === String(run) &&
        document.querySelector('#playback')!.getAttribute('data-state') === 'paused' &&
        (document.querySelector('#record') as HTMLElement).dataset.archKind === 'walk',
      run,
    );
    await page.uncheck('#start-paused');
    const hw = await page.locator('#record .col-hw').innerText();
    expect(hw).toContain('ESR_EL2');
    expect(hw).toMatch(/\[7\] S1PTW\s+1/);
    expect(hw).toContain('HPFAR_EL2');
    expect(await page.locator('#record .col-kvm').innerText()).toMatch(/memory_fault\.flags\s+0x2\s+WRITE/);
    expect(await page.locator('#record .col-uffd').innerText()).toMatch(/walk lost/);
    const count = Number(await page.locator('#record').getAttribute('data-count'));
    await page.click('#step');
    await page.waitForFunction(
      (count) =>
        document.querySelector('#playback')!.getAttribute('data-state') === 'paused' &&
        Number((document.querySelector('#record') as HTMLElement).dataset.count) === count + 1,
      count,
    );
    expect(await page.locator('#record .col-hw').innerText()).toMatch(/level 1/);
    await page.click('#resume');
    await page.waitForFunction(
      (run) =>
        document.querySelector('#status')!.getAttribute('data-status') === 'finished' &&
        document.querySelector('#status')!.getAttribute('data-run') === String(run),
      run,
      { timeout: 60_000 },
    );
    expect(await page.locator('#end-summary').innerText()).toMatch(/verified yes/);
    expect(problems.filter((p) => !/status of 400 \(Bad Request\)/.test(p))).toEqual([]);
  });

  it('runs every guided lesson to its end, each step paused on its event and showing its numbers', async () => {
    const lessons = await page.evaluate(() =>
      (window as unknown as { __pcs: { config: { choices: { lessons: Array<{ id: string; steps: unknown[] }> } } } }).__pcs.config.choices.lessons.map((l) => ({
        id: l.id,
        steps: l.steps.length,
      })),
    );
    expect(lessons.map((l) => l.id)).toEqual(['uffd-vs-exits', 'preempt', 's1ptw', 'prepaging', 'recovery', 'confidential']);
    for (const { id, steps } of lessons) {
      await page.selectOption('#lesson-pick', id);
      await page.click('#lesson-start');
      for (let i = 0; i < steps; i++) {
        await page.waitForFunction(
          (i) => {
            const b = document.querySelector('#lesson') as HTMLElement;
            return b.dataset.step === String(i) && b.dataset.ready === '1';
          },
          i,
          { timeout: 90_000 },
        );
        const nums = await page
          .locator('#lesson-text .num')
          .evaluateAll((els) => els.map((e) => [(e as HTMLElement).dataset.key!, e.textContent!, e.classList.contains('missing')]));
        expect(nums.length, `${id} step ${i}`).toBeGreaterThan(0);
        for (const [key, text, missing] of nums) {
          expect(missing, `${id} step ${i}: {${key}} has no value`).toBe(false);
          // Every number shows digits; names (flags, kinds, what the VMM does) show words.
          if (!/(\|names|kind|resolution|lost)$/.test(key as string)) expect(text, `${id} step ${i}: {${key}}`).toMatch(/\d/);
        }
        await page.click('#lesson-next');
      }
      await page.waitForFunction(() => (document.querySelector('#lesson') as HTMLElement).dataset.done === '1');
    }
    await page.screenshot({ path: join(tmpdir(), `postcopy-sim-lessons-${process.pid}.png`), fullPage: true });
    // Chromium logs the refused request of the bad-control test itself; nothing else may have gone wrong.
    expect(problems.filter((p) => !/status of 400 \(Bad Request\)/.test(p))).toEqual([]);
  });
});
