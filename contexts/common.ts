// Commands every context has: navigation (exit, end, top), `do`, `terminal`, history, and `help` derived from the declarations.
import {
  arg,
  type Command,
  type CommandEnv,
  type Context,
  command,
  flag,
  lastOfEachWord,
  options,
  usagePieces,
} from './grammar.js';
import { numberOrAuto, restWords } from './param-types.js';
import { lookup } from './parser.js';
import { renderPairs, wrapLine, wrapPieces } from './table.js';

/** Help for the first word of the multi-word commands below; spread into every context's `groups`. */
export const commonGroups: Readonly<Record<string, string>> = {
  terminal: 'Settings of this terminal session',
};

/**
 * `terminal …`: settings of the session, not of a context, so they work wherever the session is
 * (automation sends `terminal length 0` after entering a context). Like `history`, not offered as
 * `package terminal …` from the top.
 */
const terminalCommands: readonly Command[] = [
  command({
    name: 'terminal length',
    help: 'Lines per page on this terminal (0: no paging; auto: the terminal height)',
    navigation: true,
    params: [
      arg('n', numberOrAuto('N', 'Lines per page, 0 for no paging, auto to follow the terminal', 0, 512)),
    ],
    run: async (a, env) => env.session.terminal.setLength(a.n),
  }),
  command({
    name: 'terminal width',
    help: 'Columns of this terminal, for tables (auto: the terminal width)',
    navigation: true,
    params: [arg('n', numberOrAuto('N', 'Columns, or auto to follow the terminal', 40, 512))],
    run: async (a, env) => env.session.terminal.setWidth(a.n),
  }),
  command({
    name: 'terminal automation',
    help: 'Automation mode: prompt once, no redraw, colour or paging, tables never cut, no questions',
    navigation: true,
    params: [options(flag('off', 'Leave automation mode'))],
    run: async (a, env) => env.session.terminal.setAutomation(a.off !== true),
  }),
  command({
    name: 'terminal ascii',
    help: 'Draw tables with ASCII characters only',
    navigation: true,
    run: async (_a, env) => {
      env.session.terminal.ascii = true;
    },
  }),
  command({
    name: 'terminal utf8',
    help: 'Draw tables with box-drawing characters',
    navigation: true,
    run: async (_a, env) => {
      env.session.terminal.ascii = false;
    },
  }),
];

/** `exit`, `end`, `top`, `do`, `terminal`, `history`, `help`: appended to the command list of every context. */
export const commonCommands: readonly Command[] = [
  command({
    name: 'exit',
    help: 'Leave this context (at the top level: end the session)',
    navigation: true,
    run: async (_args, env) => env.session.nav.exit(),
  }),
  command({
    name: 'end',
    help: 'Return to the top level',
    navigation: true,
    run: async (_args, env) => env.session.nav.top(),
  }),
  command({
    name: 'top',
    help: 'Return to the top level',
    navigation: true,
    run: async (_args, env) => env.session.nav.top(),
  }),
  ...terminalCommands,
  command({
    name: 'do',
    help: 'Run a top-level command from this context',
    delegate: 'exec',
    navigation: true,
  }),
  command({
    name: 'history',
    help: 'Show the commands entered in this session',
    // Of the session, not of a context: not offered as `package history` from the top.
    navigation: true,
    run: async (_args, env) => {
      const list = env.session.history();
      const width = String(list.length).length;
      for (const [i, line] of list.entries()) env.out.line(`${String(i + 1).padStart(width)}  ${line}`);
    },
  }),
  command({
    name: 'help',
    help: 'List the commands here, or explain one: help COMMAND',
    params: [arg('topic', restWords, { optional: true })],
    run: async (args, env) => help(args.topic, env),
  }),
];

function visible(context: Context): Command[] {
  return context.commands.filter((c) => !c.hidden);
}

async function help(topic: string | undefined, env: CommandEnv): Promise<void> {
  if (topic === undefined) {
    const where = env.context.name === 'exec' ? 'at the top level' : `in the ${env.context.name} context`;
    env.out.line(`Commands ${where}:`);
    const rows = visible(env.context).map((c): [string, string] => [
      c.name + (c.aliases?.length ? ` (${c.aliases.join(', ')})` : ''),
      c.help,
    ]);
    for (const line of renderPairs(rows, env.session.terminal.width, 2)) env.out.line(line);
    const hint =
      'Type ? anywhere on a line to see what may come next, TAB to complete, "help COMMAND" for its syntax.';
    for (const line of wrapLine(hint, env.session.terminal.width, 0)) env.out.line(line);
    return;
  }
  const found = lookup(env.session.registry, env.context.name, topic);
  const width = env.session.terminal.width;
  for (const line of wrapPieces(usagePieces(found.command), width, 4)) env.out.line(line);
  for (const line of wrapLine(found.command.help, width - 2, 0)) env.out.line(`  ${line}`);
  // A keyword of two options blocks is described once, where the usage line shows it.
  const details: Array<{ readonly pair: [string, string]; readonly word?: string }> = [];
  for (const param of found.command.params ?? []) {
    if (param.kind === 'arg') {
      details.push({ pair: [param.type.name, param.help ?? param.type.help] });
      continue;
    }
    for (const decl of param.options) {
      if (decl.kind === 'flag') details.push({ pair: [decl.word, decl.help], word: decl.word });
      else if (decl.kind === 'value')
        details.push({
          pair: [`${decl.word} ${decl.display ?? decl.type.name}`, decl.help],
          word: decl.word,
        });
      else for (const w of decl.words) details.push({ pair: [w.word, w.help] });
    }
  }
  if (found.command.enter !== undefined) {
    details.push({
      pair: ['COMMAND', `A command of the ${found.command.enter} context, run without entering it`],
    });
  }
  const pairs = lastOfEachWord(details).map((d) => d.pair);
  for (const line of renderPairs(pairs, width, 2)) env.out.line(line);
}
