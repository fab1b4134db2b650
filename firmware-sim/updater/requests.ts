// The request store (`etc/updater/requests`): explicit and recorded requests, one per line, as the commands that set them.
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../../common/atomic.js';
import { isPackageName, PACKAGE_NAME_RULE } from '../../common/package-name.js';
import { shown } from '../../common/text.js';
import { DeviceError } from '../errors.js';
import { parseVersion } from '../format/index.js';
import type { ConstraintRelation, RequestSource, UpdaterRequest, VersionConstraint } from './types.js';

/** Priority of a request when none is given (Turris's default). */
export const DEFAULT_PRIORITY = 50;
/** Priorities run from 0 to 100, as Turris's. */
const MAX_PRIORITY = 100;

/** A request as stored: explicit (the updater context) or recorded (`package install NAME` from a feed). */
export interface StoredRequest {
  readonly kind: 'install' | 'uninstall';
  readonly name: string;
  readonly constraint?: VersionConstraint;
  readonly priority: number;
  readonly source: Exclude<RequestSource, 'local'>;
}

/** Where messages say the requests live. */
const REQUESTS_NAME = 'etc/updater/requests';

const RELATIONS: readonly ConstraintRelation[] = ['<<', '<=', '=', '>=', '>>'];

/** Checks the parts of a request; returns the problem in words, or `undefined`. */
export function requestProblem(request: {
  readonly kind: string;
  readonly name: string;
  readonly constraint?: VersionConstraint;
  readonly priority: number;
}): string | undefined {
  if (request.kind !== 'install' && request.kind !== 'uninstall')
    return `unknown request "${shown(request.kind)}"`;
  if (!isPackageName(request.name))
    return `bad package name "${shown(request.name)}": use ${PACKAGE_NAME_RULE}`;
  if (!Number.isInteger(request.priority) || request.priority < 0 || request.priority > MAX_PRIORITY) {
    return `bad priority ${request.priority}: use a whole number from 0 to ${MAX_PRIORITY}`;
  }
  if (request.constraint !== undefined) {
    if (request.kind !== 'install') return 'only an install request takes a version';
    if (!RELATIONS.includes(request.constraint.relation)) {
      return `bad version relation "${shown(request.constraint.relation)}": use one of ${RELATIONS.join(' ')}`;
    }
    try {
      parseVersion(request.constraint.version);
    } catch (error) {
      return (error as Error).message;
    }
  }
  return undefined;
}

/** A request as a line of the file (and as the command that sets it): `install a version >= 2.0 priority 60`. */
export function formatRequestLine(request: StoredRequest): string {
  const parts: string[] = request.source === 'package' ? ['recorded'] : [];
  parts.push(request.kind, request.name);
  if (request.constraint) parts.push('version', request.constraint.relation, request.constraint.version);
  if (request.priority !== DEFAULT_PRIORITY) parts.push('priority', String(request.priority));
  return parts.join(' ');
}

/** Parses one line of the file; throws a message naming what is wrong. */
function parseLine(line: string): StoredRequest {
  const words = line.trim().split(/\s+/);
  let source: StoredRequest['source'] = 'explicit';
  if (words[0] === 'recorded') {
    source = 'package';
    words.shift();
  }
  const [kind, name, ...rest] = words;
  if (kind === undefined || name === undefined)
    throw new Error('expected "install NAME" or "uninstall NAME"');
  let constraint: VersionConstraint | undefined;
  let priority = DEFAULT_PRIORITY;
  for (let i = 0; i < rest.length; ) {
    const word = rest[i];
    if (word === 'version' && constraint === undefined && rest[i + 2] !== undefined) {
      constraint = { relation: rest[i + 1] as ConstraintRelation, version: rest[i + 2]! };
      i += 3;
    } else if (word === 'priority' && rest[i + 1] !== undefined && /^[0-9]{1,3}$/.test(rest[i + 1]!)) {
      priority = Number(rest[i + 1]);
      i += 2;
    } else {
      throw new Error(`unexpected "${shown(word ?? '')}"`);
    }
  }
  const request: StoredRequest = {
    kind: kind as StoredRequest['kind'],
    name,
    ...(constraint ? { constraint } : {}),
    priority,
    source,
  };
  const problem = requestProblem(request);
  if (problem !== undefined) throw new Error(problem);
  return request;
}

