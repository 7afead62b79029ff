/**
 * The summary's honesty note: a run whose simulator took more than AUTO_SHARE of a modelled fault
 * reports times that hold the simulator's own cost, so the summary says so under the table and how
 * to get the share lower: a bigger wall budget (when the budget capped D: the one that lets D reach
 * what the probes asked for), a larger D (when auto was not capped, or D was set: scaled by the
 * measured share), or the virtual engine, whose time is virtual and holds no simulator cost.
 */
import type { RunResult } from '../model/result.js';
import { AUTO_SHARE } from '../threads/dilation.js';

/** The share a summary shows for a run: measured in the run, else predicted at start; null when none applies. */
export function simulatorShare(r: Pick<RunResult, 'engine' | 'dilation'>): number | null {
  if (r.engine === 'virtual') return 0; // virtual time: the simulator's cost is never modelled time
  return r.dilation.share ?? r.dilation.predictedShare;
}

/** One line per run over AUTO_SHARE (labelled as its column is), or none. */
export function shareNotes(results: RunResult[], labels: string[]): string[] {
  const out: string[] = [];
  results.forEach((r, i) => {
    const share = simulatorShare(r);
    if (share === null || !(share > AUTO_SHARE)) return;
    const d = r.dilation;
    const scale = share / AUTO_SHARE;
    // Capped by the budget: the budget that lets D reach what the probes said 5% needs (the
    // measured share is no guide to it: an under-dilated run queues, and its share is not 1/D).
    // Otherwise the share measured in the run, scaled as 1/D, is the guide.
    const lower = d.auto && d.budgetBound && d.wallBudgetMs !== null && d.neededFactor !== null
      ? `--wall-budget ${Math.ceil((d.wallBudgetMs * d.neededFactor) / d.factor / 1000)}s`
      : `--time-dilation ${Math.ceil(d.factor * scale)}`;
    out.push(wrap(`note: ${labels[i] ?? r.mode}: the simulator took ${(share * 100).toFixed(1)}% of a modelled fault (over ${AUTO_SHARE * 100}%), ` +
      `so its times hold some of the simulator's own cost; lower it with ${lower} or --engine virtual`));
  });
  return out;
}

/** Word-wrapped to the summary table's width, continuation lines indented under the text. */
function wrap(text: string, width = 100, indent = '      '): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) { lines.push(line); line = indent + word; } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines.join('\n');
}
