// The updater's planner on table-driven cases: requests with priorities and constraints, dependency
// pulls, packages nobody requested, local packages, staged rollout; and the approval states.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DeviceError } from '../../../firmware-sim/errors.js';
import { approvalOf } from '../../../firmware-sim/updater/approval.js';
import { readInstalled } from '../../../firmware-sim/updater/installed.js';
import { computePlan } from '../../../firmware-sim/updater/planner.js';
import { effectiveRequests, type StoredRequest } from '../../../firmware-sim/updater/requests.js';
import { rolloutPlace } from '../../../firmware-sim/updater/rollout.js';
import type { ApprovalState, UpdaterSettings } from '../../../firmware-sim/updater/types.js';
import { formatHeld, formatLost, formatUpdaterStep } from '../../../firmware-sim/updater/words.js';
import { makeTestDevice, type TestDevice } from '../../helpers/device-fixtures.js';
import { type Fields, spec } from '../../helpers/feed-fixtures.js';
import {
  dirFetcher,
  type InstalledSpec,
  writeRecords,
  writeStanzaFeed,
} from '../../helpers/updater-fixtures.js';

/** A serial whose place for `name version` is below (`inside`) or at or above `percent`. */
function serialFor(name: string, version: string, percent: number, inside: boolean): string {
  for (let i = 0; ; i++) {
    const serial = `WM${i.toString(16).padStart(8, '0')}`;
    if (rolloutPlace(serial, name, version) < percent === inside) return serial;
  }
}

const OUT_OF_10 = serialFor('a', '2.0', 10, false);
const IN_10 = serialFor('a', '2.0', 10, true);

/** An explicit request, written as on the command line: `install a version >= 2.0 priority 60`. */
function req(line: string, source: StoredRequest['source'] = 'explicit'): StoredRequest {
  const [kind, name, ...rest] = line.split(' ') as ['install' | 'uninstall', string, ...string[]];
  const at = (word: string) => rest.indexOf(word);
  const v = at('version');
  const p = at('priority');
  return {
    kind,
    name,
    ...(v < 0 ? {} : { constraint: { relation: rest[v + 1] as '>=', version: rest[v + 2]! } }),
    priority: p < 0 ? 50 : Number(rest[p + 1]),
    source,
  };
}

interface Case {
  readonly title: string;
  readonly feed: readonly Fields[];
  /** Installed packages: `'x 1.0'`, with fields; `local` ones were installed from a file. */
  readonly installed?: ReadonlyArray<string | InstalledSpec>;
  readonly requests?: readonly StoredRequest[];
  readonly serial?: string;
  /** The plan's lines (steps, then lost requests, then held versions), or the error. */
  readonly expected: readonly string[] | { readonly code: string; readonly match: RegExp };
}

let t: TestDevice;
let feeds: string;

/** The case on the real device: its records, its feed (signed, updated through the device), then the plan. */
async function plan(c: Case) {
  await writeRecords(t.device.paths, c.installed ?? []);
  await writeStanzaFeed(join(feeds, 'main'), c.feed, t.vendorKey);
  const [updated] = await t.device.updateFeeds({ fetcher: dirFetcher(feeds) });
  assert.notEqual(updated?.outcome, 'failed', JSON.stringify(updated));
  const installed = await readInstalled(t.device.paths);
  return computePlan({
    feeds: t.device,
    requests: effectiveRequests(c.requests ?? [], installed.local),
    installed,
    serial: c.serial ?? 'WM0001',
  });
}

