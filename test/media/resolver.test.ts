import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  createMediaResolver,
  DEFAULT_MEDIA_LABELS,
  type DriveLister,
  drivesFromLsblk,
  MediaError,
  type MediaLabel,
  SIM_USB_DEVICE,
} from '../../media/index.js';
import {
  lsblk,
  type MountDirs,
  makeMountDirs,
  mmcDisk,
  node,
  part,
  put,
  usbDisk,
  WORKSTATION_MOUNTS,
  workstation,
} from '../helpers/media-fixtures.js';

const LABELS: MediaLabel[] = [
  { name: 'external', bus: 'any' },
  { name: 'stick', bus: 'usb' },
  { name: 'card', bus: 'sd' },
  { name: 'fw', bus: 'any', fsLabel: 'FIRMWARE' },
  { name: 'data', bus: 'usb', fsLabel: 'DATA' },
  { name: 'by-uuid', bus: 'any', uuid: '0A1B2C3D-0000-4000-8000-000000000001' },
  { name: 'p2', bus: 'usb', partition: 2 },
  { name: 'backup', bus: 'any', fsLabel: 'BACKUP' },
  { name: 'boot', bus: 'any', uuid: 'AAAA-0001' },
  { name: 'swap', bus: 'any', uuid: 'DEAD-0001' },
  { name: 'sim', bus: 'usb', fsLabel: 'SIM-USB0' },
  { name: 'nope', bus: 'sd', fsLabel: 'FIRMWARE' },
  { name: 'card-p2', bus: 'sd', partition: 2 },
];

