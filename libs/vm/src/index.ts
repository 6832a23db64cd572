/**
 * @packageDocumentation
 * `@rackmem/vm`: the paging engine. RackMem's rack_vm algorithm (page states, active and inactive
 * FIFOs, soft faults, the victim order, background reclaim, run-time budgets, the original
 * counters) as a synchronous, deterministic state machine fed events and answering with
 * commands, plus rackmem's improvements (asynchronous batched write-back, dirty tracking,
 * watermark reclaim, prefetch policies) each behind a switch. Runtimes: the userfaultfd pager
 * (apps/node), the simulator (libs/sim) and the in-memory pager in this package.
 */
export { PagingEngine, type VmGauges } from './internal/engine.js';
export { Command, CommandQueue, COMMAND_NAMES, type CommandKind } from './internal/commands.js';
export {
  IMPROVED, RACKMEM2021, resolveVmConfig,
  type BuggifyHook, type BuggifySite, type PolicySetName, type PrefetchPolicyName, type ReclaimMode, type VmConfig, type VmConfigInput,
} from './internal/config.js';
export { VM_COUNTER_NAMES, VmCounters, type VmCounterName } from './internal/counters.js';
export { VmError, type VmErrorCode } from './internal/errors.js';
export { PageState, PAGE_STATE_NAMES, type PageStateValue } from './internal/page-state.js';
export {
  AdaptivePolicy, createPrefetchPolicy, DeltaTrend, LeapPolicy, NoPrefetch, ReadaheadPolicy, type PrefetchPolicy,
} from './internal/prefetch/index.js';
export {
  InMemoryPager, PoisonedPageError, type AccessCallback, type PageStore,
} from './internal/in-memory-pager.js';
export { writeBackBatch } from './internal/write-back-batch.js';
