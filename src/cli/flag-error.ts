/**
 * node's parseArgs failure as the project's bad-input line: `FLAG: why` (exit 2), in the same words
 * for every command, instead of node's own ("Unknown option '--bogus'. To specify a positional
 * argument starting with a '-', ...").
 */
import { Errors, type SimError } from '../errors.js';

/** The BAD_INPUT error for parseArgs' error `e`; `command` names the help that lists the flags (`postcopy-sim help COMMAND`; none: the top-level help). */
export function flagError(e: unknown, command?: string): SimError {
  return Errors.badInput('', parseArgsWhy((e as Error).message, command));
}

/** parseArgs' message -> `FLAG: why`. */
export function parseArgsWhy(message: string, command?: string): string {
  const line = message.split('\n')[0]!;
  const help = command ? `postcopy-sim help ${command}` : 'postcopy-sim help';
  let m = /^Unknown option '([^']+)'/.exec(line);
  if (m) return `${m[1]}: unknown option (see: ${help})`;
  m = /^Option '(?:-\w, )?(--?[\w-]+)[^']*' argument missing/.exec(line);
  if (m) return `${m[1]}: needs a value`;
  m = /^Option '(?:-\w, )?(--?[\w-]+)[^']*' does not take an argument/.exec(line);
  if (m) return `${m[1]}: is a switch and takes no value`;
  m = /^Unexpected argument '([^']+)'/.exec(line);
  if (m) return `${m[1]}: unexpected argument (see: ${help})`;
  return line.replace(/\. To specify a positional argument.*$/, '');
}
