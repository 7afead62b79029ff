// Goal: the demo server behaves like a local tool (Host check, asset allow-list, bounded bodies,
// validated controls, one run at a time) and streams a run's events over SSE.
// Method: a real server on port 0, raw node:http requests (so Host and paths go out unmodified),
// tiny real runs; assertions on status codes, messages and event order, never on timings.
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoCommand } from '../src/cli/see.js';
import { planDemoRun } from '../src/demo/params.js';
import { SimError } from '../src/errors.js';
import { assetsDir, hostAllowed, startDemoServer, type DemoServer } from '../src/demo/server.js';
import { http, ofRun, postJson, sse, useServer } from './demo-client.js';

const MiB = 2 ** 20;
let server: DemoServer;
let host: string;

useServer(() => server);
beforeAll(async () => {
  server = await startDemoServer({ port: 0, maxVcpus: 4, maxMemoryBytes: 64 * MiB });
  host = `127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server?.close();
});

describe('listening and assets', () => {
  it('listens on loopback on the port it was given (0: any) and prints a usable URL', () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
  });

  it('serves its page, scripts and uPlot from node_modules', async () => {
    const page = await http('GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.body).toContain('<canvas id="grid"');
    expect(page.body).not.toMatch(/https?:\/\//); // no CDN: works without internet
    for (const p of ['/demo.js', '/demo.css', '/record.js', '/playback.js', '/lessons.js', '/vendor/uPlot.iife.min.js', '/vendor/uPlot.min.css']) {
      const r = await http('GET', p);
      expect(r.status, p).toBe(200);
      expect(r.body.length, p).toBeGreaterThan(100);
    }
    expect((await http('GET', '/vendor/uPlot.iife.min.js')).body).toContain('uPlot');
  });

  it('finds its assets from src/ (vitest) and from dist/ (the built CLI) alike', async () => {
    const want = join(import.meta.dirname, '..', 'src', 'demo', 'assets');
    expect(fileURLToPath(assetsDir()).replace(/\/$/, '')).toBe(want);
    const built = (await import('../dist/src/demo/server.js')) as typeof import('../src/demo/server.js');
    expect(fileURLToPath(built.assetsDir()).replace(/\/$/, '')).toBe(want);
  });

  it('serves nothing outside its allow-list (no path traversal)', async () => {
    for (const p of [
      '/../package.json',
      '/%2e%2e/%2e%2e/package.json',
      '/vendor/..%2f..%2fpackage.json',
      '/demo.js/../../package.json',
      '/src/demo/server.ts',
      '/vendor/uPlot.cjs.js',
      '/node_modules/uplot/package.json',
      '//etc/passwd',
      '/demo.js%00.html',
    ]) {
      const r = await http('GET', p);
      expect(r.status, p).toBe(404);
      expect(r.body, p).not.toContain('postcopy-sim"');
    }
  });
});

describe('refuses what a local tool must refuse', () => {
  it('a Host header that is not its own: 403 (DNS rebinding)', async () => {
    expect((await http('GET', '/', { headers: { Host: `evil.example:${server.port}` } })).status).toBe(403);
    expect((await http('GET', '/', { headers: { Host: `127.0.0.1:${server.port + 1}` } })).status).toBe(403);
    expect((await http('GET', '/', { headers: { Host: 'evil.example' } })).status).toBe(403);
    expect((await http('GET', '/events', { headers: { Host: `rebind.attacker.test:${server.port}` } })).status).toBe(403);
    expect((await postJson('/api/start', {}, { Host: `evil.example:${server.port}` })).status).toBe(403);
    expect([400, 403]).toContain((await http('GET', '/', { noHost: true })).status); // node:http itself answers 400
    expect((await http('GET', '/', { headers: { Host: `localhost:${server.port}` } })).status).toBe(200);
  });

  it('knows which Host names are its own', () => {
    expect(hostAllowed('127.0.0.1:8080', '127.0.0.1', 8080)).toBe(true);
    expect(hostAllowed('localhost:8080', '127.0.0.1', 8080)).toBe(true);
    expect(hostAllowed('[::1]:8080', '127.0.0.1', 8080)).toBe(true);
    expect(hostAllowed('localhost.evil.test:8080', '127.0.0.1', 8080)).toBe(false);
    expect(hostAllowed('192.168.1.9:8080', '0.0.0.0', 8080)).toBe(true); // any interface: IP literals are ours
    expect(hostAllowed('attacker.test:8080', '0.0.0.0', 8080)).toBe(false);
    expect(hostAllowed('10.0.0.2:8080', '10.0.0.1', 8080)).toBe(false);
    expect(hostAllowed(undefined, '127.0.0.1', 8080)).toBe(false);
  });

  it('a cross-origin POST: 403; not JSON: 415; wrong method: 405; unknown path: 404', async () => {
    expect((await postJson('/api/start', {}, { Origin: 'http://evil.example' })).status).toBe(403);
    expect((await http('POST', '/api/start', { headers: { 'Content-Type': 'text/plain' }, body: '{}' })).status).toBe(415);
    expect((await http('GET', '/api/start')).status).toBe(405);
    expect((await http('DELETE', '/')).status).toBe(405);
    expect((await http('GET', '/api/nothing')).status).toBe(404);
  });

  it('a request body over 16 KiB: 413', async () => {
    const big = JSON.stringify({ seed: '1'.padEnd(20 * 1024, ' ') });
    const r = await http('POST', '/api/start', { headers: { 'Content-Type': 'application/json' }, body: big });
    expect(r.status).toBe(413);
    const chunked = await new Promise<number>((resolve, reject) => {
      // no Content-Length: counted while reading
      const req = request(
        {
          host: '127.0.0.1',
          port: server.port,
          method: 'POST',
          path: '/api/start',
          headers: { Host: host, 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.on('error', reject);
      for (let i = 0; i < 20; i++) req.write(Buffer.alloc(1024, 0x20));
      req.end();
    });
    expect(chunked).toBe(413);
  });

  it('bad control values: 400 with the same one-line message as the CLI', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ vcpus: 0 }, /^vcpus: must be a positive integer/],
      [{ mode: 'kvm' }, /^mode: must be one of exit, uffd, none$/],
      [{ strategy: 'fastest' }, /^strategy: must be one of /],
      [{ workload: 'trace' }, /^trace: workload trace needs a trace file/],
      [{ bandwidth: 'fast' }, /^bandwidth: "fast" is not a rate/],
      [{ latency: '-1ms' }, /^latency: /],
      [{ memory: '3KiB' }, /^memory: /],
      [{ memory: '128MiB' }, /^memory: the demo runs guests of at most 64MiB$/],
      [{ vcpus: 5 }, /^vcpus: the demo runs at most 4 vCPUs$/],
      [{ speed: 'warp' }, /^speed: must be one of realtime, x10, x100, x1000$/],
      [{ think: '1ms' }, /^unknown control: think$/],
      [{ vcpus: [2] }, /^vcpus: expected a string or a number$/],
      [[1, 2], /^expected a JSON object of controls$/],
    ];
    for (const [body, re] of cases) {
      const r = await postJson('/api/start', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      const msg = JSON.parse(r.body).error as string;
      expect(msg, JSON.stringify(body)).toMatch(re);
      expect(msg).not.toContain('\n');
    }
    const notJson = await http('POST', '/api/start', { headers: { 'Content-Type': 'application/json' }, body: '{"vcpus":' });
    expect(notJson.status).toBe(400);
    expect(JSON.parse(notJson.body).error).toBe('the body is not valid JSON');
  });

  it('at most maxClients live event streams', async () => {
    const small = await startDemoServer({ port: 0, maxClients: 2 });
    const a = sse(small),
      b = sse(small);
    await a.until((m) => m.length > 0, 'hello');
    await b.until((m) => m.length > 0, 'hello');
    const c = await http('GET', '/events', { to: small, headers: { Host: `127.0.0.1:${small.port}` } });
    expect(c.status).toBe(503);
    a.close();
    b.close();
    await small.close();
  });
});

describe('postcopy-sim demo flags', () => {
  it('refuses bad flags with one line (BAD_INPUT) before listening', async () => {
    const fail = async (argv: string[], re: RegExp) => {
      const e = await demoCommand(argv).then(
        () => null,
        (x: unknown) => x,
      );
      expect(e, argv.join(' ')).toBeInstanceOf(SimError);
      expect((e as SimError).code).toBe('BAD_INPUT');
      expect((e as SimError).message).toMatch(re);
    };
    await fail(['--port', 'http'], /^--port: "http" is not a port number/);
    await fail(['--port', '70000'], /^--port: /);
    await fail(['--max-vcpus', '0'], /^--max-vcpus: /);
    await fail(['--max-memory', 'lots'], /^--max-memory: /);
    await fail(['--bogus'], /^--bogus: unknown option \(see: postcopy-sim help demo\)$/);
    await fail(['extra'], /^extra: unexpected argument/);
    await fail(['--port', String(server.port)], /^cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE$/);
  });
});

describe('slow motion maps onto the run options', () => {
  it('stretches the link and makes the guest think, validated like the CLI', () => {
    const real = planDemoRun({ memory: '8MiB', bandwidth: '1Gbit', latency: '50us', speed: 'realtime' });
    expect(real.options).toMatchObject({ thinkUs: 0, latencyUs: 50, bandwidthBps: 1e9 });
    const slow = planDemoRun({ memory: '8MiB', bandwidth: '1Gbit', latency: '50us', speed: 'x1000' });
    expect(slow.options).toMatchObject({ thinkUs: 10_000, latencyUs: 50_000, bandwidthBps: 1e6 });
    expect(slow.options.tailAccesses).toBeLessThan(real.options.tailAccesses);
    expect(planDemoRun({ strategy: 'demand', memory: '8MiB', vcpus: 2 }).options.accesses).toBe(1024);
  });

  it('engine virtual: slow motion paces the playback instead of stretching the run; up to 256 vCPUs', () => {
    const v = planDemoRun({
      engine: 'virtual',
      mode: 'uffd',
      vcpus: 64,
      workload: 'sequential',
      partition: 'true',
      network: 'none',
      memory: '64MiB',
      speed: 'x100',
      cores: 72,
    });
    expect(v.playback).toEqual({ virtualUsPerRealMs: 10 });
    expect(v.options).toMatchObject({ engine: 'virtual', vcpus: 64, thinkUs: 0, network: 'none', partition: true, cores: 72, accesses: 256 });
    expect(v.effective).toMatchObject({ engine: 'virtual', virtualUsPerRealMs: 10, cores: 72 });
    expect(planDemoRun({ engine: 'virtual', speed: 'realtime', memory: '8MiB' }).playback).toEqual({ virtualUsPerRealMs: 1000 });
    expect(planDemoRun({ memory: '8MiB' }).playback).toBeNull();
    const bad = (body: unknown, re: RegExp) => expect(() => planDemoRun(body)).toThrow(re);
    bad({ engine: 'virtual', vcpus: 300, memory: '8MiB' }, /^vcpus: the demo runs at most 256 vCPUs on the virtual engine$/);
    bad({ engine: 'threads', vcpus: 64, memory: '8MiB' }, /^vcpus: the demo runs at most 16 vCPUs$/);
    bad({ engine: 'warp' }, /^engine: /);
    bad({ cores: 8, memory: '8MiB' }, /^costs: --costs and --cores need --engine virtual$/);
    bad({ engine: 'virtual', mode: 'uffd', resolver: 'vcpu', network: 'none', memory: '8MiB' }, /^exitResolver: 'vcpu' is for exit mode$/);
  });
});

describe('the event stream', () => {
  it('plays a virtual run: start, ticks with the uffd queue, decoded faults and its end', async () => {
    const client = sse();
    await client.until((m) => m.some((x) => x.type === 'hello'), 'hello');
    const r = await postJson('/api/start', {
      engine: 'virtual',
      mode: 'uffd',
      vcpus: 8,
      workload: 'sequential',
      partition: 'true',
      network: 'none',
      memory: '8MiB',
      speed: 'x10',
      cores: 16,
    });
    expect(r.status).toBe(200);
    const body = JSON.parse(r.body) as { run: number; effective: Record<string, unknown> };
    expect(body.effective).toMatchObject({ engine: 'virtual', virtualUsPerRealMs: 100, accesses: 256 });
    const run = body.run;
    await client.until((m) => ofRun(m, run).some((x) => x.type === 'end' || x.type === 'error'), `end of run ${run}`);
    const msgs = ofRun(client.messages, run);
    const types = msgs.map((m) => m.type);
    expect(types[0]).toBe('run');
    expect(types.at(-1)).toBe('end');
    expect(types.indexOf('start')).toBeLessThan(types.indexOf('tick'));
    expect(msgs.find((m) => m.type === 'start')).toMatchObject({ engine: 'virtual', vcpus: 8, pages: 2048, playback: { virtualUsPerRealMs: 100 } });
    const ticks = msgs.filter((m) => m.type === 'tick');
    expect(ticks.length).toBeGreaterThan(1);
    expect((ticks.at(-1)!.vcpus as unknown[]).length).toBe(8);
    expect(ticks.some((t) => (t.queuedFaults as number) > 1)).toBe(true); // 8 vCPUs behind one reader
    expect(msgs.find((m) => m.type === 'fault')!.record).toMatchObject({ kind: 'uffd_msg', event: 0x12 });
    expect(msgs.at(-1)!.result).toMatchObject({ engine: 'virtual', faults: 2048, verified: true });
    client.close();
  });

  it('delivers start, ticks, decoded faults and the end of a run, tagged with its id', async () => {
    const client = sse();
    await client.until((m) => m.some((x) => x.type === 'hello'), 'hello');
    const r = await postJson('/api/start', { mode: 'exit', vcpus: 2, memory: '8MiB', speed: 'realtime' });
    expect(r.status).toBe(200);
    const run = JSON.parse(r.body).run as number;
    await client.until((m) => ofRun(m, run).some((x) => x.type === 'end' || x.type === 'error'), `end of run ${run}`);
    const msgs = ofRun(client.messages, run);
    const types = msgs.map((m) => m.type);
    expect(types[0]).toBe('run');
    expect(types).toContain('start');
    expect(types).toContain('tick');
    expect(types).toContain('fault');
    expect(types.at(-1)).toBe('end');
    expect(types.indexOf('start')).toBeLessThan(types.indexOf('tick'));
    const start = msgs.find((m) => m.type === 'start')!;
    expect(start).toMatchObject({ mode: 'exit', strategy: 'linear', vcpus: 2, pages: 2048 });
    const ticks = msgs.filter((m) => m.type === 'tick');
    const cells = new Set(ticks.flatMap((t) => (t.cells as Array<[number, number, number]>).map(([c]) => c)));
    expect(cells.size).toBe(start.cells); // every cell turned present at some point
    expect((ticks.at(-1)!.vcpus as unknown[]).length).toBe(2);
    const fault = msgs.find((m) => m.type === 'fault')!;
    expect(fault.record).toMatchObject({ kind: 'memory_fault', exitReason: 39, size: 4096 });
    const end = msgs.at(-1)!;
    expect((end.result as { verified: boolean }).verified).toBe(true);
    expect(end.result).not.toHaveProperty('timeline'); // the bulky arrays stay on the server

    // uffd mode: the record is a uffd_msg.
    const r2 = await postJson('/api/start', { mode: 'uffd', vcpus: 2, memory: '8MiB', speed: 'realtime' });
    const run2 = JSON.parse(r2.body).run as number;
    await client.until((m) => ofRun(m, run2).some((x) => x.type === 'end' || x.type === 'error'), `end of run ${run2}`);
    const f2 = ofRun(client.messages, run2, 'fault')[0]!;
    expect(f2.record).toMatchObject({ kind: 'uffd_msg', event: 0x12 });
    expect(ofRun(client.messages, run2).at(-1)!.type).toBe('end');

    // A client that joins late gets the picture so far: the run, its start, history, all present cells, its end.
    const late = sse();
    await late.until((m) => m.some((x) => x.type === 'end'), 'snapshot');
    const snap = late.messages.map((m) => m.type);
    expect(snap).toEqual(['hello', 'run', 'start', 'history', 'tick', 'fault', 'end']);
    const snapTick = late.messages.find((m) => m.type === 'tick')!;
    expect((snapTick.cells as unknown[]).length).toBe(late.messages.find((m) => m.type === 'start')!.cells);
    late.close();
    client.close();
  });

  it('one run at a time: a new start stops the running one before it begins', async () => {
    const client = sse();
    await client.until((m) => m.some((x) => x.type === 'hello'), 'hello');
    // Slow motion x1000 on 8 MiB runs for minutes: it is still running when the next start comes.
    const a = JSON.parse((await postJson('/api/start', { vcpus: 1, memory: '8MiB', speed: 'x1000' })).body).run as number;
    await client.until((m) => ofRun(m, a, 'start').length > 0, 'run a started');
    const b = JSON.parse((await postJson('/api/start', { vcpus: 1, memory: '8MiB', speed: 'x1000' })).body).run as number;
    await client.until((m) => ofRun(m, b, 'start').length > 0, 'run b started');
    const order = client.messages.filter((m) => m.run === a || m.run === b).map((m) => `${m.type}:${m.run === a ? 'a' : 'b'}`);
    expect(ofRun(client.messages, a, 'error')[0]).toMatchObject({ code: 'ABORTED' });
    expect(order.indexOf('error:a')).toBeLessThan(order.indexOf('start:b'));
    expect(order).not.toContain('end:a');
    // Stop ends the current run.
    expect((await postJson('/api/stop', {})).status).toBe(200);
    await client.until((m) => ofRun(m, b, 'error').length > 0, 'run b stopped');
    expect(ofRun(client.messages, b, 'error')[0]).toMatchObject({ code: 'ABORTED' });
    client.close();
  });
});
