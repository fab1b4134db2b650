// Builds feed stanzas, universes and installed sets in memory for the feeds tests.
import {
  type FeedPackage,
  type InstalledPackage,
  packageFromStanza,
  parseRelations,
  StanzaReader,
  Universe,
} from '../../firmware-sim/feeds/index.js';

/** Control fields of a package: `Package`, `Version` and whatever else is given. */
export type Fields = Record<string, string>;

/** One stanza of a Packages file, with the fields an index needs filled in. */
export function stanzaText(fields: Fields): string {
  const all: Fields = {
    Architecture: 'all',
    Filename: `${fields.Package}_${fields.Version}_all.wmopkg`,
    Size: '1024',
    SHA256sum: 'ab'.repeat(32),
    ...fields,
  };
  return Object.entries(all)
    .filter(([, value]) => value !== '')
    .map(([name, value]) => `${name}: ${value}\n`)
    .join('');
}

/** A Packages file of these stanzas. */
export function packagesText(stanzas: readonly Fields[]): string {
  return stanzas.map(stanzaText).join('\n');
}

/** A feed package parsed from its fields (throws if the stanza is not usable). */
export function feedPackage(fields: Fields): FeedPackage {
  const reader = new StanzaReader('Packages');
  const [stanza] = [...reader.push(Buffer.from(stanzaText(fields))), ...reader.end()];
  const pkg = packageFromStanza(stanza!);
  if ('reason' in pkg) throw new Error(pkg.reason);
  return pkg;
}

/** `'a 1.0'` plus relation fields → the fields of a stanza. */
export function spec(nameVersion: string, fields: Fields = {}): Fields {
  const [Package, Version] = nameVersion.split(' ') as [string, string];
  return { Package, Version, ...fields };
}

/** A universe of one feed, `main`. */
export function universeOf(stanzas: readonly Fields[]): Universe {
  return new Universe([{ name: 'main', packages: stanzas.map(feedPackage) }]);
}

/** An installed package: `'a 1.0'`, relation fields, `auto` (installed as a dependency) and `local`. */
export function installedPackage(
  nameVersion: string,
  fields: Fields = {},
  flags: { auto?: boolean; local?: boolean } = {},
): InstalledPackage {
  const [name, version] = nameVersion.split(' ') as [string, string];
  return {
    name,
    version,
    architecture: fields.Architecture ?? 'all',
    auto: flags.auto ?? false,
    ...(flags.local === undefined ? {} : { local: flags.local }),
    ...parseRelations((field) => fields[field]),
  };
}
