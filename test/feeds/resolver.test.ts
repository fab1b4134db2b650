// The resolver on table-driven cases: plans with their reasons, and the failures with their chains.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type FeedEntry,
  FeedError,
  formatPlan,
  type InstalledPackage,
  type Request,
  type ResolveOptions,
  resolve,
} from '../../firmware-sim/feeds/index.js';
import { type Fields, installedPackage as inst, spec, universeOf } from '../helpers/feed-fixtures.js';

const DEVICE: ResolveOptions = { architectures: ['arm64'], system: [{ name: 'firmware', version: '5.20' }] };
const install = (name: string, extra: Partial<Extract<Request, { kind: 'install' }>> = {}): Request => ({
  kind: 'install',
  name,
  ...extra,
});

interface Case {
  readonly title: string;
  readonly feed: readonly Fields[];
  readonly installed?: readonly InstalledPackage[];
  readonly requests: readonly Request[];
  readonly options?: Partial<ResolveOptions>;
  /** `formatPlan` of the plan, or the error's message. */
  readonly expected: string;
  readonly code?: string;
}

function run({ feed, installed = [], requests, options = {} }: Case) {
  return resolve(universeOf(feed), installed, requests, { ...DEVICE, ...options });
}

const rollout = (entry: FeedEntry) =>
  entry.package.rollout === undefined || entry.package.rollout >= 100
    ? undefined
    : `rollout ${entry.package.rollout} %`;

