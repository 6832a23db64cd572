// The TCP transport: a SessionFabric over node:net. Sockets feed Session.receive; a socket's
// close ends its session; a periodic timer ticks every session (request deadlines, heartbeats,
// silent-peer detection); peers this node connected to are redialled with bounded exponential
// backoff after they are lost; an optional listener accepts inbound peers.
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { backoffDelayNs, checkBackoff, DEFAULT_BACKOFF, type BackoffPolicy } from '../../internal/backoff.js';
import { KrdmaError } from '../../internal/errors.js';
import type { ConnectDone, PeerAddress, PeerId, PeerInfo } from '../../internal/fabric.js';
import { DEFAULT_PORT } from '../../internal/identity.js';
import type { Clock, NonceSource, Scheduler } from '../../internal/session/ports.js';
import type { Session, SessionEnd } from '../../internal/session/session.js';
import { SessionFabric, type SessionFabricOptions } from '../../internal/session/session-fabric.js';
import { ReceiveBudget } from '../../internal/wire/receive-budget.js';
import { cryptoNonceSource, microtaskScheduler, monotonicClock } from '../runtime.js';
import { canReceiveDirectly, receiveNow, type DirectReceiver } from './direct-receive.js';
import { FLUSH_EARLY_BYTES, FLUSH_EARLY_FRAMES, FrameOutput } from './frame-output.js';

const MS_NS = 1_000_000;

/**
 * The receive budget shared by every TCP connection of this process (unless a fabric is given
 * its own): at most 256 MiB held in partial frames at once.
 */
export const processReceiveBudget = new ReceiveBudget(256 * 1024 * 1024);

/** Options of a {@link TcpFabric}. Runtime ports default to the process's (microtasks, monotonic clock, CSPRNG). */
export interface TcpFabricOptions extends Omit<SessionFabricOptions, 'scheduler' | 'clock' | 'nonceSource'> {
  readonly scheduler?: Scheduler;
  readonly clock?: Clock;
  readonly nonceSource?: NonceSource;
  /** A TCP connection must be established within this (default 5 s), else connect completes `timeout`. */
  readonly connectTimeoutNs?: number;
  /** How often sessions are ticked: the resolution of every timeout (default 100 ms). */
  readonly tickIntervalMs?: number;
  /**
   * Redialling of peers this node connected to, after they are lost (default: 100 ms doubling up
   * to 10 s, forever, jitter from Math.random). The backoff starts afresh only after a connection
   * stayed up `stableAfterMs` (default 10 s), so a peer that drops every session right after it
   * comes up is redialled ever more slowly, not in a loop. `false` disables it.
   */
  readonly reconnect?: (Partial<BackoffPolicy> & { readonly random?: () => number; readonly stableAfterMs?: number }) | false;
  /** Most inbound connections at once (default 1024). */
  readonly maxConnections?: number;
  /** Above this many bytes queued for one socket, reading from it pauses until it drains (default 64 MiB). */
  readonly maxQueuedOutputBytes?: number;
  /**
   * Output of one event-loop turn is written in one socket write, except that a turn writes
   * early once it has this many bytes or frames pending (defaults 64 KiB and 64 frames), so the
   * peer can start on the first part. Tuning knobs; see the README's bench notes.
   */
  readonly flushEarly?: { readonly bytes?: number; readonly frames?: number };
}

/** Counters of a {@link TcpFabric}'s sockets (totals since it started, over all connections). */
export interface TcpCounters {
  /** Socket reads delivered to sessions. */
  reads: number;
  /** Bytes read. */
  bytesRead: number;
  /** Frames written. */
  framesOut: number;
  /** Socket writes (one per event-loop turn with output; a corked batch counts once). */
  flushes: number;
  /** Of those, writes done with one send(2) on the idle socket's fd instead of through the stream. */
  directSends: number;
  /** Bytes copied into output buffers (headers, small frames, donor read replies). */
  bytesCopied: number;
  /** Caller bytes written without a copy (write and writev data). */
  bytesGathered: number;
  /** Connections accepted and dialled. */
  connectionsOpened: number;
  /** Times reading paused because a peer did not drain our output. */
  readPauses: number;
  /** Redialled peers lost again before `stableAfterMs` (their backoff kept growing). */
  flaps: number;
  /** Frames decoded. */
  framesIn: number;
  /** Of those, frames split across socket reads and assembled in a decoder buffer (one extra copy). */
  framesAssembled: number;
}

