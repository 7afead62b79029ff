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

/**
 * The honesty note for the runs over AUTO_SHARE, or none. One run: its own line. Several (a
 * compare): one note naming each with its share, so the table stays the thing read at a glance,
 * and the one change that lowers them all (the largest budget or D any of them asks for).
 */
export function shareNotes(results: RunResult[], labels: string[]): string[] {
  const over: { label: string; share: number; lower: Lowering }[] = [];
  results.forEach((r, i) => {
    const share = simulatorShare(r);
    if (share === null || !(share > AUTO_SHARE)) return;
    over.push({ label: labels[i] ?? r.mode, share, lower: lowering(r, share) });
  });
  if (over.length === 0) return [];
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const cost = `of a modelled fault (over ${AUTO_SHARE * 100}%)`;
  if (over.length === 1) {
    const [o] = over as [(typeof over)[number]];
    return [
      wrap(
        `note: ${o.label}: the simulator took ${pct(o.share)} ${cost}, so its times hold some of the simulator's own cost; lower it with ${flag(o.lower)} or --engine virtual`,
      ),
    ];
  }
  const flags = [
    ...new Set(
      ['budget', 'dilation'].flatMap((kind) => {
        const of = over.filter((o) => o.lower.kind === kind);
        return of.length ? [flag({ kind: kind as Lowering['kind'], value: Math.max(...of.map((o) => o.lower.value)) })] : [];
      }),
    ),
  ];
  const runs = over.map((o) => `${o.label} ${pct(o.share)}`).join(', ');
  return [
    wrap(
      `note: the simulator took more than ${AUTO_SHARE * 100}% of a modelled fault in ${over.length} runs (${runs}), so their times hold some of the simulator's own cost; lower it with ${flags.join(', ')} or --engine virtual`,
    ),
  ];
}

interface Lowering {
  kind: 'budget' | 'dilation';
  value: number;
}

/**
 * Capped by the budget: the budget that lets D reach what the probes said 5% needs (the measured
 * share is no guide to it: an under-dilated run queues, and its share is not 1/D). Otherwise the
 * share measured in the run, scaled as 1/D, is the guide.
 */
function lowering(r: RunResult, share: number): Lowering {
  const d = r.dilation;
  return d.auto && d.budgetBound && d.wallBudgetMs !== null && d.neededFactor !== null
    ? { kind: 'budget', value: Math.ceil((d.wallBudgetMs * d.neededFactor) / d.factor / 1000) }
    : { kind: 'dilation', value: Math.ceil(d.factor * (share / AUTO_SHARE)) };
}

function flag(l: Lowering): string {
  return l.kind === 'budget' ? `--wall-budget ${l.value}s` : `--time-dilation ${l.value}`;
}

/** Word-wrapped to the summary table's width, continuation lines indented under the text. */
function wrap(text: string, width = 100, indent = '      '): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = indent + word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines.join('\n');
}
