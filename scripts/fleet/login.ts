// The login side of a fleet: the wrapper that is edgesh as a login shell, and, as root, its user and /etc/shells.
import { execFile } from 'node:child_process';
import { access, constants, cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const SHELLS = '/etc/shells';

/**
 * The login shell: a wrapper, because /etc/shells needs one executable path and node needs the
 * script. `EDGESH_DEVICE` comes from sshd (`SetEnv`). As `ForceCommand` (without root) sshd runs it
 * through the user's own shell with the client's command in `SSH_ORIGINAL_COMMAND`: it becomes `-c`,
 * which is what sshd passes a login shell.
 */
export function wrapperScript(node: string, app: string): string {
  return `#!/bin/sh
# edgesh as the login shell of a simulated fleet device (written by npm run fleet)
if [ "$#" -eq 0 ] && [ -n "\${SSH_ORIGINAL_COMMAND:-}" ]; then set -- -c "$SSH_ORIGINAL_COMMAND"; fi
exec '${node}' '${join(app, 'dist', 'bin', 'edgesh-start.cjs')}' "$@"
`;
}

/** Writes the wrapper to `path` (mode 755). */
export async function writeWrapper(path: string, node: string, app: string): Promise<void> {
  await writeFile(path, wrapperScript(node, app), { mode: 0o755 });
}

/** The uid and gid of `user`, or undefined when there is no such user. */
export async function userIds(user: string): Promise<{ uid: number; gid: number } | undefined> {
  try {
    const { stdout } = await run('id', ['-u', user]);
    const { stdout: g } = await run('id', ['-g', user]);
    return { uid: Number(stdout.trim()), gid: Number(g.trim()) };
  } catch {
    return undefined;
  }
}

/**
 * Root mode: the fleet's login user, with `shell` as its login shell and `home` as its home; created
 * when missing (then `created` is true). A `*` password is "no password", not a locked account:
 * sshd (without PAM) refuses every login of a locked one, keys included.
 */
export async function ensureUser(
  user: string,
  shell: string,
  home: string,
): Promise<{ uid: number; gid: number; created: boolean }> {
  let ids = await userIds(user);
  const created = ids === undefined;
  if (created)
    await run('useradd', ['--system', '--no-create-home', '--home-dir', home, '--shell', shell, user]);
  await run('usermod', ['--home', home, '--shell', shell, '--password', '*', user]);
  ids = await userIds(user);
  if (ids === undefined) throw new Error(`user ${user} could not be created`);
  return { ...ids, created };
}

/** Deletes the fleet's login user (its home lies in the fleet's directory and stays). */
export async function deleteUser(user: string): Promise<void> {
  if ((await userIds(user)) === undefined) return;
  await run('userdel', [user]);
}

/** Adds `shell` to /etc/shells (sshd refuses a login whose shell is not listed). */
export async function addShell(shell: string): Promise<void> {
  const text = await readFile(SHELLS, 'utf8').catch(() => '');
  if (text.split('\n').includes(shell)) return;
  await writeFile(SHELLS, `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${shell}\n`);
}

/** Removes `shell` from /etc/shells. */
export async function removeShell(shell: string): Promise<void> {
  const text = await readFile(SHELLS, 'utf8').catch(() => undefined);
  if (text === undefined || !text.split('\n').includes(shell)) return;
  await writeFile(
    SHELLS,
    text
      .split('\n')
      .filter((line) => line !== shell)
      .join('\n'),
  );
}

/**
 * The program as `user` can run it: the repository in place when `user` can read it and run node,
 * else a copy of `dist/`, `node_modules/` and `package.json` in `into` (hard links where the file
 * system allows), readable by everyone.
 */
export async function appFor(user: string, repo: string, node: string, into: string): Promise<string> {
  const probe = `test -x '${node}' && test -r '${join(repo, 'dist/bin/edgesh-start.cjs')}' && test -r '${join(repo, 'node_modules/vorpal/package.json')}'`;
  try {
    await run('su', ['-s', '/bin/sh', '-c', probe, user]);
    return repo;
  } catch {
    await mkdir(into, { recursive: true, mode: 0o755 });
    for (const part of ['dist', 'node_modules', 'package.json']) {
      try {
        await run('cp', ['-al', join(repo, part), into]);
      } catch {
        await cp(join(repo, part), join(into, part), { recursive: true });
      }
    }
    return into;
  }
}

/**
 * Fails with a clear message when `user` cannot reach `dir` (a parent directory it may not search, such
 * as a home directory of mode 0700): sshd reads the fleet's authorized_keys and edgesh opens the
 * device there as that user.
 */
export async function checkReachable(user: string, dir: string): Promise<void> {
  try {
    await run('su', ['-s', '/bin/sh', '-c', `test -x '${dir}'`, user]);
  } catch {
    throw new Error(
      `${dir} is not reachable for user ${user} (a parent directory is not searchable): choose another --dir`,
    );
  }
}

/** Whether the process runs as root (may create users, bind port 22 on 127.0.1.K). */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Whether `path` exists. */
export async function exists(path: string): Promise<boolean> {
  return access(path, constants.F_OK).then(
    () => true,
    () => false,
  );
}
