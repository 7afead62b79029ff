/** The published bench's tables, rendered from its JSON body (bench/results/published.json). */
import { fmtInt, fmtRatio, mdTable } from '../common.js';
import type { CrossCheck } from './published-cross.js';
import { USERFAULT, type UserfaultColumn } from './published-tables.js';
import type { ProfileRun, PublishedBody, VirtualCell } from './published-types.js';

const k = (x: number) => (x / 1000).toFixed(x >= 100_000 ? 0 : 1);

function seriesTable(p: ProfileRun): string {
  return mdTable(
    ['vCPUs', 'uffd sim', 'uffd pub', 'exits sim', 'exits pub', 'exits sim/pub', 'exit/uffd sim', 'exit/uffd pub', 'ratio of ratios'],
    p.series.map((s) => {
      const rs = s.exits.pagesPerSec / s.uffd.pagesPerSec,
        rp = s.publishedExitsK / s.publishedUffdK;
      return [
        String(s.vcpus),
        k(s.uffd.pagesPerSec),
        String(s.publishedUffdK),
        k(s.exits.pagesPerSec),
        String(s.publishedExitsK),
        fmtRatio(s.exits.pagesPerSec / 1000 / s.publishedExitsK),
        fmtRatio(rs),
        fmtRatio(rp),
        fmtRatio(rs / rp),
      ];
    }),
  );
}

function userfaultTable(p: ProfileRun): string {
  // an older results file has no no-userfault cell
  const cols = (Object.keys(USERFAULT) as UserfaultColumn[]).filter((c) => p.userfault.every((u) => u.cells[c]));
  const ratioCols = cols.filter((c) => c !== 'exits' && c !== 'no-userfault');
  return mdTable(
    ['vCPUs', ...cols.map((c) => `${c} sim / pub`), ...ratioCols.map((c) => `exits/${c} sim vs pub`)],
    p.userfault.map((u) => [
      String(u.vcpus),
      ...cols.map((c) => `${fmtInt(u.cells[c].perVcpuPagesPerSec)} / ${fmtInt(u.published[c])}`),
      ...ratioCols.map(
        (c) => `${fmtRatio(u.cells.exits.perVcpuPagesPerSec / u.cells[c].perVcpuPagesPerSec)} vs ${fmtRatio(u.published.exits / u.published[c])}`,
      ),
    ]),
  );
}

const pct = (x: number) => `${Math.round(x * 100)}%`;

/** Per row: what bounds it (src/virtual/line-report.ts). */
function breakdownTable(p: ProfileRun): string {
  const rows: VirtualCell[] = [...p.series.flatMap((s) => [s.uffd, s.exits]), ...p.userfault.flatMap((u) => Object.values(u.cells))];
  return mdTable(
    ['vCPUs', 'column', 'bound', 'busiest line', 'busy', 'peak requesters', 'walk entries / fault', 'cold', 'empty reads / fault', 'regime'],
    rows.map((c) => {
      const b = c.breakdown;
      return [
        String(c.vcpus),
        c.column,
        b.bound,
        b.busiest.line,
        pct(b.busiest.busyShare),
        String(b.busiest.peakContenders),
        b.walkEntriesPerFault.toFixed(1),
        pct(b.coldEntryShare),
        b.emptyReadsPerFault.toFixed(2),
        b.regime ?? '-',
      ];
    }),
  );
}

/**
 * What the measured placement says about the misses: the rows the cross-CPU prediction under-predicts
 * by more than 25% against the rows whose wakes mostly (>= half) stayed on one CPU, and how the
 * prediction with each wake priced where it landed fares.
 */
function placementLines(judged: CrossCheck['rows']): string[] {
  const placed = judged.filter((c) => c.sameCpuShares?.length && c.errorPlaced != null);
  if (!placed.length) return [];
  const meanShare = (c: CrossCheck['rows'][number]) => c.sameCpuShares.reduce((a, b) => a + b, 0) / c.sameCpuShares.length;
  const under = placed.filter((c) => c.error! < -0.25),
    local = placed.filter((c) => meanShare(c) >= 0.5);
  const both = under.filter((c) => meanShare(c) >= 0.5).length;
  const within = placed.filter((c) => Math.abs(c.errorPlaced!) <= 0.25).length,
    over = placed.filter((c) => c.errorPlaced! > 0.25).length;
  return [
    `- where the wakes landed (sched_getcpu() on both sides of every kernel fault): ${under.length} row(s) under-predicted by more than 25%, ${both} of them among the ${local.length} row(s) whose wakes stayed on one CPU at least half the time`,
    `- each wake priced where it landed: ${within} of ${placed.length} rows within 25%, ${over} over-predicted by more than 25% (the one-CPU price is a wake of wakelat's eventfd ping-pong; docs/kernel-model.md says what a one-CPU uffd round trip costs besides)`,
  ];
}

const signed = (x: number) => `${x >= 0 ? '+' : ''}${Math.round(x * 100)}%`;

