// Worker threads load the compiled files in dist/ (Node 20 cannot run .ts in a worker), so every
// test run starts from a fresh build: once per run, although each project of vitest.config.ts
// calls this setup.
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  if (process.env.POSTCOPY_SIM_SKIP_BUILD === '1') return; // the caller (or another project) built dist/ already
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
  process.env.POSTCOPY_SIM_SKIP_BUILD = '1';
}
