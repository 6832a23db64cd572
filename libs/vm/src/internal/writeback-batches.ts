import { VmError } from './errors.js';
import { PageList, type PageTable } from './page-list.js';

const SLOT_SPACE = 65_536;
/** Batches in flight at once, at most (each holds at least one page). */
export const MAX_BATCHES_IN_FLIGHT = SLOT_SPACE;

/**
 * Write-back batches in flight. A batch is a list of pages threaded through the page table's
 * links (an evicting page is on no other list), so batches cost no per-page memory. A batch id
 * carries a generation, so a late or repeated completion for a reused slot is detected.
 */
export class WritebackBatches {
  /** Batches sent and not yet completed. */
  inFlight = 0;
  private readonly lists: PageList[] = [];
  private readonly generations: number[] = [];
  private readonly idle: number[] = [];
  private readonly busy: boolean[] = [];

  constructor(private readonly table: PageTable) {}

  /** The list of the batch opened last (fill it right after `open`). */
  opened: PageList | null = null;

  /** Opens a batch; returns its id. Fill it through `opened` (or `list(id)`). */
  open(): number {
    let slot = this.idle.pop();
    if (slot === undefined) {
      slot = this.lists.length;
      if (slot >= SLOT_SPACE) throw new VmError('command-queue-overflow', `more than ${SLOT_SPACE} write-back batches in flight`);
      this.lists.push(new PageList(this.table));
      this.generations.push(0);
      this.busy.push(false);
    }
    this.busy[slot] = true;
    this.inFlight++;
    this.opened = this.lists[slot];
    return this.generations[slot] * SLOT_SPACE + slot;
  }

  /** The pages of batch `id`; throws when the id is not in flight. */
  list(id: number): PageList {
    const slot = id % SLOT_SPACE;
    if (!Number.isSafeInteger(id) || id < 0 || slot >= this.lists.length || Math.floor(id / SLOT_SPACE) !== this.generations[slot] || !this.busy[slot]) {
      throw new VmError('unexpected-completion', `write-back batch ${id} is not in flight`);
    }
    return this.lists[slot];
  }

  /** Closes batch `id` (its list must be empty by then). */
  close(id: number): void {
    const slot = id % SLOT_SPACE;
    // Generations wrap so that ids fit the command queue's int32 argument.
    this.generations[slot] = (this.generations[slot] + 1) & 0x7fff;
    this.busy[slot] = false;
    this.idle.push(slot);
    this.inFlight--;
  }
}
