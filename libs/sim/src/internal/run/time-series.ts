// Time series sampled at fixed simulated intervals: per interval the faults, completed accesses
// and bytes moved (deltas), and the resident pages at its end. Bounded: when the rows reach the
// limit, neighbouring rows are merged and the interval doubles.

/** Column names of a time-series row. */
export const TIME_SERIES_COLUMNS = ['timeNs', 'faults', 'accesses', 'residentPages', 'bytesMoved'] as const;

/** Rows of [timeNs, faults, accesses, residentPages, bytesMoved]. */
export class TimeSeries {
  readonly rows: number[][] = [];
  private lastFaults = 0;
  private lastAccesses = 0;
  private lastBytes = 0;

  constructor(public intervalNs: number, private readonly maxRows: number) {}

  /** Records one sample from running totals (faults, accesses, bytes) and the resident pages. */
  record(timeNs: number, faults: number, accesses: number, resident: number, bytes: number): void {
    const last = this.rows[this.rows.length - 1];
    if (last !== undefined && last[0] === timeNs) return;
    this.rows.push([timeNs, faults - this.lastFaults, accesses - this.lastAccesses, resident, bytes - this.lastBytes]);
    this.lastFaults = faults;
    this.lastAccesses = accesses;
    this.lastBytes = bytes;
    if (this.rows.length >= this.maxRows) this.halve();
  }

  private halve(): void {
    const merged: number[][] = [];
    for (let i = 0; i < this.rows.length; i += 2) {
      const a = this.rows[i];
      const b = this.rows[i + 1];
      merged.push(b === undefined ? a : [b[0], a[1] + b[1], a[2] + b[2], b[3], a[4] + b[4]]);
    }
    this.rows.length = 0;
    this.rows.push(...merged);
    this.intervalNs *= 2;
  }
}