/** A connection: one socket, its session, its output. */
interface Connection {
  readonly socket: Socket;
  readonly output: FrameOutput;
  session: Session | null;
  /** Why the socket failed (from its `error` event), for the close reason. */
  errorReason: string | null;
  /** Session timeouts seen at the last tick. */
  timeoutsSeen: number;
  paused: boolean;
  /** Dialled connections: the buffer the event loop reads into, which direct receives share. */
  readonly readBuffer: Buffer | null;
  /** The socket's fd while it is readable directly (see DirectReceiver), else -1. */
  directFd: number;
}

/** A peer this node connected to and keeps connected. */
interface Maintained {
  readonly address: PeerAddress;
  peerId: PeerId | null;
  nodeName: string | null;
  /** Redials since the peer was last up for good (see `stableAfterMs`): the backoff step. */
  attempt: number;
  /** When the current connection came up (performance.now ms), or null while it is down. */
  upSinceMs: number | null;
  timer: ReturnType<typeof setTimeout> | null;
  /** Why the last connection or redial failed. */
  lastReason: string | null;
  redialing: boolean;
  gaveUp: boolean;
}

function addressKey(address: PeerAddress): string {
  return `${address.host}:${address.port}`;
}

function errorText(error: unknown): string {
  if (error instanceof Error) return (error as NodeJS.ErrnoException).code ?? error.message;
  return String(error);
}

/**
 * The TCP transport of the {@link Fabric} port (node:net). `listen` accepts peers (default port
 * 7472); `connect` dials `host:port`. Every connection runs the full protocol engine: mutual
 * authentication with the cluster secret, pipelined requests bounded by `maxInFlight`, a
 * deadline on every request (`timeout`), heartbeats after `heartbeatIntervalNs` of silence and
 * `peer-lost` after `peerDeadAfterNs`. A peer this node connected to is redialled with
 * exponential backoff (bounded, jittered) when lost, and `peers()` lists it as `connecting`
 * meanwhile. Page data of writes goes from the caller's buffer to the socket without a copy;
 * read replies are copied once, from the socket's chunk into the caller's `into`. Decoders
 * share a {@link ReceiveBudget}. `close()` stops timers and sockets, so nothing keeps the
 * process alive.
 */
export class TcpFabric extends SessionFabric implements DirectReceiver {
  private readonly connectTimeoutNs: number;
  private readonly reconnectPolicy: BackoffPolicy | null;
  private readonly stableAfterMs: number;
  private readonly maxQueuedOutputBytes: number;
  private readonly maxConnections: number;
  private readonly flushEarlyBytes: number;
  private readonly flushEarlyFrames: number;
  private readonly connections = new Set<Connection>();
  /** Dialled connections readable with {@link receiveNow}, by fd. */
  private readonly directByFd = new Map<number, Connection>();
  receiveFds: readonly number[] = [];
  private readonly maintained = new Map<string, Maintained>();
  private readonly ticker: ReturnType<typeof setInterval>;
  private server: Server | null = null;
  private listening: PeerAddress | null = null;
  private closing: Promise<void> | null = null;
  private readonly totals: TcpCounters = { reads: 0, bytesRead: 0, framesOut: 0, flushes: 0, directSends: 0, bytesCopied: 0, bytesGathered: 0, connectionsOpened: 0, readPauses: 0, flaps: 0, framesIn: 0, framesAssembled: 0 };

