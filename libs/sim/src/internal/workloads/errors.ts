// Typed errors of the workload generators and trace readers.

/** What went wrong in a workload or trace, for programs to branch on. */
export type WorkloadErrorCode =
  /** A workload spec field is missing, of the wrong type or out of range (`field` names it). */
  | 'invalid-workload'
  /** A method was called with an argument outside its contract. */
  | 'invalid-argument'
  /** A trace's bytes do not follow its format (`field` holds the line or byte offset). */
  | 'trace-format'
  /** A `trace` workload was created without a way to open its file. */
  | 'trace-source-missing';

/** A typed error: `code` for programs, `message` (what is wrong and what to do) for people. */
export class WorkloadError extends Error {
  readonly code: WorkloadErrorCode;
  /** The spec field path (e.g. `workload.theta`) or the trace location, when there is one. */
  readonly field: string | undefined;
  constructor(code: WorkloadErrorCode, message: string, field?: string) {
    super(message);
    this.name = 'WorkloadError';
    this.code = code;
    this.field = field;
  }
}
