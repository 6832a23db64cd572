import type { ConnectDone, PeerAddress } from '../fabric.js';
import { DEFAULT_PORT } from '../identity.js';
import { KrdmaError } from '../errors.js';
import type { Session, SessionEnd } from '../session/session.js';
import { SessionFabric, type SessionFabricOptions } from '../session/session-fabric.js';
import type { Clock, NonceSource, Scheduler, SessionTimeouts } from '../session/ports.js';
import type { WireLimits } from '../wire/limits.js';
import type { DonorOptions } from '../donor/donor.js';

/** Options of a {@link LoopbackNetwork}. */
export interface LoopbackNetworkOptions {
  /** Delivers bytes and completions asynchronously, FIFO (tests: queueMicrotask; simulator: its queue). */
  readonly scheduler: Scheduler;
  /** Fresh random bytes for handshake nonces (tests may pass a seeded source). */
  readonly nonceSource: NonceSource;
  /** Time source; default: a manual clock set by `tick(nowNs)`. */
  readonly clock?: Clock;
  readonly limits?: Partial<WireLimits>;
  readonly timeouts?: Partial<SessionTimeouts>;
  readonly maxInFlight?: number;
  readonly maxServing?: number;
  /**
   * Split every frame into chunks of 1..maxChunkBytes bytes chosen by `randomBelow` (so the
   * streaming decoder sees arbitrary chunk boundaries); default: one chunk per frame.
   */
  readonly chunking?: { readonly maxChunkBytes: number; readonly randomBelow: (bound: number) => number };
}

/** Options of one loopback node. */
export interface LoopbackNodeOptions {
  readonly nodeName: string;
  /** Listening port (default 7472); a node is reached at { host: nodeName, port }. */
  readonly port?: number;
  /** The cluster secret this node believes in. */
  readonly secret: Uint8Array;
  /** Its donor (null: donates nothing). */
  readonly donor?: DonorOptions | null;
}

/** One direction of a link, as seen by one node. */
interface LinkEnd {
  readonly node: LoopbackFabric;
  session: Session | null;
}

/** An in-memory byte pipe between two sessions on two nodes. */
class Link {
  closed = false;
  readonly a: LinkEnd;
  readonly b: LinkEnd;

  constructor(
    private readonly network: LoopbackNetwork,
    a: LoopbackFabric,
    b: LoopbackFabric,
  ) {
    this.a = { node: a, session: null };
    this.b = { node: b, session: null };
  }

  other(end: LinkEnd): LinkEnd {
    return end === this.a ? this.b : this.a;
  }

  send(from: LinkEnd, frame: Uint8Array): void {
    if (this.closed || from.node.isHung) return;
    const to = this.other(from);
    for (const chunk of this.network.split(frame)) {
      this.network.scheduler.defer(() => {
        if (this.closed || to.node.isHung) return;
        to.session?.receive(chunk);
      });
    }
  }

  /** `from` closed the connection: the other end learns it after the bytes already in the pipe. */
  close(from: LinkEnd, reason: string): void {
    if (this.closed) return;
    const to = this.other(from);
    this.network.scheduler.defer(() => {
      this.closed = true;
      to.session?.transportClosed(reason);
    });
  }

  /** Both ends die now (a node was killed). */
  sever(reasonForA: string, reasonForB: string): void {
    this.closed = true;
    this.a.session?.transportClosed(reasonForA);
    this.b.session?.transportClosed(reasonForB);
  }
}

/**
 * The loopback transport's Fabric: one node of a {@link LoopbackNetwork}. It runs the real
 * protocol (frames are encoded, split into chunks, decoded) over in-memory links.
 */
export class LoopbackFabric extends SessionFabric {
  /** The port this node listens on. */
  readonly port: number;
  /** Set by {@link LoopbackNetwork.hang}: the node neither sends nor processes bytes. */
  isHung = false;
  /** When set, every incoming hello is refused with this reason (fault hook). */
  refuseAuthReason: string | null = null;
  /** Live links of this node. */
  readonly links = new Set<Link>();

  constructor(
    private readonly network: LoopbackNetwork,
    options: SessionFabricOptions & { readonly port: number },
  ) {
    super(options);
    this.port = options.port;
  }

