/**
 * Access traces: replay a recorded stream of guest accesses instead of a synthetic workload.
 *
 *   # comment
 *   <vcpu> <R|W|X> <gpa>        e.g.  0 R 0x7f000   1 W 4096   2 X 0x1000
 *
 * Each vCPU replays its own lines in order. A gpa is checked against the memslots only when the
 * vCPU touches it, as KVM would: an access outside every memslot is reported as that, not as a
 * bad file. A malformed line is bad input: one line naming file and line number, exit code 2.
 */
import { readFileSync } from 'node:fs';
import { Errors } from '../errors.js';
import { Access } from './uapi.js';

/** One vCPU's trace: gpas and access kinds, in shared memory so the vCPU thread reads it in place. */
export interface VcpuTrace { gpasSab: SharedArrayBuffer; accessesSab: SharedArrayBuffer; length: number }

export function parseTrace(text: string, file: string, vcpus: number): VcpuTrace[] {
  const gpas: number[][] = Array.from({ length: vcpus }, () => []);
  const kinds: number[][] = Array.from({ length: vcpus }, () => []);
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/#.*/, '').trim();
    if (!line) continue;
    const where = `trace ${file}:${i + 1}`;
    const parts = line.split(/\s+/);
    if (parts.length !== 3) throw Errors.badInput(where, `expected "<vcpu> <R|W|X> <gpa>", got "${line}"`);
    const [v, op, addr] = parts as [string, string, string];
    const vcpu = Number(v);
    if (!Number.isInteger(vcpu) || vcpu < 0) throw Errors.badInput(where, `vcpu "${v}" is not a non-negative integer`);
    if (vcpu >= vcpus) throw Errors.badInput(where, `vcpu ${vcpu} does not exist (the run has ${vcpus} vCPUs)`);
    const access = op.toUpperCase() === 'R' ? Access.Read : op.toUpperCase() === 'W' ? Access.Write : op.toUpperCase() === 'X' ? Access.Exec : -1;
    if (access < 0) throw Errors.badInput(where, `access "${op}" must be R, W or X`);
    const gpa = /^0x[0-9a-f]+$/i.test(addr) ? parseInt(addr, 16) : /^\d+$/.test(addr) ? Number(addr) : NaN;
    if (!Number.isSafeInteger(gpa)) throw Errors.badInput(where, `gpa "${addr}" is not a number (decimal or 0x hex)`);
    gpas[vcpu]!.push(gpa);
    kinds[vcpu]!.push(access);
  }
  if (gpas.every((g) => g.length === 0)) throw Errors.badInput(`trace ${file}`, 'holds no accesses');
  return gpas.map((g, v) => {
    const gpasSab = new SharedArrayBuffer(Math.max(8, g.length * 8));
    const accessesSab = new SharedArrayBuffer(Math.max(1, g.length));
    new Float64Array(gpasSab).set(g);
    new Uint8Array(accessesSab).set(kinds[v]!);
    return { gpasSab, accessesSab, length: g.length };
  });
}

export function loadTrace(file: string, vcpus: number): VcpuTrace[] {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) {
    throw Errors.badInput('trace', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseTrace(text, file, vcpus);
}
