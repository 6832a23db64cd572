import { EngineWritebackSender } from './writeback-sender.js';
import { Command } from './commands.js';
import { C } from './counters.js';
import { FLAG_PREFETCH_FETCH, FLAG_PREFETCH_MARKER, PageState } from './page-state.js';

const NOT_PRESENT = PageState.NotPresent;
const FETCHING = PageState.Fetching;

/**
 * Layer 4: issuing the prefetch policy's proposals as Prefetch commands.
 */
export abstract class EnginePrefetch extends EngineWritebackSender {
  /**
   * Asks the prefetch policy what to read around `page` and issues Prefetch commands for the
   * proposals that are only in storage. Prefetch takes free frames or inactive victims only (never
   * forces a write-back) and keeps at most `prefetchMaxInFlight` reads in flight.
   */
  protected prefetchAround(page: number, prefetchHit: boolean): void {
    let count = this.policy.onAccess(page, prefetchHit, this.proposals);
    if (this.buggify !== undefined && count > 1 && this.buggify('prefetch-shrink')) count >>>= 1;
    let issued = 0;
    for (let i = 0; i < count; i++) {
      const candidate = this.proposals[i];
      if (candidate < 0 || candidate >= this.pageCount || this.stateOf(candidate) !== NOT_PRESENT) continue;
      if (this.prefetchInFlight >= this.config.prefetchMaxInFlight) break;
      const frame = this.frameForPrefetch();
      if (frame < 0) break;
      this.setFrame(candidate, frame);
      this.setState(candidate, FETCHING);
      this.orFlags(candidate, FLAG_PREFETCH_FETCH);
      this.prefetchInFlight++;
      this.counts[C.io_read]++;
      this.counts[C.prefetch_issued]++;
      this.commands.push(Command.Prefetch, candidate, frame, 0);
      this.proposals[issued++] = candidate; // reuse the array: issued <= i
    }
    // The marker sits halfway through the batch: reaching it leaves time to fetch the next one.
    if (issued > 0 && this.config.prefetchMapped) this.orFlags(this.proposals[issued >>> 1], FLAG_PREFETCH_MARKER);
  }
}
