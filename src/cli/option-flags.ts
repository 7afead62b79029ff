/**
 * The option flags and their help, read from the options' one declaration (src/options.ts, with
 * src/option-meta.ts): flags are kebab-case versions of the option names (`--write-ratio` ->
 * writeRatio). Nothing here names an option.
 */
import { optionMetas, type OptionMeta } from '../option-meta.js';
import { OptionsSchema } from '../options.js';

export const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
export const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Every option with its declaration, in the schema's order. */
const DECLARED: Array<[string, OptionMeta]> = optionMetas(OptionsSchema.shape);

/** Every option that has a flag, by option name, with its kind. */
export const OPTION_FLAGS: Record<string, Exclude<OptionMeta['flag'], 'none'>> = Object.fromEntries(
  DECLARED.flatMap(([name, m]) => (m.flag === 'none' ? [] : [[name, m.flag]])),
);

/** The options whose flag applies only in `mode` (given in another mode, it would be ignored). */
export function flagsOnlyFor(mode: 'exit' | 'uffd'): string[] {
  return DECLARED.filter(([, m]) => m.onlyMode === mode).map(([name]) => name);
}

/** The options a scenario file or simulate() may set but no flag does. */
export const SCENARIO_ONLY: string[] = DECLARED.filter(([, m]) => m.flag === 'none').map(([name]) => name);

/** Help lines: the flag and its value's name in a 21-column field, the help beside it. */
const FLAG_COLUMN = 21;
const CONTINUATION = ' '.repeat(2 + FLAG_COLUMN);

function helpEntry(name: string, m: OptionMeta): string {
  const head = `--${kebab(name)}${m.arg ? ` ${m.arg}` : ''}`;
  const [first, ...rest] = m.help.split('\n');
  const lead = head.length < FLAG_COLUMN ? head.padEnd(FLAG_COLUMN) : `${head}  `;
  return [`  ${lead}${first}`, ...rest.map((l) => `${CONTINUATION}${l}`)].join('\n');
}

/** The options' help, without the flags of `exclude` (flag names such as '--mode'). */
export function flagHelp(exclude: string[] = []): string {
  const lines = DECLARED.filter(([name, m]) => m.flag !== 'none' && !exclude.includes(`--${kebab(name)}`)).map(([name, m]) => helpEntry(name, m));
  return [
    'Options (also accepted as JSON keys in --scenario FILE; flags win):',
    ...lines,
    helpEntry('scenario', { flag: 'value', arg: 'FILE', help: 'read options from a JSON file' }),
    helpEntry('json', { flag: 'switch', help: 'print one JSON object instead of the summary table' }),
    `Keys without a flag, for --scenario FILE and simulate() only (docs/scenarios.md):\n  ${SCENARIO_ONLY.join(', ')}`,
  ].join('\n');
}
