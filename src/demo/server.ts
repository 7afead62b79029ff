/**
 * `postcopy-sim demo`: a local web server that shows one migration live.
 *
 *   browser ──GET /, /demo.js, ...──▶ fixed asset allow-list (read once at start, nothing else served)
 *           ──GET /events──────────▶ Server-Sent Events: the engine's event stream, tagged by run id
 *           ──POST /api/start──────▶ controls -> resolveOptions (400 on bad input) -> one run at a time
 *           ──POST /api/stop───────▶ AbortSignal of the current run
 *           ──POST /api/pause, /api/step, /api/resume ▶ the current (virtual-engine) run's pause
 *             control: pause now, stop at the next fault, go on (until a condition, conditions.ts)
 *           ──POST /api/cut-link {durationMs}▶ the link goes down now (either engine, over a modelled
 *             link): the migration pauses and recovers as with --inject link-down
 *             (src/virtual/recovery.ts, src/threads/source-recovery.ts)
 *
 * It is a local tool and behaves like one: it binds loopback unless told otherwise, refuses a Host
 * header that is not its own (DNS rebinding) and cross-origin POSTs, bounds bodies, SSE clients and
 * runs (a new start aborts the old run and waits for it before starting), and caps guest size and
 * vCPUs. A client that joins late gets a snapshot (memory map, counters, history) and then the stream.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Errors, SimError } from '../errors.js';
import { loadAssets } from './assets.js';
import { parseCondition } from './conditions.js';
import { BodyError, CSP, hostAllowed, isWildcard, readBody, SECURITY_HEADERS, send, sendError, sendJson } from './http.js';
import { DEFAULT_LIMITS, demoChoices, planDemoRun, type DemoLimits, type DemoRunPlan } from './params.js';
import { DemoRuns } from './runs.js';
import { uapiTables } from './uapi-tables.js';

export { assetsDir } from './assets.js';

/** The outage of a live link cut: `durationMs` of modelled time, 20 ms when not given. */
export function cutDurationUs(body: unknown): number {
  const o = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const d = o.durationMs !== undefined ? o.durationMs : 20;
  if (typeof d !== 'number' || !(d > 0 && d <= 10_000))
    throw Errors.badInput('durationMs', 'the outage is a number of ms of modelled time, above 0 and at most 10000');
  return Math.round(d * 1000);
}
export { hostAllowed, parseHostHeader } from './http.js';

export interface DemoServerOptions {
  /** Interface to listen on. @default '127.0.0.1' */
  host?: string;
  /** Port; 0 picks a free one. @default 8080 */
  port?: number;
  /** Largest guest a run may have. @default 4 GiB */
  maxMemoryBytes?: number;
  /** Most vCPUs a run may have. @default 16 */
  maxVcpus?: number;
  /** Most vCPUs a virtual-engine run may have. @default 256 */
  maxVirtualVcpus?: number;
  /** Concurrent SSE clients; more get 503. @default 8 */
  maxClients?: number;
  /** Largest request body; more gets 413. @default 16 KiB */
  maxBodyBytes?: number;
  /**
   * The engine's tick interval for the stream, in wall-clock ms (a virtual run is played back, and
   * ticks every eventIntervalMs of playback). @default 100
   */
  eventIntervalMs?: number;
}

