// First start: the state directory of a new device, laid out as SPEC §4.1 says.
import { access, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../../common/atomic.js';
import { DEFAULT_BOOT_CONFIG, formatBootConfig } from '../config/boot-config.js';
import { formatDeviceFile, newDeviceFile } from '../config/device-file.js';
import { loadOrCreateVendorKeys } from '../config/vendor.js';
import { formatPublicKey } from '../format/index.js';
import { appendEvents } from '../state/event-log.js';
import type { Layout } from '../state/layout.js';
import { ensureSlotLayout } from '../state/slots.js';
import type { LastBoot } from '../store/last-boot.js';
import { baseFirmwareFiles } from './base-firmware.js';
import { createSamplePackages } from './samples.js';

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function writeIfMissing(path: string, content: string): Promise<void> {
  if (await exists(path)) return;
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, content);
}

/**
 * Creates the device: vendor keys (outside, in `vendorDir`), every directory and file of the layout,
 * the sample packages on the USB stick, and `device.json` last — it marks a complete device, so an
 * interrupted creation (the `.creating` mark is still there) is simply done again. The caller holds
 * the device lock and wrote the `.creating` mark; a device another process completed meanwhile is
 * left as it is.
 */
export async function createDevice(layout: Layout, vendorDir: string): Promise<void> {
  if (await exists(layout.deviceFile)) {
    // Another process completed it meanwhile; this one's mark goes.
    await rm(layout.creatingFile, { force: true });
    return;
  }
  const vendor = await loadOrCreateVendorKeys(vendorDir);
  for (const dir of [
    layout.bootDir,
    layout.keysDir,
    layout.sshDir,
    layout.caDir,
    layout.storeDir,
    layout.rootfs,
    layout.logDir,
    layout.runtimeDir!,
    layout.usbStick,
    layout.activeDir,
    layout.backupDir,
    layout.firmwareDir,
  ]) {
    await mkdir(dir, { recursive: true });
  }
  const device = newDeviceFile(formatPublicKey(vendor.publicKey));
  await writeIfMissing(join(layout.keysDir, 'vendor.pub'), formatPublicKey(vendor.publicKey));
  await writeIfMissing(
    layout.revokedFile,
    '# Revoked signing keys: one key number (16 hex digits) per line.\n',
  );
  await writeIfMissing(layout.knownHostsFile, '');
  await writeIfMissing(layout.bootConfigFile, formatBootConfig(DEFAULT_BOOT_CONFIG));
  for (const [path, content] of Object.entries(baseFirmwareFiles(device.hostname, device.firmwareVersion))) {
    await writeIfMissing(join(layout.rootfs, path), content);
  }
  // The factory firmware runs in slot A; slot B stays empty until a firmware package is installed.
  await ensureSlotLayout(layout, { slot: device.firmwareSlot, version: device.firmwareVersion });
  await createSamplePackages(layout.usbStick, {
    vendorKey: vendor.secretKey,
    serial: device.serial,
    hostname: device.hostname,
    firmwareVersion: device.firmwareVersion,
    architecture: device.architectures[0]!,
  });
  const firstBoot: LastBoot = {
    report: { at: new Date().toISOString(), lines: [], deactivated: [] },
    installIds: {},
    // The factory boot configuration leaves allow-untrusted off.
    allowUntrusted: false,
  };
  await writeFileAtomic(layout.lastBootFile, `${JSON.stringify(firstBoot)}\n`);
  await appendEvents(layout.logFile, [
    `device created: hostname ${device.hostname}, serial ${device.serial}, firmware ${device.firmwareVersion}`,
  ]);
  await writeFileAtomic(layout.deviceFile, formatDeviceFile(device));
  await rm(layout.creatingFile, { force: true });
}
