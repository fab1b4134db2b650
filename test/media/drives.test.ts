import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compareDeviceNames, drivesFromLsblk, type MediaDrive, MediaError } from '../../media/index.js';
import {
  lsblk,
  type MountDirs,
  makeMountDirs,
  mmcDisk,
  node,
  part,
  usbDisk,
  WORKSTATION_MOUNTS,
  workstation,
} from '../helpers/media-fixtures.js';

function byDevice(drives: readonly MediaDrive[], device: string): MediaDrive {
  const drive = drives.find((d) => d.device === device);
  assert.ok(drive, `${device} listed`);
  return drive;
}

describe('drivesFromLsblk: the workstation snapshot', () => {
  let mounts: MountDirs;
  let drives: MediaDrive[];
  before(async () => {
    mounts = await makeMountDirs(WORKSTATION_MOUNTS);
    drives = await drivesFromLsblk(workstation(mounts));
  });
  after(() => mounts.cleanup());

  const roles = [
    { title: 'system disk with / on LVM and /boot/efi', device: '/dev/sda', role: 'system', bus: 'other' },
    { title: 'usb stick', device: '/dev/sdb', role: 'external', bus: 'usb' },
    { title: 'usb stick with two partitions', device: '/dev/sdc', role: 'external', bus: 'usb' },
    { title: 'empty card reader', device: '/dev/sdd', role: 'no-medium', bus: 'usb' },
    { title: 'hotplug sata disk', device: '/dev/sde', role: 'external', bus: 'other' },
    { title: 'sd card in the built-in slot, not root', device: '/dev/mmcblk0', role: 'external', bus: 'sd' },
    { title: 'virtual disk (nbd), mounted', device: '/dev/nbd0', role: 'virtual', bus: 'other' },
    { title: 'zram', device: '/dev/zram0', role: 'virtual', bus: 'other' },
  ] as const;
  for (const { title, device, role, bus } of roles) {
    test(`${title}: ${role}, bus ${bus}`, () => {
      const drive = byDevice(drives, device);
      assert.equal(drive.role, role);
      assert.equal(drive.bus, bus);
    });
  }

  test('loop devices and CD drives are not listed (drivelist drops them); usb, then sd, then the rest', () => {
    assert.deepEqual(
      drives.map((d) => d.device),
      ['/dev/sdb', '/dev/sdc', '/dev/sdd', '/dev/mmcblk0', '/dev/nbd0', '/dev/sda', '/dev/sde', '/dev/zram0'],
    );
  });

  test('partitions carry number, fs-label, uuid and mount point; unmounted ones have none', () => {
    assert.deepEqual(byDevice(drives, '/dev/sdc').partitions, [
      {
        device: '/dev/sdc1',
        number: 1,
        fsLabel: 'FIRMWARE',
        uuid: '0a1b2c3d-0000-4000-8000-000000000001',
        mountpoint: mounts.dir('sdc1'),
      },
      { device: '/dev/sdc2', number: 2, fsLabel: 'DATA', uuid: 'BEEF-0002' },
    ]);
    assert.deepEqual(byDevice(drives, '/dev/mmcblk0').partitions, [
      {
        device: '/dev/mmcblk0p1',
        number: 1,
        fsLabel: 'SDCARD',
        uuid: '5D00-0001',
        mountpoint: mounts.dir('sd'),
      },
    ]);
  });

  test('the description comes from drivelist', () => {
    assert.match(byDevice(drives, '/dev/sdb').description, /SanDisk Cruzer/);
  });
});

describe('drivesFromLsblk: embedded boards', () => {
  test('the mmcblk holding / and /boot/firmware is the system; an eMMC is internal; a superfloppy stick is partition 1', async () => {
    const json = lsblk(
      mmcDisk('mmcblk0', [
        part('mmcblk0p1', { fstype: 'vfat', uuid: '1111-2222', mount: '/boot/firmware' }),
        part('mmcblk0p2', { fstype: 'ext4', uuid: 'root-uuid-0000', mount: '/' }),
      ]),
      mmcDisk('mmcblk1', [part('mmcblk1p1', { fstype: 'ext4', uuid: 'data-0001', mount: '/data' })]),
      node('mmcblk1boot0', { subsystems: 'block:mmc:mmc_host:platform', size: 4_000_000 }),
      node('sda', {
        tran: 'usb',
        rm: true,
        subsystems: 'block:scsi:usb:pci',
        fstype: 'vfat',
        label: 'NO NAME',
        uuid: 'FACE-0001',
        mount: '/media/usb',
      }),
    );
    const drives = await drivesFromLsblk(json, { mmcTypes: { mmcblk1: 'MMC' } });
    assert.equal(byDevice(drives, '/dev/mmcblk0').role, 'system');
    assert.equal(byDevice(drives, '/dev/mmcblk1').role, 'internal');
    assert.equal(byDevice(drives, '/dev/mmcblk1').bus, 'other');
    assert.equal(byDevice(drives, '/dev/mmcblk1boot0').role, 'internal');
    assert.deepEqual(byDevice(drives, '/dev/sda'), {
      device: '/dev/sda',
      bus: 'usb',
      role: 'external',
      description: 'NO NAME',
      partitions: [
        { device: '/dev/sda', number: 1, fsLabel: 'NO NAME', uuid: 'FACE-0001', mountpoint: '/media/usb' },
      ],
    });
  });

  const kernelRoots = [
    { title: 'root=/dev/…', kernelRoot: '/dev/mmcblk0p2' },
    { title: 'root=PARTUUID=…', kernelRoot: 'PARTUUID=6C586E13-02' },
    { title: 'root=UUID=…', kernelRoot: 'UUID=ROOT-UUID-0000' },
    { title: 'root=LABEL=…', kernelRoot: 'LABEL=rootfs' },
  ];
  for (const { title, kernelRoot } of kernelRoots) {
    test(`overlay root: the kernel's ${title} marks the card it booted from as the system`, async () => {
      const json = lsblk(
        mmcDisk('mmcblk0', [
          part('mmcblk0p1', { fstype: 'vfat', uuid: '1111-2222' }),
          part('mmcblk0p2', {
            fstype: 'ext4',
            label: 'rootfs',
            uuid: 'root-uuid-0000',
            partuuid: '6c586e13-02',
            mount: '/media/root-ro',
          }),
        ]),
        mmcDisk('mmcblk1', [part('mmcblk1p1', { uuid: '5D00-0001', mount: '/media/sd' })]),
      );
      const without = await drivesFromLsblk(json);
      assert.equal(
        byDevice(without, '/dev/mmcblk0').role,
        'external',
        'without the hint it looks like a card',
      );
      const drives = await drivesFromLsblk(json, { kernelRoot });
      assert.equal(byDevice(drives, '/dev/mmcblk0').role, 'system');
      assert.equal(byDevice(drives, '/dev/mmcblk1').role, 'external');
    });
  }

  test('a disk holding /boot only is the system disk too', async () => {
    const drives = await drivesFromLsblk(
      lsblk(usbDisk('sda', [part('sda1', { uuid: 'B007-0001', mount: '/boot' })])),
    );
    assert.equal(drives[0]?.role, 'system');
  });
});

