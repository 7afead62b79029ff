// The demo server's test client: raw node:http requests (so Host and paths go out unmodified) and
// an SSE reader that collects every `data:` message. Shared by the demo server's tests.
import { request, type IncomingMessage } from 'node:http';
import type { DemoServer } from '../src/demo/server.js';

export interface Reply {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

export function http(
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: string | Buffer; to?: DemoServer; noHost?: boolean } = {},
): Promise<Reply> {
  const s = opts.to ?? current();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: s.port,
        method,
        path,
        setHost: !opts.noHost,
        headers: { ...(opts.noHost ? {} : { Host: `127.0.0.1:${s.port}` }), ...opts.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}
export const postJson = (path: string, value: unknown, headers: Record<string, string> = {}) =>
  http('POST', path, { headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(value) });

/** An SSE client: collects every `data:` message; `until` waits for a predicate over them. */
export function sse(to: DemoServer = current()) {
  const messages: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  let status = 0;
  let buf = '';
  const req = request({ host: '127.0.0.1', port: to.port, path: '/events', headers: { Host: `127.0.0.1:${to.port}` } }, (res) => {
    status = res.statusCode!;
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buf += chunk;
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        for (const line of block.split('\n')) if (line.startsWith('data: ')) messages.push(JSON.parse(line.slice(6)));
        for (const w of waiters.splice(0)) w();
      }
    });
    res.on('end', () => {
      for (const w of waiters.splice(0)) w();
    });
    for (const w of waiters.splice(0)) w();
  });
  req.on('error', () => {});
  req.end();
  return {
    messages,
    get status() {
      return status;
    },
    async until(pred: (m: Array<Record<string, unknown>>) => boolean, what: string): Promise<void> {
      const deadline = Date.now() + 60_000; // a safety net for a broken server, not a timing assertion
      while (!pred(messages)) {
        if (Date.now() > deadline) throw new Error(`SSE: gave up waiting for ${what}; got ${messages.map((m) => m.type).join(',')}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    },
    close: () => req.destroy(),
  };
}
export const ofRun = (msgs: Array<Record<string, unknown>>, run: unknown, type?: string) => msgs.filter((m) => m.run === run && (!type || m.type === type));

let current: () => DemoServer = () => {
  throw new Error('no demo server: call useServer first');
};
/** The server requests go to unless they name another. */
export function useServer(get: () => DemoServer): void {
  current = get;
}
