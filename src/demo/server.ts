/**
 * `postcopy-sim demo`: a local web server that shows one migration live.
 *
 *   browser ──GET /, /demo.js, ...──▶ fixed asset allow-list (read once at start, nothing else served)
 *           ──GET /events──────────▶ Server-Sent Events: the engine's event stream, tagged by run id
 *           ──POST /api/start──────▶ controls -> resolveOptions (400 on bad input) -> one run at a time
 *           ──POST /api/stop───────▶ AbortSignal of the current run
 *
 * It is a local tool and behaves like one: it binds loopback unless told otherwise, refuses a Host
 * header that is not its own (DNS rebinding) and cross-origin POSTs, bounds bodies, SSE clients and
 * runs (a new start aborts the old run and waits for it before starting), and caps guest size and
 * vCPUs. A client that joins late gets a snapshot (memory map, counters, history) and then the stream.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { isIP, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { simulate, type SimulateHooks } from '../simulate.js';
import { SimError } from '../errors.js';
import type { FaultEvent, SimEvent, StartEvent, TickEvent } from '../events.js';
import type { RunResult } from '../model/result.js';
import * as uapi from '../model/uapi.js';
import { DEFAULT_LIMITS, demoChoices, planDemoRun, type DemoLimits, type DemoRunPlan } from './params.js';

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

/** Where the page's files live: src/demo/assets, from src/demo (vitest) or from dist/src/demo. */
export function assetsDir(): URL {
  return import.meta.url.endsWith('.ts') ? new URL('./assets/', import.meta.url) : new URL('../../../src/demo/assets/', import.meta.url);
}

interface Asset { body: Buffer; type: string }

/** The allow-list: URL path -> file. Nothing outside it is ever read from disk. */
function loadAssets(): Map<string, Asset> {
  const dir = assetsDir();
  const req = createRequire(import.meta.url);
  const html = 'text/html; charset=utf-8', js = 'text/javascript; charset=utf-8', css = 'text/css; charset=utf-8';
  const files: Array<[string, string, string]> = [
    ['/', fileURLToPath(new URL('index.html', dir)), html],
    ['/demo.js', fileURLToPath(new URL('demo.js', dir)), js],
    ['/demo.css', fileURLToPath(new URL('demo.css', dir)), css],
    ['/vendor/uPlot.iife.min.js', req.resolve('uplot/dist/uPlot.iife.min.js'), js],
    ['/vendor/uPlot.min.css', req.resolve('uplot/dist/uPlot.min.css'), css],
  ];
  const out = new Map<string, Asset>();
  for (const [path, file, type] of files) out.set(path, { body: readFileSync(file), type });
  out.set('/index.html', out.get('/')!);
  return out;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1']);
const isLoopback = (h: string) => LOOPBACK.has(h) || /^127\.\d+\.\d+\.\d+$/.test(h);
const isWildcard = (h: string) => h === '0.0.0.0' || h === '::';

/** Splits a Host header into hostname and port ("[::1]:80" -> ["::1", "80"]); port '' if absent. */
export function parseHostHeader(h: string): { hostname: string; port: string } | null {
  const m = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(h) ?? /^([^:[\]]+)(?::(\d+))?$/.exec(h);
  return m ? { hostname: m[1]!.toLowerCase(), port: m[2] ?? '' } : null;
}

/** DNS rebinding guard: the Host header must name this server (its address, or loopback names). */
export function hostAllowed(header: string | undefined, boundHost: string, port: number): boolean {
  if (!header) return false;
  const h = parseHostHeader(header);
  if (!h || (h.port || '80') !== String(port)) return false;
  const bound = boundHost.toLowerCase();
  if (h.hostname === bound) return true;
  if (isLoopback(bound)) return isLoopback(h.hostname);
  // Bound to every interface: any IP literal is ours to answer (a rebinding attack needs a DNS name).
  if (isWildcard(bound)) return isIP(h.hostname) !== 0 || h.hostname === 'localhost';
  return false;
}

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
};
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8', extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...extra });
  res.end(body);
}
const sendJson = (res: ServerResponse, status: number, value: unknown) => send(res, status, JSON.stringify(value), 'application/json; charset=utf-8');
const sendError = (res: ServerResponse, status: number, message: string) => sendJson(res, status, { error: message });