  protected dial(address: PeerAddress, done: ConnectDone): void {
    const target = this.network.listener(address);
    if (target === undefined) return this.failConnect(address, 'peer-lost', `no node listens at ${address.host}:${address.port}`, done);
    const link = new Link(this.network, this, target);
    this.links.add(link);
    target.links.add(link);
    const forget = (): void => {
      this.links.delete(link);
      target.links.delete(link);
    };
    link.a.session = this.openSession(
      'client',
      address,
      (frame) => link.send(link.a, frame),
      (end: SessionEnd) => {
        link.close(link.a, `connection closed by ${this.identity.nodeName}: ${end.reason}`);
        forget();
      },
      done,
    );
    link.b.session = target.accept(link, { host: this.identity.nodeName, port: this.port }, forget);
    link.a.session.start();
  }

  /** Accepts an inbound link (called by the dialling node). */
  accept(link: Link, from: PeerAddress, forget: () => void): Session {
    return this.openSession(
      'server',
      from,
      (frame) => link.send(link.b, frame),
      (end: SessionEnd) => {
        link.close(link.b, `connection closed by ${this.identity.nodeName}: ${end.reason}`);
        forget();
      },
      null,
      this.refuseAuthReason,
    );
  }
}

/**
 * An in-process rack of nodes joined by loopback links, with fault hooks: `kill` a node (its
 * peers get `peer-lost`), `hang` it (it goes silent: requests to it time out, heartbeats
 * declare it lost), `refuseAuth` (its handshakes fail). Deliveries and completions go through
 * the injected scheduler, so it runs under the simulator or in tests alike.
 */
export class LoopbackNetwork {
  readonly scheduler: Scheduler;
  private readonly clock: Clock;
  private manualNowNs = 0;
  private readonly nodes = new Map<string, LoopbackFabric>();

  constructor(private readonly options: LoopbackNetworkOptions) {
    this.scheduler = options.scheduler;
    this.clock = options.clock ?? { nowNs: () => this.manualNowNs };
    const chunking = options.chunking;
    if (chunking !== undefined && !(chunking.maxChunkBytes >= 1)) throw new KrdmaError('invalid-options', 'chunking.maxChunkBytes must be at least 1');
  }

  /** Adds a node listening at { host: nodeName, port }. */
  addNode(options: LoopbackNodeOptions): LoopbackFabric {
    const port = options.port ?? DEFAULT_PORT;
    const key = `${options.nodeName}:${port}`;
    if (this.nodes.has(key)) throw new KrdmaError('address-in-use', `a loopback node already listens at ${key}; kill it first or pick another name`);
    const node = new LoopbackFabric(this, {
      nodeName: options.nodeName,
      secret: options.secret,
      donor: options.donor ?? null,
      scheduler: this.scheduler,
      clock: this.clock,
      nonceSource: this.options.nonceSource,
      limits: this.options.limits,
      timeouts: this.options.timeouts,
      maxInFlight: this.options.maxInFlight,
      maxServing: this.options.maxServing,
      port,
    });
    this.nodes.set(key, node);
    return node;
  }

  /** The node listening at an address, if any. */
  listener(address: PeerAddress): LoopbackFabric | undefined {
    return this.nodes.get(`${address.host}:${address.port}`);
  }

  /** Kills a node: its links die at once, its peers see `peer-lost`, its own requests complete `peer-lost`. */
  kill(node: LoopbackFabric): void {
    this.nodes.delete(`${node.identity.nodeName}:${node.port}`);
    const reason = `node ${node.identity.nodeName} was killed`;
    for (const link of [...node.links]) link.sever(reason, reason);
    node.stop(reason);
  }

  /** Hangs a node (it neither sends nor processes anything) or, with `hung` false, revives it. */
  hang(node: LoopbackFabric, hung = true): void {
    node.isHung = hung;
  }

  /** From now on, `node` refuses every incoming handshake with `reason` (null: stop refusing). */
  refuseAuth(node: LoopbackFabric, reason: string | null = 'authentication refused by fault injection'): void {
    node.refuseAuthReason = reason;
  }

  /** Sets the manual clock (when no clock was given) and ticks every live, non-hung node. */
  tick(nowNs?: number): void {
    if (nowNs !== undefined) this.manualNowNs = nowNs;
    for (const node of [...this.nodes.values()]) if (!node.isHung) node.tick();
  }

  /** Current time of the network's clock. */
  get nowNs(): number {
    return this.clock.nowNs();
  }

  /** Splits a frame into delivery chunks (see `chunking`). */
  split(frame: Uint8Array): Uint8Array[] {
    const chunking = this.options.chunking;
    if (chunking === undefined || frame.length <= 1) return [frame];
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < frame.length; ) {
      const size = 1 + chunking.randomBelow(chunking.maxChunkBytes);
      chunks.push(frame.subarray(at, Math.min(frame.length, at + size)));
      at += size;
    }
    return chunks;
  }
}
