// Where the updater keeps its files in the state directory.
import { join } from 'node:path';
import type { Layout } from '../state/layout.js';

/** The updater's files: configuration under `etc/updater/`, memory under `var/lib/updater/`. */
export interface UpdaterPaths {
  readonly etcDir: string;
  /** `etc/updater/requests`: explicit and recorded requests. */
  readonly requestsFile: string;
  /** `etc/updater/config`: approval, delay, reboot. */
  readonly settingsFile: string;
  readonly libDir: string;
  /** `var/lib/updater/state.json`: approvals, the pending plan, the last run. */
  readonly stateFile: string;
  /** `var/lib/updater/probes.json`: what each feed's server answered last (see probes.ts). */
  readonly probesFile: string;
  /** `var/lib/updater/current`: what `edgesh-updater` checks before it starts node (see fast-path.ts). */
  readonly currentFile: string;
}

/** The updater's paths in a device's layout. */
export function updaterPaths(layout: Layout): UpdaterPaths {
  const etcDir = join(layout.root, 'etc', 'updater');
  const libDir = join(layout.root, 'var', 'lib', 'updater');
  return {
    etcDir,
    requestsFile: join(etcDir, 'requests'),
    settingsFile: join(etcDir, 'config'),
    libDir,
    stateFile: join(libDir, 'state.json'),
    probesFile: join(libDir, 'probes.json'),
    currentFile: join(libDir, 'current'),
  };
}
