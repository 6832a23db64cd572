// The PeerService over a krdma Fabric: `connect` is the original's `echo "ADDR PORT" >
// krdma/connect`; `list` is the node list, one entry per peer.
import type { Fabric, PeerInfo } from '@rackmem/krdma';
import { formatHostPort, parseHostPort } from '../config/address.js';
import { DEFAULT_LISTEN_PORT } from '../config/schema.js';
import { PeerError, type PeerInfoLike, type PeerService } from './ports.js';

/** Converts krdma's PeerInfo to the API's form. */
export function toPeerInfoLike(peer: PeerInfo): PeerInfoLike {
  return {
    id: peer.id,
    nodeName: peer.nodeName,
    address: peer.address === null ? null : formatHostPort(peer.address),
    state: peer.state,
    direction: peer.direction,
    reason: peer.reason,
  };
}

const STATE_RANK: Readonly<Record<PeerInfoLike['state'], number>> = { up: 0, authenticating: 1, connecting: 2, lost: 3, refused: 3, closed: 3 };

/**
 * One entry per peer from a fabric's list (which also holds ended connections): the best state
 * wins (up, then authenticating, then connecting, then the most recent failure); a failed dial of
 * an address that is now connected is dropped.
 */
export function summarizePeers(peers: readonly PeerInfoLike[]): PeerInfoLike[] {
  const ordered = peers.map((p, i) => ({ p, i })).sort((a, b) => STATE_RANK[a.p.state] - STATE_RANK[b.p.state] || a.i - b.i);
  const names = new Set<string>();
  const addresses = new Set<string>();
  const out: PeerInfoLike[] = [];
  for (const { p } of ordered) {
    if (p.nodeName !== null && names.has(p.nodeName)) continue;
    if (p.direction === 'outbound' && p.address !== null && addresses.has(p.address)) continue;
    if (p.nodeName !== null) names.add(p.nodeName);
    if (p.direction === 'outbound' && p.address !== null) addresses.add(p.address);
    out.push(p);
  }
  return out;
}

/** Options of a {@link FabricPeerService}. */
export interface FabricPeerServiceOptions {
  /** A connect that has not completed after this long is answered `timeout` (default 15 s). */
  readonly connectTimeoutMs?: number;
}

/** A {@link PeerService} over a krdma {@link Fabric} (TCP today; verbs later). */
export class FabricPeerService implements PeerService {
  private readonly connectTimeoutMs: number;

  constructor(private readonly fabric: Fabric, options: FabricPeerServiceOptions = {}) {
    this.connectTimeoutMs = options.connectTimeoutMs ?? 15_000;
  }

  connect(address: string): Promise<PeerInfoLike> {
    const parsed = parseHostPort(address, DEFAULT_LISTEN_PORT);
    if (typeof parsed === 'string') return Promise.reject(new PeerError('bad-address', parsed));
    const where = formatHostPort(parsed);
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        reject(new PeerError('timeout', `no answer from ${where} within ${this.connectTimeoutMs} ms; check the address, the network and the peer's log`));
      }, this.connectTimeoutMs);
      timer.unref();
      this.fabric.connect(parsed, (status, peer, reason) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const info = toPeerInfoLike(peer);
        if (status === 'ok') return resolve(info);
        const why = reason ?? status;
        if (status === 'rejected') return reject(new PeerError('refused', `${where} refused the connection: ${why}`, info));
        if (status === 'timeout') return reject(new PeerError('timeout', why, info));
        reject(new PeerError('unreachable', why, info));
      });
    });
  }

  list(): PeerInfoLike[] {
    return summarizePeers(this.fabric.peers().map(toPeerInfoLike));
  }
}
