import { UserfaultfdUnavailableError } from './errors.js';
import { UFFD_FEATURE, UFFDIO_BIT } from './uffd-abi.js';
import { Userfaultfd } from './uffd.js';
import { createUffdFd } from './uffd-create.js';

/** What this machine offers, from a UFFDIO_API handshake on a throwaway fd (features = 0). */
export interface UffdProbe {
  /** True when this process can create a userfaultfd. */
  available: boolean;
  /** Why not (with what to do), or `'ok'`. */
  reason: string;
  /** Supported feature bits (0 when unavailable). */
  features: number;
  /** Names of the supported features (`'MOVE'`, `'POISON'`, ...). */
  featureNames: string[];
  /** The `ioctls` mask reported by UFFDIO_API. */
  ioctls: bigint;
  /** Names of the ioctls in that mask (`'API'`, `'REGISTER'`, `'UNREGISTER'`). */
  ioctlNames: string[];
  /** How the fd was created (`'device'` or `'syscall'`), when available. */
  source?: string;
  /** The typed error, when unavailable (throw it to refuse an operation). */
  error?: Error;
}

let cachedProbe: UffdProbe | undefined;

/**
 * Probes userfaultfd once per thread (cached). Never throws for a missing permission: tests use
 * it to skip with a printed reason, the CLI to explain how to allow userfaultfd.
 */
export function probeUserfaultfd(): UffdProbe {
  if (cachedProbe) return cachedProbe;
  try {
    const { fd, source } = createUffdFd(true);
    const uffd = Userfaultfd.adopt(fd, { enabledFeatures: 0, supportedFeatures: 0, ioctls: 0n });
    try {
      const reply = uffd.handshake(0, true);
      cachedProbe = {
        available: true, reason: 'ok', features: reply.supportedFeatures, featureNames: featureNames(reply.supportedFeatures),
        ioctls: reply.ioctls, ioctlNames: ioctlNames(reply.ioctls), source,
      };
    } finally {
      uffd.close();
    }
  } catch (err) {
    const reason = err instanceof UserfaultfdUnavailableError ? err.message : `probe failed: ${(err as Error).message}`;
    cachedProbe = { available: false, reason, features: 0, featureNames: [], ioctls: 0n, ioctlNames: [], error: err as Error };
  }
  return cachedProbe;
}

/** Names of the feature bits set in `features`. */
export function featureNames(features: number): string[] {
  return Object.entries(UFFD_FEATURE).filter(([, bit]) => (features & bit) !== 0).map(([name]) => name);
}

/** Names of the `_UFFDIO_*` bits set in an ioctl mask. */
export function ioctlNames(ioctls: bigint | number): string[] {
  const mask = BigInt(ioctls);
  return Object.entries(UFFDIO_BIT).filter(([, bit]) => (mask >> BigInt(bit)) & 1n).map(([name]) => name);
}
