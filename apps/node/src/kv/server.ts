// The kv HTTP API (node:http): GET/PUT/DELETE /kv/:key, GET /stats, GET /healthz. Bodies and URLs
// are bounded, every request has a deadline, every error is JSON `{ error: { code, message } }`.
// The store is touched only here, on the main thread; a touch may fault and wait for the pager.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from '../api/body.js';
import { ApiError } from '../api/errors.js';
import { KvError } from './errors.js';
import { MAX_KEY_BYTES, MAX_VALUE_BYTES } from './layout.js';
import type { KvStore, KvStoreStats } from './store.js';

/** Options of {@link KvServer.listen}. */
export interface KvServerOptions {
  store: KvStore;
  /** Extra sections of `GET /stats` (the region's counters), read at each request. */
  stats?: () => Record<string, unknown>;
  /** Host to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default 7480; 0 picks a free port). */
  port?: number;
  /** Time for a request's body to arrive (default 10 s). */
  bodyTimeoutMs?: number;
  /** Most open connections (default 1024). */
  maxConnections?: number;
}

/** Counters of the HTTP layer. */
export interface KvHttpStats {
  requests: number;
  /** Responses by status code. */
  responses: Record<string, number>;
}

const KV_PREFIX = '/kv/';
/** A key of 256 bytes percent-encoded is at most 768 characters. */
const MAX_KEY_SEGMENT_CHARS = 3 * MAX_KEY_BYTES;
const ALLOW_KV = 'GET, HEAD, PUT, DELETE';

class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

/** The kv HTTP server. */
export class KvServer {
  private readonly http: KvHttpStats = { requests: 0, responses: {} };
  private closing: Promise<void> | null = null;

  private constructor(private readonly server: Server, private readonly options: KvServerOptions, readonly host: string, readonly port: number) {}

  /** Starts listening; resolves once the port is bound. */
  static async listen(options: KvServerOptions): Promise<KvServer> {
    const bodyTimeoutMs = options.bodyTimeoutMs ?? 10_000;
    let self: KvServer | null = null;
    const server = createServer({ requestTimeout: bodyTimeoutMs + 5_000, headersTimeout: 10_000, maxHeaderSize: 16 * 1024 }, (req, res) => {
      if (self === null) {
        res.writeHead(503).end();
        return;
      }
      self.handle(req, res, bodyTimeoutMs);
    });
    server.maxConnections = options.maxConnections ?? 1024;
    server.keepAliveTimeout = 5_000;
    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 7480, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    self = new KvServer(server, options, host, address.port);
    return self;
  }

