/**
 * The page's files: a fixed allow-list read once at start (nothing outside it is ever served).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sourcePath } from '../paths.js';

/** Where the page's files live: src/demo/assets, from src/demo (vitest) or from dist/src/demo. */
export function assetsDir(): URL {
  return pathToFileURL(`${sourcePath('src', 'demo', 'assets')}/`);
}

export interface Asset {
  body: Buffer;
  type: string;
}

/** The allow-list: URL path -> file. Nothing outside it is ever read from disk. */
export function loadAssets(): Map<string, Asset> {
  const dir = assetsDir();
  const req = createRequire(import.meta.url);
  const html = 'text/html; charset=utf-8',
    js = 'text/javascript; charset=utf-8',
    css = 'text/css; charset=utf-8';
  const files: Array<[string, string, string]> = [
    ['/', fileURLToPath(new URL('index.html', dir)), html],
    ['/demo.js', fileURLToPath(new URL('demo.js', dir)), js],
    ['/demo.css', fileURLToPath(new URL('demo.css', dir)), css],
    ['/record.js', fileURLToPath(new URL('record.js', dir)), js],
    ['/grid.js', fileURLToPath(new URL('grid.js', dir)), js],
    ['/lanes.js', fileURLToPath(new URL('lanes.js', dir)), js],
    ['/charts.js', fileURLToPath(new URL('charts.js', dir)), js],
    ['/playback.js', fileURLToPath(new URL('playback.js', dir)), js],
    ['/lessons.js', fileURLToPath(new URL('lessons.js', dir)), js],
    ['/vendor/uPlot.iife.min.js', req.resolve('uplot/dist/uPlot.iife.min.js'), js],
    ['/vendor/uPlot.min.css', req.resolve('uplot/dist/uPlot.min.css'), css],
  ];
  const out = new Map<string, Asset>();
  for (const [path, file, type] of files) out.set(path, { body: readFileSync(file), type });
  out.set('/index.html', out.get('/')!);
  return out;
}
