// `boot/config`: the bootloader configuration as the commands of the boot context, one per line.

import { readFile } from 'node:fs/promises';
import { mediaLabelProblem } from '../../common/media-label.js';
import { shown } from '../../common/text.js';
import { DEFAULT_MEDIA_LABELS, type MediaBus, type MediaLabel } from '../../common/vocabulary.js';
import { DeviceError, isFsError } from '../errors.js';

/** The configuration as stored; the unlock token is kept whole (it is checked when it is used). */
export interface StoredBootConfig {
  readonly allowUntrusted: boolean;
  readonly media: readonly MediaLabel[];
  readonly unlockToken?: Buffer;
  /** `firmware fallback`: the next boot switches to the other firmware slot (then the line goes). */
  readonly firmwareFallback?: boolean;
  /**
   * Lines of the file that could not be read (`boot/config line 2: unknown setting "frobnicate";
   * ignored`). When there is one, `allowUntrusted` is off whatever the file says: a damaged file fails
   * closed. Rewriting the file (any change of the boot configuration) drops them.
   */
  readonly problems?: readonly string[];
}

/** The configuration of a new device: untrusted packages refused, the `external` label. */
export const DEFAULT_BOOT_CONFIG: StoredBootConfig = {
  allowUntrusted: false,
  media: DEFAULT_MEDIA_LABELS,
};

/** Checks a media label against the one rule (common/media-label.ts); throws `DEVICE_BAD_LABEL` naming the problem. */
export function checkMediaLabel(label: MediaLabel): MediaLabel {
  const problem = mediaLabelProblem(label);
  if (problem !== undefined) {
    throw new DeviceError('DEVICE_BAD_LABEL', `media label ${JSON.stringify(label.name)}: ${problem}`);
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
  if (config.firmwareFallback) lines.push('firmware fallback');
  return `${lines.join('\n')}\n`;
}

/** A value as a word of the file: in double quotes, with `"` and `\` escaped, when it is not one word. */
function quote(value: string): string {
  return /^[^\s"\\]+$/.test(value) ? value : `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/** Splits a line into words; a word may be a double-quoted string, in which `\` escapes the next character. */
function words(line: string): string[] | undefined {
  const out: string[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|([^\s"]+))/gy;
  let end = 0;
  for (let match = re.exec(line); match !== null; match = re.exec(line)) {
    out.push(match[1] === undefined ? match[2]! : match[1].replace(/\\(.)/g, '$1'));
    end = re.lastIndex;
  }
  return line.slice(end).trim() === '' ? out : undefined;
}

/** Where messages say the configuration lives. */
const BOOT_CONFIG_NAME = 'boot/config';

/**
 * Parses the configuration file. A line it does not understand is left out and named in `problems`;
 * with any problem `allowUntrusted` is off (the safe side), whatever the readable lines say.
 */
function parseBootConfig(text: string, name = BOOT_CONFIG_NAME): StoredBootConfig {
  let allowUntrusted = false;
  const media: MediaLabel[] = [];
  const problems: string[] = [];
  let unlockToken: Buffer | undefined;
  let firmwareFallback = false;
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const problem = parseLine(line, media);
    if (typeof problem === 'string') {
      problems.push(`${name} line ${index + 1}: ${problem}; ignored`);
      continue;
    }
    if (problem.allowUntrusted !== undefined) allowUntrusted = problem.allowUntrusted;
    if (problem.unlockToken !== undefined) unlockToken = problem.unlockToken;
    if (problem.firmwareFallback !== undefined) firmwareFallback = problem.firmwareFallback;
  }
  return {
    allowUntrusted: allowUntrusted && problems.length === 0,
    media,
    ...(unlockToken ? { unlockToken } : {}),
    ...(firmwareFallback ? { firmwareFallback } : {}),
    ...(problems.length > 0 ? { problems } : {}),
  };
}

/** One line: what it sets (a media label is added to `media`), or why it cannot be read. */
function parseLine(
  line: string,
  media: MediaLabel[],
): string | { allowUntrusted?: boolean; unlockToken?: Buffer; firmwareFallback?: boolean } {
  const w = words(line);
  if (w === undefined) return 'unbalanced quotes';
  if (w.join(' ') === 'firmware fallback') return { firmwareFallback: true };
  if (w.join(' ') === 'allow-untrusted') return { allowUntrusted: true };
  if (w.join(' ') === 'no allow-untrusted') return { allowUntrusted: false };
  if (w[0] === 'unlock-token') {
    if (w.length === 2 && /^[A-Za-z0-9+/]+=*$/.test(w[1]!))
      return { unlockToken: Buffer.from(w[1]!, 'base64') };
    return 'unlock-token needs one base64 value';
  }
  if (w[0] === 'media' && w.length >= 3) {
    const label: { -readonly [K in keyof MediaLabel]: MediaLabel[K] } = {
      name: w[1]!,
      bus: w[2] as MediaBus,
    };
    for (let i = 3; i < w.length; i += 2) {
      const value = w[i + 1];
      if (value === undefined) return `"${shown(w[i]!)}" needs a value`;
      if (w[i] === 'fs-label') label.fsLabel = value;
      else if (w[i] === 'uuid') label.uuid = value;
      else if (w[i] === 'partition' && /^[0-9]+$/.test(value)) label.partition = Number(value);
      else return `unknown media option "${shown(w[i]!.slice(0, 40))}"`;
    }
    try {
      checkMediaLabel(label);
    } catch (error) {
      return (error as Error).message;
    }
    if (media.some((m) => m.name === label.name)) return `media label ${label.name} defined twice`;
    media.push(label);
    return {};
  }
  return `unknown setting "${shown(line.slice(0, 40))}"`;
}

/**
 * Reads `boot/config`; a missing file is the default configuration. A file that cannot be read at all
 * counts as damaged: no media labels, `allowUntrusted` off, the reason in `problems`.
 */
export async function readBootConfig(path: string): Promise<StoredBootConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return DEFAULT_BOOT_CONFIG;
    if (!isFsError(error)) throw error;
    const why = /^E[A-Z0-9]+: ([^,]+)/.exec((error as Error).message)?.[1] ?? String(code);
    return { allowUntrusted: false, media: [], problems: [`${BOOT_CONFIG_NAME}: cannot be read: ${why}`] };
  }
  return parseBootConfig(text);
}
