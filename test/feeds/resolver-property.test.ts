// Property tests of the resolver on generated repositories, against a brute-force search.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  FeedError,
  type InstalledPackage,
  offers,
  type Plan,
  type Relations,
  type Request,
  resolve,
} from '../../firmware-sim/feeds/index.js';
import { compareVersions, type Dependency } from '../../firmware-sim/format/index.js';
import { type Fields, installedPackage, spec, universeOf } from '../helpers/feed-fixtures.js';

const NAMES = ['a', 'b', 'c', 'd', 'e'];
const VIRTUAL = ['v', 'w'];
const VERSIONS = ['1', '2', '3'];
const RELATIONS = ['<<', '<=', '=', '>=', '>>'];

const atom = fc
  .tuple(
    fc.constantFrom(...NAMES, ...VIRTUAL),
    fc.option(fc.tuple(fc.constantFrom(...RELATIONS), fc.constantFrom(...VERSIONS)), { nil: undefined }),
  )
  .map(([name, rel]) => (rel === undefined ? name : `${name} (${rel[0]} ${rel[1]})`));
const group = fc.array(atom, { minLength: 1, maxLength: 2 }).map((alts) => alts.join(' | '));
const plainAtom = fc.constantFrom(...NAMES, ...VIRTUAL);
const provide = fc
  .tuple(fc.constantFrom(...VIRTUAL), fc.option(fc.constantFrom(...VERSIONS), { nil: undefined }))
  .map(([name, version]) => (version === undefined ? name : `${name} (= ${version})`));

const relationFields = fc.record(
  {
    Depends: fc.array(group, { minLength: 1, maxLength: 2 }).map((g) => g.join(', ')),
    Conflicts: plainAtom,
    Provides: provide,
  },
  { requiredKeys: [] },
);

const stanza = fc
  .tuple(fc.constantFrom(...NAMES), fc.constantFrom(...VERSIONS), relationFields)
  .map(([name, version, fields]) => spec(`${name} ${version}`, fields as Fields));

const installedGen = fc.uniqueArray(
  fc.tuple(fc.constantFrom(...NAMES), fc.constantFrom(...VERSIONS), relationFields, fc.boolean()),
  { selector: ([name]) => name, maxLength: 3 },
);

const requestGen: fc.Arbitrary<Request> = fc
  .tuple(
    fc.constantFrom(...NAMES),
    fc.option(fc.tuple(fc.constantFrom('<<', '<=', '=', '>=', '>>' as const), fc.constantFrom(...VERSIONS)), {
      nil: undefined,
    }),
  )
  .map(([name, c]) =>
    c === undefined
      ? { kind: 'install', name }
      : { kind: 'install', name, constraint: { relation: c[0] as '>=', version: c[1] } },
  );

/** A version of a package as the brute force sees it. */
interface Option extends Relations {
  readonly name: string;
  readonly version: string;
  readonly installed: boolean;
}

function optionsOf(feed: readonly Fields[], installed: readonly InstalledPackage[]): Map<string, Option[]> {
  const byName = new Map<string, Option[]>();
  const add = (option: Option) => {
    const list = byName.get(option.name) ?? [];
    if (!list.some((o) => o.version === option.version)) list.push(option);
    byName.set(option.name, list);
  };
  // The installed version's own relations count for it, as in the resolver.
  for (const pkg of installed) add({ ...pkg, installed: true });
  for (const pkg of universeOf(feed).entries()) add({ ...pkg.package, installed: false });
  return byName;
}

function consistent(chosen: readonly Option[]): boolean {
  for (const pkg of chosen) {
    for (const g of pkg.depends) if (!g.some((dep) => chosen.some((o) => offers(o, dep)))) return false;
    for (const dep of pkg.conflicts)
      if (chosen.some((o) => o.name !== pkg.name && offers(o, dep))) return false;
  }
  return true;
}

