/**
 * What an option is on the command line, declared beside its schema in src/options.ts: its flag's
 * kind, the name of its value (which says its unit: SIZE, TIME, RATE, N, ...), its help, and the
 * mode it belongs to. The flag table, the help text and the "applies only to" checks of src/cli/
 * are all read from here, so an option is declared once.
 */
import { z } from 'zod';

/** A flag with a value, a switch (no value), a flag given several times, or no flag (scenario files and simulate() only). */
export type FlagKind = 'value' | 'switch' | 'repeated' | 'none';

export interface OptionMeta {
  flag: FlagKind;
  /** the value's name in the help (`--memory SIZE`); none for a switch or an option without a flag */
  arg?: string;
  /** what it does, as the help prints it; a `\n` starts a continuation line */
  help: string;
  /** given explicitly in another mode, the flag is an error: it would be ignored */
  onlyMode?: 'exit' | 'uffd';
}

/** The registry that src/options.ts fills, one entry per schema field. */
export const OPTION_META = z.registry<OptionMeta>();

/** `schema`, recorded with its flag, its value's name and its help. */
export function option<T extends z.ZodType>(schema: T, meta: OptionMeta): T {
  OPTION_META.add(schema, meta);
  return schema;
}

export const value = (arg: string, help: string, onlyMode?: OptionMeta['onlyMode']): OptionMeta => ({
  flag: 'value',
  arg,
  help,
  ...(onlyMode ? { onlyMode } : {}),
});
export const toggle = (help: string, onlyMode?: OptionMeta['onlyMode']): OptionMeta => ({ flag: 'switch', help, ...(onlyMode ? { onlyMode } : {}) });
export const repeated = (arg: string, help: string): OptionMeta => ({ flag: 'repeated', arg, help });
/** An option only a scenario file or simulate() sets: a test knob, or a value no flag can spell. */
export const noFlag = (help: string): OptionMeta => ({ flag: 'none', help });

/** Each option's declaration, by option name, in the schema's order. */
export function optionMetas(shape: Record<string, z.ZodType>): Array<[string, OptionMeta]> {
  return Object.entries(shape).map(([name, schema]) => {
    const meta = OPTION_META.get(schema);
    if (!meta) throw new Error(`assertion failed: option ${name} has no flag declaration (src/options.ts)`);
    return [name, meta];
  });
}
