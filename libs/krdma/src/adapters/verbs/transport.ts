// RdmaTransport: one opened device (context, PD, an optional exposed donor region) and the RC
// endpoints to peers, set up over the TCP side channel. Setup is promise-based (an edge); the data
// path of each endpoint uses completion callbacks.
import { createServer, type Server, type Socket } from 'node:net';
import { VerbsDevice, type VerbsDeviceOptions } from './device.js';
import { VerbsEndpoint, type VerbsEndpointOptions } from './endpoint.js';
import { VerbsError } from './errors.js';
import type { VerbsHca } from './hca.js';
import { ACCESS_ALL, type RegisteredBuffer } from './memory.js';
import { LineChannel, dialSideChannel, encodeConnectionInfo, parseConnectionInfo } from './side-channel.js';

/** Options of {@link RdmaTransport.open}. */
export interface RdmaTransportOptions extends VerbsDeviceOptions, VerbsEndpointOptions {
  /** Bytes of donor memory exposed to peers for one-sided READ/WRITE; default 0 (none). */
  readonly exposeBytes?: number;
  /** Timeout of every side-channel wait (connect, info, ready) in ms; default 5000. */
  readonly setupTimeoutMs?: number;
  /** Endpoints at most (accepted and dialled); default 64. */
  readonly maxEndpoints?: number;
}

/** Verbs transport over one device (see the module comment). */
export class RdmaTransport {
  private readonly endpointSet = new Set<VerbsEndpoint>();
  private server: Server | null = null;
  private boundPort: number | null = null;
  private acceptListener: ((endpoint: VerbsEndpoint) => void) | null = null;
  private closed = false;
  /** Accepted side channels that failed during setup, with the reason (for the log). */
  readonly acceptFailures: string[] = [];

  private constructor(
    /** The opened device (or the fake NIC's, in tests). */
    readonly device: VerbsHca,
    /** The exposed donor region (null when exposeBytes is 0). Peers READ and WRITE it directly. */
    readonly exposed: RegisteredBuffer | null,
    private readonly options: RdmaTransportOptions,
  ) {}

  /**
   * Opens the device and registers the exposed region. Throws `libibverbs-missing` (install
   * libibverbs1) or `no-rdma-device` (the message suggests `--transport tcp`).
   */
  static open(options: RdmaTransportOptions = {}): RdmaTransport {
    return RdmaTransport.onDevice(VerbsDevice.open(options), options);
  }

  /**
   * A transport over an opened device (the fake NIC's in tests), which it owns from now on: it
   * registers the exposed region and closes the device on `close()` (or when this throws).
   */
  static onDevice(device: VerbsHca, options: RdmaTransportOptions = {}): RdmaTransport {
    try {
      const exposeBytes = options.exposeBytes ?? 0;
      const exposed = exposeBytes > 0 ? device.registrar.register(exposeBytes, ACCESS_ALL) : null;
      return new RdmaTransport(device, exposed, options);
    } catch (err) {
      device.close();
      throw err;
    }
  }

  /** The endpoints that are set up (connected) and not closed. */
  endpoints(): VerbsEndpoint[] {
    return [...this.endpointSet];
  }

  /** Sets the one listener of accepted endpoints. */
  onAccept(listener: ((endpoint: VerbsEndpoint) => void) | null): void {
    this.acceptListener = listener;
  }

  /** Listens for side-channel connections; resolves with the bound port. */
  listen(port = 0, host = '127.0.0.1'): Promise<number> {
    if (this.closed) return Promise.reject(new VerbsError('closed', 'the RDMA transport is closed'));
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => void this.accept(socket));
      server.once('error', (err) => reject(new VerbsError('side-channel-failed', `cannot listen on ${host}:${port}: ${err.message}`)));
      server.listen(port, host, () => {
        this.server = server;
        server.on('error', () => {}); // accept errors (EMFILE ...) must not crash the process
        const address = server.address();
        this.boundPort = typeof address === 'object' && address !== null ? address.port : port;
        resolve(this.boundPort);
      });
    });
  }

  /** The port the side channel listens on, or null before `listen` resolved. */
  get listenPort(): number | null {
    return this.boundPort;
  }

  /** Dials a peer's side channel, exchanges connection info, brings the QP to RTS. */
  async connect(host: string, port: number): Promise<VerbsEndpoint> {
    this.checkRoom();
    const timeoutMs = this.options.setupTimeoutMs ?? 5000;
    const line = await dialSideChannel(host, port, timeoutMs);
    const endpoint = this.newEndpoint(line);
    try {
      line.writeLine(encodeConnectionInfo(endpoint.localInfo));
      const remote = parseConnectionInfo(await line.readLine('connection info'));
      endpoint.connect(remote);
      line.writeLine('ready');
      if ((await line.readLine('ready')) !== 'ready') throw new VerbsError('bad-connection-info', 'the peer did not confirm the connection');
      return this.adopt(endpoint, line);
    } catch (err) {
      endpoint.close(`setup failed: ${(err as Error).message}`);
      line.close();
      throw err;
    }
  }

  /** Closes every endpoint, the listener, the exposed region and the device. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.server?.close();
    for (const endpoint of [...this.endpointSet]) endpoint.close('the RDMA transport was closed');
    this.exposed?.release();
    this.device.close();
  }

  private checkRoom(): void {
    if (this.closed) throw new VerbsError('closed', 'the RDMA transport is closed');
    const max = this.options.maxEndpoints ?? 64;
    if (this.endpointSet.size >= max) throw new VerbsError('invalid-option', `${max} endpoints are open (maxEndpoints); close some first`);
  }

  private newEndpoint(line: LineChannel): VerbsEndpoint {
    try {
      return VerbsEndpoint.create(this.device, this.exposed, this.options);
    } catch (err) {
      line.close();
      throw err;
    }
  }

  private adopt(endpoint: VerbsEndpoint, line: LineChannel): VerbsEndpoint {
    this.endpointSet.add(endpoint);
    endpoint.onClose(() => {
      this.endpointSet.delete(endpoint);
      line.close();
    });
    line.onClose((reason) => endpoint.close(`peer lost: ${reason}`));
    return endpoint;
  }

  private async accept(socket: Socket): Promise<void> {
    const line = new LineChannel(socket, this.options.setupTimeoutMs ?? 5000);
    let endpoint: VerbsEndpoint | null = null;
    try {
      this.checkRoom();
      const remote = parseConnectionInfo(await line.readLine('connection info'));
      endpoint = this.newEndpoint(line);
      endpoint.connect(remote);
      line.writeLine(encodeConnectionInfo(endpoint.localInfo));
      if ((await line.readLine('ready')) !== 'ready') throw new VerbsError('bad-connection-info', 'the peer did not confirm the connection');
      line.writeLine('ready');
      this.acceptListener?.(this.adopt(endpoint, line));
    } catch (err) {
      if (this.acceptFailures.length >= 16) this.acceptFailures.shift();
      this.acceptFailures.push((err as Error).message);
      endpoint?.close(`setup failed: ${(err as Error).message}`);
      line.close();
    }
  }
}
