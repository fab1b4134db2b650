// Where everything lives in the device state directory (SPEC §4.1), in one place.
import { join, resolve } from 'node:path';
import type { DevicePaths } from '../api.js';

/** How reasons and messages name the revocation list (SPEC §4.1's path, relative to the device). */
export const REVOKED_LIST_NAME = 'etc/wmopkg/revoked';

/** Every path of the state directory the device uses; `DevicePaths` is the public part. */
export interface Layout extends DevicePaths {
  readonly deviceFile: string;
  /** Present while the device is being created (before `device.json`, the mark of a complete device). */
  readonly creatingFile: string;
  readonly bootDir: string;
  readonly bootConfigFile: string;
  readonly wmopkgDir: string;
  readonly sshDir: string;
  readonly storeDir: string;
  readonly logDir: string;
  /** The activation database: `active/NAME.json` per active package. */
  readonly libDir: string;
  readonly activeDir: string;
  /** Originals of rootfs files that packages overwrote: `backup/NAME/PATH`. */
  readonly backupDir: string;
  /** The one activation or deactivation in progress: `plan.json`, `stage/`, `undo/`, `scripts/`. */
  readonly txnDir: string;
  /** The firmware slots: `a/` and `b/`, each a root file system with its activation records. */
  readonly firmwareDir: string;
  /** `firmware/current`: a symlink to the slot that runs; `rootfs`, `activeDir`, `backupDir` go through it. */
  readonly currentSlotLink: string;
  /** `firmware/switch.json`: a firmware switch in progress (completed or undone by recovery). */
  readonly firmwareJournal: string;
  /** Packages of the backup taken out of the system by a removal package (`cfg/backup/NAME/`). */
  readonly backupStoreDir: string;
  /** Journal of multi-package operations (remove all, factory reset). */
  readonly journalFile: string;
  /** What the last boot did. */
  readonly lastBootFile: string;
  /** The configured feeds (`feed [persistent] NAME URL`, one per line). */
  readonly feedsFile: string;
  /** The kept index of each feed: `feeds/NAME/`. */
  readonly feedsDir: string;
  readonly lockDir: string;
  readonly lockFile: string;
}

/** The layout of the state directory `dir`. */
export function layoutOf(dir: string): Layout {
  const root = resolve(dir);
  const libDir = join(root, 'var', 'lib', 'wmopkg');
  const lockDir = join(root, 'var', 'lock');
  return {
    root,
    deviceFile: join(root, 'device.json'),
    creatingFile: join(root, '.creating'),
    bootDir: join(root, 'boot'),
    bootConfigFile: join(root, 'boot', 'config'),
    wmopkgDir: join(root, 'etc', 'wmopkg'),
    keysDir: join(root, 'etc', 'wmopkg', 'keys'),
    revokedFile: join(root, 'etc', 'wmopkg', 'revoked'),
    sshDir: join(root, 'etc', 'ssh'),
    knownHostsFile: join(root, 'etc', 'ssh', 'known_hosts'),
    caDir: join(root, 'etc', 'ssl', 'certs'),
    storeDir: join(root, 'cfg', 'packages'),
    backupStoreDir: join(root, 'cfg', 'backup'),
    firmwareDir: join(root, 'firmware'),
    currentSlotLink: join(root, 'firmware', 'current'),
    firmwareJournal: join(root, 'firmware', 'switch.json'),
    rootfs: join(root, 'rootfs'),
    logDir: join(root, 'var', 'log'),
    logFile: join(root, 'var', 'log', 'packages.log'),
    runtimeDir: join(root, 'var', 'lib', 'edgesh'),
    usbStick: join(root, 'media', 'usb0'),
    libDir,
    activeDir: join(libDir, 'active'),
    backupDir: join(libDir, 'backup'),
    txnDir: join(libDir, 'txn'),
    journalFile: join(libDir, 'journal.json'),
    lastBootFile: join(libDir, 'boot.json'),
    feedsFile: join(root, 'etc', 'wmopkg', 'feeds'),
    feedsDir: join(libDir, 'feeds'),
    lockDir,
    lockFile: join(lockDir, 'device.lock'),
  };
}
