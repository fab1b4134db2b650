// The package-name rule: what the shell accepts, the device stores and the package format allows.

/** Longest package name. */
export const MAX_PACKAGE_NAME = 64;

/** The characters of a package name, as Debian and opkg have them (lower case), starting with a letter or digit. */
export const PACKAGE_NAME = /^[a-z0-9][a-z0-9.+-]*$/;

/** The rule in words, for messages. */
export const PACKAGE_NAME_RULE = `1-${MAX_PACKAGE_NAME} of a-z, 0-9, '.', '+' and '-', starting with a-z or 0-9`;

/** Whether `name` may name a package: the characters of `PACKAGE_NAME`, 1 to `MAX_PACKAGE_NAME` of them. */
export function isPackageName(name: string): boolean {
  return name.length <= MAX_PACKAGE_NAME && PACKAGE_NAME.test(name);
}