function meets(request: Request, chosen: readonly Option[]): boolean {
  if (request.kind !== 'install') return true;
  const dep: Dependency = { name: request.name, ...(request.constraint ?? {}) };
  return chosen.some((o) => o.name === request.name && offers(o, dep));
}

/** Every consistent assignment (each name absent or at one version) that meets the requests. */
function bruteForce(byName: Map<string, Option[]>, requests: readonly Request[]): Option[][] {
  const names = [...byName.keys()];
  const solutions: Option[][] = [];
  const walk = (i: number, chosen: Option[]) => {
    if (i === names.length) {
      if (consistent(chosen) && requests.every((r) => meets(r, chosen))) solutions.push([...chosen]);
      return;
    }
    walk(i + 1, chosen);
    for (const option of byName.get(names[i]!)!) walk(i + 1, [...chosen, option]);
  };
  walk(0, []);
  return solutions;
}

/** Solutions that meet install requests and leave uninstalled names out. */
function bruteForceWith(byName: Map<string, Option[]>, requests: readonly Request[]): Option[][] {
  return bruteForce(byName, requests).filter((s) =>
    requests.every((r) => r.kind !== 'uninstall' || !s.some((o) => o.name === r.name)),
  );
}

/** The packages installed after a plan, each with the relations of the version it has then. */
function after(plan: Plan, installed: readonly InstalledPackage[], byName: Map<string, Option[]>): Option[] {
  const result = new Map<string, Option>(installed.map((pkg) => [pkg.name, { ...pkg, installed: true }]));
  for (const step of plan.steps) {
    if (step.action === 'remove') result.delete(step.name);
    else {
      const option = byName.get(step.name)!.find((o) => o.version === step.version && !o.installed);
      assert.ok(option, `${step.name} ${step.version} is in the feed`);
      result.set(step.name, option);
    }
  }
  return [...result.values()];
}

const world = fc.record({
  feed: fc.array(stanza, { maxLength: 9 }),
  installed: installedGen.map((list) =>
    list.map(([name, version, fields, auto]) =>
      installedPackage(`${name} ${version}`, fields as Fields, { auto }),
    ),
  ),
  requests: fc.array(requestGen, { minLength: 1, maxLength: 2 }),
  policy: fc.record({ upgradeAll: fc.boolean(), autoremove: fc.boolean() }),
});

const DEVICE = { architectures: ['arm64'] };

