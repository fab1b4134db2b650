// What `wmopkg info` and `wmopkg contents` print: dpkg-deb's layouts, every text of the package made printable.
import { printable } from '../common/text.js';
import { keyNumberHex, type PackageReading } from '../firmware-sim/format/index.js';

/**
 * Like `dpkg-deb --info`, plus the signature state. What the package wrote (control fields, the
 * names and first lines of its scripts) is printable: an escape sequence, a carriage return, a C1 or
 * a bidi control is shown escaped (`\x1b`, `\u202e`), as the shell shows it, never acted on.
 */
export function formatInfo(reading: PackageReading): string {
  const size = (name: string) => reading.members.find((m) => m.name === name)?.size ?? 0;
  const signature = reading.signature
    ? `signed with key ${keyNumberHex(reading.signature.parsed.keyNumber)} (check it with wmopkg verify)`
    : reading.manifest
      ? 'not signed (has a manifest)'
      : 'not signed';
  const layout = reading.layout === 'ar' ? 'wmopkg package' : 'OpenWrt ipk (outer tar.gz)';
  const lines = [
    ` new ${layout}, version 2.0, ${signature}.`,
    ` size ${reading.size} bytes: control archive=${size('control.tar.gz')} bytes, data archive=${size('data.tar.gz')} bytes.`,
  ];
  for (const [name, content] of reading.controlFiles) {
    const text = content.toString('utf8');
    const count = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    const script = text.startsWith('#!') ? text.split('\n', 1)[0]! : '';
    const interpreter = script === '' ? '' : `*  ${printable(name).padEnd(20)} ${printable(script)}`;
    lines.push(
      `${String(content.length).padStart(8)} bytes,${String(count).padStart(6)} lines   ${interpreter || `   ${printable(name)}`}`,
    );
  }
  for (const line of reading.control.toString().split('\n'))
    if (line !== '') lines.push(` ${printable(line)}`);
  return `${lines.join('\n')}\n`;
}

const TYPE_CHAR: Record<string, string> = {
  file: '-',
  directory: 'd',
  symlink: 'l',
  link: 'h',
  'character-device': 'c',
  'block-device': 'b',
  fifo: 'p',
  'contiguous-file': '-',
};

/**
 * `rwsr-xr-x` as `ls -l`, `tar -tv` and `dpkg-deb --contents` write permissions: setuid and setgid
 * in the owner's and the group's execute place (`s`, or `S` without execute), the sticky bit in the
 * others' (`t`, `T`).
 */
function permissionString(mode: number): string {
  const bits = 'rwxrwxrwx'.split('').map((c, i) => (mode & (1 << (8 - i)) ? c : '-'));
  const special: ReadonlyArray<readonly [number, number, string]> = [
    [0o4000, 2, 's'],
    [0o2000, 5, 's'],
    [0o1000, 8, 't'],
  ];
  for (const [bit, at, char] of special) {
    if (mode & bit) bits[at] = bits[at] === 'x' ? char : char.toUpperCase();
  }
  return bits.join('');
}

/**
 * One line as `tar -tv` (and `dpkg-deb --contents`) prints it. Names, link targets and owners come
 * from the archive: printable, so that a file name cannot rewrite the screen.
 */
export function formatListing(header: import('tar-stream').Header): string {
  const bits = permissionString(header.mode ?? 0);
  const owner = printable(`${header.uname || header.uid}/${header.gname || header.gid}`);
  const date = header.mtime.toISOString().replace('T', ' ').slice(0, 16);
  const target =
    header.type === 'symlink'
      ? ` -> ${printable(header.linkname ?? '')}`
      : header.type === 'link'
        ? ` link to ${printable(header.linkname ?? '')}`
        : '';
  return `${TYPE_CHAR[header.type] ?? '?'}${bits} ${owner.padEnd(8)} ${String(header.size).padStart(9)} ${date} ${printable(header.name)}${target}`;
}