class BodyError extends Error { constructor(readonly status: number, message: string) { super(message); } }

/** Past this many bytes an oversized body is not drained but the connection is dropped. */
const DISCARD_LIMIT = 1024 * 1024;

/**
 * Reads a body of at most `limit` bytes. Over the limit it rejects with 413 at once and discards the
 * rest (so the client can read the answer; closing with unread input would reset the connection),
 * dropping the connection only if the sender goes on past DISCARD_LIMIT.
 */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    const tooBig = () => { over = true; chunks.length = 0; reject(new BodyError(413, `request body larger than ${limit} bytes`)); };
    if (Number(req.headers['content-length'] ?? 0) > limit) tooBig();
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (over) { if (size > DISCARD_LIMIT) req.destroy(); return; }
      if (size > limit) { tooBig(); return; }
      chunks.push(c);
    });
    req.on('end', () => { if (!over) resolve(Buffer.concat(chunks).toString('utf8')); });
    req.on('error', (e) => reject(new BodyError(400, e.message)));
  });
}

/** The end of a run without its bulky arrays (the page shows headline numbers). */
function summary(r: RunResult): Omit<RunResult, 'timeline' | 'services' | 'pageMap'> {
  const { timeline: _t, services: _s, pageMap: _p, ...rest } = r;
  return rest;
}

/** What the server remembers of the current run, so a late client starts from a full picture. */
class RunState {
  start: StartEvent | null = null;
  present = new Float32Array(0);
  demand = new Float32Array(0);
  lastTick: TickEvent | null = null;
  lastFault: FaultEvent | null = null;
  final: Record<string, unknown> | null = null;
  /** [tMs, faultsPerSec, blocktimeMs, bytesReceived, presentPages, accessesPerSec], halved when long. */
  history: number[][] = [];
  status: 'starting' | 'running' | 'finished' | 'stopped' | 'failed' = 'starting';
  constructor(readonly id: number, readonly plan: DemoRunPlan, readonly controls: Record<string, unknown>) {}

  runMessage() {
    return { type: 'run', run: this.id, status: this.status, controls: this.controls, effective: this.plan.effective };
  }

  apply(e: SimEvent): void {
    if (e.type === 'start') {
      this.start = e;
      this.present = new Float32Array(e.cells);
      this.demand = new Float32Array(e.cells);
      this.status = 'running';
    } else if (e.type === 'tick') {
      for (const [c, p, d] of e.cells) { this.present[c] = p; this.demand[c] = d; }
      const { cells: _c, ...rest } = e;
      this.lastTick = { ...rest, cells: [] };
      this.history.push([e.tMs, e.faultsPerSec, e.blocktimeMs, e.bytesReceived, e.presentPages, e.accessesPerSec]);
      if (this.history.length > 3000) this.history = this.history.filter((_, i) => i % 2 === 0);
    } else if (e.type === 'fault') {
      this.lastFault = e;
    }
  }

  /** Messages that bring a new client up to date. */
  snapshot(): unknown[] {
    const out: unknown[] = [this.runMessage()];
    if (this.start) {
      out.push({ ...this.start, run: this.id });
      out.push({ type: 'history', run: this.id, points: this.history });
      if (this.lastTick) {
        const cells: Array<[number, number, number]> = [];
        for (let c = 0; c < this.present.length; c++) if (this.present[c]! > 0) cells.push([c, this.present[c]!, this.demand[c]!]);
        out.push({ ...this.lastTick, cells, run: this.id });
      }
      if (this.lastFault) out.push({ ...this.lastFault, run: this.id });
    }
    if (this.final) out.push(this.final);
    return out;
  }
}

