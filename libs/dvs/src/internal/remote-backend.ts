import type { Fabric, FabricStatus, PeerId, RemoteSlab } from '@rackmem/krdma';
import type { AllocDone, Backend, IoDone, IoStatus } from './types.js';

/** Options of {@link createRemoteBackend}. */
export interface RemoteBackendOptions {
  /** The fabric the donor is reached through (TCP, verbs, loopback or the simulator's). */
  readonly fabric: Fabric;
  /** The donor peer (connected and authenticated). */
  readonly peer: PeerId;
  /** Name of this backend in placement and logs (default: `peer-<id>`). */
  readonly nodeId?: string;
  /** Bytes the donor lends us at most (its capacity as reported by `stats`, or a quota). */
  readonly capacityBytes: number;
}

/** Maps the fabric's statuses onto the storage layer's; `busy` (in-flight bound) is a retryable timeout. */
export function ioStatusOf(status: FabricStatus): IoStatus {
  return status === 'busy' ? 'timeout' : status;
}

/**
 * The `remote` backend: slabs allocated on a donor node by RPC and pages moved by one-sided reads
 * and writes through the Fabric port. Failures surface as statuses (`peer-lost`, `timeout`, ...)
 * that the dvs region acts on (re-replication, lost-page reports). I/O-free itself: the fabric
 * does the I/O.
 */
export function createRemoteBackend(options: RemoteBackendOptions): Backend {
  const { fabric, peer, capacityBytes } = options;
  const slabs = new Map<number, RemoteSlab>();
  let nextSlab = 1;
  let usedBytes = 0;
  // A lost donor frees what it lent us (krdma's DonorService does on peer loss): forget our slabs
  // so the capacity we report is right when it comes back (a restarted donor is empty).
  let generation = 0;
  const forgetOnLoss = (status: FabricStatus): void => {
    if (status !== 'peer-lost' || slabs.size === 0) return;
    slabs.clear();
    usedBytes = 0;
    generation++;
  };
  return {
    nodeId: options.nodeId ?? `peer-${peer}`,
    capacityBytes: () => capacityBytes,
    freeBytes: () => Math.max(0, capacityBytes - usedBytes),
    alloc(sizeBytes: number, done: AllocDone): void {
      if (usedBytes + sizeBytes > capacityBytes) {
        done('no-space', -1);
        return;
      }
      usedBytes += sizeBytes;
      const allocGeneration = generation;
      fabric.allocSlab(peer, sizeBytes, (status, slab) => {
        if (status !== 'ok' || slab === null) {
          if (allocGeneration === generation) usedBytes -= sizeBytes;
          forgetOnLoss(status);
          done(ioStatusOf(status === 'ok' ? 'error' : status), -1);
          return;
        }
        const id = nextSlab++;
        slabs.set(id, slab);
        done('ok', id);
      });
    },
    free(slab: number): void {
      const remote = slabs.get(slab);
      if (!remote) return;
      slabs.delete(slab);
      usedBytes -= remote.sizeBytes;
      // Best effort: a lost donor frees a lost peer's slabs itself.
      fabric.freeSlab(peer, remote, () => {});
    },
    read(slab: number, offsetBytes: number, into: Uint8Array, done: IoDone): void {
      const remote = slabs.get(slab);
      if (!remote) {
        done('lost');
        return;
      }
      fabric.read(peer, remote, offsetBytes, into, (status) => {
        forgetOnLoss(status);
        done(ioStatusOf(status));
      });
    },
    write(slab: number, offsetBytes: number, data: Uint8Array, done: IoDone): void {
      const remote = slabs.get(slab);
      if (!remote) {
        done('lost');
        return;
      }
      fabric.write(peer, remote, offsetBytes, data, (status) => {
        forgetOnLoss(status);
        done(ioStatusOf(status));
      });
    },
  };
}
