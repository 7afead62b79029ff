/**
 * Where the thread entry points live. Workers are always the compiled files in dist/ (Node 20 cannot
 * load .ts in a worker): from dist/src/threads this is ../../workers, from src/threads under vitest
 * ../../dist/workers.
 */
const fromSource = import.meta.url.endsWith('.ts');

export function workerUrl(name: 'vcpu' | 'service'): URL {
  return new URL(fromSource ? `../../dist/workers/${name}.js` : `../../workers/${name}.js`, import.meta.url);
}
