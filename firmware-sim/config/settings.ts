// The boot context's settings as the device applies them: each change as a function of the configuration.
import type { Readable } from 'node:stream';
import type { MediaLabel } from '../../common/vocabulary.js';
import type { BootConfig } from '../api.js';
import { DeviceError } from '../errors.js';
import { checkMediaLabel, type StoredBootConfig } from './boot-config.js';
import type { DeviceFile } from './device-file.js';
import { unlocked } from './policy.js';
import { MAX_TOKEN_BYTES, verifyUnlockToken } from './unlock.js';

/** A change: from the configuration as read and the device's facts, the new configuration and its log line. */
export type ConfigChange = (
  config: StoredBootConfig,
  device: DeviceFile,
) => Promise<{ readonly config: StoredBootConfig; readonly event: string }>;

/** The configuration as `boot show` sees it: the unlock token named only when it is valid for this device. */
export function bootConfigView(config: StoredBootConfig, device: DeviceFile): BootConfig {
  let unlock: BootConfig['unlock'];
  if (config.unlockToken) {
    try {
      const token = verifyUnlockToken(config.unlockToken, device.anchorKey, device.serial);
      unlock = { serial: token.serial, keyNumber: token.keyNumber };
    } catch {
      unlock = undefined;
    }
  }
  return {
    allowUntrusted: config.allowUntrusted,
    media: config.media,
    ...(unlock ? { unlock } : {}),
    ...(config.firmwareFallback ? { firmwareFallback: true } : {}),
    ...(config.problems ? { problems: config.problems } : {}),
  };
}

/** `allow-untrusted` / `no allow-untrusted`; on a secure-boot device only with a valid unlock token. */
export function setAllowUntrusted(on: boolean): ConfigChange {
  return async (config, device) => {
    if (on && device.secureBoot && !unlocked(config, device)) {
      throw new DeviceError(
        'DEVICE_SECURE_BOOT',
        `allow-untrusted refused: secure boot is on; install an unlock token for serial ${device.serial} first (unlock media external token.lic)`,
      );
    }
    return {
      config: { ...config, allowUntrusted: on },
      event: `boot config: ${on ? 'allow-untrusted' : 'no allow-untrusted'} (takes effect at the next boot)`,
    };
  };
}

/** `media LABEL …`: a new label, or one replaced in place. Checked before anything is read. */
export function setMediaLabel(label: MediaLabel): ConfigChange {
  checkMediaLabel(label);
  return async (config) => {
    const media = config.media.some((m) => m.name === label.name)
      ? config.media.map((m) => (m.name === label.name ? label : m))
      : [...config.media, label];
    return { config: { ...config, media }, event: `boot config: media ${label.name} ${label.bus}` };
  };
}

/** `no media LABEL`. */
export function removeMediaLabel(name: string): ConfigChange {
  return async (config) => {
    if (!config.media.some((m) => m.name === name)) {
      throw new DeviceError('DEVICE_UNKNOWN_LABEL', `no media label "${name}" (see show media)`);
    }
    return {
      config: { ...config, media: config.media.filter((m) => m.name !== name) },
      event: `boot config: no media ${name}`,
    };
  };
}

/** Reads an unlock token's bytes from a stream; more than a token can be is refused as it arrives. */
export async function readUnlockToken(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > MAX_TOKEN_BYTES) {
      stream.destroy();
      throw new DeviceError(
        'DEVICE_BAD_TOKEN',
        `unlock token refused: larger than ${MAX_TOKEN_BYTES} bytes, not a token`,
      );
    }
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks);
}

/** `unlock …`: stores a token that is vendor-signed for this serial; `installed` receives what it names. */
export function installUnlockToken(
  bytes: Buffer,
  installed: (token: { readonly serial: string; readonly keyNumber: string }) => void,
): ConfigChange {
  return async (config, device) => {
    const token = verifyUnlockToken(bytes, device.anchorKey, device.serial);
    installed({ serial: token.serial, keyNumber: token.keyNumber });
    return {
      config: { ...config, unlockToken: token.bytes },
      event: `boot config: unlock token installed (serial ${token.serial}, key ${token.keyNumber})`,
    };
  };
}
