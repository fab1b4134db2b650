// What this process holds open, from /proc/self/fd: the media tests prove that nothing is left open.
import { readdir, readlink } from 'node:fs/promises';

/** Paths this process has open right now (Linux). */
export async function openPaths(): Promise<string[]> {
  const fds = await readdir('/proc/self/fd');
  const targets = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return targets.filter((t) => t.startsWith('/'));
}

/** How many descriptors of this process point at `path`. */
export async function openCount(path: string): Promise<number> {
  return (await openPaths()).filter((t) => t === path).length;
}