/** The kernel names the record panel decodes with. */
function uapiTables() {
  const bit = (v: number) => Math.log2(v);
  return {
    KVM_EXIT_MEMORY_FAULT: uapi.KVM_EXIT_MEMORY_FAULT,
    UFFD_EVENT_PAGEFAULT: uapi.UFFD_EVENT_PAGEFAULT,
    MEMORY_FAULT_BYTES: uapi.MEMORY_FAULT_BYTES,
    UFFD_MSG_BYTES: uapi.UFFD_MSG_BYTES,
    memoryFaultFlags: [
      { bit: bit(uapi.KVM_MEMORY_EXIT_FLAG_READ), name: 'KVM_MEMORY_EXIT_FLAG_READ', note: 'proposed (stage-2 exits series, v7)' },
      { bit: bit(uapi.KVM_MEMORY_EXIT_FLAG_WRITE), name: 'KVM_MEMORY_EXIT_FLAG_WRITE', note: 'proposed (stage-2 exits series, v7)' },
      { bit: bit(uapi.KVM_MEMORY_EXIT_FLAG_EXEC), name: 'KVM_MEMORY_EXIT_FLAG_EXEC', note: 'proposed (stage-2 exits series, v7)' },
      { bit: bit(uapi.KVM_MEMORY_EXIT_FLAG_PRIVATE), name: 'KVM_MEMORY_EXIT_FLAG_PRIVATE', note: 'upstream (Linux 6.8)' },
      { bit: bit(uapi.KVM_MEMORY_EXIT_FLAG_USERFAULT), name: 'KVM_MEMORY_EXIT_FLAG_USERFAULT', note: 'proposed (KVM Userfault)' },
    ],
    uffdFlags: [
      { bit: bit(uapi.UFFD_PAGEFAULT_FLAG_WRITE), name: 'UFFD_PAGEFAULT_FLAG_WRITE', note: 'the access was a write' },
      { bit: bit(uapi.UFFD_PAGEFAULT_FLAG_WP), name: 'UFFD_PAGEFAULT_FLAG_WP', note: 'write-protect fault' },
      { bit: bit(uapi.UFFD_PAGEFAULT_FLAG_MINOR), name: 'UFFD_PAGEFAULT_FLAG_MINOR', note: 'page in the page cache (MINOR mode)' },
    ],
  };
}

