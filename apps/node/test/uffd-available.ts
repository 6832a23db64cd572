import { describe } from 'vitest';
import { probeUserfaultfd } from '../src/native/uffd-probe.js';

/** The probe of this machine. */
export const probe = probeUserfaultfd();

/** `describe` when userfaultfd is usable here, else `describe.skip` with the reason printed once. */
export const describeWithUffd = probe.available ? describe : describe.skip;

if (!probe.available) console.warn(`[rackmem] skipping userfaultfd tests: ${probe.reason}`);

/** Runs a TypeScript fixture in a child process with tsx and the source condition. */
export const TSX_ARGS = ['--import', 'tsx', '--conditions=@rackmem/source'];
