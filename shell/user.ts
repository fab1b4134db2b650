// Who is at the CLI (SPEC §3.7): `--user`, else the OS user, else what sshd or login put in the environment.
import { userInfo } from 'node:os';

/** The CLI user name: the default `user` for transports and the holder name in lock messages. */
export function cliUser(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit !== undefined && explicit !== '') return explicit;
  try {
    const name = userInfo().username;
    if (name !== '') return name;
  } catch {
    // No passwd entry for this uid (a container): fall back to the environment.
  }
  return env.USER || env.LOGNAME || 'admin';
}

/** This session's id as the device shows it to another session waiting for the lock. */
export function sessionId(env: NodeJS.ProcessEnv = process.env): string {
  const ssh = env.SSH_CONNECTION?.split(' ')[0];
  return ssh === undefined ? `pid ${process.pid}` : `pid ${process.pid}, ssh from ${ssh}`;
}
