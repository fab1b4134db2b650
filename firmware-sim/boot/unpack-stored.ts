// A stored package's data archive through the unpacker: the reader and the unpacker joined in one pass.
import { type DeviceFile, readLimits } from '../config/device-file.js';
import { type ReadOptions, readPackageFile } from '../format/reader.js';
import { SafeUnpacker, type UnpackResult } from './unpack.js';

/**
 * Connects an unpacker to the reader so that a failure of the data archive (corrupt, unsafe, over a
 * limit) does not stop the reading: every member is still hashed, and the verdict decides which of the
 * two problems to report. After a failure the unpacker gets no more bytes. `reading` is what the
 * reader is given (`readPackageFile(path, { ...limits, ...reading })`): the data member's bytes, its
 * end, and when the unpacker is done with a chunk, so that the reader lends its buffers uncopied.
 */
export function deferDataErrors(unpacker: SafeUnpacker): {
  reading: Required<Pick<ReadOptions, 'onData' | 'onDataEnd' | 'dataConsumed'>>;
  failure: () => unknown;
  result: () => UnpackResult | undefined;
} {
  let failure: unknown;
  let result: UnpackResult | undefined;
  return {
    reading: {
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
    },
    failure: () => failure,
    result: () => result,
  };
}

/** Paths of a stored package's data archive, checked by the unpacking rules; nothing is written. */
export async function storedEntries(path: string, device: DeviceFile): Promise<string[]> {
  const unpacker = new SafeUnpacker({ limits: device.limits });
  const data = deferDataErrors(unpacker);
  await readPackageFile(path, { ...readLimits(device), ...data.reading });
  if (data.failure() !== undefined) throw data.failure();
  return data.result()!.entries.map((entry) => entry.path);
}
