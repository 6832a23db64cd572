// Reading request bodies: bounded in size, JSON only, validated by a zod schema.
import type { IncomingMessage } from 'node:http';
import type { z } from 'zod';
import { ApiError } from './errors.js';

/** Default bound of a request body (64 KiB). */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

/** Reads the whole body; rejects with 413 past `maxBytes` (by Content-Length or by counting). */
export function readBody(req: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && !(Number(declared) <= maxBytes)) {
    return Promise.reject(new ApiError(413, 'body-too-large', `the request body is ${declared} bytes; at most ${maxBytes} bytes are accepted`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let done = false;
    const timer = setTimeout(() => finish(new ApiError(408, 'body-timeout', `the request body did not arrive within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
    const finish = (error: ApiError | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      if (error !== null) {
        req.pause();
        reject(error);
      } else resolve(Buffer.concat(chunks, total));
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > maxBytes) return finish(new ApiError(413, 'body-too-large', `the request body is over ${maxBytes} bytes; at most ${maxBytes} bytes are accepted`));
      chunks.push(chunk);
    };
    const onEnd = (): void => finish(null);
    const onError = (): void => finish(new ApiError(400, 'bad-request', 'the request body could not be read'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

function pathText(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[');
}

/** Parses a JSON body and validates it; 400 with a message naming the field when it does not fit. */
export function parseJsonBody<S extends z.ZodType>(body: Buffer, schema: S, example: string): z.output<S> {
  if (body.length === 0) throw new ApiError(400, 'bad-request', `the request needs a JSON body like ${example}`);
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new ApiError(400, 'bad-json', `the request body is not valid JSON (${(error as Error).message}); send a body like ${example}`);
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    if (issue.code === 'unrecognized_keys') {
      throw new ApiError(400, 'invalid-body', `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}; send a body like ${example}`);
    }
    const field = pathText(issue.path);
    throw new ApiError(400, 'invalid-body', `${field === '' ? 'body' : field}: ${issue.message}; send a body like ${example}`);
  }
  return result.data;
}
