// A small client of the control API (node:http, no keep-alive, bounded time and size).
import { request } from 'node:http';
import { formatHostPort, type HostPort } from '../config/address.js';

/** Codes of {@link ClientError}. */
export type ClientErrorCode = 'unreachable' | 'timeout' | 'bad-response';

/** The API could not be asked (not running, too slow, or an answer that is not the API's). */
export class ClientError extends Error {
  constructor(readonly code: ClientErrorCode, message: string) {
    super(message);
    this.name = 'ClientError';
  }
}

/** An answer of the API. */
export interface ApiAnswer {
  readonly status: number;
  readonly contentType: string;
  /** Parsed JSON when the answer is JSON, else the text. */
  readonly body: unknown;
}

const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOENT', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

/** Calls the control API at `address`. */
export class ApiClient {
  constructor(readonly address: HostPort, private readonly timeoutMs = 5_000) {}

  private unreachable(reason: string): ClientError {
    return new ClientError('unreachable', `cannot reach the rackmem API at ${formatHostPort(this.address)}: is "rackmem node start" running? (${reason})`);
  }

  /** Sends a request; resolves with any HTTP answer, rejects with {@link ClientError} when there is none. */
  call(method: string, path: string, body?: unknown, timeoutMs = this.timeoutMs): Promise<ApiAnswer> {
    const payload = body === undefined ? null : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (error: ClientError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        reject(error);
      };
      const req = request(
        {
          host: this.address.host,
          port: this.address.port,
          method,
          path,
          agent: false,
          headers: {
            accept: 'application/json',
            connection: 'close',
            ...(payload !== null ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let total = 0;
          res.on('data', (chunk: Buffer) => {
            total += chunk.length;
            if (total > MAX_RESPONSE_BYTES) return fail(new ClientError('bad-response', `the answer from ${formatHostPort(this.address)} is over ${MAX_RESPONSE_BYTES} bytes`));
            chunks.push(chunk);
          });
          res.on('error', () => fail(this.unreachable('connection reset while reading the answer')));
          res.on('end', () => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            const text = Buffer.concat(chunks).toString('utf8');
            const contentType = String(res.headers['content-type'] ?? '');
            let parsed: unknown = text;
            if (contentType.startsWith('application/json')) {
              try {
                parsed = JSON.parse(text);
              } catch {
                return reject(new ClientError('bad-response', `the answer from ${formatHostPort(this.address)} is not valid JSON; is that a rackmem API?`));
              }
            }
            resolve({ status: res.statusCode ?? 0, contentType, body: parsed });
          });
        },
      );
      const timer = setTimeout(() => fail(new ClientError('timeout', `the rackmem API at ${formatHostPort(this.address)} did not answer within ${timeoutMs} ms`)), timeoutMs);
      req.on('error', (error: NodeJS.ErrnoException) => {
        const code = error.code ?? error.message;
        fail(UNREACHABLE.has(code) || !settled ? this.unreachable(code) : new ClientError('bad-response', code));
      });
      req.end(payload ?? undefined);
    });
  }
}
