/** Error codes raised by the paging engine. Each names what went wrong so a caller can act. */
export type VmErrorCode =
  | 'invalid-config'
  | 'page-out-of-range'
  | 'unexpected-completion'
  | 'command-queue-overflow'
  | 'invalid-budget'
  | 'invariant-broken';

/** A typed error of the paging engine: `code` for programs, `message` for people. */
export class VmError extends Error {
  readonly code: VmErrorCode;
  constructor(code: VmErrorCode, message: string) {
    super(message);
    this.name = 'VmError';
    this.code = code;
  }
}

/** Throws an `invariant-broken` error: the engine's bookkeeping contradicts itself (a bug). */
export function failInvariant(message: string): never {
  throw new VmError('invariant-broken', `engine invariant broken (a bug: please report it with the events that led here): ${message}`);
}
