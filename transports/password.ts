// Asking the operator for a password through the session's callback, the same way for every protocol.
import { formatHostPort } from './address.js';
import { TransportError } from './errors.js';
import type { OpenPhase } from './open-phase.js';
import type { TransportContext } from './types.js';

/** The prompt, as OpenSSH words it: `admin@192.0.2.1's password: `. */
export function passwordPrompt(user: string, host: string): string {
  return `${user}@${formatHostPort(host)}'s password: `;
}

/**
 * Asks `ctx.getPassword` (the connect timeout is suspended meanwhile). Without a callback nobody can
 * answer, so the login is refused with a hint instead of hanging.
 */
export async function askPassword(
  ctx: TransportContext,
  phase: OpenPhase,
  origin: string,
  user: string,
  prompt: string,
): Promise<string> {
  const getPassword = ctx.getPassword;
  if (!getPassword) {
    throw new TransportError(
      'TRANSPORT_AUTH',
      `${origin}: user ${user} needs a password and none was given (add "password …")`,
    );
  }
  return checkPassword(origin, await phase.ask(() => getPassword(prompt)));
}

/** Refuses a password that would break a line-based protocol (a line break would end the command). */
export function checkPassword(origin: string, password: string): string {
  if (/[\r\n\u0000]/.test(password)) {
    throw new TransportError('TRANSPORT_AUTH', `${origin}: the password contains a line break`);
  }
  return password;
}
