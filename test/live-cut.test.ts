// Goal: a live link cut on the threaded engine's source (SourceRecovery.cutNow) is the same outage
// a planned link-down would be: from the instant it is taken, active -> paused -> recover -> active
// after the outage plus the reconnect; a cut while paused lengthens that pause; a cut that overlaps a
// planned outage merges with it; a cut during the recovery pauses again once that recovery is done;
// each state change is published (the threaded ticks' runState) and the cut is an injection.
// Method: the source's recovery driven by hand on a modelled clock, with the model's real Link,
// Impairments, SendPolicy and strategy and a page-state table; no threads.
import { describe, expect, it } from 'vitest';
import type { BlockLedger } from '../src/model/blocktime.js';
import { Impairments, type RunState } from '../src/model/impairments.js';
import { parseInjection } from '../src/model/injections.js';
import { Link } from '../src/model/link.js';
import { SendPolicy } from '../src/model/send-policy.js';
import { newSourceStats } from '../src/model/stats.js';
import { createStrategy } from '../src/model/strategies/index.js';
import { SourceRecovery } from '../src/threads/source-recovery.js';

const PAGES = 64;
const RECONNECT_US = 50_000;

function source(planned: string[] = []) {
  const imp = new Impairments(
    planned.map((s) => parseInjection(s)),
    1,
    RECONNECT_US,
  );
  const cfg = { bandwidthBps: 10e9, latencyUs: 50, overheadBytes: 0 };
  const links = [new Link(cfg, imp, 'bulk'), new Link(cfg, imp, 'inbound')];
  const policy = new SendPolicy(PAGES, createStrategy('linear', { pages: PAGES, vcpus: 1, precopyRounds: 0 }), newSourceStats());
  const blocks: BlockLedger = { blocked: 0, active: 1, sinceUs: 0, totalUs: 0 };
  const published: RunState[] = [];
  const rec = new SourceRecovery(imp, 0, PAGES, false, blocks, (s) => published.push(s));
  const pageState = new Int32Array(PAGES);
  let dropped = 0;
  /** Steps the recovery at each of `times` (modelled us); returns the state after the last. */
  const at = (...times: number[]) => {
    for (const t of times)
      rec.step(
        t,
        links,
        policy,
        pageState,
        () => dropped++,
        () => {},
      );
    return rec.ledger.state;
  };
  return { rec, imp, at, published, dropped: () => dropped };
}

describe('a live link cut on the threaded source', () => {
  it('pauses at once, recovers after the outage and the reconnect, and is published and recorded', () => {
    const s = source();
    expect(s.at(1000)).toBe('active');
    s.rec.cutNow(2000, 5000);
    expect(s.at(2000)).toBe('paused');
    expect(s.dropped()).toBe(1); // the sockets' buffers go with the connection
    expect(s.at(2000 + 5000 + RECONNECT_US - 1)).toBe('paused');
    expect(s.at(2000 + 5000 + RECONNECT_US)).toBe('recover');
    expect(s.at(s.rec.nextUs())).toBe('active'); // the bitmap crossed the link
    expect(s.published).toEqual(['paused', 'recover', 'active']);
    expect(s.imp.live.map((i) => [i.kind, i.atUs, i.durationUs])).toEqual([['link-down', 2000, 5000]]);
    expect(s.rec.ledger.stats.timeline.map((t) => t.cause)[0]).toBe('link-down (cut live)');
  });

  it('a cut while paused lengthens that pause', () => {
    const s = source();
    s.rec.cutNow(1000, 5000);
    expect(s.at(1000)).toBe('paused');
    s.rec.cutNow(20_000, 30_000); // before the first pause's reconnect
    expect(s.at(1000 + 5000 + RECONNECT_US)).toBe('paused');
    expect(s.at(20_000 + 30_000 + RECONNECT_US)).toBe('recover');
    expect(s.rec.ledger.stats.timeline.filter((t) => t.state === 'paused')).toHaveLength(1);
  });

  it('a cut just before a planned outage merges with it into one pause', () => {
    const s = source(['link-down@10ms+10ms']);
    s.rec.cutNow(8000, 5000); // ends (plus the reconnect) after the planned one begins
    expect(s.at(8000)).toBe('paused');
    expect(s.at(10_000 + 10_000 + RECONNECT_US - 1)).toBe('paused');
    expect(s.at(10_000 + 10_000 + RECONNECT_US)).toBe('recover');
    expect(s.at(s.rec.nextUs())).toBe('active');
    expect(s.at(200_000)).toBe('active'); // nothing left of the plan
    expect(s.published).toEqual(['paused', 'recover', 'active']);
  });

  it('a cut far from a planned outage is a pause of its own, before it', () => {
    const s = source(['link-down@500ms+10ms']);
    s.rec.cutNow(1000, 1000);
    expect(s.at(1000)).toBe('paused');
    expect(s.at(1000 + 1000 + RECONNECT_US)).toBe('recover');
    expect(s.at(s.rec.nextUs())).toBe('active');
    expect(s.at(499_999)).toBe('active');
    expect(s.at(500_000)).toBe('paused');
  });

  it('a cut during the recovery pauses again once that recovery is done', () => {
    const s = source();
    s.rec.cutNow(1000, 1000);
    expect(s.at(1000, 1000 + 1000 + RECONNECT_US)).toBe('recover');
    const bitmapUs = s.rec.nextUs();
    s.rec.cutNow(bitmapUs - 1, 2000);
    expect(s.at(bitmapUs)).toBe('active');
    expect(s.at(bitmapUs + 1)).toBe('paused');
    expect(s.published).toEqual(['paused', 'recover', 'active', 'paused']);
  });
});
