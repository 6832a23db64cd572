import { createRemoteBackend, DvsRegion, NodeRegistry, type DvsRegionListener } from '@rackmem/dvs';
import { TcpFabric, VerbsFabric, type Fabric, type PeerInfo, type RemoteStats, type Scheduler, type TcpFabricOptions, type VerbsFabricOptions } from '@rackmem/krdma';
import { PAGE_SIZE_BYTES } from '../native/constants.js';
import type { StorageConfig } from './storage-config.js';

type RemoteConfig = Extract<StorageConfig, { kind: 'remote' }>;

/** The fabric a region's storage runs on: TCP, or verbs with a TCP control plane. */
export type StorageFabric = Fabric & { close(reason?: string): Promise<void> };

/** A region's remote storage: its own fabric (owned by the pager thread) and a dvs region over the donors. */
export interface RemoteStorage {
  readonly region: DvsRegion;
  readonly fabric: StorageFabric;
  close(): Promise<void>;
}

const MS_NS = 1_000_000;

/**
 * Connects the pager thread to the donors (its own connections: nothing on the fault path may
 * need the main thread), asks each for its capacity, and opens a dvs region over them. Donor
 * loss and return feed the dvs node registry (re-replication, lost-page reports).
 */
export async function openRemoteStorage(
  config: RemoteConfig,
  regionBytes: number,
  listener: DvsRegionListener,
  /** Extra verbs fabric options (tests run it on the fake NIC with `openTransport`). */
  verbsOverrides: Partial<VerbsFabricOptions> = {},
  /** Where the fabric defers completions (default: microtasks). */
  scheduler?: Scheduler,
): Promise<RemoteStorage> {
  if (config.donors.length === 0) throw new Error('remote storage needs at least one donor address (host:port)');
  const timeoutMs = config.requestTimeoutMs ?? 2000;
  const options: TcpFabricOptions = {
    nodeName: config.nodeName,
    secret: Buffer.from(config.secretHex, 'hex'),
    timeouts: { requestTimeoutNs: timeoutMs * MS_NS, peerDeadAfterNs: 2 * timeoutMs * MS_NS, heartbeatIntervalNs: (timeoutMs / 2) * MS_NS },
    ...(scheduler !== undefined ? { scheduler } : {}),
  };
  // VerbsFabric throws a typed KrdmaError (no-rdma-device, libibverbs-missing) that says what to do.
  const fabric: StorageFabric = config.transport === 'rdma' ? new VerbsFabric({ ...options, ...verbsOverrides }) : new TcpFabric(options);
  try {
    const peers = await Promise.all(config.donors.map((address) => connect(fabric, address)));
    const backends = await Promise.all(peers.map(async (peer) => {
      const stats = await donorStats(fabric, peer);
      return createRemoteBackend({ fabric, peer: peer.id as number, nodeId: peer.nodeName ?? `peer-${peer.id}`, capacityBytes: Math.min(stats.capacityBytes - stats.usedBytes + stats.peerUsedBytes, config.capacityBytesPerDonor ?? Number.MAX_SAFE_INTEGER) });
    }));
    const registry = new NodeRegistry(backends);
    fabric.onPeerEvent((event) => {
      const name = event.peer.nodeName;
      if (!name || registry.indexOf(name) < 0) return;
      if (event.kind === 'lost' || event.kind === 'closed') registry.markLost(name);
      else if (event.kind === 'up') registry.markHealthy(name);
    });
    const region = new DvsRegion({
      sizeBytes: regionBytes,
      pageSizeBytes: PAGE_SIZE_BYTES,
      slabSizeBytes: config.slabSizeBytes,
      replication: config.replication ?? 1,
      nodes: registry,
      listener,
    });
    return { region, fabric, close: () => fabric.close('the region was closed') };
  } catch (err) {
    await fabric.close('could not open remote storage');
    throw err;
  }
}

function connect(fabric: StorageFabric, address: string): Promise<PeerInfo> {
  const at = address.lastIndexOf(':');
  const host = at > 0 ? address.slice(0, at) : address;
  const port = at > 0 ? Number(address.slice(at + 1)) : 7472;
  if (!Number.isInteger(port) || port <= 0 || port > 65_535) return Promise.reject(new Error(`donor address "${address}" is not host:port`));
  return new Promise((resolve, reject) => {
    fabric.connect({ host, port }, (status, peer, reason) => {
      if (status === 'ok') resolve(peer);
      else reject(new Error(`cannot connect to donor ${address}: ${status}${reason ? ` (${reason})` : ''}`));
    });
  });
}

function donorStats(fabric: StorageFabric, peer: PeerInfo): Promise<RemoteStats> {
  return new Promise((resolve, reject) => {
    fabric.stats(peer.id as number, (status, stats, reason) => {
      if (status === 'ok' && stats) resolve(stats);
      else reject(new Error(`donor ${peer.nodeName} did not report its capacity: ${status}${reason ? ` (${reason})` : ''}`));
    });
  });
}
