// Connects to the configured peers. A peer that cannot be reached at start is retried with
// bounded exponential backoff until it comes up once; after that the fabric's own reconnect
// keeps it connected.
import { backoffDelayNs, type BackoffPolicy } from '@rackmem/krdma';
import type { Logger } from 'pino';
import { formatHostPort, type HostPort } from '../config/address.js';
import type { PeerService } from './ports.js';

const MS_NS = 1_000_000;

/** Options of a {@link PeerDialer}. */
export interface PeerDialerOptions {
  readonly peers: PeerService;
  readonly logger: Logger;
  /** Retry delays (default 500 ms doubling to 10 s, never giving up, jittered). */
  readonly backoff?: Partial<BackoffPolicy>;
}

/** Dials each configured peer until it is up once. */
export class PeerDialer {
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly policy: BackoffPolicy;
  private stopped = false;
  /** Peers that came up at least once. */
  readonly connected = new Set<string>();

  constructor(private readonly options: PeerDialerOptions) {
    this.policy = { initialDelayNs: 500 * MS_NS, maxDelayNs: 10_000 * MS_NS, maxAttempts: 0, random: Math.random, ...options.backoff };
  }

  /** Starts dialling every address (returns at once). */
  start(addresses: readonly HostPort[]): void {
    for (const address of addresses) this.dial(formatHostPort(address), 0);
  }

  /** Cancels pending retries. */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private dial(address: string, attempt: number): void {
    if (this.stopped) return;
    this.options.peers.connect(address).then(
      (peer) => {
        this.connected.add(address);
        this.options.logger.debug({ event: 'peer-dialled', address, peer: peer.nodeName }, `connected to configured peer ${address}`);
      },
      (error: Error) => {
        if (this.stopped) return;
        const max = this.policy.maxAttempts;
        if (max > 0 && attempt + 1 >= max) {
          this.options.logger.error({ event: 'peer-dial-gave-up', address, attempts: attempt + 1, reason: error.message }, `giving up on peer ${address} after ${attempt + 1} attempts (${error.message})`);
          return;
        }
        const delayMs = Math.max(1, Math.round(backoffDelayNs(attempt, this.policy) / MS_NS));
        const fields = { event: 'peer-dial-failed', address, attempt: attempt + 1, retryInMs: delayMs, reason: error.message };
        const message = `cannot connect to peer ${address} (${error.message}); retrying in ${delayMs} ms`;
        if (attempt === 0 || (attempt + 1) % 30 === 0) this.options.logger.warn(fields, message);
        else this.options.logger.debug(fields, message);
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          this.dial(address, attempt + 1);
        }, delayMs);
        timer.unref();
        this.timers.add(timer);
      },
    );
  }
}
