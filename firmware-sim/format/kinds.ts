// What a control file says a package is (`Tags: firmware`, `hotfix`, `removal`) and the fields each kind needs.
import { isPackageName, PACKAGE_NAME_RULE } from '../../common/package-name.js';
import { shown } from '../../common/text.js';
import type { ControlFile } from './control.js';
import { type Dependency, parseDepends } from './depends.js';
import { FormatError } from './errors.js';

/**
 * - `package`: a package like any other (the default);
 * - `firmware`: carries the firmware itself, its `Version` the firmware version; switches the slot;
 * - `hotfix`: bound to one firmware version (`Depends: firmware (= V)`), removed when it changes;
 * - `removal`: its only effect is to remove the package `Remove-Package` names.
 */
export type PackageKind = 'package' | 'firmware' | 'hotfix' | 'removal';

/** The tags that make a package one of the special kinds; at most one of them per package. */
export const KIND_TAGS = ['firmware', 'hotfix', 'removal'] as const;

/** The control field of a removal package that names the package to remove. */
export const REMOVE_PACKAGE_FIELD = 'Remove-Package';
/** `yes` when the removal package also takes the package out of the backup. */
export const REMOVE_BACKUP_FIELD = 'Remove-Backup';

/** The words of `Tags:` (comma or blank separated, lower-cased), in order. */
export function tagsOf(control: ControlFile): string[] {
  const value = control.get('Tags');
  if (value === undefined) return [];
  return value
    .split(/[\s,]+/)
    .map((tag) => tag.trim().toLowerCase())
    .filter((tag) => tag !== '');
}

/** The kind of a package; two kind tags at once (`Tags: firmware, hotfix`) are a `WMOPKG_BAD_CONTROL`. */
export function packageKind(control: ControlFile): PackageKind {
  const kinds = tagsOf(control).filter((tag): tag is (typeof KIND_TAGS)[number] =>
    (KIND_TAGS as readonly string[]).includes(tag),
  );
  const distinct = [...new Set(kinds)];
  if (distinct.length > 1) {
    throw new FormatError(
      'WMOPKG_BAD_CONTROL',
      `control: Tags names ${distinct.join(' and ')}; a package is at most one of firmware, hotfix, removal`,
    );
  }
  return distinct[0] ?? 'package';
}

/** The `Depends` entries that name `firmware`, each group of one alternative (`firmware (= 5.26.0)`). */
function firmwareDependencies(control: ControlFile): Dependency[][] {
  const depends = control.get('Depends');
  if (depends === undefined) return [];
  return parseDepends(depends)
    .filter((group) => group.some((dep) => dep.name === 'firmware'))
    .map((group) => [...group]);
}

/**
 * The firmware version a hotfix is bound to: its one `Depends: firmware (= V)`. Throws
 * `WMOPKG_BAD_CONTROL` saying what is missing when the package does not name exactly one version.
 */
export function hotfixFirmware(control: ControlFile): string {
  const groups = firmwareDependencies(control);
  const exact = groups.filter((g) => g.length === 1 && g[0]!.relation === '=');
  if (groups.length !== 1 || exact.length !== 1) {
    throw new FormatError(
      'WMOPKG_BAD_CONTROL',
      `control: a hotfix must depend on exactly one firmware version (Depends: firmware (= VERSION))${
        groups.length === 0 ? '' : `, not "${shown(control.get('Depends') ?? '')}"`
      }`,
    );
  }
  return exact[0]![0]!.version!;
}

/** What a removal package removes. */
export interface Removal {
  readonly target: string;
  /** Also out of the backup (made with `wmopkg removal --backup`). */
  readonly backup: boolean;
}

/** The package a removal package removes; throws `WMOPKG_BAD_CONTROL` when its fields are missing or wrong. */
export function removalOf(control: ControlFile): Removal {
  const target = control.get(REMOVE_PACKAGE_FIELD)?.trim() ?? '';
  if (!isPackageName(target)) {
    throw new FormatError(
      'WMOPKG_BAD_CONTROL',
      target === ''
        ? `control: a removal package needs ${REMOVE_PACKAGE_FIELD}: NAME`
        : `control: bad ${REMOVE_PACKAGE_FIELD} "${shown(target)}": use ${PACKAGE_NAME_RULE}`,
    );
  }
  const backup = (control.get(REMOVE_BACKUP_FIELD) ?? 'no').trim().toLowerCase();
  if (backup !== 'yes' && backup !== 'no') {
    throw new FormatError(
      'WMOPKG_BAD_CONTROL',
      `control: ${REMOVE_BACKUP_FIELD} must be yes or no, not "${shown(backup)}"`,
    );
  }
  return { target, backup: backup === 'yes' };
}

/**
 * The fields a package of its kind needs, as `wmopkg build` and the device check them: a firmware
 * names the hardware's architecture (not `all`) and depends on nothing but an earlier firmware; a
 * hotfix names its one firmware version; a removal package names a valid package to remove. Throws
 * `WMOPKG_BAD_CONTROL` naming the first problem; returns the kind.
 */
export function checkKindFields(control: ControlFile): PackageKind {
  const kind = packageKind(control);
  switch (kind) {
    case 'firmware': {
      if (control.architecture === 'all') {
        throw new FormatError(
          'WMOPKG_BAD_CONTROL',
          'control: a firmware package must name the architecture of its hardware, not "all"',
        );
      }
      const depends = control.get('Depends');
      const others = depends === undefined ? [] : parseDepends(depends).flat();
      const foreign = others.find((dep) => dep.name !== 'firmware');
      if (foreign !== undefined) {
        throw new FormatError(
          'WMOPKG_BAD_CONTROL',
          `control: a firmware package may depend on an earlier firmware only, not on "${shown(foreign.name)}"`,
        );
      }
      break;
    }
    case 'hotfix':
      hotfixFirmware(control);
      break;
    case 'removal':
      removalOf(control);
      break;
    case 'package':
      break;
  }
  return kind;
}