  /** `http://host:port`. */
  get url(): string {
    return `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  /** The HTTP counters. */
  httpStats(): KvHttpStats {
    return { requests: this.http.requests, responses: { ...this.http.responses } };
  }

  /** The body of `GET /stats`. */
  stats(): { store: KvStoreStats; http: KvHttpStats } & Record<string, unknown> {
    return { ...(this.options.stats?.() ?? {}), store: this.options.store.stats(), http: this.httpStats() };
  }

  /** Stops accepting, lets requests in flight finish (up to `graceMs`), then closes every connection. Idempotent. */
  close(graceMs = 2_000): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.server.closeAllConnections(), graceMs);
      this.server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      this.server.closeIdleConnections();
    });
    return this.closing;
  }

  private handle(req: IncomingMessage, res: ServerResponse, bodyTimeoutMs: number): void {
    this.http.requests++;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    try {
      if (path.startsWith(KV_PREFIX)) {
        this.handleKv(req, res, path.slice(KV_PREFIX.length), bodyTimeoutMs);
      } else if (path === '/healthz') {
        this.onlyGet(req);
        this.json(res, 200, { status: 'ok' });
      } else if (path === '/stats') {
        this.onlyGet(req);
        this.json(res, 200, this.stats());
      } else {
        throw new HttpError(404, 'not-found', `no such endpoint ${JSON.stringify(path.slice(0, 100))}; use /kv/:key, /stats or /healthz`);
      }
    } catch (error) {
      this.fail(req, res, error);
    }
  }

  private handleKv(req: IncomingMessage, res: ServerResponse, segment: string, bodyTimeoutMs: number): void {
    const key = parseKeySegment(segment);
    const store = this.options.store;
    switch (req.method) {
      case 'GET':
      case 'HEAD': {
        const value = store.get(key);
        if (value === null) throw new HttpError(404, 'not-found', 'no such key');
        // a copy, so the bytes sent are the value at the time of the request, whatever follows
        this.send(res, 200, { 'content-type': 'application/octet-stream', 'content-length': String(value.length) }, req.method === 'HEAD' ? undefined : value);
        return;
      }
      case 'DELETE':
        if (!store.delete(key)) throw new HttpError(404, 'not-found', 'no such key');
        this.send(res, 204, {});
        return;
      case 'PUT':
        readBoundedBody(req, MAX_VALUE_BYTES, bodyTimeoutMs).then(
          (body) => {
            try {
              const result = store.put(key, body);
              this.send(res, result === 'created' ? 201 : 204, result === 'created' ? { 'content-length': '0' } : {});
            } catch (error) {
              this.fail(req, res, error);
            }
          },
          (error: unknown) => this.fail(req, res, error),
        );
        return;
      default:
        throw new HttpError(405, 'method-not-allowed', `${String(req.method).slice(0, 20)} is not supported on /kv/:key; use ${ALLOW_KV}`, { allow: ALLOW_KV });
    }
  }

  private onlyGet(req: IncomingMessage): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'method-not-allowed', 'use GET', { allow: 'GET, HEAD' });
  }

  private fail(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    let status = 500;
    let code = 'internal';
    let message = 'internal error';
    let headers: Record<string, string> = {};
    if (error instanceof HttpError) {
      ({ status, code, message, headers } = error);
    } else if (error instanceof KvError) {
      ({ status, code, message } = error);
    } else if (error instanceof Error) {
      message = `internal error: ${error.message}`;
    }
    // A body refused unread (too large, too slow) is not drained: the connection closes instead.
    if ((status === 413 || status === 408) && !req.complete) headers = { ...headers, connection: 'close' };
    this.json(res, status, { error: { code, message } }, headers);
  }

  private json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = Buffer.from(JSON.stringify(body));
    this.send(res, status, { ...headers, 'content-type': 'application/json', 'content-length': String(text.length) }, text);
  }

  private send(res: ServerResponse, status: number, headers: Record<string, string>, body?: Uint8Array): void {
    if (res.headersSent || res.destroyed) return;
    const key = String(status);
    this.http.responses[key] = (this.http.responses[key] ?? 0) + 1;
    res.writeHead(status, headers);
    res.end(body);
  }
}

/** The key bytes of a `/kv/:key` path segment (percent-decoded UTF-8, 1 to 256 bytes, no `/`). */
export function parseKeySegment(segment: string): Uint8Array {
  if (segment.length === 0) throw new HttpError(400, 'invalid-key', 'the key is empty; use /kv/:key with a key of 1 to 256 bytes');
  if (segment.length > MAX_KEY_SEGMENT_CHARS) throw new HttpError(400, 'invalid-key', `the key is longer than ${MAX_KEY_BYTES} bytes`);
  if (segment.includes('/')) throw new HttpError(400, 'invalid-key', 'the key contains "/"; percent-encode it as %2F');
  let text: string;
  try {
    text = decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, 'invalid-key', 'the key is not valid percent-encoded UTF-8');
  }
  const key = Buffer.from(text, 'utf8');
  if (key.length > MAX_KEY_BYTES) throw new HttpError(400, 'invalid-key', `the key is ${key.length} bytes; keys are 1 to ${MAX_KEY_BYTES} bytes`);
  return key;
}

/** Reads a value (api/body.ts's bounded body reader), with the kv service's code for a value too large. */
function readBoundedBody(req: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<Buffer> {
  return readBody(req, maxBytes, timeoutMs).catch((error: unknown) => {
    if (!(error instanceof ApiError)) throw error;
    if (error.code === 'body-too-large') throw new HttpError(413, 'value-too-large', `${error.message.replace('request body', 'value')} (values are at most 64 KiB)`);
    throw new HttpError(error.status, error.code, error.message);
  });
}