  constructor(options: TcpFabricOptions) {
    super({
      ...options,
      scheduler: options.scheduler ?? microtaskScheduler,
      clock: options.clock ?? monotonicClock,
      nonceSource: options.nonceSource ?? cryptoNonceSource,
      receiveBudget: options.receiveBudget === undefined ? processReceiveBudget : options.receiveBudget,
    });
    this.connectTimeoutNs = options.connectTimeoutNs ?? 5_000 * MS_NS;
    this.maxQueuedOutputBytes = options.maxQueuedOutputBytes ?? 64 * 1024 * 1024;
    this.maxConnections = options.maxConnections ?? 1024;
    const tickIntervalMs = options.tickIntervalMs ?? 100;
    this.flushEarlyBytes = options.flushEarly?.bytes ?? FLUSH_EARLY_BYTES;
    this.flushEarlyFrames = options.flushEarly?.frames ?? FLUSH_EARLY_FRAMES;
    if (!(this.flushEarlyBytes >= 1 && this.flushEarlyFrames >= 1)) throw new KrdmaError('invalid-options', 'flushEarly bytes and frames must be at least 1');
    if (!(this.connectTimeoutNs > 0 && tickIntervalMs > 0 && this.maxQueuedOutputBytes > 0 && this.maxConnections >= 1)) {
      throw new KrdmaError('invalid-options', 'connectTimeoutNs, tickIntervalMs, maxQueuedOutputBytes must be positive and maxConnections at least 1');
    }
    const reconnect = options.reconnect;
    const { stableAfterMs, ...backoff } = reconnect === false ? { stableAfterMs: undefined } : (reconnect ?? {});
    this.reconnectPolicy = reconnect === false ? null : checkBackoff({ ...DEFAULT_BACKOFF, random: Math.random, ...backoff });
    this.stableAfterMs = stableAfterMs ?? 10_000;
    if (!(this.stableAfterMs >= 0)) throw new KrdmaError('invalid-options', `reconnect.stableAfterMs must be a non-negative number of milliseconds, got ${stableAfterMs}`);
    this.ticker = setInterval(() => this.onTick(), tickIntervalMs);
    this.ticker.unref();
  }

  /** The address the listener is bound to, or null. */
  get address(): PeerAddress | null {
    return this.listening;
  }

