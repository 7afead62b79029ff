// Tests that need a tool this machine may lack (a browser, perf, a Slurm cluster, a pty) are skipped
// without it, and say so. Their describe title ends in "[needs TOOL]": scripts/test.mjs counts the
// skips by tool, and under CI=true fails the run for any tool the README does not call optional.
export type Tool = 'chromium' | 'perf' | 'slurm' | 'script';

/** The describe title of a group that needs `tool`. */
export function needs(tool: Tool, title: string): string {
  return `${title} [needs ${tool}]`;
}
