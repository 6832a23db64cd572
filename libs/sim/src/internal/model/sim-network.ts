// SimNetwork: the simulated nodes of a rack (each a SimFabric, memory nodes with a donor) over
// one NIC model, with node failures and the failure detector:
//
// - crash: the host answers nothing (requests fail 'peer-lost' opTimeoutNs after issue) and its
//   slabs are gone; `failureDetectNs` later the detector declares it lost: every connection to
//   it ends ('lost' peer event on the other side; everything still in flight completes
//   'peer-lost');
// - restart: a new, empty incarnation; connections not yet declared lost end now, then every
//   connection that ended because of the failure is re-dialled by its client (the handshake's
//   two round trips), which emits 'up' again;
// - cut off (lost connection): requests time out; declared lost after `failureDetectNs` (both
//   sides see 'lost'; the donor frees the peers' slabs); when reachable again, a node that was
//   declared lost rejoins as a new, empty node and is re-dialled; one that was not just resumes.

import type { PeerAddress } from '@rackmem/krdma';
import type { Engine, EventHandler } from '../engine.js';
import { SimError } from '../errors.js';
import { SimMemoryNode } from './memory-node.js';
import type { NicModel } from './nic-model.js';
import { SIM_DEFAULT_PORT, SimFabric, type SimConnection, type SimNetworkPort, type SimNodeOptions } from './sim-fabric.js';

/** Options of a {@link SimNetwork}. */
export interface SimNetworkOptions {
  /** Real bytes per stored byte: the NIC is charged `length x storageScale` (default 1). */
  readonly storageScale?: number;
  /** Requests in flight per connection and direction before new ones complete 'busy' (default 4096). */
  readonly maxInFlightPerPeer?: number;
}

/** Options of a node added to the network. */
export interface SimNetworkNodeOptions extends SimNodeOptions {
  /** A memory node: its donor's capacity in stored bytes (omit for a node that donates nothing). */
  readonly donorCapacityBytes?: number;
}

/** The nodes of a simulated rack, their connections and failures. */
export class SimNetwork implements SimNetworkPort {
  readonly nic: NicModel;
  readonly storageScale: number;
  readonly maxInFlightPerPeer: number;
  /** Every node, in the order added. */
  readonly nodes: SimFabric[] = [];
  private readonly engine: Engine;
  private readonly byAddress = new Map<string, SimFabric>();
  private readonly byName = new Map<string, SimFabric>();
  private readonly byHost: SimFabric[] = [];
  private readonly hashes = new Map<number, string>();
  /** Connections that ended because a node failed, to re-dial when it returns. */
  private readonly redials = new Map<SimFabric, SimConnection[]>();
  private readonly thunkHandler: EventHandler<() => void> = { kindId: 0x4e, onEvent: (thunk) => thunk() };

  constructor(engine: Engine, nic: NicModel, options: SimNetworkOptions = {}) {
    this.engine = engine;
    this.nic = nic;
    this.storageScale = options.storageScale ?? 1;
    this.maxInFlightPerPeer = options.maxInFlightPerPeer ?? 4096;
    if (!(Number.isSafeInteger(this.storageScale) && this.storageScale >= 1)) throw new SimError('invalid-argument', `storageScale must be a positive integer, got ${this.storageScale}`);
    if (!(Number.isSafeInteger(this.maxInFlightPerPeer) && this.maxInFlightPerPeer >= 1)) throw new SimError('invalid-argument', `maxInFlightPerPeer must be a positive integer, got ${this.maxInFlightPerPeer}`);
  }

  /** Adds a node (a NIC host); with `donorCapacityBytes` it is a memory node. */
  addNode(options: SimNetworkNodeOptions): SimFabric {
    const name = options.nodeName;
    if (this.byName.has(name)) throw new SimError('invalid-argument', `a node named '${name}' already exists; node names are unique`);
    const host = this.nic.addHost(name);
    const donor = options.donorCapacityBytes === undefined ? null : new SimMemoryNode(name, options.donorCapacityBytes, this.storageScale);
    const fabric = new SimFabric(this, options, host, donor);
    const other = this.hashes.get(fabric.identity.nodeHash);
    if (other !== undefined) throw new SimError('invalid-argument', `nodes '${name}' and '${other}' have the same 32-bit hash; rename one of them`);
    this.hashes.set(fabric.identity.nodeHash, name);
    this.nodes.push(fabric);
    this.byName.set(name, fabric);
    this.byAddress.set(`${name}:${fabric.port}`, fabric);
    this.byHost[host] = fabric;
    return fabric;
  }