const cases: Case[] = [
  {
    title: 'an install request pulls its dependencies, each with its reason',
    feed: [spec('a 1.0', { Depends: 'b (>= 2.0)' }), spec('b 1.4'), spec('b 2.1')],
    requests: [req('install a')],
    expected: ['install b 2.1: dependency of a', 'install a 1.0: requested'],
  },
  {
    title: 'a version constraint picks the newest version it allows',
    feed: [spec('a 1.0'), spec('a 1.5'), spec('a 2.0')],
    requests: [req('install a version << 2.0')],
    expected: ['install a 1.5: requested'],
  },
  {
    title: 'a constraint can hold an installed package back (a downgrade when it must)',
    feed: [spec('a 1.0'), spec('a 2.0')],
    installed: ['a 2.0'],
    requests: [req('install a version <= 1.0')],
    expected: ['downgrade a 2.0 → 1.0: requested'],
  },
  {
    title: 'requested packages are kept current: a newer version in the feed is an upgrade',
    feed: [spec('a 1.0', { Depends: 'b' }), spec('a 1.1', { Depends: 'b' }), spec('b 1.0'), spec('b 1.2')],
    installed: [{ spec: 'a 1.0', fields: { Depends: 'b' } }, 'b 1.0'],
    requests: [req('install a')],
    expected: ['upgrade b 1.0 → 1.2: newer version', 'upgrade a 1.0 → 1.1: requested'],
  },
  {
    title: 'a package nobody requested and nothing needs is removed, named with its reason',
    feed: [spec('a 1.0'), spec('x 1.0')],
    installed: ['a 1.0', 'x 1.0'],
    requests: [req('install a')],
    expected: ['remove x 1.0: not requested'],
  },
  {
    title: 'dropping the last request of a package removes it and what only it needed',
    feed: [spec('a 1.0', { Depends: 'b' }), spec('b 1.0')],
    installed: [{ spec: 'a 1.0', fields: { Depends: 'b' } }, 'b 1.0'],
    requests: [],
    expected: ['remove a 1.0: not requested', 'remove b 1.0: not requested'],
  },
  {
    title: 'a dependency of a requested package stays although nobody requested it',
    feed: [spec('a 1.0', { Depends: 'b' }), spec('b 1.0')],
    installed: [{ spec: 'a 1.0', fields: { Depends: 'b' } }, 'b 1.0'],
    requests: [req('install a')],
    expected: [],
  },
  {
    title: 'an uninstall request removes an installed package',
    feed: [spec('a 1.0'), spec('telnetd 1.0')],
    installed: ['a 1.0', 'telnetd 1.0'],
    requests: [req('install a'), req('uninstall telnetd')],
    expected: ['remove telnetd 1.0: uninstall requested'],
  },
  {
    title: 'priorities decide a conflict: the uninstall (40) loses to the install that needs it (60)',
    feed: [spec('a 1.0', { Depends: 'y' }), spec('y 1.0')],
    installed: [{ spec: 'a 1.0', fields: { Depends: 'y' } }, 'y 1.0'],
    requests: [req('install a priority 60'), req('uninstall y priority 40')],
    expected: ['keep y 1.0: uninstall (priority 40) lost to install a (priority 60)'],
  },
  {
    title: 'priorities decide the other way: the uninstall (60) wins and the install (40) is skipped',
    feed: [spec('a 1.0', { Depends: 'y' }), spec('y 1.0')],
    installed: [],
    requests: [req('install a priority 40'), req('uninstall y priority 60')],
    expected: ['skip a: install (priority 40) lost to uninstall y (priority 60)'],
  },
  {
    title: 'a conflict between two installs: the higher priority is installed, the other skipped',
    feed: [spec('a 1.0', { Conflicts: 'b' }), spec('b 1.0')],
    requests: [req('install a priority 70'), req('install b')],
    expected: ['install a 1.0: requested', 'skip b: install (priority 50) lost to install a (priority 70)'],
  },
  {
    title: 'equal priorities in conflict: an error naming both',
    feed: [spec('a 1.0', { Conflicts: 'b' }), spec('b 1.0')],
    requests: [req('install a'), req('install b')],
    expected: {
      code: 'DEVICE_UNRESOLVABLE',
      match:
        /install a \(priority 50\) and install b \(priority 50\) contradict each other: a 1\.0 conflicts with b/,
    },
  },
  {
    title: 'a request no feed can meet: an error with the chain',
    feed: [spec('a 1.0', { Depends: 'b (>= 2.0)' }), spec('b 1.4')],
    requests: [req('install a')],
    expected: {
      code: 'DEVICE_UNRESOLVABLE',
      match: /a 1\.0 depends on b \(>= 2\.0\); the feeds have b 1\.4 only/,
    },
  },
  {
    title: 'a local package (installed from a file) is kept at its version, though no feed has it',
    feed: [spec('a 1.0')],
    installed: [{ spec: 'hello 1.2.0', local: true }],
    expected: [],
  },
  {
    title: 'a local package is not replaced by a newer feed version',
    feed: [spec('hello 2.0')],
    installed: [{ spec: 'hello 1.2.0', local: true }],
    expected: [],
  },
  {
    title: 'an explicit request about a local package replaces it: the feed version comes in',
    feed: [spec('hello 2.0')],
    installed: [{ spec: 'hello 1.2.0', local: true }],
    requests: [req('install hello')],
    expected: ['upgrade hello 1.2.0 → 2.0: requested'],
  },
  {
    title: 'a recorded request (package install NAME) keeps its package like an explicit one',
    feed: [spec('netdiag 1.0'), spec('netdiag 1.1')],
    installed: ['netdiag 1.0'],
    requests: [req('install netdiag', 'package')],
    expected: ['upgrade netdiag 1.0 → 1.1: requested'],
  },
  {
    title: 'an explicit uninstall overrides the recorded install of the same name',
    feed: [spec('netdiag 1.0')],
    installed: ['netdiag 1.0'],
    requests: [req('install netdiag', 'package'), req('uninstall netdiag')],
    expected: ['remove netdiag 1.0: uninstall requested'],
  },
  {
    title: 'rollout 10 %: a device outside keeps its version, the version is named as held back',
    feed: [spec('a 1.0'), spec('a 2.0', { Rollout: '10' })],
    installed: ['a 1.0'],
    requests: [req('install a')],
    serial: OUT_OF_10,
    expected: ['keep a 1.0: 2.0 held back: rollout 10 %'],
  },
  {
    title: 'rollout 10 %: a device inside takes the version',
    feed: [spec('a 1.0'), spec('a 2.0', { Rollout: '10' })],
    installed: ['a 1.0'],
    requests: [req('install a')],
    serial: IN_10,
    expected: ['upgrade a 1.0 → 2.0: requested'],
  },
  {
    title: 'a device outside the rollout takes the newest version that is fully rolled out',
    feed: [spec('a 1.0'), spec('a 1.5', { Rollout: '100' }), spec('a 2.0', { Rollout: '10' })],
    installed: ['a 1.0'],
    requests: [req('install a')],
    serial: OUT_OF_10,
    expected: ['upgrade a 1.0 → 1.5: requested', 'keep a 1.0: 2.0 held back: rollout 10 %'],
  },
  {
    title: 'a fresh install outside the rollout takes the older version',
    feed: [spec('a 1.0'), spec('a 2.0', { Rollout: '10' })],
    requests: [req('install a')],
    serial: OUT_OF_10,
    expected: ['install a 1.0: requested', 'skip a 2.0: held back: rollout 10 %'],
  },
  {
    title: 'rollout 0 %: no device takes it',
    feed: [spec('a 1.0'), spec('a 2.0', { Rollout: '0' })],
    installed: ['a 1.0'],
    requests: [req('install a')],
    serial: IN_10,
    expected: ['keep a 1.0: 2.0 held back: rollout 0 %'],
  },
  {
    title: 'rollout 100 %: every device takes it',
    feed: [spec('a 1.0'), spec('a 2.0', { Rollout: '100' })],
    installed: ['a 1.0'],
    requests: [req('install a')],
    serial: OUT_OF_10,
    expected: ['upgrade a 1.0 → 2.0: requested'],
  },
  {
    title: 'only a held version meets the request: the error says it is held back',
    feed: [spec('a 2.0', { Rollout: '10' })],
    requests: [req('install a')],
    serial: OUT_OF_10,
    expected: { code: 'DEVICE_UNRESOLVABLE', match: /a 2\.0 is held back \(rollout 10 %\)/ },
  },
];

