// The rackmem node daemon: the fabric listener (with the donor), the configured peers, the region
// runtime (plugged in through RegionServiceFactory), the control API and metrics, and an orderly
// shutdown bounded by a timeout.
import { VerbsFabric, type PeerEvent } from '@rackmem/krdma';
import type { Logger } from 'pino';
import { formatHostPort, type HostPort } from '../config/address.js';
import type { NodeConfig } from '../config/types.js';
import { NodeMetrics } from '../api/metrics.js';
import { buildRoutes, type SelfInfo } from '../api/routes.js';
import { ApiServer } from '../api/server.js';
import { logApiListening, logConnectionEnded, logConnectionEstablished, logModuleLoaded, logRegionClosed, logRegionCreated } from '../logging/events.js';
import { createLogger } from '../logging/logger.js';
import { DaemonError } from './errors.js';
import { FabricPeerService } from './fabric-peers.js';
import { InMemoryRegionService } from './in-memory.js';
import { PeerDialer } from './peer-dialer.js';
import type { DaemonContext, PeerService, RegionService, RegionServiceFactory } from './ports.js';
import { nodeFabricFactory, rdmaDevices, resolveTransport, type FabricFactory, type NodeFabric, type Transport } from './transport.js';

/** Options of {@link Daemon.start}. */
export interface DaemonOptions {
  readonly config: NodeConfig;
  /** The logger (default: pino to stdout in the configured format). */
  readonly logger?: Logger;
  /** Builds the region runtime once the fabric listens (default: no regions). */
  readonly regions?: RegionServiceFactory;
  /** Builds the fabric (default: krdma's TcpFabric, or its VerbsFabric for transport rdma when libibverbs loads). */
  readonly fabricFactory?: FabricFactory;
  /** RDMA device names (default: read from /sys/class/infiniband). */
  readonly rdmaDevices?: readonly string[];
  /** Backoff of configured peers that are down at start (tests shorten it). */
  readonly peerRetry?: { readonly initialDelayNs?: number; readonly maxDelayNs?: number };
  /** Collect process metrics (default true). */
  readonly processMetrics?: boolean;
}

/** How a stop went. */
export interface StopResult {
  /** Every step finished within the shutdown timeout. */
  readonly clean: boolean;
  /** Steps that failed or timed out. */
  readonly problems: readonly string[];
}

/**
 * A running node. `Daemon.start` brings it up in order (fabric listener with the donor, region
 * runtime, control API, configured peers) and undoes what it started if a step fails. `stop`
 * shuts it down in order (API, peer retries, regions, fabric) within `shutdownTimeoutMs`.
 */
export class Daemon {
  private stopping: Promise<StopResult> | null = null;
  private readonly startedAt = performance.now();

  private constructor(
    readonly config: NodeConfig,
    readonly logger: Logger,
    readonly transport: Transport,
    readonly fabric: NodeFabric,
    /** Where the fabric listens. */
    readonly fabricAddress: HostPort,
    readonly peers: PeerService,
    private regionService: RegionService,
    private readonly dialer: PeerDialer,
    readonly metrics: NodeMetrics,
    private api: ApiServer | null,
  ) {}

  /** The region runtime. */
  get regions(): RegionService {
    return this.regionService;
  }

  /** Where the control API listens. */
  get apiAddress(): HostPort {
    const address = this.api?.address;
    if (address === null || address === undefined) throw new DaemonError('stopped', 'the control API is not listening');
    return address;
  }

  /** Starts a node. Throws DaemonError (`transport-unavailable`, `start-failed`) after undoing what it started. */
  static async start(options: DaemonOptions): Promise<Daemon> {
    const { config } = options;
    const logger = options.logger ?? createLogger({ format: config.logFormat, level: config.logLevel, base: { node: config.nodeName } });
    for (const warning of config.warnings) logger.warn({ event: 'config-warning' }, warning);
    const factory = options.fabricFactory ?? nodeFabricFactory();
    const { transport, note } = resolveTransport(config.transport, options.rdmaDevices ?? rdmaDevices(), factory);
    if (note !== null) logger.warn({ event: 'transport-fallback' }, note);

    let fabric: NodeFabric;
    try {
      fabric = factory.create(transport, config);
    } catch (error) {
      logger.error({ event: 'start-failed', err: error }, `start failed: ${(error as Error).message}`);
      throw error;
    }
    const undo: Array<() => Promise<void>> = [() => fabric.close('start failed')];
    const listeners = new Set<(event: PeerEvent) => void>();
    try {
      fabric.onPeerEvent((event) => {
        Daemon.logPeerEvent(logger, event);
        for (const listener of listeners) {
          try {
            listener(event);
          } catch (error) {
            logger.error({ event: 'listener-error', err: error }, 'a peer event listener threw');
          }
        }
      });
      if (fabric instanceof VerbsFabric) {
        // A peer whose queue pair cannot be set up keeps working over TCP: say so once per change.
        fabric.onDataPlaneEvent((event) => {
          const peer = event.nodeName ?? `peer ${event.peer}`;
          const how = { verbs: 'goes over RDMA', tcp: 'goes over TCP (the peer has no verbs)', degraded: 'goes over TCP', unavailable: 'is refused' }[event.plane];
          const line = `data with ${peer} ${how}${event.reason ? `: ${event.reason}` : ''}`;
          if (event.plane === 'verbs' || event.plane === 'tcp') logger.info({ event: 'data-plane', peer, plane: event.plane }, line);
          else logger.warn({ event: 'data-plane', peer, plane: event.plane, reason: event.reason }, line);
        });
      }
      let bound: HostPort;
      try {
        bound = await fabric.listen(config.listen.port, config.listen.host);
      } catch (error) {
        throw new DaemonError('start-failed', (error as Error).message, { cause: error });
      }
      logModuleLoaded(logger, { nodeName: config.nodeName, host: bound.host, port: bound.port, transport, role: config.role, donateBytes: config.donateBytes });

      const regionLogger = logger.child({ component: 'regions' });
      const context: DaemonContext = {
        config,
        fabric,
        subscribePeerEvents: (listener) => {
          listeners.add(listener);
          return () => void listeners.delete(listener);
        },
        events: {
          regionCreated: (fields) => logRegionCreated(regionLogger, fields),
          regionClosed: (name, counters) => logRegionClosed(regionLogger, { name, counters }),
        },
        logger: regionLogger,
      };
      let regions: RegionService;
      try {
        regions = options.regions !== undefined ? await options.regions(context) : new InMemoryRegionService();
      } catch (error) {
        throw new DaemonError('start-failed', `the region runtime did not start: ${(error as Error).message}`, { cause: error });
      }
      undo.unshift(async () => void (await regions.close?.()));

      const peers = new FabricPeerService(fabric);
      const metrics = new NodeMetrics({
        node: { nodeName: config.nodeName, transport, role: config.role },
        regions,
        peers,
        donor: () => (fabric.donor === null ? null : fabric.donor.stats()),
        fabricCounters: () => numbersOf(fabric.counters?.() ?? {}),
        processMetrics: options.processMetrics,
      });
      const dialer = new PeerDialer({ peers, logger, backoff: options.peerRetry });
      const daemon = new Daemon(config, logger, transport, fabric, bound, peers, regions, dialer, metrics, null);
      const api = new ApiServer({ router: buildRoutes({ self: () => daemon.self(), peers, regions, metrics }), metrics, logger: logger.child({ component: 'api' }), allowRemote: config.apiAllowRemote });
      let apiBound: HostPort;
      try {
        apiBound = await api.listen(config.api.host, config.api.port);
      } catch (error) {
        throw new DaemonError('start-failed', (error as Error).message, { cause: error });
      }
      daemon.api = api;
      logApiListening(logger, apiBound);
      dialer.start(config.peers);
      return daemon;
    } catch (error) {
      for (const step of undo) await step().catch(() => {});
      logger.error({ event: 'start-failed', err: error }, `start failed: ${(error as Error).message}`);
      throw error;
    }
  }

