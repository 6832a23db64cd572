/** Error codes raised by the simulator core. Each names what went wrong so a caller can act. */
export type SimErrorCode =
  | 'schedule-in-past'
  | 'invalid-time'
  | 'invalid-argument'
  | 'queue-full'
  | 'reentrant-run';

/** A typed error of the simulator: `code` for programs, `message` for people. */
export class SimError extends Error {
  readonly code: SimErrorCode;
  constructor(code: SimErrorCode, message: string) {
    super(message);
    this.name = 'SimError';
    this.code = code;
  }
}