/** The cross-check against this host's kernel: per row the median of the interleaved kernel runs and their spread. */
function crossSection(x: CrossCheck | null): string[] {
  if (!x) return [];
  const out = [
    `#### Cross-check against this host's kernel (native/uffd_paging.c, median of ${x.rounds} interleaved runs per row; predicted from this host's costs measured in the same run)`,
    '',
  ];
  if (x.skipped && !x.rows.length) return [...out, `Skipped: ${x.skipped}`];
  out.push(
    mdTable(
      [
        'run',
        'measured pages/s (median)',
        'runs: lowest - highest',
        'spread',
        'predicted',
        'error',
        'within 25%',
        'predicted, wakes on one CPU',
        'error',
        'wakes on one CPU, per run',
        'predicted, wakes priced where they landed',
        'error',
        'predicted from the shipped profile',
      ],
      x.rows.map((c) => [
        `${c.run}${c.heldOut ? ' (held out)' : ''}${c.threads > x.cores ? ` (${c.threads + (c.queue === 'per-thread' ? c.threads : c.readers)} threads on ${x.cores} cores)` : ''}${c.fitted ? ' (sets wakeupUs: no wakelat here)' : ''}`,
        c.measured === null ? `skipped: ${c.skipped ?? '-'}` : fmtInt(c.measured),
        c.min === null ? '-' : `${fmtInt(c.min)} - ${fmtInt(c.max!)}`,
        c.measured === null || c.min === null ? '-' : `${Math.round(((c.max! - c.min) / c.measured) * 100)}%`,
        fmtInt(c.predicted),
        c.error === null ? '-' : signed(c.error),
        c.error === null ? '-' : Math.abs(c.error) <= 0.25 ? 'yes' : 'no',
        c.predictedSameCpu == null ? '-' : fmtInt(c.predictedSameCpu),
        c.errorSameCpu == null ? '-' : signed(c.errorSameCpu),
        c.sameCpuShares?.length ? c.sameCpuShares.map((f) => `${Math.round(f * 100)}%`).join(', ') : '-',
        c.predictedPlaced == null ? '-' : fmtInt(c.predictedPlaced),
        c.errorPlaced == null ? '-' : signed(c.errorPlaced),
        fmtInt(c.predictedShipped),
      ]),
      true,
    ),
    '',
  );
  const judged = x.rows.filter((c) => c.error !== null && !c.pin),
    pinned = x.rows.filter((c) => c.error !== null && c.pin);
  const within = judged.filter((c) => Math.abs(c.error!) <= 0.25).length;
  const heldOut = judged.filter((c) => c.heldOut),
    heldWithin = heldOut.filter((c) => Math.abs(c.error!) <= 0.25).length;
  const idle = x.loadStart < 0.5 * x.cores && x.loadEnd < 0.5 * x.cores;
  out.push(
    `- ${within === judged.length && judged.length > 0 ? 'met' : 'NOT met'}: every cross-check row within 25% (${within} of ${judged.length}; held out: ${heldWithin} of ${heldOut.length})`,
  );
  out.push(
    `- load: 1-minute load average ${x.loadStart.toFixed(1)} at the start and ${x.loadEnd.toFixed(1)} at the end, on ${x.cores} cores: ${idle ? 'an idle machine' : 'a loaded machine (the 25% target is for an idle one)'}`,
  );
  if (x.wakeSameCpuUs != null) {
    const between = judged.filter(
      (c) => c.predictedSameCpu != null && c.measured! >= Math.min(c.predicted, c.predictedSameCpu) && c.measured! <= Math.max(c.predicted, c.predictedSameCpu),
    ).length;
    out.push(
      `- one wake measured now: ${x.wakeOtherCpuUs.toFixed(1)} us across the CPUs (ttwuUs + wakeupUs: an IPI to an idle CPU, a VM exit here) and ${x.wakeSameCpuUs.toFixed(1)} us on one CPU (wakelat). ` +
        `Which one a kernel run pays depends on where the scheduler puts the woken thread, and the other engineers' load decides that: the measured median lies between the two predictions on ${between} of ${judged.length} rows`,
    );
    out.push(...placementLines(judged));
    for (const c of pinned)
      out.push(
        `- ${c.run} (every wake ${c.pin === 'same' ? 'on one CPU' : 'across the CPUs'}, its price on its own): measured ${fmtInt(c.measured!)} pages/s, predicted ${fmtInt(c.predicted)} (${signed(c.error!)}), ${Math.round(1e7 / c.measured!) / 10} us against ${Math.round(1e7 / c.predicted) / 10} us per fault` +
          (c.vcpuCpuUsPerFault != null && c.readerCpuUsPerFault != null
            ? `; CPU time per fault (CLOCK_THREAD_CPUTIME_ID): ${c.vcpuCpuUsPerFault.toFixed(1)} us on the vCPU's side, ${c.readerCpuUsPerFault.toFixed(1)} us on the reader's` +
              (c.modelVcpuCpuUsPerFault != null && c.modelReaderCpuUsPerFault != null
                ? `, against the model's ${c.modelVcpuCpuUsPerFault.toFixed(1)} and ${c.modelReaderCpuUsPerFault.toFixed(1)} us (the time each side holds a core)`
                : '')
            : ''),
      );
  }
  out.push(
    x.moved.length
      ? `- measured now against the shipped this-host profile (${x.shippedDate.slice(0, 10)}), the costs that moved by 20% or more: ${x.moved.map((m) => `${m.cost} ${m.shipped} -> ${Math.round(m.now * 10000) / 10000} us (${signed(m.change)})`).join('; ')}`
      : `- no measured cost moved by 20% or more against the shipped this-host profile (${x.shippedDate.slice(0, 10)})`,
  );
  return out;
}

