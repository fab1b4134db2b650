// The lab's terminal driver (lab/pty.ts) in the test environment: the device services of test/helpers/world.ts.
import { PtyShell as LabPty } from '../../lab/pty.js';
import { testEnv } from './run-edgesh.js';

/** One interactive edgesh in a pty, in the test environment (`testEnv`) plus `env` unless `base` is given. */
export class PtyShell extends LabPty {
  constructor(
    args: readonly string[],
    env: Readonly<Record<string, string>> = {},
    program?: readonly [string, readonly string[]],
    base?: NodeJS.ProcessEnv,
  ) {
    super(args, env, program, base ?? testEnv());
  }
}
