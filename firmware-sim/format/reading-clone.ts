// A package reading that crossed a thread: structured cloning keeps its data and drops its classes.
import { ControlFile } from './control.js';
import type { PackageReading } from './reader.js';

/** A Buffer over the same memory as `bytes` (cloning turns Buffers into plain Uint8Arrays). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Makes a `PackageReading` whole again after `postMessage`: the control file becomes a `ControlFile`
 * (its lookups are methods), every byte array a Buffer. Nothing is parsed or checked again: the
 * reading is what the other thread's reader produced from the file.
 */
export function reviveReading(cloned: PackageReading): PackageReading {
  const { control, controlFiles, manifest, signature } = cloned;
  return {
    ...cloned,
    control: new ControlFile(control.fields),
    controlFiles: new Map([...controlFiles].map(([name, bytes]) => [name, asBuffer(bytes)])),
    ...(manifest ? { manifest: { parsed: manifest.parsed, bytes: asBuffer(manifest.bytes) } } : {}),
    ...(signature
      ? {
          signature: {
            parsed: {
              ...signature.parsed,
              keyNumber: asBuffer(signature.parsed.keyNumber),
              signature: asBuffer(signature.parsed.signature),
            },
            bytes: asBuffer(signature.bytes),
          },
        }
      : {}),
  };
}
