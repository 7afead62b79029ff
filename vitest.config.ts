import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

// Two serial lanes run side by side (one worker each: the 2-core machine this suite is budgeted on;
// scripts/test.mjs starts one vitest process per lane, since one process gives a group one worker),
// then the files that measure the host run alone.
//  - lane-a: heavy files named here (threaded runs, CLI spawns), and every file that builds the
//    native C benchmarks, so that no two builds race;
//  - lane-b: every other file, including any new one;
//  - alone: the files whose checks rest on the simulator getting its cores (auto dilation's probes
//    and the engines' agreement within 15%): run after both lanes, by themselves.
// Within a lane, files run one at a time: integration tests start many threads each.
const LANE_A = [
  'test/recovery.test.ts',
  'test/cli-flags.test.ts',
  'test/bench.test.ts',
  'test/sweep-run.test.ts',
  'test/engines-agree.test.ts',
  'test/arch-runs.test.ts',
  'test/calibrate.test.ts',
  'test/native-mech.test.ts',
  'test/demo.browser.test.ts',
  'test/compare.test.ts',
];
const ALONE = ['test/agreement.test.ts', 'test/dilation.test.ts'];

const project = (name: string, include: string[], exclude: string[], groupOrder: number): TestProjectInlineConfiguration => ({
  extends: true,
  test: { name, include, exclude, fileParallelism: false, sequence: { groupOrder } },
});

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    projects: [project('lane-a', LANE_A, [], 0), project('lane-b', ['test/**/*.test.ts'], [...LANE_A, ...ALONE], 0), project('alone', ALONE, [], 1)],
  },
});
