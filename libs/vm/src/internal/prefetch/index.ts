import type { PrefetchPolicyName } from '../config.js';
import { AdaptivePolicy } from './adaptive.js';
import { LeapPolicy } from './leap.js';
import { NoPrefetch, type PrefetchPolicy } from './policy.js';
import { ReadaheadPolicy } from './readahead.js';

export type { PrefetchPolicy } from './policy.js';
export { AdaptivePolicy, LeapPolicy, NoPrefetch, ReadaheadPolicy };
export { DeltaTrend } from './trend.js';

/** Builds the policy named in the config. */
export function createPrefetchPolicy(name: PrefetchPolicyName, windowPages: number, maxWindowPages: number): PrefetchPolicy {
  switch (name) {
    case 'none':
      return new NoPrefetch();
    case 'readahead':
      return new ReadaheadPolicy(windowPages);
    case 'leap':
      return new LeapPolicy(windowPages, maxWindowPages);
    case 'adaptive':
      return new AdaptivePolicy(windowPages, maxWindowPages);
  }
}