/**
 * Parses the file. Any line it cannot read stops everything (`DEVICE_CORRUPT_STATE`, naming the
 * line): a request lost to a damaged file would make the updater remove a package as not requested.
 */
export function parseRequests(text: string, name = REQUESTS_NAME): StoredRequest[] {
  const out: StoredRequest[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    try {
      out.push(parseLine(line));
    } catch (error) {
      throw new DeviceError(
        'DEVICE_CORRUPT_STATE',
        `${name} line ${index + 1}: ${(error as Error).message}; the updater does nothing until the line is fixed or removed`,
      );
    }
  }
  return out;
}

/** Formats the file: explicit requests first, then recorded ones, each by name. */
export function formatRequests(requests: readonly StoredRequest[]): string {
  const order = (r: StoredRequest) => (r.source === 'explicit' ? 0 : 1);
  const sorted = [...requests].sort(
    (a, b) => order(a) - order(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  return [
    '# Requests of the updater, one per line: explicit ones (updater context) and those recorded by',
    '# package install NAME. Written by the device; see docs/updater.md.',
    ...sorted.map(formatRequestLine),
    '',
  ].join('\n');
}

/** Reads the stored requests; none when the file does not exist. */
export async function readRequests(file: string): Promise<StoredRequest[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return parseRequests(text);
}

/** Writes the stored requests atomically. */
export async function writeRequests(file: string, requests: readonly StoredRequest[]): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFileAtomic(file, formatRequests(requests));
}

/** A package installed from a file: it becomes a local request for its version. */
export interface LocalPackage {
  readonly name: string;
  readonly version: string;
}

/**
 * Every request by name, in the order the plan weighs them: an explicit request about a name
 * overrides a recorded one, which overrides a local one (those it overrides are listed `shadowed`).
 * Sorted by name, explicit before recorded before local within a name.
 */
export function effectiveRequests(
  stored: readonly StoredRequest[],
  local: readonly LocalPackage[],
): UpdaterRequest[] {
  const rank: Record<RequestSource, number> = { explicit: 0, package: 1, local: 2 };
  const all: UpdaterRequest[] = [
    ...stored.map((r) => ({ ...r })),
    ...local.map(
      (pkg): UpdaterRequest => ({
        kind: 'install',
        name: pkg.name,
        constraint: { relation: '=', version: pkg.version },
        priority: DEFAULT_PRIORITY,
        source: 'local',
      }),
    ),
  ];
  all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : rank[a.source] - rank[b.source]));
  const seen = new Set<string>();
  return all.map((request) => {
    const shadowed = seen.has(request.name);
    seen.add(request.name);
    return shadowed ? { ...request, shadowed: true } : request;
  });
}

/**
 * Records `install NAME` for a package the operator installed by name from a feed (`package install
 * NAME`), as Turris records `opkg install`; an explicit request about the name stays as it is. The
 * caller holds the device lock. Returns whether it was new.
 */
export async function recordRequest(file: string, name: string): Promise<boolean> {
  const stored = await readRequests(file);
  if (stored.some((r) => r.source === 'package' && r.name === name)) return false;
  await writeRequests(file, [
    ...stored,
    { kind: 'install', name, priority: DEFAULT_PRIORITY, source: 'package' },
  ]);
  return true;
}

/**
 * Drops the recorded request of a package the operator removed (`package remove`); an explicit
 * request stays (the operator set it in the updater context). Returns the explicit request left
 * about the name, if any, so that the caller can say the updater will act on it. The caller holds
 * the device lock.
 */
export async function dropRecordedRequest(file: string, name: string): Promise<StoredRequest | undefined> {
  const stored = await readRequests(file).catch(() => undefined);
  if (stored === undefined) return undefined;
  const kept = stored.filter((r) => !(r.source === 'package' && r.name === name));
  if (kept.length < stored.length) await writeRequests(file, kept);
  return kept.find((r) => r.name === name);
}
