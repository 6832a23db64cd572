// The cluster secret for `kv serve --storage remote`, read like `rackmem node start` reads it: the
// file's bytes without one trailing newline, at least 16 bytes, not accessible to every user.
import { readFileSync, statSync } from 'node:fs';
import { KvError } from './errors.js';

const MIN_SECRET_BYTES = 16;
const MAX_SECRET_BYTES = 64 * 1024;

/** Reads a secret file and returns the secret as hex (what remote storage takes). */
export function readSecretFileHex(path: string): string {
  let bytes: Buffer;
  try {
    const info = statSync(path);
    if (!info.isFile()) throw new KvError('invalid-option', `--secret-file: "${path}" is not a regular file`);
    if ((info.mode & 0o006) !== 0) throw new KvError('invalid-option', `--secret-file: "${path}" can be read or written by every user; the cluster secret must be private: run chmod 600 ${path}`);
    if (info.size > MAX_SECRET_BYTES) throw new KvError('invalid-option', `--secret-file: "${path}" is ${info.size} bytes; a secret file is at most ${MAX_SECRET_BYTES} bytes`);
    bytes = readFileSync(path);
  } catch (error) {
    if (error instanceof KvError) throw error;
    throw new KvError('invalid-option', `--secret-file: cannot read "${path}": ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0a) end--;
  if (end > 0 && bytes[end - 1] === 0x0d) end--;
  if (end < MIN_SECRET_BYTES) {
    throw new KvError('invalid-option', `--secret-file: "${path}" holds ${end} bytes; the cluster secret must be at least ${MIN_SECRET_BYTES} bytes (for example: head -c 32 /dev/urandom | base64 > ${path})`);
  }
  return bytes.subarray(0, end).toString('hex');
}
