// The control HTTP API server (node:http, JSON in and out). Loopback by default; requests with a
// body must say Content-Type: application/json (so a web page cannot post to it without a CORS
// preflight) and bodies are bounded; a Host header that is not this machine is refused on a
// loopback listener (DNS rebinding). Every error is `{error: {code, message}}` with a 4xx/5xx.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import { isLoopbackHost, type HostPort } from '../config/address.js';
import { DEFAULT_MAX_BODY_BYTES, readBody } from './body.js';
import { ApiError, type ApiErrorBody } from './errors.js';
import type { ApiResponse, Router } from './router.js';
import type { NodeMetrics } from './metrics.js';

/** Options of an {@link ApiServer}. */
export interface ApiServerOptions {
  readonly router: Router;
  readonly metrics?: NodeMetrics;
  readonly logger?: Logger;
  /** Largest request body (default 64 KiB). */
  readonly maxBodyBytes?: number;
  /** A request must arrive completely within this (default 10 s). */
  readonly requestTimeoutMs?: number;
  /** Accept Host headers that name other machines (when the API listens on a remote address). */
  readonly allowRemote?: boolean;
}

/** The control API's HTTP server. */
export class ApiServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly maxBodyBytes: number;
  private readonly requestTimeoutMs: number;
  private bound: HostPort | null = null;
  private closing: Promise<void> | null = null;

  constructor(private readonly options: ApiServerOptions) {
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.server = createServer({ requestTimeout: this.requestTimeoutMs, headersTimeout: Math.min(this.requestTimeoutMs, 10_000), keepAliveTimeout: 2_000 }, (req, res) => {
      void this.handle(req, res);
    });
    this.server.maxHeadersCount = 100;
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.server.on('clientError', (_error, socket: Socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
    });
  }

  /** The bound address, once listening. */
  get address(): HostPort | null {
    return this.bound;
  }

  /** Listens on host:port (0 picks a free port); resolves with the bound address. */
  listen(host: string, port: number): Promise<HostPort> {
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        reject(new ApiError(500, 'listen-failed', `the control API cannot listen on ${host}:${port}: ${error.code ?? error.message}; pick another address with --api or stop the other process`));
      };
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        const info = this.server.address() as AddressInfo;
        this.bound = { host, port: info.port };
        resolve(this.bound);
      });
    });
  }

  /**
   * Stops accepting requests, lets requests in progress finish for up to `graceMs`, then closes
   * every connection. Resolves when the server is closed.
   */
  close(graceMs = 2_000): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.closing = new Promise<void>((resolve) => {
      if (!this.server.listening) return resolve();
      const force = setTimeout(() => {
        for (const socket of this.sockets) socket.destroy();
      }, graceMs);
      force.unref();
      this.server.close(() => {
        clearTimeout(force);
        resolve();
      });
      this.server.closeIdleConnections();
    });
    return this.closing;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    let route = 'unmatched';
    let status = 500;
    try {
      if (this.closing !== null) throw new ApiError(503, 'shutting-down', 'the node is shutting down');
      const host = req.headers.host;
      if (!this.options.allowRemote && host !== undefined && !isLoopbackHost(hostOfHeader(host))) {
        throw new ApiError(403, 'forbidden-host', `Host "${host}" is not this machine; the control API answers requests to 127.0.0.1 or localhost only`);
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      const match = this.options.router.match(method, url.pathname);
      route = match.pattern;
      if ((method === 'POST' || method === 'PUT') && !isJson(req.headers['content-type'])) {
        throw new ApiError(415, 'unsupported-media-type', 'send the body as JSON with the header Content-Type: application/json');
      }
      const response = await match.handler({
        method,
        params: match.params,
        query: url.searchParams,
        headers: req.headers,
        body: () => readBody(req, this.maxBodyBytes, this.requestTimeoutMs),
      });
      status = response.status ?? 200;
      this.send(req, res, status, response);
    } catch (error) {
      const apiError = error instanceof ApiError ? error : new ApiError(500, 'internal', `internal error: ${(error as Error)?.message ?? String(error)}; see the node's log`);
      if (!(error instanceof ApiError)) this.options.logger?.error({ event: 'api-error', err: error, method, url: req.url }, 'api request failed');
      status = apiError.status;
      const body: ApiErrorBody = { error: { code: apiError.code, message: apiError.message } };
      this.send(req, res, status, { body }, apiError.headers, apiError.status === 413 || apiError.status === 408);
    } finally {
      this.options.metrics?.countRequest(method, route, status);
    }
  }

  private send(req: IncomingMessage, res: ServerResponse, status: number, response: ApiResponse, headers: Record<string, string> = {}, closeAfter = false): void {
    if (res.headersSent) return;
    const text = typeof response.body === 'string' ? response.body : `${JSON.stringify(response.body)}\n`;
    const contentType = response.contentType ?? (typeof response.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8');
    res.writeHead(status, {
      'content-type': contentType,
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
      ...headers,
      ...(closeAfter || this.closing !== null ? { connection: 'close' } : {}),
    });
    res.end(text);
    if (closeAfter) {
      // The rest of an oversized or stalled body is not read: close the connection once the answer is out.
      res.once('finish', () => req.socket.destroySoon());
    }
  }
}

function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  return /^application\/([a-z0-9.+-]+\+)?json\s*(;|$)/i.test(contentType.trim());
}

function hostOfHeader(host: string): string {
  const bracket = /^\[([^\]]+)\]/.exec(host);
  if (bracket !== null) return bracket[1];
  const colon = host.lastIndexOf(':');
  return colon >= 0 ? host.slice(0, colon) : host;
}
