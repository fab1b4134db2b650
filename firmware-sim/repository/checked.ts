// A package download checked against its feed index as it flows: never more than `Size`, and the SHA-256 at the end.
import { createHash } from 'node:crypto';
import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';
import type { FeedPackageInfo } from '../api.js';
import { DeviceError } from '../errors.js';

/**
 * Passes `stream` through, failing with `DEVICE_DOWNLOAD_MISMATCH` as soon as it brings more bytes
 * than the index's `Size`, and at its end when the size or the SHA-256 differ: the install reading
 * it then stores nothing. The package's own signature is checked after this, as for any install.
 */
export function checkedDownload(stream: Readable, pkg: FeedPackageInfo): Readable {
  const hash = createHash('sha256');
  let size = 0;
  const what = `${pkg.name} ${pkg.version} from feed ${pkg.feed} (${pkg.filename})`;
  const check = new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      size += chunk.length;
      if (size > pkg.size) {
        done(
          new DeviceError(
            'DEVICE_DOWNLOAD_MISMATCH',
            `${what} is larger than its index says (${pkg.size} bytes); nothing was installed (run update)`,
          ),
        );
        return;
      }
      hash.update(chunk);
      done(null, chunk);
    },
    flush(done: TransformCallback) {
      if (size !== pkg.size) {
        done(
          new DeviceError(
            'DEVICE_DOWNLOAD_MISMATCH',
            `${what} has ${size} bytes, its index says ${pkg.size}; nothing was installed (run update)`,
          ),
        );
        return;
      }
      const sha = hash.digest('hex');
      if (sha !== pkg.sha256) {
        done(
          new DeviceError(
            'DEVICE_DOWNLOAD_MISMATCH',
            `${what} does not match the SHA-256 of its index (got ${sha.slice(0, 16)}…); nothing was installed`,
          ),
        );
        return;
      }
      done();
    },
  });
  // pipeline, not pipe: pipe's own error handler re-emits a failed check as an uncaught error once the
  // reader has stopped listening; pipeline destroys both sides and leaves the error to the reader.
  pipeline(stream, check, () => {});
  return check;
}
