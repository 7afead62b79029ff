/**
 * Where the package's own files are, from src/ (vitest, a TS loader) and from dist/ (the built CLI)
 * alike. Thread entries and child processes always run the compiled files in dist/ (Node 20 cannot
 * load .ts in a worker), and data files (profiles, demo assets, examples) live in the source tree.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

let root: string | undefined;

/** The directory holding package.json, walking up from this module. */
export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) {
      root = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('assertion failed: package.json not found above src/paths');
    dir = parent;
  }
}

/** A compiled module by its path in the source tree, e.g. `workers/vcpu.js` -> <root>/dist/workers/vcpu.js. */
export function builtUrl(sourcePathJs: string): URL {
  return pathToFileURL(join(packageRoot(), 'dist', sourcePathJs));
}

/** A file of the source tree by its path from the package root (profiles, assets, examples). */
export function sourcePath(...parts: string[]): string {
  return join(packageRoot(), ...parts);
}