describe('createMediaResolver: the workstation snapshot plus the simulated stick', () => {
  let mounts: MountDirs;
  let lister: DriveLister;
  before(async () => {
    mounts = await makeMountDirs([...WORKSTATION_MOUNTS, 'usb0']);
    const json = workstation(mounts);
    lister = () => drivesFromLsblk(json);
  });
  after(() => mounts.cleanup());

  const expected: Array<{ label: string; device?: string; mount?: string; reason?: string; why: string }> = [
    { label: 'external', device: '/dev/sdb1', mount: 'sdb1', why: 'first usb drive, first partition' },
    { label: 'stick', device: '/dev/sdb1', mount: 'sdb1', why: 'first usb drive' },
    { label: 'card', device: '/dev/mmcblk0p1', mount: 'sd', why: 'the sd card that is not root' },
    { label: 'fw', device: '/dev/sdc1', mount: 'sdc1', why: 'by fs-label, on the second stick' },
    { label: 'data', reason: '/dev/sdc2 is not mounted', why: 'found by fs-label, not mounted' },
    { label: 'by-uuid', device: '/dev/sdc1', mount: 'sdc1', why: 'uuid matched without regard to case' },
    { label: 'p2', reason: 'no partition 2 on /dev/sdb', why: 'the first usb drive decides' },
    {
      label: 'backup',
      device: '/dev/sde1',
      mount: 'sde1',
      why: 'a hotplug sata disk is external on bus any',
    },
    { label: 'boot', reason: 'no external device with uuid AAAA-0001 connected', why: 'the system disk' },
    { label: 'swap', reason: 'no external device with uuid DEAD-0001 connected', why: 'a virtual disk' },
    { label: 'sim', device: SIM_USB_DEVICE, mount: 'usb0', why: 'the simulated stick has its fs-label' },
    { label: 'nope', reason: 'no sd card with fs-label FIRMWARE connected', why: 'bus filters first' },
    { label: 'card-p2', reason: 'no partition 2 on /dev/mmcblk0', why: 'partition missing' },
  ];

  test('list: one status per label, in label order', async () => {
    const resolver = createMediaResolver({ usbStick: mounts.dir('usb0'), lister });
    const statuses = await resolver.list(LABELS);
    assert.deepEqual(
      statuses.map((s) => s.label.name),
      LABELS.map((l) => l.name),
    );
    for (const [i, status] of statuses.entries()) {
      const want = expected[i]!;
      assert.equal(status.label.name, want.label);
      if (want.device === undefined) {
        assert.deepEqual(
          { available: status.available, reason: status.reason, device: status.device },
          { available: false, reason: want.reason, device: undefined },
          `${want.label}: ${want.why}`,
        );
      } else {
        assert.deepEqual(
          { available: status.available, device: status.device, mountpoint: status.mountpoint },
          { available: true, device: want.device, mountpoint: mounts.dir(want.mount!) },
          `${want.label}: ${want.why}`,
        );
      }
    }
    assert.equal(statuses[0]!.matches, 'any external device, first partition');
    assert.equal(statuses[3]!.matches, 'any external device, fs-label FIRMWARE');
  });

  for (const want of expected) {
    test(`resolve ${want.label}: ${want.why}`, async () => {
      const resolver = createMediaResolver({ usbStick: mounts.dir('usb0'), lister });
      if (want.mount !== undefined) {
        await put(mounts.dir(want.mount), `pkg/${want.label}.wmopkg`, want.label);
        const file = await resolver.resolve(LABELS, want.label, `pkg/${want.label}.wmopkg`);
        assert.deepEqual(file, {
          label: want.label,
          device: want.device,
          mountpoint: mounts.dir(want.mount),
          path: join(mounts.dir(want.mount), 'pkg', `${want.label}.wmopkg`),
        });
      } else {
        await assert.rejects(resolver.resolve(LABELS, want.label, 'x.wmopkg'), {
          name: 'MediaError',
          message: `media ${want.label}: ${want.reason}`,
        });
      }
    });
  }

  test('resolve: error codes say what is missing', async () => {
    const resolver = createMediaResolver({ usbStick: mounts.dir('usb0'), lister });
    const codes = async (label: string) =>
      resolver.resolve(LABELS, label, 'x.wmopkg').then(
        () => 'resolved',
        (e: MediaError) => e.code,
      );
    assert.equal(await codes('data'), 'MEDIA_NOT_MOUNTED');
    assert.equal(await codes('p2'), 'MEDIA_NO_PARTITION');
    assert.equal(await codes('boot'), 'MEDIA_NO_DEVICE');
    assert.equal(await codes('external'), 'MEDIA_NOT_FOUND');
  });

  test('an unknown label names the configured ones', async () => {
    const resolver = createMediaResolver({ usbStick: mounts.dir('usb0'), lister });
    await assert.rejects(resolver.resolve(LABELS.slice(0, 2), 'usb1', 'x.wmopkg'), {
      name: 'MediaError',
      code: 'MEDIA_UNKNOWN_LABEL',
      message: 'media usb1: no such media label (configured: external, stick)',
    });
    await assert.rejects(resolver.resolve([], 'usb1', 'x.wmopkg'), {
      message: 'media usb1: no such media label (configured: none)',
    });
  });
});