  /**
   * Accepts inbound peers on `port` (default 7472; 0 picks a free port) of `host` (default: all
   * interfaces). Resolves with the bound address.
   */
  listen(port = DEFAULT_PORT, host?: string): Promise<PeerAddress> {
    if (this.server !== null) return Promise.reject(new KrdmaError('already-listening', `this node already listens on ${this.listening?.port}; close it first`));
    if (this.isStopped) return Promise.reject(new KrdmaError('closed', 'the fabric is closed; create a new one'));
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    server.maxConnections = this.maxConnections;
    this.server = server;
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        this.server = null;
        reject(new KrdmaError('listen-failed', `cannot listen on ${host ?? '*'}:${port}: ${errorText(error)}; pick another port or stop the other process`));
      };
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        server.on('error', () => {}); // accept errors (EMFILE ...) must not crash the process
        const bound = server.address();
        const boundPort = typeof bound === 'object' && bound !== null ? bound.port : port;
        this.listening = { host: host ?? '0.0.0.0', port: boundPort };
        resolve(this.listening);
      });
    });
  }

  override connect(address: PeerAddress, done: ConnectDone): void {
    super.connect(address, (status, peer, reason) => {
      if (status === 'ok' && this.reconnectPolicy !== null && !this.isStopped) {
        const key = addressKey(address);
        const entry = this.maintained.get(key) ?? { address, peerId: null, nodeName: null, attempt: 0, upSinceMs: null, timer: null, lastReason: null, redialing: false, gaveUp: false };
        entry.peerId = peer.id;
        entry.nodeName = peer.nodeName;
        entry.attempt = 0; // connected by hand: start the backoff afresh
        entry.upSinceMs = performance.now();
        entry.gaveUp = false;
        if (entry.timer !== null) clearTimeout(entry.timer); // connected by hand meanwhile
        entry.timer = null;
        this.maintained.set(key, entry);
      }
      done(status, peer, reason);
    });
  }

  override disconnect(peer: PeerId): void {
    for (const [key, entry] of this.maintained) {
      if (entry.peerId === peer) {
        if (entry.timer !== null) clearTimeout(entry.timer);
        this.maintained.delete(key);
      }
    }
    super.disconnect(peer);
  }

  override peers(): PeerInfo[] {
    const listed = super.peers();
    const up = new Set(listed.filter((p) => p.state === 'up' || p.state === 'connecting' || p.state === 'authenticating').map((p) => p.id));
    const redials: PeerInfo[] = [];
    for (const entry of this.maintained.values()) {
      if (entry.timer === null && !entry.redialing && !entry.gaveUp) continue;
      if (up.has(entry.peerId)) continue;
      redials.push({
        id: entry.peerId,
        nodeName: entry.nodeName,
        address: entry.address,
        direction: 'outbound',
        state: entry.gaveUp ? 'lost' : 'connecting',
        reason: entry.gaveUp
          ? `gave up after ${entry.attempt} redials: ${entry.lastReason ?? 'unknown'}`
          : `redial ${entry.attempt + 1} ${entry.redialing ? 'in progress' : 'pending'} after: ${entry.lastReason ?? 'connection lost'}`,
      });
    }
    return [...redials, ...listed];
  }

  /**
   * Ends the connection to `peer` as lost, not as a local disconnect: its requests complete
   * `peer-lost`, peers see it lost, and a peer this node dialled is redialled (with backoff). For
   * a transport layered on this one whose own link to the peer failed (the verbs fabric's queue
   * pair). Returns whether a connection was up.
   */
  dropPeer(peer: PeerId, reason: string): boolean {
    let dropped = false;
    for (const connection of [...this.connections]) {
      const session = connection.session;
      if (session === null || !session.isUp || session.peerId !== peer) continue;
      dropped = true;
      session.transportClosed(reason);
    }
    return dropped;
  }

  /** Socket counters (reads, writes, copies) summed over live and closed connections. */
  counters(): TcpCounters {
    const sum = { ...this.totals };
    for (const { output, session } of this.connections) {
      if (session !== null) {
        sum.framesIn += session.decoderCounts.framesDecoded;
        sum.framesAssembled += session.decoderCounts.framesAssembled;
      }
      sum.framesOut += output.counters.frames;
      sum.flushes += output.counters.flushes;
      sum.directSends += output.counters.directSends;
      sum.bytesCopied += output.counters.bytesCopied;
      sum.bytesGathered += output.counters.bytesGathered;
    }
    return sum;
  }

  /** Bytes held in partial frames by this fabric's receive budget, and its bound. */
  get receiveBudget(): ReceiveBudget | null {
    return this.sessionConfig.receiveBudget ?? null;
  }

  /**
   * Closes every connection (their requests complete `peer-lost`), the listener, redial timers
   * and the tick timer. Resolves when the sockets and the listener are closed (at most ~1 s).
   */
  close(reason = 'the node closed'): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.stop(reason);
    clearInterval(this.ticker);
    for (const entry of this.maintained.values()) if (entry.timer !== null) clearTimeout(entry.timer);
    this.maintained.clear();
    const server = this.server;
    const sockets = [...this.connections].map((c) => c.socket);
    this.closing = new Promise<void>((resolve) => {
      let waiting = sockets.length + (server !== null ? 1 : 0);
      const one = (): void => {
        if (--waiting === 0) resolve();
      };
      if (waiting === 0) return resolve();
      const force = setTimeout(() => {
        for (const socket of sockets) socket.destroy();
      }, 1000);
      force.unref();
      for (const socket of sockets) {
        if (socket.destroyed) one();
        else socket.once('close', one);
      }
      server?.close(() => one());
    });
    return this.closing;
  }

  // ---- direct receive (DirectReceiver) --------------------------------------------------------

  receiveNow(fd: number): number {
    const connection = this.directByFd.get(fd);
    if (connection === undefined || connection.session === null || connection.paused) return -1;
    // A destroyed socket's fd is closed at once, but its 'close' event (which unwatches it) comes a
    // loop turn later; the number may be reused meanwhile, so never read it once destroyed.
    if (connection.socket.destroyed) {
      this.unwatchDirectly(connection);
      return -1;
    }
    const buffer = connection.readBuffer!;
    const bytes = receiveNow(fd, buffer);
    if (bytes > 0) this.delivered(connection, buffer, bytes);
    return bytes;
  }

  endTurn(): void {
    for (const connection of this.connections) connection.output.endTurn();
  }

  /** Bytes read from a connection (by the event loop or a direct receive) go to its session. */
  private delivered(connection: Connection, buffer: Uint8Array, bytes: number): void {
    this.totals.reads++;
    this.totals.bytesRead += bytes;
    const session = connection.session;
    if (session !== null) connection.output.receiving(() => session.receive(buffer.subarray(0, bytes)));
  }

  private watchDirectly(connection: Connection): void {
    if (connection.readBuffer === null || !canReceiveDirectly()) return;
    const fd = (connection.socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
    if (typeof fd !== 'number' || fd < 0) return;
    connection.directFd = fd;
    this.directByFd.set(fd, connection);
    this.receiveFds = [...this.directByFd.keys()];
  }

  private unwatchDirectly(connection: Connection): void {
    if (connection.directFd < 0) return;
    if (this.directByFd.get(connection.directFd) === connection) this.directByFd.delete(connection.directFd);
    connection.directFd = -1;
    this.receiveFds = [...this.directByFd.keys()];
  }

  // ---- connections ----------------------------------------------------------------------------

  protected dial(address: PeerAddress, done: ConnectDone): void {
    let settled = false;
    const where = `${address.host}:${address.port}`;
    const connection: Connection = {
      socket: null as unknown as Socket,
      output: null as unknown as FrameOutput,
      session: null,
      errorReason: null,
      timeoutsSeen: 0,
      paused: false,
      readBuffer: Buffer.allocUnsafe(256 * 1024),
      directFd: -1,
    };
    const socket = netConnect({
      host: address.host,
      port: address.port,
      noDelay: true,
      onread: {
        buffer: connection.readBuffer!,
        callback: (bytes: number, buffer: Uint8Array) => {
          this.delivered(connection, buffer, bytes);
          return true;
        },
      },
    });
    Object.assign(connection, { socket, output: new FrameOutput(socket, this.flushEarlyBytes, this.flushEarlyFrames) });
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      socket.destroy();
      this.failConnect(address, 'timeout', `no TCP connection to ${where} within ${this.connectTimeoutNs / MS_NS} ms; check the address and the network`, done);
    }, Math.ceil(this.connectTimeoutNs / MS_NS));
    timer.unref();
    socket.once('error', (error) => {
      connection.errorReason = errorText(error);
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      this.failConnect(address, 'peer-lost', `cannot connect to ${where}: ${errorText(error)}; is a rackmem node listening there?`, done);
    });
    socket.once('connect', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (this.isStopped) {
        socket.destroy();
        this.failConnect(address, 'peer-lost', 'the fabric is closed', done);
        return;
      }
      this.attach(connection, 'client', address, done);
      connection.session?.start();
    });
  }

  private accept(socket: Socket): void {
    if (this.isStopped) {
      socket.destroy();
      return;
    }
    const connection: Connection = { socket, output: new FrameOutput(socket, this.flushEarlyBytes, this.flushEarlyFrames), session: null, errorReason: null, timeoutsSeen: 0, paused: false, readBuffer: null, directFd: -1 };
    const from: PeerAddress | null = socket.remoteAddress !== undefined && socket.remotePort !== undefined ? { host: socket.remoteAddress, port: socket.remotePort } : null;
    this.attach(connection, 'server', from, null);
    socket.on('data', (chunk: Buffer) => {
      this.totals.reads++;
      this.totals.bytesRead += chunk.length;
      const session = connection.session;
      if (session !== null) connection.output.receiving(() => session.receive(chunk));
    });
    socket.on('error', (error) => {
      connection.errorReason = errorText(error);
    });
  }

  /** Opens the session of a connected socket and wires its events. */
  private attach(connection: Connection, role: 'client' | 'server', address: PeerAddress | null, done: ConnectDone | null): void {
    const { socket, output } = connection;
    this.connections.add(connection);
    this.totals.connectionsOpened++;
    if (role === 'client') socket.on('error', (error) => void (connection.errorReason = errorText(error)));
    this.watchDirectly(connection);
    connection.session = this.openSession(
      role,
      address,
      () => {
        throw new KrdmaError('internal', 'the TCP transport encodes frames itself');
      },
      (end) => this.onSessionEnd(connection, end),
      done,
      null,
      (requestId, message) => {
        output.write(requestId, message);
        if (!connection.paused && socket.writableLength + output.pendingBytes > this.maxQueuedOutputBytes) {
          // The peer does not read our replies: stop reading its requests until the socket drains.
          connection.paused = true;
          this.totals.readPauses++;
          socket.pause();
          socket.once('drain', () => {
            connection.paused = false;
            socket.resume();
          });
        }
      },
    );
    socket.on('close', () => {
      this.connections.delete(connection);
      this.unwatchDirectly(connection);
      this.totals.framesOut += output.counters.frames;
      this.totals.flushes += output.counters.flushes;
      this.totals.directSends += output.counters.directSends;
      this.totals.bytesCopied += output.counters.bytesCopied;
      this.totals.bytesGathered += output.counters.bytesGathered;
      if (connection.session !== null) {
        this.totals.framesIn += connection.session.decoderCounts.framesDecoded;
        this.totals.framesAssembled += connection.session.decoderCounts.framesAssembled;
      }
      output.close();
      const why = connection.errorReason ?? 'closed by the peer';
      connection.session?.transportClosed(`connection to ${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'} ended: ${why}`);
    });
  }

  /** The session ended: close its socket (after sending any last frame) and maybe redial. */
  private onSessionEnd(connection: Connection, end: SessionEnd): void {
    const { socket, output } = connection;
    if (end.state === 'lost' && end.status === 'peer-lost') {
      output.close();
      socket.destroy();
    } else {
      // Closed or refused locally, or a protocol fault: let the last error frame go out, then end.
      output.flush();
      output.close();
      socket.end();
      const grace = setTimeout(() => socket.destroy(), 500);
      grace.unref();
    }
    const session = connection.session;
    const peerId = session?.peerId ?? null;
    if (end.state === 'lost' && peerId !== null) this.scheduler.defer(() => this.peerLost(peerId, end.reason));
  }

  // ---- reconnect ------------------------------------------------------------------------------

  private peerLost(peerId: PeerId, reason: string): void {
    if (this.isStopped || this.reconnectPolicy === null) return;
    if (this.peers().some((p) => p.id === peerId && p.state === 'up')) return;
    for (const entry of this.maintained.values()) {
      if (entry.peerId !== peerId || entry.timer !== null || entry.redialing) continue;
      entry.lastReason = reason;
      // A connection that stayed up a while starts the backoff afresh; one that keeps dropping
      // right after it comes up (a flapping peer) keeps backing off instead of redialling at once.
      const stable = entry.upSinceMs !== null && performance.now() - entry.upSinceMs >= this.stableAfterMs;
      if (stable) entry.attempt = 0;
      else this.totals.flaps++;
      entry.upSinceMs = null;
      entry.gaveUp = false;
      this.scheduleRedial(entry);
    }
  }

  private scheduleRedial(entry: Maintained): void {
    const policy = this.reconnectPolicy;
    if (policy === null || this.isStopped) return;
    if (policy.maxAttempts > 0 && entry.attempt >= policy.maxAttempts) {
      entry.gaveUp = true;
      return;
    }
    const delayMs = Math.max(1, Math.round(backoffDelayNs(entry.attempt, policy) / MS_NS));
    entry.timer = setTimeout(() => {
      entry.timer = null;
      if (this.isStopped || this.maintained.get(addressKey(entry.address)) !== entry) return;
      entry.redialing = true;
      this.dial(entry.address, (status, peer, reason) => {
        entry.redialing = false;
        if (this.maintained.get(addressKey(entry.address)) !== entry) return;
        if (status === 'ok') {
          entry.attempt++; // reset only once the connection proves stable (peerLost)
          entry.upSinceMs = performance.now();
          entry.peerId = peer.id;
          entry.nodeName = peer.nodeName;
          entry.lastReason = null;
          return;
        }
        entry.attempt++;
        entry.lastReason = reason;
        this.scheduleRedial(entry);
      });
    }, delayMs);
    entry.timer.unref();
  }

  // ---- timer ----------------------------------------------------------------------------------

  private onTick(): void {
    this.tick();
    for (const connection of this.connections) {
      const session = connection.session;
      if (session === null || session.isClosed) continue;
      const timeouts = session.counters.timeouts;
      if (timeouts > connection.timeoutsSeen && connection.socket.writableLength > 0) {
        // Requests timed out while our writes to the peer are still queued: the peer is not
        // reading. End the connection so no queued caller data is sent after its completion.
        session.transportClosed(`requests timed out while ${connection.socket.writableLength} bytes wait to be sent (the peer is not reading)`);
      }
      connection.timeoutsSeen = timeouts;
    }
  }
}
