// The updater's settings (`etc/updater/config`): approval, delay, reboot, as the commands that set them.
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../../common/atomic.js';
import { shown } from '../../common/text.js';
import { DeviceError } from '../errors.js';
import type { UpdaterSettings } from './types.js';

/** A new device: plans applied at once, no reboot without the operator. */
const DEFAULT_SETTINGS: UpdaterSettings = { approval: false, delayHours: 0, reboot: 'manual' };

/** The longest delay: a year (a delay beyond that is a typing error). */
export const MAX_DELAY_HOURS = 8760;

/** Where messages say the settings live. */
const SETTINGS_NAME = 'etc/updater/config';

/** Formats the settings file. */
export function formatSettings(settings: UpdaterSettings): string {
  return [
    '# Settings of the updater: the commands of the updater context. Written by the device.',
    `approval ${settings.approval ? 'on' : 'off'}`,
    `delay ${settings.delayHours}`,
    `reboot ${settings.reboot}`,
    '',
  ].join('\n');
}

/**
 * Parses the settings file. A line it does not understand stops the updater (`DEVICE_CORRUPT_STATE`):
 * a lost `approval on` would apply plans nobody approved.
 */
export function parseSettings(text: string, name = SETTINGS_NAME): UpdaterSettings {
  let settings = DEFAULT_SETTINGS;
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [key, value, extra] = line.split(/\s+/);
    const bad = (): never => {
      throw new DeviceError(
        'DEVICE_CORRUPT_STATE',
        `${name} line ${index + 1}: cannot read "${shown(line)}"; the updater does nothing until the line is fixed or removed`,
      );
    };
    if (extra !== undefined) bad();
    if (key === 'approval' && (value === 'on' || value === 'off'))
      settings = { ...settings, approval: value === 'on' };
    else if (key === 'reboot' && (value === 'auto' || value === 'manual'))
      settings = { ...settings, reboot: value };
    else if (
      key === 'delay' &&
      value !== undefined &&
      /^[0-9]{1,4}$/.test(value) &&
      Number(value) <= MAX_DELAY_HOURS
    )
      settings = { ...settings, delayHours: Number(value) };
    else bad();
  }
  return settings;
}

/** Reads the settings; the defaults when the file does not exist. */
export async function readSettings(file: string): Promise<UpdaterSettings> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return DEFAULT_SETTINGS;
    throw error;
  }
  return parseSettings(text);
}

/** Writes the settings atomically. */
export async function writeSettings(file: string, settings: UpdaterSettings): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFileAtomic(file, formatSettings(settings));
}