  /** This node as the API shows it. */
  self(): SelfInfo {
    const donor = this.fabric.donor;
    return {
      nodeName: this.config.nodeName,
      id: this.fabric.identity.nodeHash,
      listen: formatHostPort(this.fabricAddress),
      transport: this.transport,
      role: this.config.role,
      donor: donor === null ? null : (({ capacityBytes, usedBytes, slabCount }) => ({ capacityBytes, usedBytes, slabCount }))(donor.stats()),
      uptimeSeconds: Math.floor((performance.now() - this.startedAt) / 1000),
    };
  }

  /** Resolves when `stop` has finished. */
  get stopped(): Promise<StopResult> | null {
    return this.stopping;
  }

  /**
   * Orderly shutdown: stop accepting API requests (those in progress may finish), stop retrying
   * peers, close the regions (the RegionService hook), close the fabric. The whole stop is bounded
   * by the configured shutdown timeout (plus at most ~2 s: the API and regions steps get at least
   * 250 ms each and the fabric 1.5 s, even after an earlier step overran). Idempotent.
   */
  stop(reason = 'shutdown requested'): Promise<StopResult> {
    if (this.stopping !== null) return this.stopping;
    this.stopping = this.runStop(reason);
    return this.stopping;
  }

  private async runStop(reason: string): Promise<StopResult> {
    const deadline = performance.now() + this.config.shutdownTimeoutMs;
    const problems: string[] = [];
    this.logger.info({ event: 'shutdown', reason }, `shutting down (${reason})`);
    // Each step gets what is left of the timeout, but at least `floorMs`: a step that overran
    // must not leave the fabric no time to close its sockets.
    const step = async (name: string, work: () => Promise<void>, floorMs = 250): Promise<void> => {
      const remaining = Math.max(floorMs, deadline - performance.now());
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), remaining);
      });
      try {
        const outcome = await Promise.race([work().then(() => 'done' as const), timeout]);
        if (outcome === 'timeout') problems.push(`${name}: did not finish within the shutdown timeout (${this.config.shutdownTimeoutMs} ms)`);
      } catch (error) {
        problems.push(`${name}: ${(error as Error).message}`);
      } finally {
        clearTimeout(timer);
      }
    };
    await step('api', () => this.api?.close(Math.min(2_000, this.config.shutdownTimeoutMs / 2)) ?? Promise.resolve());
    this.dialer.stop();
    await step('regions', async () => void (await this.regionService.close?.()));
    await step('fabric', () => this.fabric.close(reason), 1_500);
    this.fabric.onPeerEvent(null);
    const clean = problems.length === 0;
    if (clean) this.logger.info({ event: 'stopped' }, 'module unloaded: stopped cleanly');
    else this.logger.error({ event: 'stopped', problems }, `stopped with problems: ${problems.join('; ')}`);
    return { clean, problems };
  }

  private static logPeerEvent(logger: Logger, event: PeerEvent): void {
    const { peer } = event;
    const address = peer.address === null ? null : formatHostPort(peer.address);
    const name = peer.nodeName ?? address ?? 'unknown peer';
    if (event.kind === 'up') logConnectionEstablished(logger, { peer: name, address, direction: peer.direction });
    else logConnectionEnded(logger, event.kind, { peer: name, address, direction: peer.direction, reason: event.reason });
  }
}

/** The numeric fields of an object (transport counters). */
function numbersOf(counters: object): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(counters)) if (typeof value === 'number' && Number.isFinite(value)) out[key] = value;
  return out;
}