export async function startDemoServer(opts: DemoServerOptions = {}): Promise<DemoServer> {
  const host = opts.host ?? '127.0.0.1';
  const limits: DemoLimits = {
    maxMemoryBytes: opts.maxMemoryBytes ?? DEFAULT_LIMITS.maxMemoryBytes, maxVcpus: opts.maxVcpus ?? DEFAULT_LIMITS.maxVcpus,
    maxVirtualVcpus: opts.maxVirtualVcpus ?? DEFAULT_LIMITS.maxVirtualVcpus,
  };
  const maxClients = opts.maxClients ?? 8;
  const maxBody = opts.maxBodyBytes ?? 16 * 1024;
  const assets = loadAssets();
  const clients = new Set<ServerResponse>();
  let port = 0;

  // ---- runs: at most one at a time ----
  let nextId = 1;
  let current: { state: RunState; controller: AbortController; done: Promise<void> } | null = null;

  const broadcast = (msg: unknown) => {
    const line = `data: ${JSON.stringify(msg)}\n\n`;
    for (const res of clients) write(res, line);
  };
  const write = (res: ServerResponse, line: string) => {
    // A client that stopped reading is dropped; its EventSource reconnects and gets a snapshot.
    if (res.writableLength > 8 * 2 ** 20) { res.destroy(); clients.delete(res); return; }
    res.write(line);
  };

  const startRun = (plan: DemoRunPlan, controls: Record<string, unknown>): RunState => {
    const prev = current;
    prev?.controller.abort();
    const controller = new AbortController();
    const state = new RunState(nextId++, plan, controls);
    const done = (async () => {
      if (prev) await prev.done;
      if (controller.signal.aborted) {
        state.status = 'stopped';
        state.final = { type: 'error', run: state.id, code: 'ABORTED', message: 'superseded before it started' };
        broadcast(state.final);
        return;
      }
      let reported = false;
      try {
        const hooks: SimulateHooks = {
          eventIntervalMs: opts.eventIntervalMs ?? 100,
          signal: controller.signal,
          onEvent: (e) => {
            state.apply(e);
            if (e.type === 'end') {
              state.status = 'finished';
              state.final = { type: 'end', run: state.id, result: summary(e.result) };
              broadcast(state.final);
            } else if (e.type === 'error') {
              reported = true;
              state.status = e.code === 'ABORTED' ? 'stopped' : 'failed';
              state.final = { ...e, run: state.id };
              broadcast(state.final);
            } else broadcast({ ...e, run: state.id });
          },
        };
        if (plan.playback) {
          // A virtual run played back in slow motion (simulate() would run it flat out).
          const { simulateVirtual } = await import('../virtual/engine.js');
          await simulateVirtual(plan.options, { ...hooks, playback: plan.playback });
        } else await simulate(plan.options, hooks);
      } catch (e) {
        if (!reported) {
          state.status = 'failed';
          const code = e instanceof SimError ? e.code : 'INTERNAL';
          state.final = { type: 'error', run: state.id, code, message: (e as Error)?.message?.split('\n')[0] ?? String(e) };
          broadcast(state.final);
        }
      }
    })();
    current = { state, controller, done };
    broadcast(state.runMessage());
    return state;
  };

  // ---- HTTP ----
  const onEvents = (req: IncomingMessage, res: ServerResponse) => {
    if (clients.size >= maxClients) { sendError(res, 503, `too many live clients (at most ${maxClients})`); return; }
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive' });
    clients.add(res);
    req.on('close', () => clients.delete(res));
    res.write('retry: 1000\n\n');
    const hello = { type: 'hello', run: current?.state.id ?? null };
    write(res, `data: ${JSON.stringify(hello)}\n\n`);
    if (current) for (const m of current.state.snapshot()) write(res, `data: ${JSON.stringify(m)}\n\n`);
  };

  const onStart = async (req: IncomingMessage, res: ServerResponse) => {
    const text = await readBody(req, maxBody);
    let body: unknown;
    try { body = text.trim() ? JSON.parse(text) : {}; } catch { throw new BodyError(400, 'the body is not valid JSON'); }
    let plan: DemoRunPlan;
    try { plan = planDemoRun(body, limits); } catch (e) {
      if (e instanceof SimError) throw new BodyError(400, e.message);
      throw e;
    }
    const state = startRun(plan, body as Record<string, unknown>);
    sendJson(res, 200, { run: state.id, effective: plan.effective });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!hostAllowed(req.headers.host, host, port)) { sendError(res, 403, 'this server answers only to its own host name (DNS rebinding guard)'); return; }
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    if (path === '/api/start' || path === '/api/stop') {
      if (method !== 'POST') { send(res, 405, 'use POST', undefined, { Allow: 'POST' }); return; }
      const origin = req.headers.origin;
      if (origin !== undefined && origin !== `http://${req.headers.host}`) { sendError(res, 403, 'cross-origin requests are refused'); return; }
      if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) { sendError(res, 415, 'send the controls as application/json'); return; }
      if (path === '/api/stop') {
        await readBody(req, maxBody);
        current?.controller.abort();
        sendJson(res, 200, { run: current?.state.id ?? null });
        return;
      }
      await onStart(req, res);
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') { send(res, 405, 'method not allowed', undefined, { Allow: 'GET, HEAD' }); return; }
    if (path === '/events') {
      if (method !== 'GET') { send(res, 405, 'use GET', undefined, { Allow: 'GET' }); return; }
      onEvents(req, res);
      return;
    }
    if (path === '/api/config') {
      sendJson(res, 200, { choices: demoChoices(limits), uapi: uapiTables(), run: current ? current.state.runMessage() : null });
      return;
    }
    const asset = assets.get(path);
    if (!asset) { sendError(res, 404, 'not found'); return; }
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': asset.type, 'Content-Length': asset.body.length, ...(asset.type.startsWith('text/html') ? { 'Content-Security-Policy': CSP } : {}) });
    res.end(method === 'HEAD' ? undefined : asset.body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) { res.destroy(); return; }
      if (e instanceof BodyError) {
        sendError(res, e.status, e.message);
      } else sendError(res, 500, (e as Error)?.message?.split('\n')[0] ?? 'internal error');
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  const heartbeat = setInterval(() => { for (const res of clients) write(res, ': keep-alive\n\n'); }, 15_000);
  heartbeat.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8080, host, () => { server.off('error', reject); resolve(); });
  });
  port = (server.address() as AddressInfo).port;
  const shown = isWildcard(host) ? (host === '::' ? '::1' : '127.0.0.1') : host;
  const url = `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}/`;

  let closing: Promise<void> | null = null;
  return {
    url, host, port,
    close: () => closing ??= (async () => {
      clearInterval(heartbeat);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      current?.controller.abort();
      for (const res of clients) res.end();
      clients.clear();
      server.closeAllConnections();
      if (current) await current.done;
      await closed;
    })(),
  };
}
