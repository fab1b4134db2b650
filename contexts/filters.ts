// Output modifiers after `|` (`json`, `include`, `exclude`, `begin`, `count`), declared like commands.
import { arg, type Context, command, type LineFilter } from './grammar.js';
import { regex } from './param-types.js';

function lineFilter(keep: (text: string) => boolean): LineFilter {
  return { line: (text) => (keep(text) ? [text] : []), end: () => [] };
}

/** The filters context: what may follow `|` on any command line, in script mode too. */
export const filters: Context = {
  name: 'filter',
  path: '',
  commands: [
    // First after a command that has a document (`data`); the parser holds that (parser.ts).
    command({
      name: 'json',
      help: 'The result as one JSON document (docs/automation.md)',
      json: true,
      filter: () => lineFilter(() => true),
    }),
    command({
      name: 'include',
      help: 'Only lines matching RE',
      params: [arg('re', regex)],
      filter: (args) => lineFilter((text) => args.re.test(text)),
    }),
    command({
      name: 'exclude',
      help: 'Only lines not matching RE',
      params: [arg('re', regex)],
      filter: (args) => lineFilter((text) => !args.re.test(text)),
    }),
    command({
      name: 'begin',
      help: 'From the first line matching RE on',
      params: [arg('re', regex)],
      filter: (args) => {
        let on = false;
        return lineFilter((text) => {
          if (!on && args.re.test(text)) on = true;
          return on;
        });
      },
    }),
    command({
      name: 'count',
      help: 'Count the lines instead of printing them',
      filter: () => {
        let n = 0;
        return {
          line: () => {
            n++;
            return [];
          },
          end: () => [String(n)],
        };
      },
    }),
  ],
};
