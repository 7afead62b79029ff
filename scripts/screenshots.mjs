// Regenerates the README's screenshots from the real thing, in headless Chromium:
//   docs/report.png  a report of real runs (exit and uffd with linear push, exit with preempt),
//                    rendered by `postcopy-sim report`'s code
//   docs/demo.png    the live demo page during a run (the scenario test/demo.browser.test.ts uses)
//   docs/demo-virtual.png  the demo playing a virtual-time run: 64 vCPUs on one uffd
//   docs/demo-arm64.png    the lesson "What S1PTW means for postcopy", paused on the walk fault: the
//                          decoder shows ESR_EL2, the memory_fault and the uffd view side by side
// Usage: npm run build && node scripts/screenshots.mjs [report|demo]   (default: both)
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startDemoServer } from '../dist/src/demo/server.js';
import { simulate } from '../dist/src/index.js';
import { renderReport } from '../dist/src/report/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const docs = join(root, 'docs');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];
const which = process.argv[2] ?? 'both';
mkdirSync(docs, { recursive: true });

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
try {
  if (which === 'both' || which === 'report') {
    const scenario = { vcpus: 2, memory: '64MiB', bandwidth: '1Gbit', latency: '50us', seed: 1 };
    const runs = [];
    for (const [mode, strategy] of [
      ['exit', 'linear'],
      ['uffd', 'linear'],
      ['exit', 'preempt'],
    ]) {
      runs.push(JSON.parse(JSON.stringify(await simulate({ ...scenario, mode, strategy }))));
    }
    const file = join(mkdtempSync(join(tmpdir(), 'pcs-shot-')), 'report.html');
    writeFileSync(file, renderReport(runs));
    const page = await browser.newPage({ viewport: { width: 900, height: 1000 } });
    await page.goto(`file://${file}`);
    await page.screenshot({ path: join(docs, 'report.png'), fullPage: true });
    await page.close();
    console.log(`wrote docs/report.png (from ${file})`);
  }
  if (which === 'both' || which === 'demo') {
    const server = await startDemoServer({ port: 0 });
    try {
      const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(server.url);
      await page.waitForFunction(() => document.querySelector('#c-mode').options.length > 0);
      for (const [id, v] of [
        ['mode', 'uffd'],
        ['strategy', 'linear'],
        ['memory', '64MiB'],
        ['speed', 'x10'],
      ])
        await page.selectOption(`#c-${id}`, v);
      await page.fill('#c-vcpus', '4');
      const [resp] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/api/start')), page.click('#start')]);
      const { run } = await resp.json();
      await page.waitForFunction(
        (run) =>
          window.__demo.run === run &&
          document.querySelector('#record').dataset.kind === 'uffd_msg' &&
          Number(document.querySelector('#grid').dataset.presentCells) >= 1024,
        run,
        { timeout: 120_000 },
      );
      await page.screenshot({ path: join(docs, 'demo.png'), fullPage: true });
      console.log('wrote docs/demo.png');
      // The virtual-time preset: 64 vCPUs piling up behind one uffd reader, in slow motion.
      const [resp2] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/api/start')), page.click('#preset-uffd-64')]);
      const run2 = (await resp2.json()).run;
      await page.waitForFunction(
        (run) => window.__demo.run === run && window.__demo.ticks > 20 && Number(document.querySelector('#k-queue').textContent.replace(/,/g, '')) > 30,
        run2,
        { timeout: 120_000 },
      );
      await page.screenshot({ path: join(docs, 'demo-virtual.png'), fullPage: true });
      console.log('wrote docs/demo-virtual.png');
      await page.selectOption('#lesson-pick', 's1ptw');
      await page.click('#lesson-start');
      await page.waitForFunction(
        () => document.querySelector('#lesson').dataset.ready === '1' && document.querySelector('#record').dataset.archKind === 'walk',
        undefined,
        { timeout: 120_000 },
      );
      await page.screenshot({ path: join(docs, 'demo-arm64.png'), fullPage: true });
      console.log('wrote docs/demo-arm64.png');
      if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    } finally {
      await server.close();
    }
  }
} finally {
  await browser.close();
}
