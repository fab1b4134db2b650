import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createMediaResolver, DEFAULT_MEDIA_LABELS, type MediaResolver } from '../../media/index.js';
import { type MountDirs, makeMountDirs, put } from '../helpers/media-fixtures.js';

// The simulated stick is the mount point here: confinement is the same for every drive.
describe('resolve: the path stays inside the media', () => {
  let mounts: MountDirs;
  let resolver: MediaResolver;
  let stick: string;
  before(async () => {
    mounts = await makeMountDirs(['usb0', 'outside', 'usb0-evil']);
    stick = mounts.dir('usb0');
    resolver = createMediaResolver({ usbStick: stick, lister: async () => [] });
    await put(stick, 'top.wmopkg', 'top');
    await put(stick, 'pkg/x.wmopkg', 'x');
    await put(stick, 'pkg/sub/y.wmopkg', 'y');
    await put(mounts.dir('outside'), 'secret.wmopkg', 'secret');
    await put(mounts.dir('usb0-evil'), 'z.wmopkg', 'z');
    await symlink(join(mounts.dir('outside'), 'secret.wmopkg'), join(stick, 'link-out.wmopkg'));
    await symlink(mounts.dir('outside'), join(stick, 'dir-out'));
    await symlink('../usb0-evil/z.wmopkg', join(stick, 'sibling.wmopkg'));
    await symlink('pkg/x.wmopkg', join(stick, 'link-in.wmopkg'));
    await symlink('../top.wmopkg', join(stick, 'pkg/up-in.wmopkg'));
    await symlink('sub', join(stick, 'pkg/dir-in'));
    await symlink('missing.wmopkg', join(stick, 'dangling.wmopkg'));
    await symlink('loop-b', join(stick, 'loop-a'));
    await symlink('loop-a', join(stick, 'loop-b'));
    await symlink('/', join(stick, 'root'));
    await mkdir(join(stick, 'dir.wmopkg'));
    execFileSync('mkfifo', [join(stick, 'fifo.wmopkg')]);
  });
  after(() => mounts.cleanup());

  const allowed = [
    { title: 'a file at the root', input: 'top.wmopkg', expected: 'top.wmopkg' },
    { title: 'a file in a directory', input: 'pkg/x.wmopkg', expected: 'pkg/x.wmopkg' },
    { title: 'a ./ prefix and doubled slashes', input: './pkg//x.wmopkg', expected: 'pkg/x.wmopkg' },
    { title: '.. that stays inside', input: 'pkg/sub/../x.wmopkg', expected: 'pkg/x.wmopkg' },
    { title: 'a symlink inside the media', input: 'link-in.wmopkg', expected: 'pkg/x.wmopkg' },
    { title: 'a symlink going up but staying inside', input: 'pkg/up-in.wmopkg', expected: 'top.wmopkg' },
    { title: 'a directory symlink inside', input: 'pkg/dir-in/y.wmopkg', expected: 'pkg/sub/y.wmopkg' },
  ];
  for (const { title, input, expected } of allowed) {
    test(`allowed: ${title} (${input})`, async () => {
      const file = await resolver.resolve(DEFAULT_MEDIA_LABELS, 'external', input);
      assert.equal(file.path, join(stick, expected));
      assert.equal(file.mountpoint, stick);
    });
  }

  const refused = [
    { title: '..', input: '..', code: 'MEDIA_PATH_ESCAPE', what: 'path escapes the media: ..' },
    {
      title: '../x',
      input: '../outside/secret.wmopkg',
      code: 'MEDIA_PATH_ESCAPE',
      what: 'path escapes the media',
    },
    {
      title: 'a/../../x',
      input: 'pkg/../../x.wmopkg',
      code: 'MEDIA_PATH_ESCAPE',
      what: 'path escapes the media',
    },
    {
      title: 'a sibling directory with the same prefix',
      input: 'sibling.wmopkg',
      code: 'MEDIA_PATH_ESCAPE',
      what: 'path escapes the media: sibling.wmopkg',
    },
    {
      title: 'an absolute path',
      input: '/etc/passwd',
      code: 'MEDIA_BAD_PATH',
      what: 'path must be relative to the media root: /etc/passwd',
    },
    { title: 'an empty path', input: '', code: 'MEDIA_BAD_PATH', what: 'no file given' },
    { title: 'a NUL byte', input: 'x\0.wmopkg', code: 'MEDIA_BAD_PATH', what: 'bad path: x\\x00.wmopkg' },
    {
      title: 'a symlink to a file outside',
      input: 'link-out.wmopkg',
      code: 'MEDIA_PATH_ESCAPE',
      what: 'path escapes the media: link-out.wmopkg',
    },
    {
      title: 'a symlinked directory outside',
      input: 'dir-out/secret.wmopkg',
      code: 'MEDIA_PATH_ESCAPE',
      what: 'path escapes the media',
    },
    {
      title: 'a symlink to /',
      input: 'root/etc/passwd',
      code: 'MEDIA_PATH_ESCAPE',
      what: 'path escapes the media',
    },
    {
      title: 'a missing file',
      input: 'pkg/none.wmopkg',
      code: 'MEDIA_NOT_FOUND',
      what: 'no such file: pkg/none.wmopkg',
    },
    {
      title: 'a file below a file',
      input: 'top.wmopkg/x',
      code: 'MEDIA_NOT_FOUND',
      what: 'no such file: top.wmopkg/x',
    },
    { title: 'a dangling symlink', input: 'dangling.wmopkg', code: 'MEDIA_NOT_FOUND', what: 'no such file' },
    {
      title: 'a symlink loop',
      input: 'loop-a',
      code: 'MEDIA_PATH_ESCAPE',
      what: 'too many symbolic links: loop-a',
    },
    {
      title: 'a directory',
      input: 'dir.wmopkg',
      code: 'MEDIA_NOT_A_FILE',
      what: 'not a regular file: dir.wmopkg',
    },
    { title: 'the media root', input: '.', code: 'MEDIA_NOT_A_FILE', what: 'not a regular file: .' },
    {
      title: 'a fifo',
      input: 'fifo.wmopkg',
      code: 'MEDIA_NOT_A_FILE',
      what: 'not a regular file: fifo.wmopkg',
    },
  ];
  for (const { title, input, code, what } of refused) {
    test(`refused: ${title}`, async () => {
      await assert.rejects(resolver.resolve(DEFAULT_MEDIA_LABELS, 'external', input), (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.equal((error as { code?: string }).code, code);
        assert.ok(error.message.startsWith(`media external: ${what}`), error.message);
        assert.doesNotMatch(error.message, /\n/);
        assert.ok(!error.message.includes(mounts.root), 'no host path, no link target in the message');
        return true;
      });
    });
  }

  test('a mount point reached through a symlink: paths are reported with it resolved', async () => {
    const linked = join(mounts.root, 'usb0-link');
    await symlink(stick, linked);
    const viaLink = createMediaResolver({ usbStick: linked, lister: async () => [] });
    const file = await viaLink.resolve(DEFAULT_MEDIA_LABELS, 'external', 'pkg/x.wmopkg');
    assert.deepEqual(file, {
      label: 'external',
      device: 'sim-usb0',
      mountpoint: stick,
      path: join(stick, 'pkg/x.wmopkg'),
    });
    await assert.rejects(viaLink.resolve(DEFAULT_MEDIA_LABELS, 'external', 'link-out.wmopkg'), {
      code: 'MEDIA_PATH_ESCAPE',
    });
  });
});