describe('createMediaResolver: the simulated stick', () => {
  let mounts: MountDirs;
  before(async () => {
    mounts = await makeMountDirs(['usb0', 'real']);
  });
  after(() => mounts.cleanup());
  const none: DriveLister = async () => [];

  test('alone, it is external, with its device name, fs-label and uuid', async () => {
    const resolver = createMediaResolver({ usbStick: mounts.dir('usb0'), lister: none });
    const labels: MediaLabel[] = [
      ...DEFAULT_MEDIA_LABELS,
      { name: 'by-label', bus: 'usb', fsLabel: 'SIM-USB0', partition: 1 },
      { name: 'by-uuid', bus: 'any', uuid: 'ed6e-5b00' },
      { name: 'card', bus: 'sd' },
    ];
    assert.deepEqual(await resolver.list(labels), [
      {
        label: labels[0],
        matches: 'any external device, first partition',
        available: true,
        device: 'sim-usb0',
        mountpoint: mounts.dir('usb0'),
      },
      {
        label: labels[1],
        matches: 'usb device, fs-label SIM-USB0, partition 1',
        available: true,
        device: 'sim-usb0',
        mountpoint: mounts.dir('usb0'),
      },
      {
        label: labels[2],
        matches: 'any external device, uuid ed6e-5b00',
        available: true,
        device: 'sim-usb0',
        mountpoint: mounts.dir('usb0'),
      },
      {
        label: labels[3],
        matches: 'sd card, first partition',
        available: false,
        reason: 'no sd card connected',
      },
    ]);
  });

  test('a real stick plugged in comes first; the simulated one is still reachable by its fs-label', async () => {
    const json = lsblk(usbDisk('sdb', [part('sdb1', { uuid: '1234-ABCD', mount: mounts.dir('real') })]));
    const resolver = createMediaResolver({
      usbStick: mounts.dir('usb0'),
      lister: () => drivesFromLsblk(json),
    });
    const [external, sim] = await resolver.list([
      { name: 'external', bus: 'any' },
      { name: 'sim', bus: 'usb', fsLabel: 'SIM-USB0' },
    ]);
    assert.equal(external?.device, '/dev/sdb1');
    assert.equal(sim?.device, 'sim-usb0');
  });

  test('a real stick that is not mounted is reported, not silently replaced by the simulated one', async () => {
    const json = lsblk(usbDisk('sdb', [part('sdb1', { uuid: '1234-ABCD' })]));
    const resolver = createMediaResolver({
      usbStick: mounts.dir('usb0'),
      lister: () => drivesFromLsblk(json),
    });
    await assert.rejects(resolver.resolve(DEFAULT_MEDIA_LABELS, 'external', 'x.wmopkg'), {
      code: 'MEDIA_NOT_MOUNTED',
      message: 'media external: /dev/sdb1 is not mounted',
    });
  });

  test('without its directory (or without usbStick) there is no simulated stick', async () => {
    const gone = join(mounts.root, 'usb-gone');
    for (const resolver of [
      createMediaResolver({ usbStick: gone, lister: none }),
      createMediaResolver({ lister: none }),
    ]) {
      await assert.rejects(resolver.resolve(DEFAULT_MEDIA_LABELS, 'external', 'x.wmopkg'), {
        code: 'MEDIA_NO_DEVICE',
        message: 'media external: no external device connected',
      });
    }
  });

  test('unplugging and plugging is seen on the next call', async () => {
    const dirs = await makeMountDirs(['usb0']);
    const resolver = createMediaResolver({ usbStick: dirs.dir('usb0'), lister: none });
    assert.equal((await resolver.list(DEFAULT_MEDIA_LABELS))[0]?.available, true);
    await rm(dirs.dir('usb0'), { recursive: true });
    assert.equal((await resolver.list(DEFAULT_MEDIA_LABELS))[0]?.available, false);
    await dirs.cleanup();
  });

  test('a lister that fails leaves the simulated stick usable and says why real drives are missing', async () => {
    const failing: DriveLister = async () => {
      throw new MediaError('MEDIA_LIST_FAILED', 'media: cannot list drives: lsblk: not found');
    };
    const withStick = createMediaResolver({ usbStick: mounts.dir('usb0'), lister: failing });
    assert.equal((await withStick.list(DEFAULT_MEDIA_LABELS))[0]?.device, 'sim-usb0');
    const without = createMediaResolver({ lister: failing });
    assert.deepEqual(await without.list([{ name: 'card', bus: 'sd' }]), [
      {
        label: { name: 'card', bus: 'sd' },
        matches: 'sd card, first partition',
        available: false,
        reason: 'no sd card connected (cannot list drives: lsblk: not found)',
      },
    ]);
  });
});

describe('createMediaResolver: embedded board with the root on the card', () => {
  test('external skips the root card, finds the usb stick; sd finds nothing', async () => {
    const mounts = await makeMountDirs(['stick']);
    try {
      const json = lsblk(
        mmcDisk('mmcblk0', [part('mmcblk0p1', { mount: '/boot' }), part('mmcblk0p2', { mount: '/' })]),
        node('zram0', { subsystems: 'block', mount: '[SWAP]' }),
        usbDisk('sda', [part('sda1', { uuid: '1234-ABCD', mount: mounts.dir('stick') })]),
      );
      const resolver = createMediaResolver({ lister: () => drivesFromLsblk(json) });
      const [external, card] = await resolver.list([
        { name: 'external', bus: 'any' },
        { name: 'card', bus: 'sd' },
      ]);
      assert.equal(external?.device, '/dev/sda1');
      assert.equal(card?.reason, 'no sd card connected');
    } finally {
      await mounts.cleanup();
    }
  });
});