describe('updater planner', () => {
  before(async () => {
    t = await makeTestDevice();
    feeds = join(t.root, 'feeds');
    await t.device.setFeed({ name: 'main', url: 'http://feeds.test/main', persistent: false });
  });
  after(() => t.cleanup());

  for (const c of cases) {
    test(c.title, async () => {
      if (!Array.isArray(c.expected)) {
        const { code, match } = c.expected as { code: string; match: RegExp };
        await assert.rejects(
          () => plan(c),
          (e: unknown) => e instanceof DeviceError && e.code === code && match.test(e.message),
        );
        return;
      }
      const p = await plan(c);
      const lines = [
        ...p.steps.map((s) => formatUpdaterStep(s)),
        ...p.lost.map(formatLost),
        ...p.held.map(formatHeld),
      ];
      assert.deepEqual(lines, c.expected);
    });
  }

  test('the plan id is a hash of the steps: the same plan has the same id, another plan another', async () => {
    const c = cases[0]!;
    const a = await plan(c);
    assert.match(a.id, /^[0-9a-f]{12}$/);
    assert.equal(
      (await plan(c)).id,
      a.id,
      'the same on every computation (and every device in the same state)',
    );
    const other = await plan({
      ...c,
      feed: [spec('a 1.0', { Depends: 'b (>= 2.0)' }), spec('b 2.1', { SHA256sum: 'cd'.repeat(32) })],
    });
    assert.notEqual(other.id, a.id, 'a republished file of the same version is another plan');
    assert.equal(a.downloadBytes, 2048);
  });

  test('rollout: raising the percentage only adds devices, and 10 % takes about a tenth', () => {
    const serials = Array.from({ length: 2000 }, (_, i) => `WM${(0x5000 + i).toString(16).toUpperCase()}`);
    const inside = (percent: number) => new Set(serials.filter((s) => rolloutPlace(s, 'a', '2.0') < percent));
    const ten = inside(10);
    const thirty = inside(30);
    for (const s of ten) assert.ok(thirty.has(s), `${s} inside 10 % but not 30 %`);
    assert.ok(ten.size >= 140 && ten.size <= 260, `10 % of 2000 took ${ten.size}`);
    assert.notDeepEqual(ten, inside(10.5), 'decimals count');
  });
});

