// A stored package's data archive through the unpacker: the reader and the unpacker joined in one pass.
import { type DeviceFile, readLimits } from '../config/device-file.js';
import { readPackageFile } from '../format/reader.js';
import { SafeUnpacker, type UnpackResult } from './unpack.js';

/**
 * Connects an unpacker to the reader so that a failure of the data archive (corrupt, unsafe, over a
 * limit) does not stop the reading: every member is still hashed, and the verdict decides which of the
 * two problems to report. After a failure the unpacker gets no more bytes.
 */
export function deferDataErrors(unpacker: SafeUnpacker): {
  onData: (chunk: Buffer) => Promise<void>;
  onDataEnd: () => Promise<void>;
  /** Resolves once the unpacker has read every chunk given so far (`ReadOptions.dataConsumed`). */
  dataConsumed: () => Promise<void>;
  failure: () => unknown;
  result: () => UnpackResult | undefined;
} {
  let failure: unknown;
  let result: UnpackResult | undefined;
  return {
    onData: async (chunk) => {
      if (failure !== undefined) return;
      await unpacker.write(chunk).catch((error: unknown) => {
        failure = error;
      });
    },
    onDataEnd: async () => {
      if (failure !== undefined) return;
      result = await unpacker.end().catch((error: unknown) => {
        failure = error;
        return undefined;
      });
    },
    dataConsumed: () => unpacker.consumed(),
    failure: () => failure,
    result: () => result,
  };
}

/** Paths of a stored package's data archive, checked by the unpacking rules; nothing is written. */
export async function storedEntries(path: string, device: DeviceFile): Promise<string[]> {
  const unpacker = new SafeUnpacker({ limits: device.limits });
  const data = deferDataErrors(unpacker);
  await readPackageFile(path, {
    ...readLimits(device),
    onData: data.onData,
    onDataEnd: data.onDataEnd,
    dataConsumed: data.dataConsumed,
  });
  if (data.failure() !== undefined) throw data.failure();
  return data.result()!.entries.map((entry) => entry.path);
}
