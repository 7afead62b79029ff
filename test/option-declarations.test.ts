// Goal: each option is declared once (issue 22, item 3): its schema carries its flag's kind, its
// value's name and its help, and the CLI's flag table, its help and its "applies only to" checks are
// read from that. So every schema field has a declaration and help, every flag maps to a field,
// every flagged field is in the help once, the help names no flag that does not exist, and a field
// without a flag is refused on the command line. The demo's controls each set a schema field (or
// are the demo's own), and its choice lists are the schema's.
// Method: walk OptionsSchema.shape against the derived tables; parse flags with parseCommand as the
// CLI does (no child process needed); read the help that `postcopy-sim help run` prints; plan demo
// runs with planDemoRun as the server does.
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { OPTION_META, optionMetas } from '../src/option-meta.js';
import { optionChoices, OptionsSchema } from '../src/options.js';
import { CONTROL_NAMES, CONTROL_OPTIONS } from '../src/demo/controls.js';
import { demoChoices, planDemoRun } from '../src/demo/params.js';
import { parseCommand } from '../src/cli/args.js';
import { flagHelp, flagsOnlyFor, kebab, OPTION_FLAGS, SCENARIO_ONLY } from '../src/cli/option-flags.js';

const shape = OptionsSchema.shape as Record<string, z.ZodType>;
const fields = Object.keys(shape);

describe('one declaration per option', () => {
  it('every schema field has a flag kind and a help line; a flag with a value names its value', () => {
    for (const name of fields) {
      const m = OPTION_META.get(shape[name]!);
      expect(m, name).toBeDefined();
      expect(['value', 'switch', 'repeated', 'none'], name).toContain(m!.flag);
      expect(m!.help.trim().length, name).toBeGreaterThan(10);
      if (m!.flag === 'value' || m!.flag === 'repeated') expect(m!.arg, name).toMatch(/^[A-Z]+$/);
      else expect(m!.arg, name).toBeUndefined();
    }
    expect(optionMetas(shape).map(([n]) => n)).toEqual(fields);
  });

  it('every flag maps to a schema field, and every field has a flag or is listed as scenario-only', () => {
    for (const name of Object.keys(OPTION_FLAGS)) expect(fields, name).toContain(name);
    expect([...Object.keys(OPTION_FLAGS), ...SCENARIO_ONLY].sort()).toEqual([...fields].sort());
    expect(SCENARIO_ONLY).toContain('memslots');
  });

  it('a switch is a boolean field: the bare flag sets it true, and the schema takes it', () => {
    for (const [name, kind] of Object.entries(OPTION_FLAGS)) {
      if (kind !== 'switch') continue;
      const cmd = parseCommand([`--${kebab(name)}`]);
      expect(cmd.options[name as keyof typeof cmd.options], name).toBe(true);
      expect(shape[name]!.safeParse(true).success, name).toBe(true);
    }
  });

  it('a value flag passes its value through as text; a repeated one collects every value', () => {
    for (const [name, kind] of Object.entries(OPTION_FLAGS)) {
      if (kind === 'switch') continue;
      const cmd = parseCommand([`--${kebab(name)}`, 'v1', ...(kind === 'repeated' ? [`--${kebab(name)}`, 'v2'] : [])]);
      expect(cmd.options[name as keyof typeof cmd.options], name).toEqual(kind === 'repeated' ? ['v1', 'v2'] : 'v1');
    }
  });

  it('a field without a flag is an unknown option on the command line', () => {
    for (const name of SCENARIO_ONLY) expect(() => parseCommand([`--${kebab(name)}`, '1']), name).toThrow(/unknown option/);
  });

  it('the help lists every flag once, in the schema order, and names no flag that does not exist', () => {
    const help = flagHelp();
    const listed = [...help.matchAll(/^ {2}--([a-z-]+)/gm)].map((m) => m[1]!);
    expect(listed).toEqual([...Object.keys(OPTION_FLAGS).map(kebab), 'scenario', 'json']);
    const known = new Set([...listed, 'help']);
    for (const m of help.matchAll(/--([a-z][a-z-]*)/g)) expect(known, `help names --${m[1]}`).toContain(m[1]);
    for (const name of SCENARIO_ONLY) expect(help).toContain(name);
    expect(flagHelp(['--mode', '--strategy'])).not.toMatch(/^ {2}--(mode|strategy) /m);
  });

  it('the mode-only flags are declared on their fields: uffd queue knobs for uffd, the exit resolver and record for exit', () => {
    expect(flagsOnlyFor('uffd')).toEqual(['handlers', 'uffdPerVcpu', 'uffdMode', 'wakeBatch']);
    expect(flagsOnlyFor('exit')).toEqual(['exitResolver', 'faultRecord']);
  });

  it("every demo control sets a schema field or is the demo's own; its choices are the schema's; a choice reaches its option", () => {
    expect(CONTROL_NAMES).toEqual(Object.keys(CONTROL_OPTIONS));
    for (const [control, name] of Object.entries(CONTROL_OPTIONS)) if (name !== null) expect(fields, control).toContain(name);
    expect(
      Object.entries(CONTROL_OPTIONS)
        .filter(([, name]) => name === null)
        .map(([c]) => c),
    ).toEqual(['speed']);
    const c = demoChoices({ maxVcpus: 8, maxMemoryBytes: 2 ** 30 });
    expect(c.engines).toEqual(optionChoices('engine'));
    expect(c.resolvers).toEqual(optionChoices('exitResolver'));
    expect(c.records).toEqual(optionChoices('faultRecord'));
    expect(c.archs).toEqual(optionChoices('arch'));
    expect(c.modes).toEqual(optionChoices('mode'));
    // A renamed control reaches the option the table names.
    const plan = planDemoRun({ engine: 'virtual', mode: 'exit', record: 'syndrome', resolver: 'vcpu', network: 'none', memory: '8MiB' });
    expect(plan.options[CONTROL_OPTIONS.record]).toBe('syndrome');
    expect(plan.options[CONTROL_OPTIONS.resolver]).toBe('vcpu');
    expect(() => optionChoices('vcpus')).toThrow(/not a fixed list/);
  });
});
