// command(): `run` gets arguments typed from the declared parameters; a wrong key or type does not compile.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type ArgsOf,
  arg,
  type Command,
  command,
  flag,
  oneOf,
  option,
  options,
  type Registry,
} from '../../contexts/grammar.js';
import { fsLabel, number, type PackageFile, packageFile } from '../../contexts/param-types.js';
import { parseLine } from '../../contexts/parser.js';

const params = [
  options(
    flag('persistent', 'Keep it'),
    option('fs-label', fsLabel, 'Match the filesystem label', { key: 'fsLabel' }),
    oneOf('bus', [
      { word: 'usb', help: 'USB' },
      { word: 'sd', help: 'SD' },
    ]),
  ),
  arg('file', packageFile),
  arg('n', number('N', 'Count', 1, 9), { optional: true }),
] as const;

let seen: ArgsOf<typeof params> | undefined;

const typed: Command = command({
  name: 'take',
  help: 'Takes typed arguments',
  params,
  run: async (args) => {
    const file: PackageFile = args.file;
    const n: number | undefined = args.n;
    const persistent: true | undefined = args.persistent;
    const label: string | undefined = args.fsLabel;
    const bus: 'usb' | 'sd' | undefined = args.bus;
    // @ts-expect-error: the key is fsLabel; another name is a compile error
    void args['fs-label'];
    // @ts-expect-error: a package file is no string
    const wrong: string = args.file;
    // @ts-expect-error: an optional argument may be missing
    const always: number = args.n;
    void [file, n, persistent, label, bus, wrong, always];
    seen = args;
  },
});

test('the arguments the parser stores are the ones run is typed with', async () => {
  const context = { name: 'exec', path: '/', commands: [typed] };
  const registry: Registry = {
    contexts: { exec: context },
    filters: { name: 'filter', path: '', commands: [] },
  };
  const parsed = parseLine(registry, 'exec', 'take persistent fs-label "NO NAME" sd dir/pkg.wmopkg 3');
  assert.equal(parsed.invocation.kind, 'run');
  if (parsed.invocation.kind !== 'run') return;
  await parsed.invocation.command.run?.(parsed.invocation.args, {} as never);
  assert.deepEqual(seen, {
    persistent: true,
    fsLabel: 'NO NAME',
    bus: 'sd',
    file: { path: 'dir/pkg.wmopkg', name: 'pkg' },
    n: 3,
  });
});
