/** Codes of {@link PagerError}. */
export type PagerErrorCode = 'invalid-option' | 'start-failed' | 'start-timeout' | 'worker-exited' | 'command-failed' | 'command-timeout' | 'stopped';

/** A pager failure; the message says what to do. */
export class PagerError extends Error {
  constructor(readonly code: PagerErrorCode, message: string) {
    super(message);
    this.name = 'PagerError';
  }
}
