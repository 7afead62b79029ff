/**
 * Where the thread entry points live: always the compiled files in dist/ (Node 20 cannot load .ts in
 * a worker), found from src/ under vitest and from dist/src/ alike (src/paths.ts).
 */
import { builtUrl } from '../paths.js';

export function workerUrl(name: 'vcpu' | 'service'): URL {
  return builtUrl(`workers/${name}.js`);
}
