import { writeSync } from 'node:fs';
import { PAGE_SIZE_BYTES } from '../native/constants.js';
import { UFFD_EVENT } from '../native/uffd-abi.js';
import { UFFD_MAX_MESSAGES, type Userfaultfd } from '../native/uffd.js';
import type { FaultHandler } from './fault-handler.js';
import { PAGER_COUNTER, type PagerCounters } from './stats.js';

/** Reads per readable event before yielding to the event loop (the stop fd and doorbell get a turn). */
const MAX_READS_PER_WAKEUP = 64;

/**
 * The pager's drain loop: read up to 16 messages (nonblocking), hand each page fault to the
 * handler, repeat until EAGAIN. Small on purpose: decisions live in the FaultHandler, command
 * execution in the UffdMapper. A handler that throws must not leave the faulting thread asleep
 * forever: the page is poisoned (the thread gets SIGBUS), as DESIGN.md §6 asks.
 */
export class FaultLoop {
  constructor(
    private readonly uffd: Userfaultfd,
    private readonly base: number,
    private readonly handler: FaultHandler,
    private readonly counters: PagerCounters,
    private readonly onUnresolvable: (page: number, err: unknown) => void,
  ) {}

  /** Called when the uffd is readable. Returns messages handled. */
  drain(): number {
    const u = this.uffd;
    let handled = 0;
    for (let reads = 0; reads < MAX_READS_PER_WAKEUP; reads++) {
      const n = u.readMessages();
      if (n === 0) break;
      this.counters.add(PAGER_COUNTER.reads);
      this.counters.add(PAGER_COUNTER.messagesRead, n);
      this.counters.max(PAGER_COUNTER.maxMessagesPerRead, n);
      for (let i = 0; i < n; i++) {
        if (u.msgEvent[i] !== UFFD_EVENT.PAGEFAULT) {
          this.counters.add(PAGER_COUNTER.unexpectedEvents);
          continue;
        }
        const page = Math.floor((u.msgAddress[i] - this.base) / PAGE_SIZE_BYTES);
        try {
          this.handler.onFault(page, u.msgFlags[i]);
        } catch (err) {
          this.counters.add(PAGER_COUNTER.errors);
          this.onUnresolvable(page, err);
        }
      }
      handled += n;
      if (n < UFFD_MAX_MESSAGES) break;
    }
    return handled;
  }
}

/** Writes one diagnostic line to stderr synchronously (worker console.log waits for main, P16). */
export function diagnose(line: string): void {
  try {
    writeSync(2, `[rackmem pager ${process.pid}] ${line}\n`);
  } catch {
    // stderr closed: nothing else to do
  }
}
