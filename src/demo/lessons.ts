/**
 * The demo's guided lessons: scripted scenarios on the virtual engine, each a few short steps that
 * pause on the event they explain (src/playback.ts) and show the live numbers they talk about.
 *
 * A step names the run it happens in (an index into `runs`) and when it is shown: `until` a pause
 * condition (the next fault of some kinds, a tick threshold, the migration's state) or 'end' (the run finished). The page
 * (assets/lessons.js) starts each run the first time a step needs it, resumes it between steps, and
 * fills the placeholders of the text from what it got:
 *   {fault.…}  the fault event it paused on    {tick.…}   the latest tick
 *   {end.…}    the run's result                {runs.N.end.…}  an earlier run's result
 *   {path|int}, {path|hex}, {path|us}, {path|ms}, {path|names}: how to print it
 *   {ratio:A:B}  A / B as "N.N×"
 * Every run is on the virtual engine: it can pause, and its numbers depend only on the model.
 */
import type { PauseCondition } from '../playback.js';
import type { ControlName } from './controls.js';

export interface LessonRun {
  label: string;
  controls: Partial<Record<ControlName, string>>;
}
export interface LessonStep {
  run: number;
  until: PauseCondition | 'end';
  title: string;
  text: string;
}
export interface Lesson {
  id: string;
  title: string;
  summary: string;
  runs: LessonRun[];
  steps: LessonStep[];
}

const V = { engine: 'virtual', speed: 'realtime', seed: '1' } as const;
const SIXTY_FOUR = {
  ...V,
  vcpus: '64',
  workload: 'sequential',
  partition: 'true',
  memory: '64MiB',
  network: 'none',
  accesses: '',
  cores: '72',
  strategy: 'linear',
};

const uffdVsExits: Lesson = {
  id: 'uffd-vs-exits',
  title: 'One uffd vs exits at 64 vCPUs',
  summary: 'Why KVM_EXIT_MEMORY_FAULT exists: 64 vCPUs faulting on one userfaultfd queue up behind it.',
  runs: [
    // Slow motion x10: a tick every 10 virtual ms, so the queue is seen as it builds.
    { label: 'one uffd, one reader', controls: { ...SIXTY_FOUR, mode: 'uffd', resolver: 'fetcher', speed: 'x10' } },
    { label: 'exits, each vCPU resolves its own', controls: { ...SIXTY_FOUR, mode: 'exit', resolver: 'vcpu' } },
  ],
  steps: [
    {
      run: 0,
      until: { fault: 'any' },
      title: 'The first fault',
      text: '64 vCPUs each touch every page of their own slice of a 64 MiB guest. vCPU {fault.vcpu} just faulted: handle_userfault queued a {fault.record.kind} for address {fault.record.address|hex} on the one shared uffd, and the vCPU thread sleeps on its wait queue.',
    },
    {
      run: 0,
      until: { queuedAtLeast: 32 },
      title: 'The queue',
      text: "{tick.queuedFaults|int} faults are queued and unresolved; {tick.blockedVcpus|int} of 64 vCPUs are blocked. One handler read()s them one at a time under the queue lock, and every UFFDIO_COPY's wake walks the queue.",
    },
    {
      run: 0,
      until: 'end',
      title: 'One uffd: the bill',
      text: '{end.faults|int} faults took {end.guestMs|ms} of guest time; p50 fault latency {end.faultLatencyUs.p50|us}; all vCPUs blocked at once for {end.blocktimeMs|ms}.',
    },
    {
      run: 1,
      until: { fault: 'any' },
      title: 'Exits',
      text: 'The same guest with exits: KVM_RUN returned -1/EFAULT to vCPU {fault.vcpu} with exit_reason {fault.record.exitReason} and memory_fault {fault.record.flagNames|names} at gpa {fault.record.gpa|hex}. The vCPU thread copies the page itself: no shared queue, no handler.',
    },
    {
      run: 1,
      until: 'end',
      title: 'Exits: the bill',
      text: 'Done in {end.guestMs|ms} against {runs.0.end.guestMs|ms}: {ratio:runs.0.end.guestMs:end.guestMs} faster; p50 latency {end.faultLatencyUs.p50|us} against {runs.0.end.faultLatencyUs.p50|us}.',
    },
  ],
};