describe('resolver properties (generated repositories, brute force)', () => {
  test('a plan meets every Depends and no Conflicts; when a solution exists, the resolver finds one (any policy)', () => {
    fc.assert(
      fc.property(world, ({ feed, installed, requests, policy }) => {
        const byName = optionsOf(feed, installed);
        // Equal priorities: the resolver must satisfy every request or say they contradict.
        const solutions = bruteForce(byName, requests);
        let plan: Plan;
        try {
          plan = resolve(universeOf(feed), installed, requests, { ...DEVICE, ...policy });
        } catch (error) {
          assert.ok(error instanceof FeedError, String(error));
          assert.ok(['FEED_UNRESOLVABLE', 'FEED_REQUEST_CONFLICT'].includes(error.code));
          assert.equal(
            solutions.length,
            0,
            `the resolver failed (${error.message}), brute force found a solution`,
          );
          return;
        }
        assert.ok(solutions.length > 0, 'the resolver found a plan where brute force found none');
        const state = after(plan, installed, byName);
        assert.ok(consistent(state), `the plan leaves an inconsistent state: ${JSON.stringify(plan.steps)}`);
        for (const request of requests) assert.ok(meets(request, state), 'every request is met');
      }),
      { numRuns: 200 },
    );
  });

  test('nothing installed is removed when a solution keeps it all; the requested version is then the newest possible', () => {
    fc.assert(
      fc.property(world, ({ feed, installed, requests }) => {
        const request = requests[0]!;
        const byName = optionsOf(feed, installed);
        const keepAll = bruteForce(byName, [request]).filter((s) =>
          installed.every((pkg) => s.some((o) => o.name === pkg.name)),
        );
        if (keepAll.length === 0) return;
        const plan = resolve(universeOf(feed), installed, [request], DEVICE);
        assert.deepEqual(
          plan.steps.filter((s) => s.action === 'remove'),
          [],
        );
        const newest = keepAll
          .map((s) => s.find((o) => o.name === request.name)!.version)
          .sort(compareVersions)
          .at(-1)!;
        const state = after(plan, installed, byName);
        assert.equal(state.find((o) => o.name === request.name)?.version, newest);
      }),
      { numRuns: 80 },
    );
  });

  test('requests of different priorities: the winners are met; a lost one really cannot be met with what it lost to', () => {
    const prioritized = fc
      .uniqueArray(fc.tuple(fc.constantFrom(...NAMES), fc.boolean(), fc.integer({ min: 1, max: 99 })), {
        selector: ([, , p]) => p,
        minLength: 2,
        maxLength: 3,
      })
      .map((list) =>
        list.map(
          ([name, install, priority]): Request =>
            install ? { kind: 'install', name, priority } : { kind: 'uninstall', name, priority },
        ),
      );
    fc.assert(
      fc.property(world, prioritized, ({ feed, installed }, requests) => {
        const byName = optionsOf(feed, installed);
        let plan: Plan;
        try {
          plan = resolve(universeOf(feed), installed, requests, DEVICE);
        } catch (error) {
          // Only a request impossible on its own fails a run with distinct priorities.
          assert.ok(error instanceof FeedError && error.code === 'FEED_UNRESOLVABLE', String(error));
          assert.ok(requests.some((r) => bruteForceWith(byName, [r]).length === 0));
          return;
        }
        const state = after(plan, installed, byName);
        assert.ok(consistent(state));
        const lost = new Set(plan.lost.map((l) => l.request));
        for (const request of requests) {
          if (lost.has(request)) continue;
          assert.ok(
            request.kind === 'install' ? meets(request, state) : !state.some((o) => o.name === request.name),
          );
        }
        for (const { request, to } of plan.lost) {
          assert.ok(to.every((winner) => (winner.priority ?? 50) > (request.priority ?? 50)));
          assert.equal(bruteForceWith(byName, [request, ...to]).length, 0, 'it could have been met');
        }
      }),
      { numRuns: 80 },
    );
  });

  test('the unchecked first pass gives exactly what the solver-checked resolver gives', () => {
    fc.assert(
      fc.property(world, ({ feed, installed, requests, policy }) => {
        const outcome = (alwaysSolve: boolean) => {
          try {
            const plan = resolve(universeOf(feed), installed, requests, {
              ...DEVICE,
              ...policy,
              alwaysSolve,
            });
            return JSON.stringify([
              plan.steps.map((s) => [s.action, s.name, s.version, s.auto, s.reason]),
              plan.lost,
              plan.marks,
            ]);
          } catch (error) {
            return (error as Error).message;
          }
        };
        assert.equal(outcome(false), outcome(true));
      }),
      { numRuns: 150 },
    );
  });

  test('every package the plan installs is there for a reason: asked for, a dependency, or recommended', () => {
    fc.assert(
      fc.property(world, ({ feed, installed, requests }) => {
        let plan: Plan;
        try {
          plan = resolve(universeOf(feed), installed, requests, DEVICE);
        } catch {
          return;
        }
        const installs = plan.steps.filter((s) => s.action === 'install');
        const names = new Set(installs.map((s) => s.name));
        for (const step of installs) {
          assert.ok(['requested', 'dependency', 'recommended'].includes(step.reason.kind));
          if (step.reason.kind === 'dependency') {
            const parent = step.reason.of;
            assert.ok(
              names.has(parent) ||
                installed.some((p) => p.name === parent) ||
                plan.steps.some((s) => s.name === parent),
            );
          }
        }
      }),
      { numRuns: 60 },
    );
  });
});