const plans: Case[] = [
  {
    title: 'the example of the issue: a dependency installed, an installed one upgraded because a needs it',
    feed: [
      spec('a 1.0', { Depends: 'b (>= 2.0), c (>= 1.2)' }),
      spec('b 1.4'),
      spec('b 2.1'),
      spec('c 1.0'),
      spec('c 1.2'),
    ],
    installed: [inst('c 1.0')],
    requests: [install('a')],
    expected: 'Install: a 1.0, b 2.1 (dependency of a); Upgrade: c 1.0 → 1.2 (dependency of a)',
  },
  {
    title: 'newest version of what is asked and of its dependencies',
    feed: [spec('a 1.0'), spec('a 2.0', { Depends: 'b' }), spec('b 1.0'), spec('b 1.1')],
    requests: [install('a')],
    expected: 'Install: a 2.0, b 1.1 (dependency of a)',
  },
  {
    title: 'complete where a greedy resolver is not: the newest b leads nowhere, the older one does',
    feed: [
      spec('a 1.0', { Depends: 'b' }),
      spec('b 2.0', { Depends: 'x (>= 2)' }),
      spec('b 1.0', { Depends: 'x' }),
      spec('x 1.0'),
    ],
    requests: [install('a')],
    expected: 'Install: a 1.0, x 1.0 (dependency of b), b 1.0 (dependency of a)',
  },
  {
    title: 'the first alternative is preferred',
    feed: [spec('a 1.0', { Depends: 'b | c' }), spec('b 1.0'), spec('c 9.0')],
    requests: [install('a')],
    expected: 'Install: a 1.0, b 1.0 (dependency of a)',
  },
  {
    title: 'the next alternative when the first cannot be installed',
    feed: [spec('a 1.0', { Depends: 'b | c' }), spec('b 1.0', { Depends: 'firmware (>= 9)' }), spec('c 9.0')],
    requests: [install('a')],
    expected: 'Install: a 1.0, c 9.0 (dependency of a)',
  },
  {
    title: 'an alternative already installed is enough',
    feed: [spec('a 1.0', { Depends: 'b | c' }), spec('b 1.0'), spec('c 9.0')],
    installed: [inst('c 8.0')],
    requests: [install('a')],
    expected: 'Install: a 1.0',
  },
  {
    title: 'a virtual package is met by a package that provides it',
    feed: [spec('a 1.0', { Depends: 'mta' }), spec('postfix 3.0', { Provides: 'mta' })],
    requests: [install('a')],
    expected: 'Install: a 1.0, postfix 3.0 (dependency of a)',
  },
  {
    title: 'a versioned dependency is met only by a versioned Provides',
    feed: [
      spec('a 1.0', { Depends: 'api (>= 2)' }),
      spec('old 9.0', { Provides: 'api' }),
      spec('new 1.0', { Provides: 'api (= 2.1)' }),
    ],
    requests: [install('a')],
    expected: 'Install: a 1.0, new 1.0 (dependency of a)',
  },
  {
    title: 'installing a virtual name takes a provider',
    feed: [spec('postfix 3.0', { Provides: 'mta' })],
    requests: [install('mta')],
    expected: 'Install: postfix 3.0',
  },
  {
    title: 'Pre-Depends counts as Depends',
    feed: [spec('a 1.0', { 'Pre-Depends': 'b' }), spec('b 1.0')],
    requests: [install('a')],
    expected: 'Install: a 1.0, b 1.0 (dependency of a)',
  },
  {
    title: 'firmware (op version) is met by the device',
    feed: [spec('a 1.0', { Depends: 'firmware (>= 5.0)' }), spec('a 2.0', { Depends: 'firmware (>= 6.0)' })],
    requests: [install('a')],
    expected: 'Install: a 1.0',
  },
  {
    title: 'architectures of the device: other ones are not taken',
    feed: [spec('a 1.0', { Architecture: 'mips' }), spec('a 0.9', { Architecture: 'arm64' })],
    requests: [install('a')],
    expected: 'Install: a 0.9',
  },
  {
    title: 'a version constraint on the request',
    feed: [spec('b 1.4'), spec('b 2.1')],
    requests: [install('b', { constraint: { relation: '<<', version: '2.0' } })],
    expected: 'Install: b 1.4',
  },
  {
    title: 'a constraint can downgrade',
    feed: [spec('b 1.4'), spec('b 2.1')],
    installed: [inst('b 2.1')],
    requests: [install('b', { constraint: { relation: '<<', version: '2.0' } })],
    expected: 'Downgrade: b 2.1 → 1.4',
  },
  {
    title: 'installed packages keep their version unless upgraded',
    feed: [spec('a 1.0', { Depends: 'b' }), spec('b 1.0'), spec('b 2.0')],
    installed: [inst('b 1.0')],
    requests: [install('a')],
    expected: 'Install: a 1.0',
  },
  {
    title: 'upgrade of everything moves installed packages to the newest',
    feed: [spec('a 1.0', { Depends: 'b' }), spec('b 1.0'), spec('b 2.0')],
    installed: [inst('b 1.0')],
    requests: [install('a')],
    options: { upgradeAll: true },
    expected: 'Install: a 1.0; Upgrade: b 1.0 → 2.0',
  },
  {
    title: 'upgrade of everything keeps a package installed from a file at its version',
    feed: [spec('b 2.0'), spec('c 2.0')],
    installed: [inst('b 1.0', {}, { local: true }), inst('c 1.0')],
    requests: [],
    options: { upgradeAll: true },
    expected: 'Upgrade: c 1.0 → 2.0',
  },
  {
    title: 'upgrade of one package',
    feed: [spec('b 2.0'), spec('c 2.0')],
    installed: [inst('b 1.0'), inst('c 1.0')],
    requests: [{ kind: 'upgrade', name: 'c' }],
    expected: 'Upgrade: c 1.0 → 2.0',
  },
  {
    title: 'a package no feed has stays installed',
    feed: [spec('a 1.0')],
    installed: [inst('mine 1.0', {}, { local: true }), inst('gone 3.0')],
    requests: [install('a')],
    options: { upgradeAll: true },
    expected: 'Install: a 1.0',
  },
  {
    title:
      'an installed package in the way: an older version that does not conflict is preferred to a removal',
    feed: [spec('a 1.0'), spec('a 2.0', { Conflicts: 'x' }), spec('x 1.0')],
    installed: [inst('x 1.0')],
    requests: [install('a')],
    expected: 'Install: a 1.0',
  },
  {
    title: 'a conflict that cannot be avoided removes the installed package, saying why',
    feed: [spec('a 2.0', { Conflicts: 'x' })],
    installed: [inst('x 1.0')],
    requests: [install('a')],
    expected: 'Install: a 2.0; Remove: x 1.0 (conflicts with a)',
  },
  {
    title: 'Replaces with Conflicts: the new package replaces the old one',
    feed: [spec('new 1.0', { Conflicts: 'old', Replaces: 'old', Provides: 'old' })],
    installed: [inst('old 1.0'), inst('user 1.0', { Depends: 'old' })],
    requests: [install('new')],
    expected: 'Install: new 1.0; Remove: old 1.0 (replaced by new)',
  },
  {
    title: 'a package that provides and conflicts with a virtual name replaces the other provider',
    feed: [spec('exim 4.0', { Provides: 'mta', Conflicts: 'mta' })],
    installed: [inst('postfix 3.0', { Provides: 'mta' })],
    requests: [install('exim')],
    expected: 'Install: exim 4.0; Remove: postfix 3.0 (conflicts with exim)',
  },
  {
    title: 'uninstall takes the packages that need it along',
    feed: [],
    installed: [inst('x 1.0'), inst('y 1.0', { Depends: 'x' }), inst('z 1.0')],
    requests: [{ kind: 'uninstall', name: 'x' }],
    expected: 'Remove: x 1.0 (uninstall requested), y 1.0 (needs x, which is removed)',
  },
  {
    title: 'Recommends are installed',
    feed: [spec('a 1.0', { Recommends: 'r' }), spec('r 1.0')],
    requests: [install('a')],
    expected: 'Install: a 1.0, r 1.0 (recommended by a)',
  },
  {
    title: 'unless no-recommends',
    feed: [spec('a 1.0', { Recommends: 'r' }), spec('r 1.0')],
    requests: [install('a')],
    options: { noRecommends: true },
    expected: 'Install: a 1.0',
  },
  {
    title: 'a Recommends that cannot be met is left out',
    feed: [spec('a 1.0', { Recommends: 'r, s' }), spec('r 1.0', { Conflicts: 'a' }), spec('s 1.0')],
    requests: [install('a')],
    expected: 'Install: a 1.0, s 1.0 (recommended by a)',
  },
  {
    title: 'autoremove: a dependency nothing needs any more goes',
    feed: [spec('a 2.0')],
    installed: [inst('a 1.0', { Depends: 'old' }), inst('old 1.0', {}, { auto: true })],
    requests: [],
    options: { upgradeAll: true, autoremove: true },
    expected: 'Upgrade: a 1.0 → 2.0; Remove: old 1.0 (no longer needed)',
  },
  {
    title: 'without autoremove it stays',
    feed: [spec('a 2.0')],
    installed: [inst('a 1.0', { Depends: 'old' }), inst('old 1.0', {}, { auto: true })],
    requests: [],
    options: { upgradeAll: true },
    expected: 'Upgrade: a 1.0 → 2.0',
  },
  {
    title: 'nothing to do',
    feed: [spec('a 1.0')],
    installed: [inst('a 1.0')],
    requests: [install('a')],
    expected: 'Nothing to do',
  },
  {
    title: 'requests by priority: the lower one loses',
    feed: [spec('a 1.0', { Depends: 'b' }), spec('b 1.0')],
    installed: [inst('b 1.0')],
    requests: [install('a', { priority: 60 }), { kind: 'uninstall', name: 'b', priority: 40 }],
    expected: 'Install: a 1.0',
  },
];

