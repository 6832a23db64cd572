/** Machine-readable codes of {@link DvsError}. */
export type DvsErrorCode =
  | 'invalid-option'
  | 'page-out-of-range'
  | 'bad-buffer-length'
  | 'too-many-pending'
  | 'region-closed'
  | 'pending-queue-full'
  | 'unknown-node'
  | 'duplicate-node'
  | 'no-pending-op'
  | 'bad-random';

/** A typed error: `code` says what went wrong, the message says what to do about it. */
export class DvsError extends Error {
  readonly code: DvsErrorCode;

  constructor(code: DvsErrorCode, message: string) {
    super(message);
    this.name = 'DvsError';
    this.code = code;
  }
}
