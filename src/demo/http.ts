/**
 * The demo server's HTTP plumbing: the Host-header guard against DNS rebinding, the security headers
 * every answer carries, small senders, and a bounded body reader. Nothing here knows about runs.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1']);
const isLoopback = (h: string) => LOOPBACK.has(h) || /^127\.\d+\.\d+\.\d+$/.test(h);
export const isWildcard = (h: string) => h === '0.0.0.0' || h === '::';

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

export const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
};
export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8', extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...extra });
  res.end(body);
}
export const sendJson = (res: ServerResponse, status: number, value: unknown) => send(res, status, JSON.stringify(value), 'application/json; charset=utf-8');
export const sendError = (res: ServerResponse, status: number, message: string) => sendJson(res, status, { error: message });

export class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Past this many bytes an oversized body is not drained but the connection is dropped. */
const DISCARD_LIMIT = 1024 * 1024;

/**
 * Reads a body of at most `limit` bytes. Over the limit it rejects with 413 at once and discards the
 * rest (so the client can read the answer; closing with unread input would reset the connection),
 * dropping the connection only if the sender goes on past DISCARD_LIMIT.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    const tooBig = () => {
      over = true;
      chunks.length = 0;
      reject(new BodyError(413, `request body larger than ${limit} bytes`));
    };
    if (Number(req.headers['content-length'] ?? 0) > limit) tooBig();
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (over) {
        if (size > DISCARD_LIMIT) req.destroy();
        return;
      }
      if (size > limit) {
        tooBig();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', (e) => reject(new BodyError(400, e.message)));
  });
}