  /** The node of a name. */
  node(name: string): SimFabric {
    const fabric = this.byName.get(name);
    if (fabric === undefined) throw new SimError('invalid-argument', `no node named '${name}'`);
    return fabric;
  }

  listener(address: PeerAddress): SimFabric | undefined {
    return this.byAddress.get(`${address.host}:${address.port ?? SIM_DEFAULT_PORT}`);
  }

  fabricOfHost(host: number): SimFabric {
    return this.byHost[host];
  }

  now(): number {
    return this.engine.now();
  }

  defer(atNs: number, thunk: () => void): void {
    this.engine.scheduleAt(atNs > this.engine.now() ? atNs : this.engine.now(), this.thunkHandler, thunk);
  }

  /** Requests that failed without reaching the NIC, over all nodes. */
  failedLocally(): number {
    let n = 0;
    for (const node of this.nodes) n += node.counters.failedLocally;
    return n;
  }

  // ------------------------------------------------------------------ failures

  /** Crashes a node: its slabs are gone; the detector declares it lost after `failureDetectNs`. */
  crash(name: string): void {
    const node = this.node(name);
    if (node.down) return;
    node.down = true;
    const failure = ++node.failures;
    this.nic.crash(node.host);
    node.donor?.crash();
    this.defer(this.engine.now() + this.nic.params.failureDetectNs, () => {
      if (node.down && node.failures === failure) this.declareLost(node, `no heartbeat from ${name} for ${this.nic.params.failureDetectNs} ns (crashed)`);
    });
  }

  /** Restarts a crashed node, empty; its connections are re-dialled. */
  restart(name: string): void {
    const node = this.node(name);
    if (!node.down) return;
    if (!node.declaredLost) this.declareLost(node, `${name} restarted`);
    node.down = false;
    node.declaredLost = false;
    node.failures++;
    this.nic.restart(node.host);
    node.donor?.restart();
    this.redialAll(node);
  }

  /** Cuts a node off the network (requests time out) or reconnects it. */
  setReachable(name: string, reachable: boolean): void {
    const node = this.node(name);
    if (!reachable) {
      if (node.cutOff || node.down) return;
      node.cutOff = true;
      const failure = ++node.failures;
      this.nic.setUnreachable(node.host, true);
      this.defer(this.engine.now() + this.nic.params.failureDetectNs, () => {
        if (node.cutOff && node.failures === failure) this.declareLost(node, `no heartbeat from ${name} for ${this.nic.params.failureDetectNs} ns (unreachable)`);
      });
      return;
    }
    if (!node.cutOff) return;
    node.cutOff = false;
    this.nic.setUnreachable(node.host, false);
    if (node.declaredLost) {
      // Declared dead while cut off: it rejoins as a new, empty node.
      node.declaredLost = false;
      node.failures++;
      this.nic.restart(node.host);
      node.donor?.restart();
    }
    this.redialAll(node);
  }

  /** The failure detector's verdict: every up connection of the node ends 'lost'. */
  private declareLost(node: SimFabric, reason: string): void {
    node.declaredLost = true;
    for (const conn of [...node.conns.values()]) {
      if (conn.state !== 'up') continue;
      const other = conn.other(node);
      other.endConnection(conn, 'lost', reason, `lost ${other.identity.nodeName}: ${reason}`);
      this.queueRedial(node, conn);
    }
  }

  /** @internal */
  connectionEnded(conn: SimConnection, handshakeFailed: boolean): void {
    if (!handshakeFailed || !conn.redial) return;
    const { client, server } = conn;
    if (client.down) return;
    if (server.down || server.cutOff) this.queueRedial(server, conn);
    else client.dial(server, null, true);
  }

  private queueRedial(failed: SimFabric, conn: SimConnection): void {
    let list = this.redials.get(failed);
    if (list === undefined) this.redials.set(failed, (list = []));
    list.push(conn);
  }

  private redialAll(node: SimFabric): void {
    const list = this.redials.get(node);
    if (list === undefined) return;
    this.redials.delete(node);
    for (const conn of list) {
      const { client, server } = conn;
      if (client.down) continue;
      const current = client.conns.get(server.identity.nodeHash);
      if (current !== undefined && (current.state === 'up' || current.state === 'connecting')) continue;
      client.dial(server, null, true);
    }
  }
}