const LINK = { ...V, mode: 'exit', vcpus: '4', workload: 'random', memory: '64MiB', bandwidth: '1Gbit', latency: '50us', network: 'link', cores: '8' };
const preempt: Lesson = {
  id: 'preempt',
  title: 'Why postcopy-preempt cuts fault latency',
  summary: 'A demanded page behind 4 MiB of pushed pages, and the same page on a socket of its own.',
  runs: [
    { label: 'linear: one socket', controls: { ...LINK, strategy: 'linear' } },
    { label: 'preempt: an urgent socket', controls: { ...LINK, strategy: 'preempt' } },
  ],
  steps: [
    {
      run: 0,
      until: { fault: 'any' },
      title: 'A fault under linear',
      text: 'The source pushes every page in address order through one socket with a 4 MiB send buffer. vCPU {fault.vcpu} faulted on gpa {fault.record.gpa|hex}: its page goes out next, but behind every byte already queued (4 MiB at 1 Gbit/s is 34 ms).',
    },
    {
      run: 0,
      until: 'end',
      title: 'Linear: the bill',
      text: 'p50 fault latency {end.faultLatencyUs.p50|us}: a demanded page waited {end.demandQueueUs.mean|us} on average behind bytes already queued; {end.faults|int} faults.',
    },
    {
      run: 1,
      until: { fault: 'any' },
      title: 'Preempt',
      text: 'Now demanded pages go on a second, urgent socket that shares the wire but not the bulk queue. vCPU {fault.vcpu} faulted on gpa {fault.record.gpa|hex}.',
    },
    {
      run: 1,
      until: 'end',
      title: 'Preempt: the bill',
      text: 'p50 fault latency {end.faultLatencyUs.p50|us} against {runs.0.end.faultLatencyUs.p50|us} ({ratio:runs.0.end.faultLatencyUs.p50:end.faultLatencyUs.p50} lower); {end.pagesUrgent|int} pages went urgent and queued {end.demandQueueUs.mean|us} on average. QEMU measured 10.68 ms against 0.57 ms.',
    },
  ],
};

const WALK = {
  ...V,
  arch: 'arm64',
  pageTables: 'true',
  mode: 'exit',
  strategy: 'demand',
  vcpus: '1',
  workload: 'random',
  memory: '64MiB',
  accesses: '2000',
  network: 'link',
  bandwidth: '10Gbit',
  latency: '50us',
};
const s1ptw: Lesson = {
  id: 's1ptw',
  title: 'What S1PTW means for postcopy',
  summary: "The guest's own page tables are missing too: an arm64 walk faults level by level, and the arch-neutral record cannot say so.",
  runs: [
    { label: 'arm64, arch-neutral record', controls: { ...WALK, record: 'neutral' } },
    { label: 'arm64, record with the syndrome', controls: { ...WALK, record: 'syndrome' } },
  ],
  steps: [
    {
      run: 0,
      until: { fault: ['walk'] },
      title: 'A fault on the walk',
      text: "The first access walks the guest's own stage-1 table, which lives in guest memory. Its root is missing: ESR_EL2 {fault.record.arch.hardware.registers.0.value|hex} has S1PTW = 1, and HPFAR_EL2 names the page-table page, gpa {fault.record.gpa|hex}, not the data (FAR_EL2 {fault.record.arch.hardware.registers.1.value|hex} is the VA). KVM says {fault.record.flagNames|names}; a uffd handler would see {fault.record.arch.uffd.flagNames|names}.",
    },
    {
      run: 0,
      until: { fault: 'any' },
      title: 'One level deeper',
      text: 'Fetched and retried, the walk goes one level deeper and faults again, at level {fault.record.arch.level}: every missing level is one more exit and one more round trip.',
    },
    {
      run: 0,
      until: { fault: ['read', 'write', 'exec'] },
      title: 'Then the data page',
      text: 'Only with the whole table path present does the access reach its data: a {fault.record.arch.kind} fault on gpa {fault.record.gpa|hex}.',
    },
    {
      run: 0,
      until: 'end',
      title: 'Neutral: the bill',
      text: '{end.faultRecords.byKind.walk.records|int} walk exits; a record with the raw syndrome would have saved {end.faultRecords.byKind.walk.avoidableRecords|int} exits and {end.faultRecords.byKind.walk.avoidableRoundTrips|int} round trips.',
    },
    {
      run: 1,
      until: { fault: ['walk'] },
      title: 'With the syndrome',
      text: 'The exit now carries ESR_EL2, FAR_EL2 and HPFAR_EL2, so the VMM sends the VA with its request: {fault.record.arch.resolution}.',
    },
    {
      run: 1,
      until: 'end',
      title: 'Syndrome: the bill',
      text: '{end.faultRecords.records|int} exits against {runs.0.end.faultRecords.records|int}; {end.faultRecords.byKind.walk.roundTrips|int} walk round trips brought {end.faultRecords.byKind.walk.pagesFetched|int} pages.',
    },
  ],
};

const SCAN = {
  ...V,
  mode: 'exit',
  vcpus: '4',
  workload: 'sequential',
  partition: 'false',
  memory: '64MiB',
  bandwidth: '1Gbit',
  latency: '500us',
  network: 'link',
};
const prepaging: Lesson = {
  id: 'prepaging',
  title: 'Prepaging vs linear',
  summary: 'Four vCPUs scan memory from four places: push in address order, or around the latest fault.',
  runs: [
    { label: 'linear', controls: { ...SCAN, strategy: 'linear' } },
    { label: 'prepaging', controls: { ...SCAN, strategy: 'prepaging' } },
  ],
  steps: [
    {
      run: 0,
      until: { presentAtLeast: 0.25 },
      title: 'Linear, a quarter in',
      text: 'Four vCPUs scan from four starting points; linear pushes in address order, restarting after each demanded page. {tick.presentPages|int} pages are here (a quarter or more), after {tick.faults|int} faults.',
    },
    {
      run: 0,
      until: 'end',
      title: 'Linear: the bill',
      text: '{end.faults|int} faults, p99 latency {end.faultLatencyUs.p99|us}, {end.pagesDemand|int} pages demanded.',
    },
    {
      run: 1,
      until: { presentAtLeast: 0.25 },
      title: 'Prepaging, a quarter in',
      text: 'Prepaging pushes outward from the latest fault (p+1, p-1, p+2, ...), so each scanning vCPU finds the pages ahead of it on the way. At the same point: {tick.faults|int} faults.',
    },
    {
      run: 1,
      until: 'end',
      title: 'Prepaging: the bill',
      text: '{end.faults|int} faults against {runs.0.end.faults|int} ({ratio:runs.0.end.faults:end.faults} fewer), p99 {end.faultLatencyUs.p99|us} against {runs.0.end.faultLatencyUs.p99|us}.',
    },
  ],
};

