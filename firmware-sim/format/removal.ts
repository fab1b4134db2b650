// Removal packages (KerOS's "removal package"): a signed package whose only effect is to remove another one.
import { isPackageName, PACKAGE_NAME_RULE } from '../../common/package-name.js';
import { shown } from '../../common/text.js';
import { FormatError } from './errors.js';
import { REMOVE_BACKUP_FIELD, REMOVE_PACKAGE_FIELD } from './kinds.js';
import type { PackageSpec } from './writer.js';

/** `hello-remove`, or `hello-remove-backup` when it also takes the package out of the backup. */
export function removalPackageName(target: string, backup: boolean): string {
  const name = `${target}-remove${backup ? '-backup' : ''}`;
  if (!isPackageName(target) || !isPackageName(name)) {
    throw new FormatError(
      'WMOPKG_BUILD',
      `bad package name "${shown(target)}": use ${PACKAGE_NAME_RULE} (with -remove${backup ? '-backup' : ''} added, at most 64 characters)`,
    );
  }
  return name;
}

/** What `removalPackageSpec` needs besides the target. */
export interface RemovalOptions {
  /** Also remove it from the backup, even when it is persistent. */
  readonly backup: boolean;
  /** Seconds since the epoch for every timestamp. */
  readonly mtime: number;
  /** The `Maintainer` field (default: the signer, as the key's comment names it). */
  readonly maintainer: string;
}

/**
 * The spec of a removal package for `target`: `Tags: removal`, `Remove-Package: target`,
 * `Remove-Backup: yes|no`, no files and no maintainer scripts (the device takes the package out the way
 * it takes out any package, so no hand-written `postrm` is needed). Sign it when writing.
 */
export function removalPackageSpec(target: string, options: RemovalOptions): Omit<PackageSpec, 'sign'> {
  const name = removalPackageName(target, options.backup);
  const scope = options.backup ? ' and from the backup' : '';
  return {
    control: [
      ['Package', name],
      ['Version', '1'],
      ['Architecture', 'all'],
      ['Maintainer', options.maintainer],
      ['Section', 'admin'],
      ['Tags', 'removal'],
      [REMOVE_PACKAGE_FIELD, target],
      [REMOVE_BACKUP_FIELD, options.backup ? 'yes' : 'no'],
      [
        'Description',
        `Removes package ${target}${scope}\n Installed like any package (over the network or from a USB stick), it removes\n ${target} at the next boot${scope}. It is never listed as installed.`,
      ],
    ],
    data: [{ name: './', type: 'directory', mode: 0o755 }],
    mtime: options.mtime,
  };
}
