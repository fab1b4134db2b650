// The updater's golden transcripts (test/shell/golden-updater.test.ts runs them): its feeds in the world, the cases.
import { mkdirSync } from 'node:fs';
import { copyFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { indexFeed } from '../../firmware-sim/feeds/index.js';
import { planId } from '../../firmware-sim/updater/planner.js';
import { rolloutPlace } from '../../firmware-sim/updater/rollout.js';
import { buildPackage } from '../../lab/packages.js';
import type { Golden } from './golden.js';
import { SERIAL, VENDOR, type WorldConfig } from './world.js';

/** The host serving the updater's feeds in the transcripts (TEST-NET-1: nothing is ever sent anywhere). */
const FEED_HOST = '192.0.2.20';

/** A feed directory: packages signed by the world's vendor, indexed as `wmopkg index` does. */
async function feed(
  dir: string,
  packages: ReadonlyArray<{ name: string; version: string; depends?: string; description?: string }>,
  rollout?: Record<string, number>,
): Promise<Record<string, string>> {
  mkdirSync(dir, { recursive: true });
  for (const p of packages) {
    await buildPackage(dir, { ...p, sign: VENDOR.secretKey }, `${p.name}_${p.version}_all.wmopkg`);
  }
  await indexFeed(dir, {
    sign: VENDOR.secretKey,
    ...(rollout ? { rollout: new Map(Object.entries(rollout)) } : {}),
  });
  return Object.fromEntries((await readdir(dir)).map((f) => [f, join(dir, f)]));
}

/**
 * The feeds of the transcripts, under `http://192.0.2.20/`: `v1` (a 1.0 needing b, b 1.0 and 2.1,
 * telnetd), `v2` (the same plus a 1.1), `v3` (plus a 2.0 rolled out to 10 %). A transcript moves a
 * device from one to the next with `package feed main URL`, as a publisher would publish.
 */
export async function updaterWorld(
  root: string,
  servers: WorldConfig['servers'],
): Promise<Partial<WorldConfig>> {
  const base = [
    { name: 'a', version: '1.0', depends: 'b (>= 2.0)', description: 'The application' },
    { name: 'b', version: '1.0', description: 'A library' },
    { name: 'b', version: '2.1', description: 'A library' },
    { name: 'telnetd', version: '1.0', description: 'An old daemon' },
    { name: 'hello', version: '2.0', description: 'Hello world' },
  ];
  const v1 = await feed(join(root, 'v1'), base);
  const v2dir = join(root, 'v2');
  mkdirSync(v2dir, { recursive: true });
  for (const f of await readdir(join(root, 'v1'))) {
    if (f.endsWith('.wmopkg')) await copyFile(join(root, 'v1', f), join(v2dir, f));
  }
  const v2 = await feed(v2dir, [
    { name: 'a', version: '1.1', depends: 'b (>= 2.0)', description: 'The application' },
  ]);
  const v3dir = join(root, 'v3');
  mkdirSync(v3dir, { recursive: true });
  for (const f of await readdir(v2dir))
    if (f.endsWith('.wmopkg')) await copyFile(join(v2dir, f), join(v3dir, f));
  const v3 = await feed(
    v3dir,
    [{ name: 'a', version: '2.0', depends: 'b (>= 2.0)', description: 'The application' }],
    {
      a: 10,
    },
  );
  const files: Record<string, string> = {};
  for (const [name, served] of Object.entries({ v1, v2, v3 })) {
    for (const [file, path] of Object.entries(served)) files[`${name}/${file}`] = path;
  }
  return { servers: { ...servers, [FEED_HOST]: { protos: ['http'], files } } };
}

/** The id of the plan that upgrades `a` from 1.0 to 1.1 from feed v2 (approve takes it in a transcript). */
async function upgradeId(root: string): Promise<string> {
  const { sha256File } = await import('./package-fixtures.js');
  const sha256 = await sha256File(join(root, 'v2', 'a_1.1_all.wmopkg'));
  return planId([
    {
      action: 'upgrade',
      name: 'a',
      from: '1.0',
      version: '1.1',
      auto: false,
      reason: 'requested',
      because: 'requested',
      download: {
        name: 'a',
        version: '1.1',
        architecture: 'all',
        feed: 'main',
        description: '',
        filename: '',
        size: 0,
        sha256,
      },
    },
  ]);
}

const FEED = (v: string) => `do package feed main http://${FEED_HOST}/${v}`;

/** The cases; `root` holds the feeds built by `updaterWorld`. */
export async function updaterGoldens(root: string, world: Partial<WorldConfig>): Promise<Golden[]> {
  const upgrade = await upgradeId(root);
  const inRollout = rolloutPlace(SERIAL, 'a', '2.0') < 10;
  return [
    {
      name: 'requests',
      title:
        'updater: requests with versions (one word or two) and priorities, dropped again; help and errors',
      world,
      stdin: [
        'updater',
        '?',
        'install ?',
        'install a version >=1.0 priority 60',
        'uninstall telnetd priority 40',
        'install b version >= 2.0',
        'install c version 2.0',
        'install c version >=2.0 priority 101',
        'install c version >=',
        'show',
        'no install a',
        'no install a',
        'no uninstall telnetd',
        'no install b',
        'show',
      ],
    },
    {
      name: 'plan-run',
      title: 'updater: plan with reasons and an id, run, its block in the event log, then nothing to do',
      world,
      stdin: [
        'updater',
        FEED('v1'),
        'install a',
        'plan',
        'run',
        'show',
        'do show log | include updater',
        'run',
        'do package show',
      ],
    },
    {
      name: 'approval',
      title: 'updater: approval on, a new version waits, approve PLAN-ID, run applies it',
      world,
      stdin: [
        'updater',
        FEED('v1'),
        'install a',
        'run',
        'approval on',
        FEED('v2'),
        'plan',
        'run',
        'show',
        `approve ${upgrade}`,
        'plan',
        'run',
        'delay 24',
        'approval off',
        'show',
      ],
    },
    {
      name: 'not-requested',
      title: 'updater: a dropped request removes the package and what only it needed; priorities decide',
      world,
      stdin: [
        'updater',
        FEED('v1'),
        'install a priority 60',
        'install telnetd',
        'run',
        'uninstall b priority 40',
        'no install telnetd',
        'plan',
        'uninstall b',
        'plan',
        'uninstall b priority 70',
        'plan',
      ],
    },
    {
      name: 'rollout',
      title: `updater: a version rolled out to 10 % (this device is ${inRollout ? 'inside' : 'outside'})`,
      world,
      stdin: ['updater', FEED('v2'), 'install a', 'run', FEED('v3'), 'plan'],
    },
    {
      name: 'automatic-requests',
      title:
        'updater: package install NAME records a request, a file install is local, package remove drops it',
      world,
      args: ['-y'],
      stdin: [
        FEED('v1'),
        'package update',
        'package install telnetd',
        'package install media external hello.wmopkg',
        'updater show',
        'updater plan',
        'package remove telnetd',
        'updater show',
      ],
    },
    {
      name: 'json',
      title: 'updater: every command with | json; the same words without it are the goldens above',
      world,
      stdin: [
        'updater',
        FEED('v1'),
        'show | json',
        'install a priority 60 | json',
        'install a priority 60 | json',
        'uninstall telnetd version | json',
        'uninstall telnetd | json',
        'no uninstall telnetd | json',
        'install b version >= 2.0 | json',
        'no install b | json',
        'plan | json',
        'approval on | json',
        'approval on | json',
        'delay 24 | json',
        'reboot manual | json',
        'run | json',
        `approve ${upgrade} | json`,
        'approval off | json',
        'delay 0 | json',
        'run | json',
        'show | json',
        'reboot auto | json',
        FEED('v2'),
        'run | json',
        'run | json',
      ],
    },
    {
      name: 'reboot-auto',
      title: 'updater: reboot auto boots after an applied plan',
      world,
      stdin: ['updater', FEED('v1'), 'reboot auto', 'install a', 'run', 'do package show'],
    },
  ];
}
