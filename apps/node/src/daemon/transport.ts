// Choosing the transport and building the node's fabric.
import { readdirSync } from 'node:fs';
import {
  TcpFabric, VerbsError, VerbsFabric, verbsLibraryAvailable, type DonorService, type Fabric, type PeerAddress, type TcpFabricOptions, type VerbsFabricOptions,
} from '@rackmem/krdma';
import type { NodeConfig, TransportChoice } from '../config/types.js';
import { DaemonError } from './errors.js';

/** A fabric the daemon can run: the Fabric port plus listening, closing and the donor. */
export interface NodeFabric extends Fabric {
  /** Accepts peers on host:port (0: a free port); resolves with the bound address. */
  listen(port: number, host?: string): Promise<PeerAddress>;
  /** Closes every connection, the listener and timers. */
  close(reason?: string): Promise<void>;
  /** This node's donor, or null. */
  readonly donor: DonorService | null;
  /** Transport counters (numbers by name), if the transport keeps them. */
  counters?(): object;
}

/** A concrete transport. */
export type Transport = 'tcp' | 'rdma';

/** Builds fabrics; `transports` lists those it can build. */
export interface FabricFactory {
  readonly transports: readonly Transport[];
  create(transport: Transport, config: NodeConfig): NodeFabric;
}

/** The RDMA devices of this machine (names under /sys/class/infiniband), or none. */
export function rdmaDevices(root = '/sys/class/infiniband'): string[] {
  try {
    return readdirSync(root).sort();
  } catch {
    return [];
  }
}

/**
 * Picks the transport: `tcp` and `rdma` as asked (rdma fails when the factory cannot build it or
 * there is no device); `auto` is rdma when a device exists and the factory can build it, else
 * tcp. Returns the transport and a note for the log when auto fell back.
 */
export function resolveTransport(choice: TransportChoice, devices: readonly string[], factory: FabricFactory): { transport: Transport; note: string | null } {
  const canRdma = factory.transports.includes('rdma');
  if (choice === 'tcp') return { transport: 'tcp', note: null };
  if (choice === 'rdma') {
    if (!canRdma) {
      throw new DaemonError('transport-unavailable', 'transport "rdma": libibverbs.so.1 cannot be loaded, so the verbs fabric cannot run; install libibverbs1 and ibverbs-providers (Debian/Ubuntu), or use --transport tcp or auto');
    }
    if (devices.length === 0) throw new DaemonError('transport-unavailable', 'transport "rdma": this machine has no RDMA device (/sys/class/infiniband is empty); use --transport tcp or auto');
    return { transport: 'rdma', note: null };
  }
  if (devices.length === 0) return { transport: 'tcp', note: null };
  if (!canRdma) return { transport: 'tcp', note: `RDMA device ${devices.join(', ')} found, but libibverbs.so.1 cannot be loaded (install libibverbs1 and ibverbs-providers); using tcp` };
  return { transport: 'rdma', note: null };
}

/** The default factory: TCP (krdma's TcpFabric) with the configured donor capacity. */
export function tcpFabricFactory(overrides: Partial<TcpFabricOptions> = {}): FabricFactory {
  return {
    transports: ['tcp'],
    create(transport, config) {
      if (transport !== 'tcp') throw new DaemonError('transport-unavailable', `transport "${transport}" is not available; use --transport tcp`);
      return new TcpFabric({
        nodeName: config.nodeName,
        secret: config.secret,
        donor: config.donateBytes > 0 ? { capacityBytes: config.donateBytes } : null,
        ...overrides,
      });
    },
  };
}

/**
 * The daemon's default factory: TCP always; RDMA (krdma's VerbsFabric: TCP control plane,
 * one-sided RDMA data plane, the donor's slabs in registered memory) when libibverbs loads.
 * Building the verbs fabric on a machine without a device fails with `transport-unavailable`
 * and the verbs binding's message (which names the cause and suggests `--transport tcp`).
 * `verbs` options reach the VerbsFabric (tests pass the fake NIC's `openTransport`).
 */
export function nodeFabricFactory(overrides: { readonly tcp?: Partial<TcpFabricOptions>; readonly verbs?: Partial<VerbsFabricOptions>; readonly verbsAvailable?: boolean } = {}): FabricFactory {
  const tcp = tcpFabricFactory(overrides.tcp);
  const rdma = overrides.verbsAvailable ?? verbsLibraryAvailable();
  return {
    transports: rdma ? ['tcp', 'rdma'] : ['tcp'],
    create(transport, config) {
      if (transport === 'tcp') return tcp.create(transport, config);
      try {
        return new VerbsFabric({
          nodeName: config.nodeName,
          secret: config.secret,
          donor: config.donateBytes > 0 ? { capacityBytes: config.donateBytes } : null,
          ...overrides.tcp,
          ...overrides.verbs,
        });
      } catch (error) {
        const code = error instanceof VerbsError ? ` [${error.code}]` : '';
        throw new DaemonError('transport-unavailable', `transport "rdma"${code}: ${(error as Error).message}`, { cause: error });
      }
    },
  };
}