describe('drivesFromLsblk: lsblk versions and input forms', () => {
  test('older lsblk: "0"/"1" strings, no mountpoints array, no paths', async () => {
    const json = {
      blockdevices: [
        {
          name: 'sdb',
          kname: 'sdb',
          type: 'disk',
          size: '8000000000',
          rm: '1',
          hotplug: '1',
          ro: '0',
          tran: 'usb',
          subsystems: 'block:scsi:usb:pci',
          label: null,
          uuid: null,
          mountpoint: null,
          children: [
            {
              name: 'sdb1',
              type: 'part',
              label: 'OLD',
              uuid: '0123-4567',
              mountpoint: '/media/old',
              size: '100',
            },
          ],
        },
      ],
    };
    const drives = await drivesFromLsblk(json);
    assert.deepEqual(drives, [
      {
        device: '/dev/sdb',
        bus: 'usb',
        role: 'external',
        description: '(OLD)',
        partitions: [
          { device: '/dev/sdb1', number: 1, fsLabel: 'OLD', uuid: '0123-4567', mountpoint: '/media/old' },
        ],
      },
    ]);
  });

  test('newer lsblk: partn wins over the name; names ending in a digit take "p"', async () => {
    const json = lsblk(
      node('nvme0n1', {
        tran: 'nvme',
        hotplug: true,
        subsystems: 'block:nvme:pci',
        children: [{ ...part('nvme0n1p3', { uuid: 'AAAA-0003' }) }],
      }),
      usbDisk('sdb', [{ ...part('sdb1', { uuid: 'AAAA-0001' }), partn: 7 } as never]),
    );
    const drives = await drivesFromLsblk(json);
    assert.equal(byDevice(drives, '/dev/nvme0n1').partitions[0]?.number, 3);
    assert.equal(byDevice(drives, '/dev/sdb').partitions[0]?.number, 7);
  });

  test('the text lsblk prints is accepted as well as parsed JSON', async () => {
    const json = lsblk(usbDisk('sdb', [part('sdb1', { uuid: '1234-ABCD' })]));
    assert.deepEqual(await drivesFromLsblk(JSON.stringify(json)), await drivesFromLsblk(json));
  });

  test('kernel name order within a bus: sdb before sdaa, mmcblk2 before mmcblk10; usb before sd', async () => {
    const drives = await drivesFromLsblk(
      lsblk(usbDisk('sdaa', []), mmcDisk('mmcblk10', []), usbDisk('sdb', []), mmcDisk('mmcblk2', [])),
    );
    assert.deepEqual(
      drives.map((d) => d.device),
      ['/dev/sdb', '/dev/sdaa', '/dev/mmcblk2', '/dev/mmcblk10'],
    );
  });

  const names = [
    { a: '/dev/sdz', b: '/dev/sdaa', expected: -1 },
    { a: '/dev/sdb', b: '/dev/sda', expected: 1 },
    { a: '/dev/mmcblk2', b: '/dev/mmcblk10', expected: -1 },
    { a: '/dev/nvme0n1', b: '/dev/nvme1n1', expected: -1 },
    { a: '/dev/sdb', b: '/dev/sdb', expected: 0 },
    { a: '/dev/nbd0', b: '/dev/mmcblk0', expected: 1 },
  ];
  for (const { a, b, expected } of names) {
    test(`compareDeviceNames(${a}, ${b}) has sign ${expected}`, () => {
      assert.equal(Math.sign(compareDeviceNames(a, b)), expected);
    });
  }

  const broken = [
    { title: 'not JSON', input: 'lsblk: failed', message: /no valid JSON/ },
    { title: 'no blockdevices', input: { devices: [] }, message: /no "blockdevices"/ },
    { title: 'null', input: null, message: /no "blockdevices"/ },
  ];
  for (const { title, input, message } of broken) {
    test(`malformed lsblk output (${title}): MEDIA_LIST_FAILED`, async () => {
      await assert.rejects(drivesFromLsblk(input), (error: unknown) => {
        assert.ok(error instanceof MediaError);
        assert.equal(error.code, 'MEDIA_LIST_FAILED');
        assert.match(error.message, message);
        return true;
      });
    });
  }
});