describe('approval states', () => {
  const settings = (approval: boolean, delayHours: number): UpdaterSettings => ({
    approval,
    delayHours,
    reboot: 'manual',
  });
  const now = new Date('2026-11-21T10:00:00Z');
  const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000).toISOString();
  const cases: Array<{
    title: string;
    s: UpdaterSettings;
    steps?: number;
    pending?: string;
    approved?: string[];
    expected: ApprovalState;
  }> = [
    { title: 'automatic: approval off, no delay', s: settings(false, 0), expected: { kind: 'not-needed' } },
    {
      title: 'a plan that does nothing needs no approval',
      s: settings(true, 0),
      steps: 0,
      expected: { kind: 'not-needed' },
    },
    { title: 'approval on: a new plan waits, from now', s: settings(true, 0), expected: { kind: 'waiting' } },
    {
      title: 'approval on: a plan found before still waits, since then',
      s: settings(true, 0),
      pending: hoursAgo(100),
      expected: { kind: 'waiting', since: hoursAgo(100) },
    },
    {
      title: 'approval on: an approved plan applies',
      s: settings(true, 0),
      approved: ['abc123abc123'],
      expected: { kind: 'approved' },
    },
    {
      title: 'delay 24: a new plan waits 24 h',
      s: settings(true, 24),
      expected: { kind: 'waiting', since: now.toISOString(), until: hoursAgo(-24) },
    },
    {
      title: 'delay 24, pending 23 h: still waiting',
      s: settings(true, 24),
      pending: hoursAgo(23),
      expected: { kind: 'waiting', since: hoursAgo(23), until: hoursAgo(-1) },
    },
    {
      title: 'delay 24, pending 24 h: approved by itself',
      s: settings(true, 24),
      pending: hoursAgo(24),
      expected: { kind: 'delay-elapsed', since: hoursAgo(24) },
    },
    {
      title: 'delay without approval on: delayed updates all the same',
      s: settings(false, 2),
      pending: hoursAgo(3),
      expected: { kind: 'delay-elapsed', since: hoursAgo(3) },
    },
    {
      title: 'delay 24, approved early: applies at once',
      s: settings(false, 24),
      pending: hoursAgo(1),
      approved: ['abc123abc123'],
      expected: { kind: 'approved' },
    },
  ];
  for (const c of cases) {
    test(c.title, () => {
      const memory = {
        approved: c.approved ?? [],
        ...(c.pending === undefined ? {} : { pending: { id: 'abc123abc123', since: c.pending } }),
      };
      assert.deepEqual(approvalOf('abc123abc123', c.steps ?? 2, c.s, memory, now), c.expected);
    });
  }

  test('an approval or a pending start of another plan does not count', () => {
    const memory = {
      approved: ['000000000000'],
      pending: { id: '000000000000', since: '2020-01-01T00:00:00.000Z' },
    };
    assert.equal(approvalOf('abc123abc123', 1, settings(true, 24), memory, now).kind, 'waiting');
  });
});
