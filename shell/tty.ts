// The interactive front-end on vorpal (placeholder until written).
import type { Session } from './session.js';

/** Runs the interactive shell until exit; resolves with the exit status. */
export async function runTty(_session: Session): Promise<number> {
  return 0;
}