export function renderPublished(b: PublishedBody): string {
  const out: string[] = [];
  out.push(`### Published tables vs the virtual engine (${b.cores} modelled cores, ${b.mibPerVcpu} MiB per vCPU)`, '');
  for (const p of b.profiles) {
    const t = p.targets;
    out.push(`#### Profile ${p.profile}`, '');
    out.push('KVM_EXIT_MEMORY_FAULT v7 series (`-u MINOR -s shmem -a -r N` vs exits), overall rate, thousands of pages/s:', '', seriesTable(p), '');
    out.push(
      'KVM Userfault v1 (anonymous memory; one uffd per vCPU on shmem; no-userfault: first touch through GUP, no uffd), per-vCPU rate, pages/s:',
      '',
      userfaultTable(p),
      '',
    );
    out.push(
      `Shape: one uffd peaks at ${t.uffdPeakVcpus} vCPUs and falls ${t.uffdFallFromPeak.toFixed(1)}x by 256; exits rise ${t.exitsRise.toFixed(1)}x; ` +
        `exits within 2x of published on ${t.exitsWithin2x.filter(Boolean).length}/${t.exitsWithin2x.length} rows; exit/uffd within 2x on ${t.ratioWithin2x.filter(Boolean).length}/${t.ratioWithin2x.length} rows.`,
    );
    for (const [name, ok] of Object.entries(t.met)) out.push(`- ${ok ? 'met' : 'NOT met'}: ${name}`);
    const last = p.series[p.series.length - 1];
    if (last)
      out.push(
        `- regime of one uffd at ${last.vcpus} vCPUs: ${last.uffd.breakdown.regime ?? '-'} (${last.uffd.breakdown.walkEntriesPerFault.toFixed(1)} walk entries and ${last.uffd.breakdown.emptyReadsPerFault.toFixed(2)} empty reads per fault)`,
      );
    out.push('');
    out.push(
      `Per row: serial-bound when one line is busy >= 80% of the guest's time, else latency-bound (series rows first, then the userfault cells):`,
      '',
      breakdownTable(p),
      '',
    );
  }
  out.push(...crossSection(b.cross), '');
  out.push('#### Over a link: 64 vCPUs, zipf, 256 MiB, 10 Gbit/s, linear, large-host profile', '');
  out.push(
    mdTable(
      ['fault path', 'p50 us', 'p99 us', 'link use', 'migration ms', 'verified'],
      b.link.map((l) => [
        l.column,
        fmtInt(l.p50Us),
        fmtInt(l.p99Us),
        l.linkUtilisation === null ? '-' : `${Math.round(l.linkUtilisation * 100)}%`,
        fmtInt(l.migrationMs),
        String(l.verified),
      ]),
      true,
    ),
    '',
  );
  if (b.sensitivity.length) {
    out.push(
      `#### Sensitivity (large-host profile, ${b.mibPerVcpu} MiB per vCPU as the table): each cost x0.5 and x2, where one uffd peaks and how far it falls`,
      '',
    );
    const yn = (v: boolean | undefined) => (v === undefined ? '-' : v ? 'met' : 'not met');
    out.push(
      mdTable(
        ['cost', 'x', 'value', 'peak vCPUs', 'fall to 256', 'peak 2..8', 'fall >= 4x'],
        b.sensitivity.map((s) => [
          s.cost,
          String(s.factor),
          s.factor === 1 ? '-' : s.value.toFixed(4),
          String(s.peakVcpus),
          `${s.fall}x`,
          yn(s.peakTargetHolds),
          yn(s.fallTargetHolds),
        ]),
        true,
      ),
      '',
    );
    const all = (f: (s: (typeof b.sensitivity)[number]) => boolean | undefined) => b.sensitivity.every((s) => f(s) === true);
    out.push(
      `Across these settings: the peak target ${all((s) => s.peakTargetHolds) ? 'holds at every one' : 'does not hold at every one'}; the fall target ${all((s) => s.fallTargetHolds) ? 'holds at every one' : 'does not hold at every one'}.`,
      '',
    );
  }
  out.push(
    `Engine speed: ${fmtInt(b.speed.exits256FaultsPerHostSec)} simulated faults per host second on the 256-vCPU exits row; ` +
      `a default 256-vCPU 1 GiB virtual run took ${fmtInt(b.speed.default256Ms)} ms (verified ${b.speed.default256Verified}).`,
  );
  return `${out.join('\n')}\n`;
}
