// Fault injection for crash-safety tests: the one place that reads EDGESH_DEVICE_FAULT.
import { appendFileSync } from 'node:fs';

/**
 * `EDGESH_DEVICE_FAULT` selects what happens when the code passes a named point:
 * - `kill:N` — the process SIGKILLs itself at the Nth point passed (any name), counted from 1;
 * - `kill:PREFIX:N` — at the Nth point whose name starts with PREFIX;
 * - `enospc:PREFIX[:N]` — the Nth point starting with PREFIX throws ENOSPC, as a full disk would;
 * - `erofs:PREFIX[:N]`, `eio:PREFIX[:N]` — the same with EROFS (a read-only mount) or EIO;
 * - `trace:FILE` — every point passed appends its name as a line to FILE.
 * Unset (the normal case), a point costs one property lookup.
 */
const VARIABLE = 'EDGESH_DEVICE_FAULT';

interface Plan {
  readonly action: 'kill' | 'enospc' | 'erofs' | 'eio' | 'trace';
  readonly prefix: string;
  readonly nth: number;
  readonly file: string;
}

let parsedFrom: string | undefined;
let plan: Plan | undefined;
let hits = 0;

function currentPlan(): Plan | undefined {
  const text = process.env[VARIABLE];
  if (text === parsedFrom) return plan;
  parsedFrom = text;
  hits = 0;
  plan = text ? parsePlan(text) : undefined;
  return plan;
}

function parsePlan(text: string): Plan | undefined {
  const [action, ...rest] = text.split(':');
  if (action === 'trace') return { action, prefix: '', nth: 0, file: rest.join(':') };
  if (action !== 'kill' && action !== 'enospc' && action !== 'erofs' && action !== 'eio') return undefined;
  const last = rest.at(-1);
  const numbered = last !== undefined && /^[0-9]+$/.test(last);
  const nth = numbered ? Number(last) : 1;
  const prefix = (numbered ? rest.slice(0, -1) : rest).join(':');
  return { action, prefix, nth, file: '' };
}

const INJECTED = {
  enospc: { code: 'ENOSPC', text: 'no space left on device' },
  erofs: { code: 'EROFS', text: 'read-only file system' },
  eio: { code: 'EIO', text: 'i/o error' },
} as const;

/**
 * Marks a point where a crash or a full disk is worth testing; `path`, when given, is the file the
 * step is writing (an injected error names it, as a real one would).
 */
export function faultPoint(name: string, path?: string): void {
  const active = currentPlan();
  if (active === undefined) return;
  if (active.action === 'trace') {
    appendFileSync(active.file, `${name}\n`);
    return;
  }
  if (!name.startsWith(active.prefix)) return;
  hits++;
  if (hits !== active.nth) return;
  if (active.action === 'kill') process.kill(process.pid, 'SIGKILL');
  const { code, text } = INJECTED[active.action as keyof typeof INJECTED];
  const error = new Error(`${code}: ${text}, injected at ${name}`) as NodeJS.ErrnoException;
  error.code = code;
  if (path !== undefined) error.path = path;
  throw error;
}