const failures: Case[] = [
  {
    title: 'a feed package cannot claim to be the firmware',
    feed: [
      spec('a 1.0', { Depends: 'firmware (>= 6.0)' }),
      spec('fake 1.0', { Provides: 'firmware (= 9.0)' }),
    ],
    requests: [install('a')],
    code: 'FEED_UNRESOLVABLE',
    expected: 'cannot install a: a 1.0 depends on firmware (>= 6.0); the device has firmware 5.20',
  },
  {
    title: 'the chain of the issue',
    feed: [spec('a 1.0', { Depends: 'b (>= 2.0)' }), spec('b 1.4')],
    requests: [install('a')],
    code: 'FEED_UNRESOLVABLE',
    expected: 'cannot install a: a 1.0 depends on b (>= 2.0); the feeds have b 1.4 only',
  },
  {
    title: 'a longer chain',
    feed: [
      spec('a 1.0', { Depends: 'b' }),
      spec('b 1.0', { Depends: 'c (>= 3.0)' }),
      spec('c 2.0'),
      spec('c 2.5'),
    ],
    requests: [install('a')],
    code: 'FEED_UNRESOLVABLE',
    expected:
      'cannot install a: a 1.0 depends on b; b 1.0 depends on c (>= 3.0); the feeds have c 2.0, 2.5 only',
  },
  {
    title: 'no such package',
    feed: [spec('a 1.0')],
    requests: [install('zz')],
    code: 'FEED_UNRESOLVABLE',
    expected: 'cannot install zz: no package in the feeds is named zz or provides it',
  },
  {
    title: 'only for another architecture',
    feed: [spec('a 1.0', { Depends: 'b' }), spec('b 1.0', { Architecture: 'mips' })],
    requests: [install('a')],
    code: 'FEED_UNRESOLVABLE',
    expected:
      'cannot install a: a 1.0 depends on b; no package in the feeds is named b or provides it; b 1.0 is for architecture mips',
  },
  {
    title: 'held back by the rollout',
    feed: [spec('a 1.0', { Depends: 'b (>= 2.0)' }), spec('b 1.4'), spec('b 2.1', { Rollout: '10' })],
    requests: [install('a')],
    options: { hold: rollout },
    code: 'FEED_UNRESOLVABLE',
    expected:
      'cannot install a: a 1.0 depends on b (>= 2.0); the feeds have b 1.4 only; b 2.1 is held back (rollout 10 %)',
  },
  {
    title: 'two dependencies in conflict',
    feed: [spec('a 1.0', { Depends: 'b, c' }), spec('b 1.0', { Conflicts: 'c' }), spec('c 1.0')],
    requests: [install('a')],
    code: 'FEED_UNRESOLVABLE',
    expected: 'cannot install a: a 1.0 depends on b, c; b 1.0 conflicts with c',
  },
  {
    title: 'two dependencies on incompatible versions',
    feed: [
      spec('a 1.0', { Depends: 'b, c' }),
      spec('b 1.0', { Depends: 'z (>= 2)' }),
      spec('c 1.0', { Depends: 'z (<< 2)' }),
      spec('z 1.0'),
      spec('z 2.0'),
    ],
    requests: [install('a')],
    code: 'FEED_UNRESOLVABLE',
    expected:
      'cannot install a: a 1.0 depends on b, c; b 1.0 depends on z (>= 2); c 1.0 depends on z (<< 2); only one version of z can be installed',
  },
  {
    title: 'a version constraint no version meets',
    feed: [spec('b 1.4'), spec('b 2.1')],
    requests: [install('b', { constraint: { relation: '>=', version: '3.0' } })],
    code: 'FEED_UNRESOLVABLE',
    expected: 'cannot install b (>= 3.0): the feeds have b 1.4, 2.1 only',
  },
  {
    title: 'the firmware cannot be uninstalled',
    feed: [],
    requests: [{ kind: 'uninstall', name: 'firmware' }],
    code: 'FEED_UNRESOLVABLE',
    expected: 'cannot uninstall firmware: the device has firmware 5.20',
  },
  {
    title: 'upgrade of a package that is not installed',
    feed: [spec('a 1.0')],
    requests: [{ kind: 'upgrade', name: 'a' }],
    code: 'FEED_UNRESOLVABLE',
    expected: 'cannot upgrade a: it is not installed',
  },
  {
    title: 'requests of equal priority that contradict each other',
    feed: [spec('a 1.0', { Depends: 'b' }), spec('b 1.0')],
    requests: [install('a'), { kind: 'uninstall', name: 'b' }],
    code: 'FEED_REQUEST_CONFLICT',
    expected:
      'install a (priority 50) and uninstall b (priority 50) contradict each other: a 1.0 depends on b',
  },
];

