/**
 * The guest-progress timeline both engines sample: bounded in memory on long runs by halving its
 * resolution whenever it fills (the caller then samples half as often).
 */
import type { TimelineSample } from './result.js';

export const MAX_TIMELINE_SAMPLES = 4000;

/** Appends a sample; true when the timeline was halved and the caller must double its interval. */
export function pushSample(timeline: TimelineSample[], sample: TimelineSample): boolean {
  timeline.push(sample);
  if (timeline.length < MAX_TIMELINE_SAMPLES) return false;
  for (let i = 0; i < timeline.length / 2; i++) timeline[i] = timeline[2 * i]!;
  timeline.length = Math.floor(timeline.length / 2);
  return true;
}