const CC = {
  ...V,
  arch: 'x86',
  confidential: 'true',
  convertRatio: '0.01',
  mode: 'exit',
  strategy: 'linear',
  vcpus: '2',
  workload: 'random',
  memory: '16MiB',
  bandwidth: '1Gbit',
  latency: '50us',
  network: 'link',
};
const confidential: Lesson = {
  id: 'confidential',
  title: 'Confidential guests',
  summary: 'A TDX guest converts pages between private and shared: KVM exits with PRIVATE, and the answer is a conversion, not a fetch.',
  runs: [{ label: 'x86 TDX guest', controls: CC }],
  steps: [
    {
      run: 0,
      until: { fault: ['convert'] },
      title: 'A mismatch',
      text: "Most of this guest is private (guest_memfd), 12.5% shared. vCPU {fault.vcpu} touched gpa {fault.record.gpa|hex} with the other attribute: the EPT violation's GPA is {fault.record.arch.hardware.registers.3.value|hex} (bit 47, the shared bit, set for a shared access). KVM exits with memory_fault {fault.record.flagNames|names} (PRIVATE is set for a private access); the VMM converts the page (KVM_SET_MEMORY_ATTRIBUTES, modelled as 20 µs), fetching nothing. userfaultfd: {fault.record.arch.uffd.lost}.",
    },
    {
      run: 0,
      until: { fault: ['read', 'write'] },
      title: 'A missing page',
      text: 'Converted, the access runs again and may find the page itself missing: memory_fault {fault.record.flagNames|names} at {fault.record.gpa|hex}, and this one is fetched from the source. A private page goes into guest_memfd, which userfaultfd cannot even register.',
    },
    {
      run: 0,
      until: 'end',
      title: 'The bill',
      text: '{end.faultRecords.byKind.convert.records|int} conversions took {end.faultRecords.byKind.convert.roundTrips|int} round trips and {end.faultRecords.byKind.convert.blockedMs|ms} of vCPU time; {end.faultRecords.byKind.read.records|int} read faults were fetched.',
    },
  ],
};

const OUTAGE = {
  ...V,
  mode: 'exit',
  strategy: 'linear',
  vcpus: '4',
  workload: 'zipf',
  memory: '64MiB',
  bandwidth: '1Gbit',
  latency: '500us',
  network: 'link',
  inject: 'link-down@150ms+40ms',
};
const recovery: Lesson = {
  id: 'recovery',
  title: 'Recovery after a link failure',
  summary: 'The link goes down 150 ms into postcopy, for 40 ms. QEMU pauses, reconnects, and the source resends what was lost.',
  runs: [{ label: 'link down at 150 ms', controls: OUTAGE }],
  steps: [
    {
      run: 0,
      until: { presentAtLeast: 0.1 },
      title: 'Postcopy, active',
      text: 'The guest runs on the destination; {tick.presentPages|int} pages are here, pushed in address order or demanded by the {tick.faults|int} faults so far. Every missing page lives only on the source.',
    },
    {
      run: 0,
      until: { runState: 'paused' },
      title: 'The link is down',
      text: "At {tick.tMs|ms} the link went down. Both sides enter postcopy-paused: the frames on the wire and in the source's socket are lost, and a vCPU that faults now stays blocked ({tick.blockedVcpus|int} are). Blocktime accrues: {tick.blocktimeMs|ms} so far.",
    },
    {
      run: 0,
      until: { runState: 'recover' },
      title: 'Reconnected',
      text: 'The outage is over and, 50 ms later (--reconnect), the two sides are connected again ({tick.tMs|ms}). The destination sends its received-page bitmap; until it arrives the source cannot know which of the pages it sent were lost.',
    },
    {
      run: 0,
      until: 'end',
      title: 'The bill',
      text: 'Paused {end.recovery.pausedMs|ms}; {end.recovery.framesLost|int} frames were lost in flight; the source resent {end.recovery.pagesResent|int} pages and re-queued {end.recovery.requestsResent|int} requests; blocktime while paused {end.recovery.blocktimePausedMs|ms} of {end.blocktimeMs|ms}. Every page was then checked against the version the guest must see.',
    },
  ],
};

export const LESSONS: Lesson[] = [uffdVsExits, preempt, s1ptw, prepaging, recovery, confidential];
