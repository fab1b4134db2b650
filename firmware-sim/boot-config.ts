// `boot/config`: the bootloader configuration as the commands of the boot context, one per line.
import { readFile } from 'node:fs/promises';
import type { MediaBus, MediaLabel } from '../media/types.js';
import { DeviceError } from './errors.js';

/** The configuration as stored; the unlock token is kept whole (it is checked when it is used). */
export interface StoredBootConfig {
  readonly allowUntrusted: boolean;
  readonly media: readonly MediaLabel[];
  readonly unlockToken?: Buffer;
}

/** The configuration of a new device: untrusted packages refused, the `external` label. */
export const DEFAULT_BOOT_CONFIG: StoredBootConfig = {
  allowUntrusted: false,
  media: [{ name: 'external', bus: 'any' }],
};

/** Media label names: short words, so that they can be typed and completed. */
export const LABEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
const BUSES: readonly MediaBus[] = ['usb', 'sd', 'any'];

/** Checks a media label; throws `DEVICE_BAD_LABEL` naming the problem. */
export function checkMediaLabel(label: MediaLabel): MediaLabel {
  const bad = (why: string): never => {
    throw new DeviceError('DEVICE_BAD_LABEL', `media label ${JSON.stringify(label.name)}: ${why}`);
  };
  if (!LABEL_NAME.test(label.name))
    bad('use up to 32 letters, digits, _ and -, starting with a letter or digit');
  if (!BUSES.includes(label.bus)) bad(`bus must be usb, sd or any, not ${JSON.stringify(label.bus)}`);
  for (const [key, value] of [
    ['fs-label', label.fsLabel],
    ['uuid', label.uuid],
  ] as const) {
    if (
      value !== undefined &&
      (value === '' || value.length > 64 || /[\u0000-\u001f\u007f"\\]/.test(value))
    ) {
      bad(`${key} must be 1 to 64 printable characters without quotes or backslashes`);
    }
  }
  if (
    label.partition !== undefined &&
    (!Number.isInteger(label.partition) || label.partition < 1 || label.partition > 128)
  ) {
    bad('partition must be a number from 1 to 128');
  }
  return label;
}

/** Formats the configuration file. */
export function formatBootConfig(config: StoredBootConfig): string {
  const lines = ['# Boot configuration of the device: the commands of the boot context, one per line.'];
  lines.push(config.allowUntrusted ? 'allow-untrusted' : 'no allow-untrusted');
  for (const label of config.media) {
    const parts = ['media', label.name, label.bus];
    if (label.fsLabel !== undefined) parts.push('fs-label', quote(label.fsLabel));
    if (label.uuid !== undefined) parts.push('uuid', quote(label.uuid));
    if (label.partition !== undefined) parts.push('partition', String(label.partition));
    lines.push(parts.join(' '));
  }
  if (config.unlockToken) lines.push(`unlock-token ${config.unlockToken.toString('base64')}`);
  return `${lines.join('\n')}\n`;
}

function quote(value: string): string {
  return /^[^\s"\\]+$/.test(value) ? value : `"${value}"`;
}

/** Splits a line into words; a word may be a double-quoted string (no escapes inside). */
function words(line: string): string[] | undefined {
  const out: string[] = [];
  const re = /\s*(?:"([^"]*)"|([^\s"]+))/gy;
  let end = 0;
  for (let match = re.exec(line); match !== null; match = re.exec(line)) {
    out.push(match[1] ?? match[2]!);
    end = re.lastIndex;
  }
  return line.slice(end).trim() === '' ? out : undefined;
}

/** Parses the configuration file; a line it does not understand is an error naming the line. */
export function parseBootConfig(text: string, path = 'boot/config'): StoredBootConfig {
  let allowUntrusted = false;
  const media: MediaLabel[] = [];
  let unlockToken: Buffer | undefined;
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const bad = (why: string): never => {
      throw new DeviceError('DEVICE_CORRUPT_STATE', `${path}: line ${index + 1}: ${why}`);
    };
    const w = words(line) ?? bad('unbalanced quotes');
    if (w.join(' ') === 'allow-untrusted') allowUntrusted = true;
    else if (w.join(' ') === 'no allow-untrusted') allowUntrusted = false;
    else if (w[0] === 'unlock-token' && w.length === 2 && /^[A-Za-z0-9+/]+=*$/.test(w[1]!)) {
      unlockToken = Buffer.from(w[1]!, 'base64');
    } else if (w[0] === 'media' && w.length >= 3) {
      const label: { -readonly [K in keyof MediaLabel]: MediaLabel[K] } = {
        name: w[1]!,
        bus: w[2] as MediaBus,
      };
      for (let i = 3; i < w.length; i += 2) {
        const value = w[i + 1] ?? bad(`"${w[i]}" needs a value`);
        if (w[i] === 'fs-label') label.fsLabel = value;
        else if (w[i] === 'uuid') label.uuid = value;
        else if (w[i] === 'partition' && /^[0-9]+$/.test(value)) label.partition = Number(value);
        else bad(`unknown media option "${w[i]}"`);
      }
      try {
        checkMediaLabel(label);
      } catch (error) {
        bad((error as Error).message);
      }
      if (media.some((m) => m.name === label.name)) bad(`media label ${label.name} defined twice`);
      media.push(label);
    } else bad(`unknown setting "${line.slice(0, 40)}"`);
  }
  return { allowUntrusted, media, ...(unlockToken ? { unlockToken } : {}) };
}

/** Reads `boot/config`; a missing file is the default configuration. */
export async function readBootConfig(path: string): Promise<StoredBootConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return DEFAULT_BOOT_CONFIG;
    throw error;
  }
  return parseBootConfig(text, path);
}