describe('resolve: plans', () => {
  for (const c of plans) {
    test(c.title, () => assert.equal(formatPlan(run(c)), c.expected));
  }
});

describe('resolve: failures name the chain that fails', () => {
  for (const c of failures) {
    test(c.title, () =>
      assert.throws(
        () => run(c),
        (error: unknown) => {
          assert.ok(error instanceof FeedError, String(error));
          assert.equal(error.code, c.code);
          assert.equal(error.message, c.expected);
          return true;
        },
      ),
    );
  }
});

describe('resolve: the rest of the plan', () => {
  test('dependencies are marked as such, what was asked for is not; dependencies come first', () => {
    const plan = run({ ...plans[0]!, expected: '' });
    assert.deepEqual(
      plan.steps.map((s) => [s.action, s.name, s.auto, s.entry?.package.filename]),
      [
        ['install', 'b', true, 'b_2.1_all.wmopkg'],
        ['upgrade', 'c', false, 'c_1.2_all.wmopkg'],
        ['install', 'a', false, 'a_1.0_all.wmopkg'],
      ],
    );
  });

  test('asking for a package installed as a dependency marks it as asked for', () => {
    const plan = run({
      title: '',
      feed: [spec('a 1.0')],
      installed: [inst('a 1.0', {}, { auto: true })],
      requests: [install('a')],
      expected: '',
    });
    assert.deepEqual(plan.steps, []);
    assert.deepEqual(plan.marks, [{ name: 'a', auto: false }]);
  });

  test('a lost request says what it lost to', () => {
    const plan = run(plans.at(-1)!);
    assert.deepEqual(plan.lost, [
      {
        request: { kind: 'uninstall', name: 'b', priority: 40 },
        to: [{ kind: 'install', name: 'a', priority: 60 }],
      },
    ]);
  });

  test('a newer version held back is named in the plan', () => {
    const plan = run({
      title: '',
      feed: [spec('b 1.4'), spec('b 2.1', { Rollout: '10' })],
      installed: [inst('b 1.0')],
      requests: [],
      options: { upgradeAll: true, hold: rollout },
      expected: '',
    });
    assert.equal(formatPlan(plan), 'Upgrade: b 1.0 → 1.4');
    assert.deepEqual(plan.held, [{ name: 'b', version: '2.1', reason: 'rollout 10 %' }]);
  });

  test('only the part of a large universe that the job reaches is encoded', () => {
    const feed = Array.from({ length: 5000 }, (_, i) =>
      spec(`p${i} 1.0`, i > 0 ? { Depends: `p${i - 1}` } : {}),
    );
    const plan = run({
      title: '',
      feed: [...feed, spec('a 1.0', { Depends: 'p2' })],
      requests: [install('a')],
      expected: '',
    });
    assert.equal(
      formatPlan(plan),
      'Install: a 1.0, p0 1.0 (dependency of p1), p1 1.0 (dependency of p2), p2 1.0 (dependency of a)',
    );
  });
});
