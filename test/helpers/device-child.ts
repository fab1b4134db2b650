// A device operation in a child process, for tests that kill it or run two at once.
// Usage: node device-child.js DIR VENDOR_DIR OP [ARGS…]; prints a JSON result, or `ERROR CODE message`.
import { createReadStream, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeviceError, openDevice } from '../../firmware-sim/index.js';
import { mediaFetcher } from './feed-device.js';

const [dir, vendorDir, op, ...args] = process.argv.slice(2);

async function main(): Promise<unknown> {
  const device = await openDevice(dir!, {
    session: {
      user: process.env.CHILD_USER ?? 'child',
      id: process.env.CHILD_SESSION ?? String(process.pid),
    },
    vendorDir: vendorDir!,
    lockWaitMs: Number(process.env.CHILD_LOCK_WAIT ?? 10_000),
  });
  switch (op) {
    case 'open':
      return { names: await device.names() };
    case 'install': {
      const [name, file, persistent] = args;
      return device.install({
        name: name!,
        persistent: persistent === 'persistent',
        origin: { kind: 'media', label: 'external', path: basename(file!) },
        stream: createReadStream(file!),
        confirmDowngrade: async () => true,
      });
    }
    case 'install-stall': {
      // Holds the lock: sends half of the package, says so on stdout, then waits to be killed.
      const [name, file] = args;
      const bytes = readFileSync(file!);
      const stream = new PassThrough();
      // Nothing else keeps this process alive while the stream waits for bytes that never come.
      setInterval(() => {}, 1000);
      stream.write(bytes.subarray(0, bytes.length >> 1));
      const install = device.install({
        name: name!,
        persistent: false,
        origin: { kind: 'media', label: 'external', path: basename(file!) },
        stream,
        confirmDowngrade: async () => true,
      });
      for (;;) {
        const holder = await readFileSafe(device.paths.lockFile);
        if (holder.includes(`"pid":${process.pid},`)) break;
        await sleep(10);
      }
      process.stdout.write('holding\n');
      return install;
    }
    case 'remove':
      await device.remove(args[0]!);
      return { removed: args[0] };
    case 'remove-all':
      return { removed: await device.removeAll() };
    case 'boot':
      return device.boot();
    case 'factory-reset':
      return device.factoryReset();
    case 'updater-run': {
      // One updater run over the real transports (the feed configured on the device, on loopback).
      const { transportFetcher } = await import('./updater-fixtures.js');
      const { plan: _plan, ...outcome } = await device.updater.run({
        fetcher: transportFetcher(device),
        trigger: 'timer',
      });
      return outcome;
    }
    case 'feed-update':
      // Feeds on the device's stick: no network in a child that is killed.
      return device.updateFeeds({ fetcher: mediaFetcher(device) });
    case 'feed-install': {
      const plan = await device.planFeeds({
        requests: args.map((name) => ({ kind: 'install' as const, name })),
      });
      return device.applyPlan(plan, { fetcher: mediaFetcher(device) });
    }
    case 'feed-remove': {
      const plan = await device.planRemove(args);
      return device.applyPlan(plan, { fetcher: mediaFetcher(device) });
    }
    default:
      throw new Error(`unknown operation ${op}`);
  }
}

async function readFileSafe(path: string): Promise<string> {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

main().then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  },
  (error: unknown) => {
    const code = error instanceof DeviceError ? error.code : 'UNEXPECTED';
    process.stdout.write(`ERROR ${code} ${(error as Error).message}\n`);
    if (code === 'UNEXPECTED') process.stderr.write(`${(error as Error).stack}\n`);
    process.exitCode = 1;
  },
);
