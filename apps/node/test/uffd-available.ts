import { describe } from 'vitest';
import { PagemapScanner } from '../src/native/pagemap-scan.js';
import { probeUserfaultfd } from '../src/native/uffd-probe.js';

/** The probe of this machine. */
export const probe = probeUserfaultfd();

/** `describe` when userfaultfd is usable here, else `describe.skip` with the reason printed once. */
export const describeWithUffd = probe.available ? describe : describe.skip;

if (!probe.available) console.warn(`[rackmem] skipping userfaultfd tests: ${probe.reason}`);

/** Runs a TypeScript fixture in a child process with tsx and the source condition. */
export const TSX_ARGS = ['--import', 'tsx', '--conditions=@rackmem/source'];

/** Why asynchronous dirty tracking (WP_ASYNC + PAGEMAP_SCAN, Linux 6.7) cannot run here, or null when it can. */
export const asyncDirtyUnavailable: string | null = !probe.available
  ? probe.reason
  : !probe.featureNames.includes('WP_ASYNC')
    ? 'this kernel has no userfaultfd WP_ASYNC (Linux 6.7)'
    : scannerMissing();

function scannerMissing(): string | null {
  const scanner = PagemapScanner.open();
  scanner?.close();
  return scanner ? null : PagemapScanner.unavailableReason;
}

if (probe.available && asyncDirtyUnavailable) console.warn(`[rackmem] skipping asynchronous dirty-tracking tests: ${asyncDirtyUnavailable}`);
