// Trace files: synchronous chunked reading (the replaying MMU pulls accesses synchronously, so
// the reader does too) and a patchable file sink for the writers. The only I/O of the
// workloads lives here; the parsers in internal/workloads/trace take bytes.

import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { ByteReader, ByteSource } from '../../internal/workloads/trace/records.js';
import type { ByteSink } from '../../internal/workloads/trace/trace-writer.js';

/** A re-openable byte source over a file; each `open()` opens its own descriptor. */
export function fileByteSource(path: string): ByteSource {
  return {
    name: path,
    open(): ByteReader {
      let fd: number | undefined = openSync(path, 'r');
      let position = 0;
      return {
        read(into: Uint8Array): number {
          if (fd === undefined) return 0;
          const n = readSync(fd, into, 0, into.length, position);
          position += n;
          if (n === 0) {
            closeSync(fd);
            fd = undefined;
          }
          return n;
        },
        close(): void {
          if (fd !== undefined) closeSync(fd);
          fd = undefined;
        },
      };
    },
  };
}

/** Resolves trace paths of specs against a directory (e.g. the scenario file's). */
export function traceFileOpener(baseDir?: string): (path: string) => ByteSource {
  return (path: string) => fileByteSource(baseDir === undefined || isAbsolute(path) ? path : resolve(baseDir, path));
}

/** A file sink for trace writers; patches the header in place. Call close() at the end. */
export class FileSink implements ByteSink {
  private fd: number | undefined;
  private position = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }

  write(bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) done += writeSync(this.descriptor(), bytes, done, bytes.length - done, this.position + done);
    this.position += bytes.length;
  }

  patch(position: number, bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) done += writeSync(this.descriptor(), bytes, done, bytes.length - done, position + done);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private descriptor(): number {
    if (this.fd === undefined) throw new Error(`The trace file ${this.path} is already closed.`);
    return this.fd;
  }
}
