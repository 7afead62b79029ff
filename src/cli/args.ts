/**
 * Command-line flags -> the options object the schema validates. Flags are kebab-case versions of
 * the option names (`--write-ratio` -> writeRatio); values stay strings so sizes, rates and times
 * go through the same parsers as scenario files. A scenario file supplies defaults; flags win.
 */
import { parseArgs } from 'node:util';
import { readJsonFile } from '../files.js';
import { Errors } from '../errors.js';
import type { OptionsInput } from '../options.js';
import { camel, flagsOnlyFor, kebab, OPTION_FLAGS } from './option-flags.js';
import { flagError } from './flag-error.js';

export interface ParsedCommand {
  options: OptionsInput;
  json: boolean;
  help: boolean;
  scenario: string | undefined;
  positionals: string[];
  extra: Record<string, string | boolean | undefined>;
  /** the option flags given on the command line (not from --scenario), by option name */
  flags: Record<string, unknown>;
}

/**
 * Parses `argv` (after the subcommand). `extraFlags` are subcommand-specific flags (e.g. `-o`).
 * Throws a BAD_INPUT SimError with one line naming the bad flag.
 */
export function parseCommand(argv: string[], extraFlags: Record<string, { type: 'string' | 'boolean'; short?: string }> = {}): ParsedCommand {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
    scenario: { type: 'string' },
    ...extraFlags,
  };
  for (const [name, kind] of Object.entries(OPTION_FLAGS))
    options[kebab(name)] = kind === 'repeated' ? { type: 'string', multiple: true } : { type: kind === 'switch' ? 'boolean' : 'string' };
  const parsed = parseOrExplain(argv, options);
  const v = parsed.values as Record<string, string | boolean | undefined>;
  let fromFile: Record<string, unknown> = {};
  if (typeof v.scenario === 'string') fromFile = readScenario(v.scenario);
  const fromFlags: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v)) {
    const name = camel(k);
    if (val === undefined || !(name in OPTION_FLAGS)) continue;
    fromFlags[name] = val;
  }
  const extra: Record<string, string | boolean | undefined> = {};
  for (const k of Object.keys(extraFlags)) extra[k] = v[k];
  return {
    options: { ...fromFile, ...fromFlags } as OptionsInput,
    json: v.json === true,
    help: v.help === true,
    scenario: v.scenario as string | undefined,
    positionals: parsed.positionals,
    extra,
    flags: fromFlags,
  };
}

/** node's parseArgs, with its failure turned into the one-line BAD_INPUT that names the flag. */
function parseOrExplain(argv: string[], options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>) {
  try {
    return parseArgs({ args: joinNegatives(argv, options), options, strict: true, allowPositionals: true });
  } catch (e) {
    throw flagError(e);
  }
}

/** `--vcpus -2` -> `--vcpus=-2`: parseArgs would read `-2` as a flag ("argument is ambiguous"). */
function joinNegatives(argv: string[], options: Record<string, { type: 'string' | 'boolean' }>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (a.startsWith('--') && !a.includes('=') && options[a.slice(2)]?.type === 'string' && next !== undefined && /^-[\d.]/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** Flags that only mean something in some modes (src/options.ts): given on the command line elsewhere, they are an error. */
const UFFD_ONLY = flagsOnlyFor('uffd');
const EXIT_ONLY = flagsOnlyFor('exit');

/** Rejects option flags given explicitly that the command or the chosen mode would ignore. */
export function checkFlagsApply(cmd: ParsedCommand, command: 'run' | 'compare' | 'start'): void {
  const given = (name: string) => name in cmd.flags;
  const mode = (cmd.options as { mode?: string }).mode ?? 'exit';
  if (command === 'compare' && given('strategy')) {
    throw Errors.badInput('--strategy', 'compare runs several strategies: pick them with --strategies a,b,...');
  }
  if (command === 'start' && given('mode')) throw Errors.badInput('--mode', 'start runs both exit and uffd mode: use run --mode');
  if (command !== 'start' && mode !== 'uffd') {
    for (const f of UFFD_ONLY) if (given(f)) throw Errors.badInput(`--${kebab(f)}`, `applies only to --mode uffd (mode is ${mode})`);
  }
  if (command !== 'start' && mode !== 'exit') {
    for (const f of EXIT_ONLY) if (given(f)) throw Errors.badInput(`--${kebab(f)}`, `applies only to --mode exit (mode is ${mode})`);
  }
}

/** Reads a scenario file: a JSON object of options (validated later by the schema, field by field). */
export function readScenario(path: string): Record<string, unknown> {
  const { data } = readJsonFile(path, '--scenario');
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw Errors.badInput('--scenario', `${path} must hold a JSON object of options`);
  const obj = data as Record<string, unknown>;
  // `$schema` and `description` are allowed so scenario files can document themselves.
  const { $schema: _s, description: _d, ...rest } = obj;
  return rest;
}