export interface DemoServer {
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

export async function startDemoServer(opts: DemoServerOptions = {}): Promise<DemoServer> {
  const host = opts.host ?? '127.0.0.1';
  const limits: DemoLimits = {
    maxMemoryBytes: opts.maxMemoryBytes ?? DEFAULT_LIMITS.maxMemoryBytes,
    maxVcpus: opts.maxVcpus ?? DEFAULT_LIMITS.maxVcpus,
    maxVirtualVcpus: opts.maxVirtualVcpus ?? DEFAULT_LIMITS.maxVirtualVcpus,
  };
  const maxClients = opts.maxClients ?? 8;
  const maxBody = opts.maxBodyBytes ?? 16 * 1024;
  const assets = loadAssets();
  const clients = new Set<ServerResponse>();
  let port = 0;

  const write = (res: ServerResponse, line: string) => {
    // A client that stopped reading is dropped; its EventSource reconnects and gets a snapshot.
    if (res.writableLength > 8 * 2 ** 20) {
      res.destroy();
      clients.delete(res);
      return;
    }
    res.write(line);
  };
  const broadcast = (msg: unknown) => {
    const line = `data: ${JSON.stringify(msg)}\n\n`;
    for (const res of clients) write(res, line);
  };
  // ---- runs: at most one at a time ----
  const runs = new DemoRuns(broadcast, opts.eventIntervalMs ?? 100);

  // ---- HTTP ----
  const onEvents = (req: IncomingMessage, res: ServerResponse) => {
    if (clients.size >= maxClients) {
      sendError(res, 503, `too many live clients (at most ${maxClients})`);
      return;
    }
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive' });
    clients.add(res);
    req.on('close', () => clients.delete(res));
    res.write('retry: 1000\n\n');
    const current = runs.current;
    write(res, `data: ${JSON.stringify({ type: 'hello', run: current?.state.id ?? null })}\n\n`);
    if (current) for (const m of current.state.snapshot()) write(res, `data: ${JSON.stringify(m)}\n\n`);
  };

  const readJson = async (req: IncomingMessage): Promise<unknown> => {
    const text = await readBody(req, maxBody);
    try {
      return text.trim() ? JSON.parse(text) : {};
    } catch {
      throw new BodyError(400, 'the body is not valid JSON');
    }
  };
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  /** Bad input from the model's validation becomes a 400 with its one line. */
  const badInput = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof SimError) throw new BodyError(400, e.message);
      throw e;
    }
  };

  const onStart = async (req: IncomingMessage, res: ServerResponse) => {
    // The controls, and optionally a pause condition the run starts armed with (a lesson's first step).
    const body = await readJson(req);
    const { until, ...controls } = isObject(body) ? body : { until: undefined };
    const plan: DemoRunPlan = badInput(() => planDemoRun(isObject(body) ? controls : body, limits));
    const cond = badInput(() => parseCondition(until));
    const state = runs.start(plan, controls, cond);
    sendJson(res, 200, { run: state.id, effective: plan.effective });
  };

  /** POST /api/pause, /api/step, /api/resume {until?}: the current run's pause control; /api/cut-link {durationMs?}: its link. */
  const onPlayback = async (req: IncomingMessage, res: ServerResponse, what: string) => {
    const body = await readJson(req);
    if (what === 'cut-link') {
      const durationUs = badInput(() => cutDurationUs(body));
      if (!runs.cutLink(durationUs)) throw new BodyError(409, 'cutting the link needs a run that migrates over a modelled link (network link)');
      sendJson(res, 200, { run: runs.current!.state.id, cut: true });
      return;
    }
    const control = runs.control();
    if (!control) throw new BodyError(409, 'pause needs a run on the virtual engine: real threads and a real clock cannot be frozen');
    if (what === 'pause') control.pause();
    else if (what === 'step') control.step();
    else control.resume(badInput(() => parseCondition(isObject(body) ? body.until : body)));
    sendJson(res, 200, { run: runs.current!.state.id, ...control.state() });
  };

  const onPost = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${req.headers.host}`) {
      sendError(res, 403, 'cross-origin requests are refused');
      return;
    }
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      sendError(res, 415, 'send the controls as application/json');
      return;
    }
    if (path === '/api/start') {
      await onStart(req, res);
      return;
    }
    if (path === '/api/stop') {
      await readBody(req, maxBody);
      sendJson(res, 200, { run: runs.stop() });
      return;
    }
    await onPlayback(req, res, path.slice('/api/'.length));
  };

  const POSTS = new Set(['/api/start', '/api/stop', '/api/pause', '/api/step', '/api/resume', '/api/cut-link']);
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!hostAllowed(req.headers.host, host, port)) {
      sendError(res, 403, 'this server answers only to its own host name (DNS rebinding guard)');
      return;
    }
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    if (POSTS.has(path)) {
      if (method !== 'POST') {
        send(res, 405, 'use POST', undefined, { Allow: 'POST' });
        return;
      }
      await onPost(req, res, path);
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      send(res, 405, 'method not allowed', undefined, { Allow: 'GET, HEAD' });
      return;
    }
    if (path === '/events') {
      if (method !== 'GET') {
        send(res, 405, 'use GET', undefined, { Allow: 'GET' });
        return;
      }
      onEvents(req, res);
      return;
    }
    if (path === '/api/config') {
      sendJson(res, 200, { choices: demoChoices(limits), uapi: uapiTables(), run: runs.current ? runs.current.state.runMessage() : null });
      return;
    }
    const asset = assets.get(path);
    if (!asset) {
      sendError(res, 404, 'not found');
      return;
    }
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': asset.type,
      'Content-Length': asset.body.length,
      ...(asset.type.startsWith('text/html') ? { 'Content-Security-Policy': CSP } : {}),
    });
    res.end(method === 'HEAD' ? undefined : asset.body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (e instanceof BodyError) {
        sendError(res, e.status, e.message);
      } else sendError(res, 500, (e as Error)?.message?.split('\n')[0] ?? 'internal error');
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  const heartbeat = setInterval(() => {
    for (const res of clients) write(res, ': keep-alive\n\n');
  }, 15_000);
  heartbeat.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8080, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const shown = isWildcard(host) ? (host === '::' ? '::1' : '127.0.0.1') : host;
  const url = `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}/`;

  let closing: Promise<void> | null = null;
  return {
    url,
    host,
    port,
    close: () =>
      (closing ??= (async () => {
        clearInterval(heartbeat);
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        const done = runs.close();
        for (const res of clients) res.end();
        clients.clear();
        server.closeAllConnections();
        await done;
        await closed;
      })()),
  };
}
